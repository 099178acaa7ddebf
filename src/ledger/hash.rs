//! RFC 6962 / RFC 9162 §2.1.1 hashing: the only two hash functions of the tree.
//!
//! The 0x00 / 0x01 prefixes make leaf and interior hashes live in different domains, so a
//! node can never be passed off as a leaf (the second-preimage attack on plain Merkle trees).

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; 32];

/// Size of a [`Hash`] in bytes.
pub const HASH_SIZE: usize = 32;

/// Root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Hash of a log entry: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// Hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Root of the complete subtree whose leaves (or lower-level hashes) are `hashes`.
/// `hashes.len()` must be a power of two; the slice is reduced level by level.
pub fn complete_subtree_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level[0]
}

/// Hash of a tree whose leaves (or lower-level hashes) are `hashes`, any count > 0, with the
/// RFC 6962 shape: split at the largest power of two smaller than the count.
pub fn tree_root(hashes: &[Hash]) -> Hash {
    if hashes.is_empty() {
        return empty_root();
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < hashes.len() {
        let remaining = hashes.len() - start;
        let chunk = 1usize << (usize::BITS - 1 - remaining.leading_zeros());
        chunks.push(complete_subtree_root(&hashes[start..start + chunk]));
        start += chunk;
    }
    fold_right(&chunks)
}

/// Combine the roots of consecutive complete subtrees, largest first, into the root of their
/// union: `node(s0, node(s1, … node(s_{k-2}, s_{k-1})))`, which is RFC 6962's shape.
pub fn fold_right(subtree_roots: &[Hash]) -> Hash {
    let mut iter = subtree_roots.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, left| node_hash(left, &acc))
}

/// Largest power of two strictly smaller than `n` (n ≥ 2): RFC 9162's split point `k`.
pub fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
        assert_eq!(split_point((1 << 40) + 1), 1 << 40);
    }
}
