-- Audit: an index over every entry for the auditors' filtered queries and bundles.
--
-- A projection of the log (written in the same transaction as the entry it comes from).
-- Every entry has one row with siren = '' and one more per participant it involves;
-- contract_id and asset repeat on each row of an entry, so every filter is a test on one
-- row (queries take DISTINCT log_index). Participants are the SIRENs the entry names plus, for an
-- entry about a contract, both parties of that contract.
CREATE TABLE audit_index (
    log_index    BIGINT NOT NULL,
    entry_type   TEXT    NOT NULL,
    time_ms      BIGINT NOT NULL,
    siren        TEXT    NOT NULL,
    contract_id  TEXT,
    asset        TEXT,
    PRIMARY KEY (log_index, siren)
);
CREATE INDEX audit_index_by_siren ON audit_index (siren, log_index);
CREATE INDEX audit_index_by_contract ON audit_index (contract_id, log_index);
CREATE INDEX audit_index_by_asset ON audit_index (asset, log_index);
CREATE INDEX audit_index_by_type ON audit_index (entry_type, log_index);
CREATE INDEX audit_index_by_time ON audit_index (time_ms, log_index);
