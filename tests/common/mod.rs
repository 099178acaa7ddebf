//! Shared test support: fresh databases of both kinds, in-process servers, entry helpers.
//!
//! Every storage test runs on SQLite (a temporary file) and on PostgreSQL (a fresh schema, or
//! a fresh database for child processes) when `TEST_DATABASE_URL` is set at build time;
//! without it the PostgreSQL variants are reported as ignored, with the reason.
#![allow(dead_code, clippy::unwrap_used)]

pub mod acks;
pub mod trust;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clearinghouse::config::Config;
use clearinghouse::entry::{GovernanceKind, GovernanceRecorded};
use clearinghouse::ledger::hash::Hash;
use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner};
use clearinghouse::server::{Keys, Service, ServiceOptions};
use clearinghouse::store::{Store, StoreOptions};
use tokio::sync::oneshot;

/// Run `$check` (an `async fn(Db)`) once per database, as two tests in a module `$name`.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $check:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $check($crate::common::Db::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(postgres_tests),
                ignore = "PostgreSQL skipped: set TEST_DATABASE_URL to run it"
            )]
            async fn postgres() {
                $check($crate::common::Db::Postgres).await
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database that lives as long as this value.
pub struct TestDb {
    pub kind: Db,
    /// URL a child process can use to reach the same database.
    pub url: String,
    /// Directory for files the test needs (SQLite database, keys).
    pub dir: tempfile::TempDir,
    pg_schema: Option<String>,
}

fn postgres_base_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL must be set for the PostgreSQL tests")
}

fn unique_name() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

/// Replace the database name in a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("TEST_DATABASE_URL is not a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

impl TestDb {
    /// A fresh database: a temporary SQLite file, or a fresh PostgreSQL schema.
    pub async fn new(kind: Db) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match kind {
            Db::Sqlite => TestDb {
                kind,
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                dir,
                pg_schema: None,
            },
            Db::Postgres => {
                let base = postgres_base_url();
                let schema = unique_name();
                let admin = Store::connect(&StoreOptions::new(base.clone()))
                    .await
                    .expect("PostgreSQL at TEST_DATABASE_URL is unreachable");
                let clearinghouse::store::Backend::Postgres(pool) = admin.backend() else {
                    panic!("TEST_DATABASE_URL is not a PostgreSQL URL");
                };
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(pool)
                    .await
                    .unwrap();
                admin.close().await;
                TestDb {
                    kind,
                    url: base,
                    dir,
                    pg_schema: Some(schema),
                }
            }
        }
    }

    /// A fresh database a child process can reach by URL alone (PostgreSQL: a new database).
    pub async fn new_for_process(kind: Db) -> TestDb {
        match kind {
            Db::Sqlite => TestDb::new(kind).await,
            Db::Postgres => {
                let base = postgres_base_url();
                let name = unique_name();
                let admin = Store::connect(&StoreOptions::new(base.clone()))
                    .await
                    .expect("PostgreSQL at TEST_DATABASE_URL is unreachable");
                let clearinghouse::store::Backend::Postgres(pool) = admin.backend() else {
                    panic!("TEST_DATABASE_URL is not a PostgreSQL URL");
                };
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(pool)
                    .await
                    .unwrap();
                admin.close().await;
                TestDb {
                    kind,
                    url: with_database(&base, &name),
                    dir: tempfile::tempdir().unwrap(),
                    pg_schema: None,
                }
            }
        }
    }

    /// Open (and migrate) the database.
    pub async fn store(&self) -> Store {
        let mut options = StoreOptions::new(self.url.clone());
        options.max_connections = 8;
        options.pg_schema = self.pg_schema.clone();
        let store = Store::connect(&options).await.unwrap();
        store.migrate().await.unwrap();
        store
    }
}

pub const ORIGIN: &str = "test.clearinghouse.localhost/log";
pub const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

/// Configuration for a test service on `db`. No trust anchors (so the log starts empty);
/// the trust tests write their own.
pub fn test_config(db: &TestDb) -> Config {
    let defaults = Config::default();
    let anchors_dir = db.dir.path().join("no-anchors");
    std::fs::create_dir_all(&anchors_dir).unwrap();
    Config {
        trust: clearinghouse::config::TrustConfig {
            anchors_dir,
            ..defaults.trust.clone()
        },
        data_dir: db.dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        log: clearinghouse::config::LogConfig {
            origin: ORIGIN.into(),
            ..defaults.log.clone()
        },
        ..defaults
    }
}

/// A service running in this process on 127.0.0.1 with a real listener.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub vkey: String,
    pub signer_skey: String,
    pub state: clearinghouse::http::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub db: TestDb,
}

impl TestServer {
    pub async fn start(kind: Db) -> TestServer {
        let db = TestDb::new(kind).await;
        let signer = NoteSigner::generate(ORIGIN, ALG_ED25519).unwrap();
        Self::start_on(db, signer).await
    }

    pub async fn start_on(db: TestDb, signer: NoteSigner) -> TestServer {
        let config = test_config(&db);
        Self::start_with_config(db, signer, config).await
    }

    pub async fn start_with_config(db: TestDb, signer: NoteSigner, config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on_listener(db, signer, config, listener, |_| {}).await
    }

    /// Start on a listener already bound, with a chance to adjust the service options.
    pub async fn start_on_listener(
        db: TestDb,
        signer: NoteSigner,
        config: Config,
        listener: tokio::net::TcpListener,
        adjust: impl FnOnce(&mut ServiceOptions),
    ) -> TestServer {
        let address = listener.local_addr().unwrap();
        let store = db.store().await;
        let vkey = signer.verifier().vkey();
        let skey = signer.skey();
        let mut options = ServiceOptions::from_config(&config, address).unwrap();
        options.operator_token = Some(OPERATOR_TOKEN.into());
        adjust(&mut options);
        let keys = Keys {
            log: signer,
            issuer: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
        };
        let service = Service::start_with_store(&config, store, keys, options)
            .await
            .unwrap();
        let state = service.state.clone();
        let base = format!("http://{address}");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            service
                .run(listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            vkey,
            signer_skey: skey,
            state,
            shutdown: Some(tx),
            task: Some(task),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stop the server and wait until it has drained.
    pub async fn stop(mut self) -> TestDb {
        drop(self.state);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        self.db
    }
}

/// A governance record request body; `n` makes it unique.
pub fn record_body(n: u64) -> serde_json::Value {
    serde_json::json!({
        "kind": "notice",
        "title": format!("Notice number {n}"),
        "document_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(n.to_be_bytes())),
        "reference": format!("N-{n}"),
    })
}

/// A governance entry body for direct appends.
pub fn record_entry(n: u64) -> GovernanceRecorded {
    GovernanceRecorded {
        kind: GovernanceKind::Notice,
        title: format!("Notice number {n}"),
        document_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(n.to_be_bytes())),
        reference: Some(format!("N-{n}")),
        recorded_by: "test".into(),
        anchors_version: "0".repeat(64),
    }
}

pub fn b64_hash(text: &str) -> Hash {
    B64.decode(text).unwrap().try_into().unwrap()
}

pub fn b64_hashes(items: &[serde_json::Value]) -> Vec<Hash> {
    items
        .iter()
        .map(|v| b64_hash(v.as_str().unwrap()))
        .collect()
}

/// The repository's own copy of the independent test vectors.
pub fn vectors() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tlog-vectors.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub fn hex_hash(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// The `clearinghouse` binary built for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_clearinghouse")
}

/// A `clearinghouse` child process serving HTTP; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub base: String,
    /// Lines the process printed on stdout before it said where it listens.
    pub banner: Vec<String>,
}

impl ServerProcess {
    /// The log verifier key the demo printed in its banner.
    pub fn banner_vkey(&self) -> String {
        self.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix("log verifier key "))
            .expect("the banner names the log verifier key")
            .trim()
            .to_owned()
    }

    /// Start `clearinghouse <args>` with extra environment and wait until it listens.
    pub async fn spawn(args: &[&str], envs: &[(&str, String)]) -> ServerProcess {
        use tokio::io::AsyncBufReadExt;
        let mut command = tokio::process::Command::new(binary());
        command
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) = line.strip_prefix("clearinghouse listening on ") {
                    return rest.trim().to_owned();
                }
                banner.push(line);
            }
            panic!("server exited before listening; printed {banner:?}");
        })
        .await
        .expect("server did not start within 60 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess {
            child,
            base,
            banner,
        }
    }

    /// SIGKILL: no shutdown handler runs, nothing is flushed.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("server did not stop within 60 s")
            .unwrap()
    }
}

/// Run the binary to completion; returns (exit code, stdout, stderr).
pub fn run_cli(args: &[&str], envs: &[(&str, String)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(binary());
    command.args(args).env("RUST_LOG", "warn");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Environment for a child `serve` on `db`, with the test origin and operator token.
pub fn server_env(db: &TestDb) -> Vec<(&'static str, String)> {
    vec![
        ("CLEARINGHOUSE_DATABASE_URL", db.url.clone()),
        ("CLEARINGHOUSE_LOG__ORIGIN", ORIGIN.to_owned()),
        (
            "CLEARINGHOUSE_AUTH__OPERATOR_TOKEN",
            OPERATOR_TOKEN.to_owned(),
        ),
    ]
}
