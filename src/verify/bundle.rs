//! Offline audit bundles: their format and their verification with no network.
//!
//! A bundle carries a selection of entries, each with its inclusion proof against one
//! signed checkpoint, optionally a consistency proof from an earlier size the auditor named,
//! and the trust anchors in force. [`verify_bundle`] needs only the bundle and the log's
//! verifier key obtained out of band; the key named inside the bundle must be that key.
//!
//! What a bundle proves: each entry is, byte for byte, at its index in the log whose
//! checkpoint the log's key signed (and that log extends the earlier one). What it cannot
//! prove: that the selection is complete — the log itself (`clearinghouse verify --url`)
//! is the place to check that no entry was left out.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::entry;
use crate::ledger::hash::{Hash, leaf_hash};
use crate::ledger::note::{Checkpoint, NoteVerifier, open_checkpoint};
use crate::ledger::proof::{verify_consistency, verify_inclusion};

/// The `format` of bundles this version writes and reads.
pub const BUNDLE_FORMAT: &str = "clearinghouse-audit-bundle/v1";

/// An offline audit bundle, as served by `GET /v1/audit/bundles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    /// The log's origin (checkpoint first line).
    pub origin: String,
    /// The log's verifier key; must equal the key the auditor trusts.
    pub vkey: String,
    /// What was asked for (the filters), for the reader.
    pub query: Value,
    /// When the bundle was made (RFC 3339).
    pub created_at: String,
    /// The signed checkpoint every inclusion proof leads to.
    pub checkpoint: String,
    pub entries: Vec<BundleEntry>,
    /// Proof that the log at `checkpoint` extends the tree the auditor saw earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<BundleConsistency>,
    pub trust_anchors: BundleAnchors,
    /// For a period's billing bundle: the statements the service computed, for
    /// `clearinghouse billing recompute` to reproduce from the entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<BundleBilling>,
}

/// The billing part of a period bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleBilling {
    /// `YYYY-MM`.
    pub period: String,
    /// The statements as `GET /v1/billing/statements` serves them.
    pub statements: Value,
    /// Log index of the period's `billing.period_closed` entry, when it is closed (the
    /// entry is among the bundle's entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<u64>,
}

/// One entry with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    pub index: u64,
    /// The entry's bytes (canonical JSON), base64.
    pub data: String,
    /// RFC 9162 inclusion path to the checkpoint's root, base64 hashes.
    pub inclusion_path: Vec<String>,
}

/// A consistency proof from an earlier tree to the checkpoint's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleConsistency {
    pub old_size: u64,
    /// Root of the earlier tree, base64 (compare it with the one you kept).
    pub old_root: String,
    /// The checkpoint the log signed at `old_size`, when it signed one at that size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_checkpoint: Option<String>,
    pub proof: Vec<String>,
}

/// The trust anchors in force when the bundle was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleAnchors {
    /// The anchor-set version (SHA-256 of the definitions' canonical JSON, sorted by id).
    pub version: Option<String>,
    pub anchors: Vec<Value>,
}

/// What a verified bundle proves.
#[derive(Debug, Clone)]
pub struct BundleReport {
    pub checkpoint: Checkpoint,
    pub entries: usize,
    /// Entry count by type.
    pub types: BTreeMap<String, usize>,
    pub first_index: Option<u64>,
    pub last_index: Option<u64>,
    /// The earlier size the log was proven to extend.
    pub consistent_with: Option<(u64, Hash, bool)>,
    pub anchors: usize,
    pub anchors_version: Option<String>,
}

fn hash(text: &str) -> Option<Hash> {
    B64.decode(text).ok()?.try_into().ok()
}

fn hashes(texts: &[String]) -> Option<Vec<Hash>> {
    texts.iter().map(|t| hash(t)).collect()
}

/// The anchor-set version of these definitions, as the service computes it.
pub fn anchors_version(anchors: &[Value]) -> Result<String, String> {
    let mut sorted: Vec<&Value> = anchors.iter().collect();
    sorted.sort_by(|a, b| {
        let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
        id(a).cmp(&id(b))
    });
    let value = Value::Array(sorted.into_iter().cloned().collect());
    let bytes = entry::canonical_json(&value).map_err(|e| e.to_string())?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// A published tariff or financing rule must be valid and match the hash logged with it.
fn check_published_file(entry: &entry::Entry) -> Result<(), String> {
    let (file, logged, valid) = match entry {
        entry::Entry::TariffPublished(t) => (
            &t.tariff,
            &t.tariff_sha256,
            crate::billing::tariff::Tariff::from_json("tariff", &t.tariff).map(|_| ()),
        ),
        entry::Entry::FinancingPublished(f) => (
            &f.rule,
            &f.rule_sha256,
            crate::billing::financing::FinancingRule::from_json("financing rule", &f.rule)
                .map(|_| ()),
        ),
        _ => return Ok(()),
    };
    valid.map_err(|e| e.to_string())?;
    let bytes = entry::canonical_json(file).map_err(|e| e.to_string())?;
    let computed = hex::encode(Sha256::digest(bytes));
    if &computed != logged {
        return Err(format!(
            "the published file hashes to {computed}, not to the {logged} logged with it"
        ));
    }
    Ok(())
}

/// Check a bundle with the log's verifier key. The error names the first check that
/// failed (`checkpoint: …`, `entry 12: …`, `consistency: …`, `trust anchors: …`).
pub fn verify_bundle(bundle: &Bundle, verifier: &NoteVerifier) -> Result<BundleReport, String> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(format!(
            "format: {:?} is not {BUNDLE_FORMAT:?}",
            bundle.format
        ));
    }
    let checkpoint =
        open_checkpoint(&bundle.checkpoint, verifier, &bundle.origin).map_err(|e| match e {
            crate::ledger::note::NoteError::BadCheckpoint(_) => format!("checkpoint: {e}"),
            _ => format!("checkpoint: signature does not verify with the given key ({e})"),
        })?;
    if checkpoint.origin != verifier.name() {
        return Err(format!(
            "checkpoint: origin {:?} is not the given key's name {:?}",
            checkpoint.origin,
            verifier.name()
        ));
    }
    if bundle.vkey != verifier.vkey() {
        return Err("key: the bundle names another verifier key than the given one".into());
    }
    let mut types = BTreeMap::new();
    let mut previous: Option<u64> = None;
    for item in &bundle.entries {
        let at = format!("entry {}", item.index);
        if previous.is_some_and(|p| p >= item.index) {
            return Err(format!("{at}: entries are not in increasing index order"));
        }
        previous = Some(item.index);
        let data = B64
            .decode(&item.data)
            .map_err(|_| format!("{at}: data is not base64"))?;
        let path = hashes(&item.inclusion_path)
            .ok_or_else(|| format!("{at}: inclusion path is not base64 SHA-256 hashes"))?;
        let kind = entry::peek(&data)
            .map(|(kind, _)| kind)
            .unwrap_or_else(|| "unreadable".into());
        let at = format!("entry {} ({kind})", item.index);
        verify_inclusion(
            item.index,
            checkpoint.size,
            &leaf_hash(&data),
            &path,
            &checkpoint.root,
        )
        .map_err(|e| format!("{at}: inclusion proof does not lead to the checkpoint root ({e})"))?;
        let decoded = entry::decode(&data).map_err(|e| format!("{at}: not a valid entry: {e}"))?;
        check_published_file(&decoded.entry).map_err(|e| format!("{at}: {e}"))?;
        *types.entry(decoded.envelope.kind).or_insert(0) += 1;
    }
    let consistent_with = match &bundle.consistency {
        None => None,
        Some(c) => {
            let old_root =
                hash(&c.old_root).ok_or("consistency: old_root is not a base64 SHA-256 hash")?;
            let proof =
                hashes(&c.proof).ok_or("consistency: proof is not base64 SHA-256 hashes")?;
            verify_consistency(
                c.old_size,
                checkpoint.size,
                &old_root,
                &checkpoint.root,
                &proof,
            )
            .map_err(|e| {
                format!(
                    "consistency: the log at size {} does not extend the tree of size {} ({e})",
                    checkpoint.size, c.old_size
                )
            })?;
            let signed = match &c.old_checkpoint {
                None => false,
                Some(note) => {
                    let old = open_checkpoint(note, verifier, &bundle.origin).map_err(|e| {
                        format!("consistency: the earlier checkpoint does not verify ({e})")
                    })?;
                    if old.size != c.old_size || old.root != old_root {
                        return Err(
                            "consistency: the earlier checkpoint is not for old_size/old_root"
                                .into(),
                        );
                    }
                    true
                }
            };
            Some((c.old_size, old_root, signed))
        }
    };
    let anchors = &bundle.trust_anchors;
    if let Some(version) = &anchors.version {
        let computed =
            anchors_version(&anchors.anchors).map_err(|e| format!("trust anchors: {e}"))?;
        if &computed != version {
            return Err(format!(
                "trust anchors: the definitions hash to {computed}, not to version {version}"
            ));
        }
    } else if !anchors.anchors.is_empty() {
        return Err("trust anchors: definitions without a version".into());
    }
    Ok(BundleReport {
        checkpoint,
        entries: bundle.entries.len(),
        types,
        first_index: bundle.entries.first().map(|e| e.index),
        last_index: bundle.entries.last().map(|e| e.index),
        consistent_with,
        anchors: anchors.anchors.len(),
        anchors_version: anchors.version.clone(),
    })
}
