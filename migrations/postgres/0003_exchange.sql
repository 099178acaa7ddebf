-- Contracts, payments, decisions and receipts.
--
-- Projections of the log (written in the same transaction as the entries they come from):

-- Credentials each participant registered with, to re-check its standing at each decision.
CREATE TABLE participant_credentials (
    siren             TEXT    NOT NULL,
    sha256            TEXT    NOT NULL,
    credential_types  TEXT    NOT NULL,
    issuer            TEXT    NOT NULL,
    log_index         BIGINT  NOT NULL,
    PRIMARY KEY (siren, sha256)
);
CREATE INDEX credentials_by_sha256 ON credentials (sha256);

CREATE TABLE contracts (
    id                TEXT PRIMARY KEY,
    assigner          TEXT    NOT NULL,
    assignee          TEXT    NOT NULL,
    agreement         TEXT    NOT NULL,
    agreement_sha256  TEXT    NOT NULL,
    version           BIGINT  NOT NULL,
    state             TEXT    NOT NULL,
    agreed_index      BIGINT  NOT NULL,
    agreed_at         TEXT    NOT NULL,
    updated_index     BIGINT  NOT NULL
);
CREATE INDEX contracts_by_assigner ON contracts (assigner);
CREATE INDEX contracts_by_assignee ON contracts (assignee);

-- Every act on a contract, in log order.
CREATE TABLE contract_events (
    contract_id       TEXT    NOT NULL,
    log_index         BIGINT  NOT NULL,
    kind              TEXT    NOT NULL,
    agreement_sha256  TEXT    NOT NULL,
    time              TEXT    NOT NULL,
    PRIMARY KEY (contract_id, log_index)
);

CREATE TABLE payments (
    id           TEXT PRIMARY KEY,
    contract_id  TEXT    NOT NULL,
    duty         TEXT    NOT NULL,
    payer        TEXT    NOT NULL,
    payee        TEXT    NOT NULL,
    amount       TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    paid_at      TEXT    NOT NULL,
    log_index    BIGINT  NOT NULL
);
CREATE INDEX payments_by_contract ON payments (contract_id);

CREATE TABLE decisions (
    id           TEXT PRIMARY KEY,
    contract_id  TEXT    NOT NULL,
    requester    TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    decision     TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    time         TEXT    NOT NULL,
    log_index    BIGINT  NOT NULL
);
CREATE INDEX decisions_by_contract ON decisions (contract_id, target, decision);

CREATE TABLE receipts (
    transfer_id     TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    decision_id     TEXT    NOT NULL,
    contract_id     TEXT    NOT NULL,
    siren           TEXT    NOT NULL,
    asset           TEXT    NOT NULL,
    bytes           BIGINT  NOT NULL,
    records         BIGINT  NOT NULL,
    content_sha256  TEXT    NOT NULL,
    receipt_sha256  TEXT    NOT NULL,
    started_at      TEXT    NOT NULL,
    ended_at        TEXT    NOT NULL,
    log_index       BIGINT  NOT NULL,
    PRIMARY KEY (transfer_id, role)
);
CREATE INDEX receipts_by_decision ON receipts (decision_id);
CREATE INDEX receipts_by_contract ON receipts (contract_id);

CREATE TABLE receipt_mismatches (
    transfer_id  TEXT PRIMARY KEY,
    contract_id  TEXT    NOT NULL,
    differences  TEXT    NOT NULL,
    log_index    BIGINT  NOT NULL
);

-- Private and operational data:

-- Representatives' detached signatures and the mandates they relied on (they name people).
CREATE TABLE contract_signatures (
    jws_sha256   TEXT PRIMARY KEY,
    contract_id  TEXT    NOT NULL,
    jws          TEXT    NOT NULL,
    mandate      TEXT    NOT NULL
);

-- Client assertions (RFC 7523) already used, until they expire: replay protection.
CREATE TABLE client_assertions (
    jti            TEXT PRIMARY KEY,
    expires_at_ms  BIGINT  NOT NULL
);
CREATE INDEX client_assertions_by_expiry ON client_assertions (expires_at_ms);
