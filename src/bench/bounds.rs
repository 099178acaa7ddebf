//! The machine's physical bounds, measured in the same run as the figures they frame: how
//! many Ed25519 signatures one core verifies per second (every receipt and connector
//! assertion costs one) and how many RFC 6962 node hashes one core computes per second
//! (every appended entry costs a leaf hash and about one node hash; a proof costs log2(n)).

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey, Verifier};

use crate::ledger::hash::{leaf_hash, node_hash};

/// Bounds of one core.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Bounds {
    pub ed25519_verify_per_second: f64,
    pub sha256_node_hash_per_second: f64,
}

/// Run `step` in rounds for about `budget`; returns calls per second.
fn rate(budget: Duration, mut step: impl FnMut(u64)) -> f64 {
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < budget {
        for _ in 0..256 {
            step(calls);
            calls += 1;
        }
    }
    calls as f64 / started.elapsed().as_secs_f64()
}

/// Measure both bounds on the calling thread, `budget` each.
pub fn measure(budget: Duration) -> Bounds {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let message = b"{\"transfer_id\":\"urn:uuid:0\",\"bytes\":1048576}".to_vec();
    let signature = key.sign(&message);
    let ed25519_verify_per_second = rate(budget, |_| {
        let ok = public
            .verify(black_box(&message), black_box(&signature))
            .is_ok();
        black_box(ok);
    });
    let mut node = leaf_hash(b"entry");
    let sha256_node_hash_per_second = rate(budget, |_| {
        node = node_hash(black_box(&node), black_box(&node));
    });
    black_box(node);
    Bounds {
        ed25519_verify_per_second,
        sha256_node_hash_per_second,
    }
}
