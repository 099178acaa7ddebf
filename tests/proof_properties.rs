//! Property tests: roots and inclusion proofs agree with `rs_merkle` (an independent
//! implementation, configured with RFC 6962 hashing), every consistency proof verifies, and
//! proofs for a wrong size, index or root are rejected.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use clearinghouse::ledger::hash::{Hash, leaf_hash, node_hash};
use clearinghouse::ledger::proof::{verify_consistency, verify_inclusion};
use clearinghouse::ledger::tree::{RightEdge, consistency_ranges, inclusion_ranges, range_hashes};
use proptest::prelude::*;
use rs_merkle::{Hasher, MerkleTree};

/// RFC 6962 interior hashing for rs_merkle; a lone left node is promoted unchanged, which
/// is what gives RFC 6962's shape.
#[derive(Clone)]
struct Rfc6962;

impl Hasher for Rfc6962 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        // Only used for interior nodes via concat_and_hash below; leaves are pre-hashed.
        <sha2::Sha256 as sha2::Digest>::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => node_hash(left, right),
            None => *left,
        }
    }
}

struct Fixture {
    leaves: Vec<Hash>,
    tiles: BTreeMap<(u8, u64), Vec<Hash>>,
}

fn fixture(n: usize) -> Fixture {
    let leaves: Vec<Hash> = (0..n)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect();
    let mut edge = RightEdge::empty();
    let mut tiles = BTreeMap::new();
    for chunk in leaves.chunks(53) {
        for write in edge.append(chunk) {
            tiles.insert((write.level, write.index), write.hashes);
        }
    }
    Fixture { leaves, tiles }
}

fn root_at(f: &Fixture, size: u64) -> Hash {
    let mut edge = RightEdge::empty();
    edge.append(&f.leaves[..size as usize]);
    edge.root()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Roots and inclusion proofs agree with rs_merkle and verify; tampering is rejected.
    #[test]
    fn inclusion_agrees_with_rs_merkle(n in 1usize..1500, pick in any::<prop::sample::Index>()) {
        // One extra leaf, so the tree of size + 1 exists to test a wrong size against.
        let f = fixture(n + 1);
        let size = n as u64;
        let index = pick.index(n) as u64;
        let root = root_at(&f, size);
        let oracle = MerkleTree::<Rfc6962>::from_leaves(&f.leaves[..n]);
        prop_assert_eq!(Some(root), oracle.root());

        let proof = range_hashes(&inclusion_ranges(index, size), &f.tiles).unwrap();
        let expected = oracle.proof(&[index as usize]).proof_hashes().to_vec();
        prop_assert_eq!(&proof, &expected);
        let leaf = f.leaves[index as usize];
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_ok());

        // Wrong size (against that size's real root), wrong index, wrong root, flipped
        // proof bit: all rejected. (Against the *same* root a proof can also fit a bigger
        // size; the signed checkpoint binds size and root together, which is why clients
        // check proofs against checkpoints.)
        let bigger_root = root_at(&f, size + 1);
        prop_assert!(verify_inclusion(index, size + 1, &leaf, &proof, &bigger_root).is_err());
        if n > 1 {
            let other = (index + 1) % size;
            prop_assert!(verify_inclusion(other, size, &leaf, &proof, &root).is_err());
        }
        let mut bad_root = root;
        bad_root[0] ^= 1;
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &bad_root).is_err());
        if let Some(first) = proof.first() {
            let mut bad = proof.clone();
            let mut flipped = *first;
            flipped[31] ^= 0x80;
            bad[0] = flipped;
            prop_assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err());
        }
    }

    /// Every consistency proof verifies; wrong sizes or roots are rejected.
    #[test]
    fn consistency_proofs_verify(n in 2usize..1500, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let f = fixture(n);
        let mut old = a.index(n) as u64 + 1;
        let mut new = b.index(n) as u64 + 1;
        if old > new { std::mem::swap(&mut old, &mut new); }
        let old_root = root_at(&f, old);
        let new_root = root_at(&f, new);
        let proof = range_hashes(&consistency_ranges(old, new), &f.tiles).unwrap();
        prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());
        if old < new {
            prop_assert!(verify_consistency(old + 1, new, &old_root, &new_root, &proof).is_err());
            prop_assert!(verify_consistency(old, new, &new_root, &new_root, &proof).is_err());
            prop_assert!(verify_consistency(new, old, &new_root, &old_root, &proof).is_err());
            let mut bad = proof.clone();
            bad[0][0] ^= 1;
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &bad).is_err());
        }
    }
}
