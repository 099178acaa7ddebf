//! `clearinghouse verify` catches tampering: a changed entry, a changed or truncated tile,
//! a checkpoint signed by another key, a rolled-back or forked log. Each failure names the
//! problem; an untouched log verifies, from a directory and over HTTP.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use clearinghouse::entry::encode;
use clearinghouse::export::export_log;
use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner, NoteVerifier};
use clearinghouse::verify::log::{VerifyError, VerifyOptions, verify_log};
use clearinghouse::verify::source::LogSource;
use common::{Db, ORIGIN, TestDb, TestServer, record_entry};

async fn append(server: &TestServer, range: std::ops::Range<u64>, salt: &str) {
    let entries: Vec<Vec<u8>> = range
        .map(|n| {
            let mut body = record_entry(n);
            body.title = format!("{} {salt}", body.title);
            encode(chrono::Utc::now(), &body).unwrap()
        })
        .collect();
    for chunk in entries.chunks(100) {
        server
            .state
            .journal
            .append_raw(chunk.to_vec())
            .await
            .unwrap();
    }
}

async fn export(server: &TestServer, dir: &Path) {
    export_log(server.state.journal.reader(), &server.vkey, dir)
        .await
        .unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn options(vkey: &str, previous: Option<String>) -> VerifyOptions {
    VerifyOptions {
        verifier: NoteVerifier::from_vkey(vkey).unwrap(),
        origin: ORIGIN.into(),
        previous,
        concurrency: 4,
    }
}

async fn verify_dir(dir: &Path, vkey: &str, previous: Option<String>) -> Result<(), VerifyError> {
    verify_log(&LogSource::dir(dir), &options(vkey, previous))
        .await
        .map(|_| ())
}

/// A pristine copy of `source` that the closure may damage.
fn damaged(source: &Path, scratch: &Path, name: &str, damage: impl FnOnce(&Path)) -> PathBuf {
    let dir = scratch.join(name);
    copy_dir(source, &dir);
    damage(&dir);
    dir
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Each kind of tampering is caught and named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_is_caught() {
    let server = TestServer::start(Db::Sqlite).await;
    let scratch = tempfile::tempdir().unwrap();
    let early = scratch.path().join("early");
    let pristine = scratch.path().join("pristine");
    append(&server, 0..300, "").await;
    export(&server, &early).await;
    append(&server, 300..600, "").await;
    export(&server, &pristine).await;
    let vkey = server.vkey.clone();
    let early_checkpoint = std::fs::read_to_string(early.join("checkpoint")).unwrap();
    let late_checkpoint = std::fs::read_to_string(pristine.join("checkpoint")).unwrap();

    verify_dir(&pristine, &vkey, Some(early_checkpoint.clone()))
        .await
        .unwrap();

    // A changed entry: its hash no longer matches the level-0 tile.
    let dir = damaged(&pristine, scratch.path(), "entry", |d| {
        flip_byte(&d.join("tile/entries/001"), 40)
    });
    match verify_dir(&dir, &vkey, None).await {
        Err(VerifyError::EntryMismatch { index, tile }) => {
            assert_eq!(index, 256);
            assert_eq!(tile, "tile/0/001");
        }
        other => panic!("expected an entry mismatch, got {other:?}"),
    }

    // A changed leaf hash in a level-0 tile.
    let dir = damaged(&pristine, scratch.path(), "tile0", |d| {
        flip_byte(&d.join("tile/0/000"), 32 * 9 + 3)
    });
    let error = verify_dir(&dir, &vkey, None).await.unwrap_err();
    assert!(
        matches!(&error, VerifyError::EntryMismatch { index: 9, tile } if tile == "tile/0/000"),
        "{error}"
    );

    // A changed hash in a level-1 tile.
    let dir = damaged(&pristine, scratch.path(), "tile1", |d| {
        flip_byte(&d.join("tile/1/000.p/2"), 33)
    });
    let error = verify_dir(&dir, &vkey, None).await.unwrap_err();
    assert!(
        matches!(&error, VerifyError::TileMismatch { path, position: 1 } if path == "tile/1/000.p/2"),
        "{error}"
    );
    assert!(error.to_string().contains("tile/1/000.p/2"));

    // A truncated tile.
    let dir = damaged(&pristine, scratch.path(), "truncated", |d| {
        let path = d.join("tile/0/001");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 32]).unwrap();
    });
    let error = verify_dir(&dir, &vkey, None).await.unwrap_err();
    assert!(
        matches!(&error, VerifyError::TileLength { path, got: 8160, .. } if path == "tile/0/001"),
        "{error}"
    );

    // A missing bundle.
    let dir = damaged(&pristine, scratch.path(), "missing", |d| {
        std::fs::remove_file(d.join("tile/entries/002.p/88")).unwrap()
    });
    let error = verify_dir(&dir, &vkey, None).await.unwrap_err();
    assert!(
        error.to_string().contains("tile/entries/002.p/88"),
        "{error}"
    );

    // A checkpoint whose size was changed after signing.
    let dir = damaged(&pristine, scratch.path(), "resized", |d| {
        let text = late_checkpoint.replacen("\n600\n", "\n599\n", 1);
        std::fs::write(d.join("checkpoint"), text).unwrap();
    });
    let error = verify_dir(&dir, &vkey, None).await.unwrap_err();
    assert!(
        error.to_string().contains("does not verify"),
        "signature must fail: {error}"
    );

    // A checkpoint signed by another key with the same name.
    let impostor = NoteSigner::generate(ORIGIN, ALG_ED25519).unwrap();
    let dir = damaged(&pristine, scratch.path(), "impostor", |d| {
        let text = clearinghouse::ledger::note::Note::parse(&late_checkpoint)
            .unwrap()
            .text;
        std::fs::write(d.join("checkpoint"), impostor.sign_note(&text).unwrap()).unwrap();
    });
    let error = verify_dir(&dir, &vkey, None).await.unwrap_err();
    assert!(
        matches!(error, VerifyError::Checkpoint(_)) && error.to_string().contains("not signed"),
        "{error}"
    );

    // A rolled-back log: the early state presented after the late checkpoint was seen.
    let error = verify_dir(&early, &vkey, Some(late_checkpoint.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            VerifyError::RolledBack {
                previous: 600,
                current: 300
            }
        ),
        "{error}"
    );

    // A fork: another history signed with the same key, diverging before size 300.
    let signer = NoteSigner::from_skey(&server.signer_skey).unwrap();
    let fork = TestServer::start_on(TestDb::new(Db::Sqlite).await, signer).await;
    append(&fork, 0..200, "").await;
    append(&fork, 200..600, "forked").await;
    let forked = scratch.path().join("forked");
    export(&fork, &forked).await;
    verify_dir(&forked, &vkey, None).await.unwrap();
    let error = verify_dir(&forked, &vkey, Some(early_checkpoint.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, VerifyError::Forked { size: 300 }),
        "{error}"
    );

    // The command line says the same, with a non-zero exit.
    let damaged_dir = scratch.path().join("entry");
    let (code, stdout, _) = common::run_cli(
        &[
            "verify",
            "--dir",
            damaged_dir.to_str().unwrap(),
            "--key",
            &vkey,
        ],
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL entry 256"), "{stdout}");
    assert!(stdout.contains("VERDICT: FAILED"), "{stdout}");

    let saved = scratch.path().join("saved-checkpoint");
    let (code, stdout, _) = common::run_cli(
        &[
            "verify",
            "--dir",
            pristine.to_str().unwrap(),
            "--key",
            &vkey,
            "--save",
            saved.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("VERDICT: OK"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), late_checkpoint);
    let (code, stdout, _) = common::run_cli(
        &[
            "verify",
            "--dir",
            early.to_str().unwrap(),
            "--key",
            &vkey,
            "--previous",
            saved.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("rolled back"), "{stdout}");

    fork.stop().await;
    server.stop().await;
}
