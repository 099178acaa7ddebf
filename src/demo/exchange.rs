//! Demo contracts, decisions and receipts, made through the same functions the HTTP API
//! calls: both representatives sign, connectors authenticate with their keys, ask, and post
//! signed receipts — one of which disagrees with its counterpart.

use chrono::Duration;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::DemoParty;
use crate::billing::close::{self, CreditRequest};
use crate::billing::publish::{publish_financing, publish_tariff};
use crate::billing::statement::Month;
use crate::exchange::client::{TransferReport, connector_kid, sign_agreement, sign_receipt};
use crate::exchange::contracts::{self, SignedAgreement};
use crate::exchange::decisions::{self, DecisionRequest};
use crate::exchange::receipts;
use crate::exchange::tokens::Connector;
use crate::http::AppState;

/// The platform's tariff and financing rules, as shipped in `policies/`.
const TARIFF: &str = include_str!("../../policies/tariffs/platform-2026.json");
const FINANCING: [&str; 2] = [
    include_str!("../../policies/financing/region-2026.json"),
    include_str!("../../policies/financing/feder-2026.json"),
];

/// An agreement allowing `assignee` to `use` `target` at most `uses` times.
pub fn count_limited_agreement(
    uid: &str,
    assigner: &str,
    assignee: &str,
    target: &str,
    uses: u64,
) -> Value {
    json!({
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Agreement",
        "uid": uid,
        "profile": "https://w3id.org/ecd-clearinghouse/odrl#profile",
        "assigner": format!("urn:siren:{assigner}"),
        "assignee": format!("urn:siren:{assignee}"),
        "permission": [{
            "target": target,
            "action": "use",
            "constraint": [{"leftOperand": "count", "operator": "lteq",
                            "rightOperand": {"@value": uses.to_string(), "@type": "xsd:integer"}}]
        }]
    })
}

pub(super) fn party<'a>(parties: &'a [DemoParty], siren: &str) -> anyhow::Result<&'a DemoParty> {
    parties
        .iter()
        .find(|p| p.siren == siren)
        .ok_or_else(|| anyhow::anyhow!("demo party {siren} is missing"))
}

pub(super) fn connector(party: &DemoParty) -> Connector {
    Connector {
        siren: party.siren.clone(),
        kid: connector_kid(party.connector.key()),
    }
}

/// Both parties sign and the contract is recorded.
pub(super) async fn agree(
    state: &AppState,
    provider: &DemoParty,
    consumer: &DemoParty,
    agreement: Value,
) -> anyhow::Result<()> {
    let signatures = [provider, consumer]
        .iter()
        .map(|p| {
            sign_agreement(
                p.representative.key(),
                p.representative.method(),
                &p.mandate,
                &agreement,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let submitted: SignedAgreement =
        serde_json::from_value(json!({"agreement": agreement, "signatures": signatures}))?;
    contracts::agree(&state.exchange, &submitted).await?;
    Ok(())
}

/// One transfer: the consumer asks, both sides post receipts (the consumer's count of
/// bytes differs when `consumer_bytes` does).
async fn transfer(
    state: &AppState,
    provider: &DemoParty,
    consumer: &DemoParty,
    contract: &str,
    target: &str,
    n: u64,
    consumer_bytes: Option<u64>,
) -> anyhow::Result<Option<String>> {
    let answer = decisions::decide(
        &state.exchange,
        &connector(consumer),
        &DecisionRequest {
            contract: contract.to_owned(),
            action: "use".into(),
            target: target.to_owned(),
            context: serde_json::Map::new(),
        },
    )
    .await?;
    if answer.decision != "permit" {
        return Ok(None);
    }
    let ended = crate::clock::now();
    let started = ended - Duration::seconds(2);
    let bytes = 1_048_576 * (n + 1);
    let content = hex::encode(Sha256::digest(format!("{target} extract {n}").as_bytes()));
    let transfer_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    for (side, side_bytes) in [
        (provider, bytes),
        (consumer, consumer_bytes.unwrap_or(bytes)),
    ] {
        let receipt = sign_receipt(
            side.connector.key(),
            &TransferReport {
                decision_token: &answer.token,
                transfer_id: &transfer_id,
                asset: target,
                bytes: side_bytes,
                records: 1000 * (n + 1),
                content_sha256: &content,
                started_at: started,
                ended_at: ended,
            },
        );
        receipts::record(&state.exchange, &receipt).await?;
    }
    Ok(Some(transfer_id))
}

/// The demo's datasets and contracts.
pub(super) const TRAFFIC: &str = "https://data.example-territoire.fr/dataset/comptages-velo";
const TRAFFIC_CONTRACT: &str = "https://data.example-territoire.fr/contracts/2026-0001";
pub(super) const BUDGET: &str = "https://data.example-territoire.fr/dataset/budget-primitif";
const BUDGET_CONTRACT: &str = "https://data.example-territoire.fr/contracts/2026-0002";
const BUDGET_COMPANY_CONTRACT: &str = "https://data.example-territoire.fr/contracts/2026-0003";

/// Two contracts with a few transfers each; one receipt pair disagrees. Returns the
/// transfer whose receipts disagree.
pub(super) async fn seed(state: &AppState, parties: &[DemoParty]) -> anyhow::Result<String> {
    // The tariff and two financers, published before any transfer they price.
    let operator = "demo-operator";
    publish_tariff(&state.trust, &serde_json::from_str(TARIFF)?, operator).await?;
    for rule in FINANCING {
        publish_financing(&state.trust, &serde_json::from_str(rule)?, operator).await?;
    }
    let lyon = party(parties, "216901231")?;
    let metropole = party(parties, "200046977")?;
    let startup = party(parties, "732829320")?;
    let dinum = party(parties, "130025265")?;

    let (traffic, traffic_contract) = (TRAFFIC, TRAFFIC_CONTRACT);
    agree(
        state,
        lyon,
        startup,
        count_limited_agreement(traffic_contract, &lyon.siren, &startup.siren, traffic, 1000),
    )
    .await?;
    let mut disputed = None;
    for n in 0..3 {
        let disagreement = (n == 2).then_some(1_000_000);
        let id = transfer(
            state,
            lyon,
            startup,
            traffic_contract,
            traffic,
            n,
            disagreement,
        )
        .await?;
        if disagreement.is_some() {
            disputed = id;
        }
    }

    let (budget, budget_contract) = (BUDGET, BUDGET_CONTRACT);
    agree(
        state,
        metropole,
        dinum,
        count_limited_agreement(budget_contract, &metropole.siren, &dinum.siren, budget, 100),
    )
    .await?;
    for n in 0..2 {
        transfer(state, metropole, dinum, budget_contract, budget, n, None).await?;
    }
    disputed.ok_or_else(|| anyhow::anyhow!("the disputed demo transfer was not permitted"))
}

/// This month, after last month's activity: close last month, cancel the disputed line
/// with a credit note, and more traffic — a second company starts paying.
pub(super) async fn seed_current_period(
    state: &AppState,
    parties: &[DemoParty],
    disputed: &str,
) -> anyhow::Result<()> {
    let operator = "demo-operator";
    // Last month: where the history was logged.
    let previous = Month::of(super::history_start());
    close::close_period(&state.trust, previous, operator).await?;
    let startup = party(parties, "732829320")?;
    close::issue_credit(
        &state.trust,
        &CreditRequest {
            siren: startup.siren.clone(),
            period: previous.to_string(),
            transfer_id: disputed.to_owned(),
            // The receipts disagree on the volume: cancelled after the parties' conciliation.
            reason: "disputed-volume".into(),
        },
        operator,
    )
    .await?;
    let lyon = party(parties, "216901231")?;
    let metropole = party(parties, "200046977")?;
    let danone = party(parties, "552032534")?;
    for n in 3..5 {
        transfer(state, lyon, startup, TRAFFIC_CONTRACT, TRAFFIC, n, None).await?;
    }
    agree(
        state,
        metropole,
        danone,
        count_limited_agreement(
            BUDGET_COMPANY_CONTRACT,
            &metropole.siren,
            &danone.siren,
            BUDGET,
            100,
        ),
    )
    .await?;
    for n in 0..3 {
        transfer(
            state,
            metropole,
            danone,
            BUDGET_COMPANY_CONTRACT,
            BUDGET,
            n,
            None,
        )
        .await?;
    }
    Ok(())
}
