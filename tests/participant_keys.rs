//! A participant's life after onboarding, over HTTP on both databases: connector key
//! rotation by a person holding `manage-keys` (and refusals without the power or for another
//! SIREN), suspension and reinstatement by the operator (and refusal without its token),
//! each change reflected by `GET /v1/participants/{siren}` and logged as its own entry.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::Db;
use common::trust::{DidKey, TrustEnv};
use serde_json::{Value, json};

const SIREN: &str = "552032534";

fn connector_key(seed: u8) -> Value {
    DidKey::new(seed).public_jwk()
}

/// RFC 7638 thumbprint, as the service names keys.
fn kid(seed: u8) -> String {
    clearinghouse::participants::jwk_thumbprint(&connector_key(seed)).unwrap()
}

fn key<'a>(participant: &'a Value, kid: &str) -> &'a Value {
    participant["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("no key {kid} in {participant}"))
}

/// Assert a refusal with this status and problem type, which logged nothing.
async fn assert_refused(
    env: &TrustEnv,
    (status, body): (u16, Value),
    expected: u16,
    slug: &str,
    before: u64,
) -> String {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["type"], format!("/problems/{slug}"), "{body}");
    let detail = body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(!detail.is_empty(), "{body}");
    assert_eq!(
        env.log_size().await,
        before,
        "a refusal logged something: {body}"
    );
    detail
}

async fn rotation_and_suspension(kind: Db) {
    let env = TrustEnv::start(kind, &[], |_| {}).await;
    let officer = DidKey::random();
    let (org, mandate) = env.credentials_of("officer", &officer).await;

    // Onboarding with key A.
    let presentation = env.present(&officer, &[org.clone(), mandate.clone()]).await;
    let (status, registered) = env
        .post(
            "/v1/participants",
            &json!({"presentation": presentation, "connector_keys": [connector_key(41)]}),
            false,
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    let (status, participant) = env.get(&format!("/v1/participants/{SIREN}")).await;
    assert_eq!(status, 200, "{participant}");
    assert_eq!(participant["status"], "active");
    assert_eq!(participant["keys"].as_array().unwrap().len(), 1);
    assert!(key(&participant, &kid(41)).get("revoked_index").is_none());

    // The officer adds key B and revokes key A in one request: two entries.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let (status, changed) = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "add": [connector_key(42)], "revoke": [kid(41)]}),
            false,
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let receipts = changed["log"].as_array().unwrap();
    assert_eq!(receipts.len(), 2, "{changed}");
    let added = env.entry(receipts[0]["index"].as_u64().unwrap()).await;
    assert_eq!(added["type"], "participant.key_added");
    assert_eq!(added["siren"], SIREN);
    assert_eq!(added["key"]["kid"], kid(42));
    assert!(added["key"]["jwk"].get("d").is_none());
    assert_eq!(added["credentials"][0]["types"][1], "MandateCredential");
    let revoked_index = receipts[1]["index"].as_u64().unwrap();
    let revoked = env.entry(revoked_index).await;
    assert_eq!(revoked["type"], "participant.key_revoked");
    assert_eq!(revoked["kid"], kid(41));
    assert_eq!(revoked["anchors_version"], added["anchors_version"]);

    let (_, participant) = env.get(&format!("/v1/participants/{SIREN}")).await;
    assert_eq!(participant["keys"].as_array().unwrap().len(), 2);
    assert_eq!(key(&participant, &kid(41))["revoked_index"], revoked_index);
    assert!(key(&participant, &kid(42)).get("revoked_index").is_none());
    assert_eq!(
        key(&participant, &kid(42))["added_index"],
        receipts[0]["index"]
    );
    // (`updated_index` follows registration and status changes only; key changes are
    // dated by each key's `added_index` / `revoked_index`.)
    assert_eq!(participant["updated_index"], registered["log"]["index"]);

    // A revoked key cannot be revoked again, and an added key cannot be added twice.
    let before = env.log_size().await;
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let attempt = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "revoke": [kid(41)]}),
            false,
        )
        .await;
    assert_refused(&env, attempt, 404, "not-found", before).await;
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let attempt = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "add": [connector_key(42)]}),
            false,
        )
        .await;
    assert_refused(&env, attempt, 409, "conflict", before).await;

    // An employee whose sub-mandate is read-audit only may not touch the keys.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let (status, grant) = env
        .post(
            "/v1/mandates/delegations",
            &json!({
                "presentation": presentation,
                "grantee_email": "thomas.girard@danone.example.fr",
                "powers": {"permission": [{"action": "read-audit"}]},
                "max_delegation_depth": 0,
                "valid_until": (Utc::now() + Duration::days(30)).to_rfc3339(),
            }),
            false,
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    let employee = DidKey::random();
    let (_, reader) = env.credentials_of("employee", &employee).await;
    assert_eq!(reader["credentialSubject"]["basis"], "delegation");
    let before = env.log_size().await;
    let presentation = env.present(&employee, std::slice::from_ref(&reader)).await;
    let attempt = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "add": [connector_key(43)]}),
            false,
        )
        .await;
    let detail = assert_refused(&env, attempt, 403, "mandate-rejected", before).await;
    assert!(detail.contains("manage-keys"), "{detail}");

    // An officer of another organisation may not change this one's keys.
    let stranger = DidKey::random();
    let (_, other_mandate) = env.credentials_of("other_officer", &stranger).await;
    let before = env.log_size().await;
    let presentation = env.present(&stranger, &[other_mandate]).await;
    let attempt = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "revoke": [kid(42)]}),
            false,
        )
        .await;
    let detail = assert_refused(&env, attempt, 403, "mandate-rejected", before).await;
    assert!(
        detail.contains("732829320") && detail.contains(SIREN),
        "{detail}"
    );
    let (_, participant) = env.get(&format!("/v1/participants/{SIREN}")).await;
    assert!(key(&participant, &kid(42)).get("revoked_index").is_none());

    // Suspension needs the operator's token: none, or a wrong one, is refused.
    let suspension = format!("/v1/participants/{SIREN}/suspension");
    let attempt = env
        .post(&suspension, &json!({"reason": "unpaid invoices"}), false)
        .await;
    assert_refused(&env, attempt, 401, "unauthenticated", before).await;
    let response = env
        .server
        .client
        .post(env.url(&suspension))
        .bearer_auth("not-the-operator-token")
        .json(&json!({"reason": "unpaid invoices"}))
        .send()
        .await
        .unwrap();
    let attempt = (
        response.status().as_u16(),
        response.json::<Value>().await.unwrap(),
    );
    assert_refused(&env, attempt, 401, "unauthenticated", before).await;

    // The operator suspends: visible on the participant and as an entry.
    let (status, suspended) = env
        .post(&suspension, &json!({"reason": "unpaid invoices"}), true)
        .await;
    assert_eq!(status, 200, "{suspended}");
    let index = suspended["log"]["index"].as_u64().unwrap();
    let entry = env.entry(index).await;
    assert_eq!(entry["type"], "participant.suspended");
    assert_eq!(entry["siren"], SIREN);
    assert_eq!(entry["reason"], "unpaid invoices");
    assert_eq!(entry["recorded_by"], "operator");
    let (_, participant) = env.get(&format!("/v1/participants/{SIREN}")).await;
    assert_eq!(participant["status"], "suspended");
    assert_eq!(participant["status_reason"], "unpaid invoices");
    assert_eq!(participant["updated_index"], index);

    // While suspended: no key changes, no second suspension.
    let before = env.log_size().await;
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let attempt = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "add": [connector_key(44)]}),
            false,
        )
        .await;
    let detail = assert_refused(&env, attempt, 409, "conflict", before).await;
    assert!(detail.contains("suspended"), "{detail}");
    let attempt = env
        .post(&suspension, &json!({"reason": "again"}), true)
        .await;
    assert_refused(&env, attempt, 409, "conflict", before).await;

    // Reinstatement: operator only, then active again and logged.
    let reinstatement = format!("/v1/participants/{SIREN}/reinstatement");
    let attempt = env
        .post(&reinstatement, &json!({"reason": "invoices paid"}), false)
        .await;
    assert_refused(&env, attempt, 401, "unauthenticated", before).await;
    let (status, reinstated) = env
        .post(&reinstatement, &json!({"reason": "invoices paid"}), true)
        .await;
    assert_eq!(status, 200, "{reinstated}");
    let index = reinstated["log"]["index"].as_u64().unwrap();
    let entry = env.entry(index).await;
    assert_eq!(entry["type"], "participant.reinstated");
    assert_eq!(entry["reason"], "invoices paid");
    let (_, participant) = env.get(&format!("/v1/participants/{SIREN}")).await;
    assert_eq!(participant["status"], "active");
    assert_eq!(participant["updated_index"], index);
    let attempt = env
        .post(&reinstatement, &json!({"reason": "twice"}), true)
        .await;
    assert_refused(&env, attempt, 409, "conflict", index + 1).await;

    // Key changes work again after reinstatement.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let (status, changed) = env
        .post(
            &format!("/v1/participants/{SIREN}/keys"),
            &json!({"presentation": presentation, "add": [connector_key(44)]}),
            false,
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["participant"]["keys"].as_array().unwrap().len(), 3);

    // Unknown participants are a 404 for the operator too.
    let before = env.log_size().await;
    let attempt = env
        .post(
            "/v1/participants/732829320/suspension",
            &json!({"reason": "x"}),
            true,
        )
        .await;
    assert_refused(&env, attempt, 404, "not-found", before).await;
    env.server.stop().await;
}
on_both_databases!(rotation_suspension, super::rotation_and_suspension);
