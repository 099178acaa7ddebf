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
}

impl OperatorAuth {
    pub fn new(token: Option<&str>) -> Self {
        OperatorAuth {
            token_digest: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            auditors: Vec::new(),
        }
    }

    /// Also accept these auditors' tokens (label, SHA-256 of the token) on audit endpoints.
    pub fn with_auditors(mut self, auditors: Vec<(String, [u8; 32])>) -> Self {
        self.auditors = auditors;
        self
    }

    fn accepts(&self, token: &str) -> bool {
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

/// A request that may read the audit API: the operator, or an auditor configured in
/// `[[auth.auditors]]`. The label (a role, not a person) is what `audit.read` records.
///
/// Connector access tokens and people's sessions do not carry the role (yet): a mandate
/// with the `read-audit` power does not open these endpoints in this version.
#[derive(Debug, Clone)]
pub struct Auditor {
    pub label: String,
}

impl FromRequestParts<AppState> for Auditor {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer_token(parts).ok_or_else(|| {
            Problem::new(
                types::UNAUTHENTICATED,
                "this endpoint needs an auditor's or the operator's bearer token",
            )
        })?;
        if state.operator_auth.accepts(token) {
            return Ok(Auditor {
                label: "operator".into(),
            });
        }
        match state.operator_auth.auditor(token) {
            Some(label) => Ok(Auditor {
                label: label.to_owned(),
            }),
            None => Err(Problem::new(
                types::FORBIDDEN,
                "this bearer token does not carry the audit role",
            )),
        }
    }
}
