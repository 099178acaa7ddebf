//! Crash safety: a real server process is killed with SIGKILL in the middle of concurrent
//! appends and restarted; every acknowledged entry is still there with a valid proof, and the
//! new checkpoint is consistent with every checkpoint handed out before the crash.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use clearinghouse::ledger::note::NoteVerifier;
use common::acks::{Ack, check_acknowledged};
use common::{OPERATOR_TOKEN, ServerProcess, TestDb, record_body};
use serde_json::Value;

async fn killed_mid_load_loses_nothing(kind: common::Db) {
    let db = TestDb::new_for_process(kind).await;
    let data_dir = db.dir.path().to_str().unwrap().to_owned();
    let env = common::server_env(&db);
    let (code, vkey, stderr) = common::run_cli(&["keygen", "--data-dir", &data_dir], &env);
    assert_eq!(code, 0, "{stderr}");
    let vkey = vkey.trim().to_owned();
    let (code, _, stderr) = common::run_cli(&["keygen", "--issuer", "--data-dir", &data_dir], &env);
    assert_eq!(code, 0, "{stderr}");
    let verifier = NoteVerifier::from_vkey(&vkey).unwrap();
    let args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir];

    let server = ServerProcess::spawn(&args, &env).await;
    let base = server.base.clone();
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let client = reqwest::Client::new();
    let mut writers = Vec::new();
    for writer in 0..8u64 {
        let (client, base, acks) = (client.clone(), base.clone(), acks.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let response = client
                    .post(format!("{base}/v1/governance/records"))
                    .bearer_auth(OPERATOR_TOKEN)
                    .json(&record_body(writer * 1_000_000 + n))
                    .send()
                    .await;
                let Ok(response) = response else { break };
                if response.status() != 201 {
                    break;
                }
                let Ok(body) = response.json::<Value>().await else {
                    break;
                };
                acks.lock().unwrap().push(Ack::from_receipt(&body["log"]));
            }
        }));
    }
    // Let the load build up, then pull the plug while requests are in flight.
    while acks.lock().unwrap().len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill().await;
    for writer in writers {
        writer.await.unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    assert!(acks.len() >= 300);

    let server = ServerProcess::spawn(&args, &env).await;
    let base = server.base.clone();
    // Every acknowledged entry is there and proven; every checkpoint handed out is a prefix
    // of the new one: no fork, no rollback.
    let (_, handed_out) = check_acknowledged(&client, &base, &verifier, &acks).await;

    // And the restarted log keeps accepting appends.
    let response = client
        .post(format!("{base}/v1/governance/records"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&record_body(42))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    // The whole log verifies from outside, against the oldest checkpoint a client saw.
    common::acks::verify_from_oldest(db.dir.path(), &base, &vkey, &handed_out);
    let status = server.terminate().await;
    assert!(status.success(), "clean shutdown: {status}");
}

on_both_databases!(sigkill_mid_load, super::killed_mid_load_loses_nothing);
