//! What several `serve` processes sharing one PostgreSQL database coordinate through it.
//!
//! * **The sequencer election.** One process holds a session advisory lock on a connection
//!   of its own and runs the sequencer; PostgreSQL releases the lock the moment that
//!   connection or process dies, and a follower's next attempt wins it.
//! * **Forwarded appends.** Followers insert entries into `forwarded_appends`; the leader
//!   commits them and records their index in the same transaction (see `store::log`).
//! * **Cross-process locks.** Checks that must not race ("is this contract's count still
//!   below its limit?") take a transaction advisory lock besides their in-process mutex.
//!
//! Advisory lock keys are database-wide, so they are derived in SQL from the schema (tests
//! run many logs side by side, one schema each) and a name.
//!
//! SQLite is one process's database: there is nothing to elect, and locks are no-ops.

use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::{Backend, Store, StoreError, to_u64};
use crate::with_pool;

/// The advisory lock key of `name` in the current schema, as SQL over parameter `$1`.
const LOCK_KEY: &str = "hashtextextended('clearinghouse:' || current_schema() || ':' || $1, 0)";

/// The notification channel a follower signals a forwarded append on.
const FORWARDED_CHANNEL: &str = "clearinghouse_forwarded";

/// How long an election round may take before it counts as failed.
const ELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a cross-process lock may be waited for before the request fails (closed).
/// Bounds both getting a connection and PostgreSQL granting the lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Where a forwarded append stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardedOutcome {
    /// Not committed yet.
    Pending,
    /// Committed; the index of its first entry.
    Appended(u64),
    /// Refused by the leader for good.
    Failed(String),
    /// No such row (withdrawn or forgotten).
    Missing,
}

/// Encode entries as (4-byte big-endian length, bytes)*.
fn encode_entries(entries: &[Vec<u8>]) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 4).sum());
    for entry in entries {
        let len = u32::try_from(entry.len())
            .map_err(|_| StoreError::Conflict("entry larger than 4 GiB".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decode what [`encode_entries`] wrote; `None` if the bytes do not parse.
fn decode_entries(mut bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        if rest.len() < len {
            return None;
        }
        let (entry, rest) = rest.split_at(len);
        entries.push(entry.to_vec());
        bytes = rest;
    }
    Some(entries)
}

type ForwardedRow = (i64, Vec<u8>);

impl Store {
    /// Hand `entries` to whichever process runs the sequencer; returns the row id to wait on.
    pub async fn forward_append(&self, entries: &[Vec<u8>]) -> Result<i64, StoreError> {
        let body = encode_entries(entries)?;
        let now = crate::clock::now().timestamp_millis();
        let id: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO forwarded_appends (entries, created_at_ms) VALUES ($1, $2) \
                 RETURNING id",
            )
            .bind(body.as_slice())
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        if let Backend::Postgres(pool) = self.backend() {
            // Wake the leader's feeder now rather than at its next poll. Best effort: the
            // feeder also polls.
            let _ = sqlx::query("SELECT pg_notify($1, '')")
                .bind(FORWARDED_CHANNEL)
                .execute(pool)
                .await;
        }
        Ok(id)
    }

    /// A listener woken by every forwarded append (PostgreSQL; `None` on SQLite, where no
    /// other process forwards).
    pub async fn forwarded_listener(&self) -> Result<Option<PgListener>, StoreError> {
        let Backend::Postgres(pool) = self.backend() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(FORWARDED_CHANNEL).await?;
        Ok(Some(listener))
    }

    /// Where forwarded append `id` stands.
    pub async fn forwarded_outcome(&self, id: i64) -> Result<ForwardedOutcome, StoreError> {
        let row: Option<(Option<i64>, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT first_index, failure FROM forwarded_appends WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(match row {
            None => ForwardedOutcome::Missing,
            Some((Some(index), _)) => ForwardedOutcome::Appended(to_u64(index, "index")?),
            Some((None, Some(failure))) => ForwardedOutcome::Failed(failure),
            Some((None, None)) => ForwardedOutcome::Pending,
        })
    }

    /// Take back forwarded append `id` if it is still pending. `true`: it was withdrawn
    /// and will never be logged; `false`: it was committed or refused meanwhile.
    pub async fn withdraw_forwarded(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM forwarded_appends \
                 WHERE id = $1 AND first_index IS NULL AND failure IS NULL",
            )
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted == 1)
    }

    /// Drop the row of a forwarded append whose outcome has been read.
    pub async fn forget_forwarded(&self, id: i64) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM forwarded_appends WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Up to `limit` pending forwarded appends, oldest first. Rows whose bytes do not
    /// decode are marked failed (their forwarder is told) rather than retried forever.
    pub async fn pending_forwarded(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, Vec<Vec<u8>>)>, StoreError> {
        let rows: Vec<ForwardedRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, entries FROM forwarded_appends \
                 WHERE first_index IS NULL AND failure IS NULL ORDER BY id LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        let mut pending = Vec::with_capacity(rows.len());
        for (id, body) in rows {
            match decode_entries(&body) {
                Some(entries) if !entries.is_empty() => pending.push((id, entries)),
                _ => {
                    self.fail_forwarded(id, "the forwarded entries do not decode")
                        .await?
                }
            }
        }
        Ok(pending)
    }

    /// Refuse forwarded append `id` for good, with the reason its forwarder will report.
    pub async fn fail_forwarded(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE forwarded_appends SET failure = $1 \
                 WHERE id = $2 AND first_index IS NULL AND failure IS NULL",
            )
            .bind(reason)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Refuse pending rows created before `before_ms`: their forwarder no longer waits.
    pub async fn expire_forwarded(&self, before_ms: i64) -> Result<u64, StoreError> {
        let expired = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE forwarded_appends SET failure = 'expired: nobody waits for it any more' \
                 WHERE created_at_ms < $1 AND first_index IS NULL AND failure IS NULL",
            )
            .bind(before_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(expired)
    }

    /// Delete settled rows older than `before_ms` (their forwarder died before reading them).
    pub async fn prune_forwarded(&self, before_ms: i64) -> Result<u64, StoreError> {
        let deleted = with_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM forwarded_appends WHERE created_at_ms < $1 \
                 AND (first_index IS NOT NULL OR failure IS NOT NULL)",
            )
            .bind(before_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted)
    }

    /// The sequencer election for log `name`: `None` on SQLite (one process, always leads).
    pub fn election(&self, name: &str) -> Option<Election> {
        match self.backend() {
            Backend::Sqlite(_) => None,
            Backend::Postgres(pool) => Some(Election {
                pool: pool.clone(),
                name: format!("sequencer:{name}"),
                connection: None,
                held: false,
            }),
        }
    }

    /// Hold `name` against every process sharing this database (and every task here that
    /// also asks) until the guard is dropped. A no-op on SQLite.
    pub async fn cluster_lock(&self, name: &str) -> Result<ClusterGuard, StoreError> {
        let Some(pool) = &self.locks else {
            return Ok(ClusterGuard { _tx: None });
        };
        let mut tx = pool.begin().await?;
        // One round trip: the bounded wait is set (for this transaction) in the FROM item,
        // which runs before the lock is asked for.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT pg_advisory_xact_lock({LOCK_KEY}) \
             FROM (SELECT set_config('lock_timeout', '{}ms', true)) AS bounded_wait",
            LOCK_WAIT.as_millis()
        )))
        .bind(name)
        .execute(&mut *tx)
        .await?;
        Ok(ClusterGuard { _tx: Some(tx) })
    }
}

/// A pool of its own for cross-process locks: a lock holder keeps one connection for as
/// long as it holds the lock, and must not starve the queries it runs meanwhile.
pub(super) fn lock_pool(pool: &PgPool, size: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size.max(2))
        .acquire_timeout(LOCK_WAIT)
        // As for the main pool: no ping round trip before each lock (see `Store::connect`).
        .test_before_acquire(false)
        .connect_lazy_with((*pool.connect_options()).clone())
}

/// A held cross-process lock; released (its transaction rolled back) when dropped.
pub struct ClusterGuard {
    _tx: Option<Transaction<'static, Postgres>>,
}

/// Contends for the right to run the sequencer, on a connection held for that purpose.
/// Dropping it resigns.
pub struct Election {
    pool: PgPool,
    name: String,
    connection: Option<PoolConnection<Postgres>>,
    /// Whether the session on `connection` holds the lock.
    held: bool,
}

impl Election {
    /// Try to become (or confirm being) the leader. `Ok(true)` while this process holds
    /// the lock. Any error means the lock is not (or no longer known to be) held: the
    /// connection is dropped, which releases the lock if the server still had it.
    pub async fn try_lead(&mut self) -> Result<bool, StoreError> {
        // A partitioned database must not hang the election: no answer is an error.
        let result = tokio::time::timeout(ELECTION_TIMEOUT, self.attempt())
            .await
            .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)));
        if result.is_err() {
            self.resign();
        }
        result
    }

    async fn attempt(&mut self) -> Result<bool, StoreError> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => {
                self.held = false;
                let mut connection = self.pool.acquire().await?;
                // If the leader's machine vanishes (no FIN, no RST), the server must still
                // end its session, and free the lock, within seconds rather than after the
                // kernel's two-hour keepalive.
                // Best effort: a server that refuses a setting still holds elections.
                for setting in [
                    "SET tcp_keepalives_idle = 5",
                    "SET tcp_keepalives_interval = 2",
                    "SET tcp_keepalives_count = 3",
                    "SET tcp_user_timeout = 10000",
                ] {
                    if let Err(e) = sqlx::raw_sql(setting).execute(&mut *connection).await {
                        tracing::warn!(error = %e, setting, "election connection setting refused");
                    }
                }
                self.connection.insert(connection)
            }
        };
        if self.held {
            // Still held as long as the session that took it is alive.
            sqlx::query("SELECT 1").execute(&mut **connection).await?;
            return Ok(true);
        }
        self.held = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT pg_try_advisory_lock({LOCK_KEY})"
        )))
        .bind(self.name.as_str())
        .fetch_one(&mut **connection)
        .await?;
        Ok(self.held)
    }

    /// Give the lock up: close the connection holding it (rather than return it to the
    /// pool, where the session lock would live on).
    pub fn resign(&mut self) {
        self.held = false;
        if let Some(connection) = self.connection.take() {
            let _ = connection.detach();
        }
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.resign();
    }
}
