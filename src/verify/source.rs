//! Where a verifier reads a log from: a tlog-tiles HTTP server, or a directory laid out
//! the same way (`checkpoint`, `tile/…`), such as a static mirror or an export.

use std::path::PathBuf;
use std::time::Duration;

use crate::ledger::tiles::TileId;

/// Why a resource could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {resource}: {reason}")]
pub struct FetchError {
    pub resource: String,
    pub reason: String,
}

/// A read-only view of a published log.
#[derive(Debug, Clone)]
pub enum LogSource {
    /// Base URL of the log prefix, ending in `/` (e.g. `http://host:8080/log/`).
    Http {
        base: reqwest::Url,
        client: reqwest::Client,
    },
    /// Directory holding `checkpoint` and `tile/…`.
    Dir(PathBuf),
}

impl LogSource {
    /// An HTTP source. `url` is the log prefix (where `checkpoint` and `tile/` live), e.g.
    /// `http://127.0.0.1:8080/log`.
    pub fn http(url: &str) -> Result<LogSource, FetchError> {
        let mut text = url.trim().to_owned();
        if !text.ends_with('/') {
            text.push('/');
        }
        let base = reqwest::Url::parse(&text).map_err(|e| FetchError {
            resource: url.to_owned(),
            reason: format!("not a URL: {e}"),
        })?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("clearinghouse-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError {
                resource: url.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(LogSource::Http { base, client })
    }

    pub fn dir(path: impl Into<PathBuf>) -> LogSource {
        LogSource::Dir(path.into())
    }

    pub fn is_http(&self) -> bool {
        matches!(self, LogSource::Http { .. })
    }

    /// Read a resource relative to the log prefix.
    pub async fn get(&self, relative: &str) -> Result<Vec<u8>, FetchError> {
        let fail = |reason: String| FetchError {
            resource: relative.to_owned(),
            reason,
        };
        match self {
            LogSource::Http { base, client } => {
                let url = base.join(relative).map_err(|e| fail(e.to_string()))?;
                let response = client
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(fail(format!("HTTP {status}")));
                }
                Ok(response
                    .bytes()
                    .await
                    .map_err(|e| fail(e.to_string()))?
                    .to_vec())
            }
            LogSource::Dir(dir) => {
                let path = dir.join(relative);
                tokio::fs::read(&path)
                    .await
                    .map_err(|e| fail(format!("{}: {e}", path.display())))
            }
        }
    }

    pub async fn checkpoint(&self) -> Result<String, FetchError> {
        let bytes = self.get("checkpoint").await?;
        String::from_utf8(bytes).map_err(|_| FetchError {
            resource: "checkpoint".into(),
            reason: "not UTF-8".into(),
        })
    }

    pub async fn tile(&self, id: TileId) -> Result<Vec<u8>, FetchError> {
        self.get(&id.path()).await
    }
}
