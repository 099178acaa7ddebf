//! Connector authentication and the tokens this service signs.
//!
//! A connector authenticates with OAuth 2.0 client credentials and `private_key_jwt`
//! (RFC 7523 §2.2, RFC 7521 §4.2): a client assertion signed by one of its participant's
//! registered connector keys (`kid` = the key's RFC 7638 thumbprint), `iss` = `sub` = the
//! client id (the participant's SIREN), `aud` = the token endpoint, a short `exp` and a
//! unique `jti` (kept until it expires, so a replay is refused). The answer is an access
//! token (RFC 9068 shape, `typ: at+jwt`) signed by this service's issuer key.
//!
//! Decision tokens (`typ: decision+jwt`) carry a decision, its reasons, the contract's
//! hash and the decision's log index; connectors check them with the key in this
//! service's DID document.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{ExchangeFailure, ExchangeService, jose_failure};
use crate::jose;

/// The `client_assertion_type` of RFC 7523.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest `jti` accepted.
const MAX_JTI: usize = 200;

/// An authenticated connector: its participant and the key it proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    pub siren: String,
    pub kid: String,
}

/// An issued access token (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

fn invalid_client(detail: impl Into<String>) -> ExchangeFailure {
    ExchangeFailure::Client {
        error: "invalid_client",
        detail: detail.into(),
    }
}

fn timestamp(claims: &Map<String, Value>, name: &str) -> Option<DateTime<Utc>> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .and_then(|t| DateTime::from_timestamp(t, 0))
}

fn audience_includes(claims: &Map<String, Value>, expected: &[&str]) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => expected.contains(&aud.as_str()),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| expected.contains(&aud)),
        _ => false,
    }
}

/// The token endpoint's URL, the audience client assertions must name.
pub fn token_endpoint(exchange: &ExchangeService) -> String {
    format!("{}/v1/oauth/token", exchange.trust().public_url())
}

/// Check a client assertion and issue an access token.
pub async fn issue_access_token(
    exchange: &ExchangeService,
    assertion: &str,
) -> Result<AccessToken, ExchangeFailure> {
    let settings = exchange.settings();
    let jws = jose::parse(assertion, None)
        .map_err(|e| invalid_client(format!("client_assertion: {e}")))?;
    let kid = jws
        .header_str("kid")
        .ok_or_else(|| invalid_client("client_assertion names no key (`kid`)"))?;
    let store = exchange.trust().store();
    let key = store
        .participant_key(kid)
        .await?
        .ok_or_else(|| invalid_client(format!("key {kid} is not a registered connector key")))?;
    if let Some(index) = key.revoked_index {
        return Err(invalid_client(format!(
            "key {kid} was revoked at log index {index}"
        )));
    }
    jws.verify(&key.jwk)
        .map_err(|e| invalid_client(format!("client_assertion: {e}")))?;
    let claims = jws
        .payload_json()
        .map_err(|e| invalid_client(format!("client_assertion: {e}")))?;
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if claim("iss") != Some(key.siren.as_str()) || claim("sub") != Some(key.siren.as_str()) {
        return Err(invalid_client(format!(
            "client_assertion `iss` and `sub` must be the client id {} (the key's SIREN)",
            key.siren
        )));
    }
    let endpoint = token_endpoint(exchange);
    if !audience_includes(&claims, &[endpoint.as_str(), exchange.trust().public_url()]) {
        return Err(invalid_client(format!(
            "client_assertion `aud` must be {endpoint}"
        )));
    }
    let now = crate::clock::now();
    let skew = Duration::seconds(settings.clock_skew_seconds);
    let expires =
        timestamp(&claims, "exp").ok_or_else(|| invalid_client("client_assertion needs `exp`"))?;
    if expires + skew <= now {
        return Err(invalid_client(format!(
            "client_assertion expired at {}",
            crate::entry::format_time(expires)
        )));
    }
    if expires > now + Duration::seconds(settings.assertion_max_seconds) + skew {
        return Err(invalid_client(format!(
            "client_assertion `exp` is more than {} seconds ahead",
            settings.assertion_max_seconds
        )));
    }
    if timestamp(&claims, "iat").is_some_and(|iat| iat > now + skew) {
        return Err(invalid_client("client_assertion `iat` is in the future"));
    }
    let jti = claim("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI)
        .ok_or_else(|| {
            invalid_client(format!(
                "client_assertion needs a `jti` of 1 to {MAX_JTI} characters"
            ))
        })?;
    let participant = store
        .participant(&key.siren)
        .await?
        .ok_or_else(|| invalid_client(format!("no participant {}", key.siren)))?;
    if participant.status != "active" {
        return Err(invalid_client(format!(
            "participant {} is {}",
            key.siren, participant.status
        )));
    }
    let fresh = store
        .use_client_assertion(
            // Hashed: a jti is any string (PostgreSQL text cannot hold NUL, for one).
            &hex::encode(Sha256::digest(format!("{}\0{jti}", key.siren).as_bytes())),
            (expires + skew).timestamp_millis(),
            now.timestamp_millis(),
        )
        .await?;
    if !fresh {
        return Err(ExchangeFailure::Client {
            error: "invalid_grant",
            detail: format!("client_assertion jti {jti:?} was already used (replay)"),
        });
    }
    let lifetime = settings.access_token_seconds;
    let public_url = exchange.trust().public_url();
    let claims = json!({
        "iss": public_url,
        "aud": public_url,
        "sub": key.siren,
        "client_id": key.siren,
        "cnf_kid": key.kid,
        "iat": now.timestamp(),
        "exp": (now + Duration::seconds(lifetime)).timestamp(),
        "jti": uuid::Uuid::new_v4().to_string(),
        "scope": "decisions receipts",
    });
    Ok(AccessToken {
        access_token: sign(exchange, "at+jwt", &claims),
        token_type: "Bearer",
        expires_in: lifetime,
    })
}

/// Sign claims with this service's issuer key.
pub(crate) fn sign(exchange: &ExchangeService, typ: &str, claims: &Value) -> String {
    let (key, kid) = exchange.token_key();
    let mut header = Map::new();
    header.insert("typ".into(), Value::from(typ));
    header.insert("kid".into(), Value::from(kid));
    jose::sign_ed25519(key, header, claims.to_string().as_bytes())
}

/// Check a token this service signed: signature, type and issuer. Expiry is the caller's.
pub(crate) fn verify_own(
    exchange: &ExchangeService,
    token: &str,
    typ: &str,
) -> Result<Map<String, Value>, ExchangeFailure> {
    let jws = jose::parse(token, None).map_err(|e| jose_failure(typ, e))?;
    if jws.header_str("typ") != Some(typ) {
        return Err(ExchangeFailure::Signature(format!("not a {typ} token")));
    }
    let (key, _) = exchange.token_key();
    jws.verify_ed25519(&key.verifying_key())
        .map_err(|e| jose_failure(typ, e))?;
    let claims = jws.payload_json().map_err(|e| jose_failure(typ, e))?;
    if claims.get("iss").and_then(Value::as_str) != Some(exchange.trust().public_url()) {
        return Err(ExchangeFailure::Signature(format!(
            "the {typ} token was issued by another service"
        )));
    }
    Ok(claims)
}

/// Authenticate a bearer access token: ours, unexpired, and its key and participant still
/// in good standing (a revoked key or a suspension takes effect at once).
pub async fn authenticate(
    exchange: &ExchangeService,
    token: &str,
) -> Result<Connector, ExchangeFailure> {
    let claims = verify_own(exchange, token, "at+jwt")
        .map_err(|e| ExchangeFailure::Unauthenticated(format!("access token: {e}")))?;
    let expired = timestamp(&claims, "exp").is_none_or(|exp| exp <= crate::clock::now());
    if expired {
        return Err(ExchangeFailure::Unauthenticated(
            "the access token has expired: ask /v1/oauth/token for a new one".into(),
        ));
    }
    let (Some(siren), Some(kid)) = (
        claims.get("sub").and_then(Value::as_str),
        claims.get("cnf_kid").and_then(Value::as_str),
    ) else {
        return Err(ExchangeFailure::Unauthenticated(
            "the access token lacks its subject or key".into(),
        ));
    };
    // The key and its holder's status in one read: this runs on every connector request.
    let key = exchange.trust().store().connector_key_standing(kid).await?;
    let Some(key) = key.filter(|k| k.revoked_index.is_none() && k.siren == siren) else {
        return Err(ExchangeFailure::Unauthenticated(format!(
            "connector key {kid} is no longer registered"
        )));
    };
    match key.participant_status.as_deref() {
        Some("active") => Ok(Connector {
            siren: siren.to_owned(),
            kid: kid.to_owned(),
        }),
        Some(status) => Err(ExchangeFailure::Forbidden(format!(
            "participant {siren} is {status}"
        ))),
        None => Err(ExchangeFailure::Unauthenticated(format!(
            "no participant {siren}"
        ))),
    }
}
