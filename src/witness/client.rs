//! The log's side: ask the configured witnesses to cosign each new checkpoint.
//!
//! One task per witness follows the published head. For each new checkpoint it sends
//! `add-checkpoint` with the consistency proof from the size the witness is known to hold;
//! a 409 tells it the witness's real size, and it retries from there at once. Other
//! failures back off exponentially (up to a minute), and a newer checkpoint replaces the
//! one being retried. Appends never wait for any of this: the sequencer publishes on a
//! `watch` channel, which keeps only the latest head, so a slow witness costs one pending
//! checkpoint, not a queue.
//!
//! Each witness's latest cosignature is kept in memory and in the database
//! (`witness_cosignatures`); `GET /log/checkpoint` appends to the current checkpoint the
//! lines of the witnesses that cosigned exactly that checkpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ledger::hash::Hash;
use crate::ledger::note::{Note, NoteVerifier};
use crate::ledger::reader::{HeadState, LogReader};
use crate::ledger::witness::verify_cosignature;
use crate::store::Store;
use crate::store::witness::WitnessRecord;

/// Longest one `add-checkpoint` request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// First and longest wait after a failed submission.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// 409 answers followed in a row before the attempt counts as failed.
const MAX_CONFLICTS: usize = 3;

/// A witness the service asks to cosign.
#[derive(Debug, Clone)]
pub struct WitnessTarget {
    /// Base URL; requests go to `<url>/add-checkpoint`.
    pub url: String,
    pub verifier: NoteVerifier,
}

/// Why a submission did not return a cosignature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// 409: the witness holds another size; retry with a proof from it.
    #[error("the witness holds size {0}")]
    Conflict(u64),
    /// Any other refusal (400, 403, 404, 422…), with the witness's message.
    #[error("the witness refused ({status}): {body}")]
    Refused { status: u16, body: String },
    #[error("cannot reach the witness: {0}")]
    Transport(String),
    /// The answer is not a valid cosignature by this witness on this checkpoint.
    #[error("bad answer from the witness: {0}")]
    BadResponse(String),
}

/// The body of an `add-checkpoint` request.
pub fn add_checkpoint_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&B64.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Send one `add-checkpoint` request; returns the witness's verified cosignature line.
pub async fn submit(
    client: &reqwest::Client,
    witness: &WitnessTarget,
    old: u64,
    proof: &[Hash],
    note: &str,
) -> Result<String, SubmitError> {
    let url = format!("{}/add-checkpoint", witness.url.trim_end_matches('/'));
    let response = client
        .post(&url)
        .timeout(REQUEST_TIMEOUT)
        .body(add_checkpoint_body(old, proof, note))
        .send()
        .await
        .map_err(|e| SubmitError::Transport(e.to_string()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| SubmitError::Transport(e.to_string()))?;
    if status == reqwest::StatusCode::CONFLICT {
        let size = body
            .trim_end_matches('\n')
            .parse()
            .map_err(|_| SubmitError::BadResponse(format!("409 with body {body:?}")))?;
        return Err(SubmitError::Conflict(size));
    }
    if !status.is_success() {
        return Err(SubmitError::Refused {
            status: status.as_u16(),
            body: body.chars().take(200).collect(),
        });
    }
    // Keep the one line by this witness, and check it before storing it.
    let line = body
        .split_inclusive('\n')
        .find(|line| {
            line.strip_prefix("\u{2014} ")
                .and_then(|rest| rest.split_once(' '))
                .is_some_and(|(name, _)| name == witness.verifier.name())
        })
        .ok_or_else(|| SubmitError::BadResponse("no cosignature line by this witness".into()))?
        .to_owned();
    let line = if line.ends_with('\n') {
        line
    } else {
        format!("{line}\n")
    };
    let cosigned = Note::parse(&format!("{note}{line}"))
        .map_err(|e| SubmitError::BadResponse(e.to_string()))?;
    verify_cosignature(&cosigned, &witness.verifier)
        .map_err(|e| SubmitError::BadResponse(e.to_string()))?;
    Ok(line)
}

/// The latest cosignature of each witness, shared by the collector tasks and the handlers.
#[derive(Debug, Default)]
pub struct Cosignatures {
    // std RwLock, not tokio's: never held across an `.await`.
    by_witness: RwLock<BTreeMap<String, WitnessRecord>>,
    /// Configured order of the witnesses (their vkeys), for a stable output.
    order: Vec<String>,
    /// How many cosignatures the operator expects on each checkpoint.
    pub quorum: usize,
}

impl Cosignatures {
    /// Load what the database holds for the configured witnesses.
    pub async fn load(
        store: &Store,
        witnesses: &[WitnessTarget],
        quorum: usize,
    ) -> Result<Cosignatures, crate::store::StoreError> {
        let order: Vec<String> = witnesses.iter().map(|w| w.verifier.vkey()).collect();
        let by_witness = store
            .witness_records()
            .await?
            .into_iter()
            .filter(|record| order.contains(&record.witness))
            .map(|record| (record.witness.clone(), record))
            .collect();
        Ok(Cosignatures {
            by_witness: RwLock::new(by_witness),
            order,
            quorum,
        })
    }

    /// Read the cosignatures again from the database: a follower serves what the leader's
    /// collectors stored.
    pub async fn reload(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        let records = store.witness_records().await?;
        if let Ok(mut map) = self.by_witness.write() {
            for record in records {
                if self.order.contains(&record.witness) {
                    map.insert(record.witness.clone(), record);
                }
            }
        }
        Ok(())
    }

    fn record(&self, witness: &str) -> Option<WitnessRecord> {
        self.by_witness.read().ok()?.get(witness).cloned()
    }

    fn set(&self, record: WitnessRecord) {
        if let Ok(mut map) = self.by_witness.write() {
            map.insert(record.witness.clone(), record);
        }
    }

    /// The cosignature lines on exactly `checkpoint`, in the configured witness order.
    pub fn lines_for(&self, checkpoint: &str) -> Vec<String> {
        let Ok(map) = self.by_witness.read() else {
            return Vec::new();
        };
        self.order
            .iter()
            .filter_map(|w| map.get(w))
            .filter(|record| record.checkpoint == checkpoint)
            .map(|record| record.cosignature.clone())
            .collect()
    }

    /// `checkpoint` with the cosignatures it has.
    pub fn cosigned(&self, checkpoint: &str) -> String {
        let mut note = checkpoint.to_owned();
        for line in self.lines_for(checkpoint) {
            note.push_str(&line);
        }
        note
    }
}

/// The collector tasks; they end when the published head's sender is dropped, or on abort.
pub struct Collectors {
    tasks: Vec<JoinHandle<()>>,
}

impl Collectors {
    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Start one collector task per witness.
pub fn start(
    witnesses: Vec<WitnessTarget>,
    reader: Arc<LogReader<Store>>,
    cosignatures: Arc<Cosignatures>,
) -> Collectors {
    let client = reqwest::Client::builder()
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap_or_default();
    let tasks = witnesses
        .into_iter()
        .map(|witness| {
            let collector = Collector {
                witness,
                client: client.clone(),
                reader: reader.clone(),
                cosignatures: cosignatures.clone(),
            };
            tokio::spawn(collector.run(reader.subscribe()))
        })
        .collect();
    Collectors { tasks }
}

struct Collector {
    witness: WitnessTarget,
    client: reqwest::Client,
    reader: Arc<LogReader<Store>>,
    cosignatures: Arc<Cosignatures>,
}

impl Collector {
    async fn run(self, mut heads: watch::Receiver<Arc<HeadState>>) {
        let vkey = self.witness.verifier.vkey();
        // The size the witness is known to hold: from its last cosignature, else 0 until it
        // tells us otherwise (409).
        let mut known = self.cosignatures.record(&vkey).map_or(0, |r| r.size);
        let mut backoff = BACKOFF_MIN;
        loop {
            let head = heads.borrow_and_update().clone();
            let done = self
                .cosignatures
                .record(&vkey)
                .is_some_and(|r| r.checkpoint == head.head.checkpoint);
            let wait = if done {
                None
            } else {
                match self.attempt(&head, &mut known).await {
                    Ok(()) => {
                        backoff = BACKOFF_MIN;
                        None
                    }
                    Err(e) => {
                        let cosigned = self.cosignatures.lines_for(&head.head.checkpoint).len();
                        tracing::warn!(
                            witness = %self.witness.url, size = head.head.size, error = %e,
                            retry_in = ?backoff, cosigned, quorum = self.cosignatures.quorum,
                            "witness did not cosign{}",
                            if cosigned < self.cosignatures.quorum {
                                "; the checkpoint is below the witness quorum"
                            } else {
                                ""
                            }
                        );
                        let wait = backoff;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        Some(wait)
                    }
                }
            };
            match wait {
                // Retry after the backoff, or sooner with a newer checkpoint.
                Some(wait) => {
                    tokio::select! {
                        changed = heads.changed() => if changed.is_err() { return },
                        () = tokio::time::sleep(wait) => {}
                    }
                }
                None => {
                    if heads.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn attempt(&self, head: &HeadState, known: &mut u64) -> Result<(), SubmitError> {
        let size = head.head.size;
        for _ in 0..MAX_CONFLICTS {
            if *known > size {
                return Err(SubmitError::BadResponse(format!(
                    "the witness holds size {known}, beyond this log's {size}"
                )));
            }
            let proof = self
                .reader
                .consistency_proof(*known, size)
                .await
                .map_err(|e| SubmitError::Transport(format!("reading the proof: {e}")))?;
            match submit(
                &self.client,
                &self.witness,
                *known,
                &proof,
                &head.head.checkpoint,
            )
            .await
            {
                Ok(line) => {
                    let record = WitnessRecord {
                        witness: self.witness.verifier.vkey(),
                        size,
                        checkpoint: head.head.checkpoint.clone(),
                        cosignature: line,
                    };
                    *known = size;
                    if let Err(e) = self.reader.storage().put_witness_record(&record).await {
                        // Still served from memory; the next checkpoint tries again.
                        tracing::warn!(error = %e, "cannot store a cosignature");
                    }
                    self.cosignatures.set(record);
                    return Ok(());
                }
                Err(SubmitError::Conflict(theirs)) => *known = theirs,
                Err(e) => return Err(e),
            }
        }
        Err(SubmitError::Conflict(*known))
    }
}
