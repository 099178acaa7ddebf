-- Participants and trust.
--
-- Projections of the log (rebuilt from entries by the store's projector, in the same
-- transaction as the entries they come from):

CREATE TABLE trust_anchors (
    id           TEXT PRIMARY KEY,
    definition   TEXT    NOT NULL,
    log_index    INTEGER NOT NULL
);

CREATE TABLE trust_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    anchors_version  TEXT    NOT NULL,
    log_index        INTEGER NOT NULL
);

CREATE TABLE credentials (
    id               TEXT PRIMARY KEY,
    credential_type  TEXT    NOT NULL,
    sha256           TEXT    NOT NULL,
    siren            TEXT    NOT NULL,
    basis            TEXT    NOT NULL,
    parent_id        TEXT,
    status_list      TEXT    NOT NULL,
    status_index     INTEGER NOT NULL,
    valid_until      TEXT    NOT NULL,
    issued_index     INTEGER NOT NULL,
    revoked_index    INTEGER
);
CREATE INDEX credentials_by_parent ON credentials (parent_id);
CREATE UNIQUE INDEX credentials_by_status ON credentials (status_list, status_index);

CREATE TABLE participants (
    siren             TEXT PRIMARY KEY,
    siret             TEXT    NOT NULL,
    legal_category    TEXT    NOT NULL,
    class             TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    status_reason     TEXT,
    registered_index  INTEGER NOT NULL,
    updated_index     INTEGER NOT NULL
);

CREATE TABLE participant_keys (
    kid            TEXT PRIMARY KEY,
    siren          TEXT    NOT NULL,
    jwk            TEXT    NOT NULL,
    added_index    INTEGER NOT NULL,
    revoked_index  INTEGER
);
CREATE INDEX participant_keys_by_siren ON participant_keys (siren);

-- Private and operational data, which the log must not hold or does not need:

-- People known from ProConnect; the log only ever holds salted commitments to them.
CREATE TABLE persons (
    id             TEXT PRIMARY KEY,
    issuer         TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    idp_id         TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    given_name     TEXT    NOT NULL,
    usual_name     TEXT    NOT NULL,
    salt           BLOB    NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    UNIQUE (issuer, subject)
);

-- Organisations as Sirene described them, with the answer kept as evidence.
CREATE TABLE organisations (
    siren           TEXT PRIMARY KEY,
    siret           TEXT    NOT NULL,
    legal_name      TEXT    NOT NULL,
    legal_category  TEXT    NOT NULL,
    sirene_sha256   TEXT    NOT NULL,
    sirene_body     BLOB    NOT NULL,
    checked_at_ms   INTEGER NOT NULL
);

-- Credentials this service issued, in full (they name people).
CREATE TABLE issued_credentials (
    id          TEXT PRIMARY KEY,
    person_id   TEXT,
    holder      TEXT,
    credential  TEXT    NOT NULL
);

-- OpenID Connect sign-ins in progress (state, nonce, PKCE verifier).
CREATE TABLE oidc_logins (
    state          TEXT PRIMARY KEY,
    nonce          TEXT    NOT NULL,
    code_verifier  TEXT    NOT NULL,
    holder         TEXT,
    purpose        TEXT    NOT NULL,
    created_at_ms  INTEGER NOT NULL
);

-- One-time presentation challenges.
CREATE TABLE challenges (
    challenge      TEXT PRIMARY KEY,
    expires_at_ms  INTEGER NOT NULL,
    used_at_ms     INTEGER
);

-- Next free index of each status list this service publishes.
CREATE TABLE status_list_counters (
    list        TEXT PRIMARY KEY,
    next_index  INTEGER NOT NULL
);

-- Mandates granted ahead of the grantee's sign-in (sub-mandates, délibérations).
CREATE TABLE mandate_grants (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT    NOT NULL,
    siren                 TEXT    NOT NULL,
    grantee_email         TEXT    NOT NULL,
    powers                TEXT    NOT NULL,
    max_delegation_depth  INTEGER NOT NULL,
    valid_until           TEXT    NOT NULL,
    parent_credential_id  TEXT,
    document_sha256       TEXT,
    salt                  BLOB    NOT NULL,
    created_at_ms         INTEGER NOT NULL,
    claimed_credential_id TEXT
);
CREATE INDEX mandate_grants_by_siren ON mandate_grants (siren);
