//! The ledger's storage contract ([`LogStorage`]) on SQLite and PostgreSQL.

use sqlx::QueryBuilder;

use super::projection::project;
use super::{Store, StoreError, to_i64, to_u64};
use crate::entry;
use crate::ledger::hash::Hash;
use crate::ledger::storage::{CommitBatch, LogStorage, StorageError, StoredHead};
use crate::ledger::tiles::{tile_body, tile_hashes};
use crate::with_pool;

/// Rows per multi-row INSERT: well under both backends' bind-parameter limits.
const ROWS_PER_INSERT: usize = 1000;

impl From<StoreError> for StorageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt(reason) => StorageError::Corrupt(reason),
            other => StorageError::Unavailable(other.to_string()),
        }
    }
}

fn storage_error(error: sqlx::Error) -> StorageError {
    StoreError::from(error).into()
}

fn to_hash(bytes: Vec<u8>, what: &str) -> Result<Hash, StorageError> {
    bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt(format!("{what} is not 32 bytes")))
}

/// One checkpoint from the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub size: u64,
    pub root: Hash,
    pub checkpoint: String,
    pub created_at_ms: i64,
}

type CheckpointRow = (i64, Vec<u8>, String, i64);

fn checkpoint_record(
    (size, root, checkpoint, created_at_ms): CheckpointRow,
) -> Result<CheckpointRecord, StoreError> {
    Ok(CheckpointRecord {
        size: to_u64(size, "size")?,
        root: root
            .try_into()
            .map_err(|_| StoreError::Corrupt("checkpoint root is not 32 bytes".into()))?,
        checkpoint,
        created_at_ms,
    })
}

impl Store {
    /// The checkpoint signed for exactly `size`, if the log ever had that size at a commit.
    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<CheckpointRecord>, StoreError> {
        let size = to_i64(size, "size")?;
        let row: Option<CheckpointRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT size, root, checkpoint, created_at_ms FROM log_checkpoints WHERE size = $1",
            )
            .bind(size)
            .fetch_optional(pool)
            .await?
        });
        row.map(checkpoint_record).transpose()
    }

    /// Checkpoints in the history, newest first, below size `before` if given.
    pub async fn checkpoints(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<CheckpointRecord>, StoreError> {
        let before = match before {
            Some(size) => to_i64(size, "size")?,
            None => i64::MAX,
        };
        let rows: Vec<CheckpointRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT size, root, checkpoint, created_at_ms FROM log_checkpoints \
                 WHERE size < $1 ORDER BY size DESC LIMIT $2",
            )
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(checkpoint_record).collect()
    }
}

/// Index columns of an entry: its type and time (milliseconds since the epoch).
fn index_columns(data: &[u8]) -> (String, i64) {
    match entry::peek(data) {
        Some((kind, time)) => (kind, time.timestamp_millis()),
        None => ("unknown".to_owned(), crate::clock::now().timestamp_millis()),
    }
}

impl LogStorage for Store {
    async fn head(&self) -> Result<Option<StoredHead>, StorageError> {
        let row: Option<(i64, Vec<u8>, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT size, root, checkpoint FROM log_head WHERE id = 1")
                .fetch_optional(pool)
                .await
                .map_err(storage_error)?
        });
        row.map(|(size, root, checkpoint)| {
            Ok(StoredHead {
                size: to_u64(size, "log size")?,
                root: to_hash(root, "stored root")?,
                checkpoint,
            })
        })
        .transpose()
    }

    async fn init_head(&self, head: &StoredHead) -> Result<(), StorageError> {
        let size = to_i64(head.size, "size")?;
        let now = crate::clock::now().timestamp_millis();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(storage_error)?;
            sqlx::query(
                "INSERT INTO log_head (id, size, root, checkpoint) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(size)
            .bind(head.root.as_slice())
            .bind(head.checkpoint.as_str())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
            sqlx::query(
                "INSERT INTO log_checkpoints (size, root, checkpoint, created_at_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
            )
            .bind(size)
            .bind(head.root.as_slice())
            .bind(head.checkpoint.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
            tx.commit().await.map_err(storage_error)?;
        });
        Ok(())
    }

    async fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<Hash>>, StorageError> {
        let index = to_i64(index, "tile index")?;
        let body: Option<Vec<u8>> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT data FROM log_tiles WHERE level = $1 AND idx = $2")
                .bind(i64::from(level))
                .bind(index)
                .fetch_optional(pool)
                .await
                .map_err(storage_error)?
        });
        body.map(|body| {
            tile_hashes(&body).ok_or_else(|| {
                StorageError::Corrupt(format!(
                    "tile {level}/{index} is {} bytes, not a whole number of hashes",
                    body.len()
                ))
            })
        })
        .transpose()
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let start = to_i64(start, "index")?;
        let end = to_i64(end, "index")?;
        let rows: Vec<Vec<u8>> = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT data FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await
            .map_err(storage_error)?
        });
        Ok(rows)
    }

    async fn commit(&self, batch: &CommitBatch) -> Result<(), StorageError> {
        let old_size = to_i64(batch.old_size, "size")?;
        let new_size = to_i64(batch.new_size(), "size")?;
        let now = crate::clock::now().timestamp_millis();
        let rows: Vec<(i64, &[u8], String, i64)> = batch
            .entries
            .iter()
            .enumerate()
            .map(|(offset, data)| {
                let (kind, time) = index_columns(data);
                (old_size + offset as i64, data.as_slice(), kind, time)
            })
            .collect();
        let tiles: Vec<(i64, i64, Vec<u8>)> = batch
            .tiles
            .iter()
            .map(|t| {
                Ok((
                    i64::from(t.level),
                    to_i64(t.index, "tile index")?,
                    tile_body(&t.hashes),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let sqlite = self.backend_name() == "sqlite";
        let projections = crate::store::projection::coalesce::coalesce(
            batch
                .entries
                .iter()
                .enumerate()
                .flat_map(|(offset, data)| project(batch.old_size + offset as u64, data))
                .collect(),
            crate::store::projection::coalesce::Chunking::for_sqlite(sqlite),
        );

        with_pool!(self, |pool| {
            // SQLite: take the write lock now rather than upgrading mid-transaction.
            let mut tx = match self.backend_name() {
                "sqlite" => pool.begin_with("BEGIN IMMEDIATE").await,
                _ => pool.begin().await,
            }
            .map_err(storage_error)?;
            // Compare-and-swap first: on PostgreSQL it also row-locks the head, so a second
            // would-be sequencer waits here and then finds the size moved.
            let moved = sqlx::query(
                "UPDATE log_head SET size = $1, root = $2, checkpoint = $3 \
                 WHERE id = 1 AND size = $4",
            )
            .bind(new_size)
            .bind(batch.head.root.as_slice())
            .bind(batch.head.checkpoint.as_str())
            .bind(old_size)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?
            .rows_affected();
            if moved != 1 {
                tx.rollback().await.map_err(storage_error)?;
                return Err(StorageError::Conflict {
                    expected: batch.old_size,
                });
            }
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO log_entries (idx, data, entry_type, entry_time_ms) ",
                );
                insert.push_values(chunk, |mut row, (idx, data, kind, time)| {
                    row.push_bind(*idx)
                        .push_bind(*data)
                        .push_bind(kind.as_str())
                        .push_bind(*time);
                });
                insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(storage_error)?;
            }
            for chunk in tiles.chunks(ROWS_PER_INSERT) {
                let mut upsert = QueryBuilder::new("INSERT INTO log_tiles (level, idx, data) ");
                upsert.push_values(chunk, |mut row, (level, idx, data)| {
                    row.push_bind(*level)
                        .push_bind(*idx)
                        .push_bind(data.as_slice());
                });
                upsert.push(" ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data");
                upsert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(storage_error)?;
            }
            // Forwarded appends are claimed in the same transaction: a row with an index is
            // exactly a durable append. A row withdrawn meanwhile aborts the whole batch.
            for claim in &batch.forwarded {
                let claimed = sqlx::query(
                    "UPDATE forwarded_appends SET first_index = $1 \
                     WHERE id = $2 AND first_index IS NULL AND failure IS NULL",
                )
                .bind(to_i64(claim.first_index, "index")?)
                .bind(claim.id)
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?
                .rows_affected();
                if claimed != 1 {
                    tx.rollback().await.map_err(storage_error)?;
                    return Err(StorageError::Withdrawn(claim.id));
                }
            }
            for op in projections {
                let op = if sqlite { op.positional() } else { op };
                crate::bound_query!(op)
                    .execute(&mut *tx)
                    .await
                    .map_err(storage_error)?;
            }
            sqlx::query(
                "INSERT INTO log_checkpoints (size, root, checkpoint, created_at_ms) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(new_size)
            .bind(batch.head.root.as_slice())
            .bind(batch.head.checkpoint.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
            tx.commit().await.map_err(storage_error)?;
        });
        Ok(())
    }
}
