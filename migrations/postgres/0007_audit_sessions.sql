-- Audit sessions opened by presenting a mandate with the read-audit power.
--
-- Only the SHA-256 of the bearer token is kept. `siren` limits the session to one
-- organisation's entries (NULL: the whole log, for the committee's member organisations).
-- Not evidence: every read made with a session is logged as an audit.read entry.
CREATE TABLE audit_sessions (
    token_sha256   TEXT    PRIMARY KEY,
    label          TEXT    NOT NULL,
    siren          TEXT,
    expires_at_ms  BIGINT NOT NULL
);
CREATE INDEX audit_sessions_expiry ON audit_sessions (expires_at_ms);
