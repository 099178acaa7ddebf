//! Audit: download an offline bundle, and check a receipt or bundle in plain words.
//!
//! The check runs the same offline verification as `clearinghouse verify bundle` and
//! `clearinghouse billing recompute` ([`crate::verify`]), and [`LogReceipt::verify`] for a
//! single write receipt, against the log key shown on the page (or one the visitor pastes).

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query};
use axum::http::{HeaderMap, StatusCode};
use maud::{Markup, html};
use serde_json::Value;

use super::{Ctx, PageResult, api, i18n, query_escape, sign_in};
use crate::journal::LogReceipt;
use crate::ledger::note::NoteVerifier;
use crate::verify::bundle::{BUNDLE_FORMAT, Bundle, verify_bundle};

/// Largest document the check page takes (a period bundle can be large).
pub const MAX_CHECKED: usize = 16 << 20;

/// `GET /ui/audit`.
pub async fn page(ctx: Ctx) -> PageResult {
    let viewer = ctx.require()?;
    let own = viewer.scope().unwrap_or("");
    let last_month = crate::billing::statement::Month::of(crate::clock::now()).previous();
    let body = html! {
        h2 { (ctx.t(&i18n::BUNDLE)) }
        p { (ctx.t(&i18n::BUNDLE_HELP)) }
        form.filters method="get" action="/ui/audit/bundle" {
            div { label for="participant" { (ctx.t(&i18n::PARTICIPANT)) } input id="participant" name="participant" inputmode="numeric" value=(own); }
            div { label for="contract" { (ctx.t(&i18n::CONTRACT)) } input id="contract" name="contract"; }
            div { label for="from" { (ctx.t(&i18n::FROM)) } input id="from" name="from" type="date"; }
            div { label for="to" { (ctx.t(&i18n::TO)) } input id="to" name="to" type="date"; }
            div { button type="submit" id="bundle-download" { (ctx.t(&i18n::DOWNLOAD)) } }
        }
        p { a href=(format!("/ui/billing/periods/{last_month}/bundle")) download { (ctx.t(&i18n::PERIOD_BUNDLE)) " — " (last_month.to_string()) } }
        h2 { (ctx.t(&i18n::CHECK_TITLE)) }
        p { a href="/ui/check" { (ctx.t(&i18n::CHECK_TITLE)) } }
    };
    Ok(ctx.render(ctx.t(&i18n::AUDIT), body))
}

/// `GET /ui/audit/bundle?participant=&contract=&from=&to=`: the API's bundle, downloaded.
pub async fn bundle(ctx: Ctx, Query(filters): Query<HashMap<String, String>>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let mut query = Vec::new();
    for name in ["participant", "contract", "type", "asset"] {
        if let Some(v) = filters
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            query.push(format!("{name}={}", query_escape(v)));
        }
    }
    for name in ["from", "to"] {
        if let Some(day) = filters
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            query.push(format!(
                "{name}={}",
                query_escape(&format!("{day}T00:00:00Z"))
            ));
        }
    }
    api::download(
        &ctx,
        &viewer,
        &format!("/v1/audit/bundles?{}", query.join("&")),
    )
    .await
}

fn check_form(ctx: &Ctx, document: &str, vkey: &str) -> Markup {
    html! {
        p { (ctx.t(&i18n::CHECK_HELP)) }
        form method="post" action="/ui/check" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            p {
                label for="file" { (ctx.t(&i18n::DOCUMENT)) " — fichier / file" }
                input type="file" id="file" name="file" accept="application/json,.json";
            }
            p {
                label for="document" { (ctx.t(&i18n::DOCUMENT)) }
                textarea id="document" name="document" spellcheck="false" { (document) }
            }
            p {
                label for="vkey" { (ctx.t(&i18n::LOG_KEY)) }
                input id="vkey" name="vkey" size="80" value=(vkey);
            }
            button type="submit" id="check-submit" { (ctx.t(&i18n::CHECK)) }
        }
    }
}

/// `GET /ui/check`.
pub async fn check_page(ctx: Ctx) -> PageResult {
    ctx.require()?;
    let vkey = ctx.state.journal.verifier().vkey();
    Ok(ctx.render(ctx.t(&i18n::CHECK_TITLE), check_form(&ctx, "", &vkey)))
}

/// What the check found, in words.
enum Verdict {
    Verifies(Vec<String>),
    Fails(String),
}

/// The first object in `value` that looks like a log receipt (a write's answer).
fn find_receipt(value: &Value) -> Option<&Value> {
    if value.get("leaf_hash").is_some() && value.get("inclusion_path").is_some() {
        return Some(value);
    }
    match value {
        Value::Object(map) => map.values().find_map(find_receipt),
        Value::Array(items) => items.iter().find_map(find_receipt),
        _ => None,
    }
}

fn check_document(lang: i18n::Lang, text: &str, verifier: &NoteVerifier, origin: &str) -> Verdict {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return Verdict::Fails(lang.fill(&i18n::NOT_JSON, &[&e])),
    };
    if value.get("format").and_then(Value::as_str) == Some(BUNDLE_FORMAT) {
        let bundle: Bundle = match serde_json::from_value(value) {
            Ok(bundle) => bundle,
            Err(e) => return Verdict::Fails(format!("bundle: {e}")),
        };
        if bundle.billing.is_some() {
            return match crate::verify::billing::recompute(&bundle, verifier) {
                Ok(done) => {
                    let closing = if done.closing_checked {
                        lang.t(&i18n::EQUAL_TO_CLOSING)
                    } else {
                        ""
                    };
                    Verdict::Verifies(vec![lang.fill(
                        &i18n::PERIOD_BUNDLE_VERIFIES,
                        &[
                            &done.period,
                            &done.bundle.entries,
                            &done.bundle.checkpoint.size,
                            &done.statements.len(),
                            &closing,
                        ],
                    )])
                }
                Err(reason) => Verdict::Fails(reason),
            };
        }
        return match verify_bundle(&bundle, verifier) {
            Ok(report) => {
                let mut lines = vec![lang.fill(
                    &i18n::AUDIT_BUNDLE_VERIFIES,
                    &[&report.entries, &report.checkpoint.size],
                )];
                for (kind, count) in &report.types {
                    lines.push(format!("{kind}: {count}"));
                }
                lines.push(lang.t(&i18n::BUNDLE_NOT_COMPLETENESS).to_owned());
                Verdict::Verifies(lines)
            }
            Err(reason) => Verdict::Fails(reason),
        };
    }
    if let Some(receipt) = find_receipt(&value) {
        let receipt: LogReceipt = match serde_json::from_value(receipt.clone()) {
            Ok(receipt) => receipt,
            Err(e) => return Verdict::Fails(format!("receipt: {e}")),
        };
        return match receipt.verify(verifier, origin, None) {
            Ok(checkpoint) => Verdict::Verifies(vec![
                lang.fill(&i18n::RECEIPT_VERIFIES, &[&receipt.index, &checkpoint.size]),
            ]),
            Err(reason) => Verdict::Fails(reason),
        };
    }
    Verdict::Fails(lang.t(&i18n::NEITHER_BUNDLE_NOR_RECEIPT).to_owned())
}

/// `POST /ui/check` (multipart: csrf, file or document, vkey).
pub async fn check(
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> PageResult {
    ctx.require()?;
    let mut form = form.map_err(|e| ctx.error(e.status(), &e.body_text()))?;
    let mut fields: HashMap<String, String> = HashMap::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                let text = field
                    .text()
                    .await
                    .map_err(|e| ctx.error(StatusCode::BAD_REQUEST, &e.body_text()))?;
                fields.insert(name, text);
            }
            Ok(None) => break,
            Err(e) => return Err(ctx.error(e.status(), &e.body_text())),
        }
    }
    sign_in::check_csrf(&ctx, &headers, fields.get("csrf").map(String::as_str))?;
    let own_vkey = ctx.state.journal.verifier().vkey();
    let vkey = fields
        .get("vkey")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .unwrap_or(&own_vkey)
        .to_owned();
    let document = match fields.get("file").filter(|f| !f.trim().is_empty()) {
        Some(file) => file.clone(),
        None => fields.get("document").cloned().unwrap_or_default(),
    };
    let verdict = match NoteVerifier::from_vkey(&vkey) {
        Ok(verifier) => {
            let origin = verifier.name().to_owned();
            check_document(ctx.lang, &document, &verifier, &origin)
        }
        Err(e) => Verdict::Fails(format!("{}: {e}", ctx.t(&i18n::LOG_KEY))),
    };
    let shown = if document.len() > 20_000 {
        ""
    } else {
        document.as_str()
    };
    let body = html! {
        @match &verdict {
            Verdict::Verifies(lines) => {
                div.verdict.ok id="verdict" role="status" data-verifies="true" {
                    p { strong { (ctx.t(&i18n::VERIFIES)) } }
                    @for line in lines { p { (line) } }
                }
            }
            Verdict::Fails(reason) => {
                div.verdict.bad id="verdict" role="alert" data-verifies="false" {
                    p { strong { (ctx.t(&i18n::FAILS)) } }
                    p { (ctx.t(&i18n::REASON)) " " span id="reason" { (reason) } }
                }
            }
        }
        (check_form(&ctx, shown, &vkey))
    };
    Ok(ctx.render(ctx.t(&i18n::CHECK_TITLE), body))
}
