//! `/v1/oauth/token`, `/v1/contracts`, `/v1/decisions`, `/v1/receipts`: the exchange.

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Operator, bearer_token};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::governance::journal_problem;
use super::problem::{Problem, types};
use super::trust::trust_problem;
use crate::exchange::ExchangeFailure;
use crate::exchange::contracts::{
    self, ContractView, PaymentRequest, SignedAgreement, SignedTermination,
};
use crate::exchange::decisions::{self, DecisionAnswer, DecisionRequest};
use crate::exchange::receipts::{self, ReceiptAnswer};
use crate::exchange::tokens::{self, AccessToken, Connector, JWT_BEARER};
use crate::journal::LogReceipt;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/oauth/token", post(token))
        .route("/v1/contracts", get(list_contracts).post(agree))
        .route("/v1/contracts/{id}", get(get_contract))
        .route("/v1/contracts/{id}/amendments", post(amend))
        .route("/v1/contracts/{id}/termination", post(terminate))
        .route("/v1/contracts/{id}/payments", post(payment))
        .route("/v1/decisions", post(decide))
        .route("/v1/receipts", post(receipt))
}

/// An exchange failure as a problem response.
pub(crate) fn exchange_problem(failure: ExchangeFailure) -> Problem {
    let detail = failure.to_string();
    match failure {
        ExchangeFailure::Input(_) => Problem::unprocessable(detail),
        ExchangeFailure::Unauthenticated(_) => Problem::new(types::UNAUTHENTICATED, detail),
        ExchangeFailure::Client { error, .. } => {
            Problem::new(types::INVALID_CLIENT, detail.clone())
                .with("error", error)
                .with("error_description", detail)
        }
        ExchangeFailure::Forbidden(_) => Problem::new(types::FORBIDDEN, detail),
        ExchangeFailure::Signature(_) => Problem::new(types::SIGNATURE_REJECTED, detail),
        ExchangeFailure::Mandate(_) => Problem::new(types::MANDATE_REJECTED, detail),
        ExchangeFailure::NotFound(_) => Problem::not_found(detail),
        ExchangeFailure::Conflict(_) => Problem::new(types::CONFLICT, detail),
        ExchangeFailure::RateLimited { retry_after, .. } => {
            Problem::new(types::RATE_LIMITED, detail).with("retry_after", retry_after)
        }
        ExchangeFailure::ReceiptRejected { log, .. } => {
            Problem::new(types::RECEIPT_REJECTED, detail)
                .with("log", serde_json::to_value(log).unwrap_or(Value::Null))
        }
        ExchangeFailure::Trust(failure) => trust_problem(failure),
        ExchangeFailure::Store(error) => Problem::log_unavailable(&error),
        ExchangeFailure::Journal(error) => journal_problem(error),
    }
}

/// A request from a connector, authenticated by an access token from `/v1/oauth/token`.
pub struct AuthenticatedConnector(pub Connector);

impl FromRequestParts<AppState> for AuthenticatedConnector {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer_token(parts).ok_or_else(|| {
            Problem::new(
                types::UNAUTHENTICATED,
                "this endpoint needs a connector access token (POST /v1/oauth/token)",
            )
        })?;
        tokens::authenticate(&state.exchange, token)
            .await
            .map(AuthenticatedConnector)
            .map_err(exchange_problem)
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    #[allow(dead_code)]
    client_id: Option<String>,
    #[allow(dead_code)]
    scope: Option<String>,
}

/// OAuth 2.0 token endpoint: client credentials with `private_key_jwt` (RFC 7523).
async fn token(
    State(state): State<AppState>,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Json<AccessToken>, Problem> {
    let invalid_request = |detail: &str| {
        Problem::new(types::INVALID_BODY, detail)
            .with("error", "invalid_request")
            .with("error_description", detail)
    };
    let Form(request) = form.map_err(|rejection| invalid_request(&rejection.body_text()))?;
    if request.grant_type != "client_credentials" {
        return Err(
            Problem::new(types::INVALID_BODY, "grant_type must be client_credentials")
                .with("error", "unsupported_grant_type"),
        );
    }
    if request.client_assertion_type.as_deref() != Some(JWT_BEARER) {
        return Err(invalid_request(&format!(
            "client_assertion_type must be {JWT_BEARER}"
        )));
    }
    let assertion = request
        .client_assertion
        .ok_or_else(|| invalid_request("client_assertion is missing"))?;
    tokens::issue_access_token(&state.exchange, &assertion)
        .await
        .map(Json)
        .map_err(exchange_problem)
}

#[derive(Serialize)]
struct ContractLogged {
    contract: ContractView,
    log: LogReceipt,
}

async fn agree(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SignedAgreement>,
) -> Result<(StatusCode, Json<ContractLogged>), Problem> {
    let (contract, log) = contracts::agree(&state.exchange, &request)
        .await
        .map_err(exchange_problem)?;
    Ok((StatusCode::CREATED, Json(ContractLogged { contract, log })))
}

async fn amend(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SignedAgreement>,
) -> Result<Json<ContractLogged>, Problem> {
    let (contract, log) = contracts::amend(&state.exchange, &id, &request)
        .await
        .map_err(exchange_problem)?;
    Ok(Json(ContractLogged { contract, log }))
}

async fn terminate(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SignedTermination>,
) -> Result<Json<ContractLogged>, Problem> {
    let (contract, log) = contracts::terminate(&state.exchange, &id, &request)
        .await
        .map_err(exchange_problem)?;
    Ok(Json(ContractLogged { contract, log }))
}

async fn get_contract(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ContractView>, Problem> {
    contracts::get(&state.exchange, &id)
        .await
        .map(Json)
        .map_err(exchange_problem)
}

#[derive(Deserialize)]
struct ContractsQuery {
    party: String,
    after: Option<String>,
    limit: Option<u32>,
}

/// Contracts a participant (`party=<SIREN>`) is party to, by id, cursor-paginated.
async fn list_contracts(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContractsQuery>,
) -> Result<Json<Value>, Problem> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let siren = crate::trust::siret::Siren::parse(&query.party)
        .map_err(|e| Problem::invalid_parameter("party", e.to_string()))?;
    let records = state
        .store
        .contracts_of(
            &crate::trust::powers::organisation_target(siren.as_str()),
            query.after.as_deref(),
            limit,
        )
        .await
        .map_err(|e| Problem::log_unavailable(&e))?;
    let next = (records.len() == limit as usize)
        .then(|| records.last().map(|c| c.id.clone()))
        .flatten();
    let items: Vec<ContractView> = records
        .into_iter()
        .map(|c| contracts::view(c, Vec::new()))
        .collect();
    Ok(Json(json!({"items": items, "next": next})))
}

async fn payment(
    State(state): State<AppState>,
    operator: Operator,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<PaymentRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let log = contracts::record_payment(&state.exchange, &id, &request, &operator.label)
        .await
        .map_err(exchange_problem)?;
    Ok((StatusCode::CREATED, Json(json!({"log": log}))))
}

async fn decide(
    State(state): State<AppState>,
    AuthenticatedConnector(caller): AuthenticatedConnector,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> Result<Json<DecisionAnswer>, Problem> {
    decisions::decide(&state.exchange, &caller, &request)
        .await
        .map(Json)
        .map_err(exchange_problem)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptRequest {
    /// The signed receipt: a compact JWS by a registered connector key.
    receipt: String,
}

async fn receipt(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ReceiptRequest>,
) -> Result<(StatusCode, Json<ReceiptAnswer>), Problem> {
    receipts::record(&state.exchange, &request.receipt)
        .await
        .map(|answer| (StatusCode::CREATED, Json(answer)))
        .map_err(exchange_problem)
}
