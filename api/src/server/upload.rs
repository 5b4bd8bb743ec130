//! Receiving a package: the request body (a zip, or the first file of a multipart form) is
//! streamed to a file piece by piece, with the size limit, the overall deadline and the idle
//! limit checked as it arrives. Nothing holds the whole package in memory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::problem::Problem;
use super::{AppState, queue};

/// A received package on disk.
pub struct Received {
    pub id: String,
    pub path: PathBuf,
    pub bytes: u64,
}

fn te_groot(max: u64) -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "te-groot", format!("de levering is groter dan {max} bytes"))
}

fn te_traag(what: &str) -> Problem {
    Problem::new(StatusCode::REQUEST_TIMEOUT, "te-traag", format!("de levering kwam niet op tijd binnen ({what})"))
}

/// Writes pieces to the file and enforces the limits.
struct Sink {
    file: tokio::fs::File,
    bytes: u64,
    max: u64,
    deadline: Instant,
    idle: Duration,
}

impl Sink {
    /// How long to wait for the next piece.
    fn wait(&self) -> Result<Duration, Problem> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(te_traag("totale tijdslimiet"));
        }
        Ok(left.min(self.idle))
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), Problem> {
        self.bytes += data.len() as u64;
        if self.bytes > self.max {
            return Err(te_groot(self.max));
        }
        self.file.write_all(data).await.map_err(Problem::internal)
    }
}

fn timed_out(sink: &Sink) -> Problem {
    if Instant::now() >= sink.deadline { te_traag("totale tijdslimiet") } else { te_traag("te lang geen gegevens") }
}

/// Receive the body of `req` into a new upload directory of the queue. On error the directory
/// is removed. The file is fsynced before this returns.
pub async fn receive(state: &AppState, req: Request) -> Result<Received, Problem> {
    let max = state.args.max_upload;
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return Err(te_groot(max));
    }
    let id = state.queue.new_id();
    let st = state.clone();
    let id2 = id.clone();
    let dir = tokio::task::spawn_blocking(move || st.queue.tmp_dir(&id2)).await?.map_err(Problem::internal)?;
    let path = dir.join(queue::PACKAGE);
    let r = receive_into(state, req, &path).await;
    match r {
        Ok(bytes) => Ok(Received { id, path, bytes }),
        Err(p) => {
            let st = state.clone();
            let _ = tokio::task::spawn_blocking(move || st.queue.discard(&id)).await;
            Err(p)
        }
    }
}

async fn receive_into(state: &AppState, req: Request, path: &Path) -> Result<u64, Problem> {
    let file = tokio::fs::File::create(path).await.map_err(Problem::internal)?;
    let mut sink = Sink {
        file,
        bytes: 0,
        max: state.args.max_upload,
        deadline: Instant::now() + Duration::from_secs(state.args.upload_deadline.max(1)),
        idle: Duration::from_secs(state.args.upload_idle.max(1)),
    };
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        let mut form = Multipart::from_request(req, &()).await.map_err(|e| Problem::bad_request(e.body_text()))?;
        // The first part with a file name (or named `levering`) is the package.
        let mut field = loop {
            let next = tokio::time::timeout(sink.wait()?, form.next_field()).await.map_err(|_| timed_out(&sink))?;
            match next.map_err(|e| multipart_error(e, &sink))? {
                Some(f) if f.file_name().is_some() || f.name() == Some("levering") => break f,
                Some(_) => continue,
                None => return Err(Problem::bad_request("het formulier bevat geen bestand (veld 'levering')")),
            }
        };
        loop {
            let chunk = tokio::time::timeout(sink.wait()?, field.chunk()).await.map_err(|_| timed_out(&sink))?;
            match chunk.map_err(|e| multipart_error(e, &sink))? {
                Some(data) => sink.write(&data).await?,
                None => break,
            }
        }
    } else {
        let mut body: Body = req.into_body();
        loop {
            let frame = tokio::time::timeout(sink.wait()?, body.frame()).await.map_err(|_| timed_out(&sink))?;
            match frame {
                None => break,
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        sink.write(&data).await?;
                    }
                }
                Some(Err(e)) => return Err(Problem::bad_request(format!("de levering kon niet gelezen worden: {e}"))),
            }
        }
    }
    if sink.bytes == 0 {
        return Err(Problem::bad_request("de levering is leeg"));
    }
    sink.file.flush().await.map_err(Problem::internal)?;
    sink.file.sync_all().await.map_err(Problem::internal)?;
    Ok(sink.bytes)
}

fn multipart_error(e: axum::extract::multipart::MultipartError, sink: &Sink) -> Problem {
    if sink.bytes > sink.max {
        return te_groot(sink.max);
    }
    Problem::bad_request(format!("het formulier kon niet gelezen worden: {}", e.body_text()))
}
