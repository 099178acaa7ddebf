//! A tile together with the interior nodes above its hashes.
//!
//! A proof element inside a tile is the root of an aligned block of up to 128 of its hashes;
//! recomputing it costs up to 127 node hashes, and an inclusion proof crosses every tile
//! level, so a proof computed from bare tiles costs ~255 hashes per tile level (~765 on a
//! 10 M-entry log). A [`NodeTile`] computes all of a tile's complete interior nodes once,
//! when it enters the cache, and every later proof reads them: twice the memory of the
//! tile (at most 511 hashes, 16 kB), and no hashing per proof.

use std::sync::Arc;

use super::hash::{Hash, empty_root, fold_right, node_hash};
use super::tiles::TILE_HEIGHT;
use super::tree::RightEdge;

/// A tile's hashes (height 0) and every complete node above them, up to the tile's root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeTile {
    /// `heights[h][p]` is the root of hashes `p·2^h .. (p+1)·2^h`; `heights[0]` is the tile.
    heights: Vec<Vec<Hash>>,
}

impl NodeTile {
    /// Build the interior nodes of a tile (full or partial): a node exists only where the
    /// tile has every hash below it.
    pub fn new(hashes: &[Hash]) -> Self {
        let mut tile = NodeTile {
            heights: vec![Vec::with_capacity(hashes.len())],
        };
        tile.extend(hashes);
        tile
    }

    /// This tile grown to `hashes`, a longer version of it (a partial tile is a prefix of
    /// every later version): only the new nodes are hashed.
    pub fn extended(&self, hashes: &[Hash]) -> Self {
        let mut tile = self.clone();
        tile.extend(hashes.get(self.width()..).unwrap_or_default());
        tile
    }

    fn extend(&mut self, more: &[Hash]) {
        for hash in more {
            let mut node = *hash;
            let mut height = 0;
            loop {
                if self.heights.len() == height {
                    self.heights.push(Vec::new());
                }
                let row = &mut self.heights[height];
                row.push(node);
                let n = row.len();
                if n % 2 == 1 || height == TILE_HEIGHT as usize {
                    break;
                }
                node = node_hash(&row[n - 2], &row[n - 1]);
                height += 1;
            }
        }
    }

    /// The tile's own hashes (what storage and `/log/tile/` hold).
    pub fn hashes(&self) -> &[Hash] {
        self.heights.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// How many hashes the tile has.
    pub fn width(&self) -> usize {
        self.hashes().len()
    }

    /// Root of the aligned block of `count` hashes (a power of two) starting at `offset`;
    /// `None` when the block is misaligned or reaches past the tile's width.
    pub fn block_root(&self, offset: usize, count: usize) -> Option<Hash> {
        if !count.is_power_of_two() || !offset.is_multiple_of(count) {
            return None;
        }
        let row = self.heights.get(count.trailing_zeros() as usize)?;
        row.get(offset / count).copied()
    }

    /// Root of the tile's hashes with RFC 6962's shape (complete blocks, largest first,
    /// folded right), as [`super::hash::tree_root`] computes it from the hashes.
    pub fn root(&self) -> Hash {
        fold_right(&self.block_roots())
    }

    /// Roots of the complete blocks the tile splits into, largest first.
    fn block_roots(&self) -> Vec<Hash> {
        let width = self.width();
        let mut roots = Vec::new();
        let mut start = 0usize;
        while start < width {
            let remaining = width - start;
            let count = 1usize << (usize::BITS - 1 - remaining.leading_zeros());
            if let Some(root) = self.block_root(start, count) {
                roots.push(root);
            }
            start += count;
        }
        roots
    }
}

/// The right edge's partial tiles with their nodes, for one head: every write's receipt is
/// an inclusion proof ending at the right edge, and reads these instead of hashing them.
#[derive(Debug, Clone, Default)]
pub struct EdgeNodes {
    /// By level: the partial tile's index and nodes; `None` where the level has none.
    levels: Vec<Option<(u64, Arc<NodeTile>)>>,
}

impl EdgeNodes {
    /// The nodes of `edge`'s partial tiles. Tiles that `previous` (an earlier head of the
    /// same log) already had are reused as they are, or extended when they grew.
    pub fn of(edge: &RightEdge, previous: Option<&EdgeNodes>) -> Self {
        let mut levels = Vec::new();
        for (level, index, width) in RightEdge::partial_tiles_of(edge.size()) {
            let slot = usize::from(level);
            levels.resize(slot + 1, None);
            let hashes = edge.partial_tile(level);
            let tile = match previous.and_then(|p| p.tile(level, index)) {
                Some(old) if old.width() == width => old.clone(),
                Some(old) if old.width() < width => Arc::new(old.extended(hashes)),
                _ => Arc::new(NodeTile::new(hashes)),
            };
            levels[slot] = Some((index, tile));
        }
        EdgeNodes { levels }
    }

    /// The partial tile (`level`, `index`), if it is one of this edge's.
    pub fn tile(&self, level: u8, index: u64) -> Option<&Arc<NodeTile>> {
        match self.levels.get(usize::from(level)) {
            Some(Some((at, tile))) if *at == index => Some(tile),
            _ => None,
        }
    }

    /// The tree's root, from the partial tiles' nodes (the top level's blocks first), as
    /// [`RightEdge::root`] computes it by hashing.
    pub fn root(&self) -> Hash {
        let mut roots = Vec::new();
        for (_, tile) in self.levels.iter().rev().flatten() {
            roots.extend(tile.block_roots());
        }
        if roots.is_empty() {
            return empty_root();
        }
        fold_right(&roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::{complete_subtree_root, leaf_hash, tree_root};
    use proptest::prelude::*;

    fn hashes(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("h{i}").as_bytes()))
            .collect()
    }

    #[test]
    fn a_full_tile_has_511_nodes_and_its_root_on_top() {
        let tile = NodeTile::new(&hashes(256));
        assert_eq!(tile.heights.iter().map(Vec::len).sum::<usize>(), 511);
        assert_eq!(tile.width(), 256);
        assert_eq!(
            tile.block_root(0, 256),
            Some(complete_subtree_root(&hashes(256)))
        );
        assert_eq!(tile.hashes(), hashes(256).as_slice());
    }

    #[test]
    fn blocks_that_are_misaligned_or_past_the_width_are_refused() {
        let tile = NodeTile::new(&hashes(100));
        assert_eq!(tile.block_root(2, 4), None, "misaligned");
        assert_eq!(tile.block_root(0, 3), None, "not a power of two");
        assert_eq!(tile.block_root(96, 8), None, "past the width");
        assert_eq!(tile.block_root(0, 128), None, "larger than the tile");
        assert!(tile.block_root(96, 4).is_some());
        assert_eq!(NodeTile::new(&[]).block_root(0, 1), None);
    }

    proptest! {
        /// Every aligned block's stored root is the one recomputed from its hashes.
        #[test]
        fn block_roots_match_recomputation(width in 1usize..=256, seed in any::<u64>()) {
            let all = hashes(width);
            let tile = NodeTile::new(&all);
            let mut count = 1usize;
            while count <= width {
                let offset = (seed as usize % (width / count)) * count;
                prop_assert_eq!(
                    tile.block_root(offset, count),
                    Some(complete_subtree_root(&all[offset..offset + count])),
                    "block {}+{}", offset, count
                );
                count *= 2;
            }
            prop_assert_eq!(tile.root(), tree_root(&all));
        }

        /// A tile extended hash by hash ends with the nodes of the tile built at once.
        #[test]
        fn extending_equals_building(width in 1usize..=256, cut in 0usize..=256) {
            let all = hashes(width);
            let cut = cut.min(width);
            let grown = NodeTile::new(&all[..cut]).extended(&all);
            prop_assert_eq!(grown, NodeTile::new(&all));
        }

        /// The edge's nodes, carried from head to head as a log grows in batches, give the
        /// edge's own root and the same partial tiles as the edge.
        #[test]
        fn edge_nodes_follow_the_edge(batches in proptest::collection::vec(1usize..700, 1..12)) {
            let mut edge = RightEdge::empty();
            let mut nodes = EdgeNodes::of(&edge, None);
            prop_assert_eq!(nodes.root(), edge.root());
            let mut next = 0usize;
            for batch in batches {
                let leaves = hashes(next + batch)[next..].to_vec();
                next += batch;
                edge.append(&leaves);
                nodes = EdgeNodes::of(&edge, Some(&nodes));
                prop_assert_eq!(nodes.root(), edge.root());
                prop_assert_eq!(nodes.root(), EdgeNodes::of(&edge, None).root());
                for (level, index, width) in RightEdge::partial_tiles_of(edge.size()) {
                    let tile = nodes.tile(level, index).expect("partial tile present");
                    prop_assert_eq!(tile.width(), width);
                    prop_assert_eq!(tile.hashes(), edge.partial_tile(level));
                }
            }
        }
    }
}
