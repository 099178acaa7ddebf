//! Representatives' signatures: a detached JWS (RFC 7515 Appendix F) over the RFC 8785
//! form of what is signed, made with the key a MandateCredential is bound to, plus that
//! mandate.
//!
//! The JWS header names the key (`kid`, a DID URL of the mandate's subject) and the signing
//! time (`iat`, seconds). The mandate must have been valid at that time, must not be
//! revoked now (a revocation's date is unknown, so fail closed), and its powers — ODRL
//! permissions, decided by the evaluator — must allow the act for that party.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ExchangeFailure, ExchangeService, jose_failure};
use crate::entry::{PartySignature, format_time};
use crate::jose;
use crate::trust::did::{Relationship, did_of};
use crate::trust::mandates::{email_commitment, mandate_siren};
use crate::trust::powers;

/// A representative's signature as submitted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeSignature {
    /// The MandateCredential (as issued) the signer acts on.
    pub mandate: Value,
    /// Detached compact JWS: `header..signature`.
    pub jws: String,
}

impl RepresentativeSignature {
    /// The SIREN the submitted (not yet verified) mandate says it acts for: which party
    /// the signature is offered for. [`check`] verifies it.
    pub fn acts_for(&self) -> Option<&str> {
        self.mandate
            .get("credentialSubject")
            .and_then(|s| s.get("actsFor"))
            .and_then(|a| a.get("siren"))
            .and_then(Value::as_str)
    }
}

/// A signature that passed every check, with what the log and the private store keep.
#[derive(Debug, Clone)]
pub struct CheckedSignature {
    pub logged: PartySignature,
    pub jws: String,
    pub mandate: Value,
}

/// The signing time in a JWS header.
fn signed_at(header: &jose::Compact<'_>) -> Result<DateTime<Utc>, ExchangeFailure> {
    header
        .header
        .get("iat")
        .and_then(Value::as_i64)
        .and_then(|iat| DateTime::from_timestamp(iat, 0))
        .ok_or_else(|| {
            ExchangeFailure::Signature(
                "the signature's header needs `iat`, the signing time in seconds".into(),
            )
        })
}

/// Check one representative's signature over `payload` for `siren` (who plays `role`),
/// with `power` evaluated in `context` (an ODRL context; `dateTime` is set to the signing
/// time).
pub async fn check(
    exchange: &ExchangeService,
    signature: &RepresentativeSignature,
    payload: &[u8],
    siren: &str,
    role: &str,
    power: &str,
    context: Value,
) -> Result<CheckedSignature, ExchangeFailure> {
    let trust = exchange.trust();
    let settings = exchange.settings();
    let jws = jose::parse(&signature.jws, Some(payload))
        .map_err(|e| jose_failure(&format!("signature for SIREN {siren}"), e))?;
    let kid = jws
        .header_str("kid")
        .ok_or_else(|| {
            ExchangeFailure::Signature(format!(
                "the signature for SIREN {siren} names no key (`kid`)"
            ))
        })?
        .to_owned();
    let at = signed_at(&jws)?;
    let now = crate::clock::now();
    if at > now + Duration::seconds(settings.clock_skew_seconds) {
        return Err(ExchangeFailure::Signature(format!(
            "the signature for SIREN {siren} is dated in the future ({})",
            format_time(at)
        )));
    }
    if at < now - Duration::days(settings.signature_max_age_days) {
        return Err(ExchangeFailure::Signature(format!(
            "the signature for SIREN {siren} is older than {} days",
            settings.signature_max_age_days
        )));
    }
    // The mandate as of the signing time (validity period), with today's status. `iat` has
    // whole seconds: the signature was made within the second after it.
    let anchors = trust.anchors();
    let within_second = (at + Duration::milliseconds(999)).min(now);
    let mandate = trust
        .verifier()
        .verify_credential(&signature.mandate, &anchors, within_second)
        .await
        .map_err(|e| {
            ExchangeFailure::Mandate(format!("the mandate of the signer for SIREN {siren}: {e}"))
        })?;
    if !mandate.has_type("MandateCredential") {
        return Err(ExchangeFailure::Mandate(format!(
            "the credential given for SIREN {siren}'s signer is not a MandateCredential"
        )));
    }
    let holder = mandate
        .subject
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if did_of(&kid) != holder {
        return Err(ExchangeFailure::Signature(format!(
            "the signature for SIREN {siren} is made with {kid}, not with the key the mandate is bound to"
        )));
    }
    let key = trust
        .verifier()
        .dids()
        .ed25519_key(&kid, &holder, Relationship::AssertionMethod)
        .await
        .map_err(|e| ExchangeFailure::Signature(format!("signer key {kid}: {e}")))?;
    jws.verify_ed25519(&key)
        .map_err(|e| jose_failure(&format!("signature for SIREN {siren}"), e))?;
    let mandate_for = mandate_siren(&mandate)?;
    if mandate_for != siren {
        return Err(ExchangeFailure::Mandate(format!(
            "the signer for SIREN {siren} holds a mandate for SIREN {mandate_for}"
        )));
    }
    let mandate_powers = mandate.subject.get("powers").ok_or_else(|| {
        ExchangeFailure::Mandate(format!(
            "the mandate of SIREN {siren}'s signer has no powers"
        ))
    })?;
    let mut context = context;
    if let Value::Object(map) = &mut context {
        map.insert("dateTime".into(), Value::from(format_time(at)));
    }
    powers::check(mandate_powers, power, siren, &context)
        .map_err(|e| ExchangeFailure::Mandate(e.to_string()))?;
    let email_commitment = email_commitment(&mandate);
    Ok(CheckedSignature {
        logged: PartySignature {
            siren: siren.to_owned(),
            role: role.to_owned(),
            jws_sha256: hex::encode(Sha256::digest(signature.jws.as_bytes())),
            signed_at: format_time(at),
            signer_commitment: hex::encode(Sha256::digest(
                format!("signer\0{email_commitment}\0{holder}").as_bytes(),
            )),
            mandate: mandate.seen(),
        },
        jws: signature.jws.clone(),
        mandate: signature.mandate.clone(),
    })
}

/// An ODRL context for the `sign-contract` power: the contract's value, the sum of the
/// `payAmount` amounts its rules name (0 EUR when it names none), so that a mandate
/// limited to an amount is decided by the evaluator.
pub fn contract_value_context(agreement: &Value) -> Value {
    let mut total = crate::odrl::decimal::Decimal::from_integer(0);
    let mut stack = vec![agreement];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                let left = map.get("leftOperand").and_then(|l| match l {
                    Value::String(s) => Some(s.as_str()),
                    other => other.get("@id").and_then(Value::as_str),
                });
                if left.is_some_and(|l| l.ends_with("payAmount"))
                    && let Some(amount) = map.get("rightOperand").and_then(amount_of)
                    && let Some(sum) = total.checked_add(amount)
                {
                    total = sum;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    json!({"payAmount": {"value": total.to_string(), "unit": "EUR"}})
}

fn amount_of(value: &Value) -> Option<crate::odrl::decimal::Decimal> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(map) => match map.get("@value")? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        },
        _ => return None,
    };
    crate::odrl::decimal::Decimal::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_value_sums_pay_amounts() {
        let agreement = json!({"permission": [{"duty": [{"action": [{"refinement": [
            {"leftOperand": "payAmount", "operator": "eq",
             "rightOperand": {"@value": "2.50", "@type": "xsd:decimal"}, "unit": "EUR"}]}]}]},
            {"duty": [{"constraint": [{"leftOperand": "odrl:payAmount", "operator": "lteq",
             "rightOperand": 10}]}]}]});
        assert_eq!(
            contract_value_context(&agreement)["payAmount"]["value"],
            json!("12.50")
        );
        assert_eq!(
            contract_value_context(&json!({}))["payAmount"]["value"],
            json!("0")
        );
    }
}
