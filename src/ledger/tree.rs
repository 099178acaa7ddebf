//! The tree over stored tiles: which hashes a proof needs, how to compute them from tiles,
//! and the right edge of a growing tree.
//!
//! Nothing here holds the whole tree. A proof names the leaf ranges whose hashes it needs
//! ([`inclusion_ranges`], [`consistency_ranges`]); each range splits into complete subtrees,
//! and each complete subtree is computed from at most 128 hashes of a single tile. The writer
//! keeps only the right edge ([`RightEdge`]): the partial tile of each level, at most 256
//! hashes per level, so memory is bounded by the tree's height, not its size.

use std::collections::BTreeMap;

use super::hash::{Hash, complete_subtree_root, empty_root, fold_right, split_point};
use super::tiles::{TILE_HEIGHT, TILE_WIDTH, hashes_at_level};

/// A range of leaves `[start, end)` whose Merkle hash is one element of a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafRange {
    pub start: u64,
    pub end: u64,
}

/// A complete subtree: `2^height` leaves starting at leaf `index << height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subtree {
    pub height: u32,
    pub index: u64,
}

/// Where a complete subtree's inputs live: `count` consecutive hashes of tile
/// (`level`, `tile_index`) starting at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileSlice {
    pub level: u8,
    pub tile_index: u64,
    pub offset: usize,
    pub count: usize,
}

impl TileSlice {
    /// The tile width that must be available to read this slice.
    pub fn min_width(&self) -> usize {
        self.offset + self.count
    }
}

impl Subtree {
    /// The tile slice this subtree's root is computed from.
    pub fn tile_slice(&self) -> TileSlice {
        let level = self.height / TILE_HEIGHT;
        let within = self.height % TILE_HEIGHT;
        let first = self.index << within;
        TileSlice {
            level: level as u8,
            tile_index: first / TILE_WIDTH,
            offset: (first % TILE_WIDTH) as usize,
            count: 1 << within,
        }
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[0:n]): the leaf ranges whose hashes form the inclusion proof
/// of leaf `index` in a tree of `size` leaves, ordered leaf to root.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<LeafRange> {
    fn path(m: u64, start: u64, end: u64, out: &mut Vec<LeafRange>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < start + k {
            path(m, start, start + k, out);
            out.push(LeafRange {
                start: start + k,
                end,
            });
        } else {
            path(m, start + k, end, out);
            out.push(LeafRange {
                start,
                end: start + k,
            });
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0, size, &mut out);
    }
    out
}

/// RFC 9162 §2.1.4.1 PROOF(m, D[0:n]): the leaf ranges whose hashes form the consistency
/// proof from `old_size` to `new_size`. Empty when the sizes are equal or `old_size` is 0.
pub fn consistency_ranges(old_size: u64, new_size: u64) -> Vec<LeafRange> {
    fn subproof(m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<LeafRange>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(LeafRange { start, end });
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            subproof(m, start, start + k, whole, out);
            out.push(LeafRange {
                start: start + k,
                end,
            });
        } else {
            subproof(m - k, start + k, end, false, out);
            out.push(LeafRange {
                start,
                end: start + k,
            });
        }
    }
    let mut out = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(old_size, 0, new_size, true, &mut out);
    }
    out
}

/// Split a range into complete subtrees, largest (leftmost) first. The ranges produced by
/// RFC 9162's recursion always start at a multiple of the largest power of two they contain.
pub fn complete_subtrees(range: LeafRange) -> Vec<Subtree> {
    let mut out = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let remaining = range.end - start;
        let mut height = 63 - remaining.leading_zeros();
        // Alignment: a subtree of height h must start at a multiple of 2^h.
        if start != 0 {
            height = height.min(start.trailing_zeros());
        }
        out.push(Subtree {
            height,
            index: start >> height,
        });
        start += 1u64 << height;
    }
    out
}

/// Somewhere to read tile hashes from. `None` when the tile, or enough of it, is missing.
pub trait TileHashes {
    fn tile_hashes(&self, level: u8, index: u64) -> Option<&[Hash]>;

    /// Root of the complete subtree over `slice`. Computed from the tile's hashes unless
    /// the source keeps interior nodes ([`super::nodes::NodeTile`]) and can read it.
    fn slice_root(&self, slice: TileSlice) -> Option<Hash> {
        let hashes = self.tile_hashes(slice.level, slice.tile_index)?;
        hashes
            .get(slice.offset..slice.min_width())
            .map(complete_subtree_root)
    }
}

impl TileHashes for BTreeMap<(u8, u64), Vec<Hash>> {
    fn tile_hashes(&self, level: u8, index: u64) -> Option<&[Hash]> {
        self.get(&(level, index)).map(Vec::as_slice)
    }
}

/// A tile a computation needed but did not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("tile {level}/{index} with at least {width} hashes is not available")]
pub struct MissingTile {
    pub level: u8,
    pub index: u64,
    pub width: usize,
}

/// The tiles (and the width needed of each) to compute the hashes of `ranges`.
pub fn tiles_needed(ranges: &[LeafRange]) -> BTreeMap<(u8, u64), usize> {
    let mut needed: BTreeMap<(u8, u64), usize> = BTreeMap::new();
    for range in ranges {
        for subtree in complete_subtrees(*range) {
            let slice = subtree.tile_slice();
            let width = needed.entry((slice.level, slice.tile_index)).or_default();
            *width = (*width).max(slice.min_width());
        }
    }
    needed
}

/// Root of one complete subtree, computed from its tile.
pub fn subtree_hash(subtree: Subtree, tiles: &impl TileHashes) -> Result<Hash, MissingTile> {
    let slice = subtree.tile_slice();
    let missing = MissingTile {
        level: slice.level,
        index: slice.tile_index,
        width: slice.min_width(),
    };
    tiles.slice_root(slice).ok_or(missing)
}

/// Merkle hash of a range, computed from tiles.
pub fn range_hash(range: LeafRange, tiles: &impl TileHashes) -> Result<Hash, MissingTile> {
    let roots = complete_subtrees(range)
        .into_iter()
        .map(|subtree| subtree_hash(subtree, tiles))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(fold_right(&roots))
}

/// Hashes of several ranges, in order: a proof.
pub fn range_hashes(
    ranges: &[LeafRange],
    tiles: &impl TileHashes,
) -> Result<Vec<Hash>, MissingTile> {
    ranges
        .iter()
        .map(|range| range_hash(*range, tiles))
        .collect()
}

/// A hash tile the right edge completed or changed, to be written to storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileWrite {
    pub level: u8,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

/// The right edge of the tree: the partial (not yet full) tile of every level.
///
/// This is all the state needed to append leaves, produce every completed tile and compute
/// the root; it holds at most 256 hashes per level, whatever the tree's size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RightEdge {
    size: u64,
    partial: Vec<Vec<Hash>>,
}

impl RightEdge {
    /// The edge of the empty tree.
    pub fn empty() -> Self {
        RightEdge::default()
    }

    /// The partial tiles to read to restore the edge of a tree of `size` leaves:
    /// (level, tile index, width).
    pub fn partial_tiles_of(size: u64) -> Vec<(u8, u64, usize)> {
        let mut out = Vec::new();
        let mut level = 0u8;
        loop {
            let count = hashes_at_level(size, level);
            if count == 0 {
                break;
            }
            let width = (count % TILE_WIDTH) as usize;
            if width > 0 {
                out.push((level, count / TILE_WIDTH, width));
            }
            level += 1;
        }
        out
    }

    /// Rebuild the edge of a tree of `size` leaves from its stored partial tiles.
    pub fn restore(size: u64, tiles: &impl TileHashes) -> Result<Self, MissingTile> {
        let mut edge = RightEdge {
            size,
            partial: Vec::new(),
        };
        let mut level = 0u8;
        while hashes_at_level(size, level) > 0 {
            edge.partial.push(Vec::new());
            level += 1;
        }
        for (level, index, width) in Self::partial_tiles_of(size) {
            let missing = MissingTile {
                level,
                index,
                width,
            };
            let hashes = tiles.tile_hashes(level, index).ok_or(missing)?;
            let prefix = hashes.get(..width).ok_or(missing)?;
            edge.partial[usize::from(level)] = prefix.to_vec();
        }
        Ok(edge)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The current partial tile of `level` (empty when that level's tiles are all full).
    pub fn partial_tile(&self, level: u8) -> &[Hash] {
        self.partial
            .get(usize::from(level))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Append one leaf hash; every tile it completes is passed to `on_full`.
    pub fn push(&mut self, leaf: Hash, on_full: &mut impl FnMut(TileWrite)) {
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            // Hashes at this level before the push; the new one goes at this position.
            let position = hashes_at_level(self.size, level as u8);
            if self.partial.len() <= level {
                self.partial.push(Vec::new());
            }
            self.partial[level].push(hash);
            if self.partial[level].len() as u64 == TILE_WIDTH {
                let hashes = std::mem::take(&mut self.partial[level]);
                hash = complete_subtree_root(&hashes);
                on_full(TileWrite {
                    level: level as u8,
                    index: position / TILE_WIDTH,
                    hashes,
                });
                level += 1;
            } else {
                break;
            }
        }
        self.size += 1;
    }

    /// Append leaves and return every tile that changed: the tiles completed, then the
    /// partial tiles that grew, each with its full current content.
    pub fn append(&mut self, leaves: &[Hash]) -> Vec<TileWrite> {
        let old_size = self.size;
        let mut writes = Vec::new();
        for leaf in leaves {
            self.push(*leaf, &mut |tile| writes.push(tile));
        }
        for (level, index, _) in Self::partial_tiles_of(self.size) {
            if hashes_at_level(old_size, level) != hashes_at_level(self.size, level) {
                writes.push(TileWrite {
                    level,
                    index,
                    hashes: self.partial_tile(level).to_vec(),
                });
            }
        }
        writes
    }

    /// Root of the tree: the partial tiles, top level first, split into complete subtrees
    /// and folded right to left.
    pub fn root(&self) -> Hash {
        if self.size == 0 {
            return empty_root();
        }
        let mut subtree_roots = Vec::new();
        for hashes in self.partial.iter().rev() {
            let mut start = 0usize;
            while start < hashes.len() {
                let remaining = hashes.len() - start;
                let chunk = 1usize << (usize::BITS - 1 - remaining.leading_zeros());
                subtree_roots.push(complete_subtree_root(&hashes[start..start + chunk]));
                start += chunk;
            }
        }
        fold_right(&subtree_roots)
    }
}

impl TileHashes for RightEdge {
    /// The edge answers for its own partial tiles only.
    fn tile_hashes(&self, level: u8, index: u64) -> Option<&[Hash]> {
        let count = hashes_at_level(self.size, level);
        (index == count / TILE_WIDTH && !count.is_multiple_of(TILE_WIDTH))
            .then(|| self.partial_tile(level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::{leaf_hash, tree_root};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf-{i}").as_bytes()))
            .collect()
    }

    #[test]
    fn edge_root_matches_direct_computation() {
        let all = leaves(70_000);
        let mut edge = RightEdge::empty();
        let mut tiles: BTreeMap<(u8, u64), Vec<Hash>> = BTreeMap::new();
        for (i, chunk) in all.chunks(997).enumerate() {
            for write in edge.append(chunk) {
                tiles.insert((write.level, write.index), write.hashes);
            }
            let size = ((i + 1) * 997).min(all.len());
            assert_eq!(edge.root(), tree_root(&all[..size]), "size {size}");
            let restored = RightEdge::restore(edge.size(), &tiles).unwrap();
            assert_eq!(restored, edge);
            assert_eq!(
                range_hash(
                    LeafRange {
                        start: 0,
                        end: size as u64
                    },
                    &tiles
                )
                .unwrap(),
                edge.root()
            );
        }
    }

    #[test]
    fn complete_subtrees_are_aligned() {
        let split = complete_subtrees(LeafRange { start: 8, end: 21 });
        assert_eq!(
            split,
            vec![
                Subtree {
                    height: 3,
                    index: 1
                },
                Subtree {
                    height: 2,
                    index: 4
                },
                Subtree {
                    height: 0,
                    index: 20
                }
            ]
        );
    }
}
