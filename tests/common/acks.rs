//! What clients were told about their appends, and checking that a log still honours it:
//! used by the crash and failover tests.

use std::collections::BTreeMap;

use clearinghouse::ledger::hash::{Hash, leaf_hash};
use clearinghouse::ledger::note::{Checkpoint, NoteVerifier, open_checkpoint};
use clearinghouse::ledger::proof::{verify_consistency, verify_inclusion};
use serde_json::Value;

use super::{ORIGIN, b64_hash, b64_hashes};

/// An acknowledged append: its index, leaf hash and the checkpoint handed out with it.
#[derive(Clone, Debug)]
pub struct Ack {
    pub index: u64,
    pub leaf: Hash,
    pub checkpoint: String,
}

impl Ack {
    /// From the `log` receipt of a write's answer.
    pub fn from_receipt(log: &Value) -> Ack {
        Ack {
            index: log["index"].as_u64().unwrap(),
            leaf: b64_hash(log["leaf_hash"].as_str().unwrap()),
            checkpoint: log["checkpoint"].as_str().unwrap().to_owned(),
        }
    }
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Check against the log at `base` that every acknowledged entry is there, byte for byte,
/// and included in the latest checkpoint, and that every checkpoint handed out is
/// consistent with it (no fork, no rollback). Returns the latest checkpoint and the notes
/// handed out, by size.
pub async fn check_acknowledged(
    client: &reqwest::Client,
    base: &str,
    verifier: &NoteVerifier,
    acks: &[Ack],
) -> (Checkpoint, BTreeMap<u64, String>) {
    let latest_note = client
        .get(format!("{base}/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let latest = open_checkpoint(&latest_note, verifier, ORIGIN).unwrap();
    assert!(latest.size >= acks.len() as u64);

    for ack in acks {
        let bytes = client
            .get(format!("{base}/log/entries/{}", ack.index))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(leaf_hash(&bytes), ack.leaf, "entry {} changed", ack.index);
        let proof = get_json(
            client,
            format!(
                "{base}/log/proof/inclusion?index={}&size={}",
                ack.index, latest.size
            ),
        )
        .await;
        let path = b64_hashes(proof["inclusion_path"].as_array().unwrap());
        verify_inclusion(ack.index, latest.size, &ack.leaf, &path, &latest.root).unwrap();
    }

    let handed_out: BTreeMap<u64, String> = acks
        .iter()
        .map(|a| {
            let cp = open_checkpoint(&a.checkpoint, verifier, ORIGIN).unwrap();
            (cp.size, a.checkpoint.clone())
        })
        .collect();
    for (size, note) in &handed_out {
        let old = open_checkpoint(note, verifier, ORIGIN).unwrap();
        let proof = get_json(
            client,
            format!(
                "{base}/log/proof/consistency?old={size}&new={}",
                latest.size
            ),
        )
        .await;
        let path = b64_hashes(proof["consistency_path"].as_array().unwrap());
        verify_consistency(old.size, latest.size, &old.root, &latest.root, &path)
            .unwrap_or_else(|e| panic!("checkpoint {size} is not a prefix of the latest: {e}"));
    }
    (latest, handed_out)
}

/// `clearinghouse verify` of the log at `base` from outside, against the oldest checkpoint
/// a client was handed (`dir` holds it as a file): the whole log verifies and only grew.
pub fn verify_from_oldest(
    dir: &std::path::Path,
    base: &str,
    vkey: &str,
    handed_out: &BTreeMap<u64, String>,
) {
    let previous = dir.join("oldest-checkpoint");
    std::fs::write(&previous, handed_out.values().next().unwrap()).unwrap();
    let (code, stdout, stderr) = super::run_cli(
        &[
            "verify",
            "--url",
            &format!("{base}/log"),
            "--key",
            vkey,
            "--previous",
            previous.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("VERDICT: OK"), "{stdout}");
}
