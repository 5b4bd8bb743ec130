//! The HTTP server (`regelbank serve`): axum on tokio over the same data directory as the CLI.
//!
//! - **Uploads** (`POST /api/v1/leveringen`) are streamed to disk under `<data>/queue/tmp`
//!   (never held in memory), checked for size (413), a slow-upload deadline (408) and the
//!   aanleveraar's mandate (401/403, LVBB1512), made durable in the [`queue`] and answered 202.
//! - **Processing** runs in one background task: it takes pending entries in arrival order, at
//!   most `--batch` at a time, and runs them through `ingest::pipeline::ingest_many` on the
//!   blocking pool (the store has one writer, so one batch at a time is the bound on concurrent
//!   processing; the group commit makes a batch cost the syncs of one delivery).
//! - **Reads** (regelingen, expressies, diffs, reports) are public; store access runs on the
//!   blocking pool (`spawn_blocking`), never on the async workers.
//! - **Validations** (`POST /api/v1/validaties`) run synchronously, at most
//!   `--max-validations` at a time.
//! - Every request gets a request id (`x-request-id`, taken from the request when it is a
//!   short token, else generated), a tracing span (method, path, id: never headers, so
//!   tokens are not logged), a latency observation in `/metrics`, and, except uploads, the
//!   `--request-timeout` (503 problem+json).
//! - **Shutdown** (SIGINT/SIGTERM): stop accepting, let requests in flight finish, let the
//!   running batch finish; entries not started stay in the queue for the next start.
//!
//! Identifiers in paths: see [`routes`] (percent-encoded, or the identifier's own path form).

pub mod auth;
mod cache;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod queue;
mod routes;
mod tam;
mod tijdreis;
mod upload;
mod zoeken;
pub mod viewer;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State as AxState};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ingest::Config;
use store::Store;
use tokio::sync::{Notify, Semaphore, watch};
use tracing::Instrument;

pub use auth::Auth;
use problem::Problem;
use queue::Queue;

/// `regelbank serve` options (also used by `regelbank demo`).
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Auth file (TOML) mapping bearer tokens to an aanleveraar OIN and the bevoegde gezagen it
    /// may deliver for. Without it uploads are refused (401); reads are always public.
    #[arg(long)]
    pub auth: Option<PathBuf>,
    /// Largest accepted upload in bytes (413 beyond).
    #[arg(long, default_value_t = 1 << 30)]
    pub max_upload: u64,
    /// Time limit for every request except uploads, in seconds (503 beyond).
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
    /// Deadline for receiving a whole upload, in seconds (408 beyond).
    #[arg(long, default_value_t = 900)]
    pub upload_deadline: u64,
    /// Longest pause between two pieces of an upload, in seconds (408 beyond).
    #[arg(long, default_value_t = 30)]
    pub upload_idle: u64,
    /// Deliveries processed (and group-committed) together at most.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Synchronous validations running at the same time at most (more wait).
    #[arg(long, default_value_t = 2)]
    pub max_validations: usize,
    /// Memory for rendered versions (texts by format), in MB; 0 turns the cache off.
    #[arg(long, default_value_t = 256)]
    pub cache_mb: usize,
    /// The default date of time-travel questions and of the viewer (geldigOp, inWerkingOp,
    /// beschikbaarOp when not given), YYYY-MM-DD. Default: today (`--today`, or the system
    /// date). `demo` uses 2027-06-01, when the bundled fixtures are published and in force.
    #[arg(long, value_parser = parse_datum)]
    pub standaard_datum: Option<chrono::NaiveDate>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            addr: "127.0.0.1:8080".into(),
            auth: None,
            max_upload: 1 << 30,
            request_timeout: 30,
            upload_deadline: 900,
            upload_idle: 30,
            batch: 64,
            max_validations: 2,
            cache_mb: 256,
            standaard_datum: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("{0}")]
    Queue(#[from] queue::QueueError),
    #[error("listening on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Everything the handlers share.
pub struct State {
    pub store: Arc<Store>,
    pub queue: Queue,
    pub auth: Auth,
    /// Pipeline settings; `now` (and `today`, unless fixed) are refreshed per batch.
    cfg: Config,
    fixed_today: bool,
    pub metrics: metrics::Metrics,
    args: ServeArgs,
    in_progress: Mutex<HashSet<String>>,
    wake: Notify,
    validations: Semaphore,
    request_ids: AtomicU64,
    cache: cache::Cache,
    /// Time-travel readers per work (until the ledger moves on).
    lezers: tijdreis::Lezers,
}

pub type AppState = Arc<State>;

impl State {
    /// The pipeline configuration for work starting now.
    fn config(&self) -> Config {
        let mut c = self.cfg.clone();
        c.now = chrono::Utc::now();
        if !self.fixed_today {
            c.today = chrono::Local::now().date_naive();
        }
        c
    }

    /// Today (`--today`, or the local date), YYYY-MM-DD: the default of the time-travel dates.
    fn vandaag(&self) -> String {
        let d = match self.args.standaard_datum {
            Some(d) => d,
            None if self.fixed_today => self.cfg.today,
            None => chrono::Local::now().date_naive(),
        };
        d.format("%Y-%m-%d").to_string()
    }

    fn is_in_progress(&self, id: &str) -> bool {
        self.in_progress.lock().unwrap_or_else(|p| p.into_inner()).contains(id)
    }
}

/// Build the state: opens the queue in the store's data directory.
pub fn state(store: Store, cfg: Config, fixed_today: bool, auth: Auth, args: ServeArgs) -> Result<AppState, ServerError> {
    let queue = Queue::open(store.dir())?;
    Ok(Arc::new(State {
        store: Arc::new(store),
        queue,
        auth,
        cfg,
        fixed_today,
        metrics: metrics::Metrics::default(),
        validations: Semaphore::new(args.max_validations.max(1)),
        cache: cache::Cache::new(args.cache_mb << 20),
        args,
        in_progress: Mutex::new(HashSet::new()),
        wake: Notify::new(),
        request_ids: AtomicU64::new(0),
        lezers: tijdreis::Lezers::default(),
    }))
}

/// Run the server until SIGINT/SIGTERM. Blocking: builds its own tokio runtime. `ready` is
/// called with the bound address once the server accepts connections.
pub fn serve(
    store: Store,
    cfg: Config,
    fixed_today: bool,
    args: ServeArgs,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let auth = match &args.auth {
        Some(p) => Auth::load(p)?,
        None => Auth::none(),
    };
    serve_with_auth(store, cfg, fixed_today, args, auth, ready)
}

/// [`serve`] with the aanleveraars given directly (the demo).
pub fn serve_with_auth(
    store: Store,
    cfg: Config,
    fixed_today: bool,
    args: ServeArgs,
    auth: Auth,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    if auth.is_empty() {
        tracing::warn!("no aanleveraars configured (--auth): uploads are refused");
    }
    let addr = args.addr.clone();
    let state = state(store, cfg, fixed_today, auth, args)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|source| ServerError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = tokio::spawn(worker(state.clone(), stop_rx.clone()));
        ready(local);
        tracing::info!(%local, "listening");
        let mut rx = stop_rx.clone();
        let server = axum::serve(listener, router(state.clone()).into_make_service())
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            });
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests in flight and the running batch");
            let _ = stop_tx.send(true);
        });
        server.await?;
        state.wake.notify_one();
        if let Err(e) = worker.await {
            tracing::error!(error = %e, "queue worker failed");
        }
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The router with every route, the middleware (request id, span, metrics, timeout) and state.
pub fn router(state: AppState) -> axum::Router {
    routes::routes()
        .merge(viewer::routes())
        .merge(tam::routes())
        .merge(zoeken::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// A request id from the client is used when it is a short token of safe characters.
fn client_request_id(v: Option<&HeaderValue>) -> Option<String> {
    let s = v?.to_str().ok()?;
    (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
        .then(|| s.to_string())
}

/// Request id, tracing span, metrics and (except for uploads) the request timeout.
async fn observe(AxState(state): AxState<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = client_request_id(req.headers().get("x-request-id"))
        .unwrap_or_else(|| format!("r{:x}", state.request_ids.fetch_add(1, Ordering::Relaxed) + 1));
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "(geen route)".into());
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %id, method = %method, path = %req.uri().path());
    let is_upload = routes::is_upload(&method, &route);
    let timeout = Duration::from_secs(state.args.request_timeout.max(1));
    let mut resp = async move {
        if is_upload {
            next.run(req).await
        } else {
            match tokio::time::timeout(timeout, next.run(req)).await {
                Ok(r) => r,
                Err(_) => Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "tijdslimiet",
                    format!("het verzoek duurde langer dan {} s", timeout.as_secs()),
                )
                .into_response(),
            }
        }
    }
    .instrument(span.clone())
    .await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    span.in_scope(|| tracing::info!(status, ms = elapsed.as_secs_f64() * 1000.0, "answered"));
    state.metrics.request(&route, method.as_str(), status, elapsed.as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The queue worker: pending entries, in arrival order, in batches, one batch at a time.
async fn worker(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        let st = state.clone();
        let pending = match tokio::task::spawn_blocking(move || st.queue.pending()).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "reading the queue failed");
                pause(&mut stop, Duration::from_secs(2)).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the queue failed");
                continue;
            }
        };
        state.metrics.queue_depth.store(pending.len() as u64, Ordering::Relaxed);
        if pending.is_empty() {
            tokio::select! {
                _ = state.wake.notified() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            }
            continue;
        }
        let batch: Vec<String> = pending.into_iter().take(state.args.batch.max(1)).collect();
        state.in_progress.lock().unwrap_or_else(|p| p.into_inner()).extend(batch.iter().cloned());
        let st = state.clone();
        let n = batch.len();
        let outcome = tokio::task::spawn_blocking(move || process(&st, &batch)).await;
        state.in_progress.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let failed = match outcome {
            Ok(Ok(())) => false,
            Ok(Err(e)) => {
                tracing::error!(error = %e, batch = n, "processing failed; the unfinished deliveries stay queued");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, batch = n, "processing panicked; the unfinished deliveries stay queued");
                true
            }
        };
        if failed {
            state.metrics.processing_errors.fetch_add(1, Ordering::Relaxed);
            pause(&mut stop, Duration::from_secs(5)).await;
        }
    }
}

async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
}

#[derive(Debug, thiserror::Error)]
enum ProcessError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Queue(#[from] queue::QueueError),
}

/// Run one batch through the pipeline (blocking). Each final result is written to the queue as
/// soon as `ingest_many` reports it (that is, after its group commit).
fn process(state: &State, batch: &[String]) -> Result<(), ProcessError> {
    let mut metas = Vec::with_capacity(batch.len());
    for id in batch {
        match state.queue.meta(id)? {
            Some(m) => metas.push(m),
            None => tracing::warn!(%id, "queued delivery without readable meta.json; skipped"),
        }
    }
    let paths: Vec<PathBuf> = metas.iter().map(|m| state.queue.package_path(&m.id)).collect();
    let cfg = state.config();
    let start = Instant::now();
    let mut done = Vec::with_capacity(metas.len());
    let r = ingest::pipeline::ingest_many(&state.store, &paths, &cfg, |r| {
        let meta = &metas[done.len()];
        let mut resultaat = r.clone();
        resultaat.bron = format!("levering {}", meta.id);
        tracing::info!(id = %meta.id, uitkomst = r.uitkomst.as_str(), seq = ?r.seq, herhaald = r.herhaald, "processed");
        state.metrics.delivery(r.uitkomst.as_str(), start.elapsed().as_secs_f64());
        done.push(queue::Done { meta: meta.clone(), verwerkt: chrono::Utc::now().to_rfc3339(), resultaat });
    });
    // Results that are final are recorded even when a later group failed. Until recorded they
    // stay pending, and processing them again gives the same result (herhaald).
    state.queue.finish(&done)?;
    r?;
    Ok(())
}

/// The token `regelbank demo` accepts for uploads when no `--auth` file is given.
pub const DEMO_TOKEN: &str = "demo";
/// OIN of the bundled fixtures (aanleveraar and bevoegd gezag).
const DEMO_OIN: &str = "00000001000000990100";

/// `regelbank demo`: serve with `--auth` if given, else with one aanleveraar (the fixtures'
/// OIN) whose token is [`DEMO_TOKEN`].
fn parse_datum(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("'{s}' is not a date YYYY-MM-DD: {e}"))
}

/// The demo's default viewing date: the bundled fixtures are published and in force then, while
/// the date rules keep the demo's `--today` (before their bekendmaking, so uploads still pass).
pub const DEMO_STANDAARD_DATUM: &str = "2027-06-01";

pub fn serve_demo(store: Store, cfg: Config, mut args: ServeArgs) -> Result<(), ServerError> {
    if args.standaard_datum.is_none() {
        args.standaard_datum = parse_datum(DEMO_STANDAARD_DATUM).ok();
    }
    let datum = args.standaard_datum.map(|d| d.to_string()).unwrap_or_default();
    let (auth, token) = match &args.auth {
        Some(p) => (Auth::load(p)?, None),
        None => (Auth::single(DEMO_TOKEN, DEMO_OIN, &[DEMO_OIN]), Some(DEMO_TOKEN)),
    };
    serve_with_auth(store, cfg, true, args, auth, |a| {
        println!();
        println!("regelbank: listening on http://{a}");
        println!("  http://{a}/                             the viewer (search, regelingen on any date; default date {datum})");
        println!("  http://{a}/api/v1/regelingen            the regelingen");
        println!("  http://{a}/api/v1/openapi.json          the API (OpenAPI 3.1)");
        if let Some(t) = token {
            println!("  upload: curl -H 'Authorization: Bearer {t}' --data-binary @levering.zip http://{a}/api/v1/leveringen");
        }
        println!("Stop with Ctrl-C.");
    })
}
