//! Trust endpoints: the service's DID document and JSON-LD context, its status lists,
//! presentation challenges, the VC-API verifier, trust anchors, ProConnect sign-in and
//! mandates.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Operator;
use super::extract::{ApiJson, ApiQuery};
use super::problem::{Problem, types};
use crate::entry::format_time;
use crate::trust::mandates::{self, DelegationRequest, DeliberationRequest, Revoker};
use crate::trust::proconnect::ProConnectError;
use crate::trust::sirene::SireneError;
use crate::trust::status::bitstring;
use crate::trust::verifier::{PresentationChecks, VerifyError};
use crate::trust::{TrustFailure, contexts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/did.json", get(did_document))
        .route("/contexts/v1", get(context))
        .route("/schemas/{name}", get(schema))
        .route("/v1/status/{list}", get(status_list))
        .route("/v1/challenges", get(challenge))
        .route("/v1/vc-api/credentials/verify", post(verify_credential))
        .route("/v1/vc-api/presentations/verify", post(verify_presentation))
        .route("/v1/trust/anchors", get(anchors))
        .route("/v1/trust/anchors/reload", post(reload_anchors))
        .route("/v1/auth/proconnect/login", get(login))
        .route("/v1/auth/proconnect/callback", get(callback))
        .route("/v1/mandates/delegations", post(delegate))
        .route("/v1/mandates/deliberations", post(deliberation))
        .route("/v1/credentials/{id}/revocation", post(revoke))
        .route("/v1/privacy/erasures", post(erase))
}

/// A stable short name for the check a credential failed.
fn credential_check(error: &VerifyError) -> &'static str {
    match error {
        VerifyError::Malformed(_) => "malformed",
        VerifyError::Unsupported(_) => "unsupported",
        VerifyError::Signature(_) => "signature",
        VerifyError::Key(_) => "key",
        VerifyError::NotYetValid(_) => "not-yet-valid",
        VerifyError::Expired(_) => "expired",
        VerifyError::Untrusted(crate::trust::anchors::TrustError::NotTrusted(_)) => {
            "untrusted-issuer"
        }
        VerifyError::Untrusted(_) => "issuer-not-allowed",
        VerifyError::Revoked { .. } => "revoked",
        VerifyError::Suspended { .. } => "suspended",
        VerifyError::StatusUnavailable { .. } => "status-unavailable",
        VerifyError::WrongProofPurpose => "proof-purpose",
        VerifyError::WrongChallenge => "challenge",
        VerifyError::WrongDomain { .. } => "domain",
        VerifyError::HolderMismatch { .. } => "holder",
    }
}

/// The problem a client sees for a refused trust operation.
pub(crate) fn trust_problem(failure: TrustFailure) -> Problem {
    let detail = failure.to_string();
    match failure {
        TrustFailure::Identifier(_) => Problem::new(types::INVALID_IDENTIFIER, detail),
        TrustFailure::Sirene(SireneError::NotFound(_)) => {
            Problem::new(types::ORGANISATION_UNKNOWN, detail)
        }
        TrustFailure::Sirene(error) => {
            tracing::warn!(%error, "Sirene unavailable");
            Problem::new(types::SIRENE_UNAVAILABLE, detail)
        }
        TrustFailure::Closed(_) => Problem::new(types::ORGANISATION_CLOSED, detail),
        TrustFailure::Credential(error) => {
            Problem::new(types::CREDENTIAL_REJECTED, detail).with("check", credential_check(&error))
        }
        TrustFailure::Challenge(use_) => Problem::new(types::CREDENTIAL_REJECTED, detail).with(
            "check",
            match use_ {
                crate::store::trust::ChallengeUse::Replayed => "challenge-replayed",
                crate::store::trust::ChallengeUse::Expired => "challenge-expired",
                _ => "challenge",
            },
        ),
        TrustFailure::ProConnect(ProConnectError::Unavailable(_)) => {
            Problem::new(types::PROVIDER_UNAVAILABLE, detail)
        }
        TrustFailure::ProConnect(_) => Problem::new(types::SIGNIN_REJECTED, detail),
        TrustFailure::Power(_) | TrustFailure::Mandate(_) => {
            Problem::new(types::MANDATE_REJECTED, detail)
        }
        TrustFailure::Input(_) => Problem::unprocessable(detail),
        TrustFailure::NotFound(_) => Problem::not_found(detail),
        TrustFailure::Conflict(_) => Problem::new(types::CONFLICT, detail),
        TrustFailure::NotConfigured => Problem::new(types::NOT_CONFIGURED, detail),
        TrustFailure::Store(error) => Problem::log_unavailable(&error),
        TrustFailure::Journal(error) => super::governance::journal_problem(error),
        TrustFailure::Issue(error) => Problem::internal(&error),
    }
}

async fn did_document(State(state): State<AppState>) -> Response {
    let mut response = Json(state.trust.issuer().did_document().clone()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/did+json"),
    );
    response
}

async fn context() -> Response {
    super::typed_response(
        contexts::CONTEXT,
        "application/ld+json",
        Some("public, max-age=86400"),
    )
}

async fn schema(Path(name): Path<String>) -> Result<Response, Problem> {
    let text = crate::trust::schemas::schema(&name)
        .ok_or_else(|| Problem::not_found(format!("no schema {name:?}")))?;
    Ok(super::typed_response(text, "application/schema+json", None))
}

/// A signed status list: the log index it reflects, when it was signed, the credential.
type SignedList = (Option<u64>, chrono::DateTime<Utc>, Value);

/// Signed status lists, re-signed when they change or half-way through their validity.
#[derive(Default)]
pub struct StatusListCache {
    // std Mutex: never held across an await.
    lists: Mutex<HashMap<String, SignedList>>,
}

/// How long a signed status list is valid: verifiers come back at least this often.
const STATUS_LIST_VALIDITY_MINUTES: i64 = 60;

async fn status_list(
    State(state): State<AppState>,
    Path(list): Path<String>,
) -> Result<Response, Problem> {
    if !list
        .strip_prefix("revocation-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Problem::not_found(format!("no status list {list:?}")));
    }
    let issuer = state.trust.issuer();
    let url = issuer.status_list_url(&list);
    let store = state.trust.store();
    let version = store
        .status_list_version(&url)
        .await
        .map_err(|e| Problem::log_unavailable(&e))?;
    let now = crate::clock::now();
    let cached = state.status_lists.lists.lock().ok().and_then(|lists| {
        lists.get(&list).and_then(|(v, signed_at, credential)| {
            (*v == version
                && now - *signed_at < Duration::minutes(STATUS_LIST_VALIDITY_MINUTES / 2))
            .then(|| credential.clone())
        })
    });
    let credential = match cached {
        Some(credential) => credential,
        None => {
            let indexes = store
                .revoked_indexes(&url)
                .await
                .map_err(|e| Problem::log_unavailable(&e))?;
            let credential = issuer
                .status_list_credential(
                    &list,
                    &bitstring(&indexes),
                    now,
                    Duration::minutes(STATUS_LIST_VALIDITY_MINUTES),
                )
                .await
                .map_err(|e| Problem::internal(&e))?;
            if let Ok(mut lists) = state.status_lists.lists.lock() {
                lists.insert(list.clone(), (version, now, credential.clone()));
            }
            credential
        }
    };
    let mut response = Json(credential).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vc+ld+json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=60"),
    );
    Ok(response)
}

async fn challenge(State(state): State<AppState>) -> Result<Response, Problem> {
    let (challenge, expires) = state.trust.new_challenge().await.map_err(trust_problem)?;
    let mut response = Json(json!({
        "challenge": challenge,
        "domain": state.trust.public_url(),
        "expires": format_time(expires),
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyCredentialRequest {
    verifiable_credential: Value,
    #[serde(default)]
    #[allow(dead_code)]
    options: Value,
}

/// VC-API `POST /credentials/verify`: 200 with the checks passed, or 422 naming the failure.
async fn verify_credential(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VerifyCredentialRequest>,
) -> Result<Json<Value>, Problem> {
    let anchors = state.trust.anchors();
    let verified = state
        .trust
        .verifier()
        .verify_credential(
            &request.verifiable_credential,
            &anchors,
            crate::clock::now(),
        )
        .await
        .map_err(|e| trust_problem(e.into()))?;
    Ok(Json(json!({
        "checks": ["proof", "validity", "issuer", "status"],
        "warnings": [],
        "errors": [],
        "issuer": verified.issuer,
        "trustAnchor": verified.anchor_id,
        "securing": verified.securing.as_str(),
        "status": verified.status,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyPresentationRequest {
    verifiable_presentation: Value,
    #[serde(default)]
    options: PresentationOptions,
}

#[derive(Default, Deserialize)]
struct PresentationOptions {
    challenge: Option<String>,
    domain: Option<String>,
}

/// VC-API `POST /presentations/verify`: the caller names the challenge and domain it
/// expects (this endpoint does not use this service's one-time challenges).
async fn verify_presentation(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VerifyPresentationRequest>,
) -> Result<Json<Value>, Problem> {
    let anchors = state.trust.anchors();
    let verified = state
        .trust
        .verifier()
        .verify_presentation(
            &request.verifiable_presentation,
            &PresentationChecks {
                challenge: request.options.challenge.as_deref(),
                domain: request.options.domain.as_deref(),
            },
            &anchors,
            crate::clock::now(),
        )
        .await
        .map_err(|e| trust_problem(e.into()))?;
    Ok(Json(json!({
        "checks": ["proof", "challenge", "domain", "credentials"],
        "warnings": [],
        "errors": [],
        "holder": verified.holder,
        "credentials": verified.credentials.iter().map(|c| c.seen()).collect::<Vec<_>>(),
    })))
}

async fn anchors(State(state): State<AppState>) -> Json<Value> {
    let anchors = state.trust.anchors();
    Json(json!({
        "version": anchors.version(),
        "anchors": anchors.anchors(),
    }))
}

async fn reload_anchors(
    State(state): State<AppState>,
    operator: Operator,
) -> Result<Json<Value>, Problem> {
    let receipts = state
        .trust
        .reload_anchors(&operator.label)
        .await
        .map_err(trust_problem)?;
    Ok(Json(json!({
        "version": state.trust.anchors_version(),
        "log": receipts,
    })))
}

#[derive(Deserialize)]
struct LoginQuery {
    holder: String,
    login_hint: Option<String>,
}

/// Start a ProConnect sign-in: redirects the browser to the provider.
async fn login(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Result<Redirect, Problem> {
    let url = mandates::start_sign_in(&state.trust, &query.holder, query.login_hint.as_deref())
        .await
        .map_err(trust_problem)?;
    Ok(Redirect::to(&url))
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// ProConnect's callback: verify the sign-in server-side and issue credentials.
async fn callback(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Response, Problem> {
    if let Some(error) = query.error {
        // Still use the state up, so it cannot be replayed.
        if let Some(login_state) = &query.state {
            let _ = state.trust.store().take_login(login_state).await;
        }
        return Err(trust_problem(TrustFailure::ProConnect(
            ProConnectError::Refused(match query.error_description {
                Some(description) => format!("{error}: {description}"),
                None => error,
            }),
        )));
    }
    let (Some(code), Some(login_state)) = (query.code, query.state) else {
        return Err(Problem::invalid_parameter(
            "code",
            "the callback needs `code` and `state`",
        ));
    };
    let (login, identity) =
        mandates::verify_sign_in(&state.trust, &login_state, &code, query.iss.as_deref())
            .await
            .map_err(trust_problem)?;
    // A sign-in started from the pages opens a page session instead of issuing mandates.
    if login.purpose == mandates::PAGE_SIGN_IN {
        return crate::pages::sign_in::after_proconnect(&state, &identity).await;
    }
    let holder = login.holder.ok_or_else(|| {
        trust_problem(TrustFailure::Input(
            "sign-in started without a holder".into(),
        ))
    })?;
    let outcome = mandates::issue_after_sign_in(&state.trust, &identity, &holder)
        .await
        .map_err(trust_problem)?;
    Ok(Json(outcome).into_response())
}

async fn delegate(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DelegationRequest>,
) -> Result<(StatusCode, Json<mandates::GrantOutcome>), Problem> {
    let outcome = mandates::grant_delegation(&state.trust, request)
        .await
        .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

async fn deliberation(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(request): ApiJson<DeliberationRequest>,
) -> Result<(StatusCode, Json<mandates::GrantOutcome>), Problem> {
    let outcome = mandates::record_deliberation(&state.trust, request, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    reason: String,
    /// A presentation of the mandate (or of one it derives from); else the operator's token.
    presentation: Option<Value>,
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    operator: Option<Operator>,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> Result<Json<Value>, Problem> {
    let by = match (operator, request.presentation) {
        (_, Some(presentation)) => Revoker::Holder(presentation),
        (Some(operator), None) => Revoker::Operator(operator.label),
        (None, None) => {
            return Err(Problem::new(
                types::UNAUTHENTICATED,
                "revoking needs the operator's token or a presentation of the mandate",
            ));
        }
    };
    let receipts = mandates::revoke(&state.trust, &id, &request.reason, by)
        .await
        .map_err(trust_problem)?;
    Ok(Json(json!({"revoked": receipts.len(), "log": receipts})))
}

/// `POST /v1/privacy/erasures {email, reason}`: erase a person's private records.
async fn erase(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(request): ApiJson<crate::privacy::ErasureRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let (erased, log) = crate::privacy::erase(&state.trust, &request, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"erased": erased, "log": log})),
    ))
}
