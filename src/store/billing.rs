//! Queries billing needs over the log itself (statements are computed from entries only).

use super::{Store, StoreError, to_u64};
use crate::with_pool;

impl Store {
    /// Entries of the given types logged before `before_ms` (entry time), in log order:
    /// (index, bytes).
    pub async fn entries_of_types(
        &self,
        types: &[&str],
        before_ms: i64,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut found = Vec::new();
        for kind in types {
            let rows: Vec<(i64, Vec<u8>)> = with_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT idx, data FROM log_entries \
                     WHERE entry_type = $1 AND entry_time_ms < $2 ORDER BY idx",
                )
                .bind(*kind)
                .bind(before_ms)
                .fetch_all(pool)
                .await?
            });
            for (index, data) in rows {
                found.push((to_u64(index, "log index")?, data));
            }
        }
        found.sort_by_key(|(index, _)| *index);
        Ok(found)
    }
}
