//! Read side of the log: the current head, tiles and proofs, with a bounded cache.
//!
//! Full tiles are immutable, so they are cached (LRU, a fixed number of tiles, hence bounded
//! memory however long the log grows). Partial tiles of the current head come from the
//! published right edge; anything else is read from storage.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use tokio::sync::watch;

use super::hash::Hash;
use super::nodes::{EdgeNodes, NodeTile};
use super::storage::{LogStorage, StorageError, StoredHead};
use super::tiles::{TILE_WIDTH, hashes_at_level, tile_body};
use super::tree::{
    LeafRange, MissingTile, RightEdge, TileHashes, TileSlice, consistency_ranges, inclusion_ranges,
    range_hash, range_hashes, tiles_needed,
};

/// The committed head together with the right edge of the tree at that size.
#[derive(Debug, Clone)]
pub struct HeadState {
    pub head: StoredHead,
    pub edge: RightEdge,
    /// The edge's partial tiles with their interior nodes: read by every proof that ends
    /// at the right edge (each write's receipt), built once per head.
    pub nodes: EdgeNodes,
}

impl HeadState {
    /// The head at `head` with right edge `edge`, its nodes built from scratch (the
    /// sequencer carries them over from the previous head instead).
    pub fn new(head: StoredHead, edge: RightEdge) -> Self {
        let nodes = EdgeNodes::of(&edge, None);
        HeadState { head, edge, nodes }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The request names a size or index beyond the committed log.
    #[error("{0}")]
    OutOfRange(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<MissingTile> for ReadError {
    fn from(missing: MissingTile) -> Self {
        ReadError::Storage(StorageError::Corrupt(missing.to_string()))
    }
}

/// Tiles gathered for one computation.
#[derive(Default)]
pub struct TileSet(BTreeMap<(u8, u64), Arc<NodeTile>>);

impl TileHashes for TileSet {
    fn tile_hashes(&self, level: u8, index: u64) -> Option<&[Hash]> {
        self.0.get(&(level, index)).map(|tile| tile.hashes())
    }

    fn slice_root(&self, slice: TileSlice) -> Option<Hash> {
        self.0
            .get(&(slice.level, slice.tile_index))?
            .block_root(slice.offset, slice.count)
    }
}

/// Full tiles with their nodes by (level, index), least recently used evicted first.
type TileCache = LruCache<(u8, u64), Arc<NodeTile>>;

/// Reads the log through a bounded cache of full tiles.
pub struct LogReader<S> {
    storage: Arc<S>,
    head: watch::Receiver<Arc<HeadState>>,
    // std Mutex, not tokio's: it is never held across an `.await`.
    full_tiles: Mutex<TileCache>,
}

impl<S: LogStorage> LogReader<S> {
    pub fn new(
        storage: Arc<S>,
        head: watch::Receiver<Arc<HeadState>>,
        cache_tiles: NonZeroUsize,
    ) -> Self {
        LogReader {
            storage,
            head,
            full_tiles: Mutex::new(LruCache::new(cache_tiles)),
        }
    }

    pub fn storage(&self) -> &Arc<S> {
        &self.storage
    }

    /// The latest committed head known to this process.
    pub fn head(&self) -> Arc<HeadState> {
        self.head.borrow().clone()
    }

    /// A receiver that changes whenever a new head is published.
    pub fn subscribe(&self) -> watch::Receiver<Arc<HeadState>> {
        self.head.clone()
    }

    fn cached(&self, key: (u8, u64)) -> Option<Arc<NodeTile>> {
        self.full_tiles.lock().ok()?.get(&key).cloned()
    }

    /// Remember full tiles (the sequencer hands over the ones it just completed).
    pub fn cache_full_tile(&self, level: u8, index: u64, tile: Arc<NodeTile>) {
        if tile.width() as u64 == TILE_WIDTH
            && let Ok(mut cache) = self.full_tiles.lock()
        {
            cache.put((level, index), tile);
        }
    }

    /// Tile (`level`, `index`) with at least `width` hashes, and its nodes, from the cache,
    /// the current edge or storage. Partial tiles are returned at their stored width (a
    /// prefix of every later version, so any prefix of `width` is correct for an older
    /// tree).
    pub async fn tile(
        &self,
        level: u8,
        index: u64,
        width: usize,
    ) -> Result<Option<Arc<NodeTile>>, StorageError> {
        if let Some(tile) = self.cached((level, index)) {
            return Ok(Some(tile));
        }
        if let Some(tile) = self.head().nodes.tile(level, index)
            && tile.width() >= width
        {
            return Ok(Some(tile.clone()));
        }
        let Some(hashes) = self.storage.tile(level, index).await? else {
            return Ok(None);
        };
        if hashes.len() < width {
            return Ok(None);
        }
        let tile = Arc::new(NodeTile::new(&hashes));
        self.cache_full_tile(level, index, tile.clone());
        Ok(Some(tile))
    }

    /// The bytes of tile (`level`, `index`) at exactly `width` hashes, as `/log/tile/`
    /// serves them. Tiles read from storage for this are not cached: a mirror or a
    /// verifier sweeping the whole log would evict the tiles proofs keep using.
    pub async fn tile_body(
        &self,
        level: u8,
        index: u64,
        width: usize,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let cut = |hashes: &[Hash]| hashes.get(..width).map(tile_body);
        if let Some(tile) = self.cached((level, index)) {
            return Ok(cut(tile.hashes()));
        }
        if let Some(tile) = self.head().nodes.tile(level, index)
            && tile.width() >= width
        {
            return Ok(cut(tile.hashes()));
        }
        Ok(self
            .storage
            .tile(level, index)
            .await?
            .and_then(|hashes| cut(&hashes)))
    }

    async fn gather(&self, ranges: &[LeafRange]) -> Result<TileSet, ReadError> {
        let mut set = TileSet::default();
        for ((level, index), width) in tiles_needed(ranges) {
            let tile = self.tile(level, index, width).await?.ok_or(MissingTile {
                level,
                index,
                width,
            })?;
            set.0.insert((level, index), tile);
        }
        Ok(set)
    }

    fn check_size(&self, size: u64) -> Result<(), ReadError> {
        let current = self.head().head.size;
        if size > current {
            return Err(ReadError::OutOfRange(format!(
                "tree size {size} is larger than the log ({current} entries)"
            )));
        }
        Ok(())
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ReadError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ReadError::OutOfRange(format!(
                "index {index} is not below tree size {size}"
            )));
        }
        let ranges = inclusion_ranges(index, size);
        let tiles = self.gather(&ranges).await?;
        Ok(range_hashes(&ranges, &tiles)?)
    }

    /// RFC 9162 consistency proof from the tree of `old` leaves to the tree of `new` leaves.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ReadError> {
        self.check_size(new)?;
        if old > new {
            return Err(ReadError::OutOfRange(format!(
                "old size {old} is larger than new size {new}"
            )));
        }
        let ranges = consistency_ranges(old, new);
        let tiles = self.gather(&ranges).await?;
        Ok(range_hashes(&ranges, &tiles)?)
    }

    /// Root of the tree of `size` leaves (any size up to the head, not only checkpointed ones).
    pub async fn root_at(&self, size: u64) -> Result<Hash, ReadError> {
        self.check_size(size)?;
        let range = LeafRange {
            start: 0,
            end: size,
        };
        let tiles = self.gather(&[range]).await?;
        Ok(range_hash(range, &tiles)?)
    }

    /// Leaf hash of entry `index` (from its level-0 tile).
    pub async fn leaf_hash(&self, index: u64) -> Result<Hash, ReadError> {
        self.check_size(index.saturating_add(1))?;
        let tile_index = index / TILE_WIDTH;
        let offset = (index % TILE_WIDTH) as usize;
        let tile = self
            .tile(0, tile_index, offset + 1)
            .await?
            .ok_or(MissingTile {
                level: 0,
                index: tile_index,
                width: offset + 1,
            })?;
        Ok(tile.hashes()[offset])
    }

    /// Is tile (`level`, `index`) of width `width` part of the committed log?
    pub fn tile_exists(&self, level: Option<u8>, index: u64, width: u64) -> bool {
        let size = self.head().head.size;
        let count = match level {
            Some(level) => hashes_at_level(size, level),
            None => size,
        };
        index
            .checked_mul(TILE_WIDTH)
            .and_then(|start| start.checked_add(width))
            .is_some_and(|end| end <= count)
    }
}
