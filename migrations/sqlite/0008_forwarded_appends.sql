-- Appends handed to the sequencer by another process (high availability).
--
-- Every serve process accepts writes; only the elected leader runs the sequencer. A
-- follower inserts the encoded entries here and waits; the leader commits them to the log
-- and sets `first_index` in the same transaction as the entries and the new head, so a row
-- with an index is exactly a durable append. A follower that gives up deletes its row while
-- it is still pending (`first_index IS NULL`), which makes the leader's commit of it fail
-- instead of logging an entry nobody will be told about. Not evidence: a work queue.
CREATE TABLE forwarded_appends (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The entries, each as a 4-byte big-endian length followed by its bytes.
    entries        BLOB    NOT NULL,
    first_index    BIGINT,
    -- Set instead of first_index when the leader refuses the append for good.
    failure        TEXT,
    created_at_ms  BIGINT  NOT NULL
);
CREATE INDEX forwarded_appends_pending ON forwarded_appends (id)
    WHERE first_index IS NULL AND failure IS NULL;

-- Expired challenges are purged when new ones are issued (see store::trust::save_challenge).
CREATE INDEX challenges_expiry ON challenges (expires_at_ms);
