//! `/healthz` (the process answers) and `/readyz` (it can do its job).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers and this process can append to the log: it runs the
/// sequencer (`role: leader`) or follows a process that does (`role: follower`).
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = state.store.ping().await.is_ok();
    let sequencer = state.journal.is_writable();
    let ready = database && sequencer;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "not-ready" },
            "database": database,
            "sequencer": sequencer,
            "role": state.journal.role(),
            "log_key": state.journal.verifier().vkey(),
            "log_size": state.journal.reader().head().head.size,
        })),
    )
}

/// `GET /metrics`: Prometheus text exposition (see `crate::metrics` for the list).
async fn metrics() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
}
