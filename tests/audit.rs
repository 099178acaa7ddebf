//! The audit API on both databases, over a seeded demo history: filtered, paginated
//! queries; 401/403 without the role and nothing logged; every answered read logged as
//! `audit.read`; offline bundles that `clearinghouse verify bundle` accepts untouched and
//! rejects, naming the failure, when an entry, a proof, the checkpoint or the key is wrong.
#![allow(clippy::unwrap_used)]
#![recursion_limit = "256"]

mod common;

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clearinghouse::config::AuditorToken;
use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner};
use clearinghouse::ledger::storage::LogStorage;
use common::{Db, OPERATOR_TOKEN, ORIGIN, TestServer, run_cli};
use serde_json::Value;
use sha2::{Digest, Sha256};

const AUDITOR_TOKEN: &str = "auditor-token-for-the-committee-0123";
const AUDITOR_LABEL: &str = "ctd-committee";

struct Env {
    server: TestServer,
    dir: tempfile::TempDir,
}

/// A server with one configured auditor and the demo history.
async fn env(kind: Db) -> Env {
    let (server, dir) = common::trust::demo_fixture_server(kind, |config| {
        config.auth.auditors = vec![AuditorToken {
            label: AUDITOR_LABEL.into(),
            token_sha256: hex::encode(Sha256::digest(AUDITOR_TOKEN.as_bytes())),
        }];
    })
    .await;
    let seeded = clearinghouse::demo::seed(&server.state, &dir.path().join("keys"))
        .await
        .unwrap();
    assert!(seeded > 10, "the demo seeded only {seeded} entries");
    Env { server, dir }
}

impl Env {
    fn size(&self) -> u64 {
        self.server.state.journal.reader().head().head.size
    }

    async fn get_raw(&self, path: &str, token: Option<&str>) -> (u16, Vec<u8>) {
        let mut request = self.server.client.get(self.server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let (status, body) = self.get_raw(path, token).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Every entry (index, JSON) below the log's current size, through the public log API.
    async fn all_entries(&self) -> Vec<Value> {
        let size = self.size();
        let data = self
            .server
            .state
            .store
            .audit_entries(&Default::default(), None, size, u32::MAX)
            .await
            .unwrap();
        assert_eq!(data.len() as u64, size, "every entry is in the audit index");
        data.iter()
            .map(|(_, bytes)| serde_json::from_slice(bytes).unwrap())
            .collect()
    }

    /// Follow `next` from page to page.
    async fn pages(&self, query: &str, limit: u32, token: &str) -> Vec<(u64, Value)> {
        let mut items = Vec::new();
        let mut after: Option<u64> = None;
        loop {
            let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
            let (status, page) = self
                .get(
                    &format!("/v1/audit/entries?limit={limit}{query}{cursor}"),
                    Some(token),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            let page_items = page["items"].as_array().unwrap();
            assert!(page_items.len() <= limit as usize);
            for item in page_items {
                items.push((item["index"].as_u64().unwrap(), item["entry"].clone()));
            }
            match page["next"].as_u64() {
                Some(next) => {
                    assert_eq!(page_items.len(), limit as usize);
                    after = Some(next);
                }
                None => return items,
            }
        }
    }

    /// The newest entry of the log.
    async fn last_entry(&self) -> Value {
        let size = self.size();
        let data = self
            .server
            .state
            .store
            .audit_entries(&Default::default(), Some(size - 2), size, 1)
            .await
            .unwrap();
        serde_json::from_slice(&data[0].1).unwrap()
    }
}

fn indexes_where(entries: &[Value], below: u64, keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| (*i as u64) < below && keep(e))
        .map(|(i, _)| i as u64)
        .collect()
}

/// Filters select exactly the matching entries; pages follow each other without gaps.
async fn filtered_queries(kind: Db) {
    let env = env(kind).await;
    let start = env.size();
    let all = env.all_entries().await;

    // No filter, small pages: indexes 0.. in order, without gaps.
    let paged = env.pages("", 7, OPERATOR_TOKEN).await;
    let indexes: Vec<u64> = paged.iter().map(|(i, _)| *i).collect();
    assert!(indexes.len() as u64 >= start);
    assert_eq!(
        indexes[..start as usize],
        (0..start).collect::<Vec<_>>()[..]
    );

    // By type.
    let agreed = env.pages("&type=contract.agreed", 2, AUDITOR_TOKEN).await;
    let expected = indexes_where(&all, start, |e| e["type"] == "contract.agreed");
    assert!(!expected.is_empty());
    assert_eq!(agreed.iter().map(|(i, _)| *i).collect::<Vec<_>>(), expected);

    // By contract: every entry naming it (agreement, decisions, receipts…).
    let contract = agreed[0].1["contract_id"].as_str().unwrap().to_owned();
    let assigner = agreed[0].1["assigner"].as_str().unwrap().to_owned();
    let by_contract = env
        .pages(
            &format!("&contract={}", urlencode(&contract)),
            50,
            AUDITOR_TOKEN,
        )
        .await;
    let expected = indexes_where(&all, start, |e| e["contract_id"] == contract.as_str());
    assert!(
        expected.len() > 1,
        "the demo contract has decisions or receipts"
    );
    assert_eq!(
        by_contract.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        expected
    );

    // By participant: what it is named in, and everything about its contracts.
    let contracts_of: BTreeSet<String> = all
        .iter()
        .filter(|e| e["type"] == "contract.agreed")
        .filter(|e| e["assigner"] == assigner.as_str() || e["assignee"] == assigner.as_str())
        .map(|e| e["contract_id"].as_str().unwrap().to_owned())
        .collect();
    let by_participant = env
        .pages(&format!("&participant={assigner}"), 50, AUDITOR_TOKEN)
        .await;
    let expected = indexes_where(&all, start, |e| {
        e.get("contract_id")
            .and_then(Value::as_str)
            .is_some_and(|c| contracts_of.contains(c))
            || [
                "siren",
                "requester",
                "payer",
                "payee",
                "assigner",
                "assignee",
            ]
            .iter()
            .any(|k| e[*k] == assigner.as_str())
            || e["signatures"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["siren"] == assigner.as_str()))
            || e["signature"]["siren"] == assigner.as_str()
    });
    assert_eq!(
        by_participant.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        expected
    );

    // By asset and type together.
    let decision = all
        .iter()
        .find(|e| e["type"] == "decision.made")
        .expect("the demo makes decisions");
    let asset = decision["target"].as_str().unwrap();
    let by_asset = env
        .pages(
            &format!("&type=decision.made&asset={}", urlencode(asset)),
            50,
            AUDITOR_TOKEN,
        )
        .await;
    let expected = indexes_where(&all, start, |e| {
        e["type"] == "decision.made" && e["target"] == asset
    });
    assert!(!expected.is_empty());
    assert_eq!(
        by_asset.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        expected
    );

    // By period: from inclusive, to exclusive.
    let from = all[3]["time"].as_str().unwrap().to_owned();
    let to = all[(start - 1) as usize]["time"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_time = env
        .pages(&format!("&from={from}&to={to}"), 50, AUDITOR_TOKEN)
        .await;
    let expected = indexes_where(&all, start, |e| {
        let t = e["time"].as_str().unwrap();
        t >= from.as_str() && t < to.as_str()
    });
    assert!(!expected.is_empty());
    assert_eq!(
        by_time.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        expected
    );

    // Entries come as logged: the page holds each entry's exact bytes (which hash to its
    // leaf), not a re-encoding. A page holds up to 1 000 entries.
    let (status, raw) = env
        .get_raw("/v1/audit/entries?limit=5", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(status, 200);
    let text = String::from_utf8(raw).unwrap();
    let page: Value = serde_json::from_str(&text).unwrap();
    let storage = env.server.state.journal.reader().storage().clone();
    for item in page["items"].as_array().unwrap() {
        let index = item["index"].as_u64().unwrap();
        let logged = storage.entries(index, index + 1).await.unwrap().remove(0);
        let logged = std::str::from_utf8(&logged).unwrap();
        assert!(text.contains(logged), "entry {index} was re-encoded");
    }
    let (status, _) = env
        .get("/v1/audit/entries?limit=1000", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(status, 200);
    let (status, problem) = env
        .get("/v1/audit/entries?limit=1001", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(status, 400);
    assert_eq!(problem["parameter"], "limit");

    // Malformed filters are named.
    let (status, problem) = env
        .get("/v1/audit/entries?from=yesterday", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(status, 400);
    assert_eq!(problem["parameter"], "from");
    let (status, _) = env
        .get("/v1/audit/entries?limit=0", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(status, 400);
    env.server.stop().await;
}
on_both_databases!(filtered_queries_and_pagination, super::filtered_queries);

/// Without the audit role: 401 or 403, no entries, and nothing appended to the log.
async fn without_the_role(kind: Db) {
    let env = env(kind).await;
    let before = env.size();
    for path in [
        "/v1/audit/entries?type=contract.agreed",
        "/v1/audit/bundles?from=2000-01-01T00:00:00Z",
    ] {
        let (status, body) = env.get(path, None).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.get("items").is_none() && body.get("entries").is_none());
        let (status, body) = env.get(path, Some("not-an-auditor-token-0000000")).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["type"], "/problems/forbidden");
        assert!(body.get("items").is_none() && body.get("entries").is_none());
    }
    assert_eq!(env.size(), before, "refused reads are not logged");
    env.server.stop().await;
}
on_both_databases!(no_role_no_read, super::without_the_role);

/// Each answered read is an `audit.read` entry: who, what, how many, the bundle's hash.
async fn reads_are_logged(kind: Db) {
    let env = env(kind).await;
    let before = env.size();
    let (status, page) = env
        .get(
            "/v1/audit/entries?type=decision.made&limit=2",
            Some(AUDITOR_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.size(), before + 1);
    let read = env.last_entry().await;
    assert_eq!(read["type"], "audit.read");
    assert_eq!(read["reader"], AUDITOR_LABEL);
    assert_eq!(read["request"], "entries");
    assert_eq!(read["query"]["type"], "decision.made");
    assert_eq!(read["query"]["limit"], 2);
    assert_eq!(read["results"], page["items"].as_array().unwrap().len());

    let (status, bytes) = env
        .get_raw(
            "/v1/audit/bundles?type=decision.made&from=2000-01-01T00:00:00Z",
            Some(OPERATOR_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.size(), before + 2);
    let read = env.last_entry().await;
    assert_eq!(read["reader"], "operator");
    assert_eq!(read["request"], "bundle");
    assert_eq!(read["tree_size"], before + 1);
    assert_eq!(read["bundle_sha256"], hex::encode(Sha256::digest(&bytes)));

    // The reads themselves can be audited.
    let (_, page) = env
        .get("/v1/audit/entries?type=audit.read", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    env.server.stop().await;
}
on_both_databases!(audit_reads_are_logged, super::reads_are_logged);

fn verify_file(env: &Env, name: &str, bundle: &Value, vkey: &str) -> (i32, String) {
    let path = env.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec(bundle).unwrap()).unwrap();
    let (code, stdout, stderr) = run_cli(
        &["verify", "bundle", path.to_str().unwrap(), "--key", vkey],
        &[],
    );
    (code, format!("{stdout}{stderr}"))
}

fn flip_b64_hash(text: &str) -> String {
    let mut bytes = B64.decode(text).unwrap();
    bytes[0] ^= 0x01;
    B64.encode(bytes)
}

/// A bundle verifies offline untouched and fails, naming what failed, when tampered.
async fn bundles(kind: Db) {
    let env = env(kind).await;
    let since = env.size() - 5;
    let (_, page) = env
        .get(
            "/v1/audit/entries?type=contract.agreed&limit=1",
            Some(AUDITOR_TOKEN),
        )
        .await;
    let contract = page["items"][0]["entry"]["contract_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, bytes) = env
        .get_raw(
            &format!(
                "/v1/audit/bundles?contract={}&since_size={since}",
                urlencode(&contract)
            ),
            Some(AUDITOR_TOKEN),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let bundle: Value = serde_json::from_slice(&bytes).unwrap();
    let entries = bundle["entries"].as_array().unwrap();
    assert!(entries.len() > 1);
    assert!(bundle["consistency"]["proof"].is_array());
    assert!(
        !bundle["trust_anchors"]["anchors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let vkey = env.server.vkey.clone();

    let (code, out) = verify_file(&env, "ok.json", &bundle, &vkey);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERDICT: OK"), "{out}");
    assert!(out.contains("contract.agreed"), "{out}");
    assert!(
        out.contains(&format!("extends the tree of size {since}")),
        "{out}"
    );

    // One entry byte flipped.
    let mut tampered = bundle.clone();
    let second = tampered["entries"][1]["index"].as_u64().unwrap();
    let mut data = B64
        .decode(tampered["entries"][1]["data"].as_str().unwrap())
        .unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0x01;
    tampered["entries"][1]["data"] = B64.encode(&data).into();
    let (code, out) = verify_file(&env, "entry.json", &tampered, &vkey);
    assert_ne!(code, 0);
    assert!(
        out.contains(&format!("entry {second} ("))
            && out.contains("inclusion proof does not lead to the checkpoint root"),
        "{out}"
    );

    // One proof hash changed.
    let mut tampered = bundle.clone();
    let first = tampered["entries"][0]["index"].as_u64().unwrap();
    let hash = tampered["entries"][0]["inclusion_path"][0]
        .as_str()
        .unwrap()
        .to_owned();
    tampered["entries"][0]["inclusion_path"][0] = flip_b64_hash(&hash).into();
    let (code, out) = verify_file(&env, "proof.json", &tampered, &vkey);
    assert_ne!(code, 0);
    assert!(
        out.contains(&format!("entry {first} (")) && out.contains("): inclusion proof"),
        "{out}"
    );

    // The checkpoint's signature altered.
    let mut tampered = bundle.clone();
    let note = tampered["checkpoint"].as_str().unwrap().to_owned();
    let (body, signature) = note.trim_end().rsplit_once(' ').unwrap();
    let mut sig = B64.decode(signature).unwrap();
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    tampered["checkpoint"] = format!("{body} {}\n", B64.encode(sig)).into();
    let (code, out) = verify_file(&env, "checkpoint.json", &tampered, &vkey);
    assert_ne!(code, 0);
    assert!(
        out.contains("checkpoint: signature does not verify with the given key"),
        "{out}"
    );

    // The checkpoint's size or root changed (the signature no longer covers it).
    let mut tampered = bundle.clone();
    let size = env.size();
    tampered["checkpoint"] = note
        .replacen(
            &format!("\n{}\n", size - 1),
            &format!("\n{}\n", size + 7),
            1,
        )
        .into();
    let (code, out) = verify_file(&env, "checkpoint-size.json", &tampered, &vkey);
    assert_ne!(code, 0);
    assert!(out.contains("checkpoint:"), "{out}");

    // Another key.
    let other = NoteSigner::generate(ORIGIN, ALG_ED25519).unwrap();
    let (code, out) = verify_file(&env, "ok.json", &bundle, &other.verifier().vkey());
    assert_ne!(code, 0);
    assert!(
        out.contains("checkpoint: signature does not verify with the given key"),
        "{out}"
    );

    // The consistency proof changed.
    let mut tampered = bundle.clone();
    let hash = tampered["consistency"]["proof"][0]
        .as_str()
        .unwrap()
        .to_owned();
    tampered["consistency"]["proof"][0] = flip_b64_hash(&hash).into();
    let (code, out) = verify_file(&env, "consistency.json", &tampered, &vkey);
    assert_ne!(code, 0);
    assert!(out.contains("consistency:"), "{out}");

    // A trust anchor's definition changed.
    let mut tampered = bundle.clone();
    tampered["trust_anchors"]["anchors"][0]["name"] = "Someone else".into();
    let (code, out) = verify_file(&env, "anchors.json", &tampered, &vkey);
    assert_ne!(code, 0);
    assert!(out.contains("trust anchors:"), "{out}");

    // Per participant and per period bundles verify too.
    let assigner = page["items"][0]["entry"]["assigner"]
        .as_str()
        .unwrap()
        .to_owned();
    for query in [
        format!("participant={assigner}"),
        "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z".to_owned(),
    ] {
        let (status, bytes) = env
            .get_raw(&format!("/v1/audit/bundles?{query}"), Some(AUDITOR_TOKEN))
            .await;
        assert_eq!(status, 200);
        let bundle: Value = serde_json::from_slice(&bytes).unwrap();
        let (code, out) = verify_file(&env, "other.json", &bundle, &vkey);
        assert_eq!(code, 0, "{query}: {out}");
    }

    // A bundle needs a selection.
    let (status, problem) = env
        .get("/v1/audit/bundles?type=decision.made", Some(AUDITOR_TOKEN))
        .await;
    assert_eq!(status, 400, "{problem}");
    env.server.stop().await;
}
on_both_databases!(offline_bundles, super::bundles);

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
