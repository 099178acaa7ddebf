//! Inclusion and consistency proofs from an untrusted log: never a panic, whatever the
//! sizes, indexes and hashes.
#![no_main]

use clearinghouse::ledger::proof::{root_from_inclusion_proof, verify_consistency};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 48 {
        return;
    }
    let number = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap_or([0; 8]));
    let (a, b) = (number(0), number(8));
    let mut leaf = [0u8; 32];
    leaf.copy_from_slice(&data[16..48]);
    let path: Vec<[u8; 32]> = data[48..]
        .chunks_exact(32)
        .map(|c| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(c);
            hash
        })
        .collect();
    let _ = root_from_inclusion_proof(a, b, &leaf, &path);
    let _ = verify_consistency(a, b, &leaf, &leaf, &path);
});
