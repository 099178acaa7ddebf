//! Verify a whole published log without trusting its operator.
//!
//! The checkpoint's signature is checked against a key the verifier already holds; then every
//! entry bundle is read, every entry hashed and compared with its level-0 tile, every
//! higher tile recomputed from the tiles below it, and the root recomputed and compared with
//! the checkpoint. A checkpoint saved earlier must be a prefix of the log (same root at its
//! size): otherwise the log was rolled back or forked. Memory stays bounded: the check
//! streams bundles in order and keeps only the right edge of the tree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures::StreamExt;
use serde::Deserialize;

use super::source::{FetchError, LogSource};
use crate::entry::{self, EntryError};
use crate::ledger::hash::{Hash, empty_root, leaf_hash};
use crate::ledger::note::{Checkpoint, NoteError, NoteVerifier, open_checkpoint};
use crate::ledger::proof::{ProofError, verify_consistency};
use crate::ledger::tiles::{TILE_WIDTH, TileId, TileKind, decode_bundle, level_tiles, tile_hashes};
use crate::ledger::tree::{RightEdge, TileWrite};

/// What to verify against.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The log's verifier key, obtained out of band.
    pub verifier: NoteVerifier,
    /// Expected checkpoint origin (by convention the key's name).
    pub origin: String,
    /// A signed checkpoint saved earlier, which the log must extend.
    pub previous: Option<String>,
    /// Bundles fetched concurrently.
    pub concurrency: usize,
}

/// What was checked, when everything verified.
#[derive(Debug, Clone)]
pub struct Report {
    pub checkpoint: Checkpoint,
    /// The signed note as read.
    pub note: String,
    pub entries: u64,
    pub bundles: u64,
    pub hash_tiles: u64,
    /// Entries of types this build does not know (verified as hashes, not read).
    pub unknown_entries: u64,
    pub previous: Option<PreviousCheck>,
}

/// How an earlier checkpoint was related to this log.
#[derive(Debug, Clone)]
pub struct PreviousCheck {
    pub size: u64,
    /// Whether the server's own consistency proof was also fetched and checked.
    pub proof_checked: bool,
}

/// Why a log failed verification. Every variant names the resource at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("checkpoint rejected: {0}")]
    Checkpoint(NoteError),
    #[error("previous checkpoint rejected: {0}")]
    PreviousCheckpoint(NoteError),
    #[error(
        "log rolled back: it now has {current} entries but a checkpoint of {previous} entries was seen before"
    )]
    RolledBack { previous: u64, current: u64 },
    #[error(
        "log forked: the entries up to size {size} differ from the previously seen checkpoint of that size"
    )]
    Forked { size: u64 },
    #[error("{path}: malformed entry bundle ({reason})")]
    BadBundle { path: String, reason: String },
    #[error("{path}: holds {got} entries, expected {expected}")]
    BundleCount {
        path: String,
        got: usize,
        expected: usize,
    },
    #[error("{path}: is {got} bytes, expected {expected} ({hashes} hashes)")]
    TileLength {
        path: String,
        got: usize,
        expected: usize,
        hashes: usize,
    },
    #[error(
        "entry {index} does not match its leaf hash in {tile}: the entry or the tile was changed"
    )]
    EntryMismatch { index: u64, tile: String },
    #[error("{path}: hash {position} does not match the tiles below it")]
    TileMismatch { path: String, position: usize },
    #[error("entry {index} is not a valid log entry: {reason}")]
    BadEntry { index: u64, reason: String },
    #[error(
        "recomputed root does not match the checkpoint's root for size {size}: tiles and checkpoint disagree"
    )]
    RootMismatch { size: u64 },
    #[error("the server's consistency proof from {old} to {new} is invalid: {reason}")]
    BadConsistencyProof {
        old: u64,
        new: u64,
        reason: ProofError,
    },
}

#[derive(Deserialize)]
struct ConsistencyResponse {
    consistency_path: Vec<String>,
}

fn expect_hashes(path: &str, body: &[u8], count: usize) -> Result<Vec<Hash>, VerifyError> {
    let length_error = || VerifyError::TileLength {
        path: path.to_owned(),
        got: body.len(),
        expected: count * 32,
        hashes: count,
    };
    let hashes = tile_hashes(body).ok_or_else(length_error)?;
    if hashes.len() != count {
        return Err(length_error());
    }
    Ok(hashes)
}

fn compare_tile(path: &str, body: &[u8], expected: &[Hash]) -> Result<(), VerifyError> {
    let got = expect_hashes(path, body, expected.len())?;
    match got.iter().zip(expected).position(|(a, b)| a != b) {
        Some(position) => Err(VerifyError::TileMismatch {
            path: path.to_owned(),
            position,
        }),
        None => Ok(()),
    }
}

/// One entry bundle and its level-0 tile, checked against each other.
struct CheckedBundle {
    /// The bundle's leaf hashes, equal to its level-0 tile's.
    leaves: Vec<Hash>,
    unknown_entries: u64,
}

/// Check that every entry of `bundle` hashes to its leaf in the level-0 tile `level0` and
/// is a valid entry (canonical, known type and schema) or of a type this build does not
/// know.
fn check_bundle(
    bundle: TileId,
    bundle_body: &[u8],
    level0: TileId,
    tile_body: &[u8],
) -> Result<CheckedBundle, VerifyError> {
    let width = usize::from(bundle.width);
    let entries = decode_bundle(bundle_body).map_err(|e| VerifyError::BadBundle {
        path: bundle.path(),
        reason: e.to_string(),
    })?;
    if entries.len() != width {
        return Err(VerifyError::BundleCount {
            path: bundle.path(),
            got: entries.len(),
            expected: width,
        });
    }
    let leaves = expect_hashes(&level0.path(), tile_body, width)?;
    let mut unknown_entries = 0;
    for (offset, (entry, stored_leaf)) in entries.iter().zip(&leaves).enumerate() {
        let index = bundle.index * TILE_WIDTH + offset as u64;
        if &leaf_hash(entry) != stored_leaf {
            return Err(VerifyError::EntryMismatch {
                index,
                tile: level0.path(),
            });
        }
        match entry::decode(entry) {
            Ok(_) => {}
            Err(EntryError::UnknownType { .. }) => unknown_entries += 1,
            Err(e) => {
                return Err(VerifyError::BadEntry {
                    index,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(CheckedBundle {
        leaves,
        unknown_entries,
    })
}

/// Verify the log published at `source`.
pub async fn verify_log(
    source: &LogSource,
    options: &VerifyOptions,
) -> Result<Report, VerifyError> {
    let note = source.checkpoint().await?;
    let checkpoint = open_checkpoint(&note, &options.verifier, &options.origin)
        .map_err(VerifyError::Checkpoint)?;
    let previous = options
        .previous
        .as_deref()
        .map(|p| open_checkpoint(p, &options.verifier, &options.origin))
        .transpose()
        .map_err(VerifyError::PreviousCheckpoint)?;
    if let Some(previous) = &previous
        && previous.size > checkpoint.size
    {
        return Err(VerifyError::RolledBack {
            previous: previous.size,
            current: checkpoint.size,
        });
    }

    let size = checkpoint.size;
    let mut edge = RightEdge::empty();
    let mut previous_root: Option<Hash> = previous
        .as_ref()
        .filter(|p| p.size == 0)
        .map(|_| empty_root());
    let mut bundles = 0u64;
    let mut hash_tiles = 0u64;
    let mut unknown_entries = 0u64;
    let mut completed: Vec<TileWrite> = Vec::new();

    // Fetching and the per-entry work (hashing, decoding) run `concurrency` bundles ahead,
    // on the blocking pool so that they use every core; only the right edge, which needs
    // the leaves in order, is built here.
    let checks = futures::stream::iter(level_tiles(TileKind::Entries, size))
        .map(|bundle| async move {
            let level0 = TileId {
                kind: TileKind::Hashes { level: 0 },
                ..bundle
            };
            let (entries, hashes) = tokio::join!(source.tile(bundle), source.tile(level0));
            let (entries, hashes) = (entries?, hashes?);
            tokio::task::spawn_blocking(move || check_bundle(bundle, &entries, level0, &hashes))
                .await
                .unwrap_or_else(|panic| {
                    Err(VerifyError::BadBundle {
                        path: bundle.path(),
                        reason: format!("check aborted: {panic}"),
                    })
                })
        })
        .buffered(options.concurrency.max(1));
    futures::pin_mut!(checks);

    while let Some(checked) = checks.next().await {
        let checked = checked?;
        hash_tiles += 1;
        bundles += 1;
        unknown_entries += checked.unknown_entries;
        for leaf in checked.leaves {
            edge.push(leaf, &mut |tile| completed.push(tile));
            if let Some(previous) = &previous
                && edge.size() == previous.size
            {
                previous_root = Some(edge.root());
            }
        }
        // Level-0 tiles were checked entry by entry; higher full tiles are checked as the
        // edge completes them.
        for tile in completed.drain(..).filter(|t| t.level > 0) {
            let id = TileId::full(TileKind::Hashes { level: tile.level }, tile.index);
            let body = source.tile(id).await?;
            compare_tile(&id.path(), &body, &tile.hashes)?;
            hash_tiles += 1;
        }
    }

    for (level, index, width) in RightEdge::partial_tiles_of(size) {
        if level == 0 {
            continue;
        }
        let id = TileId {
            kind: TileKind::Hashes { level },
            index,
            width: width as u16,
        };
        let body = source.tile(id).await?;
        compare_tile(&id.path(), &body, edge.partial_tile(level))?;
        hash_tiles += 1;
    }

    if edge.root() != checkpoint.root {
        return Err(VerifyError::RootMismatch { size });
    }

    let previous_check = match previous {
        None => None,
        Some(previous) => {
            if previous_root != Some(previous.root) {
                return Err(VerifyError::Forked {
                    size: previous.size,
                });
            }
            let proof_checked = if source.is_http() && previous.size > 0 && previous.size < size {
                check_server_proof(source, &previous, &checkpoint).await?;
                true
            } else {
                false
            };
            Some(PreviousCheck {
                size: previous.size,
                proof_checked,
            })
        }
    };

    Ok(Report {
        checkpoint,
        note,
        entries: size,
        bundles,
        hash_tiles,
        unknown_entries,
        previous: previous_check,
    })
}

/// Ask the server for its consistency proof and check it, as a light client would.
async fn check_server_proof(
    source: &LogSource,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<(), VerifyError> {
    let relative = format!("proof/consistency?old={}&new={}", old.size, new.size);
    let body = source.get(&relative).await?;
    let bad = |reason: String| FetchError {
        resource: relative.clone(),
        reason,
    };
    let response: ConsistencyResponse =
        serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let proof = response
        .consistency_path
        .iter()
        .map(|h| {
            B64.decode(h)
                .ok()
                .and_then(|b| <Hash>::try_from(b).ok())
                .ok_or_else(|| bad("proof hash is not 32 bytes of base64".into()))
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    verify_consistency(old.size, new.size, &old.root, &new.root, &proof).map_err(|reason| {
        VerifyError::BadConsistencyProof {
            old: old.size,
            new: new.size,
            reason,
        }
    })
}
