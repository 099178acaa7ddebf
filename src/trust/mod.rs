//! Trust: who participants are, who may act for them, and which credentials prove it.
//!
//! | module             | owns                                                          |
//! |--------------------|---------------------------------------------------------------|
//! | [`siret`]          | SIREN / SIRET numbers (Luhn, La Poste rule)                   |
//! | [`legal_category`] | INSEE catégories juridiques → class of organisation           |
//! | [`sirene`]         | the INSEE Sirene API client, answers kept as evidence         |
//! | [`anchors`]        | trusted issuers and what each may attest; the set's version  |
//! | [`did`]            | DID resolution (key, jwk, web) and key binding                |
//! | [`contexts`]       | JSON-LD contexts, loaded offline                              |
//! | [`jcs_suite`]      | the `eddsa-jcs-2022` cryptosuite                              |
//! | [`status`]         | Bitstring Status Lists: checking, and this service's own      |
//! | [`verifier`]       | verifying credentials and presentations, fail-closed          |
//! | [`issuer`]         | this service's did:web identity, signing credentials         |
//! | [`powers`]         | a mandate's powers as ODRL permissions, decided by ODRL       |
//! | [`mandates`]       | the three ways to a mandate, and revocation                   |
//! | [`schemas`]        | JSON Schemas of the credentials issued here                   |
//! | [`service`]        | the assembled trust service                                   |
//! | [`wallet`]         | a holder key signing presentations (demo, connector, tests)   |
//! | [`proconnect`]     | ProConnect (OpenID Connect) sign-in, verified server-side     |

pub mod anchors;
pub mod audit_access;
pub mod contexts;
pub mod did;
pub mod issuer;
pub mod jcs_suite;
pub mod legal_category;
pub mod mandates;
pub mod powers;
pub mod proconnect;
pub mod schemas;
pub mod service;
pub mod sirene;
pub mod siret;
pub mod status;
pub mod verifier;
pub mod wallet;

use crate::journal::JournalError;
use crate::store::StoreError;
use crate::store::trust::ChallengeUse;

/// Why a trust operation (sign-in, mandate, registration) was refused. Nothing was logged
/// or changed in any of these cases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustFailure {
    #[error(transparent)]
    Identifier(#[from] siret::IdentifierError),
    #[error(transparent)]
    Sirene(#[from] sirene::SireneError),
    #[error("the organisation of SIRET {0} is closed according to Sirene")]
    Closed(String),
    #[error("credential rejected: {0}")]
    Credential(#[from] verifier::VerifyError),
    #[error(transparent)]
    ProConnect(#[from] proconnect::ProConnectError),
    #[error("{}", challenge_message(*.0))]
    Challenge(ChallengeUse),
    #[error(transparent)]
    Power(#[from] powers::PowerError),
    #[error("mandate rejected: {0}")]
    Mandate(String),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("sign-in with ProConnect is not configured on this service")]
    NotConfigured,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Issue(#[from] issuer::IssueError),
}

impl From<crate::entry::EntryError> for TrustFailure {
    fn from(error: crate::entry::EntryError) -> Self {
        TrustFailure::Journal(JournalError::Encode(error))
    }
}

fn challenge_message(use_: ChallengeUse) -> &'static str {
    match use_ {
        ChallengeUse::Fresh => "challenge accepted",
        ChallengeUse::Replayed => "the presentation's challenge was already used (replay)",
        ChallengeUse::Expired => "the presentation's challenge has expired; ask for a new one",
        ChallengeUse::Unknown => {
            "the presentation is not bound to a challenge issued by this service (GET /v1/challenges)"
        }
    }
}
