//! Recomputing a period's statements from a billing bundle, with no network: the bundle
//! is verified first (every entry in the signed log), then the statements are computed
//! from its entries alone by the same rules as the service, and compared to the cent with
//! the statements the bundle carries and with the hashes the period's closing logged.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::bundle::{Bundle, BundleReport, verify_bundle};
use crate::billing::statement::{Inputs, Month, Statement, compute, statement_sha256};
use crate::entry::{self, Entry};
use crate::ledger::note::NoteVerifier;

/// What a recomputation found.
#[derive(Debug)]
pub struct Recomputed {
    pub bundle: BundleReport,
    pub period: String,
    pub statements: Vec<Statement>,
    /// Whether the period's closing entry was in the bundle, its hashes all matched.
    pub closing_checked: bool,
}

/// Verify `bundle`, recompute its period's statements and compare them. The error names
/// the first difference (participant, field, both values).
pub fn recompute(bundle: &Bundle, verifier: &NoteVerifier) -> Result<Recomputed, String> {
    let report = verify_bundle(bundle, verifier)?;
    let billing = bundle
        .billing
        .as_ref()
        .ok_or("billing: this is not a period bundle (GET /v1/billing/periods/{period}/bundle)")?;
    let period = Month::parse(&billing.period)
        .ok_or_else(|| format!("billing: period {:?} is not YYYY-MM", billing.period))?;
    let end = period.end_exclusive();
    let mut inputs = Inputs::default();
    let mut closing = None;
    for item in &bundle.entries {
        // Verified above: the data is base64 of a valid entry.
        let data = B64
            .decode(&item.data)
            .map_err(|_| format!("entry {}: data is not base64", item.index))?;
        let decoded = entry::decode(&data)
            .map_err(|e| format!("entry {}: not a valid entry: {e}", item.index))?;
        if let Entry::BillingPeriodClosed(closed) = &decoded.entry {
            if closed.period == billing.period {
                if billing.closed_at != Some(item.index) {
                    return Err(format!(
                        "billing: entry {} closes {}, but the bundle says the closing is {}",
                        item.index,
                        billing.period,
                        billing
                            .closed_at
                            .map_or("absent".to_owned(), |i| format!("entry {i}"))
                    ));
                }
                closing = Some(closed.clone());
            }
            continue;
        }
        // The statements follow from what was logged before the period's end and, once
        // it is closed, before its closing.
        if decoded.envelope.time >= end || billing.closed_at.is_some_and(|cut| item.index >= cut) {
            continue;
        }
        inputs
            .add(item.index, &decoded)
            .map_err(|e| format!("entry {}: {e}", item.index))?;
    }
    let statements = compute(&inputs, period).map_err(|e| format!("billing: {e}"))?;
    let computed = serde_json::to_value(&statements).map_err(|e| e.to_string())?;
    compare(&computed, &billing.statements)?;
    let closing_checked = match (billing.closed_at, closing) {
        (None, _) => false,
        (Some(index), None) => {
            return Err(format!(
                "billing: the closing entry {index} of {} is not in the bundle",
                billing.period
            ));
        }
        (Some(_), Some(closed)) => {
            let mut logged: BTreeMap<&str, &str> = closed
                .statements
                .iter()
                .map(|s| (s.siren.as_str(), s.sha256.as_str()))
                .collect();
            for statement in &statements {
                let hash = statement_sha256(statement).map_err(|e| e.to_string())?;
                match logged.remove(statement.siren.as_str()) {
                    Some(expected) if expected == hash => {}
                    Some(expected) => {
                        return Err(format!(
                            "closing: SIREN {}'s statement hashes to {hash}, the closing logged {expected}",
                            statement.siren
                        ));
                    }
                    None => {
                        return Err(format!(
                            "closing: SIREN {}'s statement is not among those the closing logged",
                            statement.siren
                        ));
                    }
                }
            }
            if let Some((siren, _)) = logged.into_iter().next() {
                return Err(format!(
                    "closing: the closing logged a statement for SIREN {siren}, which the entries do not produce"
                ));
            }
            let gross: i64 = statements.iter().map(|s| s.gross_cents).sum();
            let own: i64 = statements.iter().map(|s| s.participant_cents).sum();
            if (gross, own) != (closed.gross_cents, closed.participant_cents) {
                return Err(format!(
                    "closing: totals recompute to {gross} gross and {own} for participants, the closing logged {} and {}",
                    closed.gross_cents, closed.participant_cents
                ));
            }
            true
        }
    };
    Ok(Recomputed {
        bundle: report,
        period: billing.period.clone(),
        statements,
        closing_checked,
    })
}

/// Compare recomputed statements with the bundle's, naming the first difference.
fn compare(computed: &Value, served: &Value) -> Result<(), String> {
    let (Some(computed), Some(served)) = (computed.as_array(), served.as_array()) else {
        return Err("billing: statements must be a list".into());
    };
    let siren = |v: &Value| {
        v.get("siren")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let served_by: BTreeMap<String, &Value> = served.iter().map(|s| (siren(s), s)).collect();
    if served_by.len() != served.len() {
        return Err("billing: the bundle carries two statements for one SIREN".into());
    }
    let computed_by: BTreeMap<String, &Value> = computed.iter().map(|s| (siren(s), s)).collect();
    for (siren, statement) in &computed_by {
        let Some(other) = served_by.get(siren) else {
            return Err(format!(
                "billing: the entries give SIREN {siren} a statement the bundle does not carry"
            ));
        };
        if statement != other {
            let field = [
                "gross_cents",
                "participant_cents",
                "financed_cents",
                "lines",
            ]
            .into_iter()
            .find(|f| statement.get(f) != other.get(f))
            .unwrap_or("statement");
            return Err(format!(
                "billing: SIREN {siren}'s {field} recomputes to {}, the bundle says {}",
                statement.get(field).unwrap_or(statement),
                other.get(field).unwrap_or(other)
            ));
        }
    }
    if let Some(siren) = served_by.keys().find(|s| !computed_by.contains_key(*s)) {
        return Err(format!(
            "billing: the bundle carries a statement for SIREN {siren} that the entries do not produce"
        ));
    }
    Ok(())
}
