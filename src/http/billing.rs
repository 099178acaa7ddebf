//! `/v1/billing`: publishing tariffs and financing rules, statements computed from the log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Operator;
use super::extract::{ApiJson, ApiQuery};
use super::problem::Problem;
use super::trust::trust_problem;
use crate::billing::publish;
use crate::billing::statement::Month;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/billing/tariffs", post(tariff))
        .route("/v1/billing/financing-rules", post(financing))
        .route("/v1/billing/statements", get(statements))
}

async fn tariff(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(file): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let log = publish::publish_tariff(&state.trust, &file, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(json!({"log": log}))))
}

async fn financing(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(file): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let log = publish::publish_financing(&state.trust, &file, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(json!({"log": log}))))
}

#[derive(Deserialize)]
struct StatementsQuery {
    /// `YYYY-MM`.
    period: String,
    participant: Option<String>,
}

/// Usage and cost-allocation statements for a month, from logged entries only.
async fn statements(
    State(state): State<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<StatementsQuery>,
) -> Result<Json<Value>, Problem> {
    let period = Month::parse(&query.period)
        .ok_or_else(|| Problem::invalid_parameter("period", "period must be YYYY-MM"))?;
    let statements = publish::statements(&state.store, period, query.participant.as_deref())
        .await
        .map_err(trust_problem)?;
    Ok(Json(
        json!({"period": period.to_string(), "statements": statements}),
    ))
}
