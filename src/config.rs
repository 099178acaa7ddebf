//! One typed configuration, from defaults, an optional TOML file, environment variables
//! (`CLEARINGHOUSE_…`, with `__` between nested keys) and command-line flags, in that order
//! of precedence. Validated once at start-up; every problem is reported with its key.
//!
//! Secrets (the operator token) come only from the environment or from files named here,
//! never from command-line flags, which other users can read in the process list.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::ledger::sequencer::SequencerConfig;

/// Environment variable prefix.
pub const ENV_PREFIX: &str = "CLEARINGHOUSE_";

/// The whole configuration, as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on, `ADDR:PORT` (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Directory for the embedded database, the log key and other local state.
    pub data_dir: PathBuf,
    /// `sqlite://FILE` or `postgres://USER@HOST:PORT/DB`. Default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Most database connections in the pool.
    pub database_max_connections: u32,
    /// Base URL clients reach the service at. Default: `http://` + the bound address.
    pub public_url: Option<String>,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub trust: TrustConfig,
    pub sirene: SireneConfig,
    pub proconnect: ProConnectConfig,
    /// Lifetimes and tolerances of contracts, tokens and decisions.
    pub exchange: crate::exchange::ExchangeSettings,
    /// Who issues invoices, and what buyers need on them (`[invoicing]`).
    #[serde(default)]
    pub invoicing: crate::billing::invoicing::InvoicingSettings,
    /// Witnesses asked to cosign every new checkpoint (`[[witnesses]]` tables in the file).
    #[serde(default)]
    pub witnesses: Vec<WitnessConfig>,
    /// How many of `witnesses` are expected to cosign each checkpoint (0..=their number).
    /// The service serves its checkpoint with whatever cosignatures it has and warns while
    /// fewer than this many cosigned it; verifiers enforce their own quorum.
    #[serde(default)]
    pub witness_quorum: usize,
}

/// A witness the service asks to cosign its checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Base URL of the witness; checkpoints are posted to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature/v1 verifier key (`name+id+key`).
    pub vkey: String,
}

/// Credentials, issuers and mandates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// Directory of trust anchor files (`*.toml`).
    pub anchors_dir: PathBuf,
    /// This service's credential-issuing key (mode 0600). Default: `data_dir/issuer.key`.
    pub issuer_key_file: Option<PathBuf>,
    /// How long a fetched status list is trusted before it is fetched again, in seconds.
    pub status_cache_seconds: u64,
    /// How long a fetched `did:web` document is cached, in seconds.
    pub did_cache_seconds: u64,
    /// Resolve `did:web` over plain HTTP for 127.0.0.1/localhost (demo and tests only).
    pub allow_http_did_web: bool,
    /// Validity of an officer mandate, in days.
    pub officer_mandate_days: u32,
    /// Delegation depth granted to officers (how many times they may sub-delegate, chained).
    pub officer_delegation_depth: u32,
    /// Validity of an organisation credential, in days.
    pub organisation_credential_days: u32,
    /// Validity of a presentation challenge, in seconds.
    pub challenge_seconds: u64,
}

/// The INSEE Sirene API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SireneConfig {
    /// API root, e.g. `https://api.insee.fr/api-sirene/3.11`.
    pub base_url: String,
    /// API key (environment only: `CLEARINGHOUSE_SIRENE__API_KEY`).
    pub api_key: Option<String>,
    /// File holding the API key.
    pub api_key_file: Option<PathBuf>,
}

/// ProConnect, the OpenID Connect provider people sign in with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProConnectConfig {
    /// Issuer URL; must also be a trusted `openid-provider` anchor.
    pub issuer: String,
    pub client_id: Option<String>,
    /// Client secret (environment only: `CLEARINGHOUSE_PROCONNECT__CLIENT_SECRET`).
    pub client_secret: Option<String>,
    /// File holding the client secret.
    pub client_secret_file: Option<PathBuf>,
}

/// The Merkle log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Checkpoint origin line and key name, e.g. `clearinghouse.example-region.fr/log`.
    pub origin: String,
    /// The log's private key (signed-note format, mode 0600). Default: `data_dir/log.key`.
    pub key_file: Option<PathBuf>,
    /// Most entries committed in one transaction.
    pub batch_max_entries: usize,
    /// How long the first entry of a batch waits for others, in milliseconds (only while
    /// the previous batch had more than one writer: a lone request is committed at once).
    pub batch_linger_ms: u64,
    /// Appends queued before writers are slowed down.
    pub queue_depth: usize,
    /// Full tiles kept in memory (8 KiB each): the bound on the read cache.
    pub tile_cache_tiles: usize,
}

/// Who may call operator endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// File holding the operator's bearer token.
    pub operator_token_file: Option<PathBuf>,
    /// The operator's bearer token (environment only: `CLEARINGHOUSE_AUTH__OPERATOR_TOKEN`).
    pub operator_token: Option<String>,
    /// Auditors (committee members, inspectors) who may read the audit API, each with its
    /// own bearer token. Only the token's SHA-256 is configured, so this file holds no
    /// secret: `[[auth.auditors]] label = "ctd-committee"` and
    /// `token_sha256 = "<64 hex digits>"` (e.g. `printf %s "$TOKEN" | sha256sum`). The
    /// label (a role, not a person's name) is what `audit.read` entries record.
    #[serde(default)]
    pub auditors: Vec<AuditorToken>,
    /// SIRENs of the governance committee's (CTD) member organisations: a `read-audit`
    /// mandate of one of them opens an audit session over the whole log; any other
    /// organisation's opens one over its own entries only.
    #[serde(default)]
    pub committee_sirens: Vec<String>,
}

/// One auditor's bearer token, by its digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditorToken {
    /// Recorded in the log as the reader: lowercase letters, digits and `-`.
    pub label: String,
    /// SHA-256 of the bearer token, 64 lowercase hexadecimal digits.
    pub token_sha256: String,
}

impl AuditorToken {
    /// The digest as bytes, if well-formed.
    pub fn digest(&self) -> Option<[u8; 32]> {
        if self.token_sha256.len() != 64
            || !self
                .token_sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        hex::decode(&self.token_sha256).ok()?.try_into().ok()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 16,
            public_url: None,
            log: LogConfig {
                origin: "clearinghouse.localhost/log".into(),
                key_file: None,
                batch_max_entries: 1024,
                batch_linger_ms: 1,
                queue_depth: 8192,
                tile_cache_tiles: 4096,
            },
            auth: AuthConfig::default(),
            trust: TrustConfig {
                anchors_dir: PathBuf::from("trust-anchors"),
                issuer_key_file: None,
                status_cache_seconds: 300,
                did_cache_seconds: 300,
                allow_http_did_web: false,
                officer_mandate_days: 365,
                officer_delegation_depth: 2,
                organisation_credential_days: 365,
                challenge_seconds: 600,
            },
            sirene: SireneConfig {
                base_url: "https://api.insee.fr/api-sirene/3.11".into(),
                api_key: None,
                api_key_file: None,
            },
            proconnect: ProConnectConfig {
                issuer: "https://auth.proconnect.gouv.fr/api/v2".into(),
                client_id: None,
                client_secret: None,
                client_secret_file: None,
            },
            exchange: crate::exchange::ExchangeSettings::default(),
            invoicing: crate::billing::invoicing::InvoicingSettings::default(),
            witnesses: Vec::new(),
            witness_quorum: 0,
        }
    }
}

/// Command-line values that override the file and environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub origin: Option<String>,
}

/// Everything wrong with a configuration, one line per problem.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Read defaults ← `file` ← environment ← `overrides`, then validate.
    pub fn load(
        base: Config,
        file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(base));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(vec![format!(
                    "config file {} does not exist",
                    file.display()
                )]));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(
            Env::prefixed(ENV_PREFIX)
                .ignore(&["CONFIG", "LOG_FORMAT", "BIN"])
                .split("__"),
        );
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| e.to_string()).collect()))?;
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = Some(url.clone());
        }
        if let Some(origin) = &overrides.origin {
            config.log.origin = origin.clone();
        }
        config.validate()?;
        Ok(config)
    }

    /// Check every value; report all problems at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let origin = &self.log.origin;
        if origin.is_empty()
            || origin
                .chars()
                .any(|c| c.is_whitespace() || c == '+' || c.is_control())
        {
            problems.push(format!(
                "log.origin {origin:?}: must be non-empty, without spaces or `+` \
                 (e.g. clearinghouse.example-region.fr/log)"
            ));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres:")
                || url.starts_with("postgresql:"))
        {
            problems.push(format!(
                "database_url: must start with sqlite: or postgres: (got {:?})",
                redact_url(url)
            ));
        }
        let exchange = &self.exchange;
        for (name, value) in [
            (
                "exchange.access_token_seconds",
                exchange.access_token_seconds,
            ),
            ("exchange.decision_seconds", exchange.decision_seconds),
            (
                "exchange.assertion_max_seconds",
                exchange.assertion_max_seconds,
            ),
            (
                "exchange.signature_max_age_days",
                exchange.signature_max_age_days,
            ),
        ] {
            if !(1..=86_400 * 366).contains(&value) {
                problems.push(format!("{name}: must be between 1 and 31622400"));
            }
        }
        if !(0..=3600).contains(&exchange.clock_skew_seconds) {
            problems.push("exchange.clock_skew_seconds: must be between 0 and 3600".into());
        }
        if self.database_max_connections < 2 {
            problems.push("database_max_connections: must be at least 2".into());
        }
        if let Some(url) = &self.public_url
            && reqwest::Url::parse(url).is_err()
        {
            problems.push(format!("public_url {url:?}: not an absolute URL"));
        }
        if !(1..=65_536).contains(&self.log.batch_max_entries) {
            problems.push("log.batch_max_entries: must be between 1 and 65536".into());
        }
        if self.log.batch_linger_ms > 1000 {
            problems.push("log.batch_linger_ms: must be at most 1000".into());
        }
        if self.log.queue_depth == 0 {
            problems.push("log.queue_depth: must be at least 1".into());
        }
        if self.log.tile_cache_tiles < 16 {
            problems.push("log.tile_cache_tiles: must be at least 16".into());
        }
        if reqwest::Url::parse(&self.sirene.base_url).is_err() {
            problems.push(format!(
                "sirene.base_url {:?}: not an absolute URL",
                self.sirene.base_url
            ));
        }
        if reqwest::Url::parse(&self.proconnect.issuer).is_err() {
            problems.push(format!(
                "proconnect.issuer {:?}: not an absolute URL",
                self.proconnect.issuer
            ));
        }
        if self.trust.officer_mandate_days == 0 || self.trust.organisation_credential_days == 0 {
            problems.push("trust.*_days: validity must be at least one day".into());
        }
        if self.trust.challenge_seconds == 0 || self.trust.challenge_seconds > 86_400 {
            problems.push("trust.challenge_seconds: must be between 1 and 86400".into());
        }
        if let Some(token) = &self.auth.operator_token
            && token.len() < 16
        {
            problems.push("auth.operator_token: must be at least 16 characters".into());
        }
        if let Some(seller) = &self.invoicing.seller {
            if crate::trust::siret::Siren::parse(&seller.siren).is_err() {
                problems.push(format!(
                    "invoicing.seller.siren: {:?} is not a valid SIREN",
                    seller.siren
                ));
            }
            if seller.name.trim().is_empty() || seller.vat_id.trim().is_empty() {
                problems.push("invoicing.seller: name and vat_id are required".into());
            }
        }
        for (n, buyer) in self.invoicing.buyers.iter().enumerate() {
            if crate::trust::siret::Siren::parse(&buyer.siren).is_err() {
                problems.push(format!(
                    "invoicing.buyers[{n}].siren: {:?} is not a valid SIREN",
                    buyer.siren
                ));
            }
        }
        for (n, siren) in self.auth.committee_sirens.iter().enumerate() {
            if crate::trust::siret::Siren::parse(siren).is_err() {
                problems.push(format!(
                    "auth.committee_sirens[{n}]: {siren:?} is not a valid SIREN"
                ));
            }
        }
        for (n, auditor) in self.auth.auditors.iter().enumerate() {
            let label_ok = !auditor.label.is_empty()
                && auditor.label.len() <= 64
                && auditor
                    .label
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'));
            if !label_ok || auditor.label == "operator" {
                problems.push(format!(
                    "auth.auditors[{n}].label: 1 to 64 lowercase letters, digits or `-`, not `operator`"
                ));
            }
            if auditor.digest().is_none() {
                problems.push(format!(
                    "auth.auditors[{n}].token_sha256: must be 64 lowercase hexadecimal digits"
                ));
            }
        }
        for (i, witness) in self.witnesses.iter().enumerate() {
            if reqwest::Url::parse(&witness.url).is_err() {
                problems.push(format!(
                    "witnesses[{i}].url {:?}: not an absolute URL",
                    witness.url
                ));
            }
            match crate::ledger::note::NoteVerifier::from_vkey(&witness.vkey) {
                Ok(key) if key.alg() == crate::ledger::note::ALG_COSIGNATURE_V1 => {}
                Ok(_) => problems.push(format!(
                    "witnesses[{i}].vkey: not a cosignature/v1 key (make one with `keygen --witness`)"
                )),
                Err(e) => problems.push(format!("witnesses[{i}].vkey: {e}")),
            }
        }
        if self.witness_quorum > self.witnesses.len() {
            problems.push(format!(
                "witness_quorum: {} is more than the {} configured witnesses",
                self.witness_quorum,
                self.witnesses.len()
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("clearinghouse.db").display()
            )
        })
    }

    /// Where the log's private key lives.
    pub fn key_file(&self) -> PathBuf {
        self.log
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("log.key"))
    }

    /// The configured witnesses with their keys parsed (validated at load).
    pub fn witness_targets(
        &self,
    ) -> Result<Vec<crate::witness::client::WitnessTarget>, ConfigError> {
        self.witnesses
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Ok(crate::witness::client::WitnessTarget {
                    url: w.url.clone(),
                    verifier: crate::ledger::note::NoteVerifier::from_vkey(&w.vkey)
                        .map_err(|e| ConfigError(vec![format!("witnesses[{i}].vkey: {e}")]))?,
                })
            })
            .collect()
    }

    pub fn sequencer(&self) -> SequencerConfig {
        SequencerConfig {
            max_batch: self.log.batch_max_entries,
            linger: Duration::from_millis(self.log.batch_linger_ms),
            queue_depth: self.log.queue_depth,
        }
    }

    /// Where this service's credential-issuing key lives.
    pub fn issuer_key_file(&self) -> PathBuf {
        self.trust
            .issuer_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("issuer.key"))
    }

    /// The Sirene API key: from the environment/config value, else from its file.
    pub fn sirene_api_key(&self) -> Result<Option<String>, ConfigError> {
        secret(
            &self.sirene.api_key,
            &self.sirene.api_key_file,
            "sirene.api_key_file",
            1,
        )
    }

    /// The ProConnect client secret: from the environment/config value, else from its file.
    pub fn proconnect_client_secret(&self) -> Result<Option<String>, ConfigError> {
        secret(
            &self.proconnect.client_secret,
            &self.proconnect.client_secret_file,
            "proconnect.client_secret_file",
            1,
        )
    }

    /// The operator token: from the environment/config value, else from its file.
    pub fn operator_token(&self) -> Result<Option<String>, ConfigError> {
        secret(
            &self.auth.operator_token,
            &self.auth.operator_token_file,
            "auth.operator_token_file",
            16,
        )
    }
}

/// A secret given directly (environment) or in a file; at least `min_len` characters.
fn secret(
    value: &Option<String>,
    file: &Option<PathBuf>,
    key: &str,
    min_len: usize,
) -> Result<Option<String>, ConfigError> {
    if let Some(value) = value {
        return Ok(Some(value.clone()));
    }
    let Some(file) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| ConfigError(vec![format!("{key} {}: {e}", file.display())]))?;
    let text = text.trim().to_owned();
    if text.len() < min_len {
        return Err(ConfigError(vec![format!(
            "{key} {}: must be at least {min_len} characters",
            file.display()
        )]));
    }
    Ok(Some(text))
}

/// A database URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported() {
        let mut config = Config::default();
        config.log.origin = "bad origin".into();
        config.database_url = Some("mysql://x".into());
        config.log.batch_max_entries = 0;
        let error = config.validate().unwrap_err();
        assert_eq!(error.0.len(), 3, "{error}");
        assert!(error.to_string().contains("log.origin"));
        assert!(error.to_string().contains("database_url"));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
