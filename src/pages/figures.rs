//! Indicators and billing: charts of the API's figures, the figures as CSV, statements,
//! the financing report (public funding and participants' share), invoices.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use maud::html;
use serde_json::Value;

use super::charts::{self, Series};
use super::{Ctx, PageResult, api, euros, i18n};
use crate::billing::statement::Month;

/// How many months the "over time" chart shows.
const MONTHS: usize = 6;

fn period(
    ctx: &Ctx,
    filters: &HashMap<String, String>,
    default: Month,
) -> Result<Month, super::PageError> {
    match filters.get("period").filter(|p| !p.is_empty()) {
        None => Ok(default),
        Some(text) => Month::parse(text).ok_or_else(|| {
            ctx.error(
                StatusCode::BAD_REQUEST,
                &format!("{text:?} is not a month (YYYY-MM)"),
            )
        }),
    }
}

fn period_picker(ctx: &Ctx, action: &str, period: Month, extra: maud::Markup) -> maud::Markup {
    html! {
        form.filters method="get" action=(action) {
            div { label for="period" { (ctx.t(&i18n::PERIOD)) } input id="period" name="period" type="month" value=(period.to_string()); }
            (extra)
            div { button type="submit" { (ctx.t(&i18n::FILTER)) } }
        }
    }
}

fn rows_series<'a>(
    rows: &[Value],
    names: [(&'a str, &'a str); 3],
) -> (Vec<String>, Vec<Series<'a>>) {
    let keys = rows
        .iter()
        .map(|r| r["key"].as_str().unwrap_or("").to_owned())
        .collect();
    let series = names
        .iter()
        .map(|&(field, name)| Series {
            name,
            values: rows
                .iter()
                .map(|r| r[field].as_i64().unwrap_or(0))
                .collect(),
        })
        .collect();
    (keys, series)
}

/// `GET /ui/indicators?period=YYYY-MM`.
pub async fn indicators(ctx: Ctx, Query(filters): Query<HashMap<String, String>>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let period = period(&ctx, &filters, Month::of(crate::clock::now()))?;
    let counts = [
        ("consultations", ctx.t(&i18n::CONSULTATIONS)),
        ("requests", ctx.t(&i18n::REQUESTS)),
        ("downloads", ctx.t(&i18n::DOWNLOADS)),
    ];
    let volumes = [
        ("bytes", ctx.t(&i18n::BYTES)),
        ("records", ctx.t(&i18n::RECORDS)),
        ("downloads", ctx.t(&i18n::DOWNLOADS)),
    ];
    let mut sections = Vec::new();
    for (by, title) in [
        ("class", ctx.t(&i18n::BY_CLASS)),
        ("dataset", ctx.t(&i18n::BY_DATASET)),
    ] {
        let answer = api::json_or_problem(
            &ctx,
            Some(&viewer),
            &format!("/v1/indicators?period={period}&by={by}"),
        )
        .await?;
        let Ok(answer) = answer else {
            return Ok(ctx.render(
                ctx.t(&i18n::INDICATORS),
                html! { p.verdict.bad { (ctx.t(&i18n::WHOLE_LOG_ONLY)) } },
            ));
        };
        let rows = answer["rows"].as_array().cloned().unwrap_or_default();
        sections.push((by, title, rows));
    }
    // Over time: one total per month, oldest first.
    let mut months = vec![period];
    while months.len() < MONTHS {
        let earliest = months[months.len() - 1].previous();
        months.push(earliest);
    }
    months.reverse();
    let mut totals = Vec::new();
    for month in &months {
        let answer = api::json(
            &ctx,
            Some(&viewer),
            &format!("/v1/indicators?period={month}&by=total"),
        )
        .await?;
        let row = answer["rows"]
            .as_array()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or(Value::Null);
        totals.push(serde_json::json!({
            "key": month.to_string(),
            "consultations": row["consultations"].as_i64().unwrap_or(0),
            "requests": row["requests"].as_i64().unwrap_or(0),
            "downloads": row["downloads"].as_i64().unwrap_or(0),
            "bytes": row["bytes"].as_i64().unwrap_or(0),
        }));
    }
    let (month_keys, month_series) = rows_series(&totals, counts);
    let body = html! {
        (period_picker(&ctx, "/ui/indicators", period, html! {}))
        h2 { (ctx.t(&i18n::OVER_TIME)) }
        (charts::bars("indicators-months", ctx.t(&i18n::OVER_TIME), &month_keys, &month_series, &|v: i64| v.to_string()))
        @for (by, title, rows) in &sections {
            @let (keys, count_series) = rows_series(rows, counts);
            @let (_, volume_series) = rows_series(rows, volumes);
            h2 { (title) " — " (period.to_string()) }
            (charts::bars(&format!("indicators-{by}"), title, &keys, &count_series, &|v: i64| v.to_string()))
            (charts::bars(&format!("volumes-{by}"), &format!("{title} ({})", ctx.t(&i18n::BYTES)), &keys, &volume_series[..1], &|v: i64| v.to_string()))
            p { a href=(format!("/ui/indicators.csv?period={period}&by={by}")) download { (ctx.t(&i18n::DOWNLOAD_CSV)) " — " (title) } }
        }
    };
    Ok(ctx.render(ctx.t(&i18n::INDICATORS), body))
}

/// `GET /ui/indicators.csv?period=&by=`: the API's CSV, as a download.
pub async fn indicators_csv(
    ctx: Ctx,
    Query(filters): Query<HashMap<String, String>>,
) -> PageResult {
    let viewer = ctx.require()?.clone();
    let period = period(&ctx, &filters, Month::of(crate::clock::now()))?;
    let by = filters
        .get("by")
        .map(String::as_str)
        .filter(|by| ["total", "dataset", "participant", "class"].contains(by))
        .unwrap_or("total");
    api::download(
        &ctx,
        &viewer,
        &format!("/v1/indicators?period={period}&by={by}&format=csv"),
    )
    .await
}

/// `GET /ui/billing/report.csv?period=`.
pub async fn report_csv(ctx: Ctx, Query(filters): Query<HashMap<String, String>>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let period = period(&ctx, &filters, Month::of(crate::clock::now()).previous())?;
    api::download(
        &ctx,
        &viewer,
        &format!("/v1/billing/financing-report?period={period}&format=csv"),
    )
    .await
}

/// `GET /ui/billing/invoices/{number}`: the UBL document.
pub async fn invoice(ctx: Ctx, Path(number): Path<String>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let mut response = api::download(
        &ctx,
        &viewer,
        &format!("/v1/billing/invoices/{}", super::query_escape(&number)),
    )
    .await?;
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.xml\"",
        number.replace(['"', '\\'], "")
    )) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /ui/billing/periods/{period}/bundle`.
pub async fn period_bundle(ctx: Ctx, Path(period): Path<String>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let period = Month::parse(&period)
        .ok_or_else(|| ctx.error(StatusCode::BAD_REQUEST, "not a month (YYYY-MM)"))?;
    api::download(
        &ctx,
        &viewer,
        &format!("/v1/billing/periods/{period}/bundle"),
    )
    .await
}

/// `GET /ui/billing?period=YYYY-MM` (default: last month, the latest that can be closed).
pub async fn billing(ctx: Ctx, Query(filters): Query<HashMap<String, String>>) -> PageResult {
    let viewer = ctx.require()?.clone();
    let period = period(&ctx, &filters, Month::of(crate::clock::now()).previous())?;
    let lang = ctx.lang;
    let money = move |cents: i64| euros(lang, cents);
    let statements = api::json(
        &ctx,
        Some(&viewer),
        &format!("/v1/billing/statements?period={period}"),
    )
    .await?;
    let statements = statements["statements"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let report = api::json_or_problem(
        &ctx,
        Some(&viewer),
        &format!("/v1/billing/financing-report?period={period}"),
    )
    .await?;
    let mut invoices = Vec::new();
    let mut not_closed = false;
    for statement in &statements {
        let siren = statement["siren"].as_str().unwrap_or("");
        match api::json_or_problem(
            &ctx,
            Some(&viewer),
            &format!("/v1/billing/invoices?period={period}&participant={siren}"),
        )
        .await?
        {
            Ok(answer) => invoices.extend(
                answer["documents"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| (siren.to_owned(), d)),
            ),
            Err((status, _)) if status == StatusCode::CONFLICT => not_closed = true,
            Err((status, detail)) => return Err(ctx.error(status, &detail)),
        }
    }
    let financed = |s: &Value| -> i64 {
        s["financed_cents"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_i64).sum())
            .unwrap_or(0)
    };
    let body = html! {
        (period_picker(&ctx, "/ui/billing", period, html! {}))
        h2 { (ctx.t(&i18n::STATEMENTS)) }
        div.scroll {
            table id="statements" {
                thead { tr {
                    th scope="col" { "SIREN" } th scope="col" { (ctx.t(&i18n::CLASS)) }
                    th.num scope="col" { (ctx.t(&i18n::LINES)) } th.num scope="col" { (ctx.t(&i18n::GROSS)) }
                    th.num scope="col" { (ctx.t(&i18n::FINANCED)) } th.num scope="col" { (ctx.t(&i18n::OWN_SHARE)) }
                } }
                tbody {
                    @for s in &statements {
                        tr {
                            td { (s["siren"].as_str().unwrap_or("")) } td { (s["class"].as_str().unwrap_or("")) }
                            td.num { (s["lines"].as_array().map(Vec::len).unwrap_or(0)) }
                            td.num { (money(s["gross_cents"].as_i64().unwrap_or(0))) }
                            td.num { (money(financed(s))) }
                            td.num { (money(s["participant_cents"].as_i64().unwrap_or(0))) }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t(&i18n::FINANCING)) }
        @match &report {
            Ok(report) => {
                @let classes: Vec<String> = report["by_class"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                @let public: Vec<i64> = classes.iter().map(|c| report["by_class"][c]["public_cents"].as_i64().unwrap_or(0)).collect();
                @let own: Vec<i64> = classes.iter().map(|c| report["by_class"][c]["participant_cents"].as_i64().unwrap_or(0)).collect();
                div.cards {
                    div.card { div { (ctx.t(&i18n::GROSS)) } div.big id="report-gross" { (money(report["gross_cents"].as_i64().unwrap_or(0))) } }
                    div.card { div { (ctx.t(&i18n::PUBLIC_FUNDING)) } div.big id="report-public" { (money(report["public_cents"].as_i64().unwrap_or(0))) } }
                    div.card { div { (ctx.t(&i18n::PARTICIPANTS_SHARE)) } div.big id="report-participants" { (money(report["participant_cents"].as_i64().unwrap_or(0))) } }
                }
                (charts::bars("financing", ctx.t(&i18n::FINANCING), &classes,
                    &[Series { name: ctx.t(&i18n::PUBLIC_FUNDING), values: public }, Series { name: ctx.t(&i18n::PARTICIPANTS_SHARE), values: own }], &money))
                div.scroll {
                    table {
                        caption { (ctx.t(&i18n::FINANCER)) }
                        thead { tr { th scope="col" { (ctx.t(&i18n::FINANCER)) } th scope="col" { (ctx.t(&i18n::KIND)) } th.num scope="col" { (ctx.t(&i18n::COVERED)) } th.num scope="col" { (ctx.t(&i18n::ENVELOPE_LEFT)) } } }
                        tbody {
                            @for f in report["financers"].as_array().into_iter().flatten() {
                                tr {
                                    td { (f["financer"].as_str().unwrap_or("")) " (" (f["instrument"].as_str().unwrap_or("")) ")" }
                                    td { (f["kind"].as_str().unwrap_or("")) }
                                    td.num { (money(f["covered_cents"].as_i64().unwrap_or(0))) }
                                    td.num { (money(f["envelope_left_cents"].as_i64().unwrap_or(0))) }
                                }
                            }
                        }
                    }
                }
                p { a href=(format!("/ui/billing/report.csv?period={period}")) download { (ctx.t(&i18n::DOWNLOAD_CSV)) } }
                p { a href=(format!("/ui/billing/periods/{period}/bundle")) download { (ctx.t(&i18n::PERIOD_BUNDLE)) } }
            }
            Err(_) => { p { (ctx.t(&i18n::WHOLE_LOG_ONLY)) } }
        }
        h2 { (ctx.t(&i18n::INVOICES)) }
        @if not_closed { p { (ctx.t(&i18n::NOT_CLOSED)) } }
        @else if invoices.is_empty() { p { (ctx.t(&i18n::NOTHING)) } }
        @else {
            div.scroll {
                table id="invoices" {
                    thead { tr { th scope="col" { (ctx.t(&i18n::NUMBER)) } th scope="col" { "SIREN" } th scope="col" { (ctx.t(&i18n::KIND)) } th.num scope="col" { (ctx.t(&i18n::NET)) } } }
                    tbody {
                        @for (siren, d) in &invoices {
                            @let number = d["number"].as_str().unwrap_or("");
                            tr {
                                td { a href=(format!("/ui/billing/invoices/{number}")) download { (number) } }
                                td { (siren) }
                                td { @if d["kind"] == "credit-note" { (ctx.t(&i18n::CREDIT_NOTE)) } @else { (ctx.t(&i18n::INVOICE)) } }
                                td.num { (money(d["net_cents"].as_i64().unwrap_or(0))) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.render(ctx.t(&i18n::BILLING), body))
}
