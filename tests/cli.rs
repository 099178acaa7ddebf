//! The command line as a newcomer and an operator meet it: keygen, serve's refusals, the
//! demo (seeded, persistent across restarts), migrate, export and verify.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use clearinghouse::ledger::note::{NoteVerifier, open_checkpoint};
use common::{ServerProcess, run_cli};

/// keygen writes a private key only its owner can read and prints the verifier key.
#[test]
fn keygen_writes_a_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("keys/log.key");
    let key_arg = key.to_str().unwrap();
    let (code, stdout, stderr) = run_cli(
        &["keygen", "--name", "region.example/log", "--out", key_arg],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let verifier = NoteVerifier::from_vkey(stdout.trim()).unwrap();
    assert_eq!(verifier.name(), "region.example/log");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("PRIVATE+KEY+region.example/log+")
    );

    let (code, _, stderr) = run_cli(
        &["keygen", "--name", "region.example/log", "--out", key_arg],
        &[],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("already exists"), "{stderr}");

    let (code, stdout, _) = run_cli(
        &[
            "keygen",
            "--witness",
            "--name",
            "witness.example/w1",
            "--out",
            key_arg,
            "--force",
        ],
        &[],
    );
    assert_eq!(code, 0);
    let witness = NoteVerifier::from_vkey(stdout.trim()).unwrap();
    assert_eq!(
        witness.alg(),
        clearinghouse::ledger::note::ALG_COSIGNATURE_V1
    );
}

/// serve refuses a key file others can read, a missing key, and invalid configuration,
/// each with a message saying what to do.
#[test]
fn serve_refuses_bad_setups() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let env = vec![("CLEARINGHOUSE_LOG__ORIGIN", "cli.test/log".to_owned())];

    let (code, _, stderr) = run_cli(
        &["serve", "--data-dir", data, "--listen", "127.0.0.1:0"],
        &env,
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("clearinghouse keygen"), "{stderr}");

    let (code, _, _) = run_cli(&["keygen", "--data-dir", data], &env);
    assert_eq!(code, 0);
    let key = dir.path().join("log.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, stderr) = run_cli(
        &["serve", "--data-dir", data, "--listen", "127.0.0.1:0"],
        &env,
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("readable by group or others"), "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bad = vec![
        ("CLEARINGHOUSE_LOG__ORIGIN", "has spaces/log".to_owned()),
        ("CLEARINGHOUSE_DATABASE_URL", "mysql://nope".to_owned()),
    ];
    let (code, _, stderr) = run_cli(&["serve", "--data-dir", data], &bad);
    assert_ne!(code, 0);
    assert!(stderr.contains("log.origin"), "{stderr}");
    assert!(stderr.contains("database_url"), "{stderr}");

    let config = dir.path().join("config.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nunknown_key = 1\n").unwrap();
    let (code, _, stderr) = run_cli(&["serve", "--config", config.to_str().unwrap()], &env);
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown_key"), "{stderr}");
}

/// The demo seeds an embedded log, prints where to look, keeps its data across a restart
/// (without seeding twice), and its log verifies from outside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let data = data.to_str().unwrap();
    // The same address both times: the demo's did:web (and so its trust anchor) follows it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let args = ["demo", "--listen", &listen, "--data-dir", data];
    let demo = ServerProcess::spawn(&args, &[]).await;
    let banner = demo.banner.join("\n");
    assert!(banner.contains("demo entries just seeded"), "{banner}");
    assert!(banner.contains("/log/checkpoint"), "{banner}");
    let vkey = demo.banner_vkey();
    let verifier = NoteVerifier::from_vkey(&vkey).unwrap();
    let client = reqwest::Client::new();
    let note = client
        .get(format!("{}/log/checkpoint", demo.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first = open_checkpoint(&note, &verifier, verifier.name()).unwrap();
    assert!(first.size >= 4);
    let token = std::fs::read_to_string(dir.path().join("demo/operator-token")).unwrap();
    let response = client
        .post(format!("{}/v1/governance/records", demo.base))
        .bearer_auth(token.trim())
        .json(&common::record_body(7))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(demo.terminate().await.success());

    let demo = ServerProcess::spawn(&args, &[]).await;
    let banner = demo.banner.join("\n");
    assert!(!banner.contains("just seeded"), "{banner}");
    let note = client
        .get(format!("{}/log/checkpoint", demo.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let second = open_checkpoint(&note, &verifier, verifier.name()).unwrap();
    assert_eq!(second.size, first.size + 1);

    let (code, stdout, stderr) = run_cli(
        &[
            "verify",
            "--url",
            &format!("{}/log", demo.base),
            "--key",
            &vkey,
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("VERDICT: OK"), "{stdout}");
    assert!(demo.terminate().await.success());

    // migrate and export work on the same data directory, offline.
    let env = vec![(
        "CLEARINGHOUSE_LOG__ORIGIN",
        "demo.clearinghouse.localhost/log".to_owned(),
    )];
    let (code, stdout, stderr) = run_cli(&["migrate", "--data-dir", data], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("up to date"));
    let out = dir.path().join("static");
    let (code, stdout, stderr) = run_cli(
        &["export", "--data-dir", data, "--out", out.to_str().unwrap()],
        &env,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, _) = run_cli(
        &["verify", "--dir", out.to_str().unwrap(), "--key", &vkey],
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
}

/// `examples/connector.rs` walks the whole flow against a running demo: authenticate, ask,
/// transfer, post both receipts, check every proof offline with the pinned log key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_connector_walks_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let data = data.to_str().unwrap();
    let demo = ServerProcess::spawn(
        &["demo", "--listen", "127.0.0.1:0", "--data-dir", data],
        &[],
    )
    .await;
    let vkey = demo.banner_vkey();
    // `cargo test` builds the examples next to the binaries' directory; a run of this test
    // target alone may not have, so build it then.
    let example = std::path::Path::new(common::binary())
        .parent()
        .unwrap()
        .join("examples/connector");
    if !example.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", "connector"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let output = tokio::process::Command::new(&example)
        .env("CLEARINGHOUSE_URL", &demo.base)
        .env("DEMO_DATA_DIR", data)
        .env("LOG_VKEY", &vkey)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("decision: \"permit\""), "{stdout}");
    assert_eq!(stdout.matches("checked offline").count(), 3, "{stdout}");
    assert!(
        stdout.contains("consumer receipt logged: \"matched\""),
        "{stdout}"
    );
    // A wrong log key makes the offline check fail.
    let other = clearinghouse::ledger::note::NoteSigner::generate(
        "demo.clearinghouse.localhost/log",
        clearinghouse::ledger::note::ALG_ED25519,
    )
    .unwrap();
    let output = tokio::process::Command::new(&example)
        .env("CLEARINGHOUSE_URL", &demo.base)
        .env("DEMO_DATA_DIR", data)
        .env("LOG_VKEY", other.verifier().vkey())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not verify"));
    assert!(demo.terminate().await.success());
}
