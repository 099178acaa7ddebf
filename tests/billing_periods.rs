//! Billing over two periods, end to end on the demo binary, on both databases: last
//! month's activity is closed, one of its lines is corrected by a credit note this month,
//! public bodies (exempt) and companies (paying, co-financed) side by side. The period
//! bundles recompute offline to the cent; tampering with any part of one is named; the
//! invoices pass the EN 16931 rules; indicators and the financing report reconcile.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Datelike, Utc};
use clearinghouse::ledger::hash::leaf_hash;
use clearinghouse::ledger::note::{NoteVerifier, open_checkpoint};
use clearinghouse::ledger::proof::{verify_consistency, verify_inclusion};
use common::{Db, ServerProcess, TestDb, run_cli};
use serde_json::Value;

const STARTUP: &str = "732829320";
const DANONE: &str = "552032534";
const DINUM: &str = "130025265";

struct Demo {
    process: ServerProcess,
    token: String,
    vkey: String,
    client: reqwest::Client,
}

impl Demo {
    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.get_text(path).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.process.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn statement(&self, period: &str, siren: &str) -> Value {
        let (status, body) = self
            .get(&format!(
                "/v1/billing/statements?period={period}&participant={siren}"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        body["statements"][0].clone()
    }
}

fn months() -> (String, String) {
    let now = Utc::now();
    let (year, month) = if now.month() == 1 {
        (now.year() - 1, 12)
    } else {
        (now.year(), now.month() - 1)
    };
    (
        format!("{year:04}-{month:02}"),
        now.format("%Y-%m").to_string(),
    )
}

/// Every line reconciles: financers + participant = gross; the totals are the lines'.
fn reconciles(statement: &Value) {
    let lines = statement["lines"].as_array().unwrap();
    let mut gross = 0;
    let mut own = 0;
    for line in lines {
        let financed: i64 = line["financers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["amount_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(
            financed + line["participant_cents"].as_i64().unwrap(),
            line["gross_cents"].as_i64().unwrap(),
            "{line}"
        );
        gross += line["gross_cents"].as_i64().unwrap();
        own += line["participant_cents"].as_i64().unwrap();
    }
    assert_eq!(statement["gross_cents"].as_i64().unwrap(), gross);
    assert_eq!(statement["participant_cents"].as_i64().unwrap(), own);
}

fn write(dir: &std::path::Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The bundle with the first entry of `kind` rewritten by `change`; returns its index.
fn tamper_entry(bundle: &Value, kind: &str, change: impl Fn(&mut Value)) -> (Value, u64) {
    let mut bundle = bundle.clone();
    for item in bundle["entries"].as_array_mut().unwrap() {
        let data = B64.decode(item["data"].as_str().unwrap()).unwrap();
        let mut entry: Value = serde_json::from_slice(&data).unwrap();
        if entry["type"] == kind {
            change(&mut entry);
            item["data"] = Value::String(B64.encode(serde_json::to_vec(&entry).unwrap()));
            let index = item["index"].as_u64().unwrap();
            return (bundle, index);
        }
    }
    panic!("no {kind} entry in the bundle");
}

async fn two_periods(kind: Db) {
    let db = TestDb::new_for_process(kind).await;
    let data = db.dir.path().join("demo");
    let mut env = Vec::new();
    if kind == Db::Postgres {
        env.push(("CLEARINGHOUSE_DATABASE_URL", db.url.clone()));
    }
    let process = ServerProcess::spawn(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    let banner = process.banner.join("\n");
    let vkey = process.banner_vkey();
    let token = std::fs::read_to_string(data.join("operator-token"))
        .unwrap()
        .trim()
        .to_owned();
    let demo = Demo {
        process,
        token,
        vkey,
        client: reqwest::Client::new(),
    };
    let (last, this) = months();
    assert!(banner.contains(&format!("period={last}")), "{banner}");

    // Last month: closed; a company pays (co-financed), a public body is exempt.
    let (status, state) = demo.get(&format!("/v1/billing/periods/{last}")).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["state"], "closed", "{state}");
    let startup_last = demo.statement(&last, STARTUP).await;
    reconciles(&startup_last);
    assert_eq!(startup_last["class"], "company");
    assert!(startup_last["gross_cents"].as_i64().unwrap() > 0);
    let financers: Vec<&str> = startup_last["lines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["financers"].as_array().unwrap())
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        financers.iter().any(|r| r.starts_with("region-2026")),
        "{startup_last}"
    );
    assert!(
        financers.iter().any(|r| r.starts_with("feder-2026")),
        "{startup_last}"
    );
    let dinum_last = demo.statement(&last, DINUM).await;
    assert_eq!(dinum_last["class"], "public-body");
    assert_eq!(dinum_last["gross_cents"], 0);
    assert!(
        dinum_last["lines"][0]["note"]
            .as_str()
            .unwrap()
            .contains("exempt")
    );

    // This month: the disputed line of last month comes back as a credit line.
    let startup_this = demo.statement(&this, STARTUP).await;
    reconciles(&startup_this);
    let credit = startup_this["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "credit")
        .expect("a credit line")
        .clone();
    assert_eq!(credit["corrected_period"], last.as_str());
    let original = startup_last["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["transfer_id"] == credit["transfer_id"])
        .unwrap();
    assert_eq!(
        credit["gross_cents"].as_i64().unwrap(),
        -original["gross_cents"].as_i64().unwrap()
    );
    // Each billed receipt is proven in the signed log, which extends last month's closing.
    let (status, answer) = demo
        .get(&format!(
            "/v1/billing/statements?period={this}&participant={STARTUP}"
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    let evidence = &answer["evidence"];
    let verifier = NoteVerifier::from_vkey(&demo.vkey).unwrap();
    let checkpoint = open_checkpoint(
        evidence["checkpoint"].as_str().unwrap(),
        &verifier,
        verifier.name(),
    )
    .unwrap();
    let lines = answer["statements"][0]["lines"].as_array().unwrap();
    for line in lines.iter().filter(|l| !l["receipt_index"].is_null()) {
        let index = line["receipt_index"].as_u64().unwrap();
        let path = common::b64_hashes(evidence["receipts"][index.to_string()].as_array().unwrap());
        let (status, bytes) = demo.get_text(&format!("/log/entries/{index}")).await;
        assert_eq!(status, 200);
        verify_inclusion(
            index,
            checkpoint.size,
            &leaf_hash(bytes.as_bytes()),
            &path,
            &checkpoint.root,
        )
        .unwrap();
    }
    let previous = &evidence["previous_closing"];
    assert_eq!(previous["period"], last.as_str());
    verify_consistency(
        previous["tree_size"].as_u64().unwrap(),
        checkpoint.size,
        &common::b64_hash(previous["root"].as_str().unwrap()),
        &checkpoint.root,
        &common::b64_hashes(previous["consistency_path"].as_array().unwrap()),
    )
    .unwrap();

    let danone_this = demo.statement(&this, DANONE).await;
    reconciles(&danone_this);
    assert!(danone_this["participant_cents"].as_i64().unwrap() > 0);

    // Period bundles recompute offline to the cent (and match the closing's hashes).
    let dir = tempfile::tempdir().unwrap();
    let mut bundles = Vec::new();
    for period in [&last, &this] {
        let (status, bundle) = demo
            .get(&format!("/v1/billing/periods/{period}/bundle"))
            .await;
        assert_eq!(status, 200, "{bundle}");
        let file = write(dir.path(), &format!("{period}.json"), &bundle);
        let (code, stdout, stderr) =
            run_cli(&["billing", "recompute", &file, "--key", &demo.vkey], &[]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(stdout.contains("VERDICT: OK"), "{stdout}");
        assert!(stdout.contains(STARTUP), "{stdout}");
        bundles.push(bundle);
    }
    let last_bundle = &bundles[0];
    let (code, stdout, _) = run_cli(
        &[
            "billing",
            "recompute",
            &write(dir.path(), "again.json", last_bundle),
            "--key",
            &demo.vkey,
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("hashes its closing logged"), "{stdout}");

    // Tampering with a tariff, a financing rule, a receipt, a proof or the checkpoint is
    // named by the verification; a changed figure or a dropped entry by the recompute.
    let verify = |bundle: &Value, name: &str| {
        let file = write(dir.path(), name, bundle);
        run_cli(&["verify", "bundle", &file, "--key", &demo.vkey], &[])
    };
    let recompute = |bundle: &Value, name: &str| {
        let file = write(dir.path(), name, bundle);
        run_cli(&["billing", "recompute", &file, "--key", &demo.vkey], &[])
    };
    for (kind, field) in [
        ("tariff.published", "tariff"),
        ("financing.published", "rule"),
        ("receipt.recorded", "bytes"),
    ] {
        let (tampered, index) = tamper_entry(last_bundle, kind, |entry| {
            if field == "bytes" {
                entry["bytes"] = Value::from(1);
            } else if field == "tariff" {
                entry["tariff"]["per_transfer"] = Value::from("0.01");
            } else {
                entry["rule"]["rate_percent"] = Value::from("100");
            }
        });
        let (code, stdout, _) = verify(&tampered, &format!("tampered-{kind}.json"));
        assert_eq!(code, 1, "{stdout}");
        assert!(
            stdout.contains(&format!("entry {index} ({kind})")),
            "{stdout}"
        );
        let (code, _, _) = recompute(&tampered, &format!("tampered-{kind}-r.json"));
        assert_eq!(code, 1);
    }
    let mut tampered = last_bundle.clone();
    let path = tampered["entries"][0]["inclusion_path"]
        .as_array_mut()
        .unwrap();
    path.swap(0, 1);
    let (code, stdout, _) = verify(&tampered, "path.json");
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("inclusion proof"), "{stdout}");
    let mut tampered = last_bundle.clone();
    let note = tampered["checkpoint"]
        .as_str()
        .unwrap()
        .replacen('\n', "\n9", 1);
    tampered["checkpoint"] = Value::String(note);
    let (code, stdout, _) = verify(&tampered, "checkpoint.json");
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL checkpoint"), "{stdout}");
    let mut tampered = last_bundle.clone();
    let statement = tampered["billing"]["statements"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["siren"] == STARTUP)
        .unwrap();
    statement["participant_cents"] =
        Value::from(statement["participant_cents"].as_i64().unwrap() - 1);
    let (code, stdout, _) = recompute(&tampered, "figure.json");
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "SIREN {STARTUP}'s participant_cents recomputes to"
        )),
        "{stdout}"
    );
    let mut tampered = last_bundle.clone();
    let entries = tampered["entries"].as_array_mut().unwrap();
    let receipt = entries
        .iter()
        .rposition(|e| {
            let data = B64.decode(e["data"].as_str().unwrap()).unwrap();
            serde_json::from_slice::<Value>(&data).unwrap()["type"] == "receipt.recorded"
        })
        .unwrap();
    entries.remove(receipt);
    let (code, stdout, _) = verify(&tampered, "dropped-v.json");
    assert_eq!(code, 0, "what is left is still proven: {stdout}");
    let (code, stdout, _) = recompute(&tampered, "dropped.json");
    assert_eq!(code, 1, "a dropped receipt changes the figures: {stdout}");

    // Invoices for what the company owes in the closed month, valid EN 16931; none for an
    // open month (a number must always mean one content).
    let (status, problem) = demo
        .get(&format!(
            "/v1/billing/invoices?period={this}&participant={STARTUP}"
        ))
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, list) = demo
        .get(&format!(
            "/v1/billing/invoices?period={last}&participant={STARTUP}"
        ))
        .await;
    assert_eq!(status, 200, "{list}");
    let documents = list["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{list}");
    assert_eq!(documents[0]["kind"], "invoice");
    assert_eq!(documents[0]["number"], format!("CH-{last}-{STARTUP}"));
    let (status, xml) = demo.get_text(documents[0]["ubl"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{xml}");
    let received = en16931_formats::receive(xml.as_bytes(), &en16931_formats::Policy::default());
    assert_eq!(
        received.recommendation,
        en16931_formats::Recommendation::Accept,
        "{received}\n{xml}"
    );
    let (status, _) = demo
        .get_text(&format!("/v1/billing/invoices/CH-{last}-{DINUM}"))
        .await;
    assert_eq!(status, 404, "an exempt public body owes nothing");

    // Indicators: per class, JSON and CSV.
    let (status, figures) = demo
        .get(&format!("/v1/indicators?period={last}&by=class"))
        .await;
    assert_eq!(status, 200, "{figures}");
    let rows = figures["rows"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["company", "public-body"], "{figures}");
    for row in rows {
        let n = |f: &str| row[f].as_u64().unwrap();
        assert!(
            n("consultations") >= n("requests") && n("requests") >= n("downloads"),
            "{row}"
        );
        assert!(n("downloads") > 0 && n("bytes") > 0, "{row}");
    }
    assert_eq!(rows[0]["downloads"], 3, "the start-up's three transfers");
    let (status, csv) = demo
        .get_text(&format!(
            "/v1/indicators?period={last}&by=dataset&format=csv"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("period,key,consultations,requests,downloads,bytes,records\r\n"),
        "{csv}"
    );

    // The committee's financing report reconciles with the statements.
    let (status, report) = demo
        .get(&format!("/v1/billing/financing-report?period={last}"))
        .await;
    assert_eq!(status, 200, "{report}");
    let n = |v: &Value| v.as_i64().unwrap();
    assert_eq!(
        n(&report["gross_cents"]),
        n(&report["financed_cents"]) + n(&report["participant_cents"])
    );
    let covered: i64 = report["financers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| n(&f["covered_cents"]))
        .sum();
    assert_eq!(covered, n(&report["financed_cents"]));
    assert_eq!(
        n(&report["public_cents"]),
        covered,
        "both financers are public"
    );
    let (status, csv) = demo
        .get_text(&format!(
            "/v1/billing/financing-report?period={last}&format=csv"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        csv.lines().count() > 1 && csv.contains("region-2026@1"),
        "{csv}"
    );

    // A bundle that hides its period's closing is refused by the recompute.
    let mut tampered = last_bundle.clone();
    tampered["billing"]
        .as_object_mut()
        .unwrap()
        .remove("closed_at");
    let (code, stdout, _) = recompute(&tampered, "hidden-closing.json");
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("but the bundle says the closing is absent"),
        "{stdout}"
    );

    // The service's metrics saw all this.
    let (status, metrics) = demo.get_text("/metrics").await;
    assert_eq!(status, 200);
    for wanted in [
        "http_requests_total{method=\"GET\",route=\"/v1/billing/statements\",status=\"200\"}",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/indicators\"",
        "decisions_total{outcome=\"permit\"}",
        "log_append_batch_entries_count",
        "log_commit_duration_seconds_bucket",
        "log_size",
    ] {
        assert!(
            metrics.contains(wanted),
            "{wanted} missing from:\n{metrics}"
        );
    }

    // Every one of those reads is in the log.
    let (status, reads) = demo
        .get("/v1/audit/entries?type=audit.read&limit=500")
        .await;
    assert_eq!(status, 200, "{reads}");
    let requests: Vec<&str> = reads["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["entry"]["request"].as_str().unwrap())
        .collect();
    for wanted in [
        "statements",
        "billing-bundle",
        "invoices",
        "invoice",
        "indicators",
        "financing-report",
    ] {
        assert!(
            requests.contains(&wanted),
            "{wanted} not logged: {requests:?}"
        );
    }
    let (status, csv) = demo
        .get_text("/v1/audit/entries?type=audit.read&limit=2&format=csv")
        .await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with("index,type,time,entry\r\n"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(demo.process.terminate().await.success());
}

on_both_databases!(two_billing_periods, super::two_periods);
