//! The audit index: for every entry, its type, time, the participants it involves, its
//! contract and its asset, so auditors can filter the log without decoding all of it.

use super::{Bind, SqlOp, op, text};
use crate::entry::{self, Decoded, Entry};

const INSERT: &str = "INSERT INTO audit_index \
     (log_index, entry_type, time_ms, siren, contract_id, asset) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

/// Both parties of a contract, read from the `contracts` projection in the same
/// transaction (no row when the contract is unknown: nothing fails). One text for both, so
/// a batch's entries merge into one statement rather than two.
const INSERT_PARTIES: &str = "INSERT INTO audit_index \
     (log_index, entry_type, time_ms, siren, contract_id, asset) \
     SELECT $1, $2, $3, assigner, $4, $5 FROM contracts WHERE id = $4 \
     UNION ALL SELECT $1, $2, $3, assignee, $4, $5 FROM contracts WHERE id = $4 \
     ON CONFLICT DO NOTHING";

/// What the audit filters see of an entry.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuditKeys {
    pub sirens: Vec<String>,
    pub contract_id: Option<String>,
    pub asset: Option<String>,
}

/// The participants, contract and asset an entry names.
pub fn keys(entry: &Entry) -> AuditKeys {
    let (sirens, contract_id, asset): (Vec<&str>, Option<&str>, Option<&str>) = match entry {
        Entry::CredentialIssued(e) => (vec![e.siren.as_str()], None, None),
        Entry::MandateGranted(e) => (vec![e.siren.as_str()], None, None),
        Entry::ParticipantRegistered(e) => (vec![e.siren.as_str()], None, None),
        Entry::ParticipantKeyAdded(e) => (vec![e.siren.as_str()], None, None),
        Entry::ParticipantKeyRevoked(e) => (vec![e.siren.as_str()], None, None),
        Entry::ParticipantSuspended(e) => (vec![e.siren.as_str()], None, None),
        Entry::ParticipantReinstated(e) => (vec![e.siren.as_str()], None, None),
        Entry::ContractAgreed(e) => {
            let mut sirens = vec![e.assigner.as_str(), e.assignee.as_str()];
            sirens.extend(e.signatures.iter().map(|s| s.siren.as_str()));
            (sirens, Some(e.contract_id.as_str()), None)
        }
        Entry::ContractAmended(e) => (
            e.signatures.iter().map(|s| s.siren.as_str()).collect(),
            Some(e.contract_id.as_str()),
            None,
        ),
        Entry::ContractTerminated(e) => (
            vec![e.signature.siren.as_str()],
            Some(e.contract_id.as_str()),
            None,
        ),
        Entry::PaymentRecorded(e) => (
            vec![e.payer.as_str(), e.payee.as_str()],
            Some(e.contract_id.as_str()),
            None,
        ),
        Entry::DecisionMade(e) => (
            vec![e.requester.as_str()],
            Some(e.contract_id.as_str()),
            Some(e.target.as_str()),
        ),
        Entry::ReceiptRecorded(e) => (
            vec![e.siren.as_str()],
            Some(e.contract_id.as_str()),
            Some(e.asset.as_str()),
        ),
        Entry::ReceiptRejected(e) => (vec![e.siren.as_str()], e.contract_id.as_deref(), None),
        Entry::ReceiptMismatch(e) => (Vec::new(), Some(e.contract_id.as_str()), None),
        Entry::BillingHoldPlaced(e) => (vec![e.siren.as_str()], None, None),
        Entry::BillingHoldCleared(e) => (vec![e.siren.as_str()], None, None),
        Entry::BillingCreditIssued(e) => (vec![e.siren.as_str()], None, None),
        // A closing lists every participant's totals: whole-log readers only (by type),
        // never under one participant, whose limited sessions must not see the others'.
        _ => (Vec::new(), None, None),
    };
    let mut sirens: Vec<String> = sirens
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    sirens.sort();
    sirens.dedup();
    AuditKeys {
        sirens,
        contract_id: contract_id.map(str::to_owned),
        asset: asset.map(str::to_owned),
    }
}

fn row(idx: i64, kind: &str, time_ms: i64, siren: &str, keys: &AuditKeys) -> SqlOp {
    op(
        INSERT,
        vec![
            Bind::Int(idx),
            text(kind),
            Bind::Int(time_ms),
            text(siren),
            Bind::OptText(keys.contract_id.clone()),
            Bind::OptText(keys.asset.clone()),
        ],
    )
}

/// The audit rows of a decoded entry.
pub(super) fn project(idx: i64, decoded: &Decoded) -> Vec<SqlOp> {
    let keys = keys(&decoded.entry);
    let kind = decoded.envelope.kind.as_str();
    let time_ms = decoded.envelope.time.timestamp_millis();
    let mut ops = vec![row(idx, kind, time_ms, "", &keys)];
    for siren in &keys.sirens {
        ops.push(row(idx, kind, time_ms, siren, &keys));
    }
    if let Some(contract_id) = &keys.contract_id {
        ops.push(op(
            INSERT_PARTIES,
            vec![
                Bind::Int(idx),
                text(kind),
                Bind::Int(time_ms),
                text(contract_id),
                Bind::OptText(keys.asset.clone()),
            ],
        ));
    }
    ops
}

/// The one audit row of bytes that are not a known entry: their type and time if readable.
pub(super) fn project_unknown(idx: i64, data: &[u8]) -> Vec<SqlOp> {
    let (kind, time_ms) = match entry::peek(data) {
        Some((kind, time)) => (kind, time.timestamp_millis()),
        None => ("unknown".to_owned(), 0),
    };
    vec![row(idx, &kind, time_ms, "", &AuditKeys::default())]
}
