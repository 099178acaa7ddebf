//! C2SP tlog-tiles layout: tile paths, tile coordinates and entry bundles.
//!
//! A tile at level `L` holds up to 256 consecutive hashes of tree level `8·L` (level-0 tiles
//! hold leaf hashes). A full tile is immutable; a partial tile of width `W` is the prefix of
//! the eventual full tile, so any partial tile is a prefix of every later version of it.
//! Entry bundles hold the entries themselves, 256 to a bundle, each prefixed with its length
//! as a big-endian `u16`.

use super::hash::{HASH_SIZE, Hash};

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels covered by one tile level: log2(256).
pub const TILE_HEIGHT: u32 = 8;
/// Bytes in a full hash tile.
pub const FULL_TILE_BYTES: usize = TILE_WIDTH as usize * HASH_SIZE;
/// The largest entry an entry bundle can carry (its length prefix is a `u16`).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;
/// Highest tile level a path may name; 2^(8·8) leaves is beyond any `u64` tree already.
pub const MAX_TILE_LEVEL: u8 = 7;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Hashes of tree level `8 · level`.
    Hashes { level: u8 },
    /// An entry bundle.
    Entries,
}

/// One tile resource: kind, index and width (1..=256; 256 means full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub kind: TileKind,
    pub index: u64,
    pub width: u16,
}

/// Why a tile path is not one a tlog-tiles server would serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    #[error("tile path must start with `tile/`")]
    MissingPrefix,
    #[error("tile level must be `entries` or a decimal level from 0 to {MAX_TILE_LEVEL}")]
    BadLevel,
    #[error(
        "tile index must be groups of three digits, all but the last prefixed with `x` (e.g. `x001/234`)"
    )]
    BadIndex,
    #[error("partial tile width must be a decimal from 1 to 255 after `.p/`")]
    BadWidth,
}

impl TileId {
    /// A full tile.
    pub fn full(kind: TileKind, index: u64) -> Self {
        TileId {
            kind,
            index,
            width: TILE_WIDTH as u16,
        }
    }

    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The path under the log prefix, e.g. `tile/0/x001/234.p/7` or `tile/entries/005`.
    pub fn path(&self) -> String {
        let mut path = String::from("tile/");
        match self.kind {
            TileKind::Hashes { level } => path.push_str(&level.to_string()),
            TileKind::Entries => path.push_str("entries"),
        }
        path.push('/');
        path.push_str(&encode_index(self.index));
        if !self.is_full() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Parse a path such as `tile/1/x001/002.p/9`. Strict: exactly the spelling of
    /// [`TileId::path`], so each tile has one URL (caches stay coherent).
    pub fn parse(path: &str) -> Result<TileId, TilePathError> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TilePathError::MissingPrefix)?;
        let (level, rest) = rest.split_once('/').ok_or(TilePathError::BadLevel)?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            TileKind::Hashes {
                level: parse_level(level)?,
            }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index_part, width)) => (index_part, parse_width(width)?),
            None => (rest, TILE_WIDTH as u16),
        };
        Ok(TileId {
            kind,
            index: decode_index(index_part)?,
            width,
        })
    }
}

fn parse_level(text: &str) -> Result<u8, TilePathError> {
    if text.len() != 1 || !text.as_bytes()[0].is_ascii_digit() {
        return Err(TilePathError::BadLevel);
    }
    let level = text.as_bytes()[0] - b'0';
    if level > MAX_TILE_LEVEL {
        return Err(TilePathError::BadLevel);
    }
    Ok(level)
}

fn parse_width(text: &str) -> Result<u16, TilePathError> {
    if text.is_empty() || text.len() > 3 || text.starts_with('0') {
        return Err(TilePathError::BadWidth);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TilePathError::BadWidth);
    }
    let width: u16 = text.parse().map_err(|_| TilePathError::BadWidth)?;
    if width == 0 || u64::from(width) >= TILE_WIDTH {
        return Err(TilePathError::BadWidth);
    }
    Ok(width)
}

/// `1234067` → `x001/x234/067`.
fn encode_index(index: u64) -> String {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g:03}")
            } else {
                format!("{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn decode_index(text: &str) -> Result<u64, TilePathError> {
    let groups: Vec<&str> = text.split('/').collect();
    let last = groups.len() - 1;
    let mut index: u64 = 0;
    for (i, group) in groups.iter().enumerate() {
        let digits = if i < last {
            group.strip_prefix('x').ok_or(TilePathError::BadIndex)?
        } else {
            group
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TilePathError::BadIndex);
        }
        // A leading `x000` group would give the same index two spellings.
        if i == 0 && i < last && digits == "000" {
            return Err(TilePathError::BadIndex);
        }
        let value: u64 = digits.parse().map_err(|_| TilePathError::BadIndex)?;
        index = index
            .checked_mul(1000)
            .and_then(|v| v.checked_add(value))
            .ok_or(TilePathError::BadIndex)?;
    }
    Ok(index)
}

/// Number of hashes stored at tile level `level` for a tree of `size` leaves.
pub fn hashes_at_level(size: u64, level: u8) -> u64 {
    size.checked_shr(TILE_HEIGHT * u32::from(level))
        .unwrap_or(0)
}

/// Every hash tile (full or partial, at every level) and entry bundle of a tree of `size`
/// leaves, level 0 first, in index order.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    loop {
        let count = hashes_at_level(size, level);
        if count == 0 {
            break;
        }
        tiles.extend(level_tiles(TileKind::Hashes { level }, count));
        level += 1;
    }
    tiles.extend(level_tiles(TileKind::Entries, size));
    tiles
}

/// Tiles of one kind holding `count` items: full tiles then, if any, one partial tile.
pub fn level_tiles(kind: TileKind, count: u64) -> impl Iterator<Item = TileId> {
    let full = count / TILE_WIDTH;
    let rest = (count % TILE_WIDTH) as u16;
    (0..full)
        .map(move |index| TileId::full(kind, index))
        .chain((rest > 0).then_some(TileId {
            kind,
            index: full,
            width: rest,
        }))
}

/// Split a hash tile body into hashes. `None` when its length is not a whole number of hashes.
pub fn tile_hashes(body: &[u8]) -> Option<Vec<Hash>> {
    if !body.len().is_multiple_of(HASH_SIZE) {
        return None;
    }
    Some(
        body.chunks_exact(HASH_SIZE)
            .map(|chunk| {
                let mut hash = [0u8; HASH_SIZE];
                hash.copy_from_slice(chunk);
                hash
            })
            .collect(),
    )
}

/// Concatenate hashes into a tile body.
pub fn tile_body(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Why an entry bundle could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("entry bundle ends inside entry {0}'s length prefix or data")]
    Truncated(usize),
    #[error("entry of {0} bytes is larger than an entry bundle can carry ({MAX_ENTRY_SIZE})")]
    EntryTooLarge(usize),
}

/// Encode entries as a C2SP entry bundle.
pub fn encode_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, BundleError> {
    let mut body = Vec::new();
    for entry in entries {
        let len =
            u16::try_from(entry.len()).map_err(|_| BundleError::EntryTooLarge(entry.len()))?;
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(entry);
    }
    Ok(body)
}

/// Decode a C2SP entry bundle into its entries.
pub fn decode_bundle(body: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut entries = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = entries.len();
        let (len, tail) = rest.split_at_checked(2).ok_or(BundleError::Truncated(n))?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or(BundleError::Truncated(n))?;
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_groups_round_trip() {
        for index in [0u64, 7, 999, 1000, 1_234_067, 1_000_000, u64::MAX] {
            let text = encode_index(index);
            assert_eq!(decode_index(&text), Ok(index), "{text}");
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "tile/0/1",
            "tile/0/0001",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/07",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/9/000",
            "tile/00/000",
            "tile/entries/x1/000",
            "tiles/0/000",
            "tile/0/000.p/",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/000",
        ] {
            assert!(TileId::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn tiles_for_size_lists_full_then_partial() {
        let tiles: Vec<String> = tiles_for_size(513).iter().map(TileId::path).collect();
        assert_eq!(
            tiles,
            vec![
                "tile/0/000",
                "tile/0/001",
                "tile/0/002.p/1",
                "tile/1/000.p/2",
                "tile/entries/000",
                "tile/entries/001",
                "tile/entries/002.p/1",
            ]
        );
        assert!(tiles_for_size(0).is_empty());
    }

    #[test]
    fn bundles_round_trip_and_detect_truncation() {
        let entries: Vec<&[u8]> = vec![b"a", b"", b"hello"];
        let body = encode_bundle(entries.iter().copied()).unwrap();
        assert_eq!(decode_bundle(&body).unwrap(), entries);
        assert_eq!(
            decode_bundle(&body[..body.len() - 1]),
            Err(BundleError::Truncated(2))
        );
    }
}
