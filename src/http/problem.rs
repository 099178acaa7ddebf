//! RFC 9457 problem details: every error the API returns.
//!
//! Each problem has a stable `type`, `/problems/<slug>`, resolved against the service's
//! base URL and documented at that address, a short fixed `title`, and a `detail` that
//! names what was wrong with this request. Internal and database errors are logged with
//! their cause and answered with a generic detail: their text never reaches the client.

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// A problem type: slug, status, title and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    pub slug: &'static str,
    pub status: u16,
    pub title: &'static str,
    pub description: &'static str,
}

macro_rules! problem_types {
    ($($name:ident = ($slug:literal, $status:literal, $title:literal, $description:literal);)*) => {
        $(pub const $name: ProblemType = ProblemType {
            slug: $slug, status: $status, title: $title, description: $description,
        };)*
        /// Every problem type the API can return.
        pub const ALL: &[ProblemType] = &[$($name),*];
    };
}

/// The catalogue of problem types.
pub mod types {
    use super::ProblemType;

    problem_types! {
        INVALID_PARAMETER = ("invalid-parameter", 400, "Invalid parameter",
            "A query or path parameter is missing, malformed or out of range; `detail` names it.");
        INVALID_BODY = ("invalid-body", 400, "Invalid request body",
            "The request body is not valid JSON of the expected shape; `detail` names the field.");
        UNPROCESSABLE = ("unprocessable", 422, "Request cannot be processed",
            "The request is well-formed but breaks a rule of the service; `detail` says which.");
        UNAUTHENTICATED = ("unauthenticated", 401, "Authentication required",
            "The request needs credentials (a bearer token) and had none or invalid ones.");
        FORBIDDEN = ("forbidden", 403, "Forbidden",
            "The caller is authenticated but its role does not allow this request.");
        NOT_FOUND = ("not-found", 404, "Not found",
            "Nothing exists at this address, or the log does not (yet) hold it.");
        METHOD_NOT_ALLOWED = ("method-not-allowed", 405, "Method not allowed",
            "The resource exists but does not accept this HTTP method.");
        PAYLOAD_TOO_LARGE = ("payload-too-large", 413, "Payload too large",
            "The request body is larger than the service accepts.");
        RATE_LIMITED = ("rate-limited", 429, "Too many requests",
            "The participant sent more requests than its rate allows; retry after `Retry-After` seconds.");
        CONFLICT = ("conflict", 409, "Conflict",
            "The request conflicts with the current state (already registered, already revoked…).");
        INVALID_IDENTIFIER = ("invalid-identifier", 422, "Invalid SIREN or SIRET",
            "A SIREN or SIRET has the wrong length or fails its check digit.");
        ORGANISATION_UNKNOWN = ("organisation-unknown", 422, "Organisation unknown to Sirene",
            "The INSEE Sirene register has no establishment with this SIRET.");
        ORGANISATION_CLOSED = ("organisation-closed", 422, "Organisation closed",
            "Sirene says the legal unit or the establishment has ceased activity.");
        SIRENE_UNAVAILABLE = ("sirene-unavailable", 503, "Sirene unavailable",
            "The INSEE Sirene API could not be asked; nothing was decided. Retry later.");
        CREDENTIAL_REJECTED = ("credential-rejected", 422, "Credential rejected",
            "A credential or presentation failed a check; `check` names which and `detail` why.");
        SIGNIN_REJECTED = ("signin-rejected", 422, "Sign-in rejected",
            "The OpenID Connect sign-in could not be accepted; `detail` says why.");
        PROVIDER_UNAVAILABLE = ("provider-unavailable", 503, "Identity provider unavailable",
            "The OpenID provider could not be reached; nothing was decided. Retry later.");
        MANDATE_REJECTED = ("mandate-rejected", 403, "Mandate does not allow this",
            "The presented mandate is for another organisation, lacks the power, or cannot be delegated further.");
        SIGNATURE_REJECTED = ("signature-rejected", 422, "Signature rejected",
            "A JWS (a representative's signature, a receipt, a token) is malformed, made with the wrong key or does not verify; `detail` says which.");
        INVALID_CLIENT = ("invalid-client", 401, "Client authentication failed",
            "The client assertion (RFC 7523) was refused; `error` is the OAuth 2.0 error code and `detail` says why.");
        RECEIPT_REJECTED = ("receipt-rejected", 422, "Receipt rejected",
            "The receipt is authentic but breaks a rule (no valid permit, terminated contract, over its limits); the attempt was logged at `log.index`.");
        NOT_CONFIGURED = ("not-configured", 501, "Not configured",
            "This feature needs configuration this service does not have.");
        LOG_UNAVAILABLE = ("log-unavailable", 503, "Log unavailable",
            "The log cannot accept or prove entries right now; nothing was recorded. Retry later.");
        INTERNAL = ("internal", 500, "Internal error",
            "Something failed inside the service; it was logged with the request id.");
    }
}

/// One problem response. Boxed: handlers return `Result<_, Problem>` everywhere, and the
/// error path should not make every `Ok` as large as a problem.
#[derive(Debug, Clone)]
pub struct Problem(Box<ProblemParts>);

#[derive(Debug, Clone)]
struct ProblemParts {
    kind: ProblemType,
    detail: String,
    extensions: Map<String, Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(flatten)]
    extensions: &'a Map<String, Value>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Problem(Box::new(ProblemParts {
            kind,
            detail: detail.into(),
            extensions: Map::new(),
        }))
    }

    /// Add a machine-readable member (e.g. the offending parameter's name).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn invalid_parameter(name: &str, detail: impl Into<String>) -> Self {
        Problem::new(types::INVALID_PARAMETER, detail).with("parameter", name)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(types::NOT_FOUND, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Problem::new(types::UNPROCESSABLE, detail)
    }

    /// A failure whose cause must be logged but not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            types::INTERNAL,
            "the service failed to handle this request; the failure was logged",
        )
    }

    /// The log cannot write or prove right now; the cause is logged, not shown.
    pub fn log_unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "log unavailable");
        Problem::new(
            types::LOG_UNAVAILABLE,
            "the log cannot record or prove entries right now; nothing was recorded",
        )
    }

    pub fn kind(&self) -> ProblemType {
        self.0.kind
    }

    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.kind.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let parts = self.0;
        let body = Body {
            kind: format!("/problems/{}", parts.kind.slug),
            title: parts.kind.title,
            status: parts.kind.status,
            detail: &parts.detail,
            extensions: &parts.extensions,
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if parts.kind == types::UNAUTHENTICATED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if parts.kind == types::RATE_LIMITED
            && let Some(seconds) = parts.extensions.get("retry_after").and_then(Value::as_u64)
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if parts.kind == types::LOG_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `GET /problems/{slug}`: what a problem type means.
pub async fn describe(Path(slug): Path<String>) -> Result<Json<Value>, Problem> {
    let kind = types::ALL
        .iter()
        .find(|p| p.slug == slug)
        .ok_or_else(|| Problem::not_found(format!("no problem type {slug:?}")))?;
    Ok(Json(serde_json::json!({
        "type": format!("/problems/{}", kind.slug),
        "title": kind.title,
        "status": kind.status,
        "description": kind.description,
    })))
}

/// Router fallback: an RFC 9457 404 for any unknown path.
pub async fn fallback_not_found(uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("no resource at {}", uri.path()))
}

/// 405 for a known path with the wrong method.
pub async fn method_not_allowed() -> Problem {
    Problem::new(
        types::METHOD_NOT_ALLOWED,
        "this resource does not accept that method",
    )
}
