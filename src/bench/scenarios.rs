//! The measured requests, each as a connector, an auditor or a verifier would make them,
//! over loopback HTTP against the server process.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use super::load::{Latency, Outcome, drive};
use crate::demo::bench::BenchFixture;
use crate::exchange::client::{TransferReport, sign_receipt};
use crate::verify::log::{VerifyOptions, verify_log};
use crate::verify::source::LogSource;

/// An HTTP client for `clients` concurrent tasks on one server.
pub fn http(clients: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// A demo connector's registered key, kept in the data directory.
pub fn connector_key(data_dir: &Path, siren: &str) -> anyhow::Result<SigningKey> {
    let path = data_dir
        .join("demo-connectors")
        .join(format!("{siren}.key"));
    Ok(crate::keys::read_key_file(&path, Some("demo-connectors"))
        .with_context(|| format!("reading {}", path.display()))?
        .signing_key()
        .clone())
}

/// A connector's access token (client credentials with a `private_key_jwt` assertion).
pub async fn access_token(
    http: &reqwest::Client,
    base: &str,
    siren: &str,
    key: &SigningKey,
) -> anyhow::Result<String> {
    crate::exchange::client::request_access_token(
        http,
        &format!("{base}/v1/oauth/token"),
        siren,
        key,
    )
    .await
    .map_err(anyhow::Error::msg)
}

/// POST `body` and expect a success with a log receipt in the answer.
async fn post_logged(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
) -> Result<Value, String> {
    let mut request = http.post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() || answer["log"]["index"].as_u64().is_none() {
        return Err(format!("{url}: {status}: {answer}"));
    }
    Ok(answer)
}

/// Pre-transfer decisions by the consumer's connector, request n on the n-th of
/// `contracts` load contracts in turn, each one logged before it is answered; returns the
/// permits' tokens for the receipts.
#[allow(clippy::too_many_arguments)]
pub async fn decisions(
    http: &reqwest::Client,
    base: &str,
    fixture: &BenchFixture,
    contracts: usize,
    token: &str,
    clients: usize,
    count: u64,
    budget: Duration,
) -> (Outcome, Vec<String>) {
    let permits = Arc::new(Mutex::new(Vec::new()));
    let url = format!("{base}/v1/decisions");
    let bodies: Arc<Vec<Value>> = Arc::new(
        fixture
            .load_contracts
            .iter()
            .take(contracts.max(1))
            .map(|contract| {
                json!({"contract": contract, "action": "use", "target": fixture.target,
                       "context": {}})
            })
            .collect(),
    );
    let (http, token, kept) = (http.clone(), token.to_owned(), permits.clone());
    let outcome = drive(clients, count, budget, move |n| {
        let (http, url, token, kept) = (http.clone(), url.clone(), token.clone(), kept.clone());
        let body = bodies[(n % bodies.len() as u64) as usize].clone();
        async move {
            let answer = post_logged(&http, &url, Some(&token), &body).await?;
            match (answer["decision"].as_str(), answer["token"].as_str()) {
                (Some("permit"), Some(token)) => {
                    if let Ok(mut kept) = kept.lock() {
                        kept.push(token.to_owned());
                    }
                    Ok(())
                }
                _ => Err(format!("not a permit: {answer}")),
            }
        }
    })
    .await;
    let permits = permits.lock().map(|p| p.clone()).unwrap_or_default();
    (outcome, permits)
}

/// Both sides' signed receipts for each permit (signed before the clock starts), posted
/// by `clients` concurrent connectors; each is acknowledged once durably logged.
pub async fn receipts(
    http: &reqwest::Client,
    base: &str,
    fixture: &BenchFixture,
    keys: (&SigningKey, &SigningKey),
    permits: &[String],
    clients: usize,
) -> Outcome {
    let ended = Utc::now();
    let started = ended - chrono::Duration::seconds(1);
    let content = hex::encode([7u8; 32]);
    let mut signed = Vec::with_capacity(permits.len() * 2);
    for (n, permit) in permits.iter().enumerate() {
        let transfer = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        for key in [keys.0, keys.1] {
            signed.push(json!({"receipt": sign_receipt(
                key,
                &TransferReport {
                    decision_token: permit,
                    transfer_id: &transfer,
                    asset: &fixture.target,
                    bytes: 1_048_576 + n as u64,
                    records: 1000,
                    content_sha256: &content,
                    started_at: started,
                    ended_at: ended,
                },
            )}));
        }
    }
    let signed = Arc::new(signed);
    let url = format!("{base}/v1/receipts");
    let http = http.clone();
    let total = signed.len() as u64;
    drive(clients, total, Duration::from_secs(3600), move |n| {
        let (http, url, signed) = (http.clone(), url.clone(), signed.clone());
        async move {
            let body = signed
                .get(n as usize)
                .ok_or_else(|| format!("no receipt {n}"))?;
            // A rejected receipt is logged too, but answered with a problem: an error here.
            let answer = post_logged(&http, &url, None, body).await?;
            match answer["matching"].as_str() {
                Some("awaiting-counterpart" | "matched") => Ok(()),
                _ => Err(format!("unexpected answer: {answer}")),
            }
        }
    })
    .await
}

/// A pseudo-random index below `size` for request `n` (SplitMix64: the same each run).
fn index_for(n: u64, size: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % size.max(1)
}

/// Inclusion proofs at random indexes of a log of `size` entries; or, with `consistency`,
/// consistency proofs from a random earlier size.
pub async fn proofs(
    http: &reqwest::Client,
    base: &str,
    size: u64,
    consistency: bool,
    clients: usize,
    budget: Duration,
) -> Outcome {
    let http = http.clone();
    let base = base.to_owned();
    drive(clients, u64::MAX, budget, move |n| {
        let http = http.clone();
        let url = if consistency {
            format!(
                "{base}/log/proof/consistency?old={}&new={size}",
                1 + index_for(n, size - 1)
            )
        } else {
            format!(
                "{base}/log/proof/inclusion?index={}&size={size}",
                index_for(n, size)
            )
        };
        async move {
            let response = http.get(&url).send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!(
                    "{url}: {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok(())
        }
    })
    .await
}

/// What the audit query measured: the entries it read and its latency over `rounds`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditQuery {
    pub entries: u64,
    pub pages: u64,
    pub rounds: u64,
    pub latency: Latency,
}

/// What the audit query client reads of a page: the whole body is parsed (as a client
/// must), each entry skipped over rather than built into a tree.
#[derive(serde::Deserialize)]
struct PageHead {
    items: Vec<serde::de::IgnoredAny>,
    next: Option<u64>,
}

/// Every entry of one contract through `GET /v1/audit/entries` (one page of up to 1 000,
/// following `next` if there is more), as an auditor with the operator token; each read is
/// itself logged first.
pub async fn audit_query(
    http: &reqwest::Client,
    base: &str,
    operator_token: &str,
    contract: &str,
    rounds: u64,
) -> anyhow::Result<AuditQuery> {
    let mut micros = Vec::new();
    let (mut entries, mut pages) = (0, 0);
    for _ in 0..rounds {
        let started = Instant::now();
        let (mut after, mut read, mut fetched) = (None::<u64>, 0u64, 0u64);
        loop {
            let mut url = format!(
                "{base}/v1/audit/entries?contract={}&limit=1000",
                crate::pages::query_escape(contract)
            );
            if let Some(after) = after {
                url.push_str(&format!("&after={after}"));
            }
            let response = http.get(&url).bearer_auth(operator_token).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            if !status.is_success() {
                bail!("{url}: {status}: {}", String::from_utf8_lossy(&body));
            }
            let page: PageHead = serde_json::from_slice(&body)?;
            fetched += 1;
            read += page.items.len() as u64;
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        micros.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        (entries, pages) = (read, fetched);
    }
    Ok(AuditQuery {
        entries,
        pages,
        rounds,
        latency: Latency::of(&mut micros),
    })
}

/// A full verification of the served log, as `clearinghouse verify --url` does it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FullVerify {
    pub entries: u64,
    pub seconds: f64,
    pub entries_per_second: f64,
}

pub async fn full_verify(base: &str, vkey: &str) -> anyhow::Result<FullVerify> {
    let verifier = crate::ledger::note::NoteVerifier::from_vkey(vkey)?;
    let options = VerifyOptions {
        origin: verifier.name().to_owned(),
        verifier,
        previous: None,
        concurrency: 16,
    };
    let source = LogSource::http(&format!("{base}/log"))?;
    let started = Instant::now();
    let report = verify_log(&source, &options).await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(FullVerify {
        entries: report.entries,
        seconds,
        entries_per_second: report.entries as f64 / seconds.max(f64::EPSILON),
    })
}
