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
    /// How long the first entry of a batch waits for others, in milliseconds.
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
                .ignore(&["CONFIG", "LOG_FORMAT"])
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
        if let Some(token) = &self.auth.operator_token
            && token.len() < 16
        {
            problems.push("auth.operator_token: must be at least 16 characters".into());
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

    pub fn sequencer(&self) -> SequencerConfig {
        SequencerConfig {
            max_batch: self.log.batch_max_entries,
            linger: Duration::from_millis(self.log.batch_linger_ms),
            queue_depth: self.log.queue_depth,
        }
    }

    /// The operator token: from the environment/config value, else from its file.
    pub fn operator_token(&self) -> Result<Option<String>, ConfigError> {
        if let Some(token) = &self.auth.operator_token {
            return Ok(Some(token.clone()));
        }
        let Some(file) = &self.auth.operator_token_file else {
            return Ok(None);
        };
        let token = std::fs::read_to_string(file).map_err(|e| {
            ConfigError(vec![format!(
                "auth.operator_token_file {}: {e}",
                file.display()
            )])
        })?;
        let token = token.trim().to_owned();
        if token.len() < 16 {
            return Err(ConfigError(vec![format!(
                "auth.operator_token_file {}: token must be at least 16 characters",
                file.display()
            )]));
        }
        Ok(Some(token))
    }
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
