//! Decisions and transfer receipts, filtered; mismatched receipts highlighted.

use std::collections::{HashMap, HashSet};

use axum::extract::Query;
use maud::html;
use serde_json::Value;

use super::{Ctx, PageResult, api, i18n, overview, query_escape};

const KINDS: [&str; 3] = ["decision.made", "receipt.recorded", "receipt.mismatch"];
/// Entries per page by default.
const PAGE: usize = 100;
/// At most: what a browser page stays readable with (one more entry is read to see whether
/// another page follows).
const MAX_PAGE: usize = 499;

/// `GET /ui/exchanges?kind=&participant=&contract=&from=&to=&after=&size=` (dates
/// `YYYY-MM-DD`), in log order, `size` entries at a time: `after` is the index of the
/// previous page's last entry, as on the JSON API.
pub async fn page(ctx: Ctx, Query(filters): Query<HashMap<String, String>>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let value = |name: &str| {
        filters
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let kinds: Vec<&str> = match value("kind") {
        Some(kind) if KINDS.contains(&kind) => vec![kind],
        _ => KINDS.to_vec(),
    };
    let mut common = String::new();
    for name in ["participant", "contract"] {
        if let Some(v) = value(name) {
            common.push_str(&format!("&{name}={}", query_escape(v)));
        }
    }
    for name in ["from", "to"] {
        if let Some(day) = value(name) {
            common.push_str(&format!(
                "&{name}={}",
                query_escape(&format!("{day}T00:00:00Z"))
            ));
        }
    }
    let after = value("after").and_then(|a| a.parse::<u64>().ok());
    let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
    let size = value("size")
        .and_then(|s| s.parse::<usize>().ok())
        .map_or(PAGE, |s| s.clamp(1, MAX_PAGE));
    // The first `size` entries after the cursor of every kind, merged, are the first `size`
    // entries of the union; one more than a page tells whether another page follows.
    let mut items: Vec<Value> = Vec::new();
    for kind in &kinds {
        let page = api::json(
            &ctx,
            Some(&viewer),
            &format!(
                "/v1/audit/entries?type={kind}&limit={}{common}{cursor}",
                size + 1
            ),
        )
        .await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
    }
    items.sort_by_key(|i| i["index"].as_u64().unwrap_or(0));
    let next = (items.len() > size)
        .then(|| items[size - 1]["index"].as_u64())
        .flatten();
    items.truncate(size);
    let here = {
        let mut link = String::from("/ui/exchanges?");
        for name in ["kind", "participant", "contract", "from", "to", "size"] {
            if let Some(v) = value(name) {
                link.push_str(&format!("{name}={}&", query_escape(v)));
            }
        }
        link
    };
    let mismatched: HashSet<String> = items
        .iter()
        .filter(|i| i["type"] == "receipt.mismatch")
        .filter_map(|i| i["entry"]["transfer_id"].as_str().map(str::to_owned))
        .collect();
    let refs: Vec<&Value> = items.iter().collect();
    let count = |kind: &str| items.iter().filter(|i| i["type"] == kind).count();
    let body = html! {
        form.filters method="get" action="/ui/exchanges" {
            div {
                label for="kind" { (ctx.t(&i18n::KIND)) }
                select id="kind" name="kind" {
                    option value="" { (ctx.t(&i18n::ALL)) }
                    @for kind in KINDS {
                        option value=(kind) selected[value("kind") == Some(kind)] { (kind) }
                    }
                }
            }
            div { label for="participant" { (ctx.t(&i18n::PARTICIPANT)) } input id="participant" name="participant" inputmode="numeric" value=(value("participant").unwrap_or("")); }
            div { label for="contract" { (ctx.t(&i18n::CONTRACT)) } input id="contract" name="contract" value=(value("contract").unwrap_or("")); }
            div { label for="from" { (ctx.t(&i18n::FROM)) } input id="from" name="from" type="date" value=(value("from").unwrap_or("")); }
            div { label for="to" { (ctx.t(&i18n::TO)) } input id="to" name="to" type="date" value=(value("to").unwrap_or("")); }
            div { button type="submit" { (ctx.t(&i18n::FILTER)) } }
        }
        p.muted { (ctx.t(&i18n::ON_THIS_PAGE)) }
        div.cards {
            div.card { div { (ctx.t(&i18n::DECISIONS)) } div.big { (count("decision.made")) } }
            div.card { div { (ctx.t(&i18n::RECEIPTS)) } div.big { (count("receipt.recorded")) } }
            div.card { div { (ctx.t(&i18n::MISMATCHES)) } div.big id="mismatch-count" { (count("receipt.mismatch")) } }
        }
        (overview::entries_table(&ctx, &refs, &mismatched))
        nav.pager aria-label=(ctx.t(&i18n::PAGES)) {
            @if after.is_some() {
                a id="first-page" href=(here) { "« " (ctx.t(&i18n::FIRST_PAGE)) }
                " "
            }
            @if let Some(next) = next {
                a id="next-page" rel="next" href=(format!("{here}after={next}")) { (ctx.t(&i18n::NEXT_PAGE)) " »" }
            }
        }
    };
    Ok(ctx.render(ctx.t(&i18n::EXCHANGES), body))
}
