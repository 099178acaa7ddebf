//! Erasing a person's private records (GDPR right to erasure, retention limits).

use super::{Store, StoreError};
use crate::with_pool;

/// A person's private records, found by e-mail address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateRecords {
    /// (person id, e-mail as recorded, salt).
    pub persons: Vec<(String, String, Vec<u8>)>,
    /// Ids of the credentials issued to those persons.
    pub credentials: Vec<String>,
    /// (grant id, e-mail as recorded, salt) of mandates granted to the address.
    pub grants: Vec<(String, String, Vec<u8>)>,
}

impl PrivateRecords {
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty() && self.grants.is_empty()
    }
}

impl Store {
    /// Everything private the service holds about the person with this e-mail address
    /// (compared without case, as ProConnect's addresses are).
    pub async fn private_records(&self, email: &str) -> Result<PrivateRecords, StoreError> {
        let email = email.trim().to_lowercase();
        let persons: Vec<(String, String, Vec<u8>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, email, salt FROM persons WHERE lower(email) = $1 ORDER BY id",
            )
            .bind(&email)
            .fetch_all(pool)
            .await?
        });
        let mut credentials = Vec::new();
        for (id, _, _) in &persons {
            let ids: Vec<String> = with_pool!(self, |pool| {
                sqlx::query_scalar(
                    "SELECT id FROM issued_credentials WHERE person_id = $1 ORDER BY id",
                )
                .bind(id)
                .fetch_all(pool)
                .await?
            });
            credentials.extend(ids);
        }
        let grants: Vec<(String, String, Vec<u8>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, grantee_email, salt FROM mandate_grants \
                 WHERE lower(grantee_email) = $1 ORDER BY id",
            )
            .bind(&email)
            .fetch_all(pool)
            .await?
        });
        Ok(PrivateRecords {
            persons,
            credentials,
            grants,
        })
    }

    /// Delete the persons and the credentials issued to them, and blank the grants' address
    /// and salt (the grant rows stay: claimed mandates refer to them), in one transaction.
    pub async fn erase_private_records(&self, records: &PrivateRecords) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (id, _, _) in &records.persons {
                sqlx::query("DELETE FROM issued_credentials WHERE person_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM persons WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            for (id, _, _) in &records.grants {
                sqlx::query(
                    "UPDATE mandate_grants SET grantee_email = '', salt = $1 WHERE id = $2",
                )
                .bind(Vec::<u8>::new())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
