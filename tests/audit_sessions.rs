//! The audit role through a `read-audit` mandate: a person signs in with ProConnect (a real
//! local OpenID provider), presents the mandate and gets an audit session — over their own
//! organisation's entries, or over the whole log for the committee's member organisations.
//! A mandate without the power, a replayed presentation or a made-up token open nothing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::Db;
use common::trust::{DidKey, TrustEnv, credential_of};
use serde_json::{Value, json};

const DANONE_SIREN: &str = "552032534";
const COMMITTEE_SIREN: &str = "732829320";

async fn get(env: &TrustEnv, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = env.server.client.get(env.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn open(env: &TrustEnv, holder: &DidKey, mandate: &Value) -> (u16, Value) {
    let presentation = env.present(holder, std::slice::from_ref(mandate)).await;
    env.post(
        "/v1/audit/sessions",
        &json!({"presentation": presentation}),
        false,
    )
    .await
}

async fn read_audit_mandates(kind: Db) {
    let env = TrustEnv::start(kind, &[], |config| {
        config.auth.committee_sirens = vec![COMMITTEE_SIREN.into()];
    })
    .await;
    let period = Utc::now().format("%Y-%m").to_string();

    // Danone's officer: a mandate with every power, read-audit included.
    let officer = DidKey::random();
    let (_, mandate) = env.credentials_of("officer", &officer).await;
    let (status, session) = open(&env, &officer, &mandate).await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["scope"], format!("entries of SIREN {DANONE_SIREN}"));
    let token = session["access_token"].as_str().unwrap().to_owned();
    let reader = session["reader"].as_str().unwrap().to_owned();
    assert!(reader.contains(mandate["id"].as_str().unwrap()), "{reader}");
    assert!(
        !reader.contains('@'),
        "no e-mail in the reader label: {reader}"
    );

    // The session reads Danone's entries, and only them.
    let (status, page) = get(&env, "/v1/audit/entries", Some(&token)).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert!(item["entry"].to_string().contains(DANONE_SIREN), "{item}");
    }
    // …and the read is logged under the mandate's label.
    let size = env.log_size().await;
    let last = env.entry(size - 1).await;
    assert_eq!(last["type"], "audit.read");
    assert_eq!(last["reader"], reader.as_str());

    let before = env.log_size().await;
    for path in [
        format!("/v1/audit/entries?participant={COMMITTEE_SIREN}"),
        format!("/v1/billing/statements?period={period}&participant={COMMITTEE_SIREN}"),
        format!("/v1/indicators?period={period}"),
        format!("/v1/billing/financing-report?period={period}"),
        format!("/v1/billing/periods/{period}/bundle"),
    ] {
        let (status, problem) = get(&env, &path, Some(&token)).await;
        assert_eq!(status, 403, "{path}: {problem}");
        assert!(
            problem["type"].as_str().unwrap().ends_with("forbidden"),
            "{problem}"
        );
    }
    // Its own statements are open to it.
    let (status, own) = get(
        &env,
        &format!("/v1/billing/statements?period={period}"),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(
        env.log_size().await,
        before + 1,
        "only the answered read is logged"
    );

    // The same presentation cannot open a second session (its challenge is used up).
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let body = json!({"presentation": presentation});
    let (status, _) = env.post("/v1/audit/sessions", &body, false).await;
    assert_eq!(status, 201);
    let (status, replay) = env.post("/v1/audit/sessions", &body, false).await;
    assert!((400..500).contains(&status), "{replay}");

    // A sub-mandate that does not carry read-audit opens nothing.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let (status, grant) = env
        .post(
            "/v1/mandates/delegations",
            &json!({
                "presentation": presentation,
                "grantee_email": "thomas.girard@danone.example.fr",
                "powers": {"permission": [{"action": "manage-keys"}]},
                "max_delegation_depth": 0,
                "valid_until": (Utc::now() + Duration::days(30)).to_rfc3339(),
            }),
            false,
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    let employee = DidKey::random();
    let (status, outcome) = env.sign_in("employee", &employee).await;
    assert_eq!(status, 200, "{outcome}");
    let sub_mandate = credential_of(&outcome, "MandateCredential").clone();
    let before = env.log_size().await;
    let (status, problem) = open(&env, &employee, &sub_mandate).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("read-audit"),
        "{problem}"
    );
    assert_eq!(
        env.log_size().await,
        before,
        "a refused session writes nothing"
    );

    // A committee member's officer reads the whole log.
    let member = DidKey::random();
    let (_, member_mandate) = env.credentials_of("other_officer", &member).await;
    let (status, session) = open(&env, &member, &member_mandate).await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["scope"], "the whole log");
    let committee = session["access_token"].as_str().unwrap().to_owned();
    let (status, page) = get(
        &env,
        &format!("/v1/audit/entries?participant={DANONE_SIREN}"),
        Some(&committee),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(!page["items"].as_array().unwrap().is_empty());
    let (status, figures) = get(
        &env,
        &format!("/v1/indicators?period={period}"),
        Some(&committee),
    )
    .await;
    assert_eq!(status, 200, "{figures}");

    // Made-up and missing tokens.
    let (status, _) = get(&env, "/v1/audit/entries", Some("not-a-session")).await;
    assert_eq!(status, 403);
    let (status, _) = get(&env, "/v1/audit/entries", None).await;
    assert_eq!(status, 401);
}

on_both_databases!(read_audit, super::read_audit_mandates);
