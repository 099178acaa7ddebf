//! `/v1/billing` and `/v1/indicators`: publishing tariffs and financing rules, statements
//! computed from the log, closing periods, credit notes, the committee's financing report,
//! period bundles and usage indicators. JSON by default, CSV with `format=csv`.
//!
//! Reads are audit reads: they need the audit role ([`Auditor`]) and are logged
//! (`audit.read`) before they are answered. A session limited to one organisation reads
//! that organisation's statements only; the figures that span every participant (reports,
//! indicators, period bundles) are for the committee, auditors and the operator.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::audit::{assemble, log_read, store_problem};
use super::auth::{Auditor, Operator};
use super::extract::{ApiJson, ApiQuery};
use super::problem::{Problem, types};
use super::trust::trust_problem;
use crate::billing::close::{self, CreditRequest};
use crate::billing::indicators::{self, GroupBy, INDICATOR_INPUTS, Indicators};
use crate::billing::invoice::{Document, DocumentKind};
use crate::billing::invoicing::{self, BuyerFacts};
use crate::billing::publish;
use crate::billing::report;
use crate::billing::statement::{self, Month};
use crate::entry::{AuditRead, decode};
use crate::verify::bundle::BundleBilling;

/// Most entries a period bundle holds.
pub const MAX_PERIOD_BUNDLE_ENTRIES: usize = 100_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/billing/tariffs", post(tariff))
        .route("/v1/billing/financing-rules", post(financing))
        .route("/v1/billing/statements", get(statements))
        .route("/v1/billing/periods/{period}", get(period_status))
        .route("/v1/billing/periods/{period}/close", post(close_period))
        .route("/v1/billing/periods/{period}/bundle", get(period_bundle))
        .route("/v1/billing/credit-notes", post(credit_note))
        .route("/v1/billing/financing-report", get(financing_report))
        .route("/v1/billing/invoices", get(invoices))
        .route("/v1/billing/invoices/{number}", get(invoice))
        .route("/v1/indicators", get(indicators))
}

async fn tariff(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(file): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let log = publish::publish_tariff(&state.trust, &file, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(json!({"log": log}))))
}

async fn financing(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(file): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let log = publish::publish_financing(&state.trust, &file, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((StatusCode::CREATED, Json(json!({"log": log}))))
}

/// Response format of reads: `json` (default) or `csv`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

fn parse_period(text: &str) -> Result<Month, Problem> {
    Month::parse(text).ok_or_else(|| {
        Problem::invalid_parameter("period", format!("period {text:?} is not YYYY-MM"))
    })
}

pub(super) fn csv_response(name: &str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Figures over every participant are not for a session limited to one organisation.
fn whole_log_only(auditor: &Auditor, what: &str) -> Result<(), Problem> {
    match &auditor.scope {
        None => Ok(()),
        Some(siren) => Err(Problem::new(
            types::FORBIDDEN,
            format!(
                "{what} cover every participant: this audit session reads SIREN {siren}'s \
                 entries only"
            ),
        )),
    }
}

/// Log an audit read of `request` answered with `results` items.
async fn logged(
    state: &AppState,
    auditor: &Auditor,
    request: &str,
    query: &impl Serialize,
    results: usize,
) -> Result<(), Problem> {
    log_read(
        state,
        AuditRead {
            reader: auditor.label.clone(),
            request: request.to_owned(),
            query: serde_json::to_value(query).unwrap_or(Value::Null),
            results: results as u64,
            tree_size: Some(state.journal.reader().head().head.size),
            bundle_sha256: None,
        },
    )
    .await
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementsQuery {
    /// `YYYY-MM`.
    period: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    participant: Option<String>,
    #[serde(default)]
    format: Format,
}

/// Usage and cost-allocation statements for a month, from logged entries only.
async fn statements(
    State(state): State<AppState>,
    auditor: Auditor,
    ApiQuery(mut query): ApiQuery<StatementsQuery>,
) -> Result<Response, Problem> {
    let period = parse_period(&query.period)?;
    query.participant = auditor.participant_filter(query.participant.as_deref())?;
    let statements = publish::statements(&state.store, period, query.participant.as_deref())
        .await
        .map_err(trust_problem)?;
    logged(&state, &auditor, "statements", &query, statements.len()).await?;
    Ok(match query.format {
        Format::Csv => csv_response(
            &format!("statements-{period}"),
            statement::to_csv(&statements),
        ),
        Format::Json => {
            let evidence = evidence(&state, period, &statements).await?;
            Json(json!({
                "period": period.to_string(),
                "statements": statements,
                "evidence": evidence,
            }))
            .into_response()
        }
    })
}

/// What makes a statement checkable against the log: the signed checkpoint, each billed
/// receipt's inclusion proof to it, and a consistency proof from the tree the previous
/// period's closing was logged in (so the figures build on what was closed).
#[derive(Debug, Serialize)]
struct Evidence {
    checkpoint: String,
    tree_size: u64,
    /// Receipt log index → RFC 9162 inclusion path (base64 hashes) to the checkpoint.
    receipts: std::collections::BTreeMap<u64, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_closing: Option<PreviousClosing>,
}

#[derive(Debug, Serialize)]
struct PreviousClosing {
    period: String,
    /// Log index of its `billing.period_closed` entry; the tree then had `tree_size` entries.
    index: u64,
    tree_size: u64,
    /// Root of that tree, base64.
    root: String,
    consistency_path: Vec<String>,
}

async fn evidence(
    state: &AppState,
    period: Month,
    statements: &[statement::Statement],
) -> Result<Evidence, Problem> {
    use crate::journal::b64_hashes;
    use base64::Engine;
    let reader = state.journal.reader();
    let head = reader.head();
    let size = head.head.size;
    let mut receipts = std::collections::BTreeMap::new();
    for index in statements
        .iter()
        .flat_map(|s| &s.lines)
        .filter_map(|l| l.receipt_index)
        .filter(|index| *index < size)
    {
        let path = reader
            .inclusion_proof(index, size)
            .await
            .map_err(super::log::read_problem)?;
        receipts.insert(index, b64_hashes(&path));
    }
    let previous = period.previous();
    let previous_closing = match close::closing(&state.store, previous)
        .await
        .map_err(trust_problem)?
    {
        Some((index, _, _)) if index < size => {
            let old = index + 1;
            let root = reader
                .root_at(old)
                .await
                .map_err(super::log::read_problem)?;
            let path = reader
                .consistency_proof(old, size)
                .await
                .map_err(super::log::read_problem)?;
            Some(PreviousClosing {
                period: previous.to_string(),
                index,
                tree_size: old,
                root: base64::engine::general_purpose::STANDARD.encode(root),
                consistency_path: b64_hashes(&path),
            })
        }
        _ => None,
    };
    Ok(Evidence {
        checkpoint: head.head.checkpoint.clone(),
        tree_size: size,
        receipts,
        previous_closing,
    })
}

/// `GET /v1/billing/periods/{period}`: whether the period is closed, and its totals.
async fn period_status(
    State(state): State<AppState>,
    auditor: Auditor,
    Path(period): Path<String>,
) -> Result<Json<Value>, Problem> {
    let period = parse_period(&period)?;
    whole_log_only(&auditor, "period totals")?;
    let closing = close::closing(&state.store, period)
        .await
        .map_err(trust_problem)?;
    logged(
        &state,
        &auditor,
        "period",
        &json!({"period": period.to_string()}),
        1,
    )
    .await?;
    let ended = crate::clock::now() >= period.end_exclusive();
    Ok(Json(match closing {
        Some((index, _, closed)) => json!({
            "period": period.to_string(),
            "state": "closed",
            "closed_at_index": index,
            "closing": closed,
        }),
        None => json!({
            "period": period.to_string(),
            "state": if ended { "ended, not closed" } else { "open" },
        }),
    }))
}

/// `POST /v1/billing/periods/{period}/close`: log the period's statement hashes.
async fn close_period(
    State(state): State<AppState>,
    operator: Operator,
    Path(period): Path<String>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let period = parse_period(&period)?;
    let (closed, log) = close::close_period(&state.trust, period, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"closing": closed, "log": log})),
    ))
}

/// `POST /v1/billing/credit-notes`: cancel a line of a closed period.
async fn credit_note(
    State(state): State<AppState>,
    operator: Operator,
    ApiJson(request): ApiJson<CreditRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let (credit, log) = close::issue_credit(&state.trust, &request, &operator.label)
        .await
        .map_err(trust_problem)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"credit": credit, "log": log})),
    ))
}

/// `GET /v1/billing/periods/{period}/bundle`: every entry the period's statements follow
/// from (and its closing entry), proven against the checkpoint, with the statements, for
/// `clearinghouse billing recompute`.
async fn period_bundle(
    State(state): State<AppState>,
    auditor: Auditor,
    Path(period): Path<String>,
) -> Result<Response, Problem> {
    let period = parse_period(&period)?;
    whole_log_only(&auditor, "period bundles")?;
    let closing = close::closing(&state.store, period)
        .await
        .map_err(trust_problem)?;
    let cut = closing.as_ref().map(|(index, _, _)| *index);
    let mut rows = publish::statement_inputs_before(&state.store, period, cut)
        .await
        .map_err(trust_problem)?;
    if rows.len() > MAX_PERIOD_BUNDLE_ENTRIES {
        return Err(Problem::unprocessable(format!(
            "period {period} follows from more than {MAX_PERIOD_BUNDLE_ENTRIES} entries, \
             more than one bundle holds"
        )));
    }
    // The statements from exactly the entries the bundle carries.
    let statements = publish::statements_from(&rows, period, None).map_err(trust_problem)?;
    if let Some((index, data, _)) = &closing {
        rows.push((*index, data.clone()));
    }
    let billing = BundleBilling {
        period: period.to_string(),
        statements: serde_json::to_value(&statements).map_err(|e| Problem::internal(&e))?,
        closed_at: closing.map(|(index, _, _)| index),
    };
    assemble(
        &state,
        &auditor,
        json!({"period": period.to_string()}),
        rows,
        None,
        Some(billing),
    )
    .await
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    period: String,
    #[serde(default)]
    format: Format,
}

/// `GET /v1/billing/financing-report`: who paid what, per financer and class.
async fn financing_report(
    State(state): State<AppState>,
    auditor: Auditor,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, Problem> {
    let period = parse_period(&query.period)?;
    whole_log_only(&auditor, "financing reports")?;
    let statements = publish::statements(&state.store, period, None)
        .await
        .map_err(trust_problem)?;
    let report = report::report(&period.to_string(), &statements);
    logged(
        &state,
        &auditor,
        "financing-report",
        &query,
        report.financers.len(),
    )
    .await?;
    Ok(match query.format {
        Format::Csv => csv_response(
            &format!("financing-report-{period}"),
            report::to_csv(&report),
        ),
        Format::Json => Json(report).into_response(),
    })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorsQuery {
    period: String,
    /// `total` (default), `dataset`, `participant` or `class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<String>,
    #[serde(default)]
    format: Format,
}

/// `GET /v1/indicators`: consultations, requests, downloads and volumes for a month.
async fn indicators(
    State(state): State<AppState>,
    auditor: Auditor,
    ApiQuery(query): ApiQuery<IndicatorsQuery>,
) -> Result<Response, Problem> {
    let period = parse_period(&query.period)?;
    let group = GroupBy::parse(query.by.as_deref().unwrap_or("total")).ok_or_else(|| {
        Problem::invalid_parameter("by", "by must be total, dataset, participant or class")
    })?;
    whole_log_only(&auditor, "indicators")?;
    let end = period.end_exclusive().timestamp_millis();
    let mut figures = Indicators::new(period);
    for (index, bytes) in state
        .store
        .entries_of_types(&INDICATOR_INPUTS, end)
        .await
        .map_err(store_problem)?
    {
        let decoded = decode(&bytes)
            .map_err(|e| Problem::internal(&format!("log entry {index} does not decode: {e}")))?;
        figures.add(&decoded);
    }
    let rows = figures.rows(group);
    logged(&state, &auditor, "indicators", &query, rows.len()).await?;
    Ok(match query.format {
        Format::Csv => csv_response(&format!("indicators-{period}"), indicators::to_csv(&rows)),
        Format::Json => Json(json!({
            "period": period.to_string(),
            "by": query.by.as_deref().unwrap_or("total"),
            "rows": rows,
        }))
        .into_response(),
    })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoicesQuery {
    period: String,
    participant: String,
}

/// The invoices and credit notes of one participant's statement for `period`.
async fn participant_documents(
    state: &AppState,
    period: Month,
    siren: &str,
) -> Result<Vec<Document>, Problem> {
    let participant = crate::participants::get(&state.trust, siren)
        .await
        .map_err(trust_problem)?;
    let buyer = BuyerFacts {
        siren: participant.siren.clone(),
        siret: participant.siret.clone(),
        legal_name: participant
            .legal_name
            .clone()
            .unwrap_or_else(|| format!("SIREN {}", participant.siren)),
    };
    // Invoices are issued for closed periods only, so a number always means one content,
    // and each statement must be the one the closing fixed.
    let Some((closed_at, _, closed)) = close::closing(&state.store, period)
        .await
        .map_err(trust_problem)?
    else {
        return Err(Problem::new(
            types::CONFLICT,
            format!("period {period} is not closed: invoices are issued once it is"),
        ));
    };
    let rows = publish::statement_inputs_before(&state.store, period, Some(closed_at))
        .await
        .map_err(trust_problem)?;
    let statements = publish::statements_from(&rows, period, Some(siren)).map_err(trust_problem)?;
    let mut documents = Vec::new();
    for statement in &statements {
        let hash = statement::statement_sha256(statement).map_err(|e| Problem::internal(&e))?;
        if !closed
            .statements
            .iter()
            .any(|c| c.siren == statement.siren && c.sha256 == hash)
        {
            return Err(Problem::internal(&format!(
                "SIREN {}'s statement for {period} no longer matches its closing",
                statement.siren
            )));
        }
        documents.extend(
            invoicing::documents(&state.invoicing, statement, &buyer)
                .map_err(|e| Problem::unprocessable(e.to_string()))?,
        );
    }
    Ok(documents)
}

/// `GET /v1/billing/invoices?period=&participant=`: the participant's invoices and credit
/// notes for the period (each at `/v1/billing/invoices/{number}` as UBL 2.1).
async fn invoices(
    State(state): State<AppState>,
    auditor: Auditor,
    ApiQuery(mut query): ApiQuery<InvoicesQuery>,
) -> Result<Json<Value>, Problem> {
    let period = parse_period(&query.period)?;
    query.participant = auditor
        .participant_filter(Some(&query.participant))?
        .unwrap_or_default();
    let documents = participant_documents(&state, period, &query.participant).await?;
    logged(&state, &auditor, "invoices", &query, documents.len()).await?;
    let list: Vec<Value> = documents
        .iter()
        .map(|d| {
            json!({
                "number": d.number,
                "kind": match d.kind {
                    DocumentKind::Invoice => "invoice",
                    DocumentKind::CreditNote => "credit-note",
                },
                "issue_date": d.issue_date.to_string(),
                "lines": d.lines.len(),
                "net_cents": d.lines.iter().map(|l| l.net_cents).sum::<i64>(),
                "preceding_invoice": d.preceding_invoice,
                "ubl": format!("/v1/billing/invoices/{}", d.number),
            })
        })
        .collect();
    Ok(Json(json!({
        "period": period.to_string(),
        "participant": query.participant,
        "documents": list,
    })))
}

/// `GET /v1/billing/invoices/{number}`: one invoice or credit note as UBL 2.1 XML.
async fn invoice(
    State(state): State<AppState>,
    auditor: Auditor,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    // `<prefix>-<YYYY-MM>-<SIREN>[-AV-<YYYY-MM>]`: the number says whose and when.
    let malformed = || {
        Problem::invalid_parameter(
            "number",
            format!("{number:?} is not an invoice number of this service"),
        )
    };
    let rest = number
        .strip_prefix(&format!("{}-", state.invoicing.prefix))
        .ok_or_else(malformed)?;
    let (period, siren) = (
        rest.get(..7).ok_or_else(malformed)?,
        rest.get(8..17).ok_or_else(malformed)?,
    );
    let period = parse_period(period)?;
    auditor.participant_filter(Some(siren))?;
    let documents = participant_documents(&state, period, siren).await?;
    let document = documents
        .iter()
        .find(|d| d.number == number)
        .ok_or_else(|| Problem::not_found(format!("no invoice or credit note {number}")))?;
    let xml = invoicing::ubl(document).map_err(|e| Problem::unprocessable(e.to_string()))?;
    logged(&state, &auditor, "invoice", &json!({"number": number}), 1).await?;
    let mut response = xml.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    Ok(response)
}
