//! The caller's side of the exchange, for connectors, the demo, the example connector and
//! tests: what a representative signs and what a connector sends. A real connector would do
//! the same with its own JOSE library; nothing here is needed by the server.

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{Map, Value, json};

use super::ExchangeFailure;
use crate::entry::{canonical_json, format_time};
use crate::jose;
use crate::participants::jwk_thumbprint;
use crate::trust::did::jwk_of;

/// A representative's detached signature over `payload` with their mandate's key
/// (`method`: the DID URL of the key, e.g. `did:key:z…#z…`), dated `at`.
pub fn representative_jws(
    key: &SigningKey,
    method: &str,
    at: DateTime<Utc>,
    payload: &[u8],
) -> String {
    let mut header = Map::new();
    header.insert("kid".into(), Value::from(method));
    header.insert("iat".into(), Value::from(at.timestamp()));
    jose::sign_detached_ed25519(key, header, payload)
}

/// A signature object for `POST /v1/contracts` (and amendments): the mandate and a detached
/// JWS over the agreement's RFC 8785 form.
pub fn sign_agreement(
    key: &SigningKey,
    method: &str,
    mandate: &Value,
    agreement: &Value,
) -> Result<Value, ExchangeFailure> {
    let payload = canonical_json(agreement)?;
    Ok(json!({
        "mandate": mandate,
        "jws": representative_jws(key, method, crate::clock::now(), &payload),
    }))
}

/// A connector key's `kid`: its RFC 7638 thumbprint.
pub fn connector_kid(key: &SigningKey) -> String {
    jwk_thumbprint(&jwk_of(&key.verifying_key())).unwrap_or_default()
}

/// An RFC 7523 client assertion for `POST /v1/oauth/token`.
pub fn client_assertion(key: &SigningKey, siren: &str, token_endpoint: &str, jti: &str) -> String {
    let now = crate::clock::now();
    let mut header = Map::new();
    header.insert("kid".into(), Value::from(connector_kid(key)));
    header.insert("typ".into(), Value::from("JWT"));
    let claims = json!({
        "iss": siren,
        "sub": siren,
        "aud": token_endpoint,
        "iat": now.timestamp(),
        "exp": (now + Duration::seconds(120)).timestamp(),
        "jti": jti,
    });
    jose::sign_ed25519(key, header, claims.to_string().as_bytes())
}

/// Client credentials with a `private_key_jwt` assertion (RFC 7523) at `token_endpoint`
/// (`…/v1/oauth/token`): the connector's access token, or why the endpoint refused.
pub async fn request_access_token(
    http: &reqwest::Client,
    token_endpoint: &str,
    siren: &str,
    key: &SigningKey,
) -> Result<String, String> {
    let assertion = client_assertion(
        key,
        siren,
        token_endpoint,
        &uuid::Uuid::new_v4().to_string(),
    );
    let response = http
        .post(token_endpoint)
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
        .map_err(|e| format!("token endpoint: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("token endpoint: {e}"))?;
    match body["access_token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_owned()),
        _ => Err(format!("token endpoint: {status}: {}", body["detail"])),
    }
}

/// What a connector states about a transfer.
#[derive(Debug, Clone)]
pub struct TransferReport<'a> {
    pub decision_token: &'a str,
    pub transfer_id: &'a str,
    pub asset: &'a str,
    pub bytes: u64,
    pub records: u64,
    pub content_sha256: &'a str,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// A signed receipt for `POST /v1/receipts`.
pub fn sign_receipt(key: &SigningKey, report: &TransferReport<'_>) -> String {
    let mut header = Map::new();
    header.insert("kid".into(), Value::from(connector_kid(key)));
    header.insert("typ".into(), Value::from("receipt+jwt"));
    let claims = json!({
        "decision": report.decision_token,
        "transfer_id": report.transfer_id,
        "asset": report.asset,
        "bytes": report.bytes,
        "records": report.records,
        "content_sha256": report.content_sha256,
        "started_at": format_time(report.started_at),
        "ended_at": format_time(report.ended_at),
    });
    jose::sign_ed25519(key, header, claims.to_string().as_bytes())
}
