//! Projections of contracts, payments, decisions and receipts.

use super::{Bind, SqlOp, op, text};
use crate::entry::Entry;

fn event(contract_id: &str, idx: i64, kind: &str, sha256: &str, time: &str) -> SqlOp {
    op(
        "INSERT INTO contract_events (contract_id, log_index, kind, agreement_sha256, time) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        vec![
            text(contract_id),
            Bind::Int(idx),
            text(kind),
            text(sha256),
            text(time),
        ],
    )
}

fn int(value: u64) -> Bind {
    Bind::Int(i64::try_from(value).unwrap_or(i64::MAX))
}

/// The statements for the exchange's entries; other entries give none.
pub(super) fn project(idx: i64, time: &str, entry: Entry) -> Vec<SqlOp> {
    match entry {
        Entry::ContractAgreed(agreed) => vec![
            op(
                "INSERT INTO contracts (id, assigner, assignee, agreement, agreement_sha256, \
                 version, state, agreed_index, agreed_at, updated_index) \
                 VALUES ($1, $2, $3, $4, $5, 1, 'active', $6, $7, $6) ON CONFLICT DO NOTHING",
                vec![
                    text(&agreed.contract_id),
                    text(&agreed.assigner),
                    text(&agreed.assignee),
                    Bind::Text(agreed.agreement.to_string()),
                    text(&agreed.agreement_sha256),
                    Bind::Int(idx),
                    text(time),
                ],
            ),
            event(
                &agreed.contract_id,
                idx,
                "agreed",
                &agreed.agreement_sha256,
                time,
            ),
        ],
        Entry::ContractAmended(amended) => vec![
            op(
                "UPDATE contracts SET agreement = $1, agreement_sha256 = $2, version = $3, \
                 updated_index = $4 WHERE id = $5 AND state = 'active'",
                vec![
                    Bind::Text(amended.agreement.to_string()),
                    text(&amended.agreement_sha256),
                    Bind::Int(i64::from(amended.version)),
                    Bind::Int(idx),
                    text(&amended.contract_id),
                ],
            ),
            event(
                &amended.contract_id,
                idx,
                "amended",
                &amended.agreement_sha256,
                time,
            ),
        ],
        Entry::ContractTerminated(terminated) => vec![
            op(
                "UPDATE contracts SET state = 'terminated', updated_index = $1 WHERE id = $2",
                vec![Bind::Int(idx), text(&terminated.contract_id)],
            ),
            event(
                &terminated.contract_id,
                idx,
                "terminated",
                &terminated.agreement_sha256,
                time,
            ),
        ],
        Entry::PaymentRecorded(payment) => vec![op(
            "INSERT INTO payments (id, contract_id, duty, payer, payee, amount, currency, \
             paid_at, log_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING",
            vec![
                text(&payment.payment_id),
                text(&payment.contract_id),
                text(&payment.duty),
                text(&payment.payer),
                text(&payment.payee),
                text(&payment.amount),
                text(&payment.currency),
                text(&payment.paid_at),
                Bind::Int(idx),
            ],
        )],
        Entry::DecisionMade(decision) => vec![op(
            "INSERT INTO decisions (id, contract_id, requester, action, target, decision, \
             expires_at, time, log_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING",
            vec![
                text(&decision.decision_id),
                text(&decision.contract_id),
                text(&decision.requester),
                text(&decision.action),
                text(&decision.target),
                text(&decision.decision),
                text(&decision.expires_at),
                text(time),
                Bind::Int(idx),
            ],
        )],
        Entry::ReceiptRecorded(receipt) => vec![op(
            "INSERT INTO receipts (transfer_id, role, decision_id, contract_id, siren, asset, \
             bytes, records, content_sha256, receipt_sha256, started_at, ended_at, log_index) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT DO NOTHING",
            vec![
                text(&receipt.transfer_id),
                text(&receipt.role),
                text(&receipt.decision_id),
                text(&receipt.contract_id),
                text(&receipt.siren),
                text(&receipt.asset),
                int(receipt.bytes),
                int(receipt.records),
                text(&receipt.content_sha256),
                text(&receipt.receipt_sha256),
                text(&receipt.started_at),
                text(&receipt.ended_at),
                Bind::Int(idx),
            ],
        )],
        Entry::ReceiptMismatch(mismatch) => vec![op(
            "INSERT INTO receipt_mismatches (transfer_id, contract_id, differences, log_index) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            vec![
                text(&mismatch.transfer_id),
                text(&mismatch.contract_id),
                Bind::Text(mismatch.differences.join("; ")),
                Bind::Int(idx),
            ],
        )],
        Entry::BillingHoldPlaced(hold) => vec![op(
            "INSERT INTO billing_holds (siren, reason, log_index) VALUES ($1, $2, $3) \
             ON CONFLICT (siren) DO UPDATE SET reason = excluded.reason, \
             log_index = excluded.log_index",
            vec![text(&hold.siren), text(&hold.reason), Bind::Int(idx)],
        )],
        Entry::BillingHoldCleared(cleared) => vec![op(
            "DELETE FROM billing_holds WHERE siren = $1",
            vec![text(&cleared.siren)],
        )],
        _ => Vec::new(),
    }
}
