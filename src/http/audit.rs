//! `/v1/audit/…`: auditors' filtered queries over the log and offline audit bundles.
//!
//! Only the operator and the auditors configured in `[[auth.auditors]]` may read here
//! ([`Auditor`]); anyone else gets 401/403 and nothing is logged. Every read that is
//! answered is first logged as an `audit.read` entry (who, what, how many; for a bundle,
//! its hash): if the log cannot take that entry, the read is refused with 503.

use std::io::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::Auditor;
use super::billing::{Format, csv_response};
use super::extract::{ApiJson, ApiQuery};
use super::governance::journal_problem;
use super::log::read_problem;
use super::problem::Problem;
use super::trust::trust_problem;
use crate::entry::{self, AuditRead};
use crate::journal::b64_hashes;
use crate::store::StoreError;
use crate::store::audit::{AuditFilter, AuditRow};
use crate::verify::bundle::{
    BUNDLE_FORMAT, Bundle, BundleAnchors, BundleBilling, BundleConsistency, BundleEntry,
};

/// Most entries one page of `/v1/audit/entries` returns: the 1 000 entries of a busy
/// contract's month in one logged read.
pub const MAX_PAGE: u32 = 1000;
/// Default page size.
pub const DEFAULT_PAGE: u32 = 100;
/// Most entries one bundle holds; a larger selection must be split (by period).
pub const MAX_BUNDLE_ENTRIES: u32 = 2000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/audit/entries", get(entries))
        .route("/v1/audit/bundles", get(bundle))
        .route("/v1/audit/sessions", post(open_session))
}

/// The filters of `/v1/audit/entries`; every filter given must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// Entry type, e.g. `decision.made`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// SIREN of a participant the entry involves (named in it, or a party of its contract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// Asset (decision target, receipt asset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Entry time, RFC 3339, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Entry time, RFC 3339, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Cursor: only entries after this index (the previous page's `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `json` (default) or `csv` (index, type, time, entry as JSON; the cursor for the
    /// next page in the `x-next-after` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
}

/// The selection of `/v1/audit/bundles`: at least one of contract, participant, from, to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleQuery {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A log size the auditor saw earlier: the bundle then proves the log extends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_size: Option<u64>,
}

/// One entry of a page.
#[derive(Debug)]
pub struct Item {
    pub index: u64,
    pub kind: String,
    pub time: String,
    /// The entry as logged: its canonical JSON text, passed through as stored (not
    /// re-encoded, so what the reader gets hashes to the leaf); `null` for a damaged row.
    pub entry: String,
}

impl Item {
    /// The item for a stored row. A canonical entry (what the log holds) is passed through
    /// with the type and time of the log's index columns: one byte scan proves it is the
    /// JSON that was logged, and nothing is parsed. Anything else is parsed to say what it is.
    fn of_row(row: AuditRow) -> Item {
        let AuditRow {
            index,
            kind,
            time_ms,
            mut data,
        } = row;
        let indexed_time = chrono::DateTime::from_timestamp_millis(time_ms);
        if kind != "unknown"
            && let Some(time) = indexed_time
            && entry::jcs::is_canonical(&data)
        {
            match String::from_utf8(data) {
                Ok(entry) => {
                    return Item {
                        index,
                        kind,
                        time: entry::format_time(time),
                        entry,
                    };
                }
                Err(not_text) => data = not_text.into_bytes(),
            }
        }
        let peeked = entry::peek(&data);
        match (peeked, String::from_utf8(data)) {
            (Some((kind, time)), Ok(entry)) => Item {
                index,
                kind,
                time: entry::format_time(time),
                entry,
            },
            // Not an entry: JSON of another shape is shown as it is, anything else as null
            // (`verify` reports the damaged row).
            (_, text) => Item {
                index,
                kind: "unknown".into(),
                time: String::new(),
                entry: text
                    .ok()
                    .and_then(|text| RawValue::from_string(text).ok())
                    .map_or_else(|| "null".to_owned(), |raw| raw.get().to_owned()),
            },
        }
    }
}

/// A page of entries as JSON: `{"items":[{"index","type","time","entry"}…],"next",
/// "tree_size"}`, written directly so that each entry's JSON is copied in, not parsed again.
fn page_json(items: &[Item], next: Option<u64>, tree_size: u64) -> Vec<u8> {
    let room: usize = items.iter().map(|item| item.entry.len() + 96).sum();
    let mut out = Vec::with_capacity(room + 64);
    out.extend_from_slice(b"{\"items\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let _ = write!(out, "{{\"index\":{},\"type\":", item.index);
        push_json_string(&mut out, &item.kind);
        out.extend_from_slice(b",\"time\":");
        push_json_string(&mut out, &item.time);
        out.extend_from_slice(b",\"entry\":");
        out.extend_from_slice(item.entry.as_bytes());
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"next\":");
    match next {
        Some(next) => {
            let _ = write!(out, "{next}");
        }
        None => out.extend_from_slice(b"null"),
    }
    let _ = write!(out, ",\"tree_size\":{tree_size}}}");
    out
}

/// (Writing into a `Vec` cannot fail, here and in `page_json`'s `write!`s.)
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(&mut *out, text);
}

fn text_filter(name: &str, value: &Option<String>) -> Result<Option<String>, Problem> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() || v.len() > 500 || v.chars().any(char::is_control) => {
            Err(Problem::invalid_parameter(
                name,
                format!("{name} must be 1 to 500 printable characters"),
            ))
        }
        Some(v) => Ok(Some(v.clone())),
    }
}

fn time_filter(name: &str, value: &Option<String>) -> Result<Option<i64>, Problem> {
    value
        .as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    Problem::invalid_parameter(
                        name,
                        format!("{name} must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z"),
                    )
                })
        })
        .transpose()
}

fn filter(
    kind: &Option<String>,
    participant: &Option<String>,
    contract: &Option<String>,
    asset: &Option<String>,
    from: &Option<String>,
    to: &Option<String>,
) -> Result<AuditFilter, Problem> {
    Ok(AuditFilter {
        kind: text_filter("type", kind)?,
        participant: text_filter("participant", participant)?,
        contract: text_filter("contract", contract)?,
        asset: text_filter("asset", asset)?,
        from_ms: time_filter("from", from)?,
        to_ms: time_filter("to", to)?,
    })
}

pub fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::Unavailable(e) => Problem::log_unavailable(&e),
        other => Problem::internal(&other),
    }
}

/// Log the read before answering it; a log that cannot take it refuses the read.
pub async fn log_read(state: &AppState, read: AuditRead) -> Result<(), Problem> {
    state
        .journal
        .append(crate::clock::now(), &read)
        .await
        .map_err(journal_problem)?;
    Ok(())
}

/// `GET /v1/audit/entries`: entries matching the filters, in index order, paginated.
async fn entries(
    State(state): State<AppState>,
    auditor: Auditor,
    ApiQuery(mut query): ApiQuery<EntriesQuery>,
) -> Result<Response, Problem> {
    query.participant = auditor.participant_filter(query.participant.as_deref())?;
    let filter = filter(
        &query.kind,
        &query.participant,
        &query.contract,
        &query.asset,
        &query.from,
        &query.to,
    )?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::invalid_parameter(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let size = state.journal.reader().head().head.size;
    let mut rows = state
        .store
        .audit_rows(&filter, query.after, size, limit + 1)
        .await
        .map_err(store_problem)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|row| row.index)
    } else {
        None
    };
    let read = AuditRead {
        reader: auditor.label,
        request: "entries".into(),
        query: serde_json::to_value(&query).unwrap_or(Value::Null),
        results: rows.len() as u64,
        tree_size: Some(size),
        bundle_sha256: None,
    };
    // The read is logged while the page is written on another thread (the entry needs only
    // the count; in this task the sequencer, woken here, would wait for the page), and
    // nothing is answered before the entry is durable: a log that cannot take it refuses
    // the read.
    let format = query.format;
    let page = tokio::task::spawn_blocking(move || entries_page(rows, format, next, size));
    let logged = log_read(&state, read).await;
    let page = page.await.map_err(|e| Problem::internal(&e))?;
    logged?;
    Ok(page)
}

/// The answer of `/v1/audit/entries` for these rows, as JSON or CSV.
fn entries_page(
    rows: Vec<AuditRow>,
    format: Option<Format>,
    next: Option<u64>,
    size: u64,
) -> Response {
    let items: Vec<Item> = rows.into_iter().map(Item::of_row).collect();
    if format == Some(Format::Csv) {
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| {
                vec![
                    i.index.to_string(),
                    i.kind.clone(),
                    i.time.clone(),
                    i.entry.clone(),
                ]
            })
            .collect();
        let mut response = csv_response(
            "audit-entries",
            crate::billing::csv::document(&["index", "type", "time", "entry"], &rows),
        );
        if let Some(next) = next
            && let Ok(value) = HeaderValue::from_str(&next.to_string())
        {
            response.headers_mut().insert("x-next-after", value);
        }
        return response;
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        page_json(&items, next, size),
    )
        .into_response()
}

/// `GET /v1/audit/bundles`: an offline audit bundle of the selected entries.
async fn bundle(
    State(state): State<AppState>,
    auditor: Auditor,
    ApiQuery(mut query): ApiQuery<BundleQuery>,
) -> Result<Response, Problem> {
    query.participant = auditor.participant_filter(query.participant.as_deref())?;
    if query.contract.is_none()
        && query.participant.is_none()
        && query.from.is_none()
        && query.to.is_none()
    {
        return Err(Problem::invalid_parameter(
            "contract",
            "a bundle is per contract, per participant or per period: give contract, \
             participant, or from/to",
        ));
    }
    let filter = filter(
        &query.kind,
        &query.participant,
        &query.contract,
        &query.asset,
        &query.from,
        &query.to,
    )?;
    let size = state.journal.reader().head().head.size;
    let rows = state
        .store
        .audit_entries(&filter, None, size, MAX_BUNDLE_ENTRIES + 1)
        .await
        .map_err(store_problem)?;
    if rows.len() > MAX_BUNDLE_ENTRIES as usize {
        return Err(Problem::unprocessable(format!(
            "the selection holds more than {MAX_BUNDLE_ENTRIES} entries; split it by period \
             (from/to)"
        ))
        .with("max_entries", MAX_BUNDLE_ENTRIES));
    }
    let mut rows = rows;
    // Every bundle carries the anchor, tariff and financing entries logged up to its
    // checkpoint, so what was in force at any entry's time follows from proven entries.
    let context = state
        .store
        .entries_of_types(&CONTEXT_TYPES, i64::MAX)
        .await
        .map_err(store_problem)?;
    rows.extend(context.into_iter().filter(|(index, _)| *index < size));
    assemble(
        &state,
        &auditor,
        serde_json::to_value(&query).unwrap_or(Value::Null),
        rows,
        query.since_size,
        None,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    /// A presentation of a mandate with the `read-audit` power, bound to a challenge from
    /// `GET /v1/challenges` and to this service's domain.
    presentation: Value,
}

/// `POST /v1/audit/sessions`: open an audit session with a `read-audit` mandate.
async fn open_session(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SessionRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let opened = crate::trust::audit_access::open_session(
        &state.trust,
        &request.presentation,
        state.operator_auth.committee(),
    )
    .await
    .map_err(trust_problem)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "token_type": "Bearer",
            "access_token": opened.token,
            "expires_at": entry::format_time(opened.expires_at),
            "reader": opened.session.label,
            "scope": match &opened.session.siren {
                Some(siren) => format!("entries of SIREN {siren}"),
                None => "the whole log".to_owned(),
            },
        })),
    ))
}

/// Entry types every bundle carries besides its selection.
pub const CONTEXT_TYPES: [&str; 4] = [
    "trust.anchor_added",
    "trust.anchor_removed",
    "tariff.published",
    "financing.published",
];

/// A bundle of `rows` (any order, duplicates allowed) proven against the current
/// checkpoint, logged as an `audit.read` and served as a download.
pub async fn assemble(
    state: &AppState,
    auditor: &Auditor,
    query: Value,
    mut rows: Vec<(u64, Vec<u8>)>,
    since_size: Option<u64>,
    billing: Option<BundleBilling>,
) -> Result<Response, Problem> {
    rows.sort_by_key(|(index, _)| *index);
    rows.dedup_by_key(|(index, _)| *index);
    let reader = state.journal.reader();
    let head = reader.head();
    let size = head.head.size;
    if let Some(old) = since_size
        && old > size
    {
        return Err(Problem::invalid_parameter(
            "since_size",
            format!("since_size {old} is larger than the log ({size} entries)"),
        ));
    }
    let mut entries = Vec::with_capacity(rows.len());
    for (index, data) in rows.into_iter().filter(|(index, _)| *index < size) {
        let path = reader
            .inclusion_proof(index, size)
            .await
            .map_err(read_problem)?;
        entries.push(BundleEntry {
            index,
            data: B64.encode(&data),
            inclusion_path: b64_hashes(&path),
        });
    }
    let consistency = match since_size {
        None => None,
        Some(old) => {
            let proof = reader
                .consistency_proof(old, size)
                .await
                .map_err(read_problem)?;
            let old_root = reader.root_at(old).await.map_err(read_problem)?;
            let old_checkpoint = state
                .store
                .checkpoint_at(old)
                .await
                .map_err(store_problem)?
                .map(|c| c.checkpoint);
            Some(BundleConsistency {
                old_size: old,
                old_root: B64.encode(old_root),
                old_checkpoint,
                proof: b64_hashes(&proof),
            })
        }
    };
    let (anchors, version) = state.store.trust_anchors().await.map_err(store_problem)?;
    let bundle = Bundle {
        format: BUNDLE_FORMAT.into(),
        origin: state.journal.origin().to_owned(),
        vkey: state.journal.verifier().vkey(),
        query,
        created_at: entry::format_time(crate::clock::now()),
        checkpoint: head.head.checkpoint.clone(),
        entries,
        consistency,
        trust_anchors: BundleAnchors {
            version,
            anchors: anchors
                .into_iter()
                .map(|(_, definition)| definition)
                .collect(),
        },
        billing,
    };
    let bytes = serde_json::to_vec_pretty(&bundle).map_err(|e| Problem::internal(&e))?;
    log_read(
        state,
        AuditRead {
            reader: auditor.label.clone(),
            request: if bundle.billing.is_some() {
                "billing-bundle".into()
            } else {
                "bundle".into()
            },
            query: bundle.query.clone(),
            results: bundle.entries.len() as u64,
            tree_size: Some(size),
            bundle_sha256: Some(hex::encode(Sha256::digest(&bytes))),
        },
    )
    .await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-bundle.json\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
