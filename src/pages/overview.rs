//! The overview: log size, the latest checkpoint and who signed it (the log and its
//! witnesses), entries per day, recent activity.

use std::collections::BTreeMap;

use maud::{Markup, html};
use serde_json::Value;

use super::charts::{self, Series};
use super::{Ctx, PageResult, api, i18n};

/// Most pages of entries the overview reads for its chart.
const MAX_PAGES: usize = 20;

/// A checkpoint's signature lines: (signer name, whether it is the log itself).
fn signers(checkpoint: &str, origin: &str) -> Vec<(String, bool)> {
    checkpoint
        .split("\n\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .filter_map(|line| line.strip_prefix("— "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| (name.to_owned(), name == origin))
        .collect()
}

/// A one-line summary of an entry (no personal data: entries hold none).
pub fn summary(kind: &str, entry: &Value) -> String {
    let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or("");
    match kind {
        "decision.made" => format!(
            "{} — {} {} ({})",
            field("decision"),
            field("action"),
            field("target"),
            field("contract_id")
        ),
        "receipt.recorded" => format!(
            "{} {} — {} octets/bytes, {} ({})",
            field("role"),
            field("siren"),
            entry.get("bytes").and_then(Value::as_u64).unwrap_or(0),
            field("asset"),
            field("transfer_id")
        ),
        "receipt.mismatch" => format!(
            "{} — {}",
            field("transfer_id"),
            entry
                .get("differences")
                .and_then(Value::as_array)
                .map(|d| d
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        "participant.registered" => format!("SIREN {}", field("siren")),
        "contract.agreed" | "contract.amended" | "contract.terminated" => {
            field("contract_id").to_owned()
        }
        "audit.read" => format!("{} — {}", field("reader"), field("request")),
        "governance.recorded" => field("title").to_owned(),
        _ => String::new(),
    }
}

pub async fn page(ctx: Ctx) -> PageResult {
    let viewer = ctx.require()?.clone();
    let size = ctx.state.journal.reader().head().head.size;
    let response = api::get(&ctx, None, "/log/checkpoint").await?;
    let checkpoint = api::text(&ctx, response).await?;
    let origin = ctx.state.journal.origin().to_owned();
    let signed = signers(&checkpoint, &origin);

    let since = crate::clock::now() - chrono::Duration::days(30);
    let mut items: Vec<Value> = Vec::new();
    let mut after: Option<u64> = None;
    for _ in 0..MAX_PAGES {
        let mut path = format!(
            "/v1/audit/entries?limit=500&from={}",
            super::query_escape(&since.format("%Y-%m-%dT00:00:00Z").to_string())
        );
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let page = api::json(&ctx, Some(&viewer), &path).await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next"].as_u64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    for item in &items {
        if let Some(day) = item["time"].as_str().and_then(|t| t.get(..10)) {
            *per_day.entry(day.to_owned()).or_default() += 1;
        }
    }
    let days: Vec<String> = per_day.keys().cloned().collect();
    let counts: Vec<i64> = per_day.values().copied().collect();
    let recent: Vec<&Value> = items.iter().rev().take(15).collect();
    let body = html! {
        div.cards {
            div.card { div { (ctx.t(&i18n::LOG_SIZE)) } div.big id="log-size" { (size) } div { (ctx.t(&i18n::ENTRIES)) } }
            div.card { div { (ctx.t(&i18n::COSIGNATURES)) } div.big { (signed.len()) } }
        }
        h2 { (ctx.t(&i18n::CHECKPOINT)) }
        pre id="checkpoint" { (checkpoint) }
        div.scroll {
            table {
                caption { (ctx.t(&i18n::COSIGNATURES)) }
                thead { tr { th scope="col" { (ctx.t(&i18n::SIGNER)) } th scope="col" { (ctx.t(&i18n::ROLE)) } } }
                tbody {
                    @for (name, is_log) in &signed {
                        tr { td { (name) } td { @if *is_log { (ctx.t(&i18n::THE_LOG)) } @else { (ctx.t(&i18n::WITNESS)) } } }
                    }
                }
            }
        }
        @if !signed.iter().any(|(_, is_log)| !is_log) { p { (ctx.t(&i18n::NO_WITNESS)) } }
        h2 { (ctx.t(&i18n::PER_DAY)) }
        (charts::bars("per-day", ctx.t(&i18n::PER_DAY), &days, &[Series { name: ctx.t(&i18n::ENTRIES), values: counts }], &|v: i64| v.to_string()))
        h2 { (ctx.t(&i18n::RECENT)) }
        (entries_table(&ctx, &recent, &Default::default()))
    };
    Ok(ctx.render(ctx.t(&i18n::OVERVIEW), body))
}

/// A table of entries; rows of mismatched transfers are highlighted.
pub fn entries_table(
    ctx: &Ctx,
    items: &[&Value],
    mismatched: &std::collections::HashSet<String>,
) -> Markup {
    html! {
        @if items.is_empty() { p { (ctx.t(&i18n::NOTHING)) } } @else {
            div.scroll {
                table.entries {
                    thead { tr {
                        th.num scope="col" { (ctx.t(&i18n::INDEX)) }
                        th scope="col" { (ctx.t(&i18n::TYPE)) }
                        th scope="col" { (ctx.t(&i18n::TIME)) }
                        th scope="col" { (ctx.t(&i18n::SUMMARY)) }
                    } }
                    tbody {
                        @for item in items {
                            @let kind = item["type"].as_str().unwrap_or("");
                            @let transfer = item["entry"]["transfer_id"].as_str().unwrap_or("");
                            @let bad = kind == "receipt.mismatch" || (!transfer.is_empty() && mismatched.contains(transfer));
                            tr class=[bad.then_some("mismatch")] data-index=(item["index"]) {
                                td.num { a href=(format!("/log/entries/{}", item["index"])) { (item["index"]) } }
                                td { (kind) @if bad { " " span.tag-bad { (ctx.t(&i18n::MISMATCH)) } } }
                                td { (item["time"].as_str().unwrap_or("")) }
                                td { (summary(kind, &item["entry"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}
