//! Witnesses: two real `clearinghouse witness` processes cosign the service's checkpoints,
//! `verify` enforces a quorum of them, and a witness refuses a forked log and keeps its
//! state across a restart.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use clearinghouse::config::WitnessConfig;
use clearinghouse::keys::write_key_file;
use clearinghouse::ledger::note::{
    ALG_COSIGNATURE_V1, ALG_ED25519, Note, NoteSigner, NoteVerifier,
};
use clearinghouse::ledger::witness::verify_cosignature;
use clearinghouse::witness::client::{SubmitError, WitnessTarget, submit};
use common::{
    OPERATOR_TOKEN, ORIGIN, ServerProcess, TestDb, TestServer, b64_hashes, record_body, run_cli,
    test_config,
};

/// A witness key written to `dir/<name>.key`; returns its verifier key.
fn witness_key(dir: &Path, name: &str) -> String {
    let signer = NoteSigner::generate(name, ALG_COSIGNATURE_V1).unwrap();
    write_key_file(&dir.join(format!("{name}.key")), &signer, false).unwrap();
    signer.verifier().vkey()
}

async fn spawn_witness(dir: &Path, name: &str, log_vkey: &str) -> ServerProcess {
    let key = dir.join(format!("{name}.key"));
    let state = dir.join(format!("{name}-state"));
    ServerProcess::spawn(
        &[
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--key-file",
            key.to_str().unwrap(),
            "--log-vkey",
            log_vkey,
            "--state-dir",
            state.to_str().unwrap(),
        ],
        &[],
    )
    .await
}

async fn append(server: &TestServer, range: std::ops::Range<u64>) {
    for n in range {
        let response = server
            .client
            .post(server.url("/v1/governance/records"))
            .bearer_auth(OPERATOR_TOKEN)
            .json(&record_body(n))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
}

async fn verify_cli(args: Vec<String>) -> i32 {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run_cli(&args, &[]);
        eprintln!("{stdout}{stderr}");
        code
    })
    .await
    .unwrap()
}

async fn witnessed_log(kind: common::Db) {
    let keys = tempfile::tempdir().unwrap();
    let log = NoteSigner::generate(ORIGIN, ALG_ED25519).unwrap();
    let log_vkey = log.verifier().vkey();
    let vkey_a = witness_key(keys.path(), "witness-a.test");
    let vkey_b = witness_key(keys.path(), "witness-b.test");
    let witness_a = spawn_witness(keys.path(), "witness-a.test", &log_vkey).await;
    let witness_b = spawn_witness(keys.path(), "witness-b.test", &log_vkey).await;

    let db = TestDb::new(kind).await;
    let mut config = test_config(&db);
    config.witnesses = vec![
        WitnessConfig {
            url: witness_a.base.clone(),
            vkey: vkey_a.clone(),
        },
        WitnessConfig {
            url: witness_b.base.clone(),
            vkey: vkey_b.clone(),
        },
    ];
    config.witness_quorum = 2;
    let server = TestServer::start_with_config(db, log, config).await;
    append(&server, 0..5).await;

    // The served checkpoint gains both cosignatures, on the checkpoint of all five entries.
    let witnesses = [
        NoteVerifier::from_vkey(&vkey_a).unwrap(),
        NoteVerifier::from_vkey(&vkey_b).unwrap(),
    ];
    let mut served = String::new();
    for _ in 0..300 {
        served = server
            .client
            .get(server.url("/log/checkpoint"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let note = Note::parse(&served).unwrap();
        if note.text.lines().nth(1) == Some("5")
            && witnesses
                .iter()
                .all(|w| verify_cosignature(&note, w).is_ok())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let note = Note::parse(&served).unwrap();
    assert_eq!(note.text.lines().nth(1), Some("5"), "{served}");
    for witness in &witnesses {
        verify_cosignature(&note, witness).unwrap_or_else(|e| panic!("{e}: {served}"));
    }
    // Kept in the database too.
    let records = server.state.store.witness_records().await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.size == 5));

    // `verify` with a quorum of both witnesses passes; with a wrong key among them it fails.
    let log_url = format!("{}/log", server.base);
    let base_args = |witness_keys: &[&str], quorum: &str| {
        let mut args = vec![
            "verify".to_owned(),
            "--url".to_owned(),
            log_url.clone(),
            "--key".to_owned(),
            server.vkey.clone(),
        ];
        for key in witness_keys {
            args.push("--witness".into());
            args.push((*key).to_owned());
        }
        args.push("--witness-quorum".into());
        args.push(quorum.into());
        args
    };
    assert_eq!(
        verify_cli(base_args(&[vkey_a.as_str(), vkey_b.as_str()], "2")).await,
        0
    );
    let stranger = NoteSigner::generate("witness-a.test", ALG_COSIGNATURE_V1).unwrap();
    let stranger = stranger.verifier().vkey();
    assert_eq!(
        verify_cli(base_args(&[vkey_a.as_str(), stranger.as_str()], "2")).await,
        1
    );
    assert_eq!(
        verify_cli(base_args(&[vkey_a.as_str(), stranger.as_str()], "1")).await,
        0
    );

    // A fork: another server with the same log key but different entries.
    let state_file = keys.path().join("witness-a.test-state/witness-state.json");
    let state_before = std::fs::read(&state_file).unwrap();
    let fork_db = TestDb::new(kind).await;
    let fork_key = NoteSigner::from_skey(&server.signer_skey).unwrap();
    let fork = TestServer::start_on(fork_db, fork_key).await;
    append(&fork, 100..106).await;
    let fork_checkpoint = fork
        .client
        .get(fork.url("/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let proof: serde_json::Value = fork
        .client
        .get(fork.url("/log/proof/consistency?old=5&new=6"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let proof = b64_hashes(proof["consistency_path"].as_array().unwrap());
    let client = reqwest::Client::new();
    let target_a = WitnessTarget {
        url: witness_a.base.clone(),
        verifier: witnesses[0].clone(),
    };
    let refused = submit(&client, &target_a, 5, &proof, &fork_checkpoint).await;
    assert!(
        matches!(refused, Err(SubmitError::Refused { status: 422, .. })),
        "{refused:?}"
    );
    // Claiming the witness is somewhere else is a conflict that names its size.
    let conflict = submit(&client, &target_a, 0, &[], &fork_checkpoint).await;
    assert!(
        matches!(conflict, Err(SubmitError::Conflict(5))),
        "{conflict:?}"
    );
    assert_eq!(std::fs::read(&state_file).unwrap(), state_before);

    // Restarted, the witness still holds size 5 and still refuses the fork.
    witness_a.terminate().await;
    let witness_a = spawn_witness(keys.path(), "witness-a.test", &log_vkey).await;
    let target_a = WitnessTarget {
        url: witness_a.base.clone(),
        verifier: witnesses[0].clone(),
    };
    let conflict = submit(&client, &target_a, 0, &[], &fork_checkpoint).await;
    assert!(
        matches!(conflict, Err(SubmitError::Conflict(5))),
        "{conflict:?}"
    );
    let refused = submit(&client, &target_a, 5, &proof, &fork_checkpoint).await;
    assert!(
        matches!(refused, Err(SubmitError::Refused { status: 422, .. })),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&state_file).unwrap(), state_before);

    fork.stop().await;
    server.stop().await;
    witness_b.kill().await;
    witness_a.kill().await;
}

on_both_databases!(witnessed_log, super::witnessed_log);
