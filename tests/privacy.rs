//! Erasing a person: their private records and salts go, the credentials they held are
//! revoked first, the log keeps only commitments nobody can link to them any more, every
//! proof still verifies, and the erasure is itself logged without personal data.
#![allow(clippy::unwrap_used)]

mod common;

use common::Db;
use common::trust::{DidKey, TrustEnv};
use serde_json::{Value, json};

const EMAIL: &str = "Camille.Lefevre@danone.example.fr";

async fn erasure(kind: Db) {
    let env = TrustEnv::start(kind, &[], |_| {}).await;
    let officer = DidKey::random();
    let (_, mandate) = env.credentials_of("officer", &officer).await;
    let store = env.server.state.store.clone();
    assert!(!store.private_records(EMAIL).await.unwrap().is_empty());

    // Refused without a known reason; nothing is logged.
    let before = env.log_size().await;
    let (status, problem) = env
        .post(
            "/v1/privacy/erasures",
            &json!({"email": EMAIL, "reason": "because"}),
            true,
        )
        .await;
    assert!((400..500).contains(&status), "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("right-to-erasure")
    );
    assert_eq!(env.log_size().await, before);

    let (status, answer) = env
        .post(
            "/v1/privacy/erasures",
            &json!({"email": EMAIL, "reason": "right-to-erasure"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let erased = &answer["erased"];
    assert_eq!(erased["persons"], 1);
    assert_eq!(erased["credentials"], 1, "the mandate: {erased}");
    // The commitment named is the one the mandate carried.
    let commitment = mandate["credentialSubject"]["person"]["emailCommitment"]
        .as_str()
        .unwrap();
    assert!(
        erased["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == commitment),
        "{erased}"
    );
    assert!(store.private_records(EMAIL).await.unwrap().is_empty());

    // The mandate was revoked before the records went: it opens nothing any more.
    let presentation = env.present(&officer, std::slice::from_ref(&mandate)).await;
    let (status, refused) = env
        .post(
            "/v1/audit/sessions",
            &json!({"presentation": presentation}),
            false,
        )
        .await;
    assert!((400..500).contains(&status), "{refused}");

    // No entry of the log names the person; the erasure entry is the last one.
    let size = env.log_size().await;
    for index in 0..size {
        let entry = env.entry(index).await;
        let text = entry.to_string().to_lowercase();
        for personal in ["camille", "lefevre", "lefèvre", "danone.example.fr"] {
            assert!(
                !text.contains(personal),
                "entry {index} names {personal}: {entry}"
            );
        }
    }
    let last: Value = env.entry(size - 1).await;
    assert_eq!(last["type"], "privacy.erased");

    // Every proof still holds: the whole log verifies from outside.
    let (code, stdout, stderr) = common::run_cli(
        &[
            "verify",
            "--url",
            &env.url("/log"),
            "--key",
            &env.server.vkey,
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("VERDICT: OK"), "{stdout}");

    // Nothing left to erase; the command says so.
    let (code, stdout, stderr) = common::run_cli(
        &["erase", "--url", &env.server.base, "--email", EMAIL],
        &[(
            "CLEARINGHOUSE_OPERATOR_TOKEN",
            common::OPERATOR_TOKEN.to_owned(),
        )],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("refused (404 Not Found)"), "{stdout}");

    // The command erases a person who signed in later.
    let employee = DidKey::random();
    let (status, outcome) = env.sign_in("employee", &employee).await;
    assert_eq!(status, 200, "{outcome}");
    let (code, stdout, stderr) = common::run_cli(
        &[
            "erase",
            "--url",
            &env.server.base,
            "--email",
            "thomas.girard@danone.example.fr",
            "--reason",
            "retention-limit",
        ],
        &[(
            "CLEARINGHOUSE_OPERATOR_TOKEN",
            common::OPERATOR_TOKEN.to_owned(),
        )],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("erased: 1 person record(s)"), "{stdout}");
}

on_both_databases!(erase_a_person, super::erasure);
