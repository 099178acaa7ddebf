//! The log's read API under `/log/`: checkpoint, verifier key, C2SP tiles, entries and
//! RFC 9162 proofs. Everything here is public and read-only; tiles and entries are the same
//! bytes a static mirror would serve.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extract::{ApiPath, ApiQuery};
use super::problem::Problem;
use crate::journal::b64_hashes;
use crate::ledger::reader::ReadError;
use crate::ledger::storage::LogStorage;
use crate::ledger::tiles::{TILE_WIDTH, TileId, TileKind, encode_bundle};

/// Full tiles never change: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Partial tiles are superseded as the log grows.
const SHORT_LIVED: &str = "public, max-age=10";
/// The checkpoint moves with every batch.
const NO_CACHE: &str = "no-cache";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/key", get(key))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/entries/{index}", get(entry))
        .route("/log/proof/inclusion", get(inclusion_proof))
        .route("/log/proof/consistency", get(consistency_proof))
}

fn with_headers(
    body: impl IntoResponse,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    // Anyone may read the log, from any origin (monitors, verifiers in a browser).
    let mut response = super::typed_response(body, content_type, Some(cache));
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

pub(crate) fn read_problem(error: ReadError) -> Problem {
    match error {
        ReadError::OutOfRange(detail) => Problem::invalid_parameter("size", detail),
        ReadError::Storage(e) => Problem::log_unavailable(&e),
    }
}

/// `GET /log/checkpoint`: the latest signed checkpoint (C2SP tlog-checkpoint), with the
/// cosignatures the configured witnesses gave on exactly this checkpoint so far (none, some
/// or all: the latest checkpoint is never held back waiting for witnesses; a client that
/// needs a quorum polls again or checks the cosignatures itself).
async fn checkpoint(State(state): State<AppState>) -> Response {
    // Behind a load balancer, successive requests may reach different processes: a
    // follower reads the head now so the checkpoint never goes back.
    let head = state.journal.catch_up().await;
    with_headers(
        state.cosignatures.cosigned(&head.head.checkpoint),
        "text/plain; charset=utf-8",
        NO_CACHE,
    )
}

/// `GET /log/key`: the log's verifier key in signed-note form.
async fn key(State(state): State<AppState>) -> Response {
    with_headers(
        format!("{}\n", state.journal.verifier().vkey()),
        "text/plain; charset=utf-8",
        "public, max-age=3600",
    )
}

/// `GET /log/tile/<L>/<N>[.p/<W>]` and `GET /log/tile/entries/<N>[.p/<W>]`.
async fn tile(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<String>,
) -> Result<Response, Problem> {
    let id = TileId::parse(&format!("tile/{path}"))
        .map_err(|e| Problem::invalid_parameter("path", format!("tile/{path}: {e}")))?;
    let reader = state.journal.reader();
    let level = match id.kind {
        TileKind::Hashes { level } => Some(level),
        TileKind::Entries => None,
    };
    let width = u64::from(id.width);
    let mut exists = reader.tile_exists(level, id.index, width);
    if !exists {
        // Beyond this process's head: it may be a follower a little behind the leader.
        state.journal.catch_up().await;
        exists = reader.tile_exists(level, id.index, width);
    }
    if !exists {
        return Err(Problem::not_found(format!(
            "{} is not in the log (yet)",
            id.path()
        )));
    }
    let width = usize::from(id.width);
    let body = match id.kind {
        TileKind::Hashes { level } => reader
            .tile_body(level, id.index, width)
            .await
            .map_err(|e| Problem::log_unavailable(&e))?
            .ok_or_else(|| {
                Problem::log_unavailable(&format!("tile {} missing from storage", id.path()))
            })?,
        TileKind::Entries => {
            let start = id.index * TILE_WIDTH;
            let entries = reader
                .storage()
                .entries(start, start + u64::from(id.width))
                .await
                .map_err(|e| Problem::log_unavailable(&e))?;
            if entries.len() != width {
                return Err(Problem::log_unavailable(&format!(
                    "entry bundle {} has {} entries in storage",
                    id.path(),
                    entries.len()
                )));
            }
            encode_bundle(entries.iter().map(Vec::as_slice)).map_err(|e| Problem::internal(&e))?
        }
    };
    let cache = if id.is_full() { IMMUTABLE } else { SHORT_LIVED };
    Ok(with_headers(body, "application/octet-stream", cache))
}

/// `GET /log/entries/{index}`: the entry's exact bytes (canonical JSON).
async fn entry(
    State(state): State<AppState>,
    ApiPath(index): ApiPath<u64>,
) -> Result<Response, Problem> {
    let reader = state.journal.reader();
    let mut size = reader.head().head.size;
    if index >= size {
        size = state.journal.catch_up().await.head.size;
    }
    if index >= size {
        return Err(Problem::not_found(format!(
            "entry {index} is not in the log ({size} entries)"
        )));
    }
    let mut entries = reader
        .storage()
        .entries(index, index + 1)
        .await
        .map_err(|e| Problem::log_unavailable(&e))?;
    let entry = entries
        .pop()
        .ok_or_else(|| Problem::log_unavailable(&format!("entry {index} missing from storage")))?;
    let leaf = reader.leaf_hash(index).await.map_err(read_problem)?;
    let mut response = with_headers(entry, "application/json", IMMUTABLE);
    if let Ok(value) = HeaderValue::from_str(&B64.encode(leaf)) {
        response.headers_mut().insert("leaf-hash", value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

/// An RFC 9162 inclusion proof.
#[derive(Serialize)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub inclusion_path: Vec<String>,
    /// The latest checkpoint, when the proof is for its size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// `GET /log/proof/inclusion?index=&size=` (size defaults to the latest checkpoint).
async fn inclusion_proof(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, Problem> {
    let reader = state.journal.reader();
    let mut head = reader.head();
    if query.size.is_some_and(|size| size > head.head.size) {
        head = state.journal.catch_up().await;
    }
    let size = query.size.unwrap_or(head.head.size);
    if size > head.head.size {
        return Err(Problem::invalid_parameter(
            "size",
            format!("size {size} is larger than the log ({})", head.head.size),
        ));
    }
    if query.index >= size {
        return Err(Problem::invalid_parameter(
            "index",
            format!("index {} is not below tree size {size}", query.index),
        ));
    }
    let path = reader
        .inclusion_proof(query.index, size)
        .await
        .map_err(read_problem)?;
    let leaf = reader.leaf_hash(query.index).await.map_err(read_problem)?;
    Ok(Json(InclusionProof {
        leaf_index: query.index,
        tree_size: size,
        leaf_hash: B64.encode(leaf),
        inclusion_path: b64_hashes(&path),
        checkpoint: (size == head.head.size).then(|| head.head.checkpoint.clone()),
    }))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

/// An RFC 9162 consistency proof.
#[derive(Serialize)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub consistency_path: Vec<String>,
    /// The latest checkpoint, when the proof is to its size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// `GET /log/proof/consistency?old=&new=` (new defaults to the latest checkpoint).
async fn consistency_proof(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, Problem> {
    let reader = state.journal.reader();
    let mut head = reader.head();
    if query.new.is_some_and(|new| new > head.head.size) {
        head = state.journal.catch_up().await;
    }
    let new = query.new.unwrap_or(head.head.size);
    if new > head.head.size {
        return Err(Problem::invalid_parameter(
            "new",
            format!("new size {new} is larger than the log ({})", head.head.size),
        ));
    }
    if query.old > new {
        return Err(Problem::invalid_parameter(
            "old",
            format!("old size {} is larger than new size {new}", query.old),
        ));
    }
    let path = reader
        .consistency_proof(query.old, new)
        .await
        .map_err(read_problem)?;
    Ok(Json(ConsistencyProof {
        first: query.old,
        second: new,
        consistency_path: b64_hashes(&path),
        checkpoint: (new == head.head.size).then(|| head.head.checkpoint.clone()),
    }))
}
