//! A connector's whole flow against a running clearing house: authenticate both sides'
//! connectors (RFC 7523 client assertions), ask for a pre-transfer decision, transfer
//! (simulated), post both signed receipts, and check every returned proof offline with the
//! log's public key.
//!
//! Start the demo first (`cargo run --release -- demo`), then, from the repository root:
//!
//! ```text
//! cargo run --example connector
//! ```
//!
//! Settings (environment): `CLEARINGHOUSE_URL` (default `http://127.0.0.1:8080`),
//! `DEMO_DATA_DIR` (default `data`, where the demo keeps its connectors' keys),
//! `LOG_VKEY` (the log's verifier key; fetched from `/log/key` when unset — pin it in
//! production), `CONTRACT`, `DATASET`, `PROVIDER_SIREN`, `CONSUMER_SIREN` (default: the
//! demo's bicycle-count contract between the Commune de Lyon and a company).

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use clearinghouse::exchange::client::{TransferReport, request_access_token, sign_receipt};
use clearinghouse::journal::LogReceipt;
use clearinghouse::keys::read_key_file;
use clearinghouse::ledger::note::{Checkpoint, Note, NoteVerifier};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// One participant's connector: its SIREN and its registered key.
struct ConnectorKey {
    siren: String,
    key: SigningKey,
}

fn load(data_dir: &std::path::Path, siren: &str) -> anyhow::Result<ConnectorKey> {
    let path = data_dir
        .join("demo-connectors")
        .join(format!("{siren}.key"));
    let signer = read_key_file(&path, Some("demo-connectors"))
        .with_context(|| format!("reading the connector key {}", path.display()))?;
    Ok(ConnectorKey {
        siren: siren.to_owned(),
        key: signer.signing_key().clone(),
    })
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn post_json(
        &self,
        path: &str,
        body: &Value,
        bearer: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("{path}: {status}: {}", body["detail"]);
        }
        Ok(body)
    }

    /// Client credentials with `private_key_jwt`: a short-lived access token.
    async fn authenticate(&self, connector: &ConnectorKey) -> anyhow::Result<String> {
        request_access_token(
            &self.http,
            &format!("{}/v1/oauth/token", self.base),
            &connector.siren,
            &connector.key,
        )
        .await
        .map_err(anyhow::Error::msg)
    }
}

/// Check a log receipt offline: signed checkpoint, inclusion path, and the entry's hash.
async fn check_offline(
    client: &Client,
    verifier: &NoteVerifier,
    log: &Value,
) -> anyhow::Result<()> {
    let receipt: LogReceipt = serde_json::from_value(log.clone())?;
    let origin = Note::parse(&receipt.checkpoint)?
        .text
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let entry = client
        .http
        .get(format!("{}/log/entries/{}", client.base, receipt.index))
        .send()
        .await?
        .bytes()
        .await?;
    let checkpoint: Checkpoint = receipt
        .verify(verifier, &origin, Some(&entry))
        .map_err(|e| anyhow::anyhow!("proof does not verify: {e}"))?;
    println!(
        "    entry {} is in the log of size {} (root {}…), checked offline",
        receipt.index,
        checkpoint.size,
        &hex::encode(checkpoint.root)[..16]
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = Client {
        http: reqwest::Client::new(),
        base: setting("CLEARINGHOUSE_URL", "http://127.0.0.1:8080")
            .trim_end_matches('/')
            .to_owned(),
    };
    let data_dir = PathBuf::from(setting("DEMO_DATA_DIR", "data"));
    let contract = setting(
        "CONTRACT",
        "https://data.example-territoire.fr/contracts/2026-0001",
    );
    let dataset = setting(
        "DATASET",
        "https://data.example-territoire.fr/dataset/comptages-velo",
    );
    let provider = load(&data_dir, &setting("PROVIDER_SIREN", "216901231"))?;
    let consumer = load(&data_dir, &setting("CONSUMER_SIREN", "732829320"))?;
    let vkey = match std::env::var("LOG_VKEY") {
        Ok(vkey) => vkey,
        Err(_) => {
            client
                .http
                .get(format!("{}/log/key", client.base))
                .send()
                .await?
                .text()
                .await?
        }
    };
    let verifier =
        NoteVerifier::from_vkey(vkey.trim()).context("LOG_VKEY is not a verifier key")?;

    println!("1. Authenticating both connectors (RFC 7523 client assertions)");
    let consumer_token = client.authenticate(&consumer).await?;
    client.authenticate(&provider).await?;

    println!("2. Asking whether {} may use {dataset}", consumer.siren);
    let decision = client
        .post_json(
            "/v1/decisions",
            &json!({"contract": contract, "action": "use", "target": dataset, "context": {}}),
            Some(&consumer_token),
        )
        .await?;
    println!(
        "    decision: {} — {}",
        decision["decision"], decision["reasons"][0]
    );
    check_offline(&client, &verifier, &decision["log"]).await?;
    if decision["decision"] != "permit" {
        bail!("the clearing house denied the transfer; nothing was transferred");
    }
    let token = decision["token"].as_str().context("no decision token")?;

    println!("3. Transferring (simulated)");
    let started = Utc::now();
    let payload: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let content_sha256 = hex::encode(Sha256::digest(&payload));
    let ended = started + Duration::milliseconds(40);
    let transfer_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());

    println!("4. Posting both sides' signed receipts");
    for (side, connector) in [("provider", &provider), ("consumer", &consumer)] {
        let receipt = sign_receipt(
            &connector.key,
            &TransferReport {
                decision_token: token,
                transfer_id: &transfer_id,
                asset: &dataset,
                bytes: payload.len() as u64,
                records: 4096,
                content_sha256: &content_sha256,
                started_at: started,
                ended_at: ended,
            },
        );
        let answer = client
            .post_json("/v1/receipts", &json!({"receipt": receipt}), None)
            .await?;
        println!("    {side} receipt logged: {}", answer["matching"]);
        check_offline(&client, &verifier, &answer["log"]).await?;
    }
    println!("Done: the decision and both receipts are in the log, and their proofs verify.");
    Ok(())
}
