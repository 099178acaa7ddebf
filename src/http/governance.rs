//! `/v1/governance/records`: the operator anchors governance documents (committee
//! deliberations, minutes, decisions) in the log by their hash.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::auth::Operator;
use super::extract::ApiJson;
use super::problem::Problem;
use crate::entry::{GovernanceKind, GovernanceRecorded};
use crate::journal::{JournalError, LogReceipt};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/governance/records", post(record))
}

/// Request to anchor a governance document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    pub kind: GovernanceKind,
    pub title: String,
    /// SHA-256 of the document, 64 lowercase hex digits.
    pub document_sha256: String,
    pub reference: Option<String>,
}

/// A logged entry and the proof that it is in the log.
#[derive(Debug, Serialize)]
pub struct Logged {
    pub entry: Value,
    pub log: LogReceipt,
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), Problem> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(Problem::unprocessable(format!(
            "{field} must be between 1 and {max} characters"
        ))
        .with("field", field));
    }
    if value.chars().any(char::is_control) {
        return Err(
            Problem::unprocessable(format!("{field} must not contain control characters"))
                .with("field", field),
        );
    }
    Ok(())
}

/// Turn a journal failure into the problem a client should see.
pub(crate) fn journal_problem(error: JournalError) -> Problem {
    match error {
        JournalError::Encode(e) => Problem::internal(&e),
        other => Problem::log_unavailable(&other),
    }
}

async fn record(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(request): ApiJson<RecordRequest>,
) -> Result<(StatusCode, Json<Logged>), Problem> {
    check_text("title", &request.title, 300)?;
    if let Some(reference) = &request.reference {
        check_text("reference", reference, 500)?;
    }
    let digest = &request.document_sha256;
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(Problem::unprocessable(
            "document_sha256 must be 64 lowercase hexadecimal digits",
        )
        .with("field", "document_sha256"));
    }
    let body = GovernanceRecorded {
        kind: request.kind,
        title: request.title,
        document_sha256: request.document_sha256,
        reference: request.reference,
        recorded_by: operator.label,
        anchors_version: state.trust.anchors_version(),
    };
    let (bytes, receipt) = state
        .journal
        .append(crate::clock::now(), &body)
        .await
        .map_err(journal_problem)?;
    let entry = serde_json::from_slice(&bytes).map_err(|e| Problem::internal(&e))?;
    Ok((
        StatusCode::CREATED,
        Json(Logged {
            entry,
            log: receipt,
        }),
    ))
}
