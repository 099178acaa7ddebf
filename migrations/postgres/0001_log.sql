-- The Merkle log: entries, hash tiles, the signed head and the history of checkpoints.
-- Entries and tiles are the evidence; entry_type and entry_time_ms index it for queries.

CREATE TABLE log_entries (
    idx            BIGINT PRIMARY KEY,
    data           BYTEA  NOT NULL,
    entry_type     TEXT   NOT NULL,
    entry_time_ms  BIGINT NOT NULL
);
CREATE INDEX log_entries_by_type ON log_entries (entry_type, idx);

-- C2SP tlog-tiles: level L holds the hashes of tree level 8·L, 256 to a tile. A row grows
-- until it is full (8192 bytes) and is never rewritten afterwards.
CREATE TABLE log_tiles (
    level  BIGINT   NOT NULL,
    idx    BIGINT   NOT NULL,
    data   BYTEA    NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The single current head; moved only by compare-and-swap on size.
CREATE TABLE log_head (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    size        BIGINT   NOT NULL,
    root        BYTEA    NOT NULL,
    checkpoint  TEXT     NOT NULL
);

-- Every checkpoint the log ever signed, for witnesses and auditors.
CREATE TABLE log_checkpoints (
    size           BIGINT PRIMARY KEY,
    root           BYTEA  NOT NULL,
    checkpoint     TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
