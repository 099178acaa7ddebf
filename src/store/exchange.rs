//! Queries for contracts, payments, decisions and receipts (projections of their entries),
//! and the private data they rely on: representatives' signatures and used client
//! assertions.

use serde_json::Value;
use serde_json::value::RawValue;

use super::trust::{PARTICIPANT_COLUMNS, ParticipantRecord, ParticipantRow, participant_record};
use super::{Store, StoreError, to_u64};
use crate::with_pool;

/// A contract as projected from its entries.
#[derive(Debug, Clone)]
pub struct ContractRecord {
    pub id: String,
    pub assigner: String,
    pub assignee: String,
    /// The agreement's JSON text, checked to be JSON but not parsed into a tree: a decision
    /// evaluates the parsed policy cached by `agreement_sha256`, so most reads never need it.
    pub agreement: Box<RawValue>,
    pub agreement_sha256: String,
    pub version: u32,
    /// `active` or `terminated`.
    pub state: String,
    pub agreed_index: u64,
    pub agreed_at: String,
    pub updated_index: u64,
}

/// A contract's parties and state: what a receipt is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractStanding {
    pub assigner: String,
    pub assignee: String,
    /// `active` or `terminated`.
    pub state: String,
    pub updated_index: u64,
}

/// One act in a contract's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContractEvent {
    pub index: u64,
    /// `agreed`, `amended` or `terminated`.
    pub kind: String,
    pub agreement_sha256: String,
    pub time: String,
}

/// A payment recorded against a contract's duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: String,
    pub duty: String,
    pub payer: String,
    pub payee: String,
    pub amount: String,
    pub currency: String,
    pub paid_at: String,
}

/// A logged decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    pub id: String,
    pub contract_id: String,
    pub requester: String,
    pub action: String,
    pub target: String,
    pub decision: String,
    pub expires_at: String,
    pub log_index: u64,
}

/// A logged receipt (one side of one transfer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRecord {
    pub transfer_id: String,
    pub role: String,
    pub decision_id: String,
    pub siren: String,
    pub asset: String,
    pub bytes: u64,
    pub records: u64,
    pub content_sha256: String,
    pub receipt_sha256: String,
    pub started_at: String,
    pub ended_at: String,
    pub log_index: u64,
}

type ContractRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    String,
    i64,
);

type ReceiptRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
);

const RECEIPT_COLUMNS: &str = "transfer_id, role, decision_id, siren, asset, bytes, records, \
     content_sha256, receipt_sha256, started_at, ended_at, log_index";

fn contract_record(row: ContractRow) -> Result<ContractRecord, StoreError> {
    Ok(ContractRecord {
        id: row.0,
        assigner: row.1,
        assignee: row.2,
        agreement: RawValue::from_string(row.3)
            .map_err(|e| StoreError::Corrupt(format!("contract agreement: {e}")))?,
        agreement_sha256: row.4,
        version: u32::try_from(row.5)
            .map_err(|_| StoreError::Corrupt("contract version".into()))?,
        state: row.6,
        agreed_index: to_u64(row.7, "log index")?,
        agreed_at: row.8,
        updated_index: to_u64(row.9, "log index")?,
    })
}

fn receipt_record(row: ReceiptRow) -> Result<ReceiptRecord, StoreError> {
    Ok(ReceiptRecord {
        transfer_id: row.0,
        role: row.1,
        decision_id: row.2,
        siren: row.3,
        asset: row.4,
        bytes: to_u64(row.5, "bytes")?,
        records: to_u64(row.6, "records")?,
        content_sha256: row.7,
        receipt_sha256: row.8,
        started_at: row.9,
        ended_at: row.10,
        log_index: to_u64(row.11, "log index")?,
    })
}

impl ContractRecord {
    /// The agreement as a JSON tree.
    pub fn agreement_value(&self) -> Result<Value, StoreError> {
        serde_json::from_str(self.agreement.get())
            .map_err(|e| StoreError::Corrupt(format!("contract agreement: {e}")))
    }
}

impl Store {
    /// A contract by id.
    pub async fn contract(&self, id: &str) -> Result<Option<ContractRecord>, StoreError> {
        let row: Option<ContractRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, assigner, assignee, agreement, agreement_sha256, version, state, \
                 agreed_index, agreed_at, updated_index FROM contracts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(contract_record).transpose()
    }

    /// What a decision reads of its contract, in one statement: the contract, how many
    /// transfers of `target` it permitted so far, and how many payments are recorded under
    /// it (the payments themselves are read only when there are some).
    pub async fn contract_for_decision(
        &self,
        id: &str,
        target: &str,
    ) -> Result<Option<(ContractRecord, u64, u64)>, StoreError> {
        /// The contract's columns, then the two counts by name.
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            contract: ContractRow,
            permits: i64,
            payments: i64,
        }
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, assigner, assignee, agreement, agreement_sha256, version, state, \
                 agreed_index, agreed_at, updated_index, \
                 (SELECT COUNT(*) FROM decisions d WHERE d.contract_id = contracts.id \
                     AND d.target = $2 AND d.decision = 'permit') AS permits, \
                 (SELECT COUNT(*) FROM payments p WHERE p.contract_id = contracts.id) \
                     AS payments \
                 FROM contracts WHERE id = $1",
            )
            .bind(id)
            .bind(target)
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| {
            Ok((
                contract_record(r.contract)?,
                to_u64(r.permits, "count")?,
                to_u64(r.payments, "count")?,
            ))
        })
        .transpose()
    }

    /// Contracts a participant is party to, by id after `after`, at most `limit`.
    pub async fn contracts_of(
        &self,
        party: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ContractRecord>, StoreError> {
        let rows: Vec<ContractRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, assigner, assignee, agreement, agreement_sha256, version, state, \
                 agreed_index, agreed_at, updated_index FROM contracts \
                 WHERE (assigner = $1 OR assignee = $1) AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(party)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(contract_record).collect()
    }

    /// A contract's history, oldest first.
    pub async fn contract_events(&self, id: &str) -> Result<Vec<ContractEvent>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT log_index, kind, agreement_sha256, time FROM contract_events \
                 WHERE contract_id = $1 ORDER BY log_index",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(index, kind, agreement_sha256, time)| {
                Ok(ContractEvent {
                    index: to_u64(index, "log index")?,
                    kind,
                    agreement_sha256,
                    time,
                })
            })
            .collect()
    }

    /// Keep a representative's detached signature and the mandate it relied on.
    pub async fn save_contract_signature(
        &self,
        jws_sha256: &str,
        contract_id: &str,
        jws: &str,
        mandate: &Value,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO contract_signatures (jws_sha256, contract_id, jws, mandate) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(jws_sha256)
            .bind(contract_id)
            .bind(jws)
            .bind(mandate.to_string())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Payments recorded under a contract.
    pub async fn payments(&self, contract_id: &str) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows: Vec<(String, String, String, String, String, String, String)> =
            with_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT id, duty, payer, payee, amount, currency, paid_at FROM payments \
                     WHERE contract_id = $1 ORDER BY log_index",
                )
                .bind(contract_id)
                .fetch_all(pool)
                .await?
            });
        Ok(rows
            .into_iter()
            .map(|r| PaymentRecord {
                id: r.0,
                duty: r.1,
                payer: r.2,
                payee: r.3,
                amount: r.4,
                currency: r.5,
                paid_at: r.6,
            })
            .collect())
    }

    /// What checking a receipt reads of its decision, in one statement: the decision and,
    /// if the contract it names is known, that contract's parties and state.
    pub async fn decision_for_receipt(
        &self,
        id: &str,
    ) -> Result<Option<(DecisionRecord, Option<ContractStanding>)>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT d.id, d.contract_id, d.requester, d.action, d.target, d.decision, \
                 d.expires_at, d.log_index, c.assigner, c.assignee, c.state, c.updated_index \
                 FROM decisions d LEFT JOIN contracts c ON c.id = d.contract_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| {
            let decision = DecisionRecord {
                id: r.0,
                contract_id: r.1,
                requester: r.2,
                action: r.3,
                target: r.4,
                decision: r.5,
                expires_at: r.6,
                log_index: to_u64(r.7, "log index")?,
            };
            let contract = match (r.8, r.9, r.10, r.11) {
                (Some(assigner), Some(assignee), Some(state), Some(updated)) => {
                    Some(ContractStanding {
                        assigner,
                        assignee,
                        state,
                        updated_index: to_u64(updated, "log index")?,
                    })
                }
                _ => None,
            };
            Ok((decision, contract))
        })
        .transpose()
    }

    /// Receipts already logged for a decision (any transfer, either side).
    pub async fn receipts_for_decision(
        &self,
        decision_id: &str,
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE decision_id = $1 ORDER BY log_index"
        );
        let rows: Vec<ReceiptRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(decision_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(receipt_record).collect()
    }

    /// Record a client assertion's `jti`; `false` if it was already used (a replay).
    /// Expired records are pruned on the way.
    pub async fn use_client_assertion(
        &self,
        jti: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let inserted = with_pool!(self, |pool| {
            sqlx::query("DELETE FROM client_assertions WHERE expires_at_ms < $1")
                .bind(now_ms)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO client_assertions (jti, expires_at_ms) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(jti)
            .bind(expires_at_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(inserted == 1)
    }
}

impl Store {
    /// The billing hold on a participant, if any: (reason, log index).
    pub async fn billing_hold(&self, siren: &str) -> Result<Option<(String, u64)>, StoreError> {
        let row: Option<(String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT reason, log_index FROM billing_holds WHERE siren = $1")
                .bind(siren)
                .fetch_optional(pool)
                .await?
        });
        row.map(|(reason, index)| Ok((reason, to_u64(index, "log index")?)))
            .transpose()
    }
}

/// A registration credential (`c`) that no longer stands at `$3` (RFC 3339): revoked, or
/// past its validity. Counted for every decision; listed only when the count is not zero.
const LAPSED: &str = "c.credential_type = 'OrganisationCredential' \
     AND (c.revoked_index IS NOT NULL OR c.valid_until <= $3)";

/// What a decision must know of one party of a contract, as of a moment.
#[derive(Debug, Clone, Default)]
pub struct PartyStanding {
    pub participant: Option<ParticipantRecord>,
    /// (reason, log index) of a billing hold, if one is on.
    pub billing_hold: Option<(String, u64)>,
    /// Registration credentials this service has since revoked or that have expired:
    /// each as (type, sha256, why).
    pub lapsed_credentials: Vec<(String, String, String)>,
}

impl Store {
    /// The standing of a contract's two parties at `now` (RFC 3339), in one statement, and
    /// a second when a registration credential has lapsed (a decision makes this read on
    /// every request, while it holds the contract's turn).
    pub async fn parties_standing(
        &self,
        sirens: [&str; 2],
        now: &str,
    ) -> Result<[PartyStanding; 2], StoreError> {
        /// A participant, its billing hold if any, and how many of its registration
        /// credentials have lapsed (almost always none: then they are not read at all).
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            participant: ParticipantRow,
            hold_reason: Option<String>,
            hold_index: Option<i64>,
            lapsed: i64,
        }
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS}, \
             (SELECT h.reason FROM billing_holds h WHERE h.siren = participants.siren) \
                 AS hold_reason, \
             (SELECT h.log_index FROM billing_holds h WHERE h.siren = participants.siren) \
                 AS hold_index, \
             (SELECT COUNT(*) FROM participant_credentials p \
                 JOIN credentials c ON c.sha256 = p.sha256 \
                 WHERE p.siren = participants.siren AND {LAPSED}) AS lapsed \
             FROM participants WHERE siren IN ($1, $2)"
        );
        let rows: Vec<Row> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(sirens[0])
                .bind(sirens[1])
                .bind(now)
                .fetch_all(pool)
                .await?
        });
        type LapsedRow = (String, String, String, Option<i64>, String);
        let lapsed: Vec<LapsedRow> = if rows.iter().all(|row| row.lapsed == 0) {
            Vec::new()
        } else {
            with_pool!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT p.siren, c.credential_type, c.sha256, c.revoked_index, c.valid_until \
                     FROM participant_credentials p JOIN credentials c ON c.sha256 = p.sha256 \
                     WHERE p.siren IN ($1, $2) AND {LAPSED} ORDER BY c.sha256"
                )))
                .bind(sirens[0])
                .bind(sirens[1])
                .bind(now)
                .fetch_all(pool)
                .await?
            })
        };
        let mut standing: [PartyStanding; 2] = Default::default();
        for (slot, siren) in standing.iter_mut().zip(sirens) {
            for row in rows.iter().filter(|row| row.participant.0 == siren) {
                slot.participant = Some(participant_record(row.participant.clone())?);
                slot.billing_hold = match (row.hold_reason.clone(), row.hold_index) {
                    (Some(reason), Some(index)) => Some((reason, to_u64(index, "log index")?)),
                    _ => None,
                };
            }
            slot.lapsed_credentials = lapsed
                .iter()
                .filter(|row| row.0 == siren)
                .map(|(_, kind, sha, revoked, until)| {
                    let why = match revoked {
                        Some(index) => format!("revoked at log index {index}"),
                        None => format!("expired at {until}"),
                    };
                    (kind.clone(), sha.clone(), why)
                })
                .collect();
        }
        Ok(standing)
    }
}
