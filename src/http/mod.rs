//! The HTTP interface: one router, one shared state, RFC 9457 errors.
//!
//! | module         | owns                                                     |
//! |----------------|----------------------------------------------------------|
//! | [`problem`]    | problem details and the catalogue of problem types       |
//! | [`extract`]    | body, query and path extractors that fail as problems    |
//! | [`auth`]       | who is calling                                           |
//! | [`log`]        | `/log/…`: checkpoint, key, tiles, entries, proofs         |
//! | [`governance`] | `/v1/governance/records`                                 |
//! | [`health`]     | `/healthz`, `/readyz`                                    |
//! | [`trust`]      | DID document, context, status lists, VC-API, sign-in, mandates |
//! | [`participants`] | `/v1/participants`: onboarding, keys, suspension       |
//! | [`billing`]    | `/v1/billing`: tariffs, financing rules, statements      |
//! | [`exchange`]   | `/v1/oauth/token`, contracts, decisions, receipts        |
//! | [`audit`]      | `/v1/audit/…`: filtered entries, offline bundles         |
//!
//! The pages (`/ui`) live in [`crate::pages`]; they set their own Content-Security-Policy,
//! which the default one below does not override.
//!
//! Middleware, outermost first: request id, tracing, panic catcher, timeout, body limit.

pub mod audit;
pub mod auth;
pub mod billing;
pub mod exchange;
pub mod extract;
pub mod governance;
pub mod health;
pub mod log;
pub mod openapi;
pub mod participants;
pub mod problem;
pub mod trust;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::exchange::ExchangeService;
use crate::journal::Journal;
use crate::store::Store;
use crate::trust::service::TrustService;
use auth::OperatorAuth;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Longest a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub journal: Journal,
    pub operator_auth: Arc<OperatorAuth>,
    pub trust: TrustService,
    pub exchange: ExchangeService,
    pub status_lists: Arc<trust::StatusListCache>,
    /// Witnesses' cosignatures, appended to the checkpoint served.
    pub cosignatures: Arc<crate::witness::client::Cosignatures>,
    /// Seller and buyers' details for invoices.
    pub invoicing: Arc<crate::billing::invoicing::InvoicingSettings>,
    /// The pages' settings (the demo's sign-in).
    pub pages: Arc<crate::pages::PagesConfig>,
}

/// The JSON API's routes, without middleware: the application's core, and what the pages
/// call in process ([`crate::pages::api`]).
/// `body` with its media type and, when given, a `Cache-Control` policy: for documents
/// served as they are (tiles, entries, contexts, schemas, the pages' style sheet).
pub(crate) fn typed_response(
    body: impl axum::response::IntoResponse,
    content_type: &'static str,
    cache: Option<&'static str>,
) -> axum::response::Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(cache) = cache {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .merge(log::router())
        .merge(governance::router())
        .merge(health::router())
        .merge(trust::router())
        .merge(participants::router())
        .merge(exchange::router())
        .merge(billing::router())
        .merge(audit::router())
        .merge(openapi::router())
        .route("/problems/{slug}", get(problem::describe))
}

/// The whole application: the API, the pages (`/ui`, with their own CSP) and middleware.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(problem::Problem::internal(&"handler panicked"))
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Security headers on every answer: nothing here is meant to be framed, sniffed
        // into another type, or to run scripts (the service serves data, not pages).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ));
    api_routes()
        .merge(crate::pages::router())
        .fallback(problem::fallback_not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(middleware)
}
