//! Publishing tariffs and financing rules to the log, and computing statements from it.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::financing::FinancingRule;
use super::statement::{Inputs, Month, Statement, compute};
use super::tariff::Tariff;
use crate::entry::{FinancingPublished, TariffPublished, canonical_json, decode};
use crate::journal::LogReceipt;
use crate::store::Store;
use crate::trust::TrustFailure;
use crate::trust::service::TrustService;

/// Entry types a statement is computed from.
pub const STATEMENT_INPUTS: [&str; 6] = [
    "participant.registered",
    "contract.agreed",
    "receipt.recorded",
    "tariff.published",
    "financing.published",
    "billing.credit_issued",
];

fn sha256(value: &Value) -> Result<String, TrustFailure> {
    let bytes = canonical_json(value).map_err(|e| TrustFailure::Input(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Already published (id, version) pairs of one entry type.
async fn published(
    store: &Store,
    kind: &str,
    field: &str,
) -> Result<Vec<(String, u64)>, TrustFailure> {
    let mut pairs = Vec::new();
    for (_, bytes) in store.entries_of_types(&[kind], i64::MAX).await? {
        // Only valid entries count; their fields are then read as plain JSON.
        if decode(&bytes).is_ok()
            && let Ok(fields) = serde_json::from_slice::<Value>(&bytes)
            && let Some(body) = fields.get(field)
        {
            let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
            let version = body
                .get("version")
                .and_then(Value::as_u64)
                .unwrap_or_default();
            pairs.push((id.to_owned(), version));
        }
    }
    Ok(pairs)
}

fn check_new(pairs: &[(String, u64)], id: &str, version: u32) -> Result<(), TrustFailure> {
    match pairs.iter().filter(|(i, _)| i == id).map(|(_, v)| *v).max() {
        Some(latest) if latest >= u64::from(version) => Err(TrustFailure::Conflict(format!(
            "{id} version {latest} is already published: publish a higher version"
        ))),
        _ => Ok(()),
    }
}

/// Validate and log a tariff file (`tariff.published`).
pub async fn publish_tariff(
    trust: &TrustService,
    file: &Value,
    operator: &str,
) -> Result<LogReceipt, TrustFailure> {
    let tariff =
        Tariff::from_json("tariff", file).map_err(|e| TrustFailure::Input(e.to_string()))?;
    // Required for what is published from now on (invoices need it); tariffs logged before
    // the field existed still read back.
    if tariff.vat_bp == 0 && tariff.vat_exemption_code.is_none() {
        return Err(TrustFailure::Input(
            "tariff: a 0 % VAT rate needs vat_exemption_code (its VATEX code, e.g. VATEX-EU-132)"
                .into(),
        ));
    }
    let _guard = trust.lock_changes().await?;
    check_new(
        &published(trust.store(), "tariff.published", "tariff").await?,
        &tariff.id,
        tariff.version,
    )?;
    let body = TariffPublished {
        tariff: file.clone(),
        tariff_sha256: sha256(file)?,
        recorded_by: operator.to_owned(),
    };
    Ok(trust.journal().append(crate::clock::now(), &body).await?.1)
}

/// Validate and log a financing rule (`financing.published`).
pub async fn publish_financing(
    trust: &TrustService,
    file: &Value,
    operator: &str,
) -> Result<LogReceipt, TrustFailure> {
    let rule = FinancingRule::from_json("financing rule", file)
        .map_err(|e| TrustFailure::Input(e.to_string()))?;
    let _guard = trust.lock_changes().await?;
    check_new(
        &published(trust.store(), "financing.published", "rule").await?,
        &rule.id,
        rule.version,
    )?;
    let body = FinancingPublished {
        rule: file.clone(),
        rule_sha256: sha256(file)?,
        recorded_by: operator.to_owned(),
    };
    Ok(trust.journal().append(crate::clock::now(), &body).await?.1)
}

/// Every participant's statement for `period` (or one participant's), from the log.
pub async fn statements(
    store: &Store,
    period: Month,
    siren: Option<&str>,
) -> Result<Vec<Statement>, TrustFailure> {
    let rows = statement_inputs(store, period).await?;
    statements_from(&rows, period, siren)
}

/// The entries (index, bytes) `period`'s statements follow from: those of the input types
/// logged before its end and, once it is closed, before its closing entry (so closed
/// figures cannot move, whatever is logged later).
pub async fn statement_inputs(
    store: &Store,
    period: Month,
) -> Result<Vec<(u64, Vec<u8>)>, TrustFailure> {
    let cut = super::close::closing(store, period)
        .await?
        .map(|(index, _, _)| index);
    statement_inputs_before(store, period, cut).await
}

/// The input entries of `period` logged before its end and before `closing` (the index of
/// its closing entry, when the caller already looked it up).
pub async fn statement_inputs_before(
    store: &Store,
    period: Month,
    closing: Option<u64>,
) -> Result<Vec<(u64, Vec<u8>)>, TrustFailure> {
    let end = period.end_exclusive().timestamp_millis();
    let mut rows = store.entries_of_types(&STATEMENT_INPUTS, end).await?;
    if let Some(cut) = closing {
        rows.retain(|(index, _)| *index < cut);
    }
    Ok(rows)
}

/// Statements of `period` (or one participant's) from its input entries.
pub fn statements_from(
    rows: &[(u64, Vec<u8>)],
    period: Month,
    siren: Option<&str>,
) -> Result<Vec<Statement>, TrustFailure> {
    let mut inputs = Inputs::default();
    for (index, bytes) in rows {
        let decoded = decode(bytes)
            .map_err(|e| TrustFailure::Input(format!("log entry {index} does not decode: {e}")))?;
        inputs
            .add(*index, &decoded)
            .map_err(|e| TrustFailure::Input(e.to_string()))?;
    }
    let all = compute(&inputs, period).map_err(|e| TrustFailure::Input(e.to_string()))?;
    Ok(all
        .into_iter()
        .filter(|s| siren.is_none_or(|wanted| s.siren == wanted))
        .collect())
}
