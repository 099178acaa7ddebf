//! Cosignatures collected from witnesses: the latest per witness (`witness_cosignatures`).

use super::{Store, StoreError, to_i64, to_u64};
use crate::with_pool;

/// The latest checkpoint a witness cosigned for this log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessRecord {
    /// The witness's verifier key.
    pub witness: String,
    /// Size of the checkpoint it cosigned: the size it is known to hold.
    pub size: u64,
    /// The checkpoint as the log signed it (without cosignatures).
    pub checkpoint: String,
    /// The cosignature line the witness answered, ending in a newline.
    pub cosignature: String,
}

type WitnessRow = (String, i64, String, String);

impl Store {
    /// Every witness's latest cosignature.
    pub async fn witness_records(&self) -> Result<Vec<WitnessRecord>, StoreError> {
        let rows: Vec<WitnessRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT witness, size, checkpoint, cosignature FROM witness_cosignatures \
                 ORDER BY witness",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(witness, size, checkpoint, cosignature)| {
                Ok(WitnessRecord {
                    witness,
                    size: to_u64(size, "witness size")?,
                    checkpoint,
                    cosignature,
                })
            })
            .collect()
    }

    /// Record a witness's latest cosignature, replacing the one before.
    pub async fn put_witness_record(&self, record: &WitnessRecord) -> Result<(), StoreError> {
        let size = to_i64(record.size, "witness size")?;
        let now = crate::clock::now().timestamp_millis();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO witness_cosignatures \
                 (witness, size, checkpoint, cosignature, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (witness) DO UPDATE SET size = excluded.size, \
                 checkpoint = excluded.checkpoint, cosignature = excluded.cosignature, \
                 updated_at_ms = excluded.updated_at_ms",
            )
            .bind(&record.witness)
            .bind(size)
            .bind(&record.checkpoint)
            .bind(&record.cosignature)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())?
        });
        Ok(())
    }
}
