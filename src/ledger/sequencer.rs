//! The sequencer: the single writer that owns the right edge of the tree.
//!
//! Writers hand it entries through a bounded channel (back-pressure instead of unbounded
//! memory). It gathers a batch (up to `max_batch` entries: whatever is queued, and, when the
//! previous batch had more than one writer, whatever arrives within `linger`), computes the
//! new tiles and root, signs the checkpoint, commits entries, tiles and head in one storage
//! transaction, and only then answers each writer.
//! An index is never handed out before it is durable; a crash loses only entries nobody was
//! told about.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use tokio::task::JoinHandle;

use super::hash::{Hash, empty_root, leaf_hash};
use super::nodes::{EdgeNodes, NodeTile};
use super::note::{Checkpoint, NoteError, NoteSigner, open_checkpoint};
use super::publish::HeadPublisher;
use super::reader::{HeadState, LogReader};
use super::storage::{CommitBatch, ForwardedClaim, LogStorage, StorageError, StoredHead};
use super::tiles::{MAX_ENTRY_SIZE, TILE_WIDTH};
use super::tree::{RightEdge, TileWrite};

/// Batching knobs.
#[derive(Debug, Clone)]
pub struct SequencerConfig {
    /// Most entries committed in one transaction.
    pub max_batch: usize,
    /// How long the first entry of a batch may wait for company.
    pub linger: Duration,
    /// Pending appends queued before writers wait (back-pressure).
    pub queue_depth: usize,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            max_batch: 1024,
            linger: Duration::from_millis(1),
            queue_depth: 8192,
        }
    }
}

/// Why an append was not acknowledged. None of these means the entry is in the log.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    #[error("entry of {0} bytes is larger than the {MAX_ENTRY_SIZE}-byte limit")]
    TooLarge(usize),
    #[error("nothing to append")]
    Empty,
    #[error("the log is not accepting appends: {0}")]
    Unavailable(String),
    #[error("the sequencer has stopped")]
    Stopped,
}

/// Acknowledgement of a durable append.
#[derive(Debug, Clone)]
pub struct Appended {
    /// Index of the first entry appended (the others follow consecutively).
    pub first_index: u64,
    pub leaf_hashes: Vec<Hash>,
    /// The head that includes the entries: its size, root and signed checkpoint.
    pub head: Arc<HeadState>,
}

struct Pending {
    entries: Vec<Vec<u8>>,
    /// Set when another process handed these entries over through storage (its row id).
    forwarded: Option<i64>,
    reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Refuse what no sequencer would accept: nothing, or an entry over the size limit.
pub fn check_entries(entries: &[Vec<u8>]) -> Result<(), AppendError> {
    if entries.is_empty() {
        return Err(AppendError::Empty);
    }
    if let Some(big) = entries.iter().find(|e| e.len() > MAX_ENTRY_SIZE) {
        return Err(AppendError::TooLarge(big.len()));
    }
    Ok(())
}

/// Hands entries to the sequencer. Cheap to clone.
#[derive(Clone)]
pub struct SequencerHandle {
    tx: mpsc::Sender<Pending>,
}

impl SequencerHandle {
    /// Append entries atomically at consecutive indexes; returns once they are durable.
    pub async fn append(&self, entries: Vec<Vec<u8>>) -> Result<Appended, AppendError> {
        self.submit(entries, None).await
    }

    /// Append entries another process forwarded through storage (row `id`): the commit
    /// also claims the row, so the forwarding process learns the index from storage.
    pub async fn append_forwarded(
        &self,
        id: i64,
        entries: Vec<Vec<u8>>,
    ) -> Result<Appended, AppendError> {
        self.submit(entries, Some(id)).await
    }

    async fn submit(
        &self,
        entries: Vec<Vec<u8>>,
        forwarded: Option<i64>,
    ) -> Result<Appended, AppendError> {
        check_entries(&entries)?;
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending {
                entries,
                forwarded,
                reply,
            })
            .await
            .map_err(|_| AppendError::Stopped)?;
        answer.await.map_err(|_| AppendError::Stopped)?
    }

    /// True while the sequencer task is alive.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }
}

/// Statistics of one committed batch, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct BatchStats {
    pub entries: usize,
    pub commit_latency: Duration,
    /// The log's size after the batch.
    pub size: u64,
}

/// Receives statistics of each committed batch (metrics live outside the ledger).
pub type BatchObserver = Arc<dyn Fn(BatchStats) + Send + Sync>;

/// Why the log could not be opened for writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("stored checkpoint does not open with the configured key and origin: {0}")]
    Checkpoint(#[from] NoteError),
}

/// Read the committed head and rebuild its right edge, checking that the tiles reproduce the
/// stored root (a log whose storage disagrees with its own checkpoint must not grow).
pub async fn load_head<S: LogStorage>(storage: &S) -> Result<Option<HeadState>, StorageError> {
    let Some(head) = storage.head().await? else {
        return Ok(None);
    };
    let mut tiles = std::collections::BTreeMap::new();
    for (level, index, _) in RightEdge::partial_tiles_of(head.size) {
        if let Some(hashes) = storage.tile(level, index).await? {
            tiles.insert((level, index), hashes);
        }
    }
    let edge = RightEdge::restore(head.size, &tiles)
        .map_err(|missing| StorageError::Corrupt(missing.to_string()))?;
    if edge.root() != head.root {
        return Err(StorageError::Corrupt(format!(
            "tiles give a different root than the stored checkpoint at size {}",
            head.size
        )));
    }
    Ok(Some(HeadState::new(head, edge)))
}

/// Open the log for reading: the committed head (initialising an empty log if needed).
pub async fn open_head<S: LogStorage>(
    storage: &S,
    signer: &NoteSigner,
    origin: &str,
) -> Result<HeadState, OpenError> {
    if storage.head().await?.is_none() {
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            size: 0,
            root: empty_root(),
            extensions: Vec::new(),
        };
        storage
            .init_head(&StoredHead {
                size: 0,
                root: checkpoint.root,
                checkpoint: checkpoint.sign(signer)?,
            })
            .await?;
    }
    let state = load_head(storage).await?.ok_or_else(|| {
        StorageError::Corrupt("log head vanished right after initialisation".into())
    })?;
    open_checkpoint(&state.head.checkpoint, signer.verifier(), origin)?;
    Ok(state)
}

struct Sequencer<S> {
    storage: Arc<S>,
    signer: Arc<NoteSigner>,
    origin: String,
    config: SequencerConfig,
    state: Arc<HeadState>,
    /// Set after a failed commit: storage may or may not hold the batch, so the edge must
    /// be reloaded before the next one.
    stale: bool,
    publish: Arc<HeadPublisher>,
    reader: Arc<LogReader<S>>,
    observer: Option<BatchObserver>,
    rx: mpsc::Receiver<Pending>,
    stop: watch::Receiver<bool>,
    /// Whether the last batch gathered more than one writer: only then is waiting `linger`
    /// for company likely to pay. A lone writer (an idle service, one auditor's query) is
    /// committed at once instead of paying the linger and the timer's rounding.
    company_expected: bool,
}

/// The running sequencer task, to stop it cleanly.
pub struct RunningSequencer {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl RunningSequencer {
    /// Refuse new appends, commit those already queued, and wait for the task to end.
    pub async fn stop(self, deadline: Duration) {
        self.stop.send_replace(true);
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            tracing::error!("sequencer did not finish within {deadline:?}");
        }
    }

    /// Has the task ended (it ends on `stop`, or when every handle is dropped)?
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Start the sequencer task on an opened log. Returns the handle writers use and the task,
/// which ends (after committing what was queued) when stopped or once every handle is dropped.
pub fn start<S: LogStorage>(
    storage: Arc<S>,
    signer: Arc<NoteSigner>,
    origin: String,
    config: SequencerConfig,
    publish: Arc<HeadPublisher>,
    reader: Arc<LogReader<S>>,
    observer: Option<BatchObserver>,
) -> (SequencerHandle, RunningSequencer) {
    let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
    let (stop_tx, stop) = watch::channel(false);
    let state = publish.current();
    let sequencer = Sequencer {
        storage,
        signer,
        origin,
        config,
        state,
        stale: false,
        publish,
        reader,
        observer,
        rx,
        stop,
        company_expected: false,
    };
    let task = tokio::spawn(sequencer.run());
    (
        SequencerHandle { tx },
        RunningSequencer {
            task,
            stop: stop_tx,
        },
    )
}

impl<S: LogStorage> Sequencer<S> {
    async fn run(mut self) {
        loop {
            let next = tokio::select! {
                biased;
                _ = self.stop.wait_for(|stop| *stop) => {
                    // No new appends; what is already queued is still committed below.
                    self.rx.close();
                    None
                }
                next = self.rx.recv() => next,
            };
            let Some(first) = next else { break };
            let batch = self.gather(first).await;
            self.commit(batch).await;
        }
        while let Some(first) = self.rx.recv().await {
            let batch = self.gather(first).await;
            self.commit(batch).await;
        }
        tracing::info!(size = self.state.head.size, "sequencer stopped");
    }

    /// Collect a batch: what is queued now, then, when the last batch had company, what
    /// arrives within `linger`, up to `max_batch` entries. Under load the queue refills
    /// while a commit runs, so batches stay large without waiting.
    async fn gather(&mut self, first: Pending) -> Vec<Pending> {
        let mut count = first.entries.len();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + self.config.linger;
        while count < self.config.max_batch {
            let next = match self.rx.try_recv() {
                Ok(pending) => Some(pending),
                Err(mpsc::error::TryRecvError::Disconnected) => None,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if self.config.linger.is_zero() || !self.company_expected {
                        None
                    } else {
                        tokio::time::timeout_at(deadline, self.rx.recv())
                            .await
                            .ok()
                            .flatten()
                    }
                }
            };
            let Some(pending) = next else { break };
            count += pending.entries.len();
            batch.push(pending);
        }
        self.company_expected = batch.len() > 1;
        batch
    }

    async fn reload(&mut self) -> Result<(), AppendError> {
        match load_head(self.storage.as_ref()).await {
            Ok(Some(state)) => {
                let state = Arc::new(state);
                self.state = state.clone();
                self.publish.publish(state);
                self.stale = false;
                Ok(())
            }
            Ok(None) => Err(AppendError::Unavailable("the log head is missing".into())),
            Err(e) => Err(AppendError::Unavailable(e.to_string())),
        }
    }

    async fn commit(&mut self, mut batch: Vec<Pending>) {
        if self.stale
            && let Err(e) = self.reload().await
        {
            tracing::error!(error = %e, "log storage unavailable; refusing appends");
            for pending in batch {
                let _ = pending.reply.send(Err(e.clone()));
            }
            return;
        }

        let mut entries = Vec::new();
        let mut spans = Vec::with_capacity(batch.len());
        let mut forwarded = Vec::new();
        let old_size = self.state.head.size;
        for pending in &mut batch {
            if let Some(id) = pending.forwarded {
                forwarded.push(ForwardedClaim {
                    id,
                    first_index: old_size + entries.len() as u64,
                });
            }
            spans.push(pending.entries.len());
            entries.append(&mut pending.entries);
        }
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let mut edge = self.state.edge.clone();
        let tiles = edge.append(&leaves);
        // The new edge's nodes give its root without rehashing the partial tiles, and
        // then serve every receipt of the batch.
        let nodes = EdgeNodes::of(&edge, Some(&self.state.nodes));
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: edge.size(),
            root: nodes.root(),
            extensions: Vec::new(),
        };
        let note = match checkpoint.sign(&self.signer) {
            Ok(note) => note,
            Err(e) => {
                let error = AppendError::Unavailable(format!("cannot sign checkpoint: {e}"));
                for pending in batch {
                    let _ = pending.reply.send(Err(error.clone()));
                }
                return;
            }
        };
        let commit = CommitBatch {
            old_size,
            entries,
            tiles,
            head: StoredHead {
                size: checkpoint.size,
                root: checkpoint.root,
                checkpoint: note,
            },
            forwarded,
        };
        let started = Instant::now();
        let result = self.storage.commit(&commit).await;
        let commit_latency = started.elapsed();
        match result {
            Ok(()) => {
                for TileWrite {
                    level,
                    index,
                    hashes,
                } in &commit.tiles
                {
                    if hashes.len() as u64 == TILE_WIDTH {
                        let tile = Arc::new(NodeTile::new(hashes));
                        self.reader.cache_full_tile(*level, *index, tile);
                    }
                }
                let state = Arc::new(HeadState {
                    head: commit.head,
                    edge,
                    nodes,
                });
                self.state = state.clone();
                self.publish.publish(state.clone());
                if let Some(observer) = &self.observer {
                    observer(BatchStats {
                        entries: leaves.len(),
                        commit_latency,
                        size: state.head.size,
                    });
                }
                let mut next = old_size;
                let mut leaves = leaves.into_iter();
                for (pending, span) in batch.into_iter().zip(spans) {
                    let appended = Appended {
                        first_index: next,
                        leaf_hashes: leaves.by_ref().take(span).collect(),
                        head: state.clone(),
                    };
                    next += span as u64;
                    let _ = pending.reply.send(Ok(appended));
                }
            }
            Err(StorageError::Withdrawn(id)) => {
                // Nothing was written (the transaction rolled back): commit the others again
                // without the append its forwarder gave up on.
                let mut entries = commit.entries.into_iter();
                let mut retry = Vec::with_capacity(batch.len());
                for (mut pending, span) in batch.into_iter().zip(spans) {
                    pending.entries = entries.by_ref().take(span).collect();
                    if pending.forwarded == Some(id) {
                        let _ = pending.reply.send(Err(AppendError::Unavailable(
                            "the forwarded append was withdrawn".into(),
                        )));
                    } else {
                        retry.push(pending);
                    }
                }
                if !retry.is_empty() {
                    Box::pin(self.commit(retry)).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, old_size, "log commit failed; batch not acknowledged");
                self.stale = true;
                let error = match e {
                    StorageError::Conflict { .. } => {
                        AppendError::Unavailable("another sequencer advanced the log; retry".into())
                    }
                    other => AppendError::Unavailable(other.to_string()),
                };
                for pending in batch {
                    let _ = pending.reply.send(Err(error.clone()));
                }
            }
        }
    }
}
