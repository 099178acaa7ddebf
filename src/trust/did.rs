//! DID resolution: `did:key` and `did:jwk` offline, `did:web` over HTTPS with a bounded
//! cache, and the service's own `did:web` document from memory.
//!
//! Besides serving `ssi`'s verifiers, this module answers the two questions `ssi` leaves to
//! us: which public key a verification method names, and whether the DID document lists
//! that method under the relationship the proof claims (`assertionMethod` for credentials,
//! `authentication` for presentations).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::VerifyingKey;
use lru::LruCache;
use serde_json::Value;
use ssi::dids::{DID, DIDJWK, DIDKey, DIDMethodResolver, DIDResolver, resolution};

/// Multicodec prefix of an Ed25519 public key.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

/// Why a DID or verification method could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    #[error("{0:?} is not a DID URL this service resolves (did:key, did:jwk, did:web)")]
    Unsupported(String),
    #[error("malformed DID {did:?}: {reason}")]
    Malformed { did: String, reason: String },
    #[error("cannot resolve {did}: {reason}")]
    Unreachable { did: String, reason: String },
    #[error("verification method {0} is not in its DID document")]
    UnknownMethod(String),
    #[error("verification method {method} is not listed for {relationship} in its DID document")]
    NotAuthorised {
        method: String,
        relationship: &'static str,
    },
    #[error("verification method {0} is not an Ed25519 key")]
    NotEd25519(String),
}

/// Which DID document relationship a proof relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    AssertionMethod,
    Authentication,
}

impl Relationship {
    pub fn as_str(&self) -> &'static str {
        match self {
            Relationship::AssertionMethod => "assertionMethod",
            Relationship::Authentication => "authentication",
        }
    }
}

/// Split `did:…#fragment` into the DID and the whole URL.
pub fn did_of(method: &str) -> &str {
    method.split('#').next().unwrap_or(method)
}

/// The HTTPS (or, for local hosts when allowed, HTTP) URL of a `did:web` document.
pub fn did_web_url(did: &str, allow_http: bool) -> Result<String, DidError> {
    let malformed = |reason: &str| DidError::Malformed {
        did: did.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = did
        .strip_prefix("did:web:")
        .ok_or_else(|| malformed("not did:web"))?;
    let mut parts = rest.split(':');
    let host = parts
        .next()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| malformed("missing host"))?
        .replace("%3A", ":")
        .replace("%3a", ":");
    if host.contains('/') || host.contains('@') {
        return Err(malformed("host must not contain `/` or `@`"));
    }
    let path: Vec<&str> = parts.collect();
    if path
        .iter()
        .any(|p| p.is_empty() || p.contains('/') || *p == "..")
    {
        return Err(malformed("bad path segment"));
    }
    let local = host.starts_with("127.0.0.1") || host.starts_with("localhost");
    let scheme = if allow_http && local { "http" } else { "https" };
    Ok(if path.is_empty() {
        format!("{scheme}://{host}/.well-known/did.json")
    } else {
        format!("{scheme}://{host}/{}/did.json", path.join("/"))
    })
}

/// The `did:web` DID of a base URL (`https://host:port/path` → `did:web:host%3Aport:path`).
pub fn did_web_for(base_url: &str) -> Result<String, DidError> {
    let url = reqwest::Url::parse(base_url).map_err(|e| DidError::Malformed {
        did: base_url.to_owned(),
        reason: e.to_string(),
    })?;
    let host = url.host_str().ok_or_else(|| DidError::Malformed {
        did: base_url.to_owned(),
        reason: "no host".into(),
    })?;
    let mut did = format!("did:web:{host}");
    if let Some(port) = url.port() {
        did.push_str(&format!("%3A{port}"));
    }
    for segment in url.path_segments().into_iter().flatten() {
        if !segment.is_empty() {
            did.push(':');
            did.push_str(segment);
        }
    }
    Ok(did)
}

/// An Ed25519 public key from a multibase multikey (`z6Mk…`).
pub fn ed25519_from_multikey(multikey: &str) -> Option<VerifyingKey> {
    let (_, bytes) = multibase::decode(multikey).ok()?;
    let key = bytes.strip_prefix(&ED25519_PUB)?;
    VerifyingKey::from_bytes(key.try_into().ok()?).ok()
}

/// The multikey (`z6Mk…`) of an Ed25519 public key.
pub fn multikey_of(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    multibase::encode(multibase::Base::Base58Btc, bytes)
}

/// An Ed25519 public key from a JWK (`{"kty":"OKP","crv":"Ed25519","x":…}`).
pub fn ed25519_from_jwk(jwk: &Value) -> Option<VerifyingKey> {
    if jwk.get("kty")?.as_str()? != "OKP" || jwk.get("crv")?.as_str()? != "Ed25519" {
        return None;
    }
    let x = B64URL.decode(jwk.get("x")?.as_str()?).ok()?;
    VerifyingKey::from_bytes(x.as_slice().try_into().ok()?).ok()
}

/// The public JWK of an Ed25519 key.
pub fn jwk_of(key: &VerifyingKey) -> Value {
    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(key.as_bytes())})
}

/// The `did:key` of an Ed25519 key, and its verification method.
pub fn did_key_of(key: &VerifyingKey) -> (String, String) {
    let multikey = multikey_of(key);
    let did = format!("did:key:{multikey}");
    let method = format!("{did}#{multikey}");
    (did, method)
}

struct Cached {
    fetched: Instant,
    document: Arc<Value>,
    bytes: Arc<Vec<u8>>,
}

/// Resolves DIDs for the verifier; cheap to clone.
#[derive(Clone)]
pub struct DidResolver {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    // std Mutex: never held across an await.
    cache: Mutex<LruCache<String, Arc<Cached>>>,
    ttl: Duration,
    allow_http: bool,
    own: Option<(String, Arc<Value>, Arc<Vec<u8>>)>,
}

impl DidResolver {
    /// `own` is the service's own DID and document, answered without a network round trip.
    pub fn new(ttl: Duration, allow_http: bool, own: Option<(String, Value)>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let own = own.map(|(did, doc)| {
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            (did, Arc::new(doc), Arc::new(bytes))
        });
        DidResolver {
            inner: Arc::new(Inner {
                http,
                cache: Mutex::new(LruCache::new(
                    NonZeroUsize::new(256).unwrap_or(NonZeroUsize::MIN),
                )),
                ttl,
                allow_http,
                own,
            }),
        }
    }

    async fn fetch_web(&self, did: &str) -> Result<Arc<Cached>, DidError> {
        if let Some((own, document, bytes)) = &self.inner.own
            && own == did
        {
            return Ok(Arc::new(Cached {
                fetched: Instant::now(),
                document: document.clone(),
                bytes: bytes.clone(),
            }));
        }
        if let Ok(mut cache) = self.inner.cache.lock()
            && let Some(hit) = cache.get(did)
            && hit.fetched.elapsed() < self.inner.ttl
        {
            return Ok(hit.clone());
        }
        let url = did_web_url(did, self.inner.allow_http)?;
        let unreachable = |reason: String| DidError::Unreachable {
            did: did.to_owned(),
            reason,
        };
        let response = self
            .inner
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!(
                "HTTP {} from {url}",
                response.status()
            )));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_vec();
        let document: Value =
            serde_json::from_slice(&bytes).map_err(|e| unreachable(format!("not JSON: {e}")))?;
        if document.get("id").and_then(Value::as_str) != Some(did) {
            return Err(unreachable(format!("document at {url} is for another DID")));
        }
        let cached = Arc::new(Cached {
            fetched: Instant::now(),
            document: Arc::new(document),
            bytes: Arc::new(bytes),
        });
        if let Ok(mut cache) = self.inner.cache.lock() {
            cache.put(did.to_owned(), cached.clone());
        }
        Ok(cached)
    }

    /// The DID document of `did` as JSON.
    pub async fn document(&self, did: &str) -> Result<Arc<Value>, DidError> {
        if did.starts_with("did:web:") {
            return Ok(self.fetch_web(did).await?.document.clone());
        }
        let parsed = DID::new(did.as_bytes()).map_err(|_| DidError::Malformed {
            did: did.to_owned(),
            reason: "not a valid DID".into(),
        })?;
        let output = match parsed.method_name() {
            "key" => {
                DIDKey
                    .resolve_method_representation(parsed.method_specific_id(), Default::default())
                    .await
            }
            "jwk" => {
                DIDJWK
                    .resolve_method_representation(parsed.method_specific_id(), Default::default())
                    .await
            }
            _ => return Err(DidError::Unsupported(did.to_owned())),
        }
        .map_err(|e| DidError::Malformed {
            did: did.to_owned(),
            reason: e.to_string(),
        })?;
        let document: Value =
            serde_json::from_slice(&output.document).map_err(|e| DidError::Malformed {
                did: did.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Arc::new(document))
    }

    /// Check that `method` belongs to `controller` and is listed for `relationship`, and
    /// return its Ed25519 key (if it is one; other key types return `NotEd25519`).
    pub async fn authorised_method(
        &self,
        method: &str,
        controller: &str,
        relationship: Relationship,
    ) -> Result<Value, DidError> {
        let did = did_of(method);
        if did != controller {
            return Err(DidError::NotAuthorised {
                method: method.to_owned(),
                relationship: relationship.as_str(),
            });
        }
        let document = self.document(did).await?;
        let absolute = |id: &str| {
            if id.starts_with('#') {
                format!("{did}{id}")
            } else {
                id.to_owned()
            }
        };
        let listed = document
            .get(relationship.as_str())
            .and_then(Value::as_array)
            .map(|items| {
                items.iter().any(|item| match item {
                    Value::String(id) => absolute(id) == method,
                    Value::Object(_) => {
                        item.get("id")
                            .and_then(Value::as_str)
                            .map(absolute)
                            .as_deref()
                            == Some(method)
                    }
                    _ => false,
                })
            })
            .unwrap_or(false);
        if !listed {
            return Err(DidError::NotAuthorised {
                method: method.to_owned(),
                relationship: relationship.as_str(),
            });
        }
        let candidates = document
            .get("verificationMethod")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                document
                    .get(relationship.as_str())
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|v| v.is_object()),
            );
        for candidate in candidates {
            if candidate
                .get("id")
                .and_then(Value::as_str)
                .map(absolute)
                .as_deref()
                == Some(method)
            {
                return Ok(candidate.clone());
            }
        }
        Err(DidError::UnknownMethod(method.to_owned()))
    }

    /// The Ed25519 key of an authorised verification method.
    pub async fn ed25519_key(
        &self,
        method: &str,
        controller: &str,
        relationship: Relationship,
    ) -> Result<VerifyingKey, DidError> {
        let vm = self
            .authorised_method(method, controller, relationship)
            .await?;
        vm.get("publicKeyMultibase")
            .and_then(Value::as_str)
            .and_then(ed25519_from_multikey)
            .or_else(|| vm.get("publicKeyJwk").and_then(ed25519_from_jwk))
            .ok_or_else(|| DidError::NotEd25519(method.to_owned()))
    }
}

impl DIDResolver for DidResolver {
    async fn resolve_representation<'a>(
        &'a self,
        did: &'a DID,
        options: resolution::Options,
    ) -> Result<resolution::Output<Vec<u8>>, resolution::Error> {
        match did.method_name() {
            "web" => {
                let cached = self
                    .fetch_web(did.as_str())
                    .await
                    .map_err(resolution::Error::internal)?;
                Ok(resolution::Output::from_content(
                    cached.bytes.as_ref().clone(),
                    Some("application/did+json".into()),
                ))
            }
            "key" => {
                DIDKey
                    .resolve_method_representation(did.method_specific_id(), options)
                    .await
            }
            "jwk" => {
                DIDJWK
                    .resolve_method_representation(did.method_specific_id(), options)
                    .await
            }
            other => Err(resolution::Error::MethodNotSupported(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_urls() {
        assert_eq!(
            did_web_url("did:web:example.com", false).unwrap(),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(
            did_web_url("did:web:example.com%3A8443:users:alice", false).unwrap(),
            "https://example.com:8443/users/alice/did.json"
        );
        assert_eq!(
            did_web_url("did:web:127.0.0.1%3A9000", true).unwrap(),
            "http://127.0.0.1:9000/.well-known/did.json"
        );
        assert!(did_web_url("did:web:evil.com@x", false).is_err());
        assert_eq!(
            did_web_for("http://127.0.0.1:9000").unwrap(),
            "did:web:127.0.0.1%3A9000"
        );
    }

    #[test]
    fn multikeys_round_trip() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let multikey = multikey_of(&key);
        assert!(multikey.starts_with("z6Mk"));
        assert_eq!(ed25519_from_multikey(&multikey), Some(key));
        assert_eq!(ed25519_from_jwk(&jwk_of(&key)), Some(key));
    }
}
