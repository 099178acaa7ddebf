//! Growing the log to the sizes the figures are taken at (100 k, 1 M, 10 M entries) with
//! synthetic history: refused decisions on a contract that does not exist, encoded,
//! hashed, stored, indexed and projected exactly as real ones, appended through the
//! sequencer in large batches.

use chrono::Utc;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::demo::bench::BenchFixture;
use crate::entry::{DecisionMade, encode, format_time};
use crate::http::AppState;

/// Entries per append call; several calls are in flight so the sequencer's batches fill.
const CHUNK: u64 = 8192;
const IN_FLIGHT: usize = 4;

/// The contract the synthetic decisions name (never agreed: each one is a refusal).
pub const FILLER_CONTRACT: &str = "urn:bench:filler";

fn filler(fixture: &BenchFixture, n: u64) -> Result<Vec<u8>, crate::entry::EntryError> {
    let now = Utc::now();
    encode(
        now,
        &DecisionMade {
            decision_id: uuid::Uuid::now_v7().to_string(),
            contract_id: FILLER_CONTRACT.to_owned(),
            agreement_sha256: hex::encode([0u8; 32]),
            requester: fixture.consumer.clone(),
            requester_kid: "bench-filler".into(),
            action: "use".into(),
            target: fixture.target.clone(),
            decision: "deny".into(),
            reasons: vec![format!("synthetic history entry {n}: no such contract")],
            context: Value::Object(serde_json::Map::new()),
            uses_before: 0,
            expires_at: format_time(now),
            anchors_version: "bench".into(),
        },
    )
}

/// Append synthetic entries until the log holds `size` entries; `progress` hears the size
/// now and then.
pub async fn fill_to(
    state: &AppState,
    fixture: &BenchFixture,
    size: u64,
    progress: impl Fn(u64),
) -> anyhow::Result<()> {
    let mut next = state.journal.reader().head().head.size;
    let mut running = JoinSet::new();
    let mut reported = next;
    while next < size || !running.is_empty() {
        while next < size && running.len() < IN_FLIGHT {
            let count = CHUNK.min(size - next);
            let entries = (next..next + count)
                .map(|n| filler(fixture, n))
                .collect::<Result<Vec<_>, _>>()?;
            let journal = state.journal.clone();
            running.spawn(async move { journal.append_unreceipted(entries).await });
            next += count;
        }
        if let Some(done) = running.join_next().await {
            let appended = done??;
            let now = appended.head.head.size;
            if now >= reported + 500_000 {
                progress(now);
                reported = now;
            }
        }
    }
    Ok(())
}
