//! `clearinghouse bench`: the published figures, reproducibly.
//!
//! One run, on one database (embedded SQLite, or a fresh PostgreSQL database): the
//! machine's bounds are measured first ([`bounds`]); the log is prepared in-process with the
//! demo's organisations registered through the real flows and the bench's contracts
//! ([`crate::demo::bench`]); then this binary is started again as the server, in its own
//! process ([`server`]), and driven over loopback HTTP by concurrent clients ([`load`],
//! [`scenarios`]): decisions, signed receipts, the same receipts against a server that
//! commits one entry per transaction (the naive baseline), then, with the log grown to each
//! size ([`fill`]), the audit query, inclusion and consistency proofs, a full verification
//! and the server's peak resident memory. Every figure is printed beside its target and as
//! a ratio to the bound or baseline that frames it ([`report`]).

pub mod bounds;
pub mod fill;
pub mod load;
pub mod report;
pub mod scenarios;
pub mod server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use report::{Report, Run};
use server::ServerProcess;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// `None`: embedded SQLite in the work directory. Otherwise a PostgreSQL URL whose
    /// server the bench may create (and drop) a database on.
    pub postgres: Option<String>,
    /// Concurrent clients.
    pub clients: usize,
    /// How long each timed scenario runs.
    pub seconds: u64,
    /// Log sizes at which proofs are measured (ascending); the audit query runs at the
    /// first size of at least 100 000 (or the largest), verification at the largest.
    pub sizes: Vec<u64>,
    /// Where the data directory goes (a temporary directory inside it).
    pub work_dir: PathBuf,
    /// Keep the data directory and database afterwards.
    pub keep: bool,
}

/// Environment that raises the per-participant rate limit out of the way: the bench's
/// two connectors make every request.
fn server_env(database_url: &str, batch: Option<usize>) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "CLEARINGHOUSE_DATABASE_URL".to_owned(),
            database_url.to_owned(),
        ),
        (
            "CLEARINGHOUSE_EXCHANGE__REQUESTS_PER_MINUTE".to_owned(),
            UNLIMITED.to_string(),
        ),
        (
            "CLEARINGHOUSE_EXCHANGE__BURST".to_owned(),
            UNLIMITED.to_string(),
        ),
    ];
    if let Some(batch) = batch {
        env.push((
            "CLEARINGHOUSE_LOG__BATCH_MAX_ENTRIES".to_owned(),
            batch.to_string(),
        ));
    }
    env
}

/// The configuration the in-process set-up uses: the demo's, on the bench's data and
/// database, with big batches for the bulk fill.
fn setup_config(data_dir: &Path, database_url: &str, address: SocketAddr) -> Config {
    let mut config = crate::cli::demo_config();
    config.data_dir = data_dir.to_owned();
    config.database_url = Some(database_url.to_owned());
    config.listen = address;
    config.log.batch_max_entries = 65_536;
    config.exchange.requests_per_minute = UNLIMITED;
    config.exchange.burst = UNLIMITED;
    config
}

/// A per-participant rate limit the bench never reaches.
const UNLIMITED: u32 = 100_000_000;

/// A free loopback address, used by the set-up and by every server process of the run
/// (the demo's issuer DID and token audience name it).
fn free_address() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// A fresh PostgreSQL database next to the one `url` names; returns its URL and name.
async fn create_database(url: &str) -> anyhow::Result<(String, String)> {
    let name = format!("bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let admin = crate::store::Store::connect(&crate::store::StoreOptions::new(url.to_owned()))
        .await
        .context("connecting to PostgreSQL")?;
    let crate::store::Backend::Postgres(pool) = admin.backend() else {
        anyhow::bail!("--postgres must be a postgres:// URL");
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(pool)
        .await
        .context("creating the bench database")?;
    admin.close().await;
    Ok((with_database(url, &name)?, name))
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed = reqwest::Url::parse(url).context("--postgres is not a URL")?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    let admin =
        crate::store::Store::connect(&crate::store::StoreOptions::new(url.to_owned())).await?;
    if let crate::store::Backend::Postgres(pool) = admin.backend() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(pool)
        .await?;
    }
    admin.close().await;
    Ok(())
}

/// Run the bench; prints progress and returns the report.
pub async fn run(options: &BenchOptions, say: &dyn Fn(&str)) -> anyhow::Result<Report> {
    let work = options.work_dir.join(format!(
        "clearinghouse-bench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir).with_context(|| format!("making {}", data_dir.display()))?;
    let (database_url, created) = match &options.postgres {
        None => (
            format!("sqlite://{}", data_dir.join("clearinghouse.db").display()),
            None,
        ),
        Some(url) => {
            let (db_url, name) = create_database(url).await?;
            (db_url, Some((url.clone(), name)))
        }
    };
    let result = run_on(options, &data_dir, &database_url, say).await;
    if options.keep {
        say(&format!("kept {} and {database_url}", work.display()));
    } else {
        std::fs::remove_dir_all(&work).ok();
        if let Some((url, name)) = created {
            drop_database(&url, &name).await?;
        }
    }
    result
}

async fn run_on(
    options: &BenchOptions,
    data_dir: &Path,
    database_url: &str,
    say: &dyn Fn(&str),
) -> anyhow::Result<Report> {
    let backend = if options.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    say(&format!(
        "bench on {backend}: measuring the machine's bounds (one core)"
    ));
    let bounds = tokio::task::spawn_blocking(|| bounds::measure(Duration::from_secs(1))).await?;
    let address = free_address()?;
    let config = setup_config(data_dir, database_url, address);

    say("preparing the log: organisations, contracts, the audit contract's 1 000 entries");
    let service = crate::cli::demo_service(&config, address).await?;
    let fixture = crate::demo::bench::prepare(&service.state, data_dir).await?;
    let vkey = service.state.journal.verifier().vkey();
    service.stop().await;
    let operator_token = std::fs::read_to_string(data_dir.join("operator-token"))?
        .trim()
        .to_owned();

    let http = scenarios::http(options.clients)?;
    let budget = Duration::from_secs(options.seconds);
    let mut runs = Vec::new();

    // Decisions and receipts, batched as configured, then one entry per transaction.
    for (label, batch) in [("grouped", None), ("naive", Some(1))] {
        let server =
            ServerProcess::start(data_dir, address, &server_env(database_url, batch)).await?;
        let keys = (
            scenarios::connector_key(data_dir, &fixture.provider)?,
            scenarios::connector_key(data_dir, &fixture.consumer)?,
        );
        let token =
            scenarios::access_token(&http, &server.base, &fixture.consumer, &keys.1).await?;
        let contracts = crate::demo::bench::LOAD_CONTRACTS;
        say(&format!(
            "{label}: decisions for {} s on {contracts} contracts",
            options.seconds
        ));
        let (decisions, mut permits) = scenarios::decisions(
            &http,
            &server.base,
            &fixture,
            contracts,
            &token,
            options.clients,
            u64::MAX,
            budget,
        )
        .await;
        runs.push(Run::load(&format!("decisions ({label})"), decisions));
        if batch.is_none() {
            say(&format!(
                "{label}: decisions for {} s on one contract",
                options.seconds
            ));
            let (one, more) = scenarios::decisions(
                &http,
                &server.base,
                &fixture,
                1,
                &token,
                options.clients,
                u64::MAX,
                budget,
            )
            .await;
            runs.push(Run::load("decisions (one contract)", one));
            permits.extend(more);
        }
        say(&format!("{label}: {} signed receipts", permits.len() * 2));
        let receipts = scenarios::receipts(
            &http,
            &server.base,
            &fixture,
            (&keys.0, &keys.1),
            &permits,
            options.clients,
        )
        .await;
        runs.push(Run::load(&format!("receipts ({label})"), receipts));
        server.stop().await?;
    }

    // The log at each size: audit query, proofs, verification, memory.
    let largest = options.sizes.iter().copied().max().unwrap_or(0);
    let audit_at = options
        .sizes
        .iter()
        .copied()
        .find(|&s| s >= 100_000)
        .unwrap_or(largest);
    let mut sizes = options.sizes.clone();
    sizes.sort_unstable();
    for size in sizes {
        say(&format!("growing the log to {size} entries"));
        let service = crate::cli::demo_service(&config, address).await?;
        let started = std::time::Instant::now();
        fill::fill_to(&service.state, &fixture, size, |now| {
            say(&format!("  … {now} entries"));
        })
        .await?;
        let filled = service.state.journal.reader().head().head.size;
        say(&format!(
            "  {filled} entries ({:.0} s)",
            started.elapsed().as_secs_f64()
        ));
        // A log that grew over months has been vacuumed as it grew; one that grew in
        // minutes has not, and autovacuum would run during the measurements below.
        let settling = std::time::Instant::now();
        if let Some(what) = service.state.store.settle_after_bulk_load().await? {
            say(&format!(
                "  {what} ({:.0} s)",
                settling.elapsed().as_secs_f64()
            ));
        }
        service.stop().await;
        let server =
            ServerProcess::start(data_dir, address, &server_env(database_url, None)).await?;
        if size == audit_at {
            say("audit query");
            let audit = scenarios::audit_query(
                &http,
                &server.base,
                &operator_token,
                &fixture.audit_contract,
                50,
            )
            .await?;
            runs.push(Run::audit(filled, audit));
        }
        say(&format!("proofs on {filled} entries"));
        for (kind, consistency) in [("inclusion", false), ("consistency", true)] {
            let outcome = scenarios::proofs(
                &http,
                &server.base,
                filled,
                consistency,
                options.clients,
                budget,
            )
            .await;
            let mut run = Run::load(&format!("{kind} proofs @ {}", short(filled)), outcome);
            run.log_size = Some(filled);
            runs.push(run);
        }
        if size == largest {
            say("full verification");
            let verified = scenarios::full_verify(&server.base, &vkey).await?;
            runs.push(Run::verify(verified));
        }
        runs.push(Run::memory(filled, server.peak_resident_mib()));
        server.stop().await?;
    }
    Ok(Report::new(backend, options, bounds, runs))
}

/// 1000000 → "1M", 100000 → "100k".
pub fn short(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 100_000 == 0 => {
            let m = n as f64 / 1e6;
            format!("{}M", trim(m))
        }
        n if n >= 1_000 && n % 100 == 0 => format!("{}k", trim(n as f64 / 1e3)),
        n => n.to_string(),
    }
}

fn trim(x: f64) -> String {
    let text = format!("{x:.1}");
    text.strip_suffix(".0").unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_short() {
        assert_eq!(short(10_000_000), "10M");
        assert_eq!(short(1_500_000), "1.5M");
        assert_eq!(short(100_000), "100k");
        assert_eq!(short(1234), "1234");
    }

    #[test]
    fn the_bench_database_replaces_the_path_only() {
        let url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable";
        assert_eq!(
            with_database(url, "bench_1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/bench_1?sslmode=disable"
        );
    }
}
