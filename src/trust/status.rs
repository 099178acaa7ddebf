//! W3C Bitstring Status Lists: checking a credential's status at each use, and the lists
//! this service publishes for the credentials it issues.
//!
//! A foreign list is fetched, its own proof verified (and its issuer matched with the
//! credential's), then cached for a bounded time in a bounded cache. When it cannot be had,
//! the credential is rejected: fail closed. This service's own lists are read straight from
//! the database, which the log's `credential.issued` / `credential.revoked` entries feed.

use std::io::Read;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::did::Relationship;
use super::verifier::{Verifier, VerifyError};
use crate::entry::{StatusSeen, format_time};
use crate::store::Store;

/// Entries in one list: 131 072 bits (16 KiB), the specification's minimum size, which
/// keeps a single credential's position from standing out.
pub const LIST_BITS: u64 = 131_072;

/// The status bitstring of `LIST_BITS` bits with `indexes` set (most significant bit first).
pub fn bitstring(indexes: &[u64]) -> Vec<u8> {
    let mut bits = vec![0u8; (LIST_BITS / 8) as usize];
    for &index in indexes {
        if index < LIST_BITS {
            bits[(index / 8) as usize] |= 0x80 >> (index % 8);
        }
    }
    bits
}

/// The bit at `index` (most significant bit first), if the list is long enough.
pub fn bit(bits: &[u8], index: u64) -> Option<u8> {
    let byte = bits.get(usize::try_from(index / 8).ok()?)?;
    Some((byte >> (7 - index % 8)) & 1)
}

/// Multibase base64url (no padding) of the GZIP of the bitstring: the `encodedList`.
pub fn encode_list(bits: &[u8]) -> String {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bits);
    let compressed = encoder.finish().unwrap_or_default();
    multibase::encode(multibase::Base::Base64Url, compressed)
}

/// Decode an `encodedList` (at most 16 MiB once inflated).
pub fn decode_list(encoded: &str) -> Result<Vec<u8>, String> {
    let (_, compressed) = multibase::decode(encoded).map_err(|e| format!("not multibase: {e}"))?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(16 << 20)
        .read_to_end(&mut bits)
        .map_err(|e| format!("not GZIP: {e}"))?;
    Ok(bits)
}

/// Where this service's own status lists live.
#[derive(Clone)]
pub struct OwnLists {
    /// URL prefix, e.g. `https://host/v1/status/`.
    pub prefix: String,
    pub store: Store,
    /// The issuer of the lists (this service's DID).
    pub issuer: String,
}

struct FetchedList {
    fetched: Instant,
    fetched_at: DateTime<Utc>,
    issuer: String,
    purpose: String,
    bits: Vec<u8>,
    sha256: String,
}

/// Checks credential status. Cheap to clone.
#[derive(Clone)]
pub struct StatusChecker {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    // std Mutex: never held across an await.
    cache: Mutex<lru::LruCache<String, Arc<FetchedList>>>,
    max_age: Duration,
    /// This service's own lists: their URL prefix, where to read them, and its DID.
    own: Option<OwnLists>,
}

impl StatusChecker {
    pub fn new(max_age: Duration, own: Option<OwnLists>) -> Self {
        StatusChecker {
            inner: Arc::new(Inner {
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_default(),
                cache: Mutex::new(lru::LruCache::new(
                    NonZeroUsize::new(128).unwrap_or(NonZeroUsize::MIN),
                )),
                max_age,
                own,
            }),
        }
    }

    /// Check one `credentialStatus` (a `BitstringStatusListEntry`, or a list of them).
    /// Returns what was seen; a set bit is an error (revoked or suspended).
    pub async fn check(
        &self,
        verifier: &Verifier,
        status: &Value,
        credential_issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusSeen, VerifyError> {
        let entries: Vec<&Value> = match status {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut seen = None;
        for entry in entries {
            seen = Some(
                self.check_entry(verifier, entry, credential_issuer, now)
                    .await?,
            );
        }
        seen.ok_or_else(|| VerifyError::Malformed("empty credentialStatus".into()))
    }

    async fn check_entry(
        &self,
        verifier: &Verifier,
        entry: &Value,
        credential_issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusSeen, VerifyError> {
        if entry.get("type").and_then(Value::as_str) != Some("BitstringStatusListEntry") {
            return Err(VerifyError::Unsupported(format!(
                "credentialStatus type {:?}",
                entry.get("type")
            )));
        }
        let list = entry
            .get("statusListCredential")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                VerifyError::Malformed("credentialStatus lacks statusListCredential".into())
            })?
            .to_owned();
        let purpose = entry
            .get("statusPurpose")
            .and_then(Value::as_str)
            .unwrap_or("revocation")
            .to_owned();
        let index: u64 = match entry.get("statusListIndex") {
            Some(Value::String(text)) => text.parse().ok(),
            Some(Value::Number(number)) => number.as_u64(),
            _ => None,
        }
        .ok_or_else(|| VerifyError::Malformed("statusListIndex is not a number".into()))?;
        let fetched = self.list(verifier, &list, now).await.map_err(|reason| {
            crate::metrics::status_list_fetch_failed();
            VerifyError::StatusUnavailable {
                list: list.clone(),
                reason,
            }
        })?;
        if fetched.issuer != credential_issuer {
            return Err(VerifyError::StatusUnavailable {
                list,
                reason: format!(
                    "the list is issued by {}, not by the credential's issuer",
                    fetched.issuer
                ),
            });
        }
        if fetched.purpose != purpose {
            return Err(VerifyError::StatusUnavailable {
                list,
                reason: format!("the list is for {}, not {purpose}", fetched.purpose),
            });
        }
        let value = bit(&fetched.bits, index).ok_or_else(|| VerifyError::StatusUnavailable {
            list: list.clone(),
            reason: format!("index {index} is beyond the list"),
        })?;
        if value == 1 {
            return Err(if purpose == "suspension" {
                VerifyError::Suspended { list, index }
            } else {
                VerifyError::Revoked { list, index }
            });
        }
        Ok(StatusSeen {
            list,
            index,
            purpose,
            value,
            list_sha256: fetched.sha256.clone(),
            fetched_at: format_time(fetched.fetched_at),
        })
    }

    async fn list(
        &self,
        verifier: &Verifier,
        url: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<FetchedList>, String> {
        if let Some(own) = &self.inner.own
            && url.starts_with(own.prefix.as_str())
        {
            let indexes = own
                .store
                .revoked_indexes(url)
                .await
                .map_err(|e| format!("status database: {e}"))?;
            let bits = bitstring(&indexes);
            return Ok(Arc::new(FetchedList {
                fetched: Instant::now(),
                fetched_at: now,
                issuer: own.issuer.clone(),
                purpose: "revocation".into(),
                sha256: hex::encode(Sha256::digest(&bits)),
                bits,
            }));
        }
        if let Ok(mut cache) = self.inner.cache.lock()
            && let Some(hit) = cache.get(url)
            && hit.fetched.elapsed() < self.inner.max_age
        {
            return Ok(hit.clone());
        }
        let response = self
            .inner
            .http
            .get(url)
            .header(
                "Accept",
                "application/vc+ld+json, application/vc+jwt, application/json",
            )
            .send()
            .await
            .map_err(|e| format!("unreachable: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let body = response
            .text()
            .await
            .map_err(|e| format!("unreadable: {e}"))?;
        let secured: Value = if body.trim_start().starts_with('{') {
            serde_json::from_str(&body).map_err(|e| format!("not JSON: {e}"))?
        } else {
            Value::String(body.trim().to_owned())
        };
        let (document, _, _) = verifier
            .verify_securing(&secured, "issuer", Relationship::AssertionMethod, now)
            .await
            .map_err(|e| format!("its proof does not verify: {e}"))?;
        if let Some(until) = document.get("validUntil").and_then(Value::as_str)
            && DateTime::parse_from_rfc3339(until).is_ok_and(|t| t <= now)
        {
            return Err(format!("the list expired at {until}"));
        }
        let types = document.get("type").cloned().unwrap_or(Value::Null);
        if !types
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "BitstringStatusListCredential"))
        {
            return Err("not a BitstringStatusListCredential".into());
        }
        let subject = document
            .get("credentialSubject")
            .cloned()
            .unwrap_or(Value::Null);
        let encoded = subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or("no encodedList")?;
        let bits = decode_list(encoded)?;
        let issuer = match document.get("issuer") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Object(o)) => o
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        };
        let fetched = Arc::new(FetchedList {
            fetched: Instant::now(),
            fetched_at: now,
            issuer,
            purpose: subject
                .get("statusPurpose")
                .and_then(Value::as_str)
                .unwrap_or("revocation")
                .to_owned(),
            sha256: hex::encode(Sha256::digest(&bits)),
            bits,
        });
        if let Ok(mut cache) = self.inner.cache.lock() {
            cache.put(url.to_owned(), fetched.clone());
        }
        Ok(fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_most_significant_first_and_round_trip() {
        let bits = bitstring(&[0, 7, 42, LIST_BITS - 1]);
        assert_eq!(bits[0], 0b1000_0001);
        assert_eq!(bit(&bits, 42), Some(1));
        assert_eq!(bit(&bits, 43), Some(0));
        assert_eq!(bit(&bits, LIST_BITS), None);
        let encoded = encode_list(&bits);
        assert!(encoded.starts_with('u'));
        assert_eq!(decode_list(&encoded).unwrap(), bits);
    }

    #[test]
    fn w3c_example_list_decodes_empty() {
        let bits =
            decode_list("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
                .unwrap();
        assert_eq!(bits.len(), 16384);
        assert!(bits.iter().all(|b| *b == 0));
    }
}
