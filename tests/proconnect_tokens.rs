//! ProConnect ID tokens from the real local OpenID provider: accepted when everything
//! matches; rejected, with the cause named, for the wrong audience, nonce, acr or signature.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::Utc;
use clearinghouse::trust::proconnect::{
    ACR_CERTIFIED_OFFICER, ClientConfig, ProConnect, ProConnectError, code_challenge,
};
use common::trust::{CLIENT_ID, CLIENT_SECRET, OidcProvider, persona};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// Act as a relying party: run the code flow against the provider and return the ID token.
async fn id_token(provider: &OidcProvider, nonce: &str) -> String {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().as_str().starts_with(REDIRECT) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap();
    let verifier = "a-code-verifier-long-enough-for-pkce-0123456789";
    let claims =
        json!({"id_token": {"acr": {"essential": true, "values": [ACR_CERTIFIED_OFFICER]}}});
    let mut url = reqwest::Url::parse(&format!("{}/authorize", provider.issuer)).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair(
            "scope",
            "openid given_name usual_name email uid siret idp_id organization_label roles",
        )
        .append_pair("state", "state-1")
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &code_challenge(verifier))
        .append_pair("code_challenge_method", "S256")
        .append_pair("claims", &claims.to_string())
        .append_pair("login_hint", "officer");
    let response = client.get(url).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let code = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    let tokens: Value = client
        .post(format!("{}/token", provider.issuer))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

fn relying_party(provider: &OidcProvider, client_id: &str) -> ProConnect {
    ProConnect::new(ClientConfig {
        issuer: provider.issuer.clone(),
        client_id: client_id.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        redirect_uri: REDIRECT.to_owned(),
    })
}

/// Each check of an ID token fails on its own, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_checks() {
    let dir = tempfile::tempdir().unwrap();
    let personas = json!({"officer": persona("sub-1", "Camille", "Lefèvre", "c@d.example.fr",
        "55203253400646", ACR_CERTIFIED_OFFICER)});
    let provider = OidcProvider::start(dir.path(), REDIRECT, personas).await;
    let token = id_token(&provider, "nonce-1").await;
    let accepted = vec![ACR_CERTIFIED_OFFICER.to_owned()];
    let now = Utc::now();
    let rp = relying_party(&provider, CLIENT_ID);

    let payload = rp
        .verify_id_token(&token, "nonce-1", &accepted, now)
        .await
        .unwrap();
    assert_eq!(payload.claim("siret"), Some(&json!("55203253400646")));

    assert_eq!(
        rp.verify_id_token(&token, "another-nonce", &accepted, now)
            .await
            .unwrap_err(),
        ProConnectError::WrongNonce
    );
    assert!(matches!(
        relying_party(&provider, "another-client")
            .verify_id_token(&token, "nonce-1", &accepted, now)
            .await,
        Err(ProConnectError::WrongAudience { .. })
    ));
    assert!(matches!(
        rp.verify_id_token(&token, "nonce-1", &["eidas1".to_owned()], now)
            .await,
        Err(ProConnectError::WrongAcr { .. })
    ));

    // A claim changed after signing.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&B64URL.decode(parts[1]).unwrap()).unwrap();
    claims["siret"] = json!("21690123100011");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64URL.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(
        rp.verify_id_token(&forged, "nonce-1", &accepted, now)
            .await
            .unwrap_err(),
        ProConnectError::BadSignature
    );

    // A token signed by another key, claiming the provider's key ID.
    let header: Value = serde_json::from_slice(&B64URL.decode(parts[0]).unwrap()).unwrap();
    let rogue = josekit::jwk::alg::rsa::RsaKeyPair::generate(2048).unwrap();
    let signer = josekit::jws::RS256
        .signer_from_der(rogue.to_der_private_key())
        .unwrap();
    let mut jws_header = josekit::jws::JwsHeader::new();
    jws_header.set_token_type("JWT");
    jws_header.set_key_id(header["kid"].as_str().unwrap());
    let payload = josekit::jwt::JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let rogue_token = josekit::jwt::encode_with_signer(&payload, &jws_header, &signer).unwrap();
    assert_eq!(
        rp.verify_id_token(&rogue_token, "nonce-1", &accepted, now)
            .await
            .unwrap_err(),
        ProConnectError::BadSignature
    );
}
