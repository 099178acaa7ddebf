//! An external credential issuer identified by `did:web`, its DID document served by a local
//! HTTP server (`trust.allow_http_did_web` lets 127.0.0.1 be resolved over plain HTTP;
//! `trust.did_cache_seconds = 0` makes every verification fetch the document again).
//!
//! Its OrganisationCredential is accepted (by the VC-API verifier, and for onboarding, which
//! logs the issuer and its anchor); it is rejected once the DID document's key changes or no
//! longer lists the key for `assertionMethod`, when the document is for another DID, and for
//! a credential type its anchor does not allow.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{Duration, SecondsFormat, Utc};
use clearinghouse::trust::did::multikey_of;
use clearinghouse::trust::jcs_suite;
use common::Db;
use common::trust::{DidKey, TrustEnv, credential};
use ed25519_dalek::SigningKey;
use serde_json::{Map, Value, json};

/// A did:web issuer: its key and the DID document its server answers with (replaceable).
struct WebIssuer {
    did: String,
    method: String,
    key: SigningKey,
    document: Arc<Mutex<Value>>,
}

fn document_for(did: &str, method: &str, key: &SigningKey) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey_of(&key.verifying_key()),
        }],
        "assertionMethod": [method],
        "authentication": [method],
    })
}

impl WebIssuer {
    async fn start() -> WebIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let did = format!("did:web:127.0.0.1%3A{port}");
        let method = format!("{did}#key-1");
        let key = SigningKey::from_bytes(&[77; 32]);
        let document = Arc::new(Mutex::new(document_for(&did, &method, &key)));
        let app = Router::new()
            .route(
                "/.well-known/did.json",
                get(|State(doc): State<Arc<Mutex<Value>>>| async move {
                    axum::Json(doc.lock().unwrap().clone())
                }),
            )
            .with_state(document.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        WebIssuer {
            did,
            method,
            key,
            document,
        }
    }

    /// Sign with eddsa-jcs-2022 under the did:web verification method.
    fn sign(&self, credential: &Value) -> Value {
        let mut options = Map::new();
        options.insert(
            "created".into(),
            json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
        options.insert("verificationMethod".into(), json!(self.method));
        options.insert("proofPurpose".into(), json!("assertionMethod"));
        jcs_suite::sign(credential, &options, &self.key).unwrap()
    }

    fn serve(&self, document: Value) {
        *self.document.lock().unwrap() = document;
    }
}

fn organisation(issuer: &str) -> Value {
    let now = Utc::now();
    credential(
        issuer,
        "OrganisationCredential",
        json!({"type": "Organisation", "siren": "552032534", "siret": "55203253400646", "legalName": "DANONE"}),
        (now - Duration::days(1), now + Duration::days(30)),
        None,
    )
}

async fn verify(env: &TrustEnv, credential: &Value) -> (u16, Value) {
    env.post(
        "/v1/vc-api/credentials/verify",
        &json!({"verifiableCredential": credential}),
        false,
    )
    .await
}

fn assert_rejected((status, body): &(u16, Value), check: &str) {
    assert_eq!(*status, 422, "{body}");
    assert_eq!(body["type"], "/problems/credential-rejected", "{body}");
    assert_eq!(body["check"], check, "{body}");
}

async fn did_web_issuer(kind: Db) {
    let web = WebIssuer::start().await;
    let env = TrustEnv::start(
        kind,
        &[("web-issuer", &web.did, &["OrganisationCredential"])],
        |config| config.trust.did_cache_seconds = 0,
    )
    .await;
    let (status, anchors) = env.get("/v1/trust/anchors").await;
    assert_eq!(status, 200);
    assert!(
        anchors["anchors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "web-issuer" && a["issuer"] == web.did.as_str()),
        "{anchors}"
    );

    // Accepted: the document is fetched from the issuer's server and the key matches.
    let org = web.sign(&organisation(&web.did));
    let (status, body) = verify(&env, &org).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issuer"], web.did);
    assert_eq!(body["trustAnchor"], "web-issuer");
    assert_eq!(body["securing"], "eddsa-jcs-2022");

    // …and good enough for onboarding, with a mandate this service issued.
    let officer = DidKey::random();
    let (_, mandate) = env.credentials_of("officer", &officer).await;
    let presentation = env.present(&officer, &[org.clone(), mandate.clone()]).await;
    let connector = DidKey::new(51).public_jwk();
    let (status, registered) = env
        .post(
            "/v1/participants",
            &json!({"presentation": presentation, "connector_keys": [connector]}),
            false,
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    let entry = env
        .entry(registered["log"]["index"].as_u64().unwrap())
        .await;
    assert_eq!(entry["type"], "participant.registered");
    assert_eq!(entry["credentials"][0]["issuer"], web.did);
    assert_eq!(entry["credentials"][0]["anchor_id"], "web-issuer");
    assert_eq!(entry["credentials"][0]["format"], "eddsa-jcs-2022");

    // Not for a type its anchor does not list.
    let now = Utc::now();
    let mandate_from_web = web.sign(&credential(
        &web.did,
        "MandateCredential",
        json!({"id": officer.did, "actsFor": {"siren": "552032534"}}),
        (now - Duration::days(1), now + Duration::days(30)),
        None,
    ));
    let attempt = verify(&env, &mandate_from_web).await;
    assert_rejected(&attempt, "issuer-not-allowed");
    assert!(
        attempt.1["detail"]
            .as_str()
            .unwrap()
            .contains("MandateCredential"),
        "{}",
        attempt.1
    );

    // The key behind #key-1 changes (a tampered or rotated document): the same credential
    // no longer verifies, and a fresh one signed with the old key neither.
    let other = SigningKey::from_bytes(&[78; 32]);
    web.serve(document_for(&web.did, &web.method, &other));
    assert_rejected(&verify(&env, &org).await, "signature");
    assert_rejected(
        &verify(&env, &web.sign(&organisation(&web.did))).await,
        "signature",
    );

    // The key is still there but no longer listed for assertionMethod.
    let mut unlisted = document_for(&web.did, &web.method, &web.key);
    unlisted["assertionMethod"] = json!([]);
    web.serve(unlisted);
    let attempt = verify(&env, &org).await;
    assert_rejected(&attempt, "key");
    assert!(
        attempt.1["detail"]
            .as_str()
            .unwrap()
            .contains("assertionMethod"),
        "{}",
        attempt.1
    );

    // A document for another DID is not this issuer's.
    let mut foreign = document_for(&web.did, &web.method, &web.key);
    foreign["id"] = json!("did:web:elsewhere.example");
    web.serve(foreign);
    assert_rejected(&verify(&env, &org).await, "key");

    // The genuine document again: accepted again (nothing was cached).
    web.serve(document_for(&web.did, &web.method, &web.key));
    let (status, body) = verify(&env, &org).await;
    assert_eq!(status, 200, "{body}");
    env.server.stop().await;
}
on_both_databases!(did_web, super::did_web_issuer);
