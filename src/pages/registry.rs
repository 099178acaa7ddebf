//! Participants (class, status, credential evidence) and contracts (the policy as
//! sentences, state, history).

use maud::html;
use serde_json::Value;

use super::{Ctx, PageResult, api, i18n, odrl_text};

/// The participants this viewer may see in detail: all of them, or its own organisation.
async fn visible_participants(ctx: &Ctx) -> Result<Vec<Value>, super::PageError> {
    let list = api::json(ctx, None, "/v1/participants?limit=200").await?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let scope = ctx
        .viewer
        .as_ref()
        .and_then(|v| v.scope().map(str::to_owned));
    Ok(items
        .into_iter()
        .filter(|p| match &scope {
            None => true,
            Some(own) => p["siren"].as_str() == Some(own.as_str()),
        })
        .collect())
}

/// Fields of a registration entry that are evidence: hashes and versions, never names.
fn evidence(entry: &Value) -> Vec<(String, String)> {
    entry
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .filter(|(k, _)| {
                    k.contains("sha256") || k.contains("version") || k.ends_with("issuer")
                })
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /ui/participants`.
pub async fn participants(ctx: Ctx) -> PageResult {
    ctx.require()?;
    let mut rows = Vec::new();
    for participant in visible_participants(&ctx).await? {
        let index = participant["registered_index"].as_u64().unwrap_or(0);
        let response = api::get(&ctx, None, &format!("/log/entries/{index}")).await?;
        let entry: Value =
            serde_json::from_str(&api::text(&ctx, response).await?).unwrap_or(Value::Null);
        rows.push((participant, index, evidence(&entry)));
    }
    let body = html! {
        div.scroll {
            table id="participants" {
                thead { tr {
                    th scope="col" { "SIREN" }
                    th scope="col" { (ctx.t(&i18n::NAME)) }
                    th scope="col" { (ctx.t(&i18n::CLASS)) }
                    th scope="col" { (ctx.t(&i18n::STATUS)) }
                    th scope="col" { (ctx.t(&i18n::EVIDENCE)) }
                } }
                tbody {
                    @for (p, index, evidence) in &rows {
                        tr {
                            td { (p["siren"].as_str().unwrap_or("")) br; small { "SIRET " (p["siret"].as_str().unwrap_or("")) } }
                            td { (p["legal_name"].as_str().unwrap_or("—")) }
                            td { (p["class"].as_str().unwrap_or("")) br; small { (ctx.t(&i18n::LEGAL_CATEGORY)) " " (p["legal_category"].as_str().unwrap_or("")) } }
                            td { (p["status"].as_str().unwrap_or("")) @if let Some(reason) = p["status_reason"].as_str() { " (" (reason) ")" } }
                            td {
                                a href=(format!("/log/entries/{index}")) { (ctx.t(&i18n::REGISTERED_AT)) " " (index) }
                                ", " (p["keys"].as_array().map(|k| k.iter().filter(|k| k["revoked_index"].is_null()).count()).unwrap_or(0)) " " (ctx.t(&i18n::KEYS))
                                ul {
                                    @for (name, value) in evidence { li { code { (name) } " : " code { (value) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.render(ctx.t(&i18n::PARTICIPANTS), body))
}

/// `GET /ui/contracts`.
pub async fn contracts(ctx: Ctx) -> PageResult {
    ctx.require()?;
    let mut ids: Vec<String> = Vec::new();
    for participant in visible_participants(&ctx).await? {
        let siren = participant["siren"].as_str().unwrap_or("");
        let list = api::json(
            &ctx,
            None,
            &format!("/v1/contracts?party={siren}&limit=200"),
        )
        .await?;
        for contract in list["items"].as_array().into_iter().flatten() {
            if let Some(id) = contract["id"].as_str()
                && !ids.iter().any(|known| known == id)
            {
                ids.push(id.to_owned());
            }
        }
    }
    let mut contracts = Vec::new();
    for id in &ids {
        contracts.push(
            api::json(
                &ctx,
                None,
                &format!("/v1/contracts/{}", super::query_escape(id)),
            )
            .await?,
        );
    }
    let body = html! {
        @if contracts.is_empty() { p { (ctx.t(&i18n::NOTHING)) } }
        @for c in &contracts {
            section.contract {
                h2 { (c["id"].as_str().unwrap_or("")) }
                p {
                    strong { (ctx.t(&i18n::PARTIES)) " : " } (c["assigner"].as_str().unwrap_or("")) " → " (c["assignee"].as_str().unwrap_or(""))
                    " · " strong { (ctx.t(&i18n::STATE)) " : " } span.state { (c["state"].as_str().unwrap_or("")) }
                    " · v" (c["version"])
                }
                h3 { (ctx.t(&i18n::POLICY)) }
                ol.sentences {
                    @for sentence in odrl_text::sentences(ctx.lang, &c["agreement"]) { li { (sentence) } }
                }
                div.scroll {
                    table {
                        caption { (ctx.t(&i18n::HISTORY)) }
                        thead { tr { th.num scope="col" { (ctx.t(&i18n::INDEX)) } th scope="col" { (ctx.t(&i18n::KIND)) } th scope="col" { (ctx.t(&i18n::TIME)) } th scope="col" { "SHA-256" } } }
                        tbody {
                            @for event in c["history"].as_array().into_iter().flatten() {
                                tr {
                                    td.num { a href=(format!("/log/entries/{}", event["index"])) { (event["index"]) } }
                                    td { (event["kind"].as_str().unwrap_or("")) }
                                    td { (event["time"].as_str().unwrap_or("")) }
                                    td { code { (event["agreement_sha256"].as_str().unwrap_or("")) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.render(ctx.t(&i18n::CONTRACTS), body))
}
