//! Queries for participants and trust: the projections of trust entries, and the private
//! data (people, organisations, issued credentials, grants) the log only commits to.

use serde_json::Value;

use super::{Store, StoreError, to_u64};
use crate::with_pool;

/// A person as ProConnect identified them. Private: never written to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub issuer: String,
    pub subject: String,
    pub idp_id: String,
    pub email: String,
    pub given_name: String,
    pub usual_name: String,
    pub salt: Vec<u8>,
}

/// A credential this service issued, as projected from `credential.issued`/`revoked`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    pub id: String,
    pub credential_type: String,
    pub sha256: String,
    pub siren: String,
    pub basis: String,
    pub parent_id: Option<String>,
    pub status_list: String,
    pub status_index: u64,
    pub valid_until: String,
    pub issued_index: u64,
    pub revoked_index: Option<u64>,
}

/// A registered participant, as projected from its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantRecord {
    pub siren: String,
    pub siret: String,
    pub legal_category: String,
    pub class: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub registered_index: u64,
    pub updated_index: u64,
}

/// A connector key of a participant.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub kid: String,
    pub siren: String,
    pub jwk: Value,
    pub added_index: u64,
    pub revoked_index: Option<u64>,
}

/// A mandate granted ahead of the grantee's sign-in.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    pub id: String,
    pub kind: String,
    pub siren: String,
    pub grantee_email: String,
    pub powers: Value,
    pub max_delegation_depth: u32,
    pub valid_until: String,
    pub parent_credential_id: Option<String>,
    pub document_sha256: Option<String>,
    pub salt: Vec<u8>,
    pub claimed_credential_id: Option<String>,
}

/// An OpenID Connect sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    pub holder: Option<String>,
    pub purpose: String,
    pub created_at_ms: i64,
}

type CredentialRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    i64,
    Option<i64>,
);

fn credential_record(row: CredentialRow) -> Result<CredentialRecord, StoreError> {
    Ok(CredentialRecord {
        id: row.0,
        credential_type: row.1,
        sha256: row.2,
        siren: row.3,
        basis: row.4,
        parent_id: row.5,
        status_list: row.6,
        status_index: to_u64(row.7, "status index")?,
        valid_until: row.8,
        issued_index: to_u64(row.9, "log index")?,
        revoked_index: row.10.map(|i| to_u64(i, "log index")).transpose()?,
    })
}

const CREDENTIAL_COLUMNS: &str = "SELECT id, credential_type, sha256, siren, basis, parent_id, \
     status_list, status_index, valid_until, issued_index, revoked_index FROM credentials";

/// The columns of a [`ParticipantRow`], in its order.
pub(super) const PARTICIPANT_COLUMNS: &str = "siren, siret, legal_category, class, status, \
     status_reason, registered_index, updated_index";

pub(super) type ParticipantRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
);

pub(super) fn participant_record(row: ParticipantRow) -> Result<ParticipantRecord, StoreError> {
    Ok(ParticipantRecord {
        siren: row.0,
        siret: row.1,
        legal_category: row.2,
        class: row.3,
        status: row.4,
        status_reason: row.5,
        registered_index: to_u64(row.6, "log index")?,
        updated_index: to_u64(row.7, "log index")?,
    })
}

type GrantRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Vec<u8>,
    Option<String>,
);

fn grant_record(row: GrantRow) -> Result<GrantRecord, StoreError> {
    Ok(GrantRecord {
        id: row.0,
        kind: row.1,
        siren: row.2,
        grantee_email: row.3,
        powers: serde_json::from_str(&row.4)
            .map_err(|e| StoreError::Corrupt(format!("grant powers: {e}")))?,
        max_delegation_depth: u32::try_from(row.5)
            .map_err(|_| StoreError::Corrupt("grant depth".into()))?,
        valid_until: row.6,
        parent_credential_id: row.7,
        document_sha256: row.8,
        salt: row.9,
        claimed_credential_id: row.10,
    })
}

const GRANT_COLUMNS: &str = "SELECT id, kind, siren, grantee_email, powers, \
     max_delegation_depth, valid_until, parent_credential_id, document_sha256, salt, \
     claimed_credential_id FROM mandate_grants";

/// How long an expired challenge is kept (so that presenting it is answered "expired"
/// rather than "unknown") before it is purged.
pub const CHALLENGE_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

impl Store {
    /// The anchors currently in force, by id, and the anchor-set version.
    pub async fn trust_anchors(
        &self,
    ) -> Result<(Vec<(String, Value)>, Option<String>), StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, definition FROM trust_anchors ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        let version: Option<String> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT anchors_version FROM trust_state WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        let anchors = rows
            .into_iter()
            .map(|(id, definition)| {
                serde_json::from_str(&definition)
                    .map(|d| (id, d))
                    .map_err(|e| StoreError::Corrupt(format!("anchor definition: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok((anchors, version))
    }

    /// Find a person by their ProConnect issuer and subject.
    pub async fn person_by_subject(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<Person>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Vec<u8>,
        );
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, issuer, subject, idp_id, email, given_name, usual_name, salt \
                 FROM persons WHERE issuer = $1 AND subject = $2",
            )
            .bind(issuer)
            .bind(subject)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| Person {
            id: r.0,
            issuer: r.1,
            subject: r.2,
            idp_id: r.3,
            email: r.4,
            given_name: r.5,
            usual_name: r.6,
            salt: r.7,
        }))
    }

    /// Record a person (or refresh their attributes); returns the stored person.
    pub async fn upsert_person(&self, person: &Person) -> Result<Person, StoreError> {
        let now = crate::clock::now().timestamp_millis();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO persons (id, issuer, subject, idp_id, email, given_name, usual_name, \
                 salt, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (issuer, subject) DO UPDATE SET idp_id = excluded.idp_id, \
                 email = excluded.email, given_name = excluded.given_name, \
                 usual_name = excluded.usual_name",
            )
            .bind(&person.id)
            .bind(&person.issuer)
            .bind(&person.subject)
            .bind(&person.idp_id)
            .bind(&person.email)
            .bind(&person.given_name)
            .bind(&person.usual_name)
            .bind(&person.salt)
            .bind(now)
            .execute(pool)
            .await?;
        });
        self.person_by_subject(&person.issuer, &person.subject)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Record what Sirene said about an organisation (the latest answer wins).
    pub async fn upsert_organisation(
        &self,
        facts: &crate::trust::sirene::CompanyFacts,
        body: &[u8],
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO organisations (siren, siret, legal_name, legal_category, \
                 sirene_sha256, sirene_body, checked_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (siren) DO UPDATE SET siret = excluded.siret, \
                 legal_name = excluded.legal_name, legal_category = excluded.legal_category, \
                 sirene_sha256 = excluded.sirene_sha256, sirene_body = excluded.sirene_body, \
                 checked_at_ms = excluded.checked_at_ms",
            )
            .bind(facts.siren.as_str())
            .bind(facts.siret.as_str())
            .bind(&facts.legal_name)
            .bind(&facts.legal_category)
            .bind(&facts.evidence_sha256)
            .bind(body)
            .bind(facts.checked_at.timestamp_millis())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The legal name last seen in Sirene for a SIREN.
    pub async fn organisation_name(&self, siren: &str) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT legal_name FROM organisations WHERE siren = $1")
                .bind(siren)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Keep the full text of a credential this service issued.
    pub async fn save_issued_credential(
        &self,
        id: &str,
        person_id: Option<&str>,
        holder: Option<&str>,
        credential: &Value,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO issued_credentials (id, person_id, holder, credential) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(person_id)
            .bind(holder)
            .bind(credential.to_string())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The full text of an issued credential.
    pub async fn issued_credential(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let text: Option<String> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT credential FROM issued_credentials WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("credential: {e}")))
        })
        .transpose()
    }

    /// The credentials this service issued to a person (by [`Person::id`]): id, holder DID
    /// and full text, oldest first.
    pub async fn credentials_issued_to(
        &self,
        person_id: &str,
    ) -> Result<Vec<(String, Option<String>, Value)>, StoreError> {
        let rows: Vec<(String, Option<String>, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT i.id, i.holder, i.credential FROM issued_credentials i \
                 JOIN credentials c ON c.id = i.id WHERE i.person_id = $1 \
                 ORDER BY c.issued_index",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, holder, text)| {
                let credential = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("credential {id}: {e}")))?;
                Ok((id, holder, credential))
            })
            .collect()
    }

    /// A credential record (projection) by id.
    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let row: Option<CredentialRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{CREDENTIAL_COLUMNS} WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(credential_record).transpose()
    }

    /// Credentials whose parent is `id` (sub-mandates).
    pub async fn credential_children(&self, id: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        let rows: Vec<CredentialRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{CREDENTIAL_COLUMNS} WHERE parent_id = $1 ORDER BY issued_index"
            )))
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(credential_record).collect()
    }

    /// Credentials issued for a SIREN, oldest first.
    pub async fn credentials_for(&self, siren: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        let rows: Vec<CredentialRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{CREDENTIAL_COLUMNS} WHERE siren = $1 ORDER BY issued_index"
            )))
            .bind(siren)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(credential_record).collect()
    }

    /// Indexes set (revoked) in one of this service's status lists (by its URL).
    pub async fn revoked_indexes(&self, list: &str) -> Result<Vec<u64>, StoreError> {
        let rows: Vec<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT status_index FROM credentials \
                 WHERE status_list = $1 AND revoked_index IS NOT NULL ORDER BY status_index",
            )
            .bind(list)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|i| to_u64(i, "status index"))
            .collect()
    }

    /// The last log index that changed a status list (by its URL), if any.
    pub async fn status_list_version(&self, list: &str) -> Result<Option<u64>, StoreError> {
        let version: Option<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(CASE WHEN revoked_index IS NULL THEN issued_index \
                 ELSE revoked_index END) FROM credentials WHERE status_list = $1",
            )
            .bind(list)
            .fetch_one(pool)
            .await?
        });
        version.map(|v| to_u64(v, "log index")).transpose()
    }

    /// Take the next free index of a status list.
    pub async fn allocate_status_index(
        &self,
        list: &str,
        capacity: u64,
    ) -> Result<u64, StoreError> {
        let next: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO status_list_counters (list, next_index) VALUES ($1, 1) \
                 ON CONFLICT (list) DO UPDATE SET next_index = status_list_counters.next_index + 1 \
                 RETURNING next_index",
            )
            .bind(list)
            .fetch_one(pool)
            .await?
        });
        let index = to_u64(next - 1, "status index")?;
        if index >= capacity {
            return Err(StoreError::Conflict(format!("status list {list} is full")));
        }
        Ok(index)
    }

    /// Start an OpenID Connect sign-in.
    pub async fn save_login(&self, login: &PendingLogin) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO oidc_logins (state, nonce, code_verifier, holder, purpose, \
                 created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&login.state)
            .bind(&login.nonce)
            .bind(&login.code_verifier)
            .bind(&login.holder)
            .bind(&login.purpose)
            .bind(login.created_at_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Take (and delete) the sign-in with this `state`: each state is usable once.
    pub async fn take_login(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        type Row = (String, String, String, Option<String>, String, i64);
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "DELETE FROM oidc_logins WHERE state = $1 \
                 RETURNING state, nonce, code_verifier, holder, purpose, created_at_ms",
            )
            .bind(state)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| PendingLogin {
            state: r.0,
            nonce: r.1,
            code_verifier: r.2,
            holder: r.3,
            purpose: r.4,
            created_at_ms: r.5,
        }))
    }

    /// Issue a one-time challenge valid until `expires_at_ms`, and purge those expired
    /// for more than [`CHALLENGE_RETENTION_MS`] (anyone may ask for challenges: the table
    /// must not grow without bound). A purged challenge is unknown, hence still refused.
    pub async fn save_challenge(
        &self,
        challenge: &str,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        let purge_before = crate::clock::now().timestamp_millis() - CHALLENGE_RETENTION_MS;
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM challenges WHERE expires_at_ms < $1")
                .bind(purge_before)
                .execute(pool)
                .await?;
            sqlx::query("INSERT INTO challenges (challenge, expires_at_ms) VALUES ($1, $2)")
                .bind(challenge)
                .bind(expires_at_ms)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Use up a challenge, and say what it was (fresh, replayed, expired or unknown).
    pub async fn consume_challenge(
        &self,
        challenge: &str,
        now_ms: i64,
    ) -> Result<ChallengeUse, StoreError> {
        let used = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE challenges SET used_at_ms = $1 \
                 WHERE challenge = $2 AND used_at_ms IS NULL AND expires_at_ms > $1",
            )
            .bind(now_ms)
            .bind(challenge)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if used == 1 {
            return Ok(ChallengeUse::Fresh);
        }
        let row: Option<(i64, Option<i64>)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT expires_at_ms, used_at_ms FROM challenges WHERE challenge = $1")
                .bind(challenge)
                .fetch_optional(pool)
                .await?
        });
        Ok(match row {
            None => ChallengeUse::Unknown,
            Some((_, Some(_))) => ChallengeUse::Replayed,
            Some(_) => ChallengeUse::Expired,
        })
    }

    /// Record a mandate grant awaiting its grantee's sign-in.
    pub async fn save_grant(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        let now = crate::clock::now().timestamp_millis();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO mandate_grants (id, kind, siren, grantee_email, powers, \
                 max_delegation_depth, valid_until, parent_credential_id, document_sha256, salt, \
                 created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&grant.id)
            .bind(&grant.kind)
            .bind(&grant.siren)
            .bind(&grant.grantee_email)
            .bind(grant.powers.to_string())
            .bind(i64::from(grant.max_delegation_depth))
            .bind(&grant.valid_until)
            .bind(&grant.parent_credential_id)
            .bind(&grant.document_sha256)
            .bind(&grant.salt)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Unclaimed grants for this e-mail address and SIREN, oldest first.
    pub async fn open_grants(
        &self,
        siren: &str,
        email: &str,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let rows: Vec<GrantRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{GRANT_COLUMNS} WHERE siren = $1 AND lower(grantee_email) = lower($2) \
                 AND claimed_credential_id IS NULL ORDER BY created_at_ms"
            )))
            .bind(siren)
            .bind(email)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(grant_record).collect()
    }

    /// Mark a grant as claimed by the credential issued for it. False if already claimed.
    pub async fn claim_grant(&self, id: &str, credential_id: &str) -> Result<bool, StoreError> {
        let changed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE mandate_grants SET claimed_credential_id = $1 \
                 WHERE id = $2 AND claimed_credential_id IS NULL",
            )
            .bind(credential_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// A participant by SIREN.
    pub async fn participant(&self, siren: &str) -> Result<Option<ParticipantRecord>, StoreError> {
        let row: Option<ParticipantRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE siren = $1"
            )))
            .bind(siren)
            .fetch_optional(pool)
            .await?
        });
        row.map(participant_record).transpose()
    }

    /// Participants in SIREN order, after `after` (cursor), at most `limit`.
    pub async fn participants(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ParticipantRecord>, StoreError> {
        let rows: Vec<ParticipantRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT siren, siret, legal_category, class, status, status_reason, \
                 registered_index, updated_index FROM participants \
                 WHERE siren > $1 ORDER BY siren LIMIT $2",
            )
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(participant_record).collect()
    }

    /// Connector keys of a participant (revoked ones included, with their revocation).
    pub async fn participant_keys(&self, siren: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let rows: Vec<(String, String, String, i64, Option<i64>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT kid, siren, jwk, added_index, revoked_index FROM participant_keys \
                 WHERE siren = $1 ORDER BY added_index",
            )
            .bind(siren)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(key_record).collect()
    }

    /// What authenticating a connector needs, in one statement: the SIREN and revocation of
    /// key `kid`, and the status of the participant holding it (`None` when the key is
    /// unknown; the status `None` when its holder is not a participant).
    pub async fn connector_key_standing(
        &self,
        kid: &str,
    ) -> Result<Option<ConnectorKeyStanding>, StoreError> {
        let row: Option<(String, Option<i64>, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT k.siren, k.revoked_index, p.status FROM participant_keys k \
                 LEFT JOIN participants p ON p.siren = k.siren WHERE k.kid = $1",
            )
            .bind(kid)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(siren, revoked, status)| {
            Ok(ConnectorKeyStanding {
                siren,
                revoked_index: revoked.map(|i| to_u64(i, "log index")).transpose()?,
                participant_status: status,
            })
        })
        .transpose()
    }

    /// A connector key by its thumbprint.
    pub async fn participant_key(&self, kid: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row: Option<(String, String, String, i64, Option<i64>)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT kid, siren, jwk, added_index, revoked_index FROM participant_keys \
                 WHERE kid = $1",
            )
            .bind(kid)
            .fetch_optional(pool)
            .await?
        });
        row.map(key_record).transpose()
    }
}

fn key_record(row: (String, String, String, i64, Option<i64>)) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        kid: row.0,
        siren: row.1,
        jwk: serde_json::from_str(&row.2)
            .map_err(|e| StoreError::Corrupt(format!("key jwk: {e}")))?,
        added_index: to_u64(row.3, "log index")?,
        revoked_index: row.4.map(|i| to_u64(i, "log index")).transpose()?,
    })
}

/// A connector key and the standing of its holder, as authentication reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorKeyStanding {
    pub siren: String,
    pub revoked_index: Option<u64>,
    /// The holder's participant status (`active`, `suspended`…), `None` if not registered.
    pub participant_status: Option<String>,
}

/// What happened when a challenge was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeUse {
    /// Issued here, unexpired, first use: accepted and now used up.
    Fresh,
    /// Used before.
    Replayed,
    /// Past its expiry.
    Expired,
    /// Never issued here.
    Unknown,
}
