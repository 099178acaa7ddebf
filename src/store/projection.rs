//! Projections: the query tables derived from log entries.
//!
//! Each committed entry is turned into a few SQL statements, run in the same transaction
//! as the entry itself, so the tables can never disagree with the log, and can be rebuilt
//! from it. [`project`] is pure (entry in, statements out); the store runs the statements on
//! whichever backend it has.
//!
//! A projection must never fail on a well-formed entry: a failing statement would abort the
//! whole batch, other writers' entries included. Inserts therefore ignore duplicates; the
//! domain checks (and serialises) what must be unique before it appends.

use crate::entry::{self, Entry};

mod audit;
pub mod coalesce;
mod exchange;

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Int(i64),
    Text(String),
    OptText(Option<String>),
}

/// One statement with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlOp {
    pub sql: &'static str,
    pub binds: Vec<Bind>,
}

/// A [`coalesce::Statement`] as a `sqlx` query with its parameters bound, for whichever backend the
/// surrounding code runs on (the query type is inferred from where it is executed).
#[macro_export]
macro_rules! bound_query {
    ($op:expr) => {{
        let op: $crate::store::projection::coalesce::Statement = $op;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(op.sql));
        for bind in op.binds {
            query = match bind {
                $crate::store::projection::Bind::Int(value) => query.bind(value),
                $crate::store::projection::Bind::Text(value) => query.bind(value),
                $crate::store::projection::Bind::OptText(value) => query.bind(value),
            };
        }
        query
    }};
}

fn op(sql: &'static str, binds: Vec<Bind>) -> SqlOp {
    SqlOp { sql, binds }
}

fn text(value: &str) -> Bind {
    Bind::Text(value.to_owned())
}

const SET_ANCHORS_VERSION: &str = "INSERT INTO trust_state (id, anchors_version, log_index) \
     VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE \
     SET anchors_version = excluded.anchors_version, log_index = excluded.log_index";

const SET_PARTICIPANT_STATUS: &str = "UPDATE participants \
     SET status = $1, status_reason = $2, updated_index = $3 WHERE siren = $4";

/// The statements that apply the entry at `index` to the projections: its rows in the
/// audit index (every entry has some, even bytes that are not a known entry) and, for types
/// with a domain projection, that projection's statements first.
pub fn project(index: u64, data: &[u8]) -> Vec<SqlOp> {
    let idx = i64::try_from(index).unwrap_or(i64::MAX);
    let Ok(decoded) = entry::decode(data) else {
        return audit::project_unknown(idx, data);
    };
    let time = entry::format_time(decoded.envelope.time);
    // The audit rows come after the domain's: a contract's parties are read from the
    // `contracts` row that `contract.agreed` inserts.
    let audit_ops = audit::project(idx, &decoded);
    let mut ops = domain(idx, &time, decoded.entry);
    ops.extend(audit_ops);
    ops
}

/// Only the audit-index statements of the entry at `index` (to index entries logged before
/// the audit index existed).
pub fn audit_only(index: u64, data: &[u8]) -> Vec<SqlOp> {
    let idx = i64::try_from(index).unwrap_or(i64::MAX);
    match entry::decode(data) {
        Ok(decoded) => audit::project(idx, &decoded),
        Err(_) => audit::project_unknown(idx, data),
    }
}

/// The domain projections of one decoded entry.
fn domain(idx: i64, time: &str, entry: Entry) -> Vec<SqlOp> {
    match entry {
        Entry::TrustAnchorAdded(added) => {
            let id = added
                .anchor
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            vec![
                op(
                    "INSERT INTO trust_anchors (id, definition, log_index) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE \
                     SET definition = excluded.definition, log_index = excluded.log_index",
                    vec![
                        Bind::Text(id),
                        Bind::Text(added.anchor.to_string()),
                        Bind::Int(idx),
                    ],
                ),
                op(
                    SET_ANCHORS_VERSION,
                    vec![text(&added.anchors_version), Bind::Int(idx)],
                ),
            ]
        }
        Entry::TrustAnchorRemoved(removed) => vec![
            op(
                "DELETE FROM trust_anchors WHERE id = $1",
                vec![text(&removed.anchor_id)],
            ),
            op(
                SET_ANCHORS_VERSION,
                vec![text(&removed.anchors_version), Bind::Int(idx)],
            ),
        ],
        Entry::CredentialIssued(issued) => vec![op(
            "INSERT INTO credentials (id, credential_type, sha256, siren, basis, parent_id, \
             status_list, status_index, valid_until, issued_index) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            vec![
                text(&issued.credential_id),
                text(&issued.credential_type),
                text(&issued.credential_sha256),
                text(&issued.siren),
                text(&issued.basis),
                Bind::OptText(issued.parent_credential_id.clone()),
                text(&issued.status.list),
                Bind::Int(i64::try_from(issued.status.index).unwrap_or(i64::MAX)),
                text(&issued.valid_until),
                Bind::Int(idx),
            ],
        )],
        Entry::CredentialRevoked(revoked) => vec![op(
            "UPDATE credentials SET revoked_index = $1 WHERE id = $2 AND revoked_index IS NULL",
            vec![Bind::Int(idx), text(&revoked.credential_id)],
        )],
        Entry::ParticipantRegistered(registered) => {
            let mut ops = vec![op(
                "INSERT INTO participants (siren, siret, legal_category, class, status, \
                 status_reason, registered_index, updated_index) \
                 VALUES ($1, $2, $3, $4, 'active', NULL, $5, $5) ON CONFLICT DO NOTHING",
                vec![
                    text(&registered.siren),
                    text(&registered.siret),
                    text(&registered.legal_category),
                    text(&registered.class),
                    Bind::Int(idx),
                ],
            )];
            for key in &registered.connector_keys {
                ops.push(add_key(&registered.siren, key, idx));
            }
            for credential in &registered.credentials {
                ops.push(op(
                    "INSERT INTO participant_credentials \
                     (siren, sha256, credential_types, issuer, log_index) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    vec![
                        text(&registered.siren),
                        text(&credential.sha256),
                        Bind::Text(credential.types.join(" ")),
                        text(&credential.issuer),
                        Bind::Int(idx),
                    ],
                ));
            }
            ops
        }
        Entry::ParticipantKeyAdded(added) => vec![add_key(&added.siren, &added.key, idx)],
        Entry::ParticipantKeyRevoked(revoked) => vec![op(
            "UPDATE participant_keys SET revoked_index = $1 \
             WHERE kid = $2 AND siren = $3 AND revoked_index IS NULL",
            vec![Bind::Int(idx), text(&revoked.kid), text(&revoked.siren)],
        )],
        Entry::ParticipantSuspended(suspended) => vec![op(
            SET_PARTICIPANT_STATUS,
            vec![
                text("suspended"),
                Bind::OptText(Some(suspended.reason.clone())),
                Bind::Int(idx),
                text(&suspended.siren),
            ],
        )],
        Entry::ParticipantReinstated(reinstated) => vec![op(
            SET_PARTICIPANT_STATUS,
            vec![
                text("active"),
                Bind::OptText(None),
                Bind::Int(idx),
                text(&reinstated.siren),
            ],
        )],
        other => exchange::project(idx, time, other),
    }
}

fn add_key(siren: &str, key: &entry::ConnectorKey, idx: i64) -> SqlOp {
    op(
        "INSERT INTO participant_keys (kid, siren, jwk, added_index) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        vec![
            text(&key.kid),
            text(siren),
            Bind::Text(key.jwk.to_string()),
            Bind::Int(idx),
        ],
    )
}
