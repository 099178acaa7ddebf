//! `/v1/participants`: onboarding, reading, connector keys, suspension.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Operator;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::problem::Problem;
use super::trust::trust_problem;
use crate::journal::LogReceipt;
use crate::participants::{self, ParticipantView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/participants", get(list).post(register))
        .route("/v1/participants/{siren}", get(get_one))
        .route("/v1/participants/{siren}/keys", post(keys))
        .route("/v1/participants/{siren}/suspension", post(suspend))
        .route("/v1/participants/{siren}/reinstatement", post(reinstate))
        .route("/v1/participants/{siren}/billing-hold", post(place_hold))
        .route(
            "/v1/participants/{siren}/billing-clearance",
            post(clear_hold),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    /// Presentation of the organisation and mandate credentials, bound to a challenge.
    presentation: Value,
    /// Public JWKs of the participant's connectors.
    connector_keys: Vec<Value>,
}

#[derive(Serialize)]
struct Registered {
    participant: ParticipantView,
    log: LogReceipt,
}

async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Registered>), Problem> {
    let (participant, log) =
        participants::register(&state.trust, &request.presentation, &request.connector_keys)
            .await
            .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(Registered { participant, log })))
}

#[derive(Deserialize)]
struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, Problem> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let page = participants::list(&state.trust, query.after.as_deref(), limit)
        .await
        .map_err(trust_problem)?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|p| p.siren.clone()))
        .flatten();
    Ok(Json(json!({"items": page, "next": next})))
}

async fn get_one(
    State(state): State<AppState>,
    ApiPath(siren): ApiPath<String>,
) -> Result<Json<ParticipantView>, Problem> {
    Ok(Json(
        participants::get(&state.trust, &siren)
            .await
            .map_err(trust_problem)?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysRequest {
    presentation: Value,
    #[serde(default)]
    add: Vec<Value>,
    #[serde(default)]
    revoke: Vec<String>,
}

async fn keys(
    State(state): State<AppState>,
    ApiPath(siren): ApiPath<String>,
    ApiJson(request): ApiJson<KeysRequest>,
) -> Result<Json<Value>, Problem> {
    let (participant, log) = participants::change_keys(
        &state.trust,
        &siren,
        &request.presentation,
        &request.add,
        &request.revoke,
    )
    .await
    .map_err(trust_problem)?;
    Ok(Json(json!({"participant": participant, "log": log})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonRequest {
    reason: String,
}

async fn suspend(
    State(state): State<AppState>,
    operator: Operator,
    ApiPath(siren): ApiPath<String>,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<Registered>, Problem> {
    let (participant, log) =
        participants::set_suspended(&state.trust, &siren, true, &request.reason, &operator.label)
            .await
            .map_err(trust_problem)?;
    Ok(Json(Registered { participant, log }))
}

async fn reinstate(
    State(state): State<AppState>,
    operator: Operator,
    ApiPath(siren): ApiPath<String>,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<Registered>, Problem> {
    let (participant, log) = participants::set_suspended(
        &state.trust,
        &siren,
        false,
        &request.reason,
        &operator.label,
    )
    .await
    .map_err(trust_problem)?;
    Ok(Json(Registered { participant, log }))
}

async fn place_hold(
    State(state): State<AppState>,
    operator: Operator,
    ApiPath(siren): ApiPath<String>,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let log = crate::billing::standing::set_hold(
        &state.trust,
        &siren,
        true,
        &request.reason,
        &operator.label,
    )
    .await
    .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(json!({"log": log}))))
}

async fn clear_hold(
    State(state): State<AppState>,
    operator: Operator,
    ApiPath(siren): ApiPath<String>,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<Value>, Problem> {
    let log = crate::billing::standing::set_hold(
        &state.trust,
        &siren,
        false,
        &request.reason,
        &operator.label,
    )
    .await
    .map_err(trust_problem)?;
    Ok(Json(json!({"log": log})))
}
