-- Cosignatures collected from the witnesses the service is configured with.
--
-- One row per witness: the latest checkpoint it cosigned (the whole note as the log signed
-- it), its size (the size the witness is known to hold, where the next consistency proof
-- starts) and the cosignature line it answered. GET /log/checkpoint appends the lines of
-- the witnesses whose row holds the current checkpoint. Not evidence by itself: a
-- cosignature is checked by whoever reads it, against the witness's public key.
CREATE TABLE witness_cosignatures (
    witness        TEXT    PRIMARY KEY,
    size           BIGINT NOT NULL,
    checkpoint     TEXT    NOT NULL,
    cosignature    TEXT    NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
