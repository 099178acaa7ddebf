//! The authorization matrix: every route of the service, called by every role — anonymous,
//! a participant's connector, another participant's connector, an auditor, the operator —
//! gets the answer its role deserves: 401 without credentials where some are needed, 403
//! with the wrong ones, and past authorization (whatever the body then says) with the right
//! ones. A route missing from the matrix fails the test, so new routes must be placed in it.
//! Then data-level checks: a connector asks only about contracts its organisation is party
//! to.
#![allow(clippy::unwrap_used)]
#![recursion_limit = "256"]

mod common;

use std::collections::BTreeSet;

use clearinghouse::config::AuditorToken;
use clearinghouse::demo::{DemoParty, count_limited_agreement, enrol};
use clearinghouse::exchange::client::{client_assertion, sign_agreement};
use common::{Db, OPERATOR_TOKEN};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const AUDITOR_TOKEN: &str = "test-auditor-token-0123456789";
const DATASET: &str = "https://data.example-territoire.fr/dataset/comptages-velo";
const CONTRACT: &str = "https://data.example-territoire.fr/contracts/authz-0001";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone: open reads, or requests authenticated by what their body carries (signed
    /// presentations, agreements, receipts, client assertions).
    Public,
    /// A connector's access token.
    Connector,
    /// The audit role (auditors and the operator).
    Auditor,
    /// The operator only.
    Operator,
    /// A signed presentation in the body, or else the operator's token: any other bearer
    /// token is refused as an invalid operator token.
    PresentationOrOperator,
}

/// Every route: method, path pattern (as in the router), a concrete path, and who may call.
const ROUTES: &[(&str, &str, &str, Access)] = &[
    ("GET", "/openapi.json", "/openapi.json", Access::Public),
    ("GET", "/docs", "/docs", Access::Public),
    (
        "POST",
        "/v1/privacy/erasures",
        "/v1/privacy/erasures",
        Access::Operator,
    ),
    ("GET", "/healthz", "/healthz", Access::Public),
    ("GET", "/readyz", "/readyz", Access::Public),
    ("GET", "/metrics", "/metrics", Access::Public),
    (
        "GET",
        "/problems/{slug}",
        "/problems/forbidden",
        Access::Public,
    ),
    ("GET", "/log/checkpoint", "/log/checkpoint", Access::Public),
    ("GET", "/log/key", "/log/key", Access::Public),
    (
        "GET",
        "/log/tile/{*path}",
        "/log/tile/0/000.p/1",
        Access::Public,
    ),
    (
        "GET",
        "/log/entries/{index}",
        "/log/entries/0",
        Access::Public,
    ),
    (
        "GET",
        "/log/proof/inclusion",
        "/log/proof/inclusion?index=0&size=1",
        Access::Public,
    ),
    (
        "GET",
        "/log/proof/consistency",
        "/log/proof/consistency?old=1&new=2",
        Access::Public,
    ),
    (
        "GET",
        "/.well-known/did.json",
        "/.well-known/did.json",
        Access::Public,
    ),
    ("GET", "/contexts/v1", "/contexts/v1", Access::Public),
    (
        "GET",
        "/schemas/{name}",
        "/schemas/mandate-credential",
        Access::Public,
    ),
    (
        "GET",
        "/v1/status/{list}",
        "/v1/status/revocation",
        Access::Public,
    ),
    ("GET", "/v1/challenges", "/v1/challenges", Access::Public),
    (
        "POST",
        "/v1/vc-api/credentials/verify",
        "/v1/vc-api/credentials/verify",
        Access::Public,
    ),
    (
        "POST",
        "/v1/vc-api/presentations/verify",
        "/v1/vc-api/presentations/verify",
        Access::Public,
    ),
    (
        "GET",
        "/v1/trust/anchors",
        "/v1/trust/anchors",
        Access::Public,
    ),
    (
        "POST",
        "/v1/trust/anchors/reload",
        "/v1/trust/anchors/reload",
        Access::Operator,
    ),
    (
        "GET",
        "/v1/auth/proconnect/login",
        "/v1/auth/proconnect/login?holder=did:key:z6Mk",
        Access::Public,
    ),
    (
        "GET",
        "/v1/auth/proconnect/callback",
        "/v1/auth/proconnect/callback?state=x&code=y",
        Access::Public,
    ),
    (
        "POST",
        "/v1/mandates/delegations",
        "/v1/mandates/delegations",
        Access::Public,
    ),
    (
        "POST",
        "/v1/mandates/deliberations",
        "/v1/mandates/deliberations",
        Access::Operator,
    ),
    (
        "POST",
        "/v1/credentials/{id}/revocation",
        "/v1/credentials/urn:uuid:0/revocation",
        Access::PresentationOrOperator,
    ),
    (
        "GET",
        "/v1/participants",
        "/v1/participants",
        Access::Public,
    ),
    (
        "POST",
        "/v1/participants",
        "/v1/participants",
        Access::Public,
    ),
    (
        "GET",
        "/v1/participants/{siren}",
        "/v1/participants/732829320",
        Access::Public,
    ),
    (
        "POST",
        "/v1/participants/{siren}/keys",
        "/v1/participants/732829320/keys",
        Access::Public,
    ),
    (
        "POST",
        "/v1/participants/{siren}/suspension",
        "/v1/participants/732829320/suspension",
        Access::Operator,
    ),
    (
        "POST",
        "/v1/participants/{siren}/reinstatement",
        "/v1/participants/732829320/reinstatement",
        Access::Operator,
    ),
    (
        "POST",
        "/v1/participants/{siren}/billing-hold",
        "/v1/participants/732829320/billing-hold",
        Access::Operator,
    ),
    (
        "POST",
        "/v1/participants/{siren}/billing-clearance",
        "/v1/participants/732829320/billing-clearance",
        Access::Operator,
    ),
    (
        "POST",
        "/v1/governance/records",
        "/v1/governance/records",
        Access::Operator,
    ),
    ("POST", "/v1/oauth/token", "/v1/oauth/token", Access::Public),
    (
        "GET",
        "/v1/contracts",
        "/v1/contracts?party=732829320",
        Access::Public,
    ),
    ("POST", "/v1/contracts", "/v1/contracts", Access::Public),
    (
        "GET",
        "/v1/contracts/{id}",
        "/v1/contracts/urn:x",
        Access::Public,
    ),
    (
        "POST",
        "/v1/contracts/{id}/amendments",
        "/v1/contracts/urn:x/amendments",
        Access::Public,
    ),
    (
        "POST",
        "/v1/contracts/{id}/termination",
        "/v1/contracts/urn:x/termination",
        Access::Public,
    ),
    (
        "POST",
        "/v1/contracts/{id}/payments",
        "/v1/contracts/urn:x/payments",
        Access::Operator,
    ),
    ("POST", "/v1/decisions", "/v1/decisions", Access::Connector),
    ("POST", "/v1/receipts", "/v1/receipts", Access::Public),
    (
        "POST",
        "/v1/billing/tariffs",
        "/v1/billing/tariffs",
        Access::Operator,
    ),
    (
        "POST",
        "/v1/billing/financing-rules",
        "/v1/billing/financing-rules",
        Access::Operator,
    ),
    (
        "GET",
        "/v1/billing/statements",
        "/v1/billing/statements?period=2026-01",
        Access::Auditor,
    ),
    (
        "GET",
        "/v1/billing/periods/{period}",
        "/v1/billing/periods/2026-01",
        Access::Auditor,
    ),
    (
        "POST",
        "/v1/billing/periods/{period}/close",
        "/v1/billing/periods/2026-01/close",
        Access::Operator,
    ),
    (
        "GET",
        "/v1/billing/periods/{period}/bundle",
        "/v1/billing/periods/2026-01/bundle",
        Access::Auditor,
    ),
    (
        "POST",
        "/v1/billing/credit-notes",
        "/v1/billing/credit-notes",
        Access::Operator,
    ),
    (
        "GET",
        "/v1/billing/financing-report",
        "/v1/billing/financing-report?period=2026-01",
        Access::Auditor,
    ),
    (
        "GET",
        "/v1/billing/invoices",
        "/v1/billing/invoices?period=2026-01&participant=732829320",
        Access::Auditor,
    ),
    (
        "GET",
        "/v1/billing/invoices/{number}",
        "/v1/billing/invoices/CH-2026-01-732829320",
        Access::Auditor,
    ),
    (
        "GET",
        "/v1/indicators",
        "/v1/indicators?period=2026-01",
        Access::Auditor,
    ),
    (
        "GET",
        "/v1/audit/entries",
        "/v1/audit/entries",
        Access::Auditor,
    ),
    (
        "GET",
        "/v1/audit/bundles",
        "/v1/audit/bundles?participant=732829320",
        Access::Auditor,
    ),
    (
        "POST",
        "/v1/audit/sessions",
        "/v1/audit/sessions",
        Access::Public,
    ),
];

/// Every route pattern the service's routers declare, read from the source.
fn declared_routes() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut routes = BTreeSet::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + 7..];
            let open = rest.find('"').unwrap();
            let close = rest[open + 1..].find('"').unwrap();
            routes.insert(rest[open + 1..open + 1 + close].to_owned());
        }
    }
    routes
}

#[test]
fn every_route_is_in_the_matrix() {
    let matrix: BTreeSet<String> = ROUTES.iter().map(|r| r.1.to_owned()).collect();
    let missing: Vec<_> = declared_routes().difference(&matrix).cloned().collect();
    assert!(
        missing.is_empty(),
        "routes missing from the matrix: {missing:?}"
    );
}

/// The matrix is the published contract: every operation of the OpenAPI list is walked,
/// with the security it declares, and the list holds every route.
#[test]
fn the_matrix_is_the_api_contract() {
    use clearinghouse::http::openapi::OPERATIONS;
    let contract: BTreeSet<(String, String, String)> = OPERATIONS
        .iter()
        .map(|o| {
            (
                o.method.to_owned(),
                o.path.to_owned(),
                format!("{:?}", o.security),
            )
        })
        .collect();
    let matrix: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| (r.0.to_owned(), r.1.to_owned(), format!("{:?}", r.3)))
        .collect();
    assert_eq!(contract, matrix);
    let paths: BTreeSet<String> = OPERATIONS.iter().map(|o| o.path.to_owned()).collect();
    let missing: Vec<_> = declared_routes().difference(&paths).cloned().collect();
    assert!(
        missing.is_empty(),
        "routes missing from OPERATIONS: {missing:?}"
    );
}

struct Env {
    server: common::TestServer,
    lyon: DemoParty,
    startup: DemoParty,
    danone: DemoParty,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn call(&self, method: &str, path: &str, bearer: Option<&str>) -> (u16, Value) {
        let url = self.server.url(path);
        let mut request = match method {
            "GET" => self.server.client.get(url),
            _ => self.server.client.post(url).json(&json!({})),
        };
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        // Whatever the answer, it carries the security headers.
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn access_token(&self, party: &DemoParty) -> String {
        let endpoint = self.server.url("/v1/oauth/token");
        let assertion = client_assertion(
            party.connector.key(),
            &party.siren,
            &endpoint,
            &uuid::Uuid::new_v4().to_string(),
        );
        let response = self
            .server
            .client
            .post(endpoint)
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

async fn env(kind: Db, burst: u32) -> Env {
    let digest = hex::encode(Sha256::digest(AUDITOR_TOKEN.as_bytes()));
    let (server, dir) = common::trust::demo_fixture_server(kind, |config| {
        config.auth.auditors = vec![AuditorToken {
            label: "ctd-committee".into(),
            token_sha256: digest,
        }];
        config.exchange.burst = burst;
        config.exchange.requests_per_minute = 6;
    })
    .await;
    let keys = dir.path().join("keys");
    let state = &server.state;
    let lyon = enrol(
        state,
        &keys,
        "21690123100011",
        "COMMUNE DE LYON",
        "7210",
        None,
    )
    .await
    .unwrap();
    let startup = enrol(
        state,
        &keys,
        "73282932000074",
        "DONNEES TERRITORIALES SAS",
        "5710",
        None,
    )
    .await
    .unwrap();
    let danone = enrol(state, &keys, "55203253400646", "DANONE", "5599", None)
        .await
        .unwrap();
    Env {
        server,
        lyon,
        startup,
        danone,
        _dir: dir,
    }
}

async fn matrix(kind: Db) {
    let env = env(kind, 1000).await;
    let participant = env.access_token(&env.startup).await;
    let other = env.access_token(&env.danone).await;
    let roles: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("participant", Some(&participant)),
        ("other participant", Some(&other)),
        ("auditor", Some(AUDITOR_TOKEN)),
        ("operator", Some(OPERATOR_TOKEN)),
    ];
    let mut failures = Vec::new();
    for (method, pattern, path, access) in ROUTES {
        for (role, token) in roles {
            let (status, body) = env.call(method, path, token).await;
            let allowed = match access {
                Access::Public => true,
                Access::Connector => matches!(role, "participant" | "other participant"),
                Access::Auditor => matches!(role, "auditor" | "operator"),
                Access::Operator => role == "operator",
                Access::PresentationOrOperator => matches!(role, "anonymous" | "operator"),
            };
            // Past authorization, any answer but a server error (501: a feature this test
            // service does not configure, such as ProConnect sign-in).
            let ok = if allowed {
                status != 401 && status != 403 && (status < 500 || status == 501)
            } else if role == "anonymous" {
                status == 401
            } else {
                // A token of the wrong kind: refused as such (some endpoints cannot tell
                // a foreign token from an invalid one, hence 401 as well).
                status == 403 || status == 401
            };
            if !ok {
                failures.push(format!("{method} {pattern} as {role}: {status} {body}"));
            }
            if !allowed && (status == 401 || status == 403) {
                assert!(
                    body["type"]
                        .as_str()
                        .is_some_and(|t| t.contains("/problems/")),
                    "{method} {pattern} as {role}: a refusal is a problem response: {body}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Data level: a connector asks only about its organisation's contracts.
    env.agree().await;
    assert_eq!(env.ask(&participant).await.0, 200);
    let (status, body, _) = env.ask(&other).await;
    assert_eq!(status, 403, "{body}");
}

impl Env {
    /// Lyon and the start-up sign a contract.
    async fn agree(&self) {
        let agreement = count_limited_agreement(
            CONTRACT,
            &self.lyon.siren,
            &self.startup.siren,
            DATASET,
            100,
        );
        let signatures: Vec<Value> = [&self.lyon, &self.startup]
            .iter()
            .map(|p| {
                sign_agreement(
                    p.representative.key(),
                    p.representative.method(),
                    &p.mandate,
                    &agreement,
                )
                .unwrap()
            })
            .collect();
        let response = self
            .server
            .client
            .post(self.server.url("/v1/contracts"))
            .json(&json!({"agreement": agreement, "signatures": signatures}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    /// Ask for a decision on the contract.
    async fn ask(&self, token: &str) -> (u16, Value, Option<String>) {
        let response = self
            .server
            .client
            .post(self.server.url("/v1/decisions"))
            .bearer_auth(token)
            .json(&json!({"contract": CONTRACT, "action": "use", "target": DATASET}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, response.json().await.unwrap(), retry)
    }
}

/// Past its burst, a participant gets 429 with Retry-After and nothing is logged; another
/// participant is not affected.
async fn rate_limits(kind: Db) {
    let env = env(kind, 2).await;
    env.agree().await;
    let participant = env.access_token(&env.startup).await;
    let lyon = env.access_token(&env.lyon).await;
    for _ in 0..2 {
        assert_eq!(env.ask(&participant).await.0, 200);
    }
    let before = env.server.state.journal.reader().head().head.size;
    let (status, problem, retry) = env.ask(&participant).await;
    assert_eq!(status, 429, "{problem}");
    assert_eq!(problem["type"], "/problems/rate-limited");
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(env.server.state.journal.reader().head().head.size, before);
    assert_eq!(env.ask(&lyon).await.0, 200, "Lyon has its own bucket");
}

on_both_databases!(authorization_matrix, super::matrix);
on_both_databases!(per_participant_rate_limits, super::rate_limits);
