//! Company facts from the INSEE Sirene API (v3.11): legal name, catégorie juridique, and
//! whether the legal unit and the establishment are active.
//!
//! Every answer is kept as evidence: the exact response bytes, their SHA-256 and when they
//! were fetched. Any failure to get a clear answer is an error, never a guess: registration
//! fails closed when Sirene cannot be asked.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::legal_category::{self, OrganisationClass};
use super::siret::{Siren, Siret};

/// Header carrying the API key on INSEE's API portal.
pub const API_KEY_HEADER: &str = "X-INSEE-Api-Key-Integration";

/// Why Sirene could not vouch for an establishment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SireneError {
    #[error("Sirene has no establishment with SIRET {0}")]
    NotFound(String),
    #[error("the Sirene API could not be reached or failed: {0}")]
    Unavailable(String),
    #[error("the Sirene API answered something unexpected: {0}")]
    BadResponse(String),
}

/// What Sirene says about an establishment and its legal unit, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyFacts {
    pub siren: Siren,
    pub siret: Siret,
    pub legal_name: String,
    /// INSEE catégorie juridique, niveau III (4 digits).
    pub legal_category: String,
    pub class: OrganisationClass,
    /// The legal unit is active (`etatAdministratifUniteLegale` = `A`).
    pub unit_active: bool,
    /// The establishment is active (current period's `etatAdministratifEtablissement` = `A`).
    pub establishment_active: bool,
    pub checked_at: DateTime<Utc>,
    /// SHA-256 (hex) of the exact response body.
    pub evidence_sha256: String,
}

impl CompanyFacts {
    /// Active: both the legal unit and the establishment.
    pub fn is_active(&self) -> bool {
        self.unit_active && self.establishment_active
    }
}

/// The response of `GET /siret/{siret}`, as much of it as is needed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SiretResponse {
    etablissement: Establishment,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Establishment {
    siret: String,
    unite_legale: LegalUnit,
    #[serde(default)]
    periodes_etablissement: Vec<EstablishmentPeriod>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegalUnit {
    etat_administratif_unite_legale: Option<String>,
    categorie_juridique_unite_legale: Option<String>,
    denomination_unite_legale: Option<String>,
    nom_unite_legale: Option<String>,
    prenom1_unite_legale: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EstablishmentPeriod {
    date_fin: Option<String>,
    etat_administratif_etablissement: Option<String>,
}

/// A Sirene API client.
#[derive(Debug, Clone)]
pub struct SireneClient {
    base: reqwest::Url,
    api_key: Option<String>,
    http: reqwest::Client,
}

impl SireneClient {
    /// `base_url` is the API root, e.g. `https://api.insee.fr/api-sirene/3.11`.
    pub fn new(base_url: &str, api_key: Option<String>) -> Result<Self, SireneError> {
        let mut text = base_url.trim().to_owned();
        if !text.ends_with('/') {
            text.push('/');
        }
        let base = reqwest::Url::parse(&text)
            .map_err(|e| SireneError::Unavailable(format!("bad Sirene base URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("clearinghouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SireneError::Unavailable(e.to_string()))?;
        Ok(SireneClient {
            base,
            api_key,
            http,
        })
    }

    /// Ask Sirene about an establishment. Returns the facts and the raw response (evidence).
    pub async fn establishment(
        &self,
        siret: &Siret,
    ) -> Result<(CompanyFacts, Vec<u8>), SireneError> {
        let url = self
            .base
            .join(&format!("siret/{siret}"))
            .map_err(|e| SireneError::Unavailable(e.to_string()))?;
        let mut request = self.http.get(url).header("Accept", "application/json");
        if let Some(key) = &self.api_key {
            request = request.header(API_KEY_HEADER, key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SireneError::Unavailable(e.to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| SireneError::Unavailable(e.to_string()))?
            .to_vec();
        match status.as_u16() {
            200 => {}
            404 => return Err(SireneError::NotFound(siret.to_string())),
            other => {
                return Err(SireneError::Unavailable(format!(
                    "HTTP {other} from the Sirene API"
                )));
            }
        }
        let facts = parse_establishment(siret, &body, crate::clock::now())?;
        Ok((facts, body))
    }
}

/// Interpret a `/siret/{siret}` answer.
pub fn parse_establishment(
    siret: &Siret,
    body: &[u8],
    checked_at: DateTime<Utc>,
) -> Result<CompanyFacts, SireneError> {
    let parsed: SiretResponse =
        serde_json::from_slice(body).map_err(|e| SireneError::BadResponse(e.to_string()))?;
    let establishment = parsed.etablissement;
    if establishment.siret != siret.as_str() {
        return Err(SireneError::BadResponse(format!(
            "asked for SIRET {siret}, got {}",
            establishment.siret
        )));
    }
    let unit = establishment.unite_legale;
    let legal_category = unit
        .categorie_juridique_unite_legale
        .ok_or_else(|| SireneError::BadResponse("no catégorie juridique".into()))?;
    let class = legal_category::class_of(&legal_category).ok_or_else(|| {
        SireneError::BadResponse(format!("unknown catégorie juridique {legal_category}"))
    })?;
    let legal_name = match unit.denomination_unite_legale {
        Some(name) if !name.trim().is_empty() => name,
        // Sole traders have no denomination; their legal name is their own.
        _ => [unit.prenom1_unite_legale, unit.nom_unite_legale]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    };
    if legal_name.trim().is_empty() {
        return Err(SireneError::BadResponse("no legal name".into()));
    }
    let current = establishment
        .periodes_etablissement
        .iter()
        .find(|p| p.date_fin.is_none())
        .or(establishment.periodes_etablissement.first());
    Ok(CompanyFacts {
        siren: siret.siren(),
        siret: siret.clone(),
        legal_name,
        legal_category,
        class,
        unit_active: unit.etat_administratif_unite_legale.as_deref() == Some("A"),
        establishment_active: current.and_then(|p| p.etat_administratif_etablissement.as_deref())
            == Some("A"),
        checked_at,
        evidence_sha256: hex::encode(Sha256::digest(body)),
    })
}

/// Where company facts come from: the Sirene API, or (for the offline demo only) a fixed
/// set of answers in the API's shape, loaded from a file and labelled as such.
#[derive(Debug, Clone)]
pub enum SireneSource {
    Api(SireneClient),
    /// SIRET → response body, as `GET /siret/{siret}` would answer.
    Fixture(std::sync::Arc<std::collections::BTreeMap<String, Vec<u8>>>),
}

impl SireneSource {
    /// Facts about an establishment, and the answer they were read from.
    pub async fn establishment(
        &self,
        siret: &Siret,
    ) -> Result<(CompanyFacts, Vec<u8>), SireneError> {
        match self {
            SireneSource::Api(client) => client.establishment(siret).await,
            SireneSource::Fixture(answers) => {
                let body = answers
                    .get(siret.as_str())
                    .ok_or_else(|| SireneError::NotFound(siret.to_string()))?
                    .clone();
                let facts = parse_establishment(siret, &body, crate::clock::now())?;
                Ok((facts, body))
            }
        }
    }
}
