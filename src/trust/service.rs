//! The trust service: everything the participant and mandate flows need, assembled once.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::TrustFailure;
use super::anchors::{AnchorError, AnchorSet};
use super::issuer::Issuer;
use super::proconnect::ProConnect;
use super::sirene::{CompanyFacts, SireneSource};
use super::siret::Siret;
use super::verifier::{PresentationChecks, VerifiedPresentation, Verifier};
use crate::entry::{TrustAnchorAdded, TrustAnchorRemoved, encode};
use crate::journal::{Journal, LogReceipt};
use crate::store::Store;
use crate::store::trust::ChallengeUse;

/// Knobs of the trust flows.
#[derive(Debug, Clone)]
pub struct TrustSettings {
    pub officer_mandate_days: u32,
    pub officer_delegation_depth: u32,
    pub organisation_credential_days: u32,
    pub challenge_seconds: u64,
}

/// Shared state of the trust flows. Cheap to clone.
#[derive(Clone)]
pub struct TrustService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    journal: Journal,
    verifier: Verifier,
    issuer: Issuer,
    // std RwLock: read on every verification, written on reload; never held across an await.
    anchors: RwLock<Arc<AnchorSet>>,
    anchors_dir: PathBuf,
    sirene: SireneSource,
    proconnect: Option<ProConnect>,
    public_url: String,
    settings: TrustSettings,
    /// Serialises changes to participants and mandates (rare, and each checks-then-appends).
    changes: tokio::sync::Mutex<()>,
}

/// A random 32-byte salt.
pub fn new_salt() -> Vec<u8> {
    let mut salt = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// A salted commitment: SHA-256(salt ‖ label ‖ 0x00 ‖ value), hex. Deleting the salt makes
/// it unlinkable to the value for good, while every proof over entries holding it stands.
pub fn commitment(salt: &[u8], label: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(label.as_bytes());
    hasher.update([0]);
    hasher.update(value.as_bytes());
    hex::encode(hasher.finalize())
}

/// Everything [`TrustService::new`] needs.
pub struct TrustParts {
    pub store: Store,
    pub journal: Journal,
    pub verifier: Verifier,
    pub issuer: Issuer,
    pub anchors: AnchorSet,
    pub anchors_dir: PathBuf,
    pub sirene: SireneSource,
    pub proconnect: Option<ProConnect>,
    pub public_url: String,
    pub settings: TrustSettings,
}

impl TrustService {
    pub fn new(parts: TrustParts) -> TrustService {
        TrustService {
            inner: Arc::new(Inner {
                store: parts.store,
                journal: parts.journal,
                verifier: parts.verifier,
                issuer: parts.issuer,
                anchors: RwLock::new(Arc::new(parts.anchors)),
                anchors_dir: parts.anchors_dir,
                sirene: parts.sirene,
                proconnect: parts.proconnect,
                public_url: parts.public_url,
                settings: parts.settings,
                changes: tokio::sync::Mutex::new(()),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    pub fn issuer(&self) -> &Issuer {
        &self.inner.issuer
    }

    pub fn sirene(&self) -> &SireneSource {
        &self.inner.sirene
    }

    pub fn proconnect(&self) -> Option<&ProConnect> {
        self.inner.proconnect.as_ref()
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    pub fn settings(&self) -> &TrustSettings {
        &self.inner.settings
    }

    /// Hold while checking and appending a change that must not race another, in this
    /// process or another sharing the database. Fails (closed) when the database cannot lock.
    pub async fn lock_changes(
        &self,
    ) -> Result<
        (
            tokio::sync::MutexGuard<'_, ()>,
            crate::store::cluster::ClusterGuard,
        ),
        crate::store::StoreError,
    > {
        let local = self.inner.changes.lock().await;
        let shared = self.inner.store.cluster_lock("trust:changes").await?;
        Ok((local, shared))
    }

    /// The anchor set in force.
    pub fn anchors(&self) -> Arc<AnchorSet> {
        match self.inner.anchors.read() {
            Ok(anchors) => anchors.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The version of the anchor set in force, recorded in every trust entry.
    pub fn anchors_version(&self) -> String {
        self.anchors().version().to_owned()
    }

    /// Log the differences between the anchor set in force and the one the log holds, as
    /// `trust.anchor_added` / `trust.anchor_removed`, in one atomic append.
    pub async fn sync_anchors(&self, recorded_by: &str) -> Result<Vec<LogReceipt>, TrustFailure> {
        let _guard = self.lock_changes().await?;
        let anchors = self.anchors();
        let (recorded, _) = self.inner.store.trust_anchors().await?;
        let (added, removed) = anchors.diff(&recorded);
        if added.is_empty() && removed.is_empty() {
            return Ok(Vec::new());
        }
        let now = crate::clock::now();
        let version = anchors.version().to_owned();
        let mut entries = Vec::new();
        for id in removed {
            entries.push(encode(
                now,
                &TrustAnchorRemoved {
                    anchor_id: id,
                    anchors_version: version.clone(),
                    recorded_by: recorded_by.to_owned(),
                },
            )?);
        }
        for anchor in added {
            entries.push(encode(
                now,
                &TrustAnchorAdded {
                    anchor: serde_json::to_value(anchor).unwrap_or(Value::Null),
                    anchors_version: version.clone(),
                    recorded_by: recorded_by.to_owned(),
                },
            )?);
        }
        Ok(self.inner.journal.append_raw(entries).await?)
    }

    /// Re-read the anchor directory, switch to it and log the changes.
    pub async fn reload_anchors(&self, recorded_by: &str) -> Result<Vec<LogReceipt>, TrustFailure> {
        let set = AnchorSet::load_dir(&self.inner.anchors_dir, self.inner.issuer.did())
            .map_err(|AnchorError(problems)| TrustFailure::Input(problems.join("; ")))?;
        if let Ok(mut slot) = self.inner.anchors.write() {
            *slot = Arc::new(set);
        }
        self.sync_anchors(recorded_by).await
    }

    /// A fresh one-time challenge for a presentation, and when it expires.
    pub async fn new_challenge(&self) -> Result<(String, DateTime<Utc>), TrustFailure> {
        let challenge = hex::encode(new_salt());
        let expires =
            crate::clock::now() + Duration::seconds(self.inner.settings.challenge_seconds as i64);
        self.inner
            .store
            .save_challenge(&challenge, expires.timestamp_millis())
            .await?;
        Ok((challenge, expires))
    }

    /// Verify a presentation bound to one of our challenges (used up here) and to this
    /// service's domain, and every credential in it.
    pub async fn verify_bound_presentation(
        &self,
        presentation: &Value,
    ) -> Result<VerifiedPresentation, TrustFailure> {
        let now = crate::clock::now();
        let anchors = self.anchors();
        // Check the signature first without the challenge, so a forged presentation cannot
        // burn somebody's challenge; then use the challenge up.
        let verified = self
            .inner
            .verifier
            .verify_presentation(
                presentation,
                &PresentationChecks {
                    challenge: None,
                    domain: Some(&self.inner.public_url),
                },
                &anchors,
                now,
            )
            .await?;
        let challenge = verified
            .challenge
            .clone()
            .ok_or(TrustFailure::Challenge(ChallengeUse::Unknown))?;
        match self
            .inner
            .store
            .consume_challenge(&challenge, now.timestamp_millis())
            .await?
        {
            ChallengeUse::Fresh => Ok(verified),
            other => Err(TrustFailure::Challenge(other)),
        }
    }

    /// Ask Sirene about an establishment; a closed one is refused.
    pub async fn active_establishment(
        &self,
        siret: &Siret,
    ) -> Result<(CompanyFacts, Vec<u8>), TrustFailure> {
        let (facts, body) = self.inner.sirene.establishment(siret).await?;
        if !facts.is_active() {
            return Err(TrustFailure::Closed(siret.to_string()));
        }
        self.inner.store.upsert_organisation(&facts, &body).await?;
        Ok((facts, body))
    }
}
