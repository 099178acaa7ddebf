//! The service's log: typed entries in, durable receipts with proofs out.
//!
//! Domain modules append through a [`Journal`]; it encodes the entry canonically, hands it
//! to the sequencer, and once the entry is durable returns a [`LogReceipt`]: the index, the
//! inclusion proof and the signed checkpoint it is included in, so the caller can check its
//! own evidence without trusting the service.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cluster::{AppendRoute, forward};
use crate::entry::{self, EntryBody, EntryError};
use crate::ledger::hash::Hash;
use crate::ledger::note::NoteVerifier;
use crate::ledger::publish::HeadPublisher;
use crate::ledger::reader::{LogReader, ReadError};
use crate::ledger::sequencer::{AppendError, Appended};
use crate::store::Store;

/// Why an entry could not be logged. Nothing was acknowledged in any of these cases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    #[error("entry could not be encoded: {0}")]
    Encode(#[from] EntryError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error("entry was logged but its proof could not be read: {0}")]
    Proof(#[from] ReadError),
    #[error("the log is not writable from this process right now (no sequencer reachable)")]
    ReadOnly,
}

/// Proof that an entry is in the log, as returned by every write.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogReceipt {
    /// The entry's index in the log.
    pub index: u64,
    /// SHA-256(0x00 || entry), base64.
    pub leaf_hash: String,
    /// Size of the tree the proof is for (the checkpoint's size).
    pub tree_size: u64,
    /// RFC 9162 inclusion path, leaf to root, base64 hashes.
    pub inclusion_path: Vec<String>,
    /// The signed checkpoint (C2SP signed note) that includes the entry.
    pub checkpoint: String,
}

impl LogReceipt {
    /// Check this receipt with no network: the checkpoint is signed by the log's key for
    /// `origin`, its size is the receipt's, and the inclusion path leads from the entry's
    /// leaf hash (of `entry`, when the caller holds the entry's bytes) to its root.
    pub fn verify(
        &self,
        verifier: &NoteVerifier,
        origin: &str,
        entry: Option<&[u8]>,
    ) -> Result<crate::ledger::note::Checkpoint, String> {
        let checkpoint = crate::ledger::note::open_checkpoint(&self.checkpoint, verifier, origin)
            .map_err(|e| format!("checkpoint: {e}"))?;
        if checkpoint.size != self.tree_size {
            return Err(format!(
                "the checkpoint is for size {}, the proof for {}",
                checkpoint.size, self.tree_size
            ));
        }
        let decode = |text: &str| -> Result<Hash, String> {
            B64.decode(text)
                .ok()
                .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| format!("{text:?} is not a base64 SHA-256 hash"))
        };
        let leaf = decode(&self.leaf_hash)?;
        if let Some(entry) = entry
            && crate::ledger::hash::leaf_hash(entry) != leaf
        {
            return Err("the entry does not hash to the receipt's leaf hash".into());
        }
        let path = self
            .inclusion_path
            .iter()
            .map(|h| decode(h))
            .collect::<Result<Vec<_>, _>>()?;
        crate::ledger::proof::verify_inclusion(
            self.index,
            self.tree_size,
            &leaf,
            &path,
            &checkpoint.root,
        )
        .map_err(|e| format!("inclusion proof: {e}"))?;
        Ok(checkpoint)
    }
}

/// Encode hashes as standard base64 strings.
pub fn b64_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// How long an append forwarded to the leader may wait before it is withdrawn.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Appends to and reads from the log.
#[derive(Clone)]
pub struct Journal {
    reader: Arc<LogReader<Store>>,
    /// Where appends go: this process's sequencer, or the leader's through the database.
    route: tokio::sync::watch::Receiver<AppendRoute>,
    publisher: Arc<HeadPublisher>,
    verifier: NoteVerifier,
    origin: String,
}

impl Journal {
    pub fn new(
        reader: Arc<LogReader<Store>>,
        route: tokio::sync::watch::Receiver<AppendRoute>,
        publisher: Arc<HeadPublisher>,
        verifier: NoteVerifier,
        origin: String,
    ) -> Self {
        Journal {
            reader,
            route,
            publisher,
            verifier,
            origin,
        }
    }

    pub fn reader(&self) -> &Arc<LogReader<Store>> {
        &self.reader
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Can this process append now (its sequencer runs, or it follows a leader)?
    pub fn is_writable(&self) -> bool {
        match &*self.route.borrow() {
            AppendRoute::Sequencer(sequencer) => sequencer.is_running(),
            AppendRoute::Forward => true,
            AppendRoute::Unavailable => false,
        }
    }

    /// The latest committed head: on a follower, read from storage now (its published head
    /// may lag the leader's by up to the follow interval, and a client that got a receipt
    /// from the leader may ask this process next). On the leader, the published head.
    pub async fn catch_up(&self) -> Arc<crate::ledger::reader::HeadState> {
        if matches!(&*self.route.borrow(), AppendRoute::Sequencer(_)) {
            return self.reader.head();
        }
        match self.publisher.refresh(self.reader.storage().as_ref()).await {
            Ok(head) => head,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the log head; answering from the last one");
                self.reader.head()
            }
        }
    }

    /// This process's part in the cluster: `leader`, `follower` or `none`.
    pub fn role(&self) -> &'static str {
        self.route.borrow().role()
    }

    /// Append one typed entry stamped with `time`; returns the entry bytes and its receipt.
    pub async fn append<T: EntryBody>(
        &self,
        time: DateTime<Utc>,
        body: &T,
    ) -> Result<(Vec<u8>, LogReceipt), JournalError> {
        let bytes = entry::encode(time, body)?;
        let mut receipts = self.append_raw(vec![bytes.clone()]).await?;
        let receipt = receipts.pop().ok_or(AppendError::Empty)?;
        Ok((bytes, receipt))
    }

    /// Append already-encoded entries atomically, at consecutive indexes.
    pub async fn append_raw(&self, entries: Vec<Vec<u8>>) -> Result<Vec<LogReceipt>, JournalError> {
        let appended = self.append_unreceipted(entries).await?;
        let size = appended.head.head.size;
        let mut receipts = Vec::with_capacity(appended.leaf_hashes.len());
        for (offset, leaf) in appended.leaf_hashes.iter().enumerate() {
            let index = appended.first_index + offset as u64;
            let path = self.reader.inclusion_proof(index, size).await?;
            receipts.push(LogReceipt {
                index,
                leaf_hash: B64.encode(leaf),
                tree_size: size,
                inclusion_path: b64_hashes(&path),
                checkpoint: appended.head.head.checkpoint.clone(),
            });
        }
        Ok(receipts)
    }

    /// Append entries durably without building a receipt (an inclusion proof) for each:
    /// for bulk loads whose entries nobody waits on one by one (the bench's history).
    pub async fn append_unreceipted(
        &self,
        entries: Vec<Vec<u8>>,
    ) -> Result<Appended, JournalError> {
        let route = self.route.borrow().clone();
        Ok(match route {
            AppendRoute::Sequencer(sequencer) => sequencer.append(entries).await?,
            AppendRoute::Forward => {
                let store = self.reader.storage();
                forward::append(store, &self.publisher, entries, FORWARD_TIMEOUT).await?
            }
            AppendRoute::Unavailable => return Err(JournalError::ReadOnly),
        })
    }
}
