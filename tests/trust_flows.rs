//! Participants and trust end to end, through HTTP, on both databases, with a real local
//! OpenID provider emitting ProConnect's claims and a local Sirene API: the three ways to a
//! mandate, onboarding, key changes, revocation through a parent, and every rejection the
//! acceptance criteria list — each named in a problem response, each writing nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner, NoteVerifier, open_checkpoint};
use common::trust::{
    CLIENT_ID, CLIENT_SECRET, DidKey, OidcProvider, SIRENE_KEY, SireneStub, StatusListServer,
    browser, credential, persona, status_entry, write_anchors,
};
use common::{Db, OPERATOR_TOKEN, ORIGIN, TestDb, TestServer};
use serde_json::{Value, json};

const DANONE: &str = "55203253400646";
const LYON: &str = "21690123100011";
const CLOSED: &str = "44306184100047";
const OFFICER_ACR: &str = "https://proconnect.gouv.fr/assurance/certification-dirigeant";
const CHECKED_ACR: &str = "https://proconnect.gouv.fr/assurance/consistency-checked";

struct Env {
    server: TestServer,
    external: Arc<DidKey>,
    status: StatusListServer,
    _oidc: OidcProvider,
    _sirene: SireneStub,
    _dir: tempfile::TempDir,
}

fn personas() -> Value {
    json!({
        "officer": persona("sub-officer", "Camille", "Lefèvre", "camille.lefevre@danone.example.fr", DANONE, OFFICER_ACR),
        "employee": persona("sub-employee", "Thomas", "Girard", "thomas.girard@danone.example.fr", DANONE, CHECKED_ACR),
        "mayor": persona("sub-mayor", "Élodie", "Martin", "elodie.martin@lyon.example.fr", LYON, CHECKED_ACR),
        "lyon_officer": persona("sub-lyon", "Jean", "Dupont", "jean.dupont@lyon.example.fr", LYON, OFFICER_ACR),
        "closed": persona("sub-closed", "Ana", "Ferme", "ana@ferme.example.fr", CLOSED, OFFICER_ACR),
        "bad_siret": persona("sub-bad", "Bea", "Faux", "bea@faux.example.fr", "55203253400647", OFFICER_ACR),
        "weak": persona("sub-weak", "Leo", "Faible", "leo@danone.example.fr", DANONE, "eidas1"),
    })
}

async fn env(kind: Db) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sirene = SireneStub::start().await;
    let oidc = OidcProvider::start(
        dir.path(),
        &format!("{base}/v1/auth/proconnect/callback"),
        personas(),
    )
    .await;
    let external = Arc::new(DidKey::new(9));
    let narrow = DidKey::new(10);
    let status = StatusListServer::start(external.clone()).await;
    let anchors = dir.path().join("anchors");
    write_anchors(
        &anchors,
        &oidc.issuer,
        &[
            (
                "external",
                &external.did,
                &["OrganisationCredential", "MandateCredential"],
            ),
            ("narrow", &narrow.did, &["EmployeeCredential"]),
        ],
    );
    let db = TestDb::new(kind).await;
    let mut config = common::test_config(&db);
    config.trust.anchors_dir = anchors;
    config.trust.allow_http_did_web = true;
    config.trust.status_cache_seconds = 0;
    config.sirene.base_url = sirene.base.clone();
    config.sirene.api_key = Some(SIRENE_KEY.into());
    config.proconnect.issuer = oidc.issuer.clone();
    config.proconnect.client_id = Some(CLIENT_ID.into());
    config.proconnect.client_secret = Some(CLIENT_SECRET.into());
    let signer = NoteSigner::generate(ORIGIN, ALG_ED25519).unwrap();
    let server = TestServer::start_on_listener(db, signer, config, listener, |_| {}).await;
    Env {
        server,
        external,
        status,
        _oidc: oidc,
        _sirene: sirene,
        _dir: dir,
    }
}

impl Env {
    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Sign in through the provider as `persona`, binding mandates to `holder`.
    async fn sign_in(&self, persona: &str, holder: &DidKey) -> (u16, Value) {
        let response = browser()
            .get(self.url(&format!(
                "/v1/auth/proconnect/login?holder={}&login_hint={persona}",
                holder.did
            )))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn challenge(&self) -> String {
        let body: Value = self
            .server
            .client
            .get(self.url("/v1/challenges"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["challenge"].as_str().unwrap().to_owned()
    }

    /// A presentation bound to a fresh challenge and this service's domain.
    async fn present(&self, holder: &DidKey, credentials: &[Value]) -> Value {
        let challenge = self.challenge().await;
        holder.present(credentials, Some(&challenge), Some(&self.server.base))
    }

    async fn post(&self, path: &str, body: &Value, operator: bool) -> (u16, Value) {
        let mut request = self.server.client.post(self.url(path)).json(body);
        if operator {
            request = request.bearer_auth(OPERATOR_TOKEN);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn log_size(&self) -> u64 {
        let note = self
            .server
            .client
            .get(self.url("/log/checkpoint"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let verifier = NoteVerifier::from_vkey(&self.server.vkey).unwrap();
        open_checkpoint(&note, &verifier, ORIGIN).unwrap().size
    }

    /// Assert a rejection: status, problem type, `check` when given, and nothing logged.
    async fn assert_rejected(
        &self,
        (status, body): (u16, Value),
        expected_status: u16,
        slug: &str,
        check: Option<&str>,
        before: u64,
    ) {
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(body["type"], format!("/problems/{slug}"), "{body}");
        if let Some(check) = check {
            assert_eq!(body["check"], check, "{body}");
        }
        assert!(!body["detail"].as_str().unwrap_or_default().is_empty());
        assert_eq!(
            self.log_size().await,
            before,
            "a rejection must log nothing: {body}"
        );
    }
}

fn connector_key(seed: u8) -> Value {
    DidKey::new(seed).public_jwk()
}

fn credential_of<'a>(outcome: &'a Value, kind: &str) -> &'a Value {
    outcome["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"].as_array().unwrap().iter().any(|t| t == kind))
        .unwrap_or_else(|| panic!("no {kind} in {outcome}"))
}

/// The three ways to a mandate, onboarding, key changes and revocation through a parent.
async fn three_ways_to_a_mandate(kind: Db) {
    let env = env(kind).await;
    let officer = DidKey::random();
    let employee = DidKey::random();
    let mayor = DidKey::random();

    // (a) A certified officer signs in and receives an officer mandate with every power.
    let (status, outcome) = env.sign_in("officer", &officer).await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["organisation"]["siren"], "552032534");
    assert_eq!(outcome["organisation"]["class"], "company");
    assert_eq!(outcome["mandates"][0]["basis"], "officer");
    let org = credential_of(&outcome, "OrganisationCredential").clone();
    let mandate = credential_of(&outcome, "MandateCredential").clone();
    assert_eq!(mandate["credentialSubject"]["id"], officer.did);
    assert_eq!(mandate["proof"]["cryptosuite"], "eddsa-rdfc-2022");

    // Onboarding on a presentation of both, bound to a challenge.
    let presentation = env.present(&officer, &[org.clone(), mandate.clone()]).await;
    let (status, registered) = env
        .post(
            "/v1/participants",
            &json!({"presentation": presentation, "connector_keys": [connector_key(21)]}),
            false,
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["participant"]["siren"], "552032534");
    assert_eq!(registered["participant"]["legal_name"], "DANONE");
    assert_eq!(
        registered["participant"]["keys"].as_array().unwrap().len(),
        1
    );
    // The entry holds hashes, issuers, statuses and the anchor version — no personal data.
    let index = registered["log"]["index"].as_u64().unwrap();
    let entry = env
        .server
        .client
        .get(env.url(&format!("/log/entries/{index}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for personal in [
        "camille",
        "Lefèvre",
        "sub-officer",
        "danone.example.fr",
        &officer.did,
    ] {
        assert!(
            !entry.contains(personal),
            "{personal} leaked into the log: {entry}"
        );
    }
    let entry: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(entry["type"], "participant.registered");
    assert_eq!(entry["credentials"].as_array().unwrap().len(), 2);
    assert_eq!(entry["credentials"][1]["status"]["value"], 0);
    assert_eq!(
        entry["anchors_version"],
        env.server.state.trust.anchors_version()
    );

    // (b) The officer delegates key management to an employee, who signs in to claim it.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let (status, grant) = env
        .post(
            "/v1/mandates/delegations",
            &json!({
                "presentation": presentation,
                "grantee_email": "Thomas.Girard@danone.example.fr",
                "powers": {"permission": [{"action": "manage-keys"}]},
                "max_delegation_depth": 0,
                "valid_until": (Utc::now() + Duration::days(30)).to_rfc3339(),
            }),
            false,
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    let (status, outcome) = env.sign_in("employee", &employee).await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["mandates"][0]["basis"], "delegation");
    let sub_mandate = credential_of(&outcome, "MandateCredential").clone();
    assert_eq!(
        sub_mandate["credentialSubject"]["parentMandate"],
        mandate["id"]
    );
    let presentation = env
        .present(&employee, std::slice::from_ref(&sub_mandate))
        .await;
    let (status, changed) = env
        .post(
            "/v1/participants/552032534/keys",
            &json!({"presentation": presentation, "add": [connector_key(22)]}),
            false,
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["participant"]["keys"].as_array().unwrap().len(), 2);

    // (c) For a public body, the operator records the délibération; the mayor signs in.
    let (status, outcome) = env.sign_in("lyon_officer", &DidKey::random()).await;
    assert_eq!(status, 200, "{outcome}");
    assert!(outcome["mandates"].as_array().unwrap().is_empty());
    assert!(
        outcome["notes"][0]
            .as_str()
            .unwrap()
            .contains("délibération"),
        "{outcome}"
    );
    let (status, grant) = env
        .post(
            "/v1/mandates/deliberations",
            &json!({
                "siret": LYON,
                "grantee_email": "elodie.martin@lyon.example.fr",
                "document_sha256": "ab".repeat(32),
                "max_delegation_depth": 1,
                "valid_until": (Utc::now() + Duration::days(365)).to_rfc3339(),
            }),
            true,
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    let (status, outcome) = env.sign_in("mayor", &mayor).await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["mandates"][0]["basis"], "deliberation");
    let lyon_org = credential_of(&outcome, "OrganisationCredential").clone();
    let lyon_mandate = credential_of(&outcome, "MandateCredential").clone();
    let presentation = env.present(&mayor, &[lyon_org, lyon_mandate]).await;
    let (status, registered) = env
        .post(
            "/v1/participants",
            &json!({"presentation": presentation, "connector_keys": [connector_key(23)]}),
            false,
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["participant"]["class"], "public-body");

    // Revoking the officer's mandate revokes the employee's, derived from it.
    let (status, revoked) = env
        .post(
            &format!(
                "/v1/credentials/{}/revocation",
                mandate["id"].as_str().unwrap()
            ),
            &json!({"reason": "officer left the company"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked"], 2);
    let before = env.log_size().await;
    let presentation = env.present(&employee, &[sub_mandate]).await;
    let attempt = env
        .post(
            "/v1/participants/552032534/keys",
            &json!({"presentation": presentation, "add": [connector_key(24)]}),
            false,
        )
        .await;
    env.assert_rejected(attempt, 422, "credential-rejected", Some("revoked"), before)
        .await;

    // The status list says so too, signed by the service.
    let list: Value = env
        .server
        .client
        .get(env.url("/v1/status/revocation-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bits = clearinghouse::trust::status::decode_list(
        list["credentialSubject"]["encodedList"].as_str().unwrap(),
    )
    .unwrap();
    let index: u64 = mandate["credentialStatus"]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(clearinghouse::trust::status::bit(&bits, index), Some(1));

    let participant: Value = env
        .server
        .client
        .get(env.url("/v1/participants/552032534"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(participant["status"], "active");
    env.server.stop().await;
}
on_both_databases!(mandates_three_ways, super::three_ways_to_a_mandate);

/// Every rejection the acceptance criteria list: named, and nothing logged.
async fn rejections_are_named(kind: Db) {
    let env = env(kind).await;
    let officer = DidKey::random();
    let (status, outcome) = env.sign_in("officer", &officer).await;
    assert_eq!(status, 200, "{outcome}");
    let org = credential_of(&outcome, "OrganisationCredential").clone();
    let mandate = credential_of(&outcome, "MandateCredential").clone();
    let before = env.log_size().await;
    let keys = json!([connector_key(31)]);
    let register =
        |presentation: Value| json!({"presentation": presentation, "connector_keys": keys});

    // Bad SIRET checksum: from ProConnect, and from the operator.
    let attempt = env.sign_in("bad_siret", &DidKey::random()).await;
    env.assert_rejected(attempt, 422, "invalid-identifier", None, before)
        .await;
    let attempt = env
        .post(
            "/v1/mandates/deliberations",
            &json!({"siret": "21690123100012", "grantee_email": "x@y.fr", "document_sha256": "ab".repeat(32),
                    "max_delegation_depth": 0, "valid_until": (Utc::now() + Duration::days(1)).to_rfc3339()}),
            true,
        )
        .await;
    env.assert_rejected(attempt, 422, "invalid-identifier", None, before)
        .await;

    // Closed company.
    let attempt = env.sign_in("closed", &DidKey::random()).await;
    env.assert_rejected(attempt, 422, "organisation-closed", None, before)
        .await;

    // ProConnect sign-in at a level this service does not accept.
    let attempt = env.sign_in("weak", &DidKey::random()).await;
    assert!(
        attempt.1["detail"].as_str().unwrap().contains("eidas1"),
        "{}",
        attempt.1
    );
    env.assert_rejected(attempt, 422, "signin-rejected", None, before)
        .await;

    // External issuer: expired, not yet valid, revoked, status list unreachable.
    let now = Utc::now();
    let external = &env.external;
    let external_mandate = |valid: (chrono::DateTime<Utc>, chrono::DateTime<Utc>),
                            status: Option<Value>| {
        external.sign_credential(credential(
            &external.did,
            "MandateCredential",
            json!({"id": officer.did, "actsFor": {"siren": "552032534"},
                   "powers": {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "uid": "urn:uuid:p1",
                              "permission": [{"target": "urn:siren:552032534", "action": "https://w3id.org/ecd-clearinghouse/odrl#manage-keys"}]}}),
            valid,
            status,
        ))
    };
    let cases = [
        (
            external_mandate((now - Duration::days(10), now - Duration::days(1)), None),
            "expired",
        ),
        (
            external_mandate((now + Duration::days(1), now + Duration::days(10)), None),
            "not-yet-valid",
        ),
        (
            external_mandate(
                (now - Duration::days(1), now + Duration::days(10)),
                Some(status_entry(&env.status.url, 5)),
            ),
            "revoked",
        ),
        (
            external_mandate(
                (now - Duration::days(1), now + Duration::days(10)),
                Some(status_entry("http://127.0.0.1:9/status/1", 5)),
            ),
            "status-unavailable",
        ),
    ];
    env.status.revoke(5);
    for (bad, check) in cases {
        let presentation = env.present(&officer, &[org.clone(), bad]).await;
        let attempt = env
            .post("/v1/participants", &register(presentation), false)
            .await;
        env.assert_rejected(attempt, 422, "credential-rejected", Some(check), before)
            .await;
    }

    // Issuer not trusted; trusted but not for this type.
    let stranger = DidKey::new(11);
    let narrow = DidKey::new(10);
    for (issuer, check) in [
        (&stranger, "untrusted-issuer"),
        (&narrow, "issuer-not-allowed"),
    ] {
        let bad = issuer.sign_credential(credential(
            &issuer.did,
            "OrganisationCredential",
            json!({"siren": "552032534", "siret": DANONE}),
            (now - Duration::days(1), now + Duration::days(10)),
            None,
        ));
        let presentation = env.present(&officer, &[bad, mandate.clone()]).await;
        let attempt = env
            .post("/v1/participants", &register(presentation), false)
            .await;
        env.assert_rejected(attempt, 422, "credential-rejected", Some(check), before)
            .await;
    }

    // Tampered signature.
    let mut tampered = org.clone();
    tampered["credentialSubject"]["legalName"] = json!("SOMEONE ELSE");
    let presentation = env.present(&officer, &[tampered, mandate.clone()]).await;
    let attempt = env
        .post("/v1/participants", &register(presentation), false)
        .await;
    env.assert_rejected(
        attempt,
        422,
        "credential-rejected",
        Some("signature"),
        before,
    )
    .await;

    // Presentation without a challenge, with a replayed one, for another domain.
    let unbound = officer.present(
        &[org.clone(), mandate.clone()],
        None,
        Some(&env.server.base),
    );
    let attempt = env
        .post("/v1/participants", &register(unbound), false)
        .await;
    env.assert_rejected(
        attempt,
        422,
        "credential-rejected",
        Some("challenge"),
        before,
    )
    .await;
    let challenge = env.challenge().await;
    let first = officer.present(
        std::slice::from_ref(&org),
        Some(&challenge),
        Some(&env.server.base),
    );
    // Use the challenge up (the presentation lacks a mandate, so nothing is registered).
    let used = env
        .post("/v1/participants", &register(first.clone()), false)
        .await;
    assert_eq!(used.0, 403, "{}", used.1);
    let replay = officer.present(
        &[org.clone(), mandate.clone()],
        Some(&challenge),
        Some(&env.server.base),
    );
    let attempt = env.post("/v1/participants", &register(replay), false).await;
    env.assert_rejected(
        attempt,
        422,
        "credential-rejected",
        Some("challenge-replayed"),
        before,
    )
    .await;
    let challenge = env.challenge().await;
    let elsewhere = officer.present(
        &[org.clone(), mandate.clone()],
        Some(&challenge),
        Some("https://other.example"),
    );
    let attempt = env
        .post("/v1/participants", &register(elsewhere), false)
        .await;
    env.assert_rejected(attempt, 422, "credential-rejected", Some("domain"), before)
        .await;

    // A mandate presented by another key than the one it is bound to.
    let thief = DidKey::random();
    let presentation = env.present(&thief, &[org.clone(), mandate.clone()]).await;
    let attempt = env
        .post("/v1/participants", &register(presentation), false)
        .await;
    env.assert_rejected(attempt, 403, "mandate-rejected", None, before)
        .await;

    // Mandate for another SIREN than the organisation credential.
    let mayor = DidKey::random();
    let (status, grant) = env
        .post(
            "/v1/mandates/deliberations",
            &json!({"siret": LYON, "grantee_email": "elodie.martin@lyon.example.fr", "document_sha256": "cd".repeat(32),
                    "max_delegation_depth": 0, "valid_until": (now + Duration::days(30)).to_rfc3339(),
                    "powers": {"permission": [{"action": "read-audit"}]}}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    let (status, lyon) = env.sign_in("mayor", &mayor).await;
    assert_eq!(status, 200, "{lyon}");
    let before = env.log_size().await;
    let lyon_mandate = credential_of(&lyon, "MandateCredential").clone();
    let lyon_org = credential_of(&lyon, "OrganisationCredential").clone();
    let presentation = env
        .present(&officer, &[lyon_org.clone(), mandate.clone()])
        .await;
    let attempt = env
        .post("/v1/participants", &register(presentation), false)
        .await;
    env.assert_rejected(attempt, 403, "mandate-rejected", None, before)
        .await;

    // A mandate without the power (the mayor's is read-audit only).
    let presentation = env.present(&mayor, &[lyon_org, lyon_mandate.clone()]).await;
    let attempt = env
        .post("/v1/participants", &register(presentation), false)
        .await;
    assert!(
        attempt.1["detail"]
            .as_str()
            .unwrap()
            .contains("manage-keys"),
        "{}",
        attempt.1
    );
    env.assert_rejected(attempt, 403, "mandate-rejected", None, before)
        .await;

    // Beyond the delegation depth: the mayor's mandate has depth 0.
    let presentation = env.present(&mayor, &[lyon_mandate]).await;
    let attempt = env
        .post(
            "/v1/mandates/delegations",
            &json!({"presentation": presentation, "grantee_email": "a@lyon.example.fr",
                    "powers": {"permission": [{"action": "read-audit"}]}, "max_delegation_depth": 0,
                    "valid_until": (now + Duration::days(1)).to_rfc3339()}),
            false,
        )
        .await;
    env.assert_rejected(attempt, 403, "mandate-rejected", None, before)
        .await;
    // And a sub-mandate may not ask for as much depth as its grantor has.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let attempt = env
        .post(
            "/v1/mandates/delegations",
            &json!({"presentation": presentation, "grantee_email": "b@danone.example.fr",
                    "powers": {"permission": [{"action": "read-audit"}]}, "max_delegation_depth": 2,
                    "valid_until": (now + Duration::days(1)).to_rfc3339()}),
            false,
        )
        .await;
    env.assert_rejected(attempt, 403, "mandate-rejected", None, before)
        .await;

    // Operator endpoints refuse other callers.
    let attempt = env
        .post(
            "/v1/participants/552032534/suspension",
            &json!({"reason": "x"}),
            false,
        )
        .await;
    env.assert_rejected(attempt, 401, "unauthenticated", None, before)
        .await;
    env.server.stop().await;
}
on_both_databases!(rejections, super::rejections_are_named);

/// Challenges are one-time and short-lived, and anyone may ask for them: a challenge
/// expired for over a day is purged when another is issued (so the table stays bounded),
/// and is then refused as unknown; a recently expired one is still named as expired.
async fn expired_challenges_are_purged(kind: Db) {
    use clearinghouse::store::trust::{CHALLENGE_RETENTION_MS, ChallengeUse};
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let now = Utc::now().timestamp_millis();
    store
        .save_challenge("long-expired", now - CHALLENGE_RETENTION_MS - 60_000)
        .await
        .unwrap();
    store
        .save_challenge("just-expired", now - 60_000)
        .await
        .unwrap();
    store.save_challenge("fresh", now + 60_000).await.unwrap();
    let check = |challenge: &'static str| {
        let store = store.clone();
        async move { store.consume_challenge(challenge, now).await.unwrap() }
    };
    assert!(matches!(check("long-expired").await, ChallengeUse::Unknown));
    assert!(matches!(check("just-expired").await, ChallengeUse::Expired));
    assert!(matches!(check("fresh").await, ChallengeUse::Fresh));
    assert!(matches!(check("fresh").await, ChallengeUse::Replayed));
}
on_both_databases!(challenge_purge, super::expired_challenges_are_purged);
