//! Who is calling: extractors that authenticate a request or reject it with a problem.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::problem::{Problem, types};

/// Operator and auditor credentials the service accepts.
#[derive(Debug, Default)]
pub struct OperatorAuth {
    /// SHA-256 of the operator's bearer token; `None` disables operator endpoints.
    token_digest: Option<[u8; 32]>,
    /// Auditors' labels and token digests (configuration `[[auth.auditors]]`).
    auditors: Vec<(String, [u8; 32])>,
    /// SIRENs whose `read-audit` mandates read the whole log (`auth.committee_sirens`).
    committee: Vec<String>,
}

impl OperatorAuth {
    pub fn new(token: Option<&str>) -> Self {
        OperatorAuth {
            token_digest: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            auditors: Vec::new(),
            committee: Vec::new(),
        }
    }

    /// The governance committee's member organisations (SIRENs).
    pub fn with_committee(mut self, committee: Vec<String>) -> Self {
        self.committee = committee;
        self
    }

    pub fn committee(&self) -> &[String] {
        &self.committee
    }

    /// Also accept these auditors' tokens (label, SHA-256 of the token) on audit endpoints.
    pub fn with_auditors(mut self, auditors: Vec<(String, [u8; 32])>) -> Self {
        self.auditors = auditors;
        self
    }

    pub(crate) fn accepts(&self, token: &str) -> bool {
        let Some(expected) = &self.token_digest else {
            return false;
        };
        // Compare digests in constant time: no timing hint about the token's prefix.
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        presented.ct_eq(expected).into()
    }

    /// The label of the auditor whose token this is.
    fn auditor(&self, token: &str) -> Option<&str> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every digest is compared (in constant time), whichever matches.
        let mut found = None;
        for (label, digest) in &self.auditors {
            if bool::from(presented.ct_eq(digest)) {
                found = Some(label.as_str());
            }
        }
        found
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// A request made by the operator. The label (not a person) is what entries record.
#[derive(Debug, Clone)]
pub struct Operator {
    pub label: String,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer_token(parts).ok_or_else(|| {
            Problem::new(
                types::UNAUTHENTICATED,
                "this endpoint needs the operator's bearer token",
            )
        })?;
        if !state.operator_auth.accepts(token) {
            return Err(Problem::new(
                types::UNAUTHENTICATED,
                "the bearer token is not a valid operator token",
            ));
        }
        Ok(Operator {
            label: "operator".into(),
        })
    }
}

/// `Option<Operator>`: `None` without credentials, a rejection for bad ones.
impl OptionalFromRequestParts<AppState> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Problem> {
        if bearer_token(parts).is_none() {
            return Ok(None);
        }
        <Operator as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// A request that may read the audit API: the operator, an auditor configured in
/// `[[auth.auditors]]`, or an audit session opened with a `read-audit` mandate
/// (`POST /v1/audit/sessions`). The label (a role or a mandate's id, never a person's name)
/// is what `audit.read` records.
#[derive(Debug, Clone)]
pub struct Auditor {
    pub label: String,
    /// The one organisation (SIREN) this reader may see; `None`: the whole log.
    pub scope: Option<String>,
}

impl Auditor {
    /// Check that a reader limited to one organisation asks about that organisation only;
    /// returns the participant filter to apply.
    pub fn participant_filter(&self, asked: Option<&str>) -> Result<Option<String>, Problem> {
        match (&self.scope, asked) {
            (None, asked) => Ok(asked.map(str::to_owned)),
            (Some(own), None) => Ok(Some(own.clone())),
            (Some(own), Some(asked)) if asked == own => Ok(Some(own.clone())),
            (Some(own), Some(asked)) => Err(Problem::new(
                types::FORBIDDEN,
                format!("this audit session reads SIREN {own}'s entries only, not {asked}'s"),
            )),
        }
    }
}

impl FromRequestParts<AppState> for Auditor {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer_token(parts).ok_or_else(|| {
            Problem::new(
                types::UNAUTHENTICATED,
                "this endpoint needs an audit session's, an auditor's or the operator's bearer token",
            )
        })?;
        if state.operator_auth.accepts(token) {
            return Ok(Auditor {
                label: "operator".into(),
                scope: None,
            });
        }
        if let Some(label) = state.operator_auth.auditor(token) {
            return Ok(Auditor {
                label: label.to_owned(),
                scope: None,
            });
        }
        let digest = hex::encode(Sha256::digest(token.as_bytes()));
        // Fail closed: a store that cannot answer opens nothing.
        let session = state
            .store
            .audit_session(&digest, crate::clock::now().timestamp_millis())
            .await
            .map_err(|e| Problem::log_unavailable(&e))?;
        match session {
            Some(session) => Ok(Auditor {
                label: session.label,
                scope: session.siren,
            }),
            None => Err(Problem::new(
                types::FORBIDDEN,
                "this bearer token does not carry the audit role (or its audit session expired)",
            )),
        }
    }
}
