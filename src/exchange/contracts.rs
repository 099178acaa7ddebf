//! Contracts: ODRL Agreements between two registered participants, signed by each party's
//! representative; amendments and terminations are new signed entries, never edits.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::signatures::{self, CheckedSignature, RepresentativeSignature};
use super::{ExchangeFailure, ExchangeService, append_one};
use crate::entry::{
    ContractAgreed, ContractAmended, ContractTerminated, PaymentRecorded, canonical_json, encode,
    format_time,
};
use crate::journal::LogReceipt;
use crate::odrl::decimal::Decimal;
use crate::odrl::{Policy, PolicyKind};
use crate::store::exchange::{ContractEvent, ContractRecord};
use crate::trust::powers::{self, organisation_target};
use crate::trust::siret::Siren;

/// Longest termination reason.
const MAX_REASON_CHARS: usize = 1000;

/// An agreement and both representatives' signatures, as submitted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAgreement {
    pub agreement: Value,
    pub signatures: Vec<RepresentativeSignature>,
}

/// A termination, as submitted: the reason and one party's signature over
/// [`termination_statement`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTermination {
    pub reason: String,
    pub signature: RepresentativeSignature,
}

/// A contract as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ContractView {
    pub id: String,
    pub assigner: String,
    pub assignee: String,
    /// `active` or `terminated`.
    pub state: String,
    pub version: u32,
    /// As stored: the agreement's JSON, passed through without parsing.
    pub agreement: Box<serde_json::value::RawValue>,
    pub agreement_sha256: String,
    pub agreed_index: u64,
    pub agreed_at: String,
    pub history: Vec<ContractEvent>,
}

/// What a party signs to terminate a contract: this object's RFC 8785 form.
pub fn termination_statement(contract_id: &str, agreement_sha256: &str, reason: &str) -> Value {
    json!({
        "action": "terminate",
        "contract": contract_id,
        "agreement_sha256": agreement_sha256,
        "reason": reason,
    })
}

/// The bytes a representative signs for an agreement: its RFC 8785 form.
pub fn signing_payload(agreement: &Value) -> Result<Vec<u8>, ExchangeFailure> {
    Ok(canonical_json(agreement)?)
}

/// A validated agreement: its parties and hash.
struct CheckedAgreement {
    uid: String,
    assigner: String,
    assignee: String,
    payload: Vec<u8>,
    sha256: String,
}

/// The SIREN in a party IRI `urn:siren:<SIREN>`.
fn party_siren(agreement: &Value, role: &str) -> Result<String, ExchangeFailure> {
    let party = agreement.get(role).and_then(|p| match p {
        Value::String(s) => Some(s.as_str()),
        other => other.get("uid").and_then(Value::as_str),
    });
    let iri = party.ok_or_else(|| {
        ExchangeFailure::Input(format!(
            "the agreement needs a top-level `{role}`: urn:siren:<SIREN> of a registered participant"
        ))
    })?;
    let siren = iri.strip_prefix("urn:siren:").ok_or_else(|| {
        ExchangeFailure::Input(format!(
            "the agreement's {role} {iri:?} is not a urn:siren:<SIREN> party"
        ))
    })?;
    Siren::parse(siren)
        .map(|s| s.to_string())
        .map_err(|e| ExchangeFailure::Input(format!("the agreement's {role}: {e}")))
}

fn check_agreement(agreement: &Value) -> Result<CheckedAgreement, ExchangeFailure> {
    let policy = Policy::validate_json(agreement).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        ExchangeFailure::Input(format!(
            "the agreement is not a valid ODRL policy: {}",
            list.join("; ")
        ))
    })?;
    if policy.kind() != PolicyKind::Agreement {
        return Err(ExchangeFailure::Input(format!(
            "a contract must be an ODRL Agreement, not a {:?}",
            policy.kind()
        )));
    }
    if policy.uid().len() > 512 {
        return Err(ExchangeFailure::Input(
            "the agreement's uid is longer than 512 characters".into(),
        ));
    }
    let assigner = party_siren(agreement, "assigner")?;
    let assignee = party_siren(agreement, "assignee")?;
    if assigner == assignee {
        return Err(ExchangeFailure::Input(
            "the assigner and the assignee must be different participants".into(),
        ));
    }
    let payload = signing_payload(agreement)?;
    Ok(CheckedAgreement {
        uid: policy.uid().to_owned(),
        assigner,
        assignee,
        sha256: hex::encode(Sha256::digest(&payload)),
        payload,
    })
}

/// Both parties must be registered and active.
async fn check_parties(
    exchange: &ExchangeService,
    agreement: &CheckedAgreement,
) -> Result<(), ExchangeFailure> {
    for siren in [&agreement.assigner, &agreement.assignee] {
        let participant = exchange
            .trust()
            .store()
            .participant(siren)
            .await?
            .ok_or_else(|| {
                ExchangeFailure::Input(format!("SIREN {siren} is not a registered participant"))
            })?;
        if participant.status != "active" {
            return Err(ExchangeFailure::Conflict(format!(
                "participant {siren} is {}",
                participant.status
            )));
        }
    }
    Ok(())
}

/// One signature per party, each checked for `sign-contract`.
async fn check_both_signatures(
    exchange: &ExchangeService,
    agreement: &CheckedAgreement,
    document: &Value,
    submitted: &[RepresentativeSignature],
) -> Result<Vec<CheckedSignature>, ExchangeFailure> {
    if submitted.len() != 2 {
        return Err(ExchangeFailure::Input(format!(
            "an agreement needs exactly two signatures (assigner's and assignee's), got {}",
            submitted.len()
        )));
    }
    let context = signatures::contract_value_context(document);
    let mut checked: Vec<CheckedSignature> = Vec::with_capacity(2);
    for (siren, role) in [
        (&agreement.assigner, "assigner"),
        (&agreement.assignee, "assignee"),
    ] {
        // Each signature is matched to the party its mandate is for.
        let mut last_error = None;
        let mut found = None;
        for signature in submitted {
            if signature.acts_for() != Some(siren.as_str()) {
                continue;
            }
            match signatures::check(
                exchange,
                signature,
                &agreement.payload,
                siren,
                role,
                powers::SIGN_CONTRACT,
                context.clone(),
            )
            .await
            {
                Ok(ok) => {
                    found = Some(ok);
                    break;
                }
                Err(error) => last_error = Some(error),
            }
        }
        match (found, last_error) {
            (Some(ok), _) => checked.push(ok),
            (None, Some(error)) => return Err(error),
            (None, None) => {
                return Err(ExchangeFailure::Mandate(format!(
                    "no signature by a representative of the {role} (SIREN {siren})"
                )));
            }
        }
    }
    Ok(checked)
}

async fn keep_signatures(
    exchange: &ExchangeService,
    contract_id: &str,
    checked: &[CheckedSignature],
) -> Result<(), ExchangeFailure> {
    for signature in checked {
        exchange
            .trust()
            .store()
            .save_contract_signature(
                &signature.logged.jws_sha256,
                contract_id,
                &signature.jws,
                &signature.mandate,
            )
            .await?;
    }
    Ok(())
}

/// Record a contract both parties signed.
pub async fn agree(
    exchange: &ExchangeService,
    submitted: &SignedAgreement,
) -> Result<(ContractView, LogReceipt), ExchangeFailure> {
    let agreement = check_agreement(&submitted.agreement)?;
    check_parties(exchange, &agreement).await?;
    let checked = check_both_signatures(
        exchange,
        &agreement,
        &submitted.agreement,
        &submitted.signatures,
    )
    .await?;
    let _guard = exchange.lock(&agreement.uid).await?;
    if exchange
        .trust()
        .store()
        .contract(&agreement.uid)
        .await?
        .is_some()
    {
        return Err(ExchangeFailure::Conflict(format!(
            "a contract with uid {} already exists: amend it with POST /v1/contracts/{{id}}/amendments",
            agreement.uid
        )));
    }
    keep_signatures(exchange, &agreement.uid, &checked).await?;
    let entry = encode(
        crate::clock::now(),
        &ContractAgreed {
            contract_id: agreement.uid.clone(),
            assigner: organisation_target(&agreement.assigner),
            assignee: organisation_target(&agreement.assignee),
            agreement: submitted.agreement.clone(),
            agreement_sha256: agreement.sha256.clone(),
            signatures: checked.into_iter().map(|c| c.logged).collect(),
            anchors_version: exchange.trust().anchors_version(),
        },
    )?;
    let receipt = append_one(exchange, entry).await?;
    Ok((get(exchange, &agreement.uid).await?, receipt))
}

/// The current contract, which must exist and be active.
async fn active_contract(
    exchange: &ExchangeService,
    id: &str,
) -> Result<ContractRecord, ExchangeFailure> {
    let contract = exchange
        .trust()
        .store()
        .contract(id)
        .await?
        .ok_or_else(|| ExchangeFailure::NotFound(format!("no contract {id}")))?;
    if contract.state != "active" {
        return Err(ExchangeFailure::Conflict(format!(
            "contract {id} is {}",
            contract.state
        )));
    }
    Ok(contract)
}

/// Replace a contract's agreement by a new one both parties signed.
pub async fn amend(
    exchange: &ExchangeService,
    id: &str,
    submitted: &SignedAgreement,
) -> Result<(ContractView, LogReceipt), ExchangeFailure> {
    let agreement = check_agreement(&submitted.agreement)?;
    let current = active_contract(exchange, id).await?;
    if organisation_target(&agreement.assigner) != current.assigner
        || organisation_target(&agreement.assignee) != current.assignee
    {
        return Err(ExchangeFailure::Input(format!(
            "an amendment must keep the parties ({} → {})",
            current.assigner, current.assignee
        )));
    }
    if agreement.sha256 == current.agreement_sha256 {
        return Err(ExchangeFailure::Conflict(
            "the amendment is identical to the agreement in force".into(),
        ));
    }
    check_parties(exchange, &agreement).await?;
    let checked = check_both_signatures(
        exchange,
        &agreement,
        &submitted.agreement,
        &submitted.signatures,
    )
    .await?;
    let _guard = exchange.lock(id).await?;
    // Re-read under the lock: the contract may have changed while signatures were checked.
    let current = active_contract(exchange, id).await?;
    keep_signatures(exchange, id, &checked).await?;
    let entry = encode(
        crate::clock::now(),
        &ContractAmended {
            contract_id: id.to_owned(),
            version: current.version + 1,
            supersedes_sha256: current.agreement_sha256,
            agreement: submitted.agreement.clone(),
            agreement_sha256: agreement.sha256,
            signatures: checked.into_iter().map(|c| c.logged).collect(),
            anchors_version: exchange.trust().anchors_version(),
        },
    )?;
    let receipt = append_one(exchange, entry).await?;
    Ok((get(exchange, id).await?, receipt))
}

/// End a contract on one party's signature.
pub async fn terminate(
    exchange: &ExchangeService,
    id: &str,
    submitted: &SignedTermination,
) -> Result<(ContractView, LogReceipt), ExchangeFailure> {
    let reason = submitted.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ExchangeFailure::Input(format!(
            "reason must be between 1 and {MAX_REASON_CHARS} characters"
        )));
    }
    let current = active_contract(exchange, id).await?;
    let statement = termination_statement(id, &current.agreement_sha256, &submitted.reason);
    let payload = canonical_json(&statement)?;
    let signer_siren = submitted
        .signature
        .acts_for()
        .unwrap_or_default()
        .to_owned();
    let role = if organisation_target(&signer_siren) == current.assigner {
        "assigner"
    } else if organisation_target(&signer_siren) == current.assignee {
        "assignee"
    } else {
        return Err(ExchangeFailure::Mandate(format!(
            "only a representative of a party may terminate contract {id}"
        )));
    };
    let checked = signatures::check(
        exchange,
        &submitted.signature,
        &payload,
        &signer_siren,
        role,
        powers::SIGN_CONTRACT,
        signatures::contract_value_context(&current.agreement_value()?),
    )
    .await?;
    let _guard = exchange.lock(id).await?;
    let current = active_contract(exchange, id).await?;
    keep_signatures(exchange, id, std::slice::from_ref(&checked)).await?;
    let entry = encode(
        crate::clock::now(),
        &ContractTerminated {
            contract_id: id.to_owned(),
            agreement_sha256: current.agreement_sha256,
            reason: submitted.reason.clone(),
            signature: checked.logged,
            anchors_version: exchange.trust().anchors_version(),
        },
    )?;
    let receipt = append_one(exchange, entry).await?;
    Ok((get(exchange, id).await?, receipt))
}

/// A contract with its history.
pub async fn get(exchange: &ExchangeService, id: &str) -> Result<ContractView, ExchangeFailure> {
    let store = exchange.trust().store();
    let contract = store
        .contract(id)
        .await?
        .ok_or_else(|| ExchangeFailure::NotFound(format!("no contract {id}")))?;
    let history = store.contract_events(id).await?;
    Ok(view(contract, history))
}

pub(crate) fn view(contract: ContractRecord, history: Vec<ContractEvent>) -> ContractView {
    ContractView {
        id: contract.id,
        assigner: contract.assigner,
        assignee: contract.assignee,
        state: contract.state,
        version: contract.version,
        agreement: contract.agreement,
        agreement_sha256: contract.agreement_sha256,
        agreed_index: contract.agreed_index,
        agreed_at: contract.agreed_at,
        history,
    }
}

/// A payment the operator records under a contract's duty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// The duty's uid (or JSON path) in the agreement.
    pub duty: String,
    pub payer: String,
    pub payee: String,
    pub amount: String,
    pub currency: String,
    pub paid_at: String,
    pub evidence_sha256: String,
}

/// Record a payment made under a contract, so the evaluator sees the duty fulfilled.
pub async fn record_payment(
    exchange: &ExchangeService,
    id: &str,
    payment: &PaymentRequest,
    operator: &str,
) -> Result<LogReceipt, ExchangeFailure> {
    let contract = active_contract(exchange, id).await?;
    let parties = [contract.assigner.as_str(), contract.assignee.as_str()];
    for (field, party) in [("payer", &payment.payer), ("payee", &payment.payee)] {
        if !parties.contains(&party.as_str()) {
            return Err(ExchangeFailure::Input(format!(
                "{field} {party:?} is not a party of contract {id}"
            )));
        }
    }
    let amount = Decimal::parse(&payment.amount)
        .filter(|a| *a > Decimal::from_integer(0))
        .ok_or_else(|| {
            ExchangeFailure::Input(format!(
                "amount {:?} is not a positive decimal such as \"2.00\"",
                payment.amount
            ))
        })?;
    let paid_at = crate::odrl::xsd::parse_date_time(&payment.paid_at).ok_or_else(|| {
        ExchangeFailure::Input(format!(
            "paid_at {:?} is not an xsd:dateTime",
            payment.paid_at
        ))
    })?;
    if payment.currency.len() != 3 || !payment.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ExchangeFailure::Input(format!(
            "currency {:?} is not an ISO 4217 code such as EUR",
            payment.currency
        )));
    }
    if payment.evidence_sha256.len() != 64
        || !payment
            .evidence_sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
    {
        return Err(ExchangeFailure::Input(
            "evidence_sha256 must be 64 hexadecimal characters".into(),
        ));
    }
    if payment.duty.is_empty() || payment.duty.len() > 512 {
        return Err(ExchangeFailure::Input(
            "duty must name the duty's uid or path".into(),
        ));
    }
    let entry = encode(
        crate::clock::now(),
        &PaymentRecorded {
            payment_id: uuid::Uuid::now_v7().to_string(),
            contract_id: id.to_owned(),
            duty: payment.duty.clone(),
            payer: payment.payer.clone(),
            payee: payment.payee.clone(),
            amount: amount.to_string(),
            currency: payment.currency.clone(),
            paid_at: format_time(paid_at),
            evidence_sha256: payment.evidence_sha256.to_ascii_lowercase(),
            recorded_by: operator.to_owned(),
        },
    )?;
    append_one(exchange, entry).await
}
