-- The Merkle log: entries, hash tiles, the signed head and the history of checkpoints.
-- Entries and tiles are the evidence; entry_type and entry_time_ms index it for queries.

CREATE TABLE log_entries (
    idx            INTEGER PRIMARY KEY,
    data           BLOB    NOT NULL,
    entry_type     TEXT    NOT NULL,
    entry_time_ms  INTEGER NOT NULL
);
CREATE INDEX log_entries_by_type ON log_entries (entry_type, idx);

-- C2SP tlog-tiles: level L holds the hashes of tree level 8·L, 256 to a tile. A row grows
-- until it is full (8192 bytes) and is never rewritten afterwards.
CREATE TABLE log_tiles (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- The single current head; moved only by compare-and-swap on size.
CREATE TABLE log_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    size        INTEGER NOT NULL,
    root        BLOB    NOT NULL,
    checkpoint  TEXT    NOT NULL
);

-- Every checkpoint the log ever signed, for witnesses and auditors.
CREATE TABLE log_checkpoints (
    size           INTEGER PRIMARY KEY,
    root           BLOB    NOT NULL,
    checkpoint     TEXT    NOT NULL,
    created_at_ms  INTEGER NOT NULL
);
