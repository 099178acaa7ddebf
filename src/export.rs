//! Export the log as static files in the tlog-tiles layout (`checkpoint`, `key`, `tile/…`),
//! so any web server or CDN can serve it and `clearinghouse verify --dir` can check it.

use std::path::Path;

use crate::ledger::reader::LogReader;
use crate::ledger::storage::{LogStorage, StorageError};
use crate::ledger::tiles::{TILE_WIDTH, TileKind, encode_bundle, tiles_for_size};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Inconsistent(String),
}

async fn write(dir: &Path, relative: &str, body: &[u8]) -> Result<(), ExportError> {
    let path = dir.join(relative);
    let io = |source| ExportError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    tokio::fs::write(&path, body).await.map_err(io)
}

/// Write every tile, entry bundle, the checkpoint and the key for the current head.
/// Returns the exported tree size.
pub async fn export_log<S: LogStorage>(
    reader: &LogReader<S>,
    vkey: &str,
    dir: &Path,
) -> Result<u64, ExportError> {
    let head = reader.head();
    let size = head.head.size;
    for id in tiles_for_size(size) {
        let width = usize::from(id.width);
        let body = match id.kind {
            TileKind::Hashes { level } => reader
                .tile_body(level, id.index, width)
                .await?
                .ok_or_else(|| {
                    ExportError::Inconsistent(format!("{} missing from storage", id.path()))
                })?,
            TileKind::Entries => {
                let start = id.index * TILE_WIDTH;
                let entries = reader
                    .storage()
                    .entries(start, start + u64::from(id.width))
                    .await?;
                encode_bundle(entries.iter().map(Vec::as_slice))
                    .map_err(|e| ExportError::Inconsistent(e.to_string()))?
            }
        };
        write(dir, &id.path(), &body).await?;
    }
    write(dir, "key", format!("{vkey}\n").as_bytes()).await?;
    // The checkpoint last: a mirror never advertises a size whose tiles are not there yet.
    write(dir, "checkpoint", head.head.checkpoint.as_bytes()).await?;
    Ok(size)
}
