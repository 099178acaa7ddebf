//! ProConnect sign-in: OpenID Connect authorization code flow with PKCE, nonce and state,
//! the authentication level (`acr`) requested and checked here, on the server.
//!
//! ProConnect asserts who the person is and which organisation (SIRET) they chose; with the
//! `certification-dirigeant` level, that they are a registered officer of that company. The
//! ID token (and the signed userinfo) are verified against the provider's published keys:
//! signature, issuer, audience, expiry and nonce. Nothing from the front channel is trusted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Utc};
use josekit::jwk::JwkSet;
use josekit::jws::JwsVerifier;
use josekit::jwt::{self, JwtPayload};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The acr value of ProConnect's officer certification.
pub const ACR_CERTIFIED_OFFICER: &str =
    "https://proconnect.gouv.fr/assurance/certification-dirigeant";
/// Scopes requested: ProConnect names its scopes after the claims they release.
pub const SCOPES: &str =
    "openid given_name usual_name email uid siret idp_id organization_label roles";
/// How long a sign-in may take between redirect and callback.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);

/// Why a sign-in failed. Each variant names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProConnectError {
    #[error("the OpenID provider could not be reached: {0}")]
    Unavailable(String),
    #[error("unknown or already used sign-in state")]
    UnknownState,
    #[error("the sign-in took too long; start again")]
    Expired,
    #[error("the provider refused the sign-in: {0}")]
    Refused(String),
    #[error("ID token rejected: {0}")]
    BadToken(String),
    #[error("ID token signature does not verify")]
    BadSignature,
    #[error("ID token is for audience {found:?}, not this service ({expected})")]
    WrongAudience {
        found: Vec<String>,
        expected: String,
    },
    #[error("ID token was not issued for this sign-in (nonce mismatch)")]
    WrongNonce,
    #[error("ID token comes from {found}, expected {expected}")]
    WrongIssuer { found: String, expected: String },
    #[error("authentication level {found:?} is not accepted here (need one of {expected:?})")]
    WrongAcr {
        found: Option<String>,
        expected: Vec<String>,
    },
    #[error("ID token lacks the claim `{0}`")]
    MissingClaim(&'static str),
}

/// Client registration with the provider.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The provider's issuer URL (must be a trusted `openid-provider` anchor).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// This service's callback URL, as registered with the provider.
    pub redirect_uri: String,
}

/// What the provider published at `/.well-known/openid-configuration`.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
}

/// A person as ProConnect identified them, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub given_name: String,
    pub usual_name: String,
    pub email: String,
    pub uid: Option<String>,
    pub siret: String,
    pub idp_id: String,
    pub organization_label: Option<String>,
    pub roles: Vec<String>,
    pub acr: String,
    pub amr: Vec<String>,
    pub auth_time: Option<i64>,
    /// SHA-256 (hex) of the ID token, the evidence a mandate cites.
    pub id_token_sha256: String,
}

/// A sign-in about to be sent to the provider.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64URL.encode(bytes)
}

/// The PKCE S256 challenge of a verifier.
pub fn code_challenge(verifier: &str) -> String {
    B64URL.encode(Sha256::digest(verifier.as_bytes()))
}

struct CachedKeys {
    fetched: Instant,
    keys: JwkSet,
}

/// The relying party. Cheap to clone.
#[derive(Clone)]
pub struct ProConnect {
    config: Arc<ClientConfig>,
    http: reqwest::Client,
    // std Mutex: never held across an await.
    discovery: Arc<Mutex<Option<Discovery>>>,
    keys: Arc<Mutex<Option<Arc<CachedKeys>>>>,
}

impl ProConnect {
    pub fn new(config: ClientConfig) -> Self {
        ProConnect {
            config: Arc::new(config),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            discovery: Arc::default(),
            keys: Arc::default(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The provider's metadata (fetched once).
    pub async fn discovery(&self) -> Result<Discovery, ProConnectError> {
        if let Ok(cached) = self.discovery.lock()
            && let Some(discovery) = cached.as_ref()
        {
            return Ok(discovery.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| ProConnectError::Unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| ProConnectError::Unavailable(format!("discovery: {e}")))?;
        if discovery.issuer != self.config.issuer {
            return Err(ProConnectError::WrongIssuer {
                found: discovery.issuer,
                expected: self.config.issuer.clone(),
            });
        }
        if let Ok(mut cached) = self.discovery.lock() {
            *cached = Some(discovery.clone());
        }
        Ok(discovery)
    }

    /// Build the authorization request: fresh state, nonce and PKCE verifier, and the
    /// acceptable authentication levels requested through the `claims` parameter.
    pub async fn authorize(
        &self,
        acr_values: &[String],
        login_hint: Option<&str>,
    ) -> Result<Authorization, ProConnectError> {
        let discovery = self.discovery().await?;
        let state = random_token();
        let nonce = random_token();
        let code_verifier = random_token();
        let claims = serde_json::json!({
            "id_token": {"acr": {"essential": true, "values": acr_values}}
        });
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| ProConnectError::Unavailable(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", &self.config.redirect_uri)
                .append_pair("scope", SCOPES)
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &code_challenge(&code_verifier))
                .append_pair("code_challenge_method", "S256")
                .append_pair("claims", &claims.to_string())
                .append_pair("acr_values", &acr_values.join(" "));
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(Authorization {
            url: url.into(),
            state,
            nonce,
            code_verifier,
        })
    }

    async fn keys(&self, refresh: bool) -> Result<Arc<CachedKeys>, ProConnectError> {
        if !refresh
            && let Ok(cached) = self.keys.lock()
            && let Some(keys) = cached.as_ref()
            && keys.fetched.elapsed() < Duration::from_secs(3600)
        {
            return Ok(keys.clone());
        }
        let discovery = self.discovery().await?;
        let body = self
            .http
            .get(&discovery.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| ProConnectError::Unavailable(e.to_string()))?
            .bytes()
            .await
            .map_err(|e| ProConnectError::Unavailable(e.to_string()))?;
        let keys = JwkSet::from_bytes(&body)
            .map_err(|e| ProConnectError::Unavailable(format!("JWKS: {e}")))?;
        let cached = Arc::new(CachedKeys {
            fetched: Instant::now(),
            keys,
        });
        if let Ok(mut slot) = self.keys.lock() {
            *slot = Some(cached.clone());
        }
        Ok(cached)
    }

    /// Verify a JWT signed by the provider (ID token or userinfo) and return its payload.
    async fn verify_jwt(&self, token: &str) -> Result<JwtPayload, ProConnectError> {
        let header = token
            .split('.')
            .next()
            .and_then(|h| B64URL.decode(h).ok())
            .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
            .ok_or_else(|| ProConnectError::BadToken("not a JWT".into()))?;
        let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if alg == "HS256" {
            let verifier = josekit::jws::HS256
                .verifier_from_bytes(self.config.client_secret.as_bytes())
                .map_err(|e| ProConnectError::BadToken(e.to_string()))?;
            return decode(token, &verifier);
        }
        for refresh in [false, true] {
            let keys = self.keys(refresh).await?;
            let candidates: Vec<_> = match &kid {
                Some(kid) => keys.keys.get(kid),
                None => keys.keys.keys(),
            };
            if candidates.is_empty() {
                continue;
            }
            for jwk in candidates {
                let verifier: Box<dyn JwsVerifier> = match alg.as_str() {
                    "RS256" => Box::new(
                        josekit::jws::RS256
                            .verifier_from_jwk(jwk)
                            .map_err(|e| ProConnectError::BadToken(e.to_string()))?,
                    ),
                    "ES256" => Box::new(
                        josekit::jws::ES256
                            .verifier_from_jwk(jwk)
                            .map_err(|e| ProConnectError::BadToken(e.to_string()))?,
                    ),
                    other => {
                        return Err(ProConnectError::BadToken(format!(
                            "signature algorithm {other:?} is not accepted"
                        )));
                    }
                };
                if let Ok(payload) = decode(token, verifier.as_ref()) {
                    return Ok(payload);
                }
            }
            return Err(ProConnectError::BadSignature);
        }
        Err(ProConnectError::BadSignature)
    }

    /// Check an ID token for this sign-in: signature, issuer, audience, expiry, nonce and
    /// an accepted `acr`.
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: &str,
        accepted_acr: &[String],
        now: DateTime<Utc>,
    ) -> Result<JwtPayload, ProConnectError> {
        let payload = self.verify_jwt(token).await?;
        check_id_token_claims(&payload, &self.config, nonce, accepted_acr, now)?;
        Ok(payload)
    }

    /// Finish a sign-in: exchange the code, verify the ID token and the signed userinfo.
    pub async fn finish(
        &self,
        code: &str,
        code_verifier: &str,
        nonce: &str,
        accepted_acr: &[String],
        now: DateTime<Utc>,
    ) -> Result<Identity, ProConnectError> {
        let discovery = self.discovery().await?;
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.config.redirect_uri.as_str()),
                ("code_verifier", code_verifier),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| ProConnectError::Unavailable(e.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| ProConnectError::Unavailable(format!("token response: {e}")))?;
        if !status.is_success() {
            return Err(ProConnectError::Refused(
                body.get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("token request failed")
                    .to_owned(),
            ));
        }
        let id_token = body
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or(ProConnectError::MissingClaim("id_token"))?;
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(ProConnectError::MissingClaim("access_token"))?;
        let claims = self
            .verify_id_token(id_token, nonce, accepted_acr, now)
            .await?;
        let mut merged = claims.claims_set().clone();
        if let Some(userinfo) = &discovery.userinfo_endpoint {
            let response = self
                .http
                .get(userinfo)
                .bearer_auth(access_token)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| ProConnectError::Unavailable(format!("userinfo: {e}")))?;
            let is_jwt = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/jwt"));
            let text = response
                .text()
                .await
                .map_err(|e| ProConnectError::Unavailable(format!("userinfo: {e}")))?;
            let info = if is_jwt {
                let payload = self.verify_jwt(text.trim()).await?;
                check_issuer_and_audience(&payload, &self.config)?;
                payload.claims_set().clone()
            } else {
                serde_json::from_str::<serde_json::Map<String, Value>>(&text)
                    .map_err(|e| ProConnectError::BadToken(format!("userinfo: {e}")))?
            };
            if info.get("sub") != merged.get("sub") {
                return Err(ProConnectError::BadToken(
                    "userinfo is about another subject".into(),
                ));
            }
            for (key, value) in info {
                merged.entry(key).or_insert(value);
            }
        }
        identity_from_claims(
            &merged,
            &self.config.issuer,
            hex::encode(Sha256::digest(id_token.as_bytes())),
        )
    }
}

fn decode(token: &str, verifier: &dyn JwsVerifier) -> Result<JwtPayload, ProConnectError> {
    jwt::decode_with_verifier(token, verifier)
        .map(|(payload, _)| payload)
        .map_err(|_| ProConnectError::BadSignature)
}

fn check_issuer_and_audience(
    payload: &JwtPayload,
    config: &ClientConfig,
) -> Result<(), ProConnectError> {
    let issuer = payload.issuer().unwrap_or_default();
    if issuer != config.issuer {
        return Err(ProConnectError::WrongIssuer {
            found: issuer.to_owned(),
            expected: config.issuer.clone(),
        });
    }
    let audience: Vec<String> = payload
        .audience()
        .map(|a| a.into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    if !audience.iter().any(|a| a == &config.client_id) {
        return Err(ProConnectError::WrongAudience {
            found: audience,
            expected: config.client_id.clone(),
        });
    }
    Ok(())
}

/// The claim checks of an ID token, separate from its signature.
pub fn check_id_token_claims(
    payload: &JwtPayload,
    config: &ClientConfig,
    nonce: &str,
    accepted_acr: &[String],
    now: DateTime<Utc>,
) -> Result<(), ProConnectError> {
    check_issuer_and_audience(payload, config)?;
    let expires = payload
        .expires_at()
        .ok_or(ProConnectError::MissingClaim("exp"))?;
    let expires = DateTime::<Utc>::from(expires);
    // A minute of leeway for clock skew between the provider and this service.
    if expires + chrono::Duration::seconds(60) < now {
        return Err(ProConnectError::BadToken(format!("expired at {expires}")));
    }
    if payload.claim("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(ProConnectError::WrongNonce);
    }
    let acr = payload.claim("acr").and_then(Value::as_str);
    if !acr.is_some_and(|acr| accepted_acr.iter().any(|a| a == acr)) {
        return Err(ProConnectError::WrongAcr {
            found: acr.map(str::to_owned),
            expected: accepted_acr.to_vec(),
        });
    }
    Ok(())
}

fn identity_from_claims(
    claims: &serde_json::Map<String, Value>,
    issuer: &str,
    id_token_sha256: String,
) -> Result<Identity, ProConnectError> {
    let text = |name: &'static str| -> Result<String, ProConnectError> {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(ProConnectError::MissingClaim(name))
    };
    let list = |name: &str| -> Vec<String> {
        claims
            .get(name)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Identity {
        issuer: issuer.to_owned(),
        subject: text("sub")?,
        given_name: text("given_name")?,
        usual_name: text("usual_name")?,
        email: text("email")?,
        uid: claims.get("uid").and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        siret: text("siret")?,
        idp_id: text("idp_id")?,
        organization_label: claims
            .get("organization_label")
            .and_then(Value::as_str)
            .map(str::to_owned),
        roles: list("roles"),
        acr: text("acr")?,
        amr: list("amr"),
        auth_time: claims.get("auth_time").and_then(Value::as_i64),
        id_token_sha256,
    })
}
