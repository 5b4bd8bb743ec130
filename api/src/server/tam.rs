//! The TAM route over HTTP: `POST /api/v1/tam` (authenticated like leveringen) publishes a
//! document that does not conform to STOP; `GET /api/v1/tam`, `/api/v1/tam/{id}` and
//! `/api/v1/tam/{id}/bestand` list, describe and return them (the bytes exactly as received).

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ingest::tam::{self, TamFout, TamIndex, TamInvoer};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::AppState;
use super::routes::{blocking, json};
use super::problem::Problem;

/// Text fields and the sidecar are small.
const MAX_VELD: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tam", get(lijst).post(post_tam).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/tam/{id}", get(document))
        .route("/api/v1/tam/{id}/bestand", get(bestand))
}

#[derive(OpenApi)]
#[openapi(
    paths(post_tam, lijst, document, bestand),
    components(schemas(TamFormulier)),
    tags((name = "tam", description = "TAM (tijdelijke alternatieve maatregel): documents that do not conform to STOP, kept as received, searchable, never consolidated")),
)]
pub struct TamDoc;

/// The TAM form: the document and its metadata (form fields, or a sidecar in `metadata`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TamFormulier {
    /// The document: PDF, HTML, XML, IMRO2012 GML, a STOP package that fails validation, or a
    /// zip of these.
    #[schema(value_type = String, format = Binary)]
    bestand: Vec<u8>,
    /// Optional sidecar (JSON or XML) with the fields below; form fields take precedence.
    #[schema(value_type = Option<String>, format = Binary)]
    metadata: Option<Vec<u8>>,
    /// Code (gm0363) or OIN; the token needs a mandate for it.
    bevoegd_gezag: Option<String>,
    /// TAM-omgevingsplan, TAM-omgevingsverordening, TAM-projectbesluit, TAM-voorbereidingsbesluit,
    /// TAM-instructie, TAM-reactieve-interventie or TAM-overig.
    soort: Option<String>,
    titel: Option<String>,
    /// YYYY-MM-DD.
    datum_bekendmaking: Option<String>,
    /// The regeling work (/akn/nl/act/…) the document belongs to.
    regeling: Option<String>,
    id_levering: Option<String>,
}

fn tam_fout(e: TamFout) -> Problem {
    match e {
        TamFout::Metadata(m) => Problem::met_meldingen(StatusCode::BAD_REQUEST, "de TAM-metadata zijn niet in orde", m),
        TamFout::IdGebruikt(_) => Problem::new(StatusCode::CONFLICT, "RB6010", e.to_string()),
        TamFout::Leeg => Problem::new(StatusCode::BAD_REQUEST, "RB6011", e.to_string()),
        TamFout::TeGroot => Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "RB6012", e.to_string()),
        TamFout::Ingest(e) => Problem::internal(e),
    }
}

/// Publish a document through TAM. The bytes are stored exactly as received; the answer's
/// `hash` (SHA-256) is the receipt.
#[utoipa::path(
    post, path = "/api/v1/tam", tag = "tam",
    request_body(content((TamFormulier = "multipart/form-data")), description = "The document and its metadata."),
    responses(
        (status = 201, description = "Published through TAM", body = Object, headers(("location" = String, description = "The document's URL"))),
        (status = 200, description = "The same submission was published before; its receipt", body = Object),
        (status = 400, description = "Missing or wrong metadata (RB6001–RB6008), no file, or an unreadable form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token has no mandate for the bevoegd gezag", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "Upload too slow", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "idLevering already used for another submission (RB6010)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than --max-upload", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a multipart/form-data request", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_tam(State(state): State<AppState>, req: Request) -> Response {
    match ontvang(&state, req).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn ontvang(state: &AppState, req: Request) -> Result<Response, Problem> {
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(aanleveraar) = state.auth.aanleveraar(auth).cloned() else {
        return Err(Problem::new(StatusCode::UNAUTHORIZED, "niet-geauthenticeerd", "een geldig bearer-token is nodig (Authorization: Bearer …)"));
    };
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "geen-formulier",
            "stuur een multipart/form-data-formulier met het veld 'bestand' en de metadata",
        ));
    }
    let max = state.args.max_upload;
    let id = state.queue.new_id();
    let st = state.clone();
    let id2 = id.clone();
    let dir = tokio::task::spawn_blocking(move || st.queue.tmp_dir(&id2)).await?.map_err(Problem::internal)?;
    let r = ontvang_formulier(state, req, &dir.join("tam"), max).await;
    let (naam, velden, sidecar) = match r {
        Ok(v) => v,
        Err(p) => {
            let st = state.clone();
            let _ = tokio::task::spawn_blocking(move || st.queue.discard(&id)).await;
            return Err(p);
        }
    };
    let pad = dir.join("tam");
    let resultaat = blocking(state, move |st| {
        let r = (|| {
            let mut invoer = velden;
            if let Some(b) = sidecar {
                let s = TamInvoer::uit_sidecar(&b).map_err(|m| Problem::met_meldingen(StatusCode::BAD_REQUEST, m.beschrijving.clone(), vec![m]))?;
                invoer = invoer.aangevuld_met(s);
            }
            // The mandate: the bevoegd gezag must be one the token may deliver for.
            if let Some(bg) = &invoer.bevoegd_gezag
                && !aanleveraar.bevoegde_gezagen.iter().any(|b| b.eq_ignore_ascii_case(bg.trim()))
            {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "LVBB1512",
                    format!("er is geen machtiging om namens bevoegd gezag {bg} te publiceren (aanleveraar {})", aanleveraar.oin),
                ));
            }
            let bytes = std::fs::read(&pad).map_err(Problem::internal)?;
            tam::ingest_tam(&st.store, &naam, &bytes, invoer, &aanleveraar.oin, chrono::Utc::now()).map_err(tam_fout)
        })();
        st.queue.discard(&id);
        r
    })
    .await?;
    let url = format!("/api/v1/tam/{}", resultaat.id);
    let status = if resultaat.herhaald { StatusCode::OK } else { StatusCode::CREATED };
    let mut resp = json(
        status,
        &serde_json::json!({
            "tam": true,
            "id": resultaat.id,
            "hash": resultaat.hash,
            "seq": resultaat.seq,
            "herhaald": resultaat.herhaald,
            "url": url,
            "redenen": resultaat.document.redenen,
            "extractiefouten": resultaat.document.fouten(),
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Read the form: text fields into metadata, `metadata` (a file) as the sidecar, the first
/// other file (or the field `bestand`) streamed to `pad` within the size and time limits.
async fn ontvang_formulier(state: &AppState, req: Request, pad: &std::path::Path, max: u64) -> Result<(String, TamInvoer, Option<Vec<u8>>), Problem> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(state.args.upload_deadline.max(1));
    let idle = Duration::from_secs(state.args.upload_idle.max(1));
    let wacht = || -> Result<Duration, Problem> {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(Problem::new(StatusCode::REQUEST_TIMEOUT, "te-traag", "het document kwam niet op tijd binnen"));
        }
        Ok(left.min(idle))
    };
    let traag = || Problem::new(StatusCode::REQUEST_TIMEOUT, "te-traag", "het document kwam niet op tijd binnen");
    let slecht = |e: axum::extract::multipart::MultipartError| Problem::bad_request(format!("het formulier kon niet gelezen worden: {}", e.body_text()));
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| Problem::bad_request(e.body_text()))?;
    let mut invoer = TamInvoer::default();
    let mut sidecar: Option<Vec<u8>> = None;
    let mut naam: Option<String> = None;
    loop {
        let next = tokio::time::timeout(wacht()?, form.next_field()).await.map_err(|_| traag())?;
        let Some(mut veld) = next.map_err(slecht)? else { break };
        let veldnaam = veld.name().unwrap_or("").to_string();
        let is_bestand = naam.is_none() && (veldnaam == "bestand" || (veld.file_name().is_some() && veldnaam != "metadata"));
        if is_bestand {
            let bestandsnaam = veld.file_name().unwrap_or("document").to_string();
            let mut f = tokio::fs::File::create(pad).await.map_err(Problem::internal)?;
            let mut n: u64 = 0;
            loop {
                let chunk = tokio::time::timeout(wacht()?, veld.chunk()).await.map_err(|_| traag())?;
                match chunk.map_err(slecht)? {
                    Some(data) => {
                        n += data.len() as u64;
                        if n > max {
                            return Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "te-groot", format!("het document is groter dan {max} bytes")));
                        }
                        f.write_all(&data).await.map_err(Problem::internal)?;
                    }
                    None => break,
                }
            }
            f.flush().await.map_err(Problem::internal)?;
            naam = Some(bestandsnaam);
            continue;
        }
        // Small parts: read with a bound.
        let mut waarde = Vec::new();
        loop {
            let chunk = tokio::time::timeout(wacht()?, veld.chunk()).await.map_err(|_| traag())?;
            match chunk.map_err(slecht)? {
                Some(data) => {
                    waarde.extend_from_slice(&data);
                    if waarde.len() > MAX_VELD {
                        return Err(Problem::bad_request(format!("het veld '{veldnaam}' is groter dan {MAX_VELD} bytes")));
                    }
                }
                None => break,
            }
        }
        if veldnaam == "metadata" {
            sidecar = Some(waarde);
        } else {
            let tekst = String::from_utf8_lossy(&waarde);
            // Unknown fields are ignored (forms may carry a submit button and the like).
            invoer.zet(&veldnaam, &tekst);
        }
    }
    let Some(naam) = naam else { return Err(Problem::bad_request("het formulier bevat geen bestand (veld 'bestand')")) };
    Ok((naam, invoer, sidecar))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LijstVraag {
    /// Only the documents of this regeling work (/akn/nl/act/…).
    work: Option<String>,
    /// Only the documents of this bevoegd gezag (code or OIN).
    bevoegd_gezag: Option<String>,
}

/// The TAM documents (all, of a regeling, or of a bevoegd gezag), in order of receipt.
#[utoipa::path(
    get, path = "/api/v1/tam", tag = "tam", params(LijstVraag),
    responses(
        (status = 200, description = "Every TAM document asked for, with `tam: true`, its reasons and what superseded it", body = Object),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lijst(State(state): State<AppState>, vraag: Result<Query<LijstVraag>, axum::extract::rejection::QueryRejection>) -> Response {
    let Query(vraag) = match vraag {
        Ok(v) => v,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let r = blocking(&state, move |st| {
        let index = TamIndex::open(&st.store).map_err(Problem::internal)?;
        let lijst = match (&vraag.work, &vraag.bevoegd_gezag) {
            (Some(w), _) => index.van_werk(w),
            (None, Some(b)) => index.van_bevoegd_gezag(b),
            (None, None) => index.alle(),
        }
        .map_err(Problem::internal)?;
        Ok(serde_json::json!({ "totaal": lijst.len(), "documenten": lijst }))
    })
    .await;
    match r {
        Ok(v) => json(StatusCode::OK, &v),
        Err(p) => p.into_response(),
    }
}

/// One TAM document: metadata, reasons, what was extracted (parts, their metadata, chunk
/// labels) and what superseded it.
#[utoipa::path(
    get, path = "/api/v1/tam/{id}", tag = "tam",
    params(("id" = String, Path, description = "The TAM document id (tam-…)")),
    responses(
        (status = 200, description = "The document", body = Object),
        (status = 404, description = "Unknown id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn document(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let r = blocking(&state, move |st| {
        let index = TamIndex::open(&st.store).map_err(Problem::internal)?;
        let Some(o) = index.get(&id).map_err(Problem::internal)? else { return Err(Problem::not_found(format!("geen TAM-document {id}"))) };
        let doc = tam::document(&st.store, &o).map_err(Problem::internal)?;
        let onderdelen: Vec<serde_json::Value> = doc
            .onderdelen
            .iter()
            .map(|p| {
                serde_json::json!({
                    "naam": p.naam, "formaat": p.formaat, "grootte": p.grootte, "metadata": p.metadata,
                    "stukken": p.stukken.iter().map(|s| serde_json::json!({"label": s.label, "tekens": s.tekst.chars().count()})).collect::<Vec<_>>(),
                    "fouten": p.fouten,
                })
            })
            .collect();
        let mut v = serde_json::to_value(&o).map_err(Problem::internal)?;
        v["onderdelen"] = serde_json::Value::Array(onderdelen);
        v["meldingen"] = serde_json::to_value(&doc.meldingen).map_err(Problem::internal)?;
        v["rapport"] = serde_json::to_value(&doc.rapport).map_err(Problem::internal)?;
        v["bestandUrl"] = serde_json::Value::String(format!("/api/v1/tam/{}/bestand", o.id));
        Ok(v)
    })
    .await;
    match r {
        Ok(v) => json(StatusCode::OK, &v),
        Err(p) => p.into_response(),
    }
}

/// The document's bytes exactly as received (`ETag` and `x-sha256`: their SHA-256).
#[utoipa::path(
    get, path = "/api/v1/tam/{id}/bestand", tag = "tam",
    params(("id" = String, Path, description = "The TAM document id (tam-…)")),
    responses(
        (status = 200, description = "The bytes as received", body = String, content_type = "application/octet-stream"),
        (status = 404, description = "Unknown id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bestand(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let r = blocking(&state, move |st| {
        let index = TamIndex::open(&st.store).map_err(Problem::internal)?;
        let Some(o) = index.get(&id).map_err(Problem::internal)? else { return Err(Problem::not_found(format!("geen TAM-document {id}"))) };
        let bytes = tam::bestand(&st.store, &o).map_err(Problem::internal)?;
        Ok((o, bytes))
    })
    .await;
    match r {
        Ok((o, bytes)) => {
            let mut resp = (StatusCode::OK, bytes).into_response();
            let h = resp.headers_mut();
            let mediatype = HeaderValue::from_str(&o.bestand.mediatype).unwrap_or(HeaderValue::from_static("application/octet-stream"));
            h.insert(header::CONTENT_TYPE, mediatype);
            if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", o.bestand.hash)) {
                h.insert(header::ETAG, v);
            }
            if let Ok(v) = HeaderValue::from_str(&o.bestand.hash) {
                h.insert("x-sha256", v);
            }
            let veilig: String = o.bestand.naam.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{veilig}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Err(p) => p.into_response(),
    }
}
