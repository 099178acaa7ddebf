//! The log API through real HTTP on both databases: writes acknowledged with proofs that
//! verify, tiles and entries served as published, proofs between checkpoints, and every
//! bad request answered with an RFC 9457 problem that changes nothing.
#![allow(clippy::unwrap_used)]

mod common;

use clearinghouse::ledger::hash::leaf_hash;
use clearinghouse::ledger::note::{NoteVerifier, open_checkpoint};
use clearinghouse::ledger::proof::{verify_consistency, verify_inclusion};
use clearinghouse::verify::log::{VerifyOptions, verify_log};
use clearinghouse::verify::source::LogSource;
use common::{OPERATOR_TOKEN, ORIGIN, TestServer, b64_hash, b64_hashes, record_body};
use serde_json::Value;

async fn post_record(server: &TestServer, body: &Value) -> reqwest::Response {
    server
        .client
        .post(server.url("/v1/governance/records"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_text(server: &TestServer, path: &str) -> String {
    let response = server.client.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = server.client.get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn log_size(server: &TestServer) -> u64 {
    let note = get_text(server, "/log/checkpoint").await;
    let verifier = NoteVerifier::from_vkey(&server.vkey).unwrap();
    open_checkpoint(&note, &verifier, ORIGIN).unwrap().size
}

fn assert_problem(status: u16, body: &Value, expected_status: u16, slug: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["type"], format!("/problems/{slug}"), "{body}");
    assert_eq!(body["status"], expected_status);
    assert!(body["title"].is_string());
    assert!(!body["detail"].as_str().unwrap().is_empty());
}

/// A write is acknowledged with an index, an inclusion proof and a checkpoint that verify
/// against the published key; the entry reads back byte for byte.
async fn writes_return_verifiable_receipts(kind: common::Db) {
    let server = TestServer::start(kind).await;
    let verifier = NoteVerifier::from_vkey(&server.vkey).unwrap();
    assert_eq!(get_text(&server, "/log/key").await.trim(), server.vkey);
    assert_eq!(log_size(&server).await, 0);

    let mut receipts = Vec::new();
    for n in 0..20 {
        let response = post_record(&server, &record_body(n)).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["entry"]["type"], "governance.recorded");
        assert_eq!(body["entry"]["title"], format!("Notice number {n}"));
        receipts.push(body);
    }
    for body in &receipts {
        let log = &body["log"];
        let index = log["index"].as_u64().unwrap();
        let checkpoint =
            open_checkpoint(log["checkpoint"].as_str().unwrap(), &verifier, ORIGIN).unwrap();
        assert_eq!(checkpoint.size, log["tree_size"].as_u64().unwrap());
        let leaf = b64_hash(log["leaf_hash"].as_str().unwrap());
        let path = b64_hashes(log["inclusion_path"].as_array().unwrap());
        verify_inclusion(index, checkpoint.size, &leaf, &path, &checkpoint.root).unwrap();

        // The stored entry is the exact bytes hashed.
        let response = server
            .client
            .get(server.url(&format!("/log/entries/{index}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let bytes = response.bytes().await.unwrap();
        assert_eq!(leaf_hash(&bytes), leaf);
        let entry: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(entry, body["entry"]);
    }

    // Proofs between the first receipt's checkpoint and the latest one.
    let first = open_checkpoint(
        receipts[0]["log"]["checkpoint"].as_str().unwrap(),
        &verifier,
        ORIGIN,
    )
    .unwrap();
    let latest_note = get_text(&server, "/log/checkpoint").await;
    let latest = open_checkpoint(&latest_note, &verifier, ORIGIN).unwrap();
    assert_eq!(latest.size, 20);
    let (status, proof) = get_json(
        &server,
        &format!(
            "/log/proof/consistency?old={}&new={}",
            first.size, latest.size
        ),
    )
    .await;
    assert_eq!(status, 200);
    let path = b64_hashes(proof["consistency_path"].as_array().unwrap());
    verify_consistency(first.size, latest.size, &first.root, &latest.root, &path).unwrap();
    assert_eq!(proof["checkpoint"], Value::String(latest_note.clone()));

    // Inclusion proof for the latest size by default.
    let (status, proof) = get_json(&server, "/log/proof/inclusion?index=7").await;
    assert_eq!(status, 200);
    assert_eq!(proof["tree_size"], 20);
    let path = b64_hashes(proof["inclusion_path"].as_array().unwrap());
    let leaf = b64_hash(proof["leaf_hash"].as_str().unwrap());
    verify_inclusion(7, 20, &leaf, &path, &latest.root).unwrap();

    // The whole log verifies from outside.
    let source = LogSource::http(&server.url("/log")).unwrap();
    let report = verify_log(
        &source,
        &VerifyOptions {
            verifier,
            origin: ORIGIN.into(),
            previous: Some(receipts[3]["log"]["checkpoint"].as_str().unwrap().into()),
            concurrency: 4,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.entries, 20);
    assert!(report.previous.unwrap().proof_checked);
    server.stop().await;
}
on_both_databases!(receipts_verify, super::writes_return_verifiable_receipts);

/// Tiles are served in the C2SP layout with the right caching, and only when they exist.
async fn tiles_are_served(kind: common::Db) {
    let server = TestServer::start(kind).await;
    let journal = server.state.journal.clone();
    let entries: Vec<Vec<u8>> = (0..300)
        .map(|n| {
            clearinghouse::entry::encode(chrono::Utc::now(), &common::record_entry(n)).unwrap()
        })
        .collect();
    for chunk in entries.chunks(64) {
        journal.append_raw(chunk.to_vec()).await.unwrap();
    }
    let full = server
        .client
        .get(server.url("/log/tile/0/000"))
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(
        full.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(full.headers()["content-type"], "application/octet-stream");
    assert_eq!(full.bytes().await.unwrap().len(), 8192);

    let partial = server
        .client
        .get(server.url("/log/tile/0/001.p/44"))
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), 200);
    assert_eq!(partial.bytes().await.unwrap().len(), 44 * 32);
    // A narrower partial tile is a prefix of the wider one.
    let narrow = server
        .client
        .get(server.url("/log/tile/0/001.p/3"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let wide = server
        .client
        .get(server.url("/log/tile/0/001.p/44"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(narrow[..], wide[..96]);

    let level1 = server
        .client
        .get(server.url("/log/tile/1/000.p/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(level1.status(), 200);

    let bundle = server
        .client
        .get(server.url("/log/tile/entries/000"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let decoded = clearinghouse::ledger::tiles::decode_bundle(&bundle).unwrap();
    assert_eq!(decoded.len(), 256);
    assert_eq!(decoded[5], entries[5].as_slice());

    for (path, status, slug) in [
        ("/log/tile/0/001", 404, "not-found"),
        ("/log/tile/0/001.p/45", 404, "not-found"),
        ("/log/tile/2/000.p/1", 404, "not-found"),
        ("/log/tile/entries/001.p/45", 404, "not-found"),
        ("/log/tile/0/1", 400, "invalid-parameter"),
        ("/log/tile/0/001.p/256", 400, "invalid-parameter"),
        ("/log/tile/x/000", 400, "invalid-parameter"),
        ("/log/entries/300", 404, "not-found"),
        ("/log/entries/abc", 400, "invalid-parameter"),
        ("/log/proof/inclusion?index=300", 400, "invalid-parameter"),
        (
            "/log/proof/inclusion?index=1&size=301",
            400,
            "invalid-parameter",
        ),
        ("/log/proof/inclusion?size=3", 400, "invalid-parameter"),
        (
            "/log/proof/consistency?old=10&new=5",
            400,
            "invalid-parameter",
        ),
        ("/log/proof/consistency?old=x", 400, "invalid-parameter"),
        ("/no/such/thing", 404, "not-found"),
    ] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let code = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_problem(code, &body, status, slug);
    }
    server.stop().await;
}
on_both_databases!(tiles, super::tiles_are_served);

/// Bad writes get a problem naming the cause and leave the log untouched.
async fn bad_writes_change_nothing(kind: common::Db) {
    let server = TestServer::start(kind).await;
    let url = server.url("/v1/governance/records");

    let no_token = server
        .client
        .post(&url)
        .json(&record_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.headers()["www-authenticate"], "Bearer");
    let code = no_token.status().as_u16();
    assert_problem(
        code,
        &no_token.json().await.unwrap(),
        401,
        "unauthenticated",
    );

    let wrong_token = server
        .client
        .post(&url)
        .bearer_auth("not-the-operator-token")
        .json(&record_body(1))
        .send()
        .await
        .unwrap();
    let code = wrong_token.status().as_u16();
    assert_problem(
        code,
        &wrong_token.json().await.unwrap(),
        401,
        "unauthenticated",
    );

    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            serde_json::json!({"kind": "notice", "title": "x", "document_sha256": "zz"}),
            422,
            "unprocessable",
            "document_sha256",
        ),
        (
            serde_json::json!({"kind": "notice", "title": "", "document_sha256": "a".repeat(64)}),
            422,
            "unprocessable",
            "title",
        ),
        (
            serde_json::json!({"kind": "gossip", "title": "x", "document_sha256": "a".repeat(64)}),
            400,
            "invalid-body",
            "kind",
        ),
        (
            serde_json::json!({"kind": "notice", "title": "x"}),
            400,
            "invalid-body",
            "document_sha256",
        ),
        (
            serde_json::json!({"kind": "notice", "title": "x", "document_sha256": "a".repeat(64), "extra": 1}),
            400,
            "invalid-body",
            "extra",
        ),
    ];
    for (body, status, slug, named) in cases {
        let response = post_record(&server, &body).await;
        let code = response.status().as_u16();
        let problem: Value = response.json().await.unwrap();
        assert_problem(code, &problem, status, slug);
        assert!(
            problem["detail"].as_str().unwrap().contains(named),
            "detail should name {named}: {problem}"
        );
    }
    let not_json = server
        .client
        .post(&url)
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let code = not_json.status().as_u16();
    assert_problem(code, &not_json.json().await.unwrap(), 400, "invalid-body");

    // Its own connection: the server answers 413 without reading the body, then closes it.
    let too_big = reqwest::Client::new()
        .post(&url)
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body(format!("{{\"title\": \"{}\"}}", "x".repeat(2 << 20)))
        .send()
        .await
        .unwrap();
    let code = too_big.status().as_u16();
    assert_problem(
        code,
        &too_big.json().await.unwrap(),
        413,
        "payload-too-large",
    );

    let wrong_method = server
        .client
        .delete(server.url("/log/checkpoint"))
        .send()
        .await
        .unwrap();
    let code = wrong_method.status().as_u16();
    assert_problem(
        code,
        &wrong_method.json().await.unwrap(),
        405,
        "method-not-allowed",
    );

    assert_eq!(log_size(&server).await, 0, "nothing may have been logged");
    server.stop().await;
}
on_both_databases!(bad_writes, super::bad_writes_change_nothing);

/// Each problem type is documented at its own address.
#[tokio::test]
async fn problem_types_are_documented() {
    let server = TestServer::start(common::Db::Sqlite).await;
    let (status, body) = get_json(&server, "/problems/invalid-parameter").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], 400);
    assert!(body["description"].as_str().unwrap().contains("parameter"));
    let (status, _) = get_json(&server, "/problems/nonsense").await;
    assert_eq!(status, 404);
    let (status, ready) = get_json(&server, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["sequencer"], true);
    server.stop().await;
}
