//! Contracts, connector authentication, decisions and receipts end to end, through HTTP, on
//! both databases: both representatives sign, a connector authenticates with a client
//! assertion, asks, transfers, posts receipts and checks the proofs offline; then every
//! rejection the acceptance criteria list — forged signature, signer without the power,
//! expired and replayed assertions, receipts for denied or expired transfers — each named in
//! a problem response.
#![allow(clippy::unwrap_used)]
#![recursion_limit = "256"]

mod common;

use chrono::{Duration, Utc};
use clearinghouse::demo::{DemoParty, count_limited_agreement, enrol};
use clearinghouse::entry::{Entry, decode};
use clearinghouse::exchange::client::{
    TransferReport, client_assertion, connector_kid, representative_jws, sign_agreement,
    sign_receipt,
};
use clearinghouse::jose;
use clearinghouse::journal::LogReceipt;
use clearinghouse::ledger::note::NoteVerifier;
use clearinghouse::trust::did::ed25519_from_multikey;
use common::{Db, OPERATOR_TOKEN, ORIGIN, TestServer};
use serde_json::{Value, json};

const LYON: (&str, &str, &str) = ("21690123100011", "COMMUNE DE LYON", "7210");
const STARTUP: (&str, &str, &str) = ("73282932000074", "DONNEES TERRITORIALES SAS", "5710");
const DANONE: (&str, &str, &str) = ("55203253400646", "DANONE", "5599");
const METROPOLE: (&str, &str, &str) = ("20004697700019", "METROPOLE DE LYON", "7229");
const DATASET: &str = "https://data.example-territoire.fr/dataset/comptages-velo";
const CONTRACT: &str = "https://data.example-territoire.fr/contracts/test-0001";

struct Env {
    server: TestServer,
    lyon: DemoParty,
    startup: DemoParty,
    danone: DemoParty,
    /// A public body whose délibération grants only `request-transfer`.
    metropole: DemoParty,
    _dir: tempfile::TempDir,
}

async fn env(kind: Db) -> Env {
    env_with(kind, |_| {}).await
}

async fn env_with(kind: Db, adjust: impl FnOnce(&mut clearinghouse::config::Config)) -> Env {
    let (server, dir) = common::trust::demo_fixture_server(kind, adjust).await;
    let keys = dir.path().join("keys");
    let state = &server.state;
    let enrol_one = |org: (&'static str, &'static str, &'static str), powers: Option<Value>| {
        let keys = keys.clone();
        async move {
            enrol(state, &keys, org.0, org.1, org.2, powers)
                .await
                .unwrap()
        }
    };
    let lyon = enrol_one(LYON, None).await;
    let startup = enrol_one(STARTUP, None).await;
    let danone = enrol_one(DANONE, None).await;
    let metropole = enrol_one(
        METROPOLE,
        Some(json!({
            "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
            "uid": "urn:test:powers",
            "permission": [
                {"target": "urn:siren:200046977",
                 "action": "https://w3id.org/ecd-clearinghouse/odrl#request-transfer"},
                {"target": "urn:siren:200046977",
                 "action": "https://w3id.org/ecd-clearinghouse/odrl#manage-keys"}]
        })),
    )
    .await;
    Env {
        server,
        lyon,
        startup,
        danone,
        metropole,
        _dir: dir,
    }
}

fn signature(party: &DemoParty, agreement: &Value) -> Value {
    sign_agreement(
        party.representative.key(),
        party.representative.method(),
        &party.mandate,
        agreement,
    )
    .unwrap()
}

impl Env {
    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    async fn log_size(&self) -> u64 {
        self.server.state.journal.reader().head().head.size
    }

    async fn post(&self, path: &str, body: &Value, bearer: Option<&str>) -> (u16, Value) {
        let mut request = self.server.client.post(self.url(path)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.server.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The decoded entry at `index`.
    async fn entry(&self, index: u64) -> Entry {
        let bytes = self
            .server
            .client
            .get(self.url(&format!("/log/entries/{index}")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        decode(&bytes).unwrap().entry
    }

    /// A fresh client assertion → access token exchange.
    async fn token_request(&self, assertion: &str) -> (u16, Value) {
        let response = self
            .server
            .client
            .post(self.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn access_token(&self, party: &DemoParty) -> String {
        let assertion = client_assertion(
            party.connector.key(),
            &party.siren,
            &self.url("/v1/oauth/token"),
            &uuid::Uuid::new_v4().to_string(),
        );
        let (status, body) = self.token_request(&assertion).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn ask(&self, token: &str, contract: &str, context: Value) -> (u16, Value) {
        self.post(
            "/v1/decisions",
            &json!({"contract": contract, "action": "use", "target": DATASET, "context": context}),
            Some(token),
        )
        .await
    }

    async fn post_receipt(
        &self,
        party: &DemoParty,
        decision_token: &str,
        transfer_id: &str,
        bytes: u64,
        started_ago_seconds: i64,
    ) -> (u16, Value) {
        let ended = Utc::now();
        let receipt = sign_receipt(
            party.connector.key(),
            &TransferReport {
                decision_token,
                transfer_id,
                asset: DATASET,
                bytes,
                records: 120,
                content_sha256: &"ab".repeat(32),
                started_at: ended - Duration::seconds(started_ago_seconds),
                ended_at: ended,
            },
        );
        self.post("/v1/receipts", &json!({"receipt": receipt}), None)
            .await
    }

    /// Assert a problem response of `slug` with `status` whose detail mentions `words`, and
    /// that the log did not grow.
    async fn assert_refused(
        &self,
        (status, body): (u16, Value),
        expected: u16,
        slug: &str,
        words: &str,
        size_before: u64,
    ) {
        assert_eq!(status, expected, "{body}");
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/problems/{slug}")),
            "{body}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(words), "detail {detail:?} lacks {words:?}");
        assert_eq!(
            self.log_size().await,
            size_before,
            "a refusal wrote to the log"
        );
    }
}

/// Check a receipt offline with the log's public key only, and that its entry is `kind`.
async fn verify_offline(env: &Env, log: &Value, kind: &str) {
    let receipt: LogReceipt = serde_json::from_value(log.clone()).unwrap();
    let verifier = NoteVerifier::from_vkey(&env.server.vkey).unwrap();
    let entry = env
        .server
        .client
        .get(env.url(&format!("/log/entries/{}", receipt.index)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    receipt.verify(&verifier, ORIGIN, Some(&entry)).unwrap();
    assert_eq!(decode(&entry).unwrap().envelope.kind, kind);
    // A tampered entry or path must not verify.
    let mut tampered = entry.to_vec();
    tampered[10] ^= 1;
    assert!(receipt.verify(&verifier, ORIGIN, Some(&tampered)).is_err());
    if !receipt.inclusion_path.is_empty() {
        let mut bad = receipt.clone();
        bad.inclusion_path[0] = bad.inclusion_path[0].replacen('A', "B", 1);
        if bad.inclusion_path[0] != receipt.inclusion_path[0] {
            assert!(bad.verify(&verifier, ORIGIN, Some(&entry)).is_err());
        }
    }
}

/// The decision token verifies with the key in the service's DID document.
async fn check_decision_token(env: &Env, token: &str, decision: &str) {
    let (_, did) = env.get("/.well-known/did.json").await;
    let multikey = did["verificationMethod"][0]["publicKeyMultibase"]
        .as_str()
        .unwrap();
    let key = ed25519_from_multikey(multikey).unwrap();
    let parsed = jose::parse(token, None).unwrap();
    parsed.verify_ed25519(&key).unwrap();
    assert_eq!(parsed.header_str("typ"), Some("decision+jwt"));
    assert_eq!(parsed.payload_json().unwrap()["decision"], decision);
}

async fn submit_contract(env: &Env, agreement: &Value) -> (u16, Value) {
    env.post(
        "/v1/contracts",
        &json!({"agreement": agreement, "signatures": [signature(&env.lyon, agreement), signature(&env.startup, agreement)]}),
        None,
    )
    .await
}

async fn full_flow(kind: Db) {
    let env = env(kind).await;
    let agreement =
        count_limited_agreement(CONTRACT, &env.lyon.siren, &env.startup.siren, DATASET, 2);

    // Both representatives sign; the contract is logged whole with the evidence used.
    let (status, body) = submit_contract(&env, &agreement).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["contract"]["state"], "active");
    verify_offline(&env, &body["log"], "contract.agreed").await;
    let Entry::ContractAgreed(agreed) = env.entry(body["log"]["index"].as_u64().unwrap()).await
    else {
        panic!("not a contract.agreed entry");
    };
    assert_eq!(agreed.signatures.len(), 2);
    assert_eq!(
        agreed.signatures[0]
            .mandate
            .types
            .iter()
            .filter(|t| *t == "MandateCredential")
            .count(),
        1
    );
    let logged = serde_json::to_string(&agreed).unwrap();
    assert!(
        !logged.contains("demo.invalid"),
        "personal data in the log: {logged}"
    );
    let (status, again) = submit_contract(&env, &agreement).await;
    assert_eq!(status, 409, "{again}");

    // The provider's and the consumer's connectors authenticate.
    let provider_token = env.access_token(&env.lyon).await;
    let consumer_token = env.access_token(&env.startup).await;

    // Ask, transfer, post both receipts: matched, proofs verify offline.
    let (status, first) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["decision"], "permit", "{first}");
    verify_offline(&env, &first["log"], "decision.made").await;
    let first_token = first["token"].as_str().unwrap();
    check_decision_token(&env, first_token, "permit").await;
    let (status, provider_side) = env
        .post_receipt(&env.lyon, first_token, "transfer-1", 5000, 3)
        .await;
    assert_eq!(status, 201, "{provider_side}");
    assert_eq!(provider_side["matching"], "awaiting-counterpart");
    verify_offline(&env, &provider_side["log"], "receipt.recorded").await;
    let (status, consumer_side) = env
        .post_receipt(&env.startup, first_token, "transfer-1", 5000, 3)
        .await;
    assert_eq!(status, 201, "{consumer_side}");
    assert_eq!(consumer_side["matching"], "matched");
    let (status, duplicate) = env
        .post_receipt(&env.startup, first_token, "transfer-1", 5000, 3)
        .await;
    assert_eq!(status, 409, "{duplicate}");

    // A second decision; the two sides disagree on the bytes: a mismatch is logged.
    let (_, second) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(second["decision"], "permit", "{second}");
    let second_token = second["token"].as_str().unwrap();
    env.post_receipt(&env.lyon, second_token, "transfer-2", 9000, 1)
        .await;
    let (status, mismatched) = env
        .post_receipt(&env.startup, second_token, "transfer-2", 8000, 1)
        .await;
    assert_eq!(status, 201, "{mismatched}");
    assert_eq!(mismatched["matching"], "mismatch");
    assert!(
        mismatched["differences"][0]
            .as_str()
            .unwrap()
            .contains("bytes")
    );
    verify_offline(&env, &mismatched["mismatch_log"], "receipt.mismatch").await;

    // One decision permits one transfer: a second transfer on it is rejected, on the record.
    let (status, reused) = env
        .post_receipt(&env.lyon, second_token, "transfer-3", 1, 1)
        .await;
    assert_eq!(status, 422, "{reused}");
    assert!(
        reused["type"]
            .as_str()
            .unwrap()
            .ends_with("/problems/receipt-rejected")
    );
    assert!(matches!(
        env.entry(reused["log"]["index"].as_u64().unwrap()).await,
        Entry::ReceiptRejected(_)
    ));

    // The count runs out: the third use is denied, and says why.
    let (status, third) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["decision"], "deny", "{third}");
    let reasons = third["reasons"].to_string();
    assert!(reasons.contains("count"), "{reasons}");
    check_decision_token(&env, third["token"].as_str().unwrap(), "deny").await;
    verify_offline(&env, &third["log"], "decision.made").await;

    // A receipt for the denied transfer is rejected and visible to the audit.
    let (status, denied) = env
        .post_receipt(
            &env.lyon,
            third["token"].as_str().unwrap(),
            "transfer-4",
            10,
            1,
        )
        .await;
    assert_eq!(status, 422, "{denied}");
    assert!(
        denied["detail"].as_str().unwrap().contains("denied"),
        "{denied}"
    );
    let Entry::ReceiptRejected(rejected) =
        env.entry(denied["log"]["index"].as_u64().unwrap()).await
    else {
        panic!("the rejection is not logged");
    };
    assert_eq!(rejected.siren, env.lyon.siren);

    // Amendment: both sign a new agreement allowing more uses; the history grows.
    let mut amended = count_limited_agreement(
        &format!("{CONTRACT}/v2"),
        &env.lyon.siren,
        &env.startup.siren,
        DATASET,
        10,
    );
    amended["dc:title"] = json!("Amendment 1");
    let (status, body) = env
        .post(
            &format!("/v1/contracts/{}/amendments", urlencode(CONTRACT)),
            &json!({"agreement": amended, "signatures": [signature(&env.lyon, &amended), signature(&env.startup, &amended)]}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contract"]["version"], 2);
    let (_, fourth) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(fourth["decision"], "permit", "{fourth}");

    // Billing standing: with the paying party on hold, decisions are denied and say why.
    let hold = format!("/v1/participants/{}/billing-hold", env.startup.siren);
    let before = env.log_size().await;
    env.assert_refused(
        env.post(&hold, &json!({"reason": "unpaid"}), None).await,
        401,
        "unauthenticated",
        "operator",
        before,
    )
    .await;
    let (status, placed) = env
        .post(
            &hold,
            &json!({"reason": "invoice 2026-11 unpaid"}),
            Some(OPERATOR_TOKEN),
        )
        .await;
    assert_eq!(status, 201, "{placed}");
    let (_, held) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(held["decision"], "deny", "{held}");
    assert!(
        held["reasons"][0]
            .as_str()
            .unwrap()
            .contains("billing hold"),
        "{held}"
    );
    let (status, cleared) = env
        .post(
            &format!("/v1/participants/{}/billing-clearance", env.startup.siren),
            &json!({"reason": "paid"}),
            Some(OPERATOR_TOKEN),
        )
        .await;
    assert_eq!(status, 200, "{cleared}");
    let (_, fourth) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(fourth["decision"], "permit", "{fourth}");

    // Termination by the provider's representative, signed; later decisions are denied and
    // a receipt under an earlier permit is rejected.
    let (_, current) = env
        .get(&format!("/v1/contracts/{}", urlencode(CONTRACT)))
        .await;
    let sha = current["agreement_sha256"].as_str().unwrap();
    let reason = "Fin de l'expérimentation";
    let statement =
        clearinghouse::exchange::contracts::termination_statement(CONTRACT, sha, reason);
    let payload = clearinghouse::entry::canonical_json(&statement).unwrap();
    let jws = representative_jws(
        env.lyon.representative.key(),
        env.lyon.representative.method(),
        Utc::now(),
        &payload,
    );
    let (status, body) = env
        .post(
            &format!("/v1/contracts/{}/termination", urlencode(CONTRACT)),
            &json!({"reason": reason, "signature": {"mandate": env.lyon.mandate, "jws": jws}}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contract"]["state"], "terminated");
    let (_, contract) = env
        .get(&format!("/v1/contracts/{}", urlencode(CONTRACT)))
        .await;
    let kinds: Vec<&str> = contract["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["agreed", "amended", "terminated"]);
    let (_, fifth) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(fifth["decision"], "deny");
    assert!(
        fifth["reasons"][0].as_str().unwrap().contains("terminated"),
        "{fifth}"
    );
    let (status, late) = env
        .post_receipt(
            &env.lyon,
            fourth["token"].as_str().unwrap(),
            "transfer-5",
            10,
            1,
        )
        .await;
    assert_eq!(status, 422, "{late}");
    assert!(
        late["detail"].as_str().unwrap().contains("terminated"),
        "{late}"
    );

    // Suspension takes effect at once on access tokens.
    let (status, _) = env
        .post(
            &format!("/v1/participants/{}/suspension", env.lyon.siren),
            &json!({"reason": "test"}),
            Some(OPERATOR_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    let before = env.log_size().await;
    env.assert_refused(
        env.ask(&provider_token, CONTRACT, json!({})).await,
        403,
        "forbidden",
        "suspended",
        before,
    )
    .await;

    // Both parties' standing is read at every decision: the provider's suspension and then
    // the consumer's revoked registration credential are named (after the termination).
    let (status, standing) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(status, 200, "{standing}");
    assert_eq!(standing["decision"], "deny", "{standing}");
    let reasons = standing["reasons"].to_string();
    let suspended = format!("the provider (SIREN {}) is suspended: test", env.lyon.siren);
    assert!(reasons.contains(&suspended), "{reasons}");
    assert!(!reasons.contains("consumer"), "{reasons}");
    let organisation = env
        .server
        .state
        .store
        .credentials_for(&env.startup.siren)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.credential_type == "OrganisationCredential")
        .expect("the consumer registered with an OrganisationCredential");
    let (status, revoked) = env
        .post(
            &format!("/v1/credentials/{}/revocation", organisation.id),
            &json!({"reason": "company struck off"}),
            Some(OPERATOR_TOKEN),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let (status, lapsed) = env.ask(&consumer_token, CONTRACT, json!({})).await;
    assert_eq!(status, 200, "{lapsed}");
    let reasons = lapsed["reasons"].to_string();
    let named = format!(
        "the consumer's OrganisationCredential ({}…) was revoked at log index",
        &organisation.sha256[..12]
    );
    assert!(reasons.contains(&suspended), "{reasons}");
    assert!(reasons.contains(&named), "{reasons}");
    env.server.stop().await;
}

async fn rejections(kind: Db) {
    // Decisions expire after two seconds, with no clock skew tolerated.
    let env = env_with(kind, |config| {
        config.exchange.decision_seconds = 2;
        config.exchange.clock_skew_seconds = 0;
    })
    .await;
    let contract = "https://data.example-territoire.fr/contracts/test-rejections";
    let agreement =
        count_limited_agreement(contract, &env.danone.siren, &env.startup.siren, DATASET, 5);
    let size = env.log_size().await;

    // A forged signature: the assigner's JWS over another agreement.
    let other = count_limited_agreement(
        contract,
        &env.danone.siren,
        &env.startup.siren,
        DATASET,
        500,
    );
    let mut forged = signature(&env.danone, &other);
    forged["mandate"] = env.danone.mandate.clone();
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": agreement, "signatures": [forged, signature(&env.startup, &agreement)]}), None).await,
        422, "signature-rejected", "does not verify", size,
    ).await;

    // A signature by someone else's key for the mandate.
    let mut stolen = signature(&env.startup, &agreement);
    stolen["mandate"] = env.danone.mandate.clone();
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": agreement, "signatures": [stolen, signature(&env.startup, &agreement)]}), None).await,
        422, "signature-rejected", "not with the key the mandate is bound to", size,
    ).await;

    // A signer whose mandate lacks `sign-contract`.
    let weak = count_limited_agreement(
        contract,
        &env.metropole.siren,
        &env.startup.siren,
        DATASET,
        5,
    );
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": weak, "signatures": [signature(&env.metropole, &weak), signature(&env.startup, &weak)]}), None).await,
        403, "mandate-rejected", "sign-contract", size,
    ).await;

    // The consumer's signature missing: only the assigner signed (twice).
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": agreement, "signatures": [signature(&env.danone, &agreement), signature(&env.danone, &agreement)]}), None).await,
        403, "mandate-rejected", "no signature by a representative of the assignee", size,
    ).await;

    // Not an Agreement, and an invalid policy: precise errors.
    let mut offer = agreement.clone();
    offer["@type"] = json!("Offer");
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": offer, "signatures": [signature(&env.danone, &offer), signature(&env.startup, &offer)]}), None).await,
        422, "unprocessable", "Agreement", size,
    ).await;
    let mut invalid = agreement.clone();
    invalid["permission"][0]["constraint"][0]["leftOperand"] = json!("colour");
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": invalid, "signatures": [signature(&env.danone, &invalid), signature(&env.startup, &invalid)]}), None).await,
        422, "unprocessable", "colour", size,
    ).await;

    // A signature dated in the future.
    let payload = clearinghouse::entry::canonical_json(&agreement).unwrap();
    let future = json!({"mandate": env.danone.mandate, "jws": representative_jws(env.danone.representative.key(), env.danone.representative.method(), Utc::now() + Duration::hours(2), &payload)});
    env.assert_refused(
        env.post("/v1/contracts", &json!({"agreement": agreement, "signatures": [future, signature(&env.startup, &agreement)]}), None).await,
        422, "signature-rejected", "future", size,
    ).await;

    // Client assertions: replayed, expired, for another audience, signed by a foreign key.
    let endpoint = env.url("/v1/oauth/token");
    let assertion = client_assertion(
        env.danone.connector.key(),
        &env.danone.siren,
        &endpoint,
        "jti-1",
    );
    assert_eq!(env.token_request(&assertion).await.0, 200);
    let (status, replay) = env.token_request(&assertion).await;
    assert_eq!(status, 401, "{replay}");
    assert_eq!(replay["error"], "invalid_grant");
    assert!(replay["detail"].as_str().unwrap().contains("replay"));

    let expired = custom_assertion(
        &env.danone,
        json!({"iss": env.danone.siren, "sub": env.danone.siren, "aud": endpoint, "exp": (Utc::now() - Duration::minutes(10)).timestamp(), "jti": "jti-2"}),
    );
    let (status, body) = env.token_request(&expired).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert!(body["detail"].as_str().unwrap().contains("expired"));

    let elsewhere = custom_assertion(
        &env.danone,
        json!({"iss": env.danone.siren, "sub": env.danone.siren, "aud": "https://other.example/token", "exp": (Utc::now() + Duration::minutes(1)).timestamp(), "jti": "jti-3"}),
    );
    let (status, body) = env.token_request(&elsewhere).await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().unwrap().contains("aud"), "{body}");

    let impostor = client_assertion(
        env.startup.connector.key(),
        &env.danone.siren,
        &endpoint,
        "jti-4",
    );
    let (status, body) = env.token_request(&impostor).await;
    assert_eq!(status, 401);
    assert!(
        body["detail"].as_str().unwrap().contains("client id"),
        "{body}"
    );

    // Tampered and missing access tokens.
    let token = env.access_token(&env.startup).await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let size = env.log_size().await;
    env.assert_refused(
        env.ask(&tampered, contract, json!({})).await,
        401,
        "unauthenticated",
        "access token",
        size,
    )
    .await;
    let (status, _) = env
        .post(
            "/v1/decisions",
            &json!({"contract": contract, "action": "use", "target": DATASET}),
            None,
        )
        .await;
    assert_eq!(status, 401);

    // Decisions: unknown contract, a contract of others, computed operands sent by the caller.
    env.assert_refused(
        env.ask(&token, "urn:nothing", json!({})).await,
        404,
        "not-found",
        "no contract",
        size,
    )
    .await;
    let (status, body) = submit_contract(
        &env,
        &count_limited_agreement(CONTRACT, &env.lyon.siren, &env.startup.siren, DATASET, 1),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let size = env.log_size().await;
    let danone_token = env.access_token(&env.danone).await;
    env.assert_refused(
        env.ask(&danone_token, CONTRACT, json!({})).await,
        403,
        "forbidden",
        "not a party",
        size,
    )
    .await;
    env.assert_refused(
        env.ask(&token, CONTRACT, json!({"count": 0})).await,
        422,
        "unprocessable",
        "computed",
        size,
    )
    .await;

    // A receipt signed by an unregistered key, and one with a forged decision token: the
    // first changes nothing, the second is authentic and rejected on the record.
    let (_, permit) = env.ask(&token, CONTRACT, json!({})).await;
    assert_eq!(permit["decision"], "permit", "{permit}");
    let size = env.log_size().await;
    let stranger = clearinghouse::trust::wallet::Wallet::generate();
    let unknown = sign_receipt(
        stranger.key(),
        &TransferReport {
            decision_token: permit["token"].as_str().unwrap(),
            transfer_id: "t",
            asset: DATASET,
            bytes: 1,
            records: 1,
            content_sha256: &"00".repeat(32),
            started_at: Utc::now(),
            ended_at: Utc::now(),
        },
    );
    env.assert_refused(
        env.post("/v1/receipts", &json!({"receipt": unknown}), None)
            .await,
        401,
        "unauthenticated",
        "not a registered connector key",
        size,
    )
    .await;
    let mut forged_decision = permit["token"].as_str().unwrap().to_owned();
    forged_decision.insert(forged_decision.rfind('.').unwrap() + 1, 'A');
    let (status, body) = env
        .post_receipt(&env.startup, &forged_decision, "t-forged", 1, 1)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("not a valid decision"),
        "{body}"
    );
    assert_eq!(env.log_size().await, size + 1);

    // A transfer that started after its decision expired.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, body) = env
        .post_receipt(
            &env.startup,
            permit["token"].as_str().unwrap(),
            "t-late",
            1,
            0,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    assert_eq!(connector_kid(env.startup.connector.key()).len(), 43);
    env.server.stop().await;
}

fn custom_assertion(party: &DemoParty, claims: Value) -> String {
    let mut header = serde_json::Map::new();
    header.insert("kid".into(), json!(connector_kid(party.connector.key())));
    jose::sign_ed25519(party.connector.key(), header, claims.to_string().as_bytes())
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

on_both_databases!(contract_to_receipts, super::full_flow);
on_both_databases!(exchange_rejections, super::rejections);

/// An access token past its lifetime is refused, and says so.
async fn expired_access_token(kind: Db) {
    let env = env_with(kind, |config| {
        // Long enough that a fresh token (expiry in whole seconds) outlives a loaded
        // machine's round trip; short enough to wait out.
        config.exchange.access_token_seconds = 3;
        config.exchange.clock_skew_seconds = 0;
    })
    .await;
    let agreement =
        count_limited_agreement(CONTRACT, &env.lyon.siren, &env.startup.siren, DATASET, 5);
    assert_eq!(submit_contract(&env, &agreement).await.0, 201);
    let token = env.access_token(&env.startup).await;
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let size = env.log_size().await;
    env.assert_refused(
        env.ask(&token, CONTRACT, json!({})).await,
        401,
        "unauthenticated",
        "expired",
        size,
    )
    .await;
    // A fresh token works again.
    let fresh = env.access_token(&env.startup).await;
    let (status, body) = env.ask(&fresh, CONTRACT, json!({})).await;
    assert_eq!(
        (status, body["decision"].as_str()),
        (200, Some("permit")),
        "{body}"
    );
    env.server.stop().await;
}

on_both_databases!(access_token_expiry, super::expired_access_token);
