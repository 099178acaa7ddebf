//! Pre-transfer decisions: "may this transfer happen now, under this contract?"
//!
//! Fail-closed: the answer is `permit` only when both parties are in good standing (active,
//! their organisation credentials neither revoked nor expired, the paying party not on
//! billing hold), the contract is in force,
//! and the ODRL evaluation of its agreement permits the action on the target for the
//! assignee, with the state of the world taken from the log (time since the agreement,
//! transfers already permitted, payments recorded, the parties' classes). Anything else is
//! `deny` with its reasons in plain words. Every decision is logged before it is answered;
//! if the log cannot take it, there is no decision (a 503, which connectors treat as deny).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ExchangeFailure, ExchangeService, append_one, tokens};
use crate::entry::{DecisionMade, encode, format_time};
use crate::journal::LogReceipt;
use crate::odrl::{Context, Evaluation, Request};
use crate::store::exchange::ContractRecord;
use crate::trust::powers::class_collection;

/// Context members the service computes from the log; a caller may not set them.
const COMPUTED: [&str; 8] = [
    "dateTime",
    "elapsedTime",
    "count",
    "payments",
    "dutyStates",
    "partyMembership",
    "payAmount",
    "evaluateOffer",
];
/// Longest action or target IRI.
const MAX_IRI: usize = 2048;

/// A connector's question.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The contract's id (its agreement's uid).
    pub contract: String,
    /// ODRL action (`use`, `read`, `distribute`…, or an IRI).
    pub action: String,
    /// The asset (dataset IRI).
    pub target: String,
    /// Left operands the caller states: `purpose`, `spatial`, `recipient`, `event`…
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionAnswer {
    pub decision_id: String,
    /// `permit` or `deny`.
    pub decision: String,
    /// Why, first the deciding reason.
    pub reasons: Vec<String>,
    /// Signed decision token (JWS, EdDSA) to present with the transfer and its receipts.
    pub token: String,
    pub expires_at: String,
    /// The ODRL evaluation, rule by rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Evaluation>,
    pub log: LogReceipt,
}

fn check_request(request: &DecisionRequest) -> Result<(), ExchangeFailure> {
    for (name, value) in [
        ("contract", &request.contract),
        ("action", &request.action),
        ("target", &request.target),
    ] {
        if value.is_empty() || value.len() > MAX_IRI {
            return Err(ExchangeFailure::Input(format!(
                "`{name}` must be between 1 and {MAX_IRI} characters"
            )));
        }
    }
    for key in request.context.keys() {
        let name = key.strip_prefix("odrl:").unwrap_or(key);
        if COMPUTED.contains(&name) {
            return Err(ExchangeFailure::Input(format!(
                "context.{key} is computed by the clearing house from the log; do not send it"
            )));
        }
    }
    Ok(())
}

/// Reasons the parties are not in good standing (empty when they are).
async fn standing(
    exchange: &ExchangeService,
    contract: &ContractRecord,
    now: &str,
) -> Result<(Vec<String>, Map<String, Value>), ExchangeFailure> {
    let store = exchange.trust().store();
    let mut reasons = Vec::new();
    let mut membership = Map::new();
    let sirens = [&contract.assigner, &contract.assignee]
        .map(|party| party.strip_prefix("urn:siren:").unwrap_or(party));
    let parties = store.parties_standing(sirens, now).await?;
    for (((role, party), siren), standing) in [
        ("provider", &contract.assigner),
        ("consumer", &contract.assignee),
    ]
    .into_iter()
    .zip(sirens)
    .zip(parties)
    {
        match standing.participant {
            None => reasons.push(format!("the {role} (SIREN {siren}) is not registered")),
            Some(p) => {
                if p.status != "active" {
                    reasons.push(format!(
                        "the {role} (SIREN {siren}) is {}{}",
                        p.status,
                        p.status_reason
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ));
                }
                membership.insert(party.clone(), json!([class_collection(&p.class)]));
            }
        }
        if role == "consumer"
            && let Some((reason, index)) = standing.billing_hold
        {
            reasons.push(format!(
                "the consumer (SIREN {siren}), who pays for transfers, is on billing hold since log index {index}: {reason}"
            ));
        }
        for (kind, sha, why) in standing.lapsed_credentials {
            reasons.push(format!(
                "the {role}'s {kind} ({}…) was {why}",
                &sha[..sha.len().min(12)]
            ));
        }
    }
    Ok((reasons, membership))
}

/// The ODRL context: the caller's operands plus what the log says.
async fn world(
    exchange: &ExchangeService,
    contract: &ContractRecord,
    request: &DecisionRequest,
    mut membership: Map<String, Value>,
    uses_before: u64,
    payment_count: u64,
) -> Result<Context, ExchangeFailure> {
    let store = exchange.trust().store();
    let now = crate::clock::now();
    let mut context = request.context.clone();
    context.insert("dateTime".into(), Value::from(format_time(now)));
    context.insert("count".into(), Value::from(uses_before));
    if let Some(agreed) = crate::odrl::xsd::parse_date_time(&contract.agreed_at) {
        let seconds = (now - agreed).num_seconds().max(0);
        context.insert("elapsedTime".into(), Value::from(format!("PT{seconds}S")));
    }
    // Recipients that are registered participants belong to their class's collection.
    let recipients: Vec<String> = match request.context.get("recipient") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    for recipient in recipients {
        if let Some(siren) = recipient.strip_prefix("urn:siren:")
            && let Some(p) = store.participant(siren).await?
        {
            membership.insert(recipient.clone(), json!([class_collection(&p.class)]));
        }
    }
    context.insert("partyMembership".into(), Value::Object(membership));
    let recorded = match payment_count {
        0 => Vec::new(),
        _ => store.payments(&contract.id).await?,
    };
    let payments: Vec<Value> = recorded
        .into_iter()
        .map(|p| {
            json!({"duty": p.duty, "payer": p.payer, "payee": p.payee,
                   "amount": p.amount, "currency": p.currency, "date": p.paid_at})
        })
        .collect();
    context.insert("payments".into(), Value::Array(payments));
    Context::from_json(&context)
        .map_err(|e| ExchangeFailure::Input(format!("the decision context: {e}")))
}

/// Decide, log and sign.
pub async fn decide(
    exchange: &ExchangeService,
    caller: &tokens::Connector,
    request: &DecisionRequest,
) -> Result<DecisionAnswer, ExchangeFailure> {
    exchange.limit(&caller.siren)?;
    check_request(request)?;
    let store = exchange.trust().store();
    // One decision at a time per contract: counts of earlier uses must include the last one.
    // The contract is read once its turn has come, so an amendment or a termination logged
    // while this decision waited is seen.
    let guard = exchange.lock(&request.contract).await?;
    let (contract, uses_before, payments) = store
        .contract_for_decision(&request.contract, &request.target)
        .await?
        .ok_or_else(|| ExchangeFailure::NotFound(format!("no contract {}", request.contract)))?;
    let caller_party = crate::trust::powers::organisation_target(&caller.siren);
    if caller_party != contract.assigner && caller_party != contract.assignee {
        return Err(ExchangeFailure::Forbidden(format!(
            "SIREN {} is not a party of contract {}",
            caller.siren, request.contract
        )));
    }
    if !exchange.trust().journal().is_writable() {
        return Err(ExchangeFailure::Journal(
            crate::journal::JournalError::ReadOnly,
        ));
    }
    let now = crate::clock::now();
    // The parties' standing as of now, once this decision's turn has come: a suspension
    // or a billing hold logged while it waited is seen.
    let (mut reasons, membership) = standing(exchange, &contract, &format_time(now)).await?;
    if contract.state != "active" {
        reasons.insert(
            0,
            format!(
                "contract {} was {} (log index {})",
                contract.id, contract.state, contract.updated_index
            ),
        );
    }
    let context = world(
        exchange,
        &contract,
        request,
        membership,
        uses_before,
        payments,
    )
    .await?;
    let explanation = match exchange.policy(&contract.agreement_sha256, &contract.agreement) {
        Ok(policy) => {
            let odrl_request = Request::new(request.action.clone())
                .with_target(request.target.clone())
                .with_assignee(contract.assignee.clone())
                .with_context(context);
            Some(policy.evaluate(&odrl_request))
        }
        Err(error) => {
            reasons.push(format!("the agreement cannot be evaluated: {error}"));
            None
        }
    };
    let permitted = reasons.is_empty() && explanation.as_ref().is_some_and(Evaluation::is_permit);
    if let Some(evaluation) = &explanation {
        let sentence = match evaluation.decision {
            crate::odrl::Decision::NotApplicable => format!(
                "the agreement has no rule for {} on {}: {}",
                request.action, request.target, evaluation.reason
            ),
            _ => format!("agreement: {}", evaluation.reason),
        };
        // A permission the standing checks overrode is not a reason for the denial.
        if permitted || !evaluation.is_permit() {
            reasons.push(sentence);
        }
    }
    let decision = if permitted { "permit" } else { "deny" };
    let decision_id = uuid::Uuid::now_v7().to_string();
    let expires = now + chrono::Duration::seconds(exchange.settings().decision_seconds);
    let entry = encode(
        now,
        &DecisionMade {
            decision_id: decision_id.clone(),
            contract_id: contract.id.clone(),
            agreement_sha256: contract.agreement_sha256.clone(),
            requester: caller.siren.clone(),
            requester_kid: caller.kid.clone(),
            action: request.action.clone(),
            target: request.target.clone(),
            decision: decision.to_owned(),
            reasons: reasons.clone(),
            context: Value::Object(request.context.clone()),
            uses_before,
            expires_at: format_time(expires),
            anchors_version: exchange.trust().anchors_version(),
        },
    )?;
    let log = append_one(exchange, entry).await?;
    // Logged: the next decision on this contract may count this one. Signing the token
    // does not need the contract.
    drop(guard);
    crate::metrics::decision(decision);
    let token = tokens::sign(
        exchange,
        "decision+jwt",
        &json!({
            "iss": exchange.trust().public_url(),
            "sub": caller.siren,
            "aud": [contract.assigner, contract.assignee],
            "iat": now.timestamp(),
            "exp": expires.timestamp(),
            "jti": decision_id,
            "decision": decision,
            "reasons": reasons,
            "contract": contract.id,
            "agreement_sha256": contract.agreement_sha256,
            "action": request.action,
            "target": request.target,
            "log_index": log.index,
        }),
    );
    Ok(DecisionAnswer {
        decision_id,
        decision: decision.to_owned(),
        reasons,
        token,
        expires_at: format_time(expires),
        explanation,
        log,
    })
}
