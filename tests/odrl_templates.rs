//! Every template of `policies/odrl/` parses, validates, and decides a realistic request as
//! its README says; and `eval_files` (the CLI's `odrl eval`) prints the decision as JSON.

// Helpers may unwrap: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use clearinghouse::odrl::{Decision, Policy, Request, eval_files, evaluate};
use serde_json::{Value, json};

const DATASET: &str = "https://data.example-territoire.fr/dataset/DATASET_ID";
const PROVIDER: &str = "urn:siren:PROVIDER_SIREN";
const CONSUMER: &str = "urn:siren:CONSUMER_SIREN";
const TEMPLATES: &str = "https://w3id.org/ecd-clearinghouse/odrl/templates/";

fn template(name: &str) -> Policy {
    let path = format!("{}/policies/odrl/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Policy::from_json(&serde_json::from_str(&text).unwrap())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn decide(policy: &Policy, request: Value) -> Decision {
    evaluate(policy, &Request::from_json(&request).unwrap()).decision
}

/// Every file in `policies/odrl/` is a valid policy.
#[test]
fn every_template_validates() {
    let directory = format!("{}/policies/odrl", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(errors) = Policy::validate_json(&serde_json::from_str(&text).unwrap()) {
            panic!("{}: {errors:?}", path.display());
        }
        count += 1;
    }
    assert_eq!(count, 9);
}

/// Licence Ouverte 2.0: any reuse, on condition of attribution.
#[test]
fn licence_ouverte() {
    let p = template("licence-ouverte-2.0");
    let attribution = format!("{TEMPLATES}licence-ouverte-2.0#attribution");
    let reuse = |state: &str| {
        json!({"action": "distribute", "target": DATASET, "assignee": "urn:siren:999",
        "context": {"dutyStates": {attribution.clone(): {"deonticState": state}}}})
    };
    assert_eq!(decide(&p, reuse("Fulfilled")), Decision::Permit);
    assert_eq!(decide(&p, reuse("NotSet")), Decision::Deny);
}

/// ODbL: use with attribution; deriving also needs share-alike and keep-open.
#[test]
fn odbl() {
    let p = template("odbl-1.0");
    let duty = |name: &str| format!("{TEMPLATES}odbl-1.0#{name}");
    let attributed = json!({duty("attribution"): "Fulfilled"});
    let read = json!({"action": "read", "target": DATASET, "context": {"dutyStates": attributed}});
    assert_eq!(decide(&p, read), Decision::Permit);
    let derive = |states: Value| json!({"action": "derive", "target": DATASET, "context": {"dutyStates": states}});
    assert_eq!(
        decide(&p, derive(json!({duty("attribution"): "Fulfilled"}))),
        Decision::Deny
    );
    let all = json!({duty("attribution"): "Fulfilled", duty("share-alike"): "Fulfilled", duty("keep-open"): "Fulfilled"});
    assert_eq!(decide(&p, derive(all)), Decision::Permit);
}

/// Exchange between public bodies: a public body may use the data for its missions, and may
/// not pass it on to a private recipient.
#[test]
fn public_bodies_exchange() {
    let p = template("public-bodies-exchange");
    let town = "urn:siren:216901231";
    let membership =
        json!({town: ["ecd:public-bodies"], "urn:siren:200046977": ["ecd:public-bodies"]});
    let request = |action: &str, purpose: &str, recipient: Option<&str>| {
        let mut context = json!({"purpose": purpose, "partyMembership": membership});
        if let Some(recipient) = recipient {
            context["recipient"] = json!(recipient);
        }
        json!({"action": action, "target": DATASET, "assignee": town, "context": context})
    };
    assert_eq!(
        decide(&p, request("read", "ecd:public-service-mission", None)),
        Decision::Permit
    );
    assert_eq!(
        decide(&p, request("read", "ecd:marketing", None)),
        Decision::Deny
    );
    assert_eq!(
        decide(
            &p,
            request(
                "distribute",
                "ecd:public-service-mission",
                Some("urn:siren:200046977")
            )
        ),
        Decision::Permit
    );
    assert_eq!(
        decide(
            &p,
            request(
                "distribute",
                "ecd:public-service-mission",
                Some("urn:siren:552100554")
            )
        ),
        Decision::Deny
    );
    let private = json!({"action": "read", "target": DATASET, "assignee": "urn:siren:552100554",
                         "context": {"purpose": "ecd:public-service-mission"}});
    assert_eq!(decide(&p, private), Decision::NotApplicable);
}

/// Research only: use for academic or non-commercial research; never distribute or sell.
#[test]
fn research_only() {
    let p = template("research-only");
    let request = |action: &str, purpose: &str| {
        json!({"action": action, "target": DATASET,
        "assignee": CONSUMER, "context": {"purpose": purpose}})
    };
    assert_eq!(
        decide(&p, request("read", "dpv:AcademicResearch")),
        Decision::Permit
    );
    assert_eq!(
        decide(&p, request("read", "dpv:CommercialResearch")),
        Decision::Deny
    );
    assert_eq!(
        decide(&p, request("distribute", "dpv:AcademicResearch")),
        Decision::Deny
    );
    assert_eq!(
        decide(&p, request("sell", "dpv:AcademicResearch")),
        Decision::Deny
    );
}

/// Time-limited: during 2025 only.
#[test]
fn time_limited() {
    let p = template("time-limited");
    let at = |time: &str| {
        json!({"action": "read", "target": DATASET, "assignee": CONSUMER,
                                 "context": {"dateTime": time}})
    };
    assert_eq!(decide(&p, at("2025-06-15T09:00:00Z")), Decision::Permit);
    assert_eq!(decide(&p, at("2025-12-31T23:30:00Z")), Decision::Permit);
    assert_eq!(decide(&p, at("2026-01-01T00:00:00Z")), Decision::Deny);
    assert_eq!(decide(&p, at("2024-12-31T23:59:59Z")), Decision::Deny);
}

/// Count-limited: the 100th transfer is allowed, the 101st is not.
#[test]
fn count_limited() {
    let p = template("count-limited");
    let after = |uses: u64| {
        json!({"action": "use", "target": DATASET, "assignee": CONSUMER,
                                   "context": {"count": uses}})
    };
    assert_eq!(decide(&p, after(99)), Decision::Permit);
    assert_eq!(decide(&p, after(100)), Decision::Deny);
}

/// Territory-limited: département 69 or région PACA.
#[test]
fn territory_limited() {
    let p = template("territory-limited");
    let in_commune = |code: &str| {
        json!({"action": "use", "target": DATASET, "assignee": CONSUMER,
                                         "context": {"spatial": code}})
    };
    assert_eq!(decide(&p, in_commune("69123")), Decision::Permit);
    assert_eq!(decide(&p, in_commune("13055")), Decision::Permit);
    assert_eq!(
        decide(&p, in_commune("38185")),
        Decision::Deny,
        "Grenoble is in 38, not 69"
    );
}

/// Pay-per-transfer: one 2.00 EUR payment to the provider per transfer.
#[test]
fn pay_per_transfer() {
    let p = template("pay-per-transfer");
    let fee = format!("{TEMPLATES}pay-per-transfer#fee");
    let payment = json!({"duty": fee, "payer": CONSUMER, "payee": PROVIDER, "amount": "2.00",
                         "currency": "EUR", "date": "2025-03-01T09:00:00Z"});
    let transfer = |earlier: u64, payments: usize| {
        json!({"action": "use", "target": DATASET,
        "assignee": CONSUMER, "context": {"count": earlier, "dateTime": "2025-03-01T10:00:00Z",
        "payments": vec![payment.clone(); payments]}})
    };
    assert_eq!(decide(&p, transfer(0, 1)), Decision::Permit);
    assert_eq!(decide(&p, transfer(3, 4)), Decision::Permit);
    assert_eq!(decide(&p, transfer(3, 3)), Decision::Deny);
    let mut wrong = payment.clone();
    wrong["amount"] = json!("1.50");
    let underpaid = json!({"action": "use", "target": DATASET, "assignee": CONSUMER,
        "context": {"count": 0, "payments": [wrong]}});
    assert_eq!(decide(&p, underpaid), Decision::Deny);
}

/// Mandate powers: signing up to 50 000 EUR, amendments included.
#[test]
fn mandate_powers() {
    let p = template("mandate-powers");
    let sign = |action: &str, amount: &str| {
        json!({"action": action, "target": PROVIDER,
        "assignee": "urn:proconnect:sub:REPRESENTATIVE",
        "context": {"payAmount": {"value": amount, "unit": "EUR"}}})
    };
    assert_eq!(
        decide(&p, sign("ecd:sign-amendment", "1200.00")),
        Decision::Permit
    );
    assert_eq!(
        decide(&p, sign("ecd:sign-contract", "75000")),
        Decision::Deny
    );
    assert_eq!(decide(&p, sign("ecd:read-audit", "0")), Decision::Permit);
    assert_eq!(
        decide(&p, sign("odrl:delete", "0")),
        Decision::NotApplicable
    );
}

/// `eval_files` is what `clearinghouse odrl eval --policy FILE --request FILE` prints.
#[test]
fn eval_files_prints_the_decision() {
    let directory = tempfile::tempdir().unwrap();
    let request = directory.path().join("request.json");
    std::fs::write(
        &request,
        json!({"action": "use", "target": DATASET, "assignee": CONSUMER,
        "context": {"count": 100}})
        .to_string(),
    )
    .unwrap();
    let policy =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/odrl/count-limited.json");
    let output = eval_files(&policy, &request).unwrap();
    assert_eq!(output["decision"], "deny");
    assert_eq!(output["decidingRule"]["kind"], "permission");
    assert!(output["reason"].as_str().unwrap().contains("count"));
    let broken = directory.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"uid": "urn:p", "permission": [{"target": "x", "action": "use",
        "constraint": [{"leftOperand": "speed", "operator": "lt", "rightOperand": 3}]}]}"#,
    )
    .unwrap();
    let error = eval_files(&broken, &request).unwrap_err().to_string();
    assert!(
        error.contains("permission[0].constraint[0].leftOperand: unknown left operand `speed`"),
        "{error}"
    );
    std::fs::write(&request, r#"{"target": "x"}"#).unwrap();
    let error = eval_files(&policy, &request).unwrap_err().to_string();
    assert!(error.contains("lacks `action`"), "{error}");
}

/// Throughput of parse-once, evaluate-many (run with `--ignored --nocapture`, in release for
/// figures that mean something).
#[test]
#[ignore = "a measurement, not a check"]
fn evaluation_throughput() {
    let policy = template("pay-per-transfer");
    let territory = template("territory-limited");
    let request = Request::from_json(&json!({"action": "use", "target": DATASET, "assignee": CONSUMER,
        "context": {"count": 3, "dateTime": "2025-03-01T10:00:00Z", "spatial": "69123",
        "payments": vec![json!({"duty": format!("{TEMPLATES}pay-per-transfer#fee"), "payee": PROVIDER,
                                "amount": "2.00", "currency": "EUR"}); 4]}}))
    .unwrap();
    let rounds = 20_000;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        assert!(evaluate(&policy, &request).is_permit());
        assert!(evaluate(&territory, &request).is_permit());
    }
    let per_second = f64::from(2 * rounds) / start.elapsed().as_secs_f64();
    println!("{per_second:.0} evaluations per second");
}
