//! Who is calling: extractors that authenticate a request or reject it with a problem.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::problem::{Problem, types};

/// Operator credentials the service accepts.
#[derive(Debug, Default)]
pub struct OperatorAuth {
    /// SHA-256 of the operator's bearer token; `None` disables operator endpoints.
    token_digest: Option<[u8; 32]>,
}

impl OperatorAuth {
    pub fn new(token: Option<&str>) -> Self {
        OperatorAuth {
            token_digest: token.map(|t| Sha256::digest(t.as_bytes()).into()),
        }
    }

    fn accepts(&self, token: &str) -> bool {
        let Some(expected) = &self.token_digest else {
            return false;
        };
        // Compare digests in constant time: no timing hint about the token's prefix.
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        presented.ct_eq(expected).into()
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
