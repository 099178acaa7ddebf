//! The VC-API verifier endpoints over HTTP, on both databases:
//! `POST /v1/vc-api/credentials/verify` and `POST /v1/vc-api/presentations/verify` accept
//! credentials secured with `eddsa-rdfc-2022` (issued by this service at a real sign-in),
//! `eddsa-jcs-2022` and `vc+jwt` (a trusted external issuer), and answer with a problem whose
//! `check` and `detail` name the failure for a tampered signature, an expired or revoked
//! credential, an untrusted issuer, a wrong challenge or domain, and malformed requests.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Duration, Utc};
use common::Db;
use common::trust::{DidKey, TrustEnv, credential};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

const CREDENTIALS: &str = "/v1/vc-api/credentials/verify";
const PRESENTATIONS: &str = "/v1/vc-api/presentations/verify";
/// Seed of the trusted external issuer's key.
const EXTERNAL_SEED: u8 = 9;

fn window(from_days: i64, until_days: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let now = Utc::now();
    (
        now + Duration::days(from_days),
        now + Duration::days(until_days),
    )
}

fn organisation(issuer: &str, valid: (DateTime<Utc>, DateTime<Utc>)) -> Value {
    credential(
        issuer,
        "OrganisationCredential",
        json!({"siren": "552032534", "siret": "55203253400646", "legalName": "DANONE"}),
        valid,
        None,
    )
}

/// A compact `vc+jwt` (EdDSA) of `payload`, signed by the did:key of `seed`.
fn vc_jwt(seed: u8, payload: &Value) -> String {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let (_, method) = clearinghouse::trust::did::did_key_of(&key.verifying_key());
    let header = json!({"alg": "EdDSA", "typ": "vc+jwt", "kid": method});
    let input = format!(
        "{}.{}",
        B64URL.encode(serde_json::to_vec(&header).unwrap()),
        B64URL.encode(serde_json::to_vec(payload).unwrap())
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64URL.encode(signature.to_bytes()))
}

/// POST a raw body with a JSON content type.
async fn post_raw(env: &TrustEnv, path: &str, body: &str) -> (u16, Value) {
    let response = env
        .server
        .client
        .post(env.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    if status >= 400 {
        assert_eq!(content_type, "application/problem+json", "{body}");
    }
    (status, body)
}

/// Assert a 422 credential-rejected problem with this `check` and a `detail` containing
/// `detail_has`.
fn assert_rejected((status, body): &(u16, Value), check: &str, detail_has: &str) {
    assert_eq!(*status, 422, "{body}");
    assert_eq!(body["type"], "/problems/credential-rejected", "{body}");
    assert_eq!(body["status"], 422, "{body}");
    assert_eq!(body["check"], check, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(detail_has),
        "detail {detail:?} should mention {detail_has:?}"
    );
}

async fn verify_credential(env: &TrustEnv, credential: &Value) -> (u16, Value) {
    env.post(
        CREDENTIALS,
        &json!({"verifiableCredential": credential}),
        false,
    )
    .await
}

async fn credentials_round_trip(kind: Db) {
    let external = DidKey::new(EXTERNAL_SEED);
    let env = TrustEnv::start(
        kind,
        &[(
            "external",
            &external.did,
            &["OrganisationCredential", "MandateCredential"],
        )],
        |_| {},
    )
    .await;
    let officer = DidKey::random();
    let (org, mandate) = env.credentials_of("officer", &officer).await;

    // eddsa-rdfc-2022, issued by this service; its status list is checked.
    for issued in [&org, &mandate] {
        let (status, body) = verify_credential(&env, issued).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["securing"], "eddsa-rdfc-2022");
        assert_eq!(body["issuer"], env.server.state.trust.issuer().did());
        assert_eq!(body["trustAnchor"], "clearinghouse");
        assert_eq!(body["status"]["value"], 0, "{body}");
        assert_eq!(body["errors"], json!([]));
    }

    // eddsa-jcs-2022 and vc+jwt from the trusted external issuer.
    let jcs = external.sign_credential(organisation(&external.did, window(-1, 30)));
    let (status, body) = verify_credential(&env, &jcs).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["securing"], "eddsa-jcs-2022");
    assert_eq!(body["trustAnchor"], "external");
    let jwt = vc_jwt(EXTERNAL_SEED, &organisation(&external.did, window(-1, 30)));
    let (status, body) = verify_credential(&env, &json!(jwt)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["securing"], "vc+jwt");
    assert_eq!(body["issuer"], external.did);
    let enveloped = json!({
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": format!("data:application/vc+jwt,{jwt}"),
        "type": "EnvelopedVerifiableCredential",
    });
    let (status, body) = verify_credential(&env, &enveloped).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["securing"], "vc+jwt");

    // Tampered signatures, in each format.
    let mut tampered = org.clone();
    tampered["credentialSubject"]["legalName"] = json!("SOMEONE ELSE");
    assert_rejected(
        &verify_credential(&env, &tampered).await,
        "signature",
        "signature",
    );
    let mut tampered = jcs.clone();
    tampered["credentialSubject"]["siren"] = json!("356000000");
    assert_rejected(
        &verify_credential(&env, &tampered).await,
        "signature",
        "signature",
    );
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut forged_payload = organisation(&external.did, window(-1, 30));
    forged_payload["credentialSubject"]["siren"] = json!("356000000");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64URL.encode(serde_json::to_vec(&forged_payload).unwrap()),
        parts[2]
    );
    assert_rejected(
        &verify_credential(&env, &json!(forged)).await,
        "signature",
        "signature",
    );

    // Expired, not yet valid.
    let expired = external.sign_credential(organisation(&external.did, window(-30, -1)));
    assert_rejected(
        &verify_credential(&env, &expired).await,
        "expired",
        "expired",
    );
    let early = external.sign_credential(organisation(&external.did, window(2, 30)));
    assert_rejected(
        &verify_credential(&env, &early).await,
        "not-yet-valid",
        "not valid before",
    );

    // Untrusted issuer; trusted issuer, type it may not attest.
    let stranger = DidKey::new(11);
    let untrusted = stranger.sign_credential(organisation(&stranger.did, window(-1, 30)));
    assert_rejected(
        &verify_credential(&env, &untrusted).await,
        "untrusted-issuer",
        &stranger.did,
    );
    let other_type = external.sign_credential(credential(
        &external.did,
        "EmployeeCredential",
        json!({"id": officer.did}),
        window(-1, 30),
        None,
    ));
    assert_rejected(
        &verify_credential(&env, &other_type).await,
        "issuer-not-allowed",
        "EmployeeCredential",
    );

    // Revoked by the operator: the service's own status list says so.
    let (status, revoked) = env
        .post(
            &format!(
                "/v1/credentials/{}/revocation",
                mandate["id"].as_str().unwrap()
            ),
            &json!({"reason": "test"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_rejected(
        &verify_credential(&env, &mandate).await,
        "revoked",
        "revoked",
    );

    // Malformed requests: not JSON, JSON of the wrong shape, a credential that is not one.
    let (status, body) = post_raw(&env, CREDENTIALS, "{\"verifiableCredential\": ").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "/problems/invalid-body");
    assert!(!body["detail"].as_str().unwrap().is_empty());
    let (status, body) = post_raw(&env, CREDENTIALS, r#"{"credential": {}}"#).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "/problems/invalid-body");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("verifiableCredential"),
        "{body}"
    );
    assert_rejected(
        &verify_credential(&env, &json!("not.a-jwt")).await,
        "malformed",
        "malformed",
    );
    let mut no_proof = org.clone();
    no_proof.as_object_mut().unwrap().remove("proof");
    let (status, body) = verify_credential(&env, &no_proof).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["type"], "/problems/credential-rejected");
    env.server.stop().await;
}
on_both_databases!(credentials, super::credentials_round_trip);

async fn presentations_round_trip(kind: Db) {
    let external = DidKey::new(EXTERNAL_SEED);
    let env = TrustEnv::start(
        kind,
        &[("external", &external.did, &["OrganisationCredential"])],
        |_| {},
    )
    .await;
    let officer = DidKey::random();
    let (org, mandate) = env.credentials_of("officer", &officer).await;
    let jcs = external.sign_credential(organisation(&external.did, window(-1, 30)));
    let jwt = vc_jwt(EXTERNAL_SEED, &organisation(&external.did, window(-1, 30)));
    let domain = "https://verifier.example-territoire.fr";
    let options = json!({"challenge": "c-0123456789", "domain": domain});

    // A presentation (eddsa-jcs-2022, by the holder's did:key) of credentials in all three
    // formats, bound to the caller's challenge and domain.
    let presentation = officer.present(
        &[org.clone(), mandate.clone(), jcs.clone(), json!(jwt)],
        Some("c-0123456789"),
        Some(domain),
    );
    let (status, body) = env
        .post(
            PRESENTATIONS,
            &json!({"verifiablePresentation": presentation, "options": options}),
            false,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["holder"], officer.did);
    let formats: Vec<&str> = body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["format"].as_str().unwrap())
        .collect();
    assert_eq!(
        formats,
        [
            "eddsa-rdfc-2022",
            "eddsa-rdfc-2022",
            "eddsa-jcs-2022",
            "vc+jwt"
        ]
    );
    assert_eq!(body["credentials"][2]["anchor_id"], "external");

    let verify = |presentation: Value, options: Value| {
        let env = &env;
        async move {
            env.post(
                PRESENTATIONS,
                &json!({"verifiablePresentation": presentation, "options": options}),
                false,
            )
            .await
        }
    };

    // Wrong challenge, wrong domain.
    let attempt = verify(
        presentation.clone(),
        json!({"challenge": "another", "domain": domain}),
    )
    .await;
    assert_rejected(&attempt, "challenge", "challenge");
    let attempt = verify(
        presentation.clone(),
        json!({"challenge": "c-0123456789", "domain": "https://elsewhere.example"}),
    )
    .await;
    assert_rejected(&attempt, "domain", "elsewhere.example");

    // The presentation changed after signing; signed by someone else than its holder.
    let mut tampered = presentation.clone();
    tampered["verifiableCredential"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_rejected(
        &verify(tampered, options.clone()).await,
        "signature",
        "signature",
    );
    let mut impostor = DidKey::random().present(
        std::slice::from_ref(&org),
        Some("c-0123456789"),
        Some(domain),
    );
    impostor["holder"] = json!(officer.did);
    let attempt = verify(impostor, options.clone()).await;
    assert_eq!(attempt.0, 422, "{}", attempt.1);
    assert_eq!(attempt.1["type"], "/problems/credential-rejected");

    // Any credential inside failing fails the presentation, naming why.
    let expired = external.sign_credential(organisation(&external.did, window(-30, -1)));
    let with_expired = officer.present(&[org.clone(), expired], Some("c-0123456789"), Some(domain));
    assert_rejected(
        &verify(with_expired, options.clone()).await,
        "expired",
        "expired",
    );
    let stranger = DidKey::new(11);
    let untrusted = stranger.sign_credential(organisation(&stranger.did, window(-1, 30)));
    let with_untrusted = officer.present(&[untrusted], Some("c-0123456789"), Some(domain));
    assert_rejected(
        &verify(with_untrusted, options.clone()).await,
        "untrusted-issuer",
        "not a trusted issuer",
    );
    let mut tampered_org = org.clone();
    tampered_org["credentialSubject"]["siret"] = json!("55203253400647");
    let with_tampered = officer.present(&[tampered_org], Some("c-0123456789"), Some(domain));
    assert_rejected(
        &verify(with_tampered, options.clone()).await,
        "signature",
        "signature",
    );

    // Malformed: not JSON; no presentation.
    let (status, body) = post_raw(&env, PRESENTATIONS, "[1, 2").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "/problems/invalid-body");
    let (status, body) = post_raw(&env, PRESENTATIONS, r#"{"options": {}}"#).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "/problems/invalid-body");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("verifiablePresentation"),
        "{body}"
    );
    env.server.stop().await;
}
on_both_databases!(presentations, super::presentations_round_trip);
