//! The independent test vectors (Go's sumdb/tlog and sumdb/note), reproduced byte for byte:
//! by the pure ledger code, and end to end through the sequencer, storage and HTTP API.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clearinghouse::ledger::hash::{Hash, empty_root, leaf_hash};
use clearinghouse::ledger::note::{
    ALG_COSIGNATURE_V1, ALG_ED25519, Checkpoint, Note, NoteSigner, NoteVerifier, open_checkpoint,
};
use clearinghouse::ledger::proof::{verify_consistency, verify_inclusion};
use clearinghouse::ledger::tiles::{TileId, TileKind, encode_bundle, tile_body, tiles_for_size};
use clearinghouse::ledger::tree::{RightEdge, consistency_ranges, inclusion_ranges, range_hashes};
use clearinghouse::ledger::witness::{cosign, verify_cosignature};
use common::{hex_hash, vectors};
use ed25519_dalek::SigningKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn leaves(v: &Value) -> Vec<Vec<u8>> {
    let format = v["leaf_format"].as_str().unwrap();
    (0..v["leaf_count"].as_u64().unwrap())
        .map(|i| format.replace("%d", &i.to_string()).into_bytes())
        .collect()
}

/// Tiles of the 1000-leaf tree, built by the same right edge the sequencer uses.
fn tiles(v: &Value) -> BTreeMap<(u8, u64), Vec<Hash>> {
    let mut edge = RightEdge::empty();
    let mut tiles = BTreeMap::new();
    let hashes: Vec<Hash> = leaves(v).iter().map(|l| leaf_hash(l)).collect();
    // Uneven batches, as the sequencer would see them.
    for chunk in hashes.chunks(37) {
        for write in edge.append(chunk) {
            tiles.insert((write.level, write.index), write.hashes);
        }
    }
    tiles
}

fn seed_signer(name: &str, seed_hex: &str, alg: u8) -> NoteSigner {
    let seed: [u8; 32] = hex::decode(seed_hex).unwrap().try_into().unwrap();
    NoteSigner::new(name, alg, SigningKey::from_bytes(&seed)).unwrap()
}

fn hashes(list: &Value) -> Vec<Hash> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| hex_hash(h.as_str().unwrap()))
        .collect()
}

/// Every leaf hash and the empty root.
#[test]
fn leaf_hashes_and_empty_root() {
    let v = vectors();
    for (leaf, expected) in leaves(&v)
        .iter()
        .zip(v["leaf_hashes_hex"].as_array().unwrap())
    {
        assert_eq!(hex::encode(leaf_hash(leaf)), expected.as_str().unwrap());
    }
    assert_eq!(
        hex::encode(empty_root()),
        v["empty_tree_root_hex"].as_str().unwrap()
    );
}

/// Roots at every listed size, from the right edge and from the stored tiles.
#[test]
fn roots() {
    let v = vectors();
    let hashes: Vec<Hash> = leaves(&v).iter().map(|l| leaf_hash(l)).collect();
    let tiles = tiles(&v);
    for root in v["roots"].as_array().unwrap() {
        let size = root["size"].as_u64().unwrap();
        let mut edge = RightEdge::empty();
        edge.append(&hashes[..size as usize]);
        assert_eq!(hex::encode(edge.root()), root["root_hex"].as_str().unwrap());
        assert_eq!(B64.encode(edge.root()), root["root_b64"].as_str().unwrap());
        let range = clearinghouse::ledger::tree::LeafRange {
            start: 0,
            end: size,
        };
        let from_tiles = range_hashes(&[range], &tiles).unwrap()[0];
        assert_eq!(from_tiles, edge.root(), "size {size} from tiles");
    }
}

/// Inclusion proofs computed from tiles equal the vectors and verify.
#[test]
fn inclusion_proofs() {
    let v = vectors();
    let tiles = tiles(&v);
    for case in v["inclusion"].as_array().unwrap() {
        let index = case["index"].as_u64().unwrap();
        let size = case["size"].as_u64().unwrap();
        let expected = hashes(&case["proof_hex"]);
        let proof = range_hashes(&inclusion_ranges(index, size), &tiles).unwrap();
        assert_eq!(proof, expected, "inclusion {index} in {size}");
        let leaf = hex_hash(case["leaf_hash_hex"].as_str().unwrap());
        assert_eq!(
            leaf,
            leaf_hash(case["leaf_data"].as_str().unwrap().as_bytes())
        );
        let root = hex_hash(case["root_hex"].as_str().unwrap());
        verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
    }
}

/// Consistency proofs computed from tiles equal the vectors and verify.
#[test]
fn consistency_proofs() {
    let v = vectors();
    let tiles = tiles(&v);
    for case in v["consistency"].as_array().unwrap() {
        let old = case["old_size"].as_u64().unwrap();
        let new = case["new_size"].as_u64().unwrap();
        let expected = hashes(&case["proof_hex"]);
        let proof = range_hashes(&consistency_ranges(old, new), &tiles).unwrap();
        assert_eq!(proof, expected, "consistency {old} -> {new}");
        let old_root = hex_hash(case["old_root_hex"].as_str().unwrap());
        let new_root = hex_hash(case["new_root_hex"].as_str().unwrap());
        verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
    }
}

/// Every mutated proof is rejected.
#[test]
fn negative_proofs_are_rejected() {
    let v = vectors();
    for case in v["negative_proofs"].as_array().unwrap() {
        assert_eq!(case["expect_valid"], Value::Bool(false));
        let proof = hashes(&case["proof_hex"]);
        let description = case["description"].as_str().unwrap();
        match case["kind"].as_str().unwrap() {
            "inclusion" => {
                let index = case["index"].as_u64().unwrap_or(0);
                let size = case["size"].as_u64().unwrap();
                let leaf = hex_hash(case["leaf_hash_hex"].as_str().unwrap());
                let root = hex_hash(case["root_hex"].as_str().unwrap());
                assert!(
                    verify_inclusion(index, size, &leaf, &proof, &root).is_err(),
                    "accepted: {description}"
                );
            }
            "consistency" => {
                let old = case["old_size"].as_u64().unwrap();
                let new = case["new_size"].as_u64().unwrap();
                let old_root = hex_hash(case["old_root_hex"].as_str().unwrap());
                let root = hex_hash(case["root_hex"].as_str().unwrap());
                assert!(
                    verify_consistency(old, new, &old_root, &root, &proof).is_err(),
                    "accepted: {description}"
                );
            }
            other => panic!("unknown negative proof kind {other}"),
        }
    }
}

/// Tile paths: formatting and parsing.
#[test]
fn tile_paths() {
    let v = vectors();
    for case in v["tile_paths"].as_array().unwrap() {
        let level = case["level"].as_i64().unwrap();
        let kind = if level < 0 {
            TileKind::Entries
        } else {
            TileKind::Hashes { level: level as u8 }
        };
        let id = TileId {
            kind,
            index: case["n"].as_u64().unwrap(),
            width: case["width"].as_u64().unwrap() as u16,
        };
        let path = case["c2sp_path"].as_str().unwrap();
        assert_eq!(id.path(), path);
        assert_eq!(TileId::parse(path).unwrap(), id);
    }
}

/// Every tile and entry bundle of the 1000-leaf tree: the same paths, lengths and bodies.
#[test]
fn tile_set_bodies() {
    let v = vectors();
    let set = &v["tile_sets"][0];
    let size = set["tree_size"].as_u64().unwrap();
    let tiles = tiles(&v);
    let leaves = leaves(&v);
    let mut expected: Vec<&Value> = set["tiles"].as_array().unwrap().iter().collect();
    expected.extend(set["entry_bundles"].as_array().unwrap());
    let ours = tiles_for_size(size);
    assert_eq!(ours.len(), expected.len());
    for (id, case) in ours.iter().zip(expected) {
        assert_eq!(id.path(), case["path"].as_str().unwrap());
        let width = usize::from(id.width);
        let body = match id.kind {
            TileKind::Hashes { level } => tile_body(&tiles[&(level, id.index)][..width]),
            TileKind::Entries => {
                let start = id.index as usize * 256;
                encode_bundle(leaves[start..start + width].iter().map(Vec::as_slice)).unwrap()
            }
        };
        assert_eq!(body.len() as u64, case["body_len"].as_u64().unwrap());
        assert_eq!(
            hex::encode(Sha256::digest(&body)),
            case["sha256_of_body_hex"].as_str().unwrap(),
            "{}",
            id.path()
        );
    }
}

/// The deterministic test key: key ID, verifier key and private key encoding.
#[test]
fn log_key() {
    let v = vectors();
    let key = &v["log_key"];
    let signer = seed_signer(
        key["name"].as_str().unwrap(),
        key["seed_hex"].as_str().unwrap(),
        ALG_ED25519,
    );
    assert_eq!(
        hex::encode(signer.verifier().public_key().as_bytes()),
        key["public_key_hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(signer.verifier().key_id()),
        key["key_id_hex"].as_str().unwrap()
    );
    assert_eq!(signer.verifier().vkey(), key["vkey"].as_str().unwrap());
    assert_eq!(signer.skey(), key["skey_xmod_format"].as_str().unwrap());
    let parsed = NoteVerifier::from_vkey(key["vkey"].as_str().unwrap()).unwrap();
    assert_eq!(&parsed, signer.verifier());
}

/// Signed checkpoints: identical bytes for the valid ones, rejection of the others.
#[test]
fn checkpoints() {
    let v = vectors();
    let key = &v["log_key"];
    let name = key["name"].as_str().unwrap();
    let signer = seed_signer(name, key["seed_hex"].as_str().unwrap(), ALG_ED25519);
    let verifier = NoteVerifier::from_vkey(key["vkey"].as_str().unwrap()).unwrap();
    for case in v["checkpoints"].as_array().unwrap() {
        let description = case["description"].as_str().unwrap();
        let note = case["signed_note"].as_str().unwrap();
        let text = case["checkpoint_text"].as_str().unwrap();
        if case["expect_valid"].as_bool().unwrap() {
            assert_eq!(signer.sign_note(text).unwrap(), note, "{description}");
            let checkpoint = open_checkpoint(note, &verifier, name).unwrap();
            assert_eq!(checkpoint.to_text(), text);
            assert_eq!(Checkpoint::parse(text).unwrap(), checkpoint);
        } else {
            assert!(
                open_checkpoint(note, &verifier, name).is_err(),
                "accepted: {description}"
            );
        }
    }
}

/// The witness cosignature: same message, same signature line, and it verifies.
#[test]
fn cosignature() {
    let v = vectors();
    let c = &v["cosignature"];
    let cosigner = &c["cosigner"];
    let witness = seed_signer(
        cosigner["name"].as_str().unwrap(),
        cosigner["seed_hex"].as_str().unwrap(),
        ALG_COSIGNATURE_V1,
    );
    assert_eq!(
        witness.verifier().vkey(),
        cosigner["vkey"].as_str().unwrap()
    );
    let timestamp = c["timestamp"].as_u64().unwrap();
    let cosigned = c["cosigned_note"].as_str().unwrap();
    let note = Note::parse(cosigned).unwrap();
    assert_eq!(
        clearinghouse::ledger::witness::cosignature_message(&note.text, timestamp),
        c["signed_message"].as_str().unwrap()
    );
    let line = cosign(&witness, &note.text, timestamp).unwrap();
    assert_eq!(line, c["signature_line"].as_str().unwrap());
    assert_eq!(
        verify_cosignature(&note, witness.verifier()).unwrap(),
        timestamp
    );
    let log = NoteVerifier::from_vkey(v["log_key"]["vkey"].as_str().unwrap()).unwrap();
    open_checkpoint(cosigned, &log, "example.org/log").unwrap();
}

/// End to end: the 1000 vector leaves appended through the real sequencer, storage and HTTP
/// server, signed with the vector key, give the vector tiles, proofs and signed checkpoint.
async fn served_log_matches_vectors(kind: common::Db) {
    let v = vectors();
    let key = &v["log_key"];
    let name = key["name"].as_str().unwrap();
    let signer = seed_signer(name, key["seed_hex"].as_str().unwrap(), ALG_ED25519);
    let db = common::TestDb::new(kind).await;
    let mut config = common::test_config(&db);
    // The vector key's name is the origin.
    config.log.origin = name.to_owned();
    config.log.batch_max_entries = 100;
    let server = common::TestServer::start_with_config(db, signer, config).await;
    let state = server.state.clone();
    let base = server.base.clone();
    // Groups of varying size, each appended atomically, in order (so index i holds leaf i).
    let all = leaves(&v);
    let mut start = 0;
    let mut group = 1;
    while start < all.len() {
        let end = (start + group).min(all.len());
        let receipts = state
            .journal
            .append_raw(all[start..end].to_vec())
            .await
            .unwrap();
        start = end;
        group = group % 29 + 1;
        for receipt in receipts {
            let root = Checkpoint::parse(&Note::parse(&receipt.checkpoint).unwrap().text)
                .unwrap()
                .root;
            let path: Vec<Hash> = receipt
                .inclusion_path
                .iter()
                .map(|h| common::b64_hash(h))
                .collect();
            verify_inclusion(
                receipt.index,
                receipt.tree_size,
                &common::b64_hash(&receipt.leaf_hash),
                &path,
                &root,
            )
            .unwrap();
        }
    }
    let client = reqwest::Client::new();
    let checkpoint = client
        .get(format!("{base}/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        checkpoint,
        v["checkpoints"][0]["signed_note"].as_str().unwrap()
    );
    let set = &v["tile_sets"][0];
    for case in set["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .chain(set["entry_bundles"].as_array().unwrap())
    {
        let path = case["path"].as_str().unwrap();
        let response = client
            .get(format!("{base}/log/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body = response.bytes().await.unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&body)),
            case["sha256_of_body_hex"].as_str().unwrap(),
            "{path}"
        );
    }
    for case in v["inclusion"].as_array().unwrap() {
        let index = case["index"].as_u64().unwrap();
        let size = case["size"].as_u64().unwrap();
        let proof: Value = client
            .get(format!(
                "{base}/log/proof/inclusion?index={index}&size={size}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got = common::b64_hashes(proof["inclusion_path"].as_array().unwrap());
        assert_eq!(
            got,
            hashes(&case["proof_hex"]),
            "inclusion {index} in {size}"
        );
    }
    for case in v["consistency"].as_array().unwrap() {
        let old = case["old_size"].as_u64().unwrap();
        let new = case["new_size"].as_u64().unwrap();
        let proof: Value = client
            .get(format!("{base}/log/proof/consistency?old={old}&new={new}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got = common::b64_hashes(proof["consistency_path"].as_array().unwrap());
        assert_eq!(
            got,
            hashes(&case["proof_hex"]),
            "consistency {old} -> {new}"
        );
    }
    drop(state);
    server.stop().await;
}

on_both_databases!(
    served_log_reproduces_vectors,
    super::served_log_matches_vectors
);
