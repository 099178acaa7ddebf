//! The witness itself: `POST /add-checkpoint` as in C2SP tlog-witness.
//!
//! A request is `old <size>\n`, the consistency proof (one base64 hash per line), a blank
//! line, then the log's signed checkpoint. The witness checks, in this order:
//!
//! 1. the checkpoint's origin is a log it knows (404 otherwise) and a known key of that log
//!    signed it (403);
//! 2. `old` is not above the checkpoint's size (400);
//! 3. `old` is the size it last cosigned for that log (409, answering its size, so the
//!    caller retries from there); at equal sizes the roots must be equal (409);
//! 4. the proof shows the checkpoint extends what it cosigned before (422: a fork).
//!
//! Only then does it store the checkpoint as its latest for the log (durably: a temporary
//! file, fsync, rename, fsync of the directory) and answer its cosignature line. Checks and
//! store happen under one lock, so two concurrent requests can never both advance from the
//! same state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::ledger::hash::{Hash, empty_root};
use crate::ledger::note::{Checkpoint, Note, NoteError, NoteSigner, NoteVerifier, open_checkpoint};
use crate::ledger::proof::verify_consistency;
use crate::ledger::witness::cosign;

/// Largest request accepted: a checkpoint, its signatures and at most 63 proof hashes fit
/// many times over.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// A consistency proof of a tree below 2^64 leaves has fewer hashes than this.
const MAX_PROOF_HASHES: usize = 64;
/// Name of the state file in the state directory.
const STATE_FILE: &str = "witness-state.json";

/// Why a checkpoint was not cosigned. Each variant says the status it is answered with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// 400: the request is malformed, or `old` is above the checkpoint's size.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the checkpoint's origin is not a log this witness follows.
    #[error("unknown log origin {0:?}")]
    UnknownLog(String),
    /// 403: no key of the log signed the checkpoint.
    #[error("checkpoint not signed by the log: {0}")]
    NotSigned(NoteError),
    /// 409: `old` is not the size this witness holds (or same size, different root).
    #[error("this witness holds size {0} for the log")]
    Conflict(u64),
    /// 422: the consistency proof does not verify: the log forked or the proof is wrong.
    #[error("consistency proof rejected: {0}")]
    BadProof(String),
    /// 500: the new state could not be stored; nothing was cosigned.
    #[error("cannot store the witness state: {0}")]
    Storage(String),
}

impl AddError {
    pub fn status(&self) -> StatusCode {
        match self {
            AddError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AddError::UnknownLog(_) => StatusCode::NOT_FOUND,
            AddError::NotSigned(_) => StatusCode::FORBIDDEN,
            AddError::Conflict(_) => StatusCode::CONFLICT,
            AddError::BadProof(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AddError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AddError {
    fn into_response(self) -> Response {
        match self {
            AddError::Conflict(size) => (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{size}\n"),
            )
                .into_response(),
            AddError::Storage(reason) => {
                tracing::error!(%reason, "witness state not stored");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error: the checkpoint was not cosigned\n",
                )
                    .into_response()
            }
            other => (other.status(), format!("{other}\n")).into_response(),
        }
    }
}

/// What the witness holds for one log: the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogState {
    pub size: u64,
    /// Root hash, standard base64.
    pub root: String,
    /// The signed checkpoint as received (kept as evidence).
    pub checkpoint: String,
}

/// The state file: the latest cosigned checkpoint of each log, by origin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    pub logs: BTreeMap<String, LogState>,
}

impl WitnessState {
    /// Read the state in `dir` (empty if the file does not exist yet).
    pub fn load(dir: &Path) -> anyhow::Result<WitnessState> {
        let path = dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!("{} is not a witness state file: {e}", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WitnessState::default()),
            Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        }
    }

    /// Replace the state in `dir` atomically and durably.
    pub fn store(&self, dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let temporary = dir.join(format!("{STATE_FILE}.tmp"));
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, dir.join(STATE_FILE))?;
        // The rename itself is durable only once the directory is synced.
        std::fs::File::open(dir)?.sync_all()
    }
}

/// A witness: its key, the logs it follows, and its state.
pub struct Witness {
    signer: NoteSigner,
    /// Known logs by origin (the name of their verifier key).
    logs: BTreeMap<String, Vec<NoteVerifier>>,
    state_dir: PathBuf,
    // tokio's Mutex: it is held across the state file write, so requests are serialised
    // from the first check to the durable store.
    state: tokio::sync::Mutex<WitnessState>,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Witness {
    /// A witness that follows the logs of `log_keys` (the origin of each is its key's name),
    /// keeping its state in `state_dir` (created if missing).
    pub fn open(
        signer: NoteSigner,
        log_keys: Vec<NoteVerifier>,
        state_dir: &Path,
    ) -> anyhow::Result<Witness> {
        if signer.verifier().alg() != crate::ledger::note::ALG_COSIGNATURE_V1 {
            anyhow::bail!(
                "the witness key must be a cosignature/v1 key (create one with `clearinghouse keygen --witness`)"
            );
        }
        std::fs::create_dir_all(state_dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", state_dir.display()))?;
        let state = WitnessState::load(state_dir)?;
        let mut logs: BTreeMap<String, Vec<NoteVerifier>> = BTreeMap::new();
        for key in log_keys {
            logs.entry(key.name().to_owned()).or_default().push(key);
        }
        Ok(Witness {
            signer,
            logs,
            state_dir: state_dir.to_owned(),
            state: tokio::sync::Mutex::new(state),
            clock: Box::new(unix_seconds),
        })
    }

    /// The witness's verifier key.
    pub fn vkey(&self) -> String {
        self.signer.verifier().vkey()
    }

    /// A copy of the current state.
    pub async fn state(&self) -> WitnessState {
        self.state.lock().await.clone()
    }

    /// Handle one `add-checkpoint` request body; returns the cosignature line.
    pub async fn add_checkpoint(&self, body: &str) -> Result<String, AddError> {
        let request = parse_request(body)?;
        let parsed = Note::parse(request.note).map_err(AddError::NotSigned)?;
        let claimed = Checkpoint::parse(&parsed.text)
            .map_err(|e| AddError::BadRequest(format!("checkpoint: {e}")))?;
        let keys = self
            .logs
            .get(&claimed.origin)
            .ok_or_else(|| AddError::UnknownLog(claimed.origin.clone()))?;
        let mut last_error = NoteError::UnknownSigner(claimed.origin.clone());
        let mut checkpoint = None;
        for key in keys {
            match open_checkpoint(request.note, key, &claimed.origin) {
                Ok(opened) => {
                    checkpoint = Some(opened);
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let checkpoint = checkpoint.ok_or(AddError::NotSigned(last_error))?;
        if request.old > checkpoint.size {
            return Err(AddError::BadRequest(format!(
                "old size {} is above the checkpoint's size {}",
                request.old, checkpoint.size
            )));
        }

        let mut state = self.state.lock().await;
        let (known_size, known_root) = match state.logs.get(&checkpoint.origin) {
            Some(log) => (log.size, decode_hash(&log.root).map_err(AddError::Storage)?),
            None => (0, empty_root()),
        };
        if request.old != known_size {
            return Err(AddError::Conflict(known_size));
        }
        if request.old == checkpoint.size {
            if checkpoint.root != known_root {
                return Err(AddError::Conflict(known_size));
            }
            if !request.proof.is_empty() {
                return Err(AddError::BadProof(
                    "the proof between equal sizes must be empty".into(),
                ));
            }
        } else {
            verify_consistency(
                known_size,
                checkpoint.size,
                &known_root,
                &checkpoint.root,
                &request.proof,
            )
            .map_err(|e| AddError::BadProof(e.to_string()))?;
        }
        if checkpoint.size > known_size || !state.logs.contains_key(&checkpoint.origin) {
            let mut next = state.clone();
            next.logs.insert(
                checkpoint.origin.clone(),
                LogState {
                    size: checkpoint.size,
                    root: B64.encode(checkpoint.root),
                    checkpoint: request.note.to_owned(),
                },
            );
            let dir = self.state_dir.clone();
            let to_store = next.clone();
            tokio::task::spawn_blocking(move || to_store.store(&dir))
                .await
                .map_err(|e| AddError::Storage(e.to_string()))?
                .map_err(|e| AddError::Storage(e.to_string()))?;
            *state = next;
        }
        drop(state);
        cosign(&self.signer, &parsed.text, (self.clock)())
            .map_err(|e| AddError::Storage(format!("signing: {e}")))
    }
}

fn decode_hash(text: &str) -> Result<Hash, String> {
    B64.decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{text:?} is not a base64 SHA-256 hash"))
}

struct AddRequest<'a> {
    old: u64,
    proof: Vec<Hash>,
    note: &'a str,
}

fn parse_request(body: &str) -> Result<AddRequest<'_>, AddError> {
    let bad = |reason: &str| AddError::BadRequest(reason.to_owned());
    let (head, note) = body
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old_text = lines
        .next()
        .and_then(|line| line.strip_prefix("old "))
        .ok_or_else(|| bad("the first line must be `old <size>`"))?;
    if old_text.is_empty()
        || !old_text.bytes().all(|b| b.is_ascii_digit())
        || (old_text.len() > 1 && old_text.starts_with('0'))
    {
        return Err(bad("old size must be a decimal without leading zeros"));
    }
    let old = old_text.parse().map_err(|_| bad("old size is too large"))?;
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_PROOF_HASHES {
            return Err(bad("too many proof lines"));
        }
        proof.push(decode_hash(line).map_err(|e| AddError::BadRequest(format!("proof: {e}")))?);
    }
    Ok(AddRequest { old, proof, note })
}

/// The witness's HTTP interface.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(witness)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let Ok(body) = std::str::from_utf8(&body) else {
        return AddError::BadRequest("the body is not UTF-8".into()).into_response();
    };
    match witness.add_checkpoint(body).await {
        Ok(line) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            line,
        )
            .into_response(),
        Err(e) => {
            tracing::info!(error = %e, "checkpoint refused");
            e.into_response()
        }
    }
}
