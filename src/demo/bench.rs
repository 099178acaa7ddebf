//! What `clearinghouse bench` needs in its log before the clock starts: the demo's
//! organisations registered through the real flows, a contract without a use limit for
//! the load (every decision a permit, each permit good for one transfer), and a contract
//! with exactly 1 000 entries for the audit query.

use std::path::Path;

use serde_json::json;

use super::exchange::{BUDGET, TRAFFIC, agree, connector, party};
use crate::exchange::decisions::{self, DecisionRequest};
use crate::http::AppState;

/// The load contracts' ids start with this (provider → consumer, no use limit).
pub const LOAD_CONTRACT: &str = "https://data.example-territoire.fr/contracts/bench-load";
/// How many load contracts: decisions on one contract are serialised (each counts the
/// uses logged before it), decisions on different contracts are not.
pub const LOAD_CONTRACTS: usize = 32;
/// The contract whose entries the audit query reads.
pub const AUDIT_CONTRACT: &str = "https://data.example-territoire.fr/contracts/bench-audit";
/// Entries logged for [`AUDIT_CONTRACT`]: its agreement and 999 decisions.
pub const AUDIT_ENTRIES: u64 = 1000;

/// Who and what the bench's requests name.
#[derive(Debug, Clone)]
pub struct BenchFixture {
    pub provider: String,
    pub consumer: String,
    pub target: String,
    pub load_contracts: Vec<String>,
    pub audit_contract: String,
}

/// Register the demo's organisations (their connector keys go to `data_dir`) and agree
/// the bench's two contracts; log the audit contract's decisions.
pub async fn prepare(state: &AppState, data_dir: &Path) -> anyhow::Result<BenchFixture> {
    let parties = super::seed_participants(state, data_dir).await?;
    let provider = party(&parties, "216901231")?;
    let consumer = party(&parties, "732829320")?;
    let mut load_contracts = Vec::with_capacity(LOAD_CONTRACTS);
    for n in 0..LOAD_CONTRACTS {
        let uid = format!("{LOAD_CONTRACT}-{n}");
        agree(
            state,
            provider,
            consumer,
            json!({
                "@context": "http://www.w3.org/ns/odrl.jsonld",
                "@type": "Agreement",
                "uid": uid,
                "profile": "https://w3id.org/ecd-clearinghouse/odrl#profile",
                "assigner": format!("urn:siren:{}", provider.siren),
                "assignee": format!("urn:siren:{}", consumer.siren),
                "permission": [{"target": TRAFFIC, "action": "use"}]
            }),
        )
        .await?;
        load_contracts.push(uid);
    }
    let (metropole, dinum) = (party(&parties, "200046977")?, party(&parties, "130025265")?);
    agree(
        state,
        metropole,
        dinum,
        super::count_limited_agreement(
            AUDIT_CONTRACT,
            &metropole.siren,
            &dinum.siren,
            BUDGET,
            1_000_000,
        ),
    )
    .await?;
    let asker = connector(dinum);
    for _ in 1..AUDIT_ENTRIES {
        decisions::decide(
            &state.exchange,
            &asker,
            &DecisionRequest {
                contract: AUDIT_CONTRACT.to_owned(),
                action: "use".into(),
                target: BUDGET.to_owned(),
                context: serde_json::Map::new(),
            },
        )
        .await?;
    }
    Ok(BenchFixture {
        provider: provider.siren.clone(),
        consumer: consumer.siren.clone(),
        target: TRAFFIC.to_owned(),
        load_contracts,
        audit_contract: AUDIT_CONTRACT.to_owned(),
    })
}
