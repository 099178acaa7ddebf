//! The storage contract on both databases: atomic compare-and-swap commits, concurrent
//! appenders getting distinct contiguous indexes, reopening to the same tree, and refusing to
//! grow a log whose stored tiles disagree with its checkpoint.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::sync::Arc;

use clearinghouse::ledger::hash::{leaf_hash, tree_root};
use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner};
use clearinghouse::ledger::publish::HeadPublisher;
use clearinghouse::ledger::reader::LogReader;
use clearinghouse::ledger::sequencer::{SequencerConfig, load_head, open_head, start};
use clearinghouse::ledger::storage::ForwardedClaim;
use clearinghouse::ledger::storage::{CommitBatch, LogStorage, StorageError, StoredHead};
use clearinghouse::ledger::tree::RightEdge;
use clearinghouse::store::Store;
use clearinghouse::store::cluster::ForwardedOutcome;
use common::{Db, TestDb};

fn signer() -> NoteSigner {
    NoteSigner::generate("storage.test/log", ALG_ED25519).unwrap()
}

/// A batch extending `head` by `entries`, as the sequencer would build it.
fn batch(
    edge: &RightEdge,
    old_size: u64,
    entries: Vec<Vec<u8>>,
    signer: &NoteSigner,
) -> CommitBatch {
    let mut edge = edge.clone();
    let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
    let tiles = edge.append(&leaves);
    let checkpoint = clearinghouse::ledger::note::Checkpoint {
        origin: "storage.test/log".into(),
        size: edge.size(),
        root: edge.root(),
        extensions: vec![],
    };
    CommitBatch {
        old_size,
        entries,
        tiles,
        head: StoredHead {
            size: edge.size(),
            root: edge.root(),
            checkpoint: checkpoint.sign(signer).unwrap(),
        },
        forwarded: Vec::new(),
    }
}

/// Two writers extending the same head: the second commit fails and changes nothing.
async fn compare_and_swap(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let signer = signer();
    let state = open_head(&store, &signer, "storage.test/log")
        .await
        .unwrap();
    let first = batch(&state.edge, 0, vec![b"a".to_vec(), b"b".to_vec()], &signer);
    let rival = batch(&state.edge, 0, vec![b"x".to_vec()], &signer);
    store.commit(&first).await.unwrap();
    match store.commit(&rival).await {
        Err(StorageError::Conflict { expected: 0 }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    let head = store.head().await.unwrap().unwrap();
    assert_eq!(head.size, 2);
    assert_eq!(
        store.entries(0, 10).await.unwrap(),
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(store.checkpoint_at(1).await.unwrap(), None);
    assert!(store.checkpoint_at(2).await.unwrap().is_some());
}
on_both_databases!(cas, super::compare_and_swap);

/// An append forwarded by another process is claimed in the commit that logs it; one its
/// forwarder withdrew makes the commit fail and change nothing, and cannot be withdrawn
/// once claimed.
async fn forwarded_appends_are_claimed_atomically(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let signer = signer();
    let state = open_head(&store, &signer, "storage.test/log")
        .await
        .unwrap();
    let entries = vec![b"forwarded-1".to_vec(), b"forwarded-2".to_vec()];
    let kept = store.forward_append(&entries).await.unwrap();
    let withdrawn = store.forward_append(&[b"gone".to_vec()]).await.unwrap();
    assert_eq!(
        store.pending_forwarded(10).await.unwrap(),
        vec![(kept, entries.clone()), (withdrawn, vec![b"gone".to_vec()])]
    );
    assert!(store.withdraw_forwarded(withdrawn).await.unwrap());
    assert_eq!(
        store.forwarded_outcome(withdrawn).await.unwrap(),
        ForwardedOutcome::Missing
    );

    // A batch claiming the withdrawn append is refused as a whole.
    let mut both = batch(&state.edge, 0, vec![b"gone".to_vec()], &signer);
    both.forwarded = vec![ForwardedClaim {
        id: withdrawn,
        first_index: 0,
    }];
    match store.commit(&both).await {
        Err(StorageError::Withdrawn(id)) => assert_eq!(id, withdrawn),
        other => panic!("expected a withdrawn append, got {other:?}"),
    }
    assert_eq!(store.head().await.unwrap().unwrap().size, 0);
    assert_eq!(
        store.forwarded_outcome(kept).await.unwrap(),
        ForwardedOutcome::Pending
    );

    // The pending one is logged and learns its index from the same transaction.
    let mut good = batch(&state.edge, 0, entries.clone(), &signer);
    good.forwarded = vec![ForwardedClaim {
        id: kept,
        first_index: 0,
    }];
    store.commit(&good).await.unwrap();
    assert_eq!(
        store.forwarded_outcome(kept).await.unwrap(),
        ForwardedOutcome::Appended(0)
    );
    assert!(!store.withdraw_forwarded(kept).await.unwrap(), "claimed");
    assert_eq!(store.entries(0, 10).await.unwrap(), entries);
    assert!(store.pending_forwarded(10).await.unwrap().is_empty());

    // A row nobody waits for any more (its forwarder crashed) is refused, not logged late;
    // a committed one is not touched.
    let orphan = store.forward_append(&[b"orphan".to_vec()]).await.unwrap();
    let later = chrono::Utc::now().timestamp_millis() + 1;
    assert_eq!(store.expire_forwarded(later).await.unwrap(), 1);
    assert!(matches!(
        store.forwarded_outcome(orphan).await.unwrap(),
        ForwardedOutcome::Failed(reason) if reason.contains("expired")
    ));
    assert_eq!(
        store.forwarded_outcome(kept).await.unwrap(),
        ForwardedOutcome::Appended(0)
    );
    assert!(store.pending_forwarded(10).await.unwrap().is_empty());
}
on_both_databases!(forwarded, super::forwarded_appends_are_claimed_atomically);

async fn open(
    store: &Store,
    signer: NoteSigner,
) -> (
    clearinghouse::ledger::sequencer::SequencerHandle,
    clearinghouse::ledger::sequencer::RunningSequencer,
    Arc<LogReader<Store>>,
) {
    let state = open_head(store, &signer, "storage.test/log").await.unwrap();
    let (publish, subscribe) = HeadPublisher::new(state);
    let storage = Arc::new(store.clone());
    let reader = Arc::new(LogReader::new(
        storage.clone(),
        subscribe,
        NonZeroUsize::new(64).unwrap(),
    ));
    let config = SequencerConfig {
        max_batch: 97,
        ..SequencerConfig::default()
    };
    let (handle, running) = start(
        storage,
        Arc::new(signer),
        "storage.test/log".into(),
        config,
        publish,
        reader.clone(),
        None,
    );
    (handle, running, reader)
}

/// Concurrent appenders get distinct, contiguous indexes; the reopened log is the same tree.
async fn concurrent_appends_and_reopen(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let key = signer();
    let skey = key.skey();
    let (handle, running, _reader) = open(&store, key).await;
    let mut tasks = Vec::new();
    for writer in 0..6u32 {
        let handle = handle.clone();
        tasks.push(tokio::spawn(async move {
            let mut indexes = Vec::new();
            for n in 0..40u32 {
                let group: Vec<Vec<u8>> = (0..(n % 7 + 1))
                    .map(|k| format!("w{writer}-n{n}-k{k}").into_bytes())
                    .collect();
                let count = group.len() as u64;
                let appended = handle.append(group).await.unwrap();
                assert!(appended.head.head.size >= appended.first_index + count);
                indexes.extend(appended.first_index..appended.first_index + count);
            }
            indexes
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        for index in task.await.unwrap() {
            assert!(all.insert(index), "index {index} handed out twice");
        }
    }
    let size = all.len() as u64;
    assert_eq!(all, (0..size).collect::<BTreeSet<_>>());
    drop(handle);
    running.stop(std::time::Duration::from_secs(10)).await;

    let entries = store.entries(0, size).await.unwrap();
    let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
    let reopened = load_head(&store).await.unwrap().unwrap();
    assert_eq!(reopened.head.size, size);
    assert_eq!(reopened.head.root, tree_root(&leaves));
    let mut edge = RightEdge::empty();
    edge.append(&leaves);
    assert_eq!(reopened.edge, edge);

    // It keeps growing from where it was.
    let (handle, running, reader) = open(&store, NoteSigner::from_skey(&skey).unwrap()).await;
    let appended = handle.append(vec![b"after".to_vec()]).await.unwrap();
    assert_eq!(appended.first_index, size);
    let proof = reader.consistency_proof(size, size + 1).await.unwrap();
    clearinghouse::ledger::proof::verify_consistency(
        size,
        size + 1,
        &reopened.head.root,
        &appended.head.head.root,
        &proof,
    )
    .unwrap();
    drop(handle);
    running.stop(std::time::Duration::from_secs(10)).await;
}
on_both_databases!(concurrent, super::concurrent_appends_and_reopen);

/// A log whose stored tiles disagree with its checkpoint is not opened for writing.
async fn corrupt_tiles_are_refused(kind: Db) {
    let db = TestDb::new(kind).await;
    let store = db.store().await;
    let key = signer();
    let (handle, running, _) = open(&store, NoteSigner::from_skey(&key.skey()).unwrap()).await;
    handle
        .append((0..10).map(|i| vec![i as u8]).collect())
        .await
        .unwrap();
    drop(handle);
    running.stop(std::time::Duration::from_secs(10)).await;
    clearinghouse::with_pool!(store, |pool| {
        sqlx::query("UPDATE log_tiles SET data = $1 WHERE level = 0 AND idx = 0")
            .bind(vec![7u8; 320])
            .execute(pool)
            .await
            .unwrap();
    });
    let error = open_head(&store, &key, "storage.test/log")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("different root"),
        "unexpected error: {error}"
    );
}
on_both_databases!(corrupt, super::corrupt_tiles_are_refused);
