//! Prometheus metrics, served at `GET /metrics` (text exposition format).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route` (the matched pattern, not the path), `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route` |
//! | `log_append_batch_entries` | histogram | — |
//! | `log_commit_duration_seconds` | histogram | — |
//! | `log_size` | gauge | — |
//! | `sequencer_leader` | gauge | — (1 while this process runs the sequencer) |
//! | `decisions_total` | counter | `outcome` (`permit`, `deny`) |
//! | `status_list_fetch_failures_total` | counter | — |
//!
//! One recorder per process (the `metrics` facade is global); routes are the router's
//! patterns so that label values stay few whatever the traffic.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::ledger::sequencer::{BatchObserver, BatchStats};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process's recorder (once) and return its handle; `None` if another recorder
/// was installed first (metrics are then that recorder's business).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0, 10.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("log_append_batch_entries".into()),
                        &[
                            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
                        ],
                    )
                })
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// The metrics in Prometheus text format.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Middleware: count and time every request by its route pattern.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The sequencer's observer: batch sizes, commit latency and the log's size.
pub fn batch_observer(initial_size: u64) -> BatchObserver {
    handle();
    metrics::gauge!("log_size").set(initial_size as f64);
    // Every process exposes the series, followers with 0.
    metrics::gauge!("sequencer_leader").set(0.0);
    std::sync::Arc::new(move |stats: BatchStats| {
        metrics::histogram!("log_append_batch_entries").record(stats.entries as f64);
        metrics::histogram!("log_commit_duration_seconds")
            .record(stats.commit_latency.as_secs_f64());
        metrics::gauge!("log_size").set(stats.size as f64);
    })
}

/// The log's size as this process last saw it (a follower reads it from storage).
pub fn log_size(size: u64) {
    metrics::gauge!("log_size").set(size as f64);
}

/// This process started (`true`) or stopped running the sequencer.
pub fn sequencer_leader(leading: bool) {
    handle();
    metrics::gauge!("sequencer_leader").set(if leading { 1.0 } else { 0.0 });
}

/// A decision was made.
pub fn decision(outcome: &str) {
    metrics::counter!("decisions_total", "outcome" => outcome.to_owned()).increment(1);
}

/// A status list could not be fetched or verified.
pub fn status_list_fetch_failed() {
    metrics::counter!("status_list_fetch_failures_total").increment(1);
}
