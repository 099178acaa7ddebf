//! OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, a real server process exports the
//! span of each HTTP request, with its request id, over OTLP/HTTP to a collector (here a
//! small HTTP server in the test that keeps what it receives), even with quiet logs.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use common::{Db, ServerProcess, TestDb};

/// What the collector received: (content type, body) per export request.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

async fn collector() -> (String, Received) {
    let received: Received = Arc::default();
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                kept.lock().unwrap().push((kind, body));
                // An empty ExportTraceServiceResponse: full success.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn serve(db: &TestDb, extra: &[(&'static str, String)]) -> ServerProcess {
    let data_dir = db.dir.path().to_str().unwrap().to_owned();
    let mut env = common::server_env(db);
    env.extend_from_slice(extra);
    for args in [vec!["keygen"], vec!["keygen", "--issuer"]] {
        let mut args = args.clone();
        args.extend(["--data-dir", &data_dir]);
        let (code, _, stderr) = common::run_cli(&args, &env);
        assert_eq!(code, 0, "{stderr}");
    }
    ServerProcess::spawn(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir],
        &env,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_reach_the_collector_with_their_request_id() {
    let (endpoint, received) = collector().await;
    let db = TestDb::new_for_process(Db::Sqlite).await;
    let server = serve(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_SERVICE_NAME", "clearinghouse-under-test".into()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
            // Quiet logs must not silence the traces.
            ("RUST_LOG", "warn".into()),
        ],
    )
    .await;
    let request_id = format!("otel-probe-{}", std::process::id());
    let response = reqwest::Client::new()
        .get(format!("{}/log/checkpoint", server.base))
        .header("x-request-id", &request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let export = loop {
        let found = received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, body)| contains(body, &request_id))
            .cloned();
        if let Some(export) = found {
            break export;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no span with request id {request_id} reached the collector in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (kind, body) = export;
    assert_eq!(kind, "application/x-protobuf");
    assert!(contains(&body, "clearinghouse-under-test"), "service name");
    assert!(contains(&body, "/log/checkpoint"), "the request's path");
    let status = server.terminate().await;
    assert!(status.success(), "{status}");
}
