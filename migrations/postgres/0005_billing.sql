-- Billing standing: participants whose transfers as paying party are on hold (projection
-- of billing.hold_placed / billing.hold_cleared).
CREATE TABLE billing_holds (
    siren      TEXT PRIMARY KEY,
    reason     TEXT    NOT NULL,
    log_index  BIGINT NOT NULL
);
