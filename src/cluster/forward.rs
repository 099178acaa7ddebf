//! Appends that travel through the database between processes.
//!
//! A follower inserts its entries into `forwarded_appends` and waits until the leader has
//! committed them (the row then carries the first index, written in the commit's own
//! transaction). The leader's feeder hands pending rows to its sequencer. If no leader
//! commits the row in time, the follower withdraws it, and only reports failure once the
//! withdrawal succeeded: an append is never both refused and logged.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ledger::hash::leaf_hash;
use crate::ledger::publish::HeadPublisher;
use crate::ledger::sequencer::{AppendError, Appended, SequencerHandle, check_entries};
use crate::store::Store;
use crate::store::cluster::ForwardedOutcome;

/// Pending rows the feeder reads per round.
const FEED_BATCH: u32 = 512;
/// How often the feeder looks for pending rows when there were none and no notification
/// woke it (notifications are best effort; on SQLite there are none).
const FEED_IDLE: Duration = Duration::from_millis(200);
/// How long a settled row is kept for a forwarder that died before reading it.
const SETTLED_RETENTION_MS: i64 = 10 * 60 * 1000;
/// Age after which the leader refuses a pending row rather than commit it: its forwarder
/// (waiting at most the forward timeout, well below this) is gone, crashed or was cut off,
/// and its caller was not told it succeeded. Compared with the row's timestamp, written by
/// another process's clock: keep replicas' clocks in sync (NTP) well within this.
pub const ROW_EXPIRY: Duration = Duration::from_secs(60);
/// Longest pause between two looks at a forwarded append's row.
const POLL_MAX: Duration = Duration::from_millis(20);

/// Append `entries` through the leader; returns once they are durable, like
/// [`SequencerHandle::append`], with the head that includes them.
///
/// Runs as a task of its own: a request cancelled mid-wait (client gone, request timeout)
/// must still withdraw its row, or the entry could be logged after its caller was told
/// it failed and tried again.
pub async fn append(
    store: &Store,
    publisher: &Arc<HeadPublisher>,
    entries: Vec<Vec<u8>>,
    timeout: Duration,
) -> Result<Appended, AppendError> {
    check_entries(&entries)?;
    let (store, publisher) = (store.clone(), publisher.clone());
    tokio::spawn(async move { wait_for_leader(&store, &publisher, entries, timeout).await })
        .await
        .map_err(|e| AppendError::Unavailable(format!("forwarding task failed: {e}")))?
}

async fn wait_for_leader(
    store: &Store,
    publisher: &HeadPublisher,
    entries: Vec<Vec<u8>>,
    timeout: Duration,
) -> Result<Appended, AppendError> {
    let id = store
        .forward_append(&entries)
        .await
        .map_err(|e| AppendError::Unavailable(e.to_string()))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let first_index = loop {
        // A failed look is no answer (the row may still be committed): look again.
        match store.forwarded_outcome(id).await {
            Ok(ForwardedOutcome::Appended(index)) => break index,
            Ok(ForwardedOutcome::Failed(reason)) => {
                let _ = store.forget_forwarded(id).await;
                return Err(AppendError::Unavailable(reason));
            }
            Ok(ForwardedOutcome::Missing) => {
                return Err(AppendError::Unavailable(
                    "the forwarded append vanished from the database".into(),
                ));
            }
            Ok(ForwardedOutcome::Pending) => {}
            Err(e) => tracing::warn!(error = %e, id, "cannot read a forwarded append"),
        }
        if tokio::time::Instant::now() >= deadline {
            match store.withdraw_forwarded(id).await {
                Ok(true) => {
                    return Err(AppendError::Unavailable(format!(
                        "no sequencer committed the append within {timeout:?} (no leader?); \
                         it was withdrawn and is not in the log"
                    )));
                }
                // Committed or refused between the last look and the withdrawal.
                Ok(false) => continue,
                Err(e) if deadline.elapsed() < timeout => {
                    tracing::warn!(error = %e, id, "cannot withdraw a forwarded append; retrying");
                }
                Err(e) => {
                    // Expired rows are refused by the leader (see `Feeder`), so it will
                    // not be logged later either; but say what is known.
                    return Err(AppendError::Unavailable(format!(
                        "forwarded append {id} could be neither confirmed nor withdrawn ({e}); \
                         it expires unlogged unless a leader commits it within {ROW_EXPIRY:?}"
                    )));
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_MAX);
    };
    // The head moved to include the entries in the same transaction as the row got its
    // index. The entries are logged now: keep reading rather than report a failure.
    let end = first_index + entries.len() as u64;
    let mut pause = POLL_MAX;
    let head = loop {
        match publisher.refresh(store).await {
            Ok(head) if head.head.size >= end => break head,
            Ok(head) => tracing::error!(
                size = head.head.size,
                end,
                "the log head is behind a committed forwarded append"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot read the head after a forwarded append"),
        }
        if tokio::time::Instant::now() >= deadline + timeout {
            return Err(AppendError::Unavailable(format!(
                "logged at index {first_index}, but the head including it cannot be read"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    };
    let _ = store.forget_forwarded(id).await;
    Ok(Appended {
        first_index,
        leaf_hashes: entries.iter().map(|e| leaf_hash(e)).collect(),
        head,
    })
}

/// The leader's feeder: hands pending forwarded rows to the sequencer until stopped.
pub struct Feeder {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Feeder {
    pub fn start(store: Store, sequencer: SequencerHandle) -> Feeder {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(feed(store, sequencer, stopped));
        Feeder { task, stop }
    }

    /// Stop taking rows; those handed over already are committed by the sequencer.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

async fn feed(store: Store, sequencer: SequencerHandle, mut stop: watch::Receiver<bool>) {
    // Rows handed to the sequencer and not answered yet: not to be handed twice.
    let in_flight: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let mut last_prune = tokio::time::Instant::now();
    let mut listener = match store.forwarded_listener().await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "no notifications of forwarded appends; polling");
            None
        }
    };
    let mut last_expiry: Option<tokio::time::Instant> = None;
    loop {
        if last_expiry.is_none_or(|at| at.elapsed() > Duration::from_secs(5)) {
            last_expiry = Some(tokio::time::Instant::now());
            let before = crate::clock::now().timestamp_millis() - ROW_EXPIRY.as_millis() as i64;
            match store.expire_forwarded(before).await {
                Ok(0) => {}
                Ok(expired) => {
                    tracing::warn!(expired, "refused forwarded appends nobody waits for")
                }
                Err(e) => tracing::warn!(error = %e, "cannot expire forwarded appends"),
            }
        }
        let fed = match store.pending_forwarded(FEED_BATCH).await {
            Ok(rows) => hand_over(rows, &store, &sequencer, &in_flight),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read forwarded appends");
                0
            }
        };
        if last_prune.elapsed() > Duration::from_secs(60) {
            last_prune = tokio::time::Instant::now();
            let before = crate::clock::now().timestamp_millis() - SETTLED_RETENTION_MS;
            if let Err(e) = store.prune_forwarded(before).await {
                tracing::warn!(error = %e, "cannot prune forwarded appends");
            }
        }
        if fed > 0 {
            // More may be waiting beyond this round's batch.
            tokio::task::yield_now().await;
            if *stop.borrow() {
                return;
            }
            continue;
        }
        let woken = async {
            match &mut listener {
                Some(listener) => {
                    if listener.recv().await.is_err() {
                        // The listener reconnects by itself; poll meanwhile.
                        tokio::time::sleep(FEED_IDLE).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = woken => {}
            () = tokio::time::sleep(FEED_IDLE) => {}
        }
    }
}

/// Hand the rows not already in flight to the sequencer; returns how many were handed.
fn hand_over(
    rows: Vec<(i64, Vec<Vec<u8>>)>,
    store: &Store,
    sequencer: &SequencerHandle,
    in_flight: &Arc<Mutex<HashSet<i64>>>,
) -> usize {
    let mut fed = 0;
    for (id, entries) in rows {
        let fresh = in_flight
            .lock()
            .map(|mut set| set.insert(id))
            .unwrap_or(false);
        if !fresh {
            continue;
        }
        fed += 1;
        let (store, sequencer, in_flight) = (store.clone(), sequencer.clone(), in_flight.clone());
        tokio::spawn(async move {
            match sequencer.append_forwarded(id, entries).await {
                // The forwarder reads the index from the row, written in the commit.
                Ok(_) => {}
                // Never acceptable: tell the forwarder instead of retrying forever.
                Err(e @ (AppendError::TooLarge(_) | AppendError::Empty)) => {
                    if let Err(error) = store.fail_forwarded(id, &e.to_string()).await {
                        tracing::warn!(%error, id, "cannot refuse a forwarded append");
                    }
                }
                // Transient (or withdrawn): the row stays pending and is tried again.
                Err(e) => tracing::debug!(error = %e, id, "forwarded append not committed"),
            }
            if let Ok(mut set) = in_flight.lock() {
                set.remove(&id);
            }
        });
    }
    fed
}
