//! Several `serve` processes on one PostgreSQL database: who runs the sequencer.
//!
//! Every process serves reads, decisions and writes. Exactly one, the leader, runs the
//! sequencer (and asks the witnesses to cosign); it is whoever holds the election's
//! advisory lock (`store::cluster`). Followers hand their appends to the leader through
//! the database ([`forward`]) and follow the committed head from storage.
//!
//! Failover needs no coordination beyond the lock: when the leader dies, PostgreSQL drops
//! its session and the lock with it, and a follower's next attempt (every
//! [`ELECTION_INTERVAL`]) wins it, loads the head from storage and starts sequencing,
//! including the appends other followers forwarded meanwhile. No fork is possible even if
//! two processes briefly both believe they lead: every commit is a compare-and-swap on the
//! stored head (`ledger::storage`), so a stale leader's commit fails and changes nothing.
//!
//! On SQLite (one process) there is no election: the process leads from the start.

pub mod forward;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ledger::note::NoteSigner;
use crate::ledger::publish::HeadPublisher;
use crate::ledger::reader::LogReader;
use crate::ledger::sequencer::{self, BatchObserver, RunningSequencer, SequencerConfig};
use crate::store::Store;
use crate::store::cluster::Election;
use crate::witness::client::{self as witness_client, Collectors, Cosignatures, WitnessTarget};

/// How often a follower tries to become the leader, and the leader checks it still is.
pub const ELECTION_INTERVAL: Duration = Duration::from_millis(500);
/// How often a follower reads the committed head (how stale its reads may be).
const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);
/// How long a leader stepping down (or shutting down) lets its sequencer commit what it
/// was handed.
const STEP_DOWN_DRAIN: Duration = Duration::from_secs(30);

/// How this process gets entries into the log, as it stands now.
#[derive(Clone)]
pub enum AppendRoute {
    /// This process leads: its own sequencer.
    Sequencer(sequencer::SequencerHandle),
    /// Another process leads: through the database.
    Forward,
    /// No way to the log (the database is unreachable): appends are refused.
    Unavailable,
}

impl AppendRoute {
    /// `leader`, `follower` or `none`, for readiness and metrics.
    pub fn role(&self) -> &'static str {
        match self {
            AppendRoute::Sequencer(_) => "leader",
            AppendRoute::Forward => "follower",
            AppendRoute::Unavailable => "none",
        }
    }
}

/// Everything the leader needs to start sequencing.
pub struct ClusterParts {
    pub store: Store,
    pub election: Option<Election>,
    pub signer: Arc<NoteSigner>,
    pub origin: String,
    pub sequencer: SequencerConfig,
    pub publisher: Arc<HeadPublisher>,
    pub reader: Arc<LogReader<Store>>,
    pub witnesses: Vec<WitnessTarget>,
    pub cosignatures: Arc<Cosignatures>,
    pub observer: Option<BatchObserver>,
}

/// The running election task.
pub struct Cluster {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Cluster {
    /// Take part in the election (deciding this process's role before returning, so the
    /// service starts as leader or follower, never undecided) and keep taking part.
    pub async fn start(parts: ClusterParts) -> (Cluster, watch::Receiver<AppendRoute>) {
        let (route_tx, route) = watch::channel(AppendRoute::Unavailable);
        let (stop, stopped) = watch::channel(false);
        let mut member = Member {
            parts,
            route: route_tx,
            leading: None,
        };
        member.round().await;
        let task = tokio::spawn(member.run(stopped));
        (Cluster { task, stop }, route)
    }

    /// Leave: a leader commits what its sequencer holds, then gives the lock up.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

/// What runs while this process leads.
struct Leading {
    sequencer: RunningSequencer,
    feeder: forward::Feeder,
    collectors: Collectors,
}

struct Member {
    parts: ClusterParts,
    route: watch::Sender<AppendRoute>,
    leading: Option<Leading>,
}

impl Member {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut last_election = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(FOLLOW_INTERVAL) => {}
            }
            if last_election.elapsed() >= ELECTION_INTERVAL {
                last_election = tokio::time::Instant::now();
                self.round().await;
            }
            if self.leading.is_none() {
                self.follow().await;
            }
        }
        if self.leading.is_some() {
            tracing::info!("shutting down: committing what the sequencer holds");
            self.step_down().await;
        }
        if let Some(election) = &mut self.parts.election {
            election.resign();
        }
    }

    /// One election round: lead, keep leading, follow, or stop writing.
    async fn round(&mut self) {
        let outcome = match &mut self.parts.election {
            None => Ok(true),
            Some(election) => election.try_lead().await,
        };
        match outcome {
            Ok(true) if self.leading.is_none() => self.lead().await,
            Ok(true)
                if self
                    .leading
                    .as_ref()
                    .is_some_and(|leading| leading.sequencer.is_finished()) =>
            {
                // The sequencer ended on its own (it should not): let another process lead.
                tracing::error!("the sequencer stopped while leading; resigning");
                self.step_down().await;
                if let Some(election) = &mut self.parts.election {
                    election.resign();
                }
                self.set_route(AppendRoute::Unavailable);
            }
            Ok(true) => {}
            Ok(false) => {
                if self.leading.is_some() {
                    tracing::warn!("another process holds the sequencer lock; following");
                    self.step_down().await;
                }
                self.set_route(AppendRoute::Forward);
            }
            Err(e) => {
                // Neither leading nor sure anyone does: refuse writes until it is clear.
                tracing::error!(error = %e, "sequencer election failed; refusing appends");
                self.step_down().await;
                self.set_route(AppendRoute::Unavailable);
            }
        }
    }

    /// Won the lock: start from the committed head, sequence, feed, collect cosignatures.
    async fn lead(&mut self) {
        if let Err(e) = self.parts.publisher.refresh(&self.parts.store).await {
            tracing::error!(error = %e, "cannot load the log head; not leading");
            if let Some(election) = &mut self.parts.election {
                election.resign();
            }
            self.set_route(AppendRoute::Unavailable);
            return;
        }
        let parts = &self.parts;
        let (handle, sequencer) = sequencer::start(
            Arc::new(parts.store.clone()),
            parts.signer.clone(),
            parts.origin.clone(),
            parts.sequencer.clone(),
            parts.publisher.clone(),
            parts.reader.clone(),
            parts.observer.clone(),
        );
        let feeder = forward::Feeder::start(parts.store.clone(), handle.clone());
        let collectors = witness_client::start(
            parts.witnesses.clone(),
            parts.reader.clone(),
            parts.cosignatures.clone(),
        );
        tracing::info!(
            size = parts.publisher.current().head.size,
            "leading: this process runs the sequencer"
        );
        crate::metrics::sequencer_leader(true);
        self.leading = Some(Leading {
            sequencer,
            feeder,
            collectors,
        });
        self.set_route(AppendRoute::Sequencer(handle));
    }

    async fn step_down(&mut self) {
        let Some(leading) = self.leading.take() else {
            return;
        };
        // New writes go elsewhere first; then what was handed over is committed (or
        // refused by the compare-and-swap if another leader already moved the head).
        self.set_route(AppendRoute::Unavailable);
        leading.feeder.stop().await;
        leading.collectors.stop();
        leading.sequencer.stop(STEP_DOWN_DRAIN).await;
        crate::metrics::sequencer_leader(false);
    }

    /// A follower's round: catch up with the committed head and the cosignatures.
    async fn follow(&mut self) {
        let parts = &self.parts;
        match parts.publisher.refresh(&parts.store).await {
            Ok(head) => crate::metrics::log_size(head.head.size),
            Err(e) => tracing::warn!(error = %e, "cannot read the log head"),
        }
        if let Err(e) = parts.cosignatures.reload(&parts.store).await {
            tracing::warn!(error = %e, "cannot read witness cosignatures");
        }
    }

    fn set_route(&self, route: AppendRoute) {
        self.route.send_if_modified(|current| {
            let changed = current.role() != route.role();
            if changed {
                tracing::info!(from = current.role(), to = route.role(), "append route");
            }
            *current = route;
            changed
        });
    }
}
