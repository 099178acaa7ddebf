//! High availability: two real `serve` processes on one PostgreSQL database. One leads
//! (runs the sequencer), the other forwards its appends through the database. The leader
//! is killed (SIGKILL) in the middle of appends on both: the follower takes over, no
//! acknowledged entry is lost, no index is handed out twice, and every checkpoint either
//! process handed out is consistent with the final one (no fork). Then the old leader comes
//! back as a follower, and a graceful shutdown of the new leader hands the lock back.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearinghouse::ledger::hash::leaf_hash;
use clearinghouse::ledger::note::{NoteVerifier, open_checkpoint};
use common::{OPERATOR_TOKEN, ORIGIN, ServerProcess, TestDb, record_body};
use serde_json::Value;

/// What a client was told, and by which process.
#[derive(Clone)]
struct Ack {
    server: usize,
    told: common::acks::Ack,
}

async fn role(client: &reqwest::Client, base: &str) -> String {
    let Ok(response) = client.get(format!("{base}/readyz")).send().await else {
        return "unreachable".into();
    };
    let body: Value = response.json().await.unwrap_or_default();
    body["role"].as_str().unwrap_or("unknown").to_owned()
}

/// Wait until `base` reports `wanted` (the election runs every 500 ms).
async fn await_role(client: &reqwest::Client, base: &str, wanted: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = role(client, base).await;
        if now == wanted {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{base} is {now}, not {wanted}, after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn append(client: &reqwest::Client, base: &str, n: u64) -> Result<Value, String> {
    let response = client
        .post(format!("{base}/v1/governance/records"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&record_body(n))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("{status}: {body}"));
    }
    Ok(body)
}

/// Writers appending to `base` until `stop` (or, if `stop_on_error`, the first failure).
fn writers(
    server: usize,
    base: &str,
    acks: &Arc<Mutex<Vec<Ack>>>,
    stop: &Arc<AtomicBool>,
    stop_on_error: bool,
) -> Vec<tokio::task::JoinHandle<()>> {
    let client = reqwest::Client::new();
    (0..4u64)
        .map(|writer| {
            let (client, base, acks, stop) =
                (client.clone(), base.to_owned(), acks.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let id = (server as u64 * 10 + writer) * 1_000_000 + n;
                    match append(&client, &base, id).await {
                        Ok(body) => acks.lock().unwrap().push(Ack {
                            server,
                            told: common::acks::Ack::from_receipt(&body["log"]),
                        }),
                        // During failover a write may be refused (503): nothing was logged
                        // for it, and the client tries again.
                        Err(_) if stop_on_error => break,
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL skipped: set TEST_DATABASE_URL to run it"
)]
async fn leader_killed_mid_appends_loses_nothing_and_forks_nothing() {
    let db = TestDb::new_for_process(common::Db::Postgres).await;
    let data_dir = db.dir.path().to_str().unwrap().to_owned();
    let env = common::server_env(&db);
    let (code, vkey, stderr) = common::run_cli(&["keygen", "--data-dir", &data_dir], &env);
    assert_eq!(code, 0, "{stderr}");
    let vkey = vkey.trim().to_owned();
    let (code, _, stderr) = common::run_cli(&["keygen", "--issuer", "--data-dir", &data_dir], &env);
    assert_eq!(code, 0, "{stderr}");
    let verifier = NoteVerifier::from_vkey(&vkey).unwrap();
    let args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir];
    let client = reqwest::Client::new();

    // The first process leads, the second follows.
    let first = ServerProcess::spawn(&args, &env).await;
    await_role(&client, &first.base, "leader").await;
    let second = ServerProcess::spawn(&args, &env).await;
    await_role(&client, &second.base, "follower").await;
    let (first_base, second_base) = (first.base.clone(), second.base.clone());

    // Both take appends; the follower's go through the database to the leader.
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = writers(0, &first_base, &acks, &stop, true);
    tasks.extend(writers(1, &second_base, &acks, &stop, false));
    let count = |server: usize| {
        acks.lock()
            .unwrap()
            .iter()
            .filter(|a| a.server == server)
            .count()
    };
    while count(0) < 150 || count(1) < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Pull the plug on the leader while requests to both are in flight.
    first.kill().await;
    let before_failover = count(1);
    await_role(&client, &second_base, "leader").await;
    while count(1) < before_failover + 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let acks: Vec<_> = acks
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.told.clone())
        .collect();

    // No index was handed out twice: one history, not two.
    let indexes: BTreeSet<u64> = acks.iter().map(|a| a.index).collect();
    assert_eq!(indexes.len(), acks.len(), "an index was acknowledged twice");

    // Every acknowledged entry, from either process, is there and proven in the final
    // tree, and every checkpoint either process handed out is a prefix of it: no fork.
    let (latest, handed_out) =
        common::acks::check_acknowledged(&client, &second_base, &verifier, &acks).await;

    // The old leader comes back as a follower; its writes reach the new leader.
    let third = ServerProcess::spawn(&args, &env).await;
    await_role(&client, &third.base, "follower").await;
    let body = append(&client, &third.base, 7).await.unwrap();
    let forwarded = body["log"]["index"].as_u64().unwrap();
    assert!(forwarded >= latest.size, "a new entry extends the log");

    // A receipt from the leader can be checked at once against the follower (behind a load
    // balancer the next request may land there): it catches up instead of answering that
    // the size does not exist yet, and its checkpoint does not go back.
    let body = append(&client, &second_base, 9).await.unwrap();
    let (index, size) = (
        body["log"]["index"].as_u64().unwrap(),
        body["log"]["tree_size"].as_u64().unwrap(),
    );
    let response = client
        .get(format!(
            "{}/log/proof/inclusion?index={index}&size={size}",
            third.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let note = client
        .get(format!("{}/log/checkpoint", third.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(open_checkpoint(&note, &verifier, ORIGIN).unwrap().size >= size);
    let response = client
        .get(format!("{}/log/entries/{index}", third.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A graceful shutdown of the leader hands the lock over: the follower leads and writes.
    let status = second.terminate().await;
    assert!(status.success(), "clean shutdown: {status}");
    await_role(&client, &third.base, "leader").await;
    let body = append(&client, &third.base, 8).await.unwrap();
    assert!(body["log"]["index"].as_u64().unwrap() > forwarded);

    // The whole log verifies from outside, against the oldest checkpoint a client saw.
    common::acks::verify_from_oldest(db.dir.path(), &third.base, &vkey, &handed_out);
    let status = third.terminate().await;
    assert!(status.success(), "clean shutdown: {status}");
}

/// A follower's append that no leader commits in time is withdrawn and reported as not
/// logged; with a leader's sequencer and feeder running, the same call is committed and
/// the follower proves it from its own view of the head.
async fn forwarded_append_is_committed_or_withdrawn(kind: common::Db) {
    use clearinghouse::cluster::forward::{self, Feeder};
    use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner};
    use clearinghouse::ledger::publish::HeadPublisher;
    use clearinghouse::ledger::reader::LogReader;
    use clearinghouse::ledger::sequencer::{self, SequencerConfig, load_head, open_head};
    use clearinghouse::ledger::storage::LogStorage;

    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let signer = NoteSigner::generate(ORIGIN, ALG_ED25519).unwrap();
    let state = open_head(&store, &signer, ORIGIN).await.unwrap();
    let (follower_view, _) = HeadPublisher::new(state.clone());

    let refused = forward::append(
        &store,
        &follower_view,
        vec![b"nobody leads".to_vec()],
        Duration::from_millis(200),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("withdrawn"), "{refused}");
    assert!(store.pending_forwarded(10).await.unwrap().is_empty());
    assert_eq!(store.head().await.unwrap().unwrap().size, 0);

    // A caller that gives up early (client gone, request timeout) still gets its row
    // withdrawn: the forwarding runs on, detached, until its own deadline.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(50),
        forward::append(
            &store,
            &follower_view,
            vec![b"abandoned".to_vec()],
            Duration::from_millis(300),
        ),
    )
    .await;
    assert!(abandoned.is_err(), "the caller gave up first");
    assert_eq!(store.pending_forwarded(10).await.unwrap().len(), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !store.pending_forwarded(10).await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the abandoned append was not withdrawn"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.head().await.unwrap().unwrap().size, 0);

    let (publisher, subscribe) = HeadPublisher::new(state);
    let reader = Arc::new(LogReader::new(
        Arc::new(store.clone()),
        subscribe,
        std::num::NonZeroUsize::new(64).unwrap(),
    ));
    let (handle, running) = sequencer::start(
        Arc::new(store.clone()),
        Arc::new(signer),
        ORIGIN.into(),
        SequencerConfig::default(),
        publisher,
        reader,
        None,
    );
    let feeder = Feeder::start(store.clone(), handle);
    let entries = vec![b"forwarded 1".to_vec(), b"forwarded 2".to_vec()];
    let appended = forward::append(
        &store,
        &follower_view,
        entries.clone(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(appended.first_index, 0);
    assert_eq!(appended.head.head.size, 2);
    let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(appended.leaf_hashes, leaves);
    assert_eq!(
        follower_view.current().head.size,
        2,
        "the follower saw the new head"
    );
    assert_eq!(store.entries(0, 10).await.unwrap(), entries);
    feeder.stop().await;
    running.stop(Duration::from_secs(10)).await;
    let reloaded = load_head(&store).await.unwrap().unwrap();
    assert_eq!(reloaded.head.size, 2);
}
on_both_databases!(
    forward_path,
    super::forwarded_append_is_committed_or_withdrawn
);

/// The election and the cross-process locks, as two processes see them (two pools on one
/// schema): one leader at a time, the lock passes on resignation; a named lock excludes
/// the same name only, and is released with its guard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL skipped: set TEST_DATABASE_URL to run it"
)]
async fn one_leader_at_a_time_and_locks_exclude_across_processes() {
    let db = TestDb::new(common::Db::Postgres).await;
    let (one, two) = (db.store().await, db.store().await);
    let mut first = one.election(ORIGIN).unwrap();
    let mut second = two.election(ORIGIN).unwrap();
    assert!(first.try_lead().await.unwrap());
    assert!(!second.try_lead().await.unwrap(), "two leaders");
    assert!(first.try_lead().await.unwrap(), "the leader keeps the lock");
    // Another log (origin) in the same schema has its own election.
    assert!(
        two.election("other.example/log")
            .unwrap()
            .try_lead()
            .await
            .unwrap()
    );
    first.resign();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !second.try_lead().await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lock was not passed on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!first.try_lead().await.unwrap(), "the old leader follows");

    let held = one.cluster_lock("exchange:contract-1").await.unwrap();
    let waiting = tokio::spawn({
        let two = two.clone();
        async move { two.cluster_lock("exchange:contract-1").await.map(|_| ()) }
    });
    let other = two.cluster_lock("exchange:contract-2").await;
    assert!(other.is_ok(), "another name is not held");
    drop(other);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the same name was granted twice");
    drop(held);
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the lock was released with its guard")
        .unwrap()
        .unwrap();
}
