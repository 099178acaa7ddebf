//! The storage contract the log is written against.
//!
//! The sequencer is the only writer; readers may be anywhere. An implementation must give
//! these guarantees, which the rest of the ledger relies on:
//!
//! * **Atomic, durable commits.** [`LogStorage::commit`] writes a batch's entries, its tiles
//!   and the new head in one transaction. When it returns `Ok`, all of it is durable; when it
//!   returns an error, either none of it was written or (if the connection broke after the
//!   commit) all of it was. Never a part.
//! * **Compare-and-swap head.** A commit moves the head from `old_size` to `new_size` only if
//!   the stored head is still at `old_size`; otherwise it fails with
//!   [`StorageError::Conflict`] and changes nothing. Two processes that both believe they
//!   lead can therefore never publish two different histories.
//! * **Read-after-write.** Once a commit returned, every later read sees it.
//! * **Tiles only grow.** A stored tile is replaced only by a longer tile with the same
//!   prefix; a full tile is never replaced.
//! * **Forwarded appends are claimed in the commit.** Entries another process handed over
//!   through storage ([`ForwardedClaim`]) are marked with their index in the same
//!   transaction; if one was withdrawn meanwhile the commit fails with
//!   [`StorageError::Withdrawn`] and changes nothing.

use std::future::Future;

use super::hash::Hash;
use super::tree::TileWrite;

/// Why storage could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The head moved since it was read: another writer committed first.
    #[error("the log head moved: expected size {expected}, another writer committed first")]
    Conflict { expected: u64 },
    /// A forwarded append in the batch was withdrawn by the process that handed it over.
    #[error("forwarded append {0} was withdrawn before it could be committed")]
    Withdrawn(i64),
    /// Stored data breaks an invariant (a tile shorter than the tree needs, say).
    #[error("log storage is inconsistent: {0}")]
    Corrupt(String),
    /// The database could not be reached or failed; nothing is known to have changed.
    #[error("log storage unavailable: {0}")]
    Unavailable(String),
}

/// The latest committed state of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    pub size: u64,
    pub root: Hash,
    /// The signed checkpoint note for this size.
    pub checkpoint: String,
}

/// A batch of appends, ready to commit.
#[derive(Debug, Clone)]
pub struct CommitBatch {
    /// Head size this batch extends; the commit fails if the stored head is elsewhere.
    pub old_size: u64,
    /// The entries, at indexes `old_size..old_size + entries.len()`.
    pub entries: Vec<Vec<u8>>,
    /// Every hash tile the batch completed or grew, with its full new content.
    pub tiles: Vec<TileWrite>,
    /// The new head.
    pub head: StoredHead,
    /// Appends forwarded by other processes that this batch commits.
    pub forwarded: Vec<ForwardedClaim>,
}

/// An append another process handed over through storage, and where this batch puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardedClaim {
    /// The forwarded append's id in storage.
    pub id: i64,
    /// Index of its first entry in the log.
    pub first_index: u64,
}

impl CommitBatch {
    pub fn new_size(&self) -> u64 {
        self.head.size
    }
}

/// Durable storage for one log. See the module documentation for the guarantees.
pub trait LogStorage: Send + Sync + 'static {
    /// The committed head, or `None` for a log that was never initialised.
    fn head(&self) -> impl Future<Output = Result<Option<StoredHead>, StorageError>> + Send;

    /// Store the head of the empty log if there is no head yet. Idempotent.
    fn init_head(&self, head: &StoredHead)
    -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Stored hashes of tile (`level`, `index`), possibly partial; `None` if absent.
    fn tile(
        &self,
        level: u8,
        index: u64,
    ) -> impl Future<Output = Result<Option<Vec<Hash>>, StorageError>> + Send;

    /// Entries `start..end` (fewer if the log is shorter), in order.
    fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, StorageError>> + Send;

    /// Commit a batch atomically, durably, and only if the head is still at `old_size`.
    fn commit(&self, batch: &CommitBatch) -> impl Future<Output = Result<(), StorageError>> + Send;
}
