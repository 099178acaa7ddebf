//! Transfer receipts: a connector's signed account of a transfer, logged whole.
//!
//! A receipt is a compact JWS signed by a registered connector key (`kid` = its
//! thumbprint) whose payload holds the decision token, the transfer id, the asset, bytes,
//! records, the content's SHA-256, and start and end times. A forged or unsigned receipt is
//! refused and changes nothing. A correctly signed receipt that breaks a rule (no valid
//! permit, a terminated contract, a second transfer on one decision, a transfer started
//! after the decision expired) is refused *and* logged as `receipt.rejected`: the attempt
//! is evidence. When both sides of a transfer have posted, they are compared and any
//! disagreement is logged as `receipt.mismatch`.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{ExchangeFailure, ExchangeService, append_one, jose_failure, tokens};
use crate::entry::{ReceiptMismatch, ReceiptRecorded, ReceiptRejected, encode, format_time};
use crate::jose;
use crate::journal::LogReceipt;
use crate::store::exchange::ReceiptRecord;
use crate::trust::powers::organisation_target;

/// Longest transfer id or asset IRI.
const MAX_ID: usize = 2048;

/// What the service answers for a logged receipt.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptAnswer {
    pub transfer_id: String,
    pub role: String,
    /// `awaiting-counterpart`, `matched` or `mismatch`.
    pub matching: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
    pub log: LogReceipt,
    /// The mismatch entry, when this receipt revealed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch_log: Option<LogReceipt>,
}

/// The receipt's claims, checked for shape.
struct Claims {
    decision_token: String,
    transfer_id: String,
    asset: String,
    bytes: u64,
    records: u64,
    content_sha256: String,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
}

fn claims(payload: &Map<String, Value>) -> Result<Claims, String> {
    let text = |name: &str| -> Result<String, String> {
        payload
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && v.len() <= MAX_ID)
            .map(str::to_owned)
            .ok_or_else(|| format!("`{name}` must be a non-empty string"))
    };
    let number = |name: &str| -> Result<u64, String> {
        payload
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("`{name}` must be a non-negative integer"))
    };
    let time = |name: &str| -> Result<DateTime<Utc>, String> {
        let value = text(name)?;
        DateTime::parse_from_rfc3339(&value)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("`{name}` must be an RFC 3339 date-time"))
    };
    let content_sha256 = text("content_sha256")?.to_ascii_lowercase();
    if content_sha256.len() != 64 || !content_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("`content_sha256` must be 64 hexadecimal characters".into());
    }
    let claims = Claims {
        decision_token: text("decision")?,
        transfer_id: text("transfer_id")?,
        asset: text("asset")?,
        bytes: number("bytes")?,
        records: number("records")?,
        content_sha256,
        started_at: time("started_at")?,
        ended_at: time("ended_at")?,
    };
    if claims.ended_at < claims.started_at {
        return Err("`ended_at` is before `started_at`".into());
    }
    Ok(claims)
}

/// What each side says about a transfer, for comparison.
struct Account<'a> {
    asset: &'a str,
    bytes: u64,
    records: u64,
    content_sha256: &'a str,
}

impl<'a> From<&'a ReceiptRecord> for Account<'a> {
    fn from(r: &'a ReceiptRecord) -> Self {
        Account {
            asset: &r.asset,
            bytes: r.bytes,
            records: r.records,
            content_sha256: &r.content_sha256,
        }
    }
}

impl<'a> From<&'a ReceiptRecorded> for Account<'a> {
    fn from(r: &'a ReceiptRecorded) -> Self {
        Account {
            asset: &r.asset,
            bytes: r.bytes,
            records: r.records,
            content_sha256: &r.content_sha256,
        }
    }
}

/// Differences between the provider's and the consumer's accounts of one transfer.
fn differences(provider: Account<'_>, consumer: Account<'_>) -> Vec<String> {
    let mut found = Vec::new();
    let mut compare = |field: &str, a: String, b: String| {
        if a != b {
            found.push(format!("{field}: provider {a} ≠ consumer {b}"));
        }
    };
    compare("asset", provider.asset.into(), consumer.asset.into());
    compare(
        "bytes",
        provider.bytes.to_string(),
        consumer.bytes.to_string(),
    );
    compare(
        "records",
        provider.records.to_string(),
        consumer.records.to_string(),
    );
    compare(
        "content_sha256",
        provider.content_sha256.into(),
        consumer.content_sha256.into(),
    );
    found
}

/// Accept (or reject, on the record) a signed receipt.
pub async fn record(
    exchange: &ExchangeService,
    receipt_jws: &str,
) -> Result<ReceiptAnswer, ExchangeFailure> {
    let store = exchange.trust().store();
    // Authenticity first: nothing unsigned or forged reaches the log.
    let jws = jose::parse(receipt_jws, None).map_err(|e| jose_failure("receipt", e))?;
    let kid = jws
        .header_str("kid")
        .ok_or_else(|| ExchangeFailure::Signature("the receipt names no key (`kid`)".into()))?
        .to_owned();
    let key = store.participant_key(&kid).await?.ok_or_else(|| {
        ExchangeFailure::Unauthenticated(format!("key {kid} is not a registered connector key"))
    })?;
    if let Some(index) = key.revoked_index {
        return Err(ExchangeFailure::Unauthenticated(format!(
            "key {kid} was revoked at log index {index}"
        )));
    }
    jws.verify(&key.jwk)
        .map_err(|e| jose_failure("receipt", e))?;
    // Counted once the signer is known, before anything (even a rejection) is logged.
    exchange.limit(&key.siren)?;
    let payload = jws.payload_json().map_err(|e| jose_failure("receipt", e))?;
    let claims = claims(&payload).map_err(|e| ExchangeFailure::Input(format!("receipt: {e}")))?;
    let receipt_sha256 = hex::encode(Sha256::digest(receipt_jws.as_bytes()));

    let decision_id = tokens::verify_own(exchange, &claims.decision_token, "decision+jwt")
        .ok()
        .and_then(|c| c.get("jti").and_then(Value::as_str).map(str::to_owned));
    let Some(decision_id) = decision_id else {
        return reject(
            exchange,
            &receipt_sha256,
            &key.siren,
            &kid,
            Some(&claims.transfer_id),
            None,
            None,
            "the decision token is not a valid decision of this clearing house".into(),
        )
        .await;
    };
    // One receipt check at a time per decision: "one transfer per decision" must hold.
    let _guard = exchange.lock(&decision_id).await?;
    let rejection = |reason: String, contract: Option<String>| {
        let (sha, siren, kid, transfer, decision) = (
            receipt_sha256.clone(),
            key.siren.clone(),
            kid.clone(),
            claims.transfer_id.clone(),
            decision_id.clone(),
        );
        async move {
            reject(
                exchange,
                &sha,
                &siren,
                &kid,
                Some(&transfer),
                Some(&decision),
                contract.as_deref(),
                reason,
            )
            .await
        }
    };
    let Some((decision, contract)) = store.decision_for_receipt(&decision_id).await? else {
        return rejection(format!("decision {decision_id} is not in the log"), None).await;
    };
    let contract_id = decision.contract_id.clone();
    if decision.decision != "permit" {
        return rejection(
            format!(
                "decision {decision_id} (log index {}) denied this transfer",
                decision.log_index
            ),
            Some(contract_id),
        )
        .await;
    }
    let Some(contract) = contract else {
        return rejection(
            format!("contract {contract_id} is unknown"),
            Some(contract_id),
        )
        .await;
    };
    let party = organisation_target(&key.siren);
    let role = if party == contract.assigner {
        "provider"
    } else if party == contract.assignee {
        "consumer"
    } else {
        return rejection(
            format!(
                "SIREN {} is not a party of contract {contract_id}",
                key.siren
            ),
            Some(contract_id),
        )
        .await;
    };
    if contract.state != "active" {
        return rejection(
            format!(
                "contract {contract_id} was {} (log index {})",
                contract.state, contract.updated_index
            ),
            Some(contract_id),
        )
        .await;
    }
    if claims.asset != decision.target {
        return rejection(
            format!(
                "the receipt's asset {} is not the decision's target {}",
                claims.asset, decision.target
            ),
            Some(contract_id),
        )
        .await;
    }
    let expires = DateTime::parse_from_rfc3339(&decision.expires_at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ExchangeFailure::Input("stored decision expiry is unreadable".into()))?;
    let skew = Duration::seconds(exchange.settings().clock_skew_seconds);
    if claims.started_at > expires + skew {
        return rejection(
            format!(
                "the transfer started at {} after decision {decision_id} expired at {}",
                format_time(claims.started_at),
                decision.expires_at
            ),
            Some(contract_id),
        )
        .await;
    }
    if claims.ended_at > crate::clock::now() + skew {
        return rejection("the transfer ends in the future".into(), Some(contract_id)).await;
    }
    let earlier = store.receipts_for_decision(&decision_id).await?;
    if let Some(same) = earlier
        .iter()
        .find(|r| r.transfer_id == claims.transfer_id && r.role == role)
    {
        return Err(ExchangeFailure::Conflict(format!(
            "the {role}'s receipt for transfer {} is already logged at index {}",
            claims.transfer_id, same.log_index
        )));
    }
    if let Some(other) = earlier.iter().find(|r| r.transfer_id != claims.transfer_id) {
        return rejection(
            format!(
                "decision {decision_id} already covers transfer {}: one decision permits one transfer",
                other.transfer_id
            ),
            Some(contract_id),
        )
        .await;
    }
    let recorded = ReceiptRecorded {
        receipt_jws: receipt_jws.to_owned(),
        receipt_sha256: receipt_sha256.clone(),
        transfer_id: claims.transfer_id.clone(),
        decision_id: decision_id.clone(),
        contract_id: contract_id.clone(),
        role: role.to_owned(),
        siren: key.siren.clone(),
        kid: kid.clone(),
        asset: claims.asset.clone(),
        bytes: claims.bytes,
        records: claims.records,
        content_sha256: claims.content_sha256.clone(),
        started_at: format_time(claims.started_at),
        ended_at: format_time(claims.ended_at),
        anchors_version: exchange.trust().anchors_version(),
    };
    let now = crate::clock::now();
    let mut entries = vec![encode(now, &recorded)?];
    let counterpart = earlier
        .iter()
        .find(|r| r.transfer_id == claims.transfer_id && r.role != role);
    let mut found = Vec::new();
    if let Some(other) = counterpart {
        found = if role == "consumer" {
            differences(other.into(), (&recorded).into())
        } else {
            differences((&recorded).into(), other.into())
        };
        if !found.is_empty() {
            let (provider_sha, consumer_sha) = if role == "provider" {
                (receipt_sha256.clone(), other.receipt_sha256.clone())
            } else {
                (other.receipt_sha256.clone(), receipt_sha256.clone())
            };
            entries.push(encode(
                now,
                &ReceiptMismatch {
                    transfer_id: claims.transfer_id.clone(),
                    contract_id: contract_id.clone(),
                    provider_receipt_sha256: provider_sha,
                    consumer_receipt_sha256: consumer_sha,
                    differences: found.clone(),
                },
            )?);
        }
    }
    let mut logged = exchange.trust().journal().append_raw(entries).await?;
    let mismatch_log = (logged.len() > 1).then(|| logged.pop()).flatten();
    let log = logged
        .pop()
        .ok_or_else(|| ExchangeFailure::Input("nothing was logged".into()))?;
    let matching = match (counterpart.is_some(), found.is_empty()) {
        (false, _) => "awaiting-counterpart",
        (true, true) => "matched",
        (true, false) => "mismatch",
    };
    Ok(ReceiptAnswer {
        transfer_id: claims.transfer_id,
        role: role.to_owned(),
        matching: matching.to_owned(),
        differences: found,
        log,
        mismatch_log,
    })
}

/// Log a rejected (but authentic) receipt and refuse it.
#[allow(clippy::too_many_arguments)]
async fn reject(
    exchange: &ExchangeService,
    receipt_sha256: &str,
    siren: &str,
    kid: &str,
    transfer_id: Option<&str>,
    decision_id: Option<&str>,
    contract_id: Option<&str>,
    reason: String,
) -> Result<ReceiptAnswer, ExchangeFailure> {
    let entry = encode(
        crate::clock::now(),
        &ReceiptRejected {
            receipt_sha256: receipt_sha256.to_owned(),
            siren: siren.to_owned(),
            kid: kid.to_owned(),
            transfer_id: transfer_id.map(str::to_owned),
            decision_id: decision_id.map(str::to_owned),
            contract_id: contract_id.map(str::to_owned),
            reason: reason.clone(),
        },
    )?;
    let log = append_one(exchange, entry).await?;
    Err(ExchangeFailure::ReceiptRejected { reason, log })
}
