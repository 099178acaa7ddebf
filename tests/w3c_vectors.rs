//! The signed examples published with the W3C specifications verify (and fail once
//! tampered with): vc-di-eddsa's `eddsa-rdfc-2022` and `eddsa-jcs-2022` test vectors, and
//! VC-JOSE `vc+jwt` credentials with EdDSA and ES256 keys.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::Utc;
use clearinghouse::trust::anchors::{AnchorKind, AnchorSet, TrustAnchor};
use clearinghouse::trust::did::{DidResolver, Relationship, ed25519_from_multikey};
use clearinghouse::trust::jcs_suite;
use clearinghouse::trust::status::StatusChecker;
use clearinghouse::trust::verifier::{Securing, Verifier, VerifyError};
use ed25519_dalek::SigningKey;
use serde_json::{Map, Value, json};

fn vector(path: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/w3c/vc-di-eddsa")
        .join(path);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn verifier() -> Verifier {
    Verifier::new(
        DidResolver::new(Duration::from_secs(60), false, None),
        StatusChecker::new(Duration::ZERO, None),
    )
}

fn key_pair() -> (SigningKey, ed25519_dalek::VerifyingKey) {
    let pair = vector("keyPair.json");
    let public = ed25519_from_multikey(pair["publicKeyMultibase"].as_str().unwrap()).unwrap();
    let (_, secret) = multibase::decode(pair["privateKeyMultibase"].as_str().unwrap()).unwrap();
    // Multicodec ed25519-priv (0x8026) then the 32-byte seed.
    let seed: [u8; 32] = secret[2..].try_into().unwrap();
    let key = SigningKey::from_bytes(&seed);
    assert_eq!(key.verifying_key(), public);
    (key, public)
}

/// eddsa-jcs-2022 (vc-di-eddsa §B.3): our implementation verifies the vector and, signing
/// the same document with the same options, reproduces its proof value byte for byte.
#[test]
fn eddsa_jcs_2022_vector() {
    let (key, public) = key_pair();
    let signed = vector("eddsa-jcs-2022/signed.json");
    jcs_suite::verify(&signed, &public).unwrap();

    let unsigned = vector("eddsa-jcs-2022/unsigned.json");
    let mut options: Map<String, Value> = vector("eddsa-jcs-2022/proof_options.json")
        .as_object()
        .unwrap()
        .clone();
    options.remove("@context");
    let ours = jcs_suite::sign(&unsigned, &options, &key).unwrap();
    assert_eq!(ours["proof"]["proofValue"], signed["proof"]["proofValue"]);
    assert_eq!(ours, signed);

    let mut tampered = signed.clone();
    tampered["credentialSubject"]["alumniOf"] = json!("Another School");
    assert_eq!(
        jcs_suite::verify(&tampered, &public),
        Err(jcs_suite::JcsProofError::Signature)
    );
    let mut recontextualised = signed.clone();
    recontextualised["@context"] = json!(["https://www.w3.org/ns/credentials/v2"]);
    assert!(jcs_suite::verify(&recontextualised, &public).is_err());
}

/// eddsa-rdfc-2022 (vc-di-eddsa §B.1), through the service's verifier.
#[tokio::test]
async fn eddsa_rdfc_2022_vector() {
    let signed = vector("eddsa-rdfc-2022/signed.json");
    let verifier = verifier();
    let securing = verifier
        .verify_proof(&signed, Relationship::AssertionMethod, Utc::now())
        .await
        .unwrap();
    assert_eq!(securing, Securing::EddsaRdfc2022);

    let mut tampered = signed.clone();
    tampered["credentialSubject"]["alumniOf"] = json!("Another School");
    assert!(matches!(
        verifier
            .verify_proof(&tampered, Relationship::AssertionMethod, Utc::now())
            .await,
        Err(VerifyError::Signature(_))
    ));
    // The same proof cannot pass for authentication (a presentation's purpose).
    assert!(
        verifier
            .verify_proof(&signed, Relationship::Authentication, Utc::now())
            .await
            .is_err()
    );
}

/// The jcs vector through the verifier as well (key from its did:key).
#[tokio::test]
async fn eddsa_jcs_2022_vector_through_the_verifier() {
    let signed = vector("eddsa-jcs-2022/signed.json");
    assert_eq!(
        verifier()
            .verify_proof(&signed, Relationship::AssertionMethod, Utc::now())
            .await
            .unwrap(),
        Securing::EddsaJcs2022
    );
}

fn anchors_for(did: &str) -> AnchorSet {
    AnchorSet::new(
        vec![TrustAnchor {
            id: "jose-issuer".into(),
            name: "JOSE test issuer".into(),
            kind: AnchorKind::CredentialIssuer,
            issuer: did.into(),
            credential_types: vec!["ExampleCredential".into()],
            claims: vec![],
            acr_values: vec![],
            valid_from: None,
            valid_until: None,
            description: None,
        }],
        "did:web:unused.example",
    )
    .unwrap()
}

fn example_credential(issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:8c3f6a2e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "name": "Example"}
    })
}

fn jws(header: &Value, payload: &Value, signer: &dyn josekit::jws::JwsSigner) -> String {
    let input = format!(
        "{}.{}",
        B64URL.encode(serde_json::to_vec(header).unwrap()),
        B64URL.encode(serde_json::to_vec(payload).unwrap())
    );
    let signature = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", B64URL.encode(signature))
}

/// VC-JOSE `vc+jwt`, ES256 with a did:jwk issuer and EdDSA with a did:key issuer.
#[tokio::test]
async fn vc_jose_credentials() {
    // ES256, did:jwk.
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let mut public = pair.to_jwk_public_key();
    public.set_key_use("sig");
    let public_json: Value = serde_json::from_str(&public.to_string()).unwrap();
    let minimal =
        json!({"kty": "EC", "crv": "P-256", "x": public_json["x"], "y": public_json["y"]});
    let did = format!(
        "did:jwk:{}",
        B64URL.encode(serde_json::to_vec(&minimal).unwrap())
    );
    let credential = example_credential(&did);
    let header = json!({"alg": "ES256", "typ": "vc+jwt", "kid": format!("{did}#0")});
    let signer = josekit::jws::ES256
        .signer_from_der(pair.to_der_private_key())
        .unwrap();
    let token = jws(&header, &credential, &signer);
    let verifier = verifier();
    let verified = verifier
        .verify_credential(
            &Value::String(token.clone()),
            &anchors_for(&did),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(verified.securing, Securing::VcJwt);
    assert_eq!(verified.issuer, did);
    // Enveloped form, as the VC 2.0 data model writes it.
    let enveloped = json!({
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": format!("data:application/vc+jwt,{token}"),
        "type": "EnvelopedVerifiableCredential"
    });
    verifier
        .verify_credential(&enveloped, &anchors_for(&did), Utc::now())
        .await
        .unwrap();
    // Another issuer claimed in the payload than the key's DID.
    let mut other = credential.clone();
    other["issuer"] = json!("did:web:someone-else.example");
    let token = jws(&header, &other, &signer);
    assert!(
        verifier
            .verify_credential(&Value::String(token), &anchors_for(&did), Utc::now())
            .await
            .is_err()
    );

    // EdDSA, did:key; then a payload changed after signing.
    let (key, _) = key_pair();
    let (did, method) = clearinghouse::trust::did::did_key_of(&key.verifying_key());
    let credential = example_credential(&did);
    let header = json!({"alg": "EdDSA", "typ": "vc+jwt", "kid": method});
    let signer = josekit::jws::EdDSA
        .signer_from_der(
            // PKCS#8 wrapping of the Ed25519 seed.
            [
                &[
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ][..],
                key.as_bytes(),
            ]
            .concat(),
        )
        .unwrap();
    let token = jws(&header, &credential, &signer);
    verifier
        .verify_credential(
            &Value::String(token.clone()),
            &anchors_for(&did),
            Utc::now(),
        )
        .await
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = credential.clone();
    payload["credentialSubject"]["name"] = json!("Forged");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64URL.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert!(matches!(
        verifier
            .verify_credential(&Value::String(forged), &anchors_for(&did), Utc::now())
            .await,
        Err(VerifyError::Signature(_))
    ));
}
