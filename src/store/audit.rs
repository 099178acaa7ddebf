//! Audit queries: entries selected through the audit index.

use sqlx::QueryBuilder;

use super::projection::audit_only;
use super::{Store, StoreError, to_i64, to_u64};
use crate::with_pool;

/// Which entries an auditor asks for. Every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub kind: Option<String>,
    /// A SIREN the entry involves (named in it, or a party of its contract).
    pub participant: Option<String>,
    pub contract: Option<String>,
    pub asset: Option<String>,
    /// Entry time, inclusive, in milliseconds since the epoch.
    pub from_ms: Option<i64>,
    /// Entry time, exclusive.
    pub to_ms: Option<i64>,
}

/// One entry as the audit query reads it: its index, the type and time the log's index
/// columns hold for it, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub index: u64,
    pub kind: String,
    pub time_ms: i64,
    pub data: Vec<u8>,
}

impl Store {
    /// Entries matching `filter` with index in `(after, below)`, in index order, at most
    /// `limit`: each as its index and its bytes.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after: Option<u64>,
        below: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        Ok(self
            .audit_rows(filter, after, below, limit)
            .await?
            .into_iter()
            .map(|row| (row.index, row.data))
            .collect())
    }

    /// [`Store::audit_entries`] with each entry's indexed type and time.
    pub async fn audit_rows(
        &self,
        filter: &AuditFilter,
        after: Option<u64>,
        below: u64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let after = match after {
            Some(index) => to_i64(index, "index")?,
            None => -1,
        };
        let below = to_i64(below, "size")?;
        let rows: Vec<(i64, String, i64, Vec<u8>)> = with_pool!(self, |pool| {
            let mut query = QueryBuilder::new(
                // `IN` rather than a join on the subquery: SQLite then looks the entries up
                // in index order and needs no temporary B-tree to sort the page.
                "SELECT e.idx, e.entry_type, e.entry_time_ms, e.data FROM log_entries e \
                 WHERE e.idx IN \
                 (SELECT DISTINCT log_index FROM audit_index WHERE log_index > ",
            );
            query.push_bind(after);
            query.push(" AND log_index < ").push_bind(below);
            query
                .push(" AND siren = ")
                .push_bind(filter.participant.clone().unwrap_or_default());
            if let Some(kind) = &filter.kind {
                query.push(" AND entry_type = ").push_bind(kind.clone());
            }
            if let Some(contract) = &filter.contract {
                query
                    .push(" AND contract_id = ")
                    .push_bind(contract.clone());
            }
            if let Some(asset) = &filter.asset {
                query.push(" AND asset = ").push_bind(asset.clone());
            }
            if let Some(from) = filter.from_ms {
                query.push(" AND time_ms >= ").push_bind(from);
            }
            if let Some(to) = filter.to_ms {
                query.push(" AND time_ms < ").push_bind(to);
            }
            query.push(" ORDER BY log_index LIMIT ");
            query.push_bind(i64::from(limit));
            query.push(") ORDER BY e.idx");
            query.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(idx, kind, time_ms, data)| {
                Ok(AuditRow {
                    index: to_u64(idx, "index")?,
                    kind,
                    time_ms,
                    data,
                })
            })
            .collect()
    }

    /// Index the entries the audit index does not hold yet (those logged before it
    /// existed), in batches; returns how many. Idempotent: safe to run at every start.
    pub async fn backfill_audit_index(&self) -> Result<u64, StoreError> {
        let sqlite = self.backend_name() == "sqlite";
        const BATCH: i64 = 1000;
        let mut next: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COALESCE(MAX(log_index) + 1, 0) FROM audit_index")
                .fetch_one(pool)
                .await?
        });
        let mut done = 0;
        loop {
            let rows: Vec<(i64, Vec<u8>)> = with_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT idx, data FROM log_entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
                )
                .bind(next)
                .bind(BATCH)
                .fetch_all(pool)
                .await?
            });
            let Some((last, _)) = rows.last() else {
                return Ok(done);
            };
            next = last + 1;
            with_pool!(self, |pool| {
                let mut tx = pool.begin().await?;
                let mut ops = Vec::new();
                for (idx, data) in &rows {
                    ops.extend(audit_only(to_u64(*idx, "index")?, data));
                }
                for statement in super::projection::coalesce::coalesce(
                    ops,
                    super::projection::coalesce::Chunking::for_sqlite(sqlite),
                ) {
                    let statement = if sqlite {
                        statement.positional()
                    } else {
                        statement
                    };
                    crate::bound_query!(statement).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            });
            done += rows.len() as u64;
        }
    }
}

/// An open audit session: who reads, and over which organisation (`None`: everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSession {
    pub label: String,
    pub siren: Option<String>,
}

impl Store {
    /// Keep an audit session (by its token's SHA-256, hex) until `expires_at_ms`; sessions
    /// already expired are dropped on the way.
    pub async fn save_audit_session(
        &self,
        token_sha256: &str,
        session: &AuditSession,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM audit_sessions WHERE expires_at_ms <= $1")
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO audit_sessions (token_sha256, label, siren, expires_at_ms) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_sha256)
            .bind(&session.label)
            .bind(&session.siren)
            .bind(expires_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// End a session now (a page's sign-out); unknown tokens are no error.
    pub async fn delete_audit_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM audit_sessions WHERE token_sha256 = $1")
                .bind(token_sha256)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The session a token opens, if it has not expired.
    pub async fn audit_session(
        &self,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Option<AuditSession>, StoreError> {
        let row: Option<(String, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT label, siren FROM audit_sessions \
                 WHERE token_sha256 = $1 AND expires_at_ms > $2",
            )
            .bind(token_sha256)
            .bind(now_ms)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(label, siren)| AuditSession { label, siren }))
    }
}
