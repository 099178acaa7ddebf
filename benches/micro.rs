//! Micro-benchmarks of the hot paths under the published figures (`clearinghouse bench`
//! measures the whole service). Plain timing loops, no framework: `cargo bench` prints
//! nanoseconds per operation for each; `valgrind --tool=callgrind` on the built bench gives
//! repeatable instruction counts (README, Performance).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::Utc;
use clearinghouse::entry::{DecisionMade, decode, encode};
use clearinghouse::ledger::hash::{Hash, leaf_hash, node_hash};
use clearinghouse::ledger::proof::verify_inclusion;
use clearinghouse::ledger::tree::{RightEdge, inclusion_ranges, range_hashes};
use clearinghouse::odrl::{Context, Policy, Request};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

/// Time `op` over about half a second; print and return nanoseconds per call.
fn measure(name: &str, mut op: impl FnMut()) -> f64 {
    let budget = Duration::from_millis(500);
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < budget {
        for _ in 0..64 {
            op();
        }
        calls += 64;
    }
    let ns = started.elapsed().as_nanos() as f64 / calls as f64;
    println!("{name:<48} {ns:>12.0} ns/op {:>14.0} op/s", 1e9 / ns);
    ns
}

fn decision(n: u64) -> DecisionMade {
    DecisionMade {
        decision_id: format!("0190c3b2-7f5e-7a4c-9d2e-{n:012}"),
        contract_id: "https://data.example-territoire.fr/contracts/2026-0001".into(),
        agreement_sha256: hex_of(n),
        requester: "732829320".into(),
        requester_kid: "urn:ietf:params:oauth:jwk-thumbprint:sha-256:Zm9v".into(),
        action: "use".into(),
        target: "https://data.example-territoire.fr/dataset/comptages-velo".into(),
        decision: "permit".into(),
        reasons: vec!["agreement: permission 0 (use) applies".into()],
        context: json!({}),
        uses_before: n,
        expires_at: "2026-12-02T10:05:00Z".into(),
        anchors_version: hex_of(n + 1),
    }
}

fn hex_of(n: u64) -> String {
    format!("{:064x}", n)
}

fn main() {
    // Hashing: the bound of appending and of verifying.
    let entry = encode(Utc::now(), &decision(1)).expect("entry encodes");
    measure(
        &format!("leaf hash ({}-byte decision entry)", entry.len()),
        || {
            black_box(leaf_hash(black_box(&entry)));
        },
    );
    let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
    measure("node hash (RFC 6962)", || {
        black_box(node_hash(black_box(&a), black_box(&b)));
    });

    // Entries: what the sequencer's callers and the verifier do per entry.
    let body = decision(7);
    measure("encode decision.made (canonical JSON)", || {
        black_box(encode(Utc::now(), black_box(&body)).ok());
    });
    measure("decode + check decision.made", || {
        black_box(decode(black_box(&entry)).is_ok());
    });

    // The tree: appending a batch, serving and checking a proof.
    let leaves: Vec<Hash> = (0..65_536u64)
        .map(|n| leaf_hash(&n.to_be_bytes()))
        .collect();
    let mut edge = RightEdge::empty();
    let mut tiles: BTreeMap<(u8, u64), Vec<Hash>> = BTreeMap::new();
    for write in edge.append(&leaves) {
        tiles.insert((write.level, write.index), write.hashes);
    }
    let size = edge.size();
    let root = edge.root();
    let per_batch = measure("right edge: append 1 024 leaves", || {
        let mut e = RightEdge::empty();
        black_box(e.append(black_box(&leaves[..1024])));
    });
    println!("{:<48} {:>12.0} ns/op", "  (per leaf)", per_batch / 1024.0);
    let mut n = 0u64;
    measure("inclusion proof from tiles (65 536 leaves)", || {
        n = (n + 7919) % size;
        black_box(range_hashes(&inclusion_ranges(n, size), &tiles).ok());
    });
    let proof =
        range_hashes(&inclusion_ranges(12_345, size), &tiles).expect("tiles hold the proof");
    measure("verify inclusion proof (16 hashes)", || {
        black_box(
            verify_inclusion(12_345, size, &leaves[12_345], black_box(&proof), &root).is_ok(),
        );
    });

    // Signatures: one verification per receipt and per client assertion, one signature
    // per decision token.
    let key = SigningKey::from_bytes(&[9; 32]);
    let message = entry.clone();
    let signature = key.sign(&message);
    let public = key.verifying_key();
    measure("Ed25519 sign", || {
        black_box(key.sign(black_box(&message)));
    });
    measure("Ed25519 verify", || {
        black_box(
            public
                .verify_strict(black_box(&message), &signature)
                .is_ok(),
        );
    });

    // ODRL: a decision's evaluation, policy parsed once (cached by agreement hash).
    let agreement: Value = json!({
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Agreement",
        "uid": "https://data.example-territoire.fr/contracts/2026-0001",
        "profile": "https://w3id.org/ecd-clearinghouse/odrl#profile",
        "assigner": "urn:siren:216901231",
        "assignee": "urn:siren:732829320",
        "permission": [{
            "target": "https://data.example-territoire.fr/dataset/comptages-velo",
            "action": "use",
            "constraint": [{"leftOperand": "count", "operator": "lteq",
                            "rightOperand": {"@value": "1000", "@type": "xsd:integer"}}]
        }]
    });
    let policy = Policy::from_json(&agreement).expect("the agreement parses");
    let context = Context::from_json(
        json!({"count": 17, "dateTime": "2026-12-02T10:00:00Z"})
            .as_object()
            .expect("an object"),
    )
    .expect("the context parses");
    let request = Request::new("use")
        .with_target("https://data.example-territoire.fr/dataset/comptages-velo")
        .with_assignee("urn:siren:732829320")
        .with_context(context);
    measure("ODRL evaluate (count-limited agreement)", || {
        black_box(policy.evaluate(black_box(&request)));
    });
}
