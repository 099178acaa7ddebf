//! Typed, versioned log entries and their canonical encoding.
//!
//! Every entry is a JSON object with `type`, `v` (the schema version of that type), `time`
//! (RFC 3339, UTC, milliseconds) and the type's own fields, encoded with RFC 8785 (JCS) so
//! that the bytes hashed into the tree are a function of the content alone. Anyone can
//! re-encode a decoded entry and get the same bytes; [`decode`] insists on it.
//!
//! Entries hold no personal data: people appear as salted commitments, documents as hashes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why bytes are not a valid entry, or a body cannot be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    #[error("entry is not a JSON object: {0}")]
    NotJson(String),
    #[error("entry is not in RFC 8785 canonical form")]
    NotCanonical,
    #[error("entry lacks a valid `{0}` field")]
    MissingField(&'static str),
    #[error("unknown entry type {kind:?} version {version}")]
    UnknownType { kind: String, version: u64 },
    #[error("entry of type {kind} does not match its schema: {reason}")]
    Schema { kind: String, reason: String },
    #[error("entry body must be a JSON object without `type`, `v` or `time` fields")]
    BadBody,
}

/// The body of one entry type at one schema version.
pub trait EntryBody: Serialize + DeserializeOwned {
    /// The `type` field, e.g. `contract.agreed`.
    const TYPE: &'static str;
    /// The `v` field: bumped when the fields change meaning.
    const VERSION: u64;
}

/// Format an entry time: RFC 3339, UTC, millisecond precision, `Z` suffix.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Canonical (RFC 8785) bytes of any JSON value.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, EntryError> {
    jcs::to_vec(value).map_err(|e| EntryError::NotJson(e.to_string()))
}

/// Encode an entry: the body's fields plus `type`, `v` and `time`, canonicalised.
pub fn encode<T: EntryBody>(time: DateTime<Utc>, body: &T) -> Result<Vec<u8>, EntryError> {
    let Value::Object(mut fields) =
        serde_json::to_value(body).map_err(|e| EntryError::NotJson(e.to_string()))?
    else {
        return Err(EntryError::BadBody);
    };
    for reserved in ["type", "v", "time"] {
        if fields.contains_key(reserved) {
            return Err(EntryError::BadBody);
        }
    }
    fields.insert("type".into(), Value::from(T::TYPE));
    fields.insert("v".into(), Value::from(T::VERSION));
    fields.insert("time".into(), Value::from(format_time(time)));
    canonical_json(&Value::Object(fields))
}

/// The fields every entry has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub kind: String,
    pub version: u64,
    pub time: DateTime<Utc>,
}

/// A decoded entry: its envelope and its typed body.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub envelope: Envelope,
    pub entry: Entry,
}

/// The typed body of an entry, read from the entry's bytes without its envelope members.
fn body<T: EntryBody>(bytes: &[u8]) -> Result<T, EntryError> {
    skip_envelope::body_from_slice(bytes).map_err(|e| EntryError::Schema {
        kind: T::TYPE.to_owned(),
        reason: e.to_string(),
    })
}

/// Read only an entry's `type` and `time`, without checking the rest (for indexing).
pub fn peek(bytes: &[u8]) -> Option<(String, DateTime<Utc>)> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: String,
        time: String,
    }
    let head: Head = serde_json::from_slice(bytes).ok()?;
    let time = DateTime::parse_from_rfc3339(&head.time).ok()?;
    Some((head.kind, time.with_timezone(&Utc)))
}

/// Parse entry bytes: JSON, canonical, with a known type and version.
///
/// Canonical form is checked on the bytes, the envelope read on its own and the body
/// deserialized straight into its type: no `Value` tree is built (this runs for every entry
/// a commit projects and every entry `verify` reads).
pub fn decode(bytes: &[u8]) -> Result<Decoded, EntryError> {
    // The envelope's members are picked up by the canonical-form check itself: one pass
    // over the bytes fewer than reading them again with serde.
    let Some([kind, version, time]) = jcs::canonical_members(bytes, ["type", "v", "time"]) else {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map_err(|e| EntryError::NotJson(e.to_string()))?;
        return Err(EntryError::NotCanonical);
    };
    if bytes.first() != Some(&b'{') {
        return Err(EntryError::NotJson("not an object".into()));
    }
    let kind = kind
        .and_then(json_string)
        .ok_or(EntryError::MissingField("type"))?
        .into_owned();
    // A canonical number is a non-negative integer exactly when it is all digits.
    let version = version
        .and_then(|raw| raw.parse::<u64>().ok())
        .ok_or(EntryError::MissingField("v"))?;
    let time = time
        .and_then(json_string)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .ok_or(EntryError::MissingField("time"))?
        .with_timezone(&Utc);
    let entry = Entry::from_bytes(&kind, version, bytes)?;
    Ok(Decoded {
        envelope: Envelope {
            kind,
            version,
            time,
        },
        entry,
    })
}

/// The text of a JSON string value written as `raw` (quotes included); `None` for any other
/// value. Without escapes the text is the part between the quotes.
fn json_string(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).ok().map(Into::into)
    } else {
        Some(inner.into())
    }
}

macro_rules! entry_types {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// Every entry type this version of the service writes or reads.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Entry {
            $($variant($ty)),*
        }

        impl Entry {
            fn from_bytes(kind: &str, version: u64, bytes: &[u8]) -> Result<Entry, EntryError> {
                $(
                    if kind == <$ty as EntryBody>::TYPE && version == <$ty as EntryBody>::VERSION {
                        return Ok(Entry::$variant(body::<$ty>(bytes)?));
                    }
                )*
                Err(EntryError::UnknownType { kind: kind.to_owned(), version })
            }

            /// The `type` of this entry.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Entry::$variant(_) => <$ty as EntryBody>::TYPE),*
                }
            }
        }

        /// Every `(type, version)` pair known to this build.
        pub const KNOWN_TYPES: &[(&str, u64)] = &[
            $((<$ty as EntryBody>::TYPE, <$ty as EntryBody>::VERSION)),*
        ];
    };
}

entry_types! {
    GovernanceRecorded(GovernanceRecorded),
    TrustAnchorAdded(TrustAnchorAdded),
    TrustAnchorRemoved(TrustAnchorRemoved),
    CredentialIssued(CredentialIssued),
    CredentialRevoked(CredentialRevoked),
    CredentialRevokedSeen(CredentialRevokedSeen),
    MandateGranted(MandateGranted),
    ParticipantRegistered(ParticipantRegistered),
    ParticipantKeyAdded(ParticipantKeyAdded),
    ParticipantKeyRevoked(ParticipantKeyRevoked),
    ParticipantSuspended(ParticipantSuspended),
    ParticipantReinstated(ParticipantReinstated),
    ContractAgreed(ContractAgreed),
    ContractAmended(ContractAmended),
    ContractTerminated(ContractTerminated),
    PaymentRecorded(PaymentRecorded),
    DecisionMade(DecisionMade),
    ReceiptRecorded(ReceiptRecorded),
    ReceiptRejected(ReceiptRejected),
    ReceiptMismatch(ReceiptMismatch),
    TariffPublished(TariffPublished),
    FinancingPublished(FinancingPublished),
    BillingHoldPlaced(BillingHoldPlaced),
    BillingHoldCleared(BillingHoldCleared),
    BillingPeriodClosed(BillingPeriodClosed),
    BillingCreditIssued(BillingCreditIssued),
    AuditRead(AuditRead),
    PrivacyErased(PrivacyErased),
}

/// Implement [`EntryBody`] for a struct: `entry_body!(Type, "type.name", version)`.
macro_rules! entry_body {
    ($ty:ty, $name:literal, $version:literal) => {
        impl EntryBody for $ty {
            const TYPE: &'static str = $name;
            const VERSION: u64 = $version;
        }
    };
}

// Contracts, decisions and receipts (after the macro, which they use).
mod billing;
mod exchange;
pub mod jcs;
mod skip_envelope;
pub use billing::*;
pub use exchange::*;

/// `audit.read` v1: an auditor read the log through the audit API. Logged before the
/// answer is given, so no audit read goes unrecorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRead {
    /// The reader's configured label (a role, not a person): `operator` or an auditor label.
    pub reader: String,
    /// `entries` (a filtered query) or `bundle` (an offline audit bundle).
    pub request: String,
    /// The filters as given (type, participant, contract, asset, from, to, after, limit…).
    pub query: Value,
    /// Number of entries returned.
    pub results: u64,
    /// For a bundle: the log size it was built at and the SHA-256 (hex) of its JSON bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_sha256: Option<String>,
}
entry_body!(AuditRead, "audit.read", 1);

/// `trust.anchor_added` v1: a trusted issuer was added (or its definition replaced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchorAdded {
    /// The anchor's full definition, as validated.
    pub anchor: Value,
    /// The anchor set's version after this change.
    pub anchors_version: String,
    pub recorded_by: String,
}
entry_body!(TrustAnchorAdded, "trust.anchor_added", 1);

/// `trust.anchor_removed` v1: a trusted issuer was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchorRemoved {
    pub anchor_id: String,
    pub anchors_version: String,
    pub recorded_by: String,
}
entry_body!(TrustAnchorRemoved, "trust.anchor_removed", 1);

/// Where a credential's status lives in a Bitstring Status List.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPosition {
    /// URL of the status list credential.
    pub list: String,
    pub index: u64,
}

/// `credential.issued` v1: the clearing house issued a credential. The credential itself
/// (which names a person) stays private; the log holds its hash and what it grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialIssued {
    pub credential_id: String,
    /// `OrganisationCredential` or `MandateCredential`.
    pub credential_type: String,
    /// SHA-256 (hex) of the credential's canonical (JCS) form.
    pub credential_sha256: String,
    pub siren: String,
    /// Salted commitment to the holder (person and key); no personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_commitment: Option<String>,
    /// What the issuance rests on: `sirene`, `officer`, `delegation` or `deliberation`.
    pub basis: String,
    /// SHA-256 of the basis evidence (Sirene answer, ID token, parent credential, deliberation).
    pub basis_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_credential_id: Option<String>,
    /// The mandate's powers (ODRL), for mandates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub powers: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delegation_depth: Option<u32>,
    pub status: StatusPosition,
    pub valid_from: String,
    pub valid_until: String,
    pub anchors_version: String,
}
entry_body!(CredentialIssued, "credential.issued", 1);

/// `credential.revoked` v1: a credential issued here was revoked (its status bit set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRevoked {
    pub credential_id: String,
    pub status: StatusPosition,
    pub reason: String,
    /// Set when revoked because a parent mandate was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade_from: Option<String>,
    pub recorded_by: String,
    pub anchors_version: String,
}
entry_body!(CredentialRevoked, "credential.revoked", 1);

/// What the service saw of a credential's status when it relied on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSeen {
    pub list: String,
    pub index: u64,
    pub purpose: String,
    /// The bit read: 0 (not revoked/suspended) or 1.
    pub value: u8,
    /// SHA-256 (hex) of the status list credential as fetched.
    pub list_sha256: String,
    pub fetched_at: String,
}

/// `credential.revoked_seen` v1: a presented credential was found revoked or suspended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRevokedSeen {
    pub credential_sha256: String,
    pub issuer: String,
    pub status: StatusSeen,
    pub anchors_version: String,
}
entry_body!(CredentialRevokedSeen, "credential.revoked_seen", 1);

/// `mandate.granted` v1: a mandate that takes effect when the grantee signs in — a
/// sub-mandate from a mandated person, or a délibération recorded by the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandateGranted {
    pub grant_id: String,
    /// `delegation` or `deliberation`.
    pub kind: String,
    pub siren: String,
    /// Salted commitment to the grantee's e-mail address.
    pub grantee_commitment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_credential_id: Option<String>,
    /// SHA-256 of the délibération or arrêté de délégation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<String>,
    pub powers: Value,
    pub max_delegation_depth: u32,
    pub valid_until: String,
    pub recorded_by: String,
    pub anchors_version: String,
}
entry_body!(MandateGranted, "mandate.granted", 1);

/// A credential relied on, as recorded in an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSeen {
    pub sha256: String,
    pub types: Vec<String>,
    pub issuer: String,
    pub anchor_id: String,
    /// `eddsa-rdfc-2022`, `eddsa-jcs-2022`, `ecdsa-rdfc-2019` or `vc+jwt`.
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSeen>,
}

/// A connector key of a participant (public JWK and its thumbprint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorKey {
    /// RFC 7638 JWK thumbprint (base64url SHA-256).
    pub kid: String,
    pub jwk: Value,
}

/// `participant.registered` v1: an organisation joined, on the evidence listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantRegistered {
    pub siren: String,
    pub siret: String,
    pub legal_category: String,
    /// `public-body`, `company`, `association` or `sole-trader`.
    pub class: String,
    pub credentials: Vec<CredentialSeen>,
    pub presentation_sha256: String,
    pub representative_commitment: String,
    /// SHA-256 of the Sirene answer checked at registration, and when.
    pub sirene_sha256: String,
    pub sirene_checked_at: String,
    pub connector_keys: Vec<ConnectorKey>,
    pub anchors_version: String,
}
entry_body!(ParticipantRegistered, "participant.registered", 1);

/// `participant.key_added` v1: a connector key added by a person with `manage-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantKeyAdded {
    pub siren: String,
    pub key: ConnectorKey,
    /// Hash of the presentation that authorised it.
    pub presentation_sha256: String,
    pub credentials: Vec<CredentialSeen>,
    pub anchors_version: String,
}
entry_body!(ParticipantKeyAdded, "participant.key_added", 1);

/// `participant.key_revoked` v1: a connector key withdrawn (rotation or compromise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantKeyRevoked {
    pub siren: String,
    pub kid: String,
    pub presentation_sha256: String,
    pub credentials: Vec<CredentialSeen>,
    pub anchors_version: String,
}
entry_body!(ParticipantKeyRevoked, "participant.key_revoked", 1);

/// `participant.suspended` v1: the operator suspended a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantSuspended {
    pub siren: String,
    pub reason: String,
    pub recorded_by: String,
    pub anchors_version: String,
}
entry_body!(ParticipantSuspended, "participant.suspended", 1);

/// `participant.reinstated` v1: the operator lifted a suspension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantReinstated {
    pub siren: String,
    pub reason: String,
    pub recorded_by: String,
    pub anchors_version: String,
}
entry_body!(ParticipantReinstated, "participant.reinstated", 1);

/// What kind of governance act a [`GovernanceRecorded`] entry anchors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GovernanceKind {
    /// A deliberation of the governance committee (CTD).
    Deliberation,
    /// Minutes of a committee meeting.
    Minutes,
    /// A decision of the operator (tariff adoption, suspension policy, …).
    OperatorDecision,
    /// A notice published to the participants.
    Notice,
}

/// `governance.recorded` v1: a governance document anchored in the log by its hash, so the
/// committee's decisions share the log's history and cannot be back-dated or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceRecorded {
    pub kind: GovernanceKind,
    /// Public title of the document (not personal data).
    pub title: String,
    /// SHA-256 of the document, lowercase hex.
    pub document_sha256: String,
    /// The document's public reference (deliberation number, URL), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Which operator credential recorded it (a label, not a person).
    pub recorded_by: String,
    /// The trust anchor set in force.
    pub anchors_version: String,
}

entry_body!(GovernanceRecorded, "governance.recorded", 1);

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GovernanceRecorded {
        GovernanceRecorded {
            kind: GovernanceKind::Deliberation,
            title: "Délibération n°2026-04 — tarifs".into(),
            document_sha256: "ab".repeat(32),
            reference: None,
            recorded_by: "operator".into(),
            anchors_version: "0".repeat(64),
        }
    }

    #[test]
    fn encoding_is_canonical_and_decodes() {
        let time = DateTime::parse_from_rfc3339("2026-11-23T10:00:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let bytes = encode(time, &sample()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"anchors_version":"#), "{text}");
        assert!(text.contains(r#""time":"2026-11-23T10:00:00.500Z","title":"#));
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.envelope.kind, "governance.recorded");
        assert_eq!(decoded.entry, Entry::GovernanceRecorded(sample()));
    }

    #[test]
    fn non_canonical_or_unknown_entries_are_refused() {
        let spaced = br#"{ "type": "governance.recorded" }"#;
        assert!(matches!(decode(spaced), Err(EntryError::NotCanonical)));
        let unknown = br#"{"time":"2026-01-01T00:00:00.000Z","type":"x.y","v":1}"#;
        assert!(matches!(
            decode(unknown),
            Err(EntryError::UnknownType { .. })
        ));
        assert!(matches!(decode(b"[1]"), Err(EntryError::NotJson(_))));
        assert!(matches!(decode(b"{\"a\":"), Err(EntryError::NotJson(_))));
    }

    /// The body is read straight from the entry's bytes with the envelope left out: a
    /// member the body type does not have, or one it lacks, is still refused and named.
    #[test]
    fn body_members_are_checked_beside_the_envelope() {
        let time = Utc::now();
        let good = encode(time, &sample()).unwrap();
        let Value::Object(mut fields) = serde_json::from_slice::<Value>(&good).unwrap() else {
            panic!("an entry is an object");
        };
        fields.insert("extra".into(), Value::from(1));
        let extra = canonical_json(&Value::Object(fields.clone())).unwrap();
        match decode(&extra) {
            Err(EntryError::Schema { kind, reason }) => {
                assert_eq!(kind, "governance.recorded");
                assert!(reason.contains("unknown field `extra`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        fields.remove("extra");
        fields.remove("title");
        let missing = canonical_json(&Value::Object(fields.clone())).unwrap();
        match decode(&missing) {
            Err(EntryError::Schema { reason, .. }) => {
                assert!(reason.contains("missing field `title`"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        fields.remove("v");
        let no_version = canonical_json(&Value::Object(fields)).unwrap();
        assert!(matches!(
            decode(&no_version),
            Err(EntryError::MissingField("v"))
        ));
    }
}

/// `privacy.erased` v1: a person's private records were erased (GDPR right to erasure or a
/// retention limit). Only the salted commitments the log already held are named: with
/// their salts deleted they can no longer be linked to anyone, and every proof over the
/// entries holding them still verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyErased {
    /// The e-mail commitments of the records erased (as logged in credentials and grants).
    pub commitments: Vec<String>,
    pub persons: u64,
    pub credentials: u64,
    pub grants: u64,
    /// `right-to-erasure` or `retention-limit`.
    pub reason: String,
    pub recorded_by: String,
}
entry_body!(PrivacyErased, "privacy.erased", 1);
