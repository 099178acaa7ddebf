//! The exchange between participants: signed contracts, connector authentication,
//! pre-transfer decisions and transfer receipts.
//!
//! | module         | owns                                                             |
//! |----------------|------------------------------------------------------------------|
//! | [`client`]     | the caller's side: signing agreements, assertions and receipts    |
//! | [`signatures`] | representatives' detached signatures and the mandates behind them |
//! | [`contracts`]  | agreeing, amending and terminating contracts; payments under them |
//! | [`tokens`]     | RFC 7523 client assertions, access tokens, decision tokens        |
//! | [`decisions`]  | fail-closed pre-transfer decisions                                |
//! | [`receipts`]   | signed receipts, matching both sides, rejections                  |

pub mod client;
pub mod contracts;
pub mod decisions;
pub mod rate;
pub mod receipts;
pub mod signatures;
pub mod tokens;

use crate::store::cluster::ClusterGuard;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;
use lru::LruCache;

use crate::jose::JoseError;
use crate::journal::{JournalError, LogReceipt};
use crate::odrl::Policy;
use crate::store::StoreError;
use crate::trust::TrustFailure;
use crate::trust::service::TrustService;

/// Lock shards: operations on one contract (or one decision) are serialised, others run
/// in parallel. Many more shards than concurrent requests, so that two contracts rarely
/// share one (with 64, 32 busy contracts had ~8 colliding pairs queued behind each other).
const LOCK_SHARDS: usize = 4096;
/// Parsed agreements kept for evaluation, by agreement hash.
const POLICY_CACHE: usize = 1024;

/// Lifetimes and tolerances of the exchange (the `[exchange]` configuration section).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExchangeSettings {
    /// Lifetime of an access token.
    pub access_token_seconds: i64,
    /// Lifetime of a decision token: the transfer must start before it expires.
    pub decision_seconds: i64,
    /// Longest lifetime a client assertion may ask for.
    pub assertion_max_seconds: i64,
    /// How old a representative's signature may be when the contract is submitted.
    pub signature_max_age_days: i64,
    /// Tolerated clock difference with callers.
    pub clock_skew_seconds: i64,
    /// Decisions and receipts a participant may send per minute (0: no limit)…
    pub requests_per_minute: u32,
    /// …and in a burst.
    pub burst: u32,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        ExchangeSettings {
            access_token_seconds: 300,
            decision_seconds: 300,
            assertion_max_seconds: 300,
            signature_max_age_days: 30,
            clock_skew_seconds: 60,
            requests_per_minute: 600,
            burst: 120,
        }
    }
}

/// Why an exchange request was refused. Only [`ExchangeFailure::ReceiptRejected`] wrote
/// anything (the rejection itself, for the audit).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeFailure {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// An OAuth client authentication failure (RFC 6749 `invalid_client`/`invalid_grant`).
    #[error("{detail}")]
    Client { error: &'static str, detail: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Signature(String),
    #[error("{0}")]
    Mandate(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("participant {siren} is over its rate: retry in {retry_after} s")]
    RateLimited { siren: String, retry_after: u64 },
    #[error("receipt rejected: {reason}")]
    ReceiptRejected { reason: String, log: LogReceipt },
    #[error(transparent)]
    Trust(#[from] TrustFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl From<crate::entry::EntryError> for ExchangeFailure {
    fn from(error: crate::entry::EntryError) -> Self {
        ExchangeFailure::Journal(JournalError::Encode(error))
    }
}

/// A JWS failure, described as what it was used for.
pub(crate) fn jose_failure(what: &str, error: JoseError) -> ExchangeFailure {
    ExchangeFailure::Signature(format!("{what}: {error}"))
}

/// Append one encoded entry and return its log receipt.
pub(crate) async fn append_one(
    exchange: &ExchangeService,
    entry: Vec<u8>,
) -> Result<LogReceipt, ExchangeFailure> {
    exchange
        .trust()
        .journal()
        .append_raw(vec![entry])
        .await?
        .pop()
        .ok_or(ExchangeFailure::Journal(JournalError::Append(
            crate::ledger::sequencer::AppendError::Empty,
        )))
}

/// Shared state of the exchange. Cheap to clone.
#[derive(Clone)]
pub struct ExchangeService {
    inner: Arc<Inner>,
}

struct Inner {
    trust: TrustService,
    /// Signs access and decision tokens: the issuer key of this service's `did:web`.
    token_key: SigningKey,
    token_kid: String,
    settings: ExchangeSettings,
    locks: Vec<tokio::sync::Mutex<()>>,
    policies: Mutex<LruCache<String, Arc<Policy>>>,
    limiter: rate::RateLimiter,
}

impl ExchangeService {
    pub fn new(trust: TrustService, token_key: SigningKey, settings: ExchangeSettings) -> Self {
        let token_kid = trust.issuer().verification_method().to_owned();
        let limiter = rate::RateLimiter::new(settings.requests_per_minute, settings.burst);
        ExchangeService {
            inner: Arc::new(Inner {
                limiter,
                trust,
                token_key,
                token_kid,
                settings,
                locks: (0..LOCK_SHARDS)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
                policies: Mutex::new(LruCache::new(
                    NonZeroUsize::new(POLICY_CACHE).unwrap_or(NonZeroUsize::MIN),
                )),
            }),
        }
    }

    pub fn trust(&self) -> &TrustService {
        &self.inner.trust
    }

    /// Count one request of `siren` against its rate limit.
    pub fn limit(&self, siren: &str) -> Result<(), ExchangeFailure> {
        self.inner
            .limiter
            .check(siren)
            .map_err(|retry_after| ExchangeFailure::RateLimited {
                siren: siren.to_owned(),
                retry_after,
            })
    }

    pub fn settings(&self) -> &ExchangeSettings {
        &self.inner.settings
    }

    pub(crate) fn token_key(&self) -> (&SigningKey, &str) {
        (&self.inner.token_key, &self.inner.token_kid)
    }

    /// Serialise work on one contract or decision (by id), in this process and across the
    /// processes sharing the database. Fails (closed) when the database cannot lock.
    pub(crate) async fn lock(
        &self,
        id: &str,
    ) -> Result<(tokio::sync::MutexGuard<'_, ()>, ClusterGuard), crate::store::StoreError> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        let shard = (hasher.finish() as usize) % self.inner.locks.len();
        // The local mutex first: it bounds how many cross-process locks this process holds.
        let local = self.inner.locks[shard].lock().await;
        let shared = self
            .inner
            .trust
            .store()
            .cluster_lock(&format!("exchange:{id}"))
            .await?;
        Ok((local, shared))
    }

    /// The parsed agreement with this hash (parsing once per agreement, not per decision).
    pub(crate) fn policy(
        &self,
        sha256: &str,
        agreement: &serde_json::value::RawValue,
    ) -> Result<Arc<Policy>, String> {
        if let Ok(mut cache) = self.inner.policies.lock()
            && let Some(policy) = cache.get(sha256)
        {
            return Ok(policy.clone());
        }
        let agreement: serde_json::Value =
            serde_json::from_str(agreement.get()).map_err(|e| e.to_string())?;
        let policy = Arc::new(Policy::from_json(&agreement).map_err(|e| e.to_string())?);
        if let Ok(mut cache) = self.inner.policies.lock() {
            cache.put(sha256.to_owned(), policy.clone());
        }
        Ok(policy)
    }
}
