//! Tile paths as the HTTP API receives them: a path that parses prints back identically.
#![no_main]

use clearinghouse::ledger::tiles::TileId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tile) = TileId::parse(path) {
        assert_eq!(tile.path(), path, "one spelling per tile");
    }
});
