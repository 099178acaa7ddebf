//! `clearinghouse bench` end to end, small: the same scenarios the published figures come
//! from, on a log of a few thousand entries, must run without a single failed request on
//! both databases, and report what they measured (the figures of a debug build mean
//! nothing; the timing goals are checked by the bench itself, in release).

#![allow(clippy::unwrap_used)]

mod common;

use common::{Db, run_cli};
use serde_json::Value;

async fn bench_runs_clean(kind: Db) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let work = dir.path().to_str().unwrap().to_owned();
    let json_arg = json.to_str().unwrap().to_owned();
    let mut args = vec![
        "bench",
        "--sizes",
        "3000",
        "--seconds",
        "1",
        "--clients",
        "4",
        "--work-dir",
        &work,
        "--json",
        &json_arg,
    ];
    let postgres = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if kind == Db::Postgres {
        args.extend(["--postgres", &postgres, "--no-sqlite"]);
    }
    let (code, stdout, stderr) = run_cli(&args, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let reports: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let report = &reports.as_array().unwrap()[0];
    assert_eq!(
        report["backend"],
        if kind == Db::Sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    assert!(
        report["bounds"]["ed25519_verify_per_second"]
            .as_f64()
            .unwrap()
            > 1000.0
    );
    assert!(
        report["bounds"]["sha256_node_hash_per_second"]
            .as_f64()
            .unwrap()
            > 10_000.0
    );
    let runs = report["runs"].as_array().unwrap();
    let run = |name: &str| {
        runs.iter()
            .find(|r| r["name"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {runs:#?}"))
    };
    for r in runs {
        assert_eq!(r["errors"], 0, "{r}");
    }
    let requests = |name: &str| run(name)["requests"].as_u64().unwrap();
    // Decisions spread over the load contracts, then on one contract; every permit's
    // transfer gets both sides' receipts.
    let grouped = requests("decisions (grouped)") + requests("decisions (one contract)");
    let naive = requests("decisions (naive)");
    assert!(requests("decisions (one contract)") > 0 && naive > 0);
    assert_eq!(requests("receipts (grouped)"), 2 * grouped);
    assert_eq!(requests("receipts (naive)"), 2 * naive);
    assert!(run("inclusion proofs")["requests"].as_u64().unwrap() > 0);
    assert!(run("consistency proofs")["requests"].as_u64().unwrap() > 0);
    let audit = run("audit query");
    assert!(
        audit["name"]
            .as_str()
            .unwrap()
            .starts_with("audit query: 1000 entries of one contract (1 page)"),
        "{audit}"
    );
    let verified = run("full verify");
    assert!(verified["log_size"].as_u64().unwrap() >= 3000);
    assert!(run("server peak resident memory")["mib"].as_f64().unwrap() > 1.0);
    // The Markdown table names every scenario beside its target.
    assert!(stdout.contains("| receipts (grouped) |"), "{stdout}");
    assert!(stdout.contains("≥ 10 000/s, ≥ ×20 naive, p99 < 50 ms"));
}

on_both_databases!(small_run, super::bench_runs_clean);
