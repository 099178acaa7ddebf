//! Statements computed from the log on both databases: the demo's tariff and two financers
//! published before its transfers; a company pays per transfer and subscription, partly
//! covered by a région and a European fund; a public body is exempt. Figures are checked to
//! the cent against the published rules, and publishing is the operator's alone.
#![allow(clippy::unwrap_used)]
#![recursion_limit = "256"]

mod common;

use chrono::Utc;
use clearinghouse::billing::statement::Month;
use common::{Db, OPERATOR_TOKEN, TestServer};
use serde_json::{Value, json};

async fn statements(server: &TestServer, token: Option<&str>, query: &str) -> (u16, Value) {
    let mut request = server
        .client
        .get(server.url(&format!("/v1/billing/statements?{query}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn demo_statements(kind: Db) {
    let (server, dir) = common::trust::demo_fixture_server(kind, |_| {}).await;
    clearinghouse::demo::seed(&server.state, &dir.path().join("keys"))
        .await
        .unwrap();
    let period = Month::of(Utc::now()).to_string();

    // Only the operator reads statements (auditors come with the audit role).
    let (status, _) = statements(&server, None, &format!("period={period}")).await;
    assert_eq!(status, 401);
    let (status, body) = statements(&server, Some(OPERATOR_TOKEN), "period=2026-13").await;
    assert_eq!(status, 400, "{body}");

    // The company consuming bicycle counts: first transfer free, then 0.50 € each (the
    // volumes round to 0 cents at 1.20 €/GB), a 30.00 € subscription: 31.00 € gross.
    // Région 50 % and FEDER 20 % of every line: 15.50 € and 6.20 €; 9.30 € left to pay.
    let (status, body) = statements(
        &server,
        Some(OPERATOR_TOKEN),
        &format!("period={period}&participant=732829320"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let statement = &body["statements"][0];
    assert_eq!(statement["class"], "company");
    let lines = statement["lines"].as_array().unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["transfer", "transfer", "transfer", "subscription"]);
    assert!(lines[0]["note"].as_str().unwrap().contains("free tier"));
    let gross: Vec<i64> = lines
        .iter()
        .map(|l| l["gross_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(gross, [0, 50, 50, 3000]);
    // The disputed transfer is billed on the consumer's own account of it.
    assert_eq!(lines[2]["bytes"], 1_000_000);
    assert_eq!(statement["gross_cents"], 3100);
    assert_eq!(
        statement["financed_cents"],
        json!({"feder-2026@1": 620, "region-2026@1": 1550})
    );
    assert_eq!(statement["participant_cents"], 930);
    for line in lines {
        let financed: i64 = line["financers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["amount_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(
            financed + line["participant_cents"].as_i64().unwrap(),
            line["gross_cents"].as_i64().unwrap()
        );
    }
    let subscription = &lines[3]["financers"];
    assert_eq!(subscription[1]["financer"], "Région Auvergne-Rhône-Alpes");
    assert_eq!(subscription[1]["siren"], "200053767");
    assert_eq!(subscription[1]["envelope_left_cents"], 500_000 - 1550);

    // The public body consuming the budget data is exempt: nothing to pay, nothing covered.
    let (_, body) = statements(
        &server,
        Some(OPERATOR_TOKEN),
        &format!("period={period}&participant=130025265"),
    )
    .await;
    let exempt = &body["statements"][0];
    assert_eq!(exempt["class"], "public-body");
    assert_eq!(exempt["gross_cents"], 0);
    assert!(
        exempt["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["note"].as_str().unwrap().contains("exempt"))
    );

    // Publishing: operator only, validated, versions only move forward; each is logged.
    let tariff: Value =
        serde_json::from_str(include_str!("../policies/tariffs/platform-2026.json")).unwrap();
    let post = |path: &'static str, body: Value, token: Option<&'static str>| {
        let mut request = server.client.post(server.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let size = server.state.journal.reader().head().head.size;
    assert_eq!(
        post("/v1/billing/tariffs", tariff.clone(), None).await.0,
        401
    );
    let (status, body) = post("/v1/billing/tariffs", tariff.clone(), Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 409, "{body}");
    let mut bad = tariff.clone();
    bad["per_gb"] = json!("1.234");
    let (status, body) = post("/v1/billing/tariffs", bad, Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("per_gb"),
        "{body}"
    );
    assert_eq!(server.state.journal.reader().head().head.size, size);
    let mut next = tariff;
    next["version"] = json!(2);
    next["per_transfer"] = json!("0.40");
    let (status, body) = post("/v1/billing/tariffs", next, Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["log"]["index"], size);
    server.stop().await;
}

on_both_databases!(statements_from_the_log, super::demo_statements);
