//! Logs and traces.
//!
//! Logs go to stderr as text or JSON lines, filtered by `RUST_LOG`. Every HTTP request runs
//! in a span carrying its `x-request-id` (see `http`). When the standard OpenTelemetry
//! variable `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set,
//! those spans are also exported as traces over OTLP/HTTP (protobuf) to that collector,
//! batched on a thread of their own; the other `OTEL_*` variables (`OTEL_SERVICE_NAME`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, …) apply as usual. Without
//! it nothing is exported and nothing is paid for.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Logs (unless `RUST_LOG` says otherwise) and traces: the service at `info`, its database
/// driver only when something goes wrong.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// The variables that switch trace export on.
const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Installed logging and tracing; [`Telemetry::shutdown`] flushes the traces still queued.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Install the global subscriber: logs on stderr (`json` or text) and, if configured,
    /// trace export. A misconfigured exporter is reported and logging goes on without it.
    pub fn init(json: bool) -> Telemetry {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let logs = if json {
            logs.json().with_filter(filter).boxed()
        } else {
            logs.with_filter(filter).boxed()
        };
        let (traces, exporter_error) = match otlp_configured() {
            false => (None, None),
            true => match trace_provider() {
                Ok(provider) => (Some(provider), None),
                Err(e) => (None, Some(e)),
            },
        };
        // Traces keep their own level: quieter logs (RUST_LOG=warn) must not empty them.
        let export = traces.as_ref().map(|provider| {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("clearinghouse"))
                .with_filter(EnvFilter::new(DEFAULT_FILTER))
        });
        tracing_subscriber::registry()
            .with(logs)
            .with(export)
            .init();
        if let Some(error) = exporter_error {
            tracing::error!(%error, "OpenTelemetry trace export is configured but cannot start");
        }
        Telemetry { traces }
    }

    /// Send what is still queued (bounded by the exporter's timeout).
    pub fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(error) = provider.shutdown()
        {
            eprintln!("warning: flushing traces failed: {error}");
        }
    }
}

fn otlp_configured() -> bool {
    ENDPOINT_VARIABLES
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

fn trace_provider() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    // The endpoint, headers and timeout come from the standard OTEL_* variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "clearinghouse".into());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}
