//! Who is looking at a page, and forms that cannot be forged from another site.
//!
//! A page session is an audit session (the `audit_sessions` table, see
//! [`crate::store::audit`]): the cookie holds a random token, the database only its
//! SHA-256. So a page reads exactly what the JSON API lets that session read, with the
//! same scoping (a committee member or the operator: the whole log; anyone else: their own
//! organisation), sessions survive a restart and every replica knows them.
//!
//! Forms carry a CSRF token derived from two HttpOnly cookies: a random per-browser secret
//! (`ch_csrf`) and the session token. Another site can make the browser post, but cannot
//! read either cookie, so it cannot compute the token; cookies are also `SameSite=Lax`.

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::http::AppState;
use crate::store::audit::AuditSession;
use crate::trust::audit_access;

pub const SESSION_COOKIE: &str = "ch_session";
pub const CSRF_COOKIE: &str = "ch_csrf";
pub const LANG_COOKIE: &str = "ch_lang";
/// How long a page session lasts.
pub const SESSION_HOURS: i64 = 8;

/// The value of cookie `name` in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty() && value.len() <= 200)
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64URL.encode(bytes)
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when the service is reached over
/// https; `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.trust.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// How the viewer signed in, as the session label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedInBy {
    /// The demo's committee member, without any identity provider.
    Demo {
        siren: String,
    },
    ProConnect {
        siren: String,
    },
    Operator,
    Other(String),
}

/// A signed-in viewer.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The session token: also a bearer token on the JSON API for what it may read.
    pub token: String,
    pub session: AuditSession,
}

impl Viewer {
    pub fn by(&self) -> SignedInBy {
        let label = &self.session.label;
        if label == "operator" {
            SignedInBy::Operator
        } else if let Some(siren) = label.strip_prefix("page-demo-committee:") {
            SignedInBy::Demo {
                siren: siren.to_owned(),
            }
        } else if let Some(rest) = label
            .strip_prefix(audit_access::PAGE_COMMITTEE_PREFIX)
            .or_else(|| label.strip_prefix(audit_access::PAGE_MEMBER_PREFIX))
        {
            // `<SIREN> read-audit mandate <id>`
            let siren = rest.split(' ').next().unwrap_or_default();
            SignedInBy::ProConnect {
                siren: siren.to_owned(),
            }
        } else {
            SignedInBy::Other(label.clone())
        }
    }

    /// The whole log (`None`) or one organisation's data.
    pub fn scope(&self) -> Option<&str> {
        self.session.siren.as_deref()
    }
}

/// The viewer of a request, if its session cookie opens a live session. A store that
/// cannot answer counts as signed out (fail closed).
pub async fn viewer(state: &AppState, parts: &Parts) -> Option<Viewer> {
    let token = cookie(&parts.headers, SESSION_COOKIE)?;
    let now = crate::clock::now().timestamp_millis();
    let session = state
        .store
        .audit_session(&digest(token), now)
        .await
        .ok()??;
    Some(Viewer {
        token: token.to_owned(),
        session,
    })
}

/// Open a session, for [`SESSION_HOURS`] but never beyond `not_after` (the end of the
/// mandate it rests on); returns its token for the cookie.
pub async fn open(
    state: &AppState,
    session: AuditSession,
    not_after: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<String, crate::store::StoreError> {
    let token = random_token();
    let now = crate::clock::now();
    let expires = (now + chrono::Duration::hours(SESSION_HOURS))
        .min(not_after.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC));
    state
        .store
        .save_audit_session(
            &digest(&token),
            &session,
            expires.timestamp_millis(),
            now.timestamp_millis(),
        )
        .await?;
    Ok(token)
}

/// End a session (sign-out).
pub async fn close(state: &AppState, token: &str) -> Result<(), crate::store::StoreError> {
    state.store.delete_audit_session(&digest(token)).await
}

/// The CSRF token forms carry, from the browser secret and the session token (if any).
pub fn csrf_token(browser_secret: &str, session_token: Option<&str>) -> String {
    let mut hash = Sha256::new();
    hash.update(b"clearinghouse-pages-csrf\0");
    hash.update(browser_secret.as_bytes());
    hash.update(b"\0");
    hash.update(session_token.unwrap_or("").as_bytes());
    hex::encode(hash.finalize())
}

/// Whether a posted form's token is the one this browser and session should send.
pub fn csrf_ok(headers: &HeaderMap, posted: Option<&str>) -> bool {
    let (Some(secret), Some(posted)) = (cookie(headers, CSRF_COOKIE), posted) else {
        return false;
    };
    let expected = csrf_token(secret, cookie(headers, SESSION_COOKIE));
    bool::from(expected.as_bytes().ct_eq(posted.as_bytes()))
}

/// Labels of page sessions: a role and a SIREN, never a person's name.
pub fn demo_label(siren: &str) -> String {
    format!("page-demo-committee:{siren}")
}
