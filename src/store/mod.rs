//! Storage: one interface over SQLite (the embedded default) and PostgreSQL (production).
//!
//! The database is an index over the log plus the private data the log must not hold; it
//! is never the evidence. Each query is plain `sqlx::query` text written once with `$n`
//! placeholders, which both drivers accept, and run on whichever pool is configured
//! ([`with_pool!`] expands the body once per backend, so each arm is fully typed).
//!
//! | module         | owns                                                         |
//! |----------------|--------------------------------------------------------------|
//! | [`log`]        | the ledger's storage contract: entries, tiles, head, history |
//! | [`projection`] | query tables derived from entries, in the commit transaction |
//! | [`trust`]      | participants, credentials, people, grants, challenges        |
//! | [`audit`]      | auditors' filtered queries over the audit index              |
//! | [`cluster`]    | sequencer election, forwarded appends, cross-process locks   |

pub mod audit;
pub mod billing;
pub mod cluster;
pub mod exchange;
pub mod log;
pub mod privacy;
pub mod projection;
pub mod trust;
pub mod witness;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Run `$body` with `$pool` bound to the concrete pool of `$store`.
#[macro_export]
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store.backend() {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}

/// Why the store failed. Callers can tell "not there", "already there" and "down" apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflicts with existing data ({0})")]
    Conflict(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("cannot open database: {0}")]
    Config(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or("unique key").to_owned())
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(error.to_string())
            }
            _ => StoreError::Unavailable(error),
        }
    }
}

/// The configured database.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`.
    pub url: String,
    pub max_connections: u32,
    /// PostgreSQL schema to use instead of `public` (tests use one fresh schema each).
    pub pg_schema: Option<String>,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            max_connections: 16,
            pg_schema: None,
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// PostgreSQL only: connections for cross-process locks (see [`cluster`]).
    locks: Option<sqlx::postgres::PgPool>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Open the database named by `options.url` (no migration).
    pub async fn connect(options: &StoreOptions) -> Result<Store, StoreError> {
        let url = options.url.as_str();
        let backend = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before the sequencer acknowledges it, even if
                // the machine (not just the process) stops right after.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                // The connection's thread hands rows over through a channel of this many;
                // at sqlx's default (50) a 1 000-entry audit page stopped that thread 20
                // times to wait for the reader (3.9 ms in sqlx against 1.4 ms in SQLite).
                .row_buffer_size(1024)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings a connection when it is handed out (and again when it comes
                // back): one more trip to the connection's thread per statement. A local
                // file does not hang up; the ping on return still weeds out broken ones.
                .test_before_acquire(false)
                .connect_with(connect)
                .await
                .map_err(StoreError::Unavailable)?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut connect =
                PgConnectOptions::from_str(url).map_err(|e| StoreError::Config(e.to_string()))?;
            if let Some(schema) = &options.pg_schema {
                connect = connect.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                // Plus two held for good: the election's and the feeder's listener.
                .max_connections(options.max_connections.max(2) + 2)
                .acquire_timeout(Duration::from_secs(10))
                // No ping (a network round trip) before every statement: a connection the
                // server dropped fails its next statement (a 503, and the caller retries)
                // and is discarded by the ping sqlx makes when it comes back to the pool.
                .test_before_acquire(false)
                .connect_with(connect)
                .await
                .map_err(StoreError::Unavailable)?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::Config(format!(
                "database URL must start with sqlite: or postgres: (got {url:?})"
            )));
        };
        let locks = match &backend {
            // As many lock holders as queries in flight: every decision and receipt holds
            // one for its whole turn, so half as many capped the requests a process served
            // at once at eight.
            Backend::Postgres(pool) => Some(cluster::lock_pool(pool, options.max_connections)),
            Backend::Sqlite(_) => None,
        };
        Ok(Store { backend, locks })
    }

    /// Apply pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.backend {
            Backend::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(error) => StoreError::Unavailable(error),
            other => StoreError::Config(format!("migration failed: {other}")),
        })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// After a bulk load, bring the database to the state it reaches in steady operation:
    /// on PostgreSQL, `VACUUM (ANALYZE)` sets the visibility map and hint bits and gives the
    /// planner statistics, which autovacuum would otherwise do later, competing with the
    /// next reads. SQLite needs nothing. Returns what it ran, if anything.
    pub async fn settle_after_bulk_load(&self) -> Result<Option<&'static str>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(pool) => {
                const SQL: &str = "VACUUM (ANALYZE)";
                sqlx::raw_sql(SQL).execute(pool).await?;
                Ok(Some(SQL))
            }
        }
    }

    /// Is the database answering?
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Close every connection (waits for those in use).
    pub async fn close(&self) {
        if let Some(locks) = &self.locks {
            locks.close().await;
        }
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Convert a stored `BIGINT` to an index or size; negative values are corruption.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

/// Convert an index or size to a `BIGINT`.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} too large")))
}
