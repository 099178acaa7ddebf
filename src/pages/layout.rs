//! The page shell: skip link, header with navigation and who is signed in, the demo
//! banner, the content, a footer; error pages; the style sheet.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::Ctx;
use super::i18n::{self, Msg};
use super::session::SignedInBy;

const STYLE: &str = include_str!("style.css");

/// `GET /ui/style.css`.
pub async fn style_sheet() -> Response {
    crate::http::typed_response(
        STYLE,
        "text/css; charset=utf-8",
        Some("public, max-age=3600"),
    )
}

const NAV: [(&str, &Msg); 7] = [
    ("/ui", &i18n::OVERVIEW),
    ("/ui/participants", &i18n::PARTICIPANTS),
    ("/ui/contracts", &i18n::CONTRACTS),
    ("/ui/exchanges", &i18n::EXCHANGES),
    ("/ui/indicators", &i18n::INDICATORS),
    ("/ui/billing", &i18n::BILLING),
    ("/ui/audit", &i18n::AUDIT),
];

/// Who is signed in, in words (a role and an organisation, never a person's name).
pub fn who(ctx: &Ctx) -> Option<String> {
    let viewer = ctx.viewer.as_ref()?;
    let scope = match viewer.scope() {
        None => ctx.t(&i18n::SEES_ALL),
        Some(_) => ctx.t(&i18n::SEES_OWN),
    };
    Some(match viewer.by() {
        SignedInBy::Operator => format!("{} ({scope})", ctx.t(&i18n::OPERATOR)),
        SignedInBy::Demo { siren } => format!(
            "{} — {} (SIREN {siren}, {scope})",
            ctx.t(&i18n::COMMITTEE_MEMBER),
            organisation(ctx, &siren)
        ),
        SignedInBy::ProConnect { siren } => {
            let role = if viewer.scope().is_none() {
                format!("{} — ", ctx.t(&i18n::COMMITTEE_MEMBER))
            } else {
                String::new()
            };
            format!("{role}ProConnect, SIREN {siren} ({scope})")
        }
        SignedInBy::Other(label) => format!("{label} ({scope})"),
    })
}

fn organisation(ctx: &Ctx, siren: &str) -> String {
    ctx.state
        .pages
        .demo_member
        .as_ref()
        .filter(|m| m.siren == siren)
        .map(|m| m.name.clone())
        .unwrap_or_else(|| format!("SIREN {siren}"))
}

/// The demo banner, on every page of a demo instance.
fn demo_banner(ctx: &Ctx) -> Option<Markup> {
    ctx.state.pages.demo_member.as_ref()?;
    let signed = matches!(
        ctx.viewer.as_ref().map(|v| v.by()),
        Some(SignedInBy::Demo { .. })
    );
    Some(html! {
        div.demo role="status" {
            @if signed {
                (ctx.t(&i18n::DEMO_BANNER)) " " (who(ctx).unwrap_or_default())
            } @else {
                (ctx.t(&i18n::DEMO_NOT_SIGNED))
            }
        }
    })
}

fn lang_switch(ctx: &Ctx) -> String {
    format!("{}?lang={}", ctx.path, ctx.lang.other().code())
}

pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (ctx.t(&i18n::APP)) }
                link rel="stylesheet" href="/ui/style.css";
            }
            body {
                a.skip href="#content" { (ctx.t(&i18n::SKIP)) }
                @if let Some(banner) = demo_banner(ctx) { (banner) }
                header {
                    div.top {
                        a.brand href="/ui" { (ctx.t(&i18n::APP)) }
                        span.who {
                            @if let Some(who) = who(ctx) {
                                (ctx.t(&i18n::SIGNED_IN_AS)) " " (who) " · "
                                form method="post" action="/ui/sign-out" {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    button.link type="submit" { (ctx.t(&i18n::SIGN_OUT)) }
                                }
                                " · "
                            } @else {
                                a href="/ui/sign-in" { (ctx.t(&i18n::SIGN_IN)) } " · "
                            }
                            a href=(lang_switch(ctx)) lang=(ctx.lang.other().code()) { (ctx.t(&i18n::SWITCH_LANG)) }
                        }
                    }
                    @if ctx.viewer.is_some() {
                        nav aria-label=(ctx.t(&i18n::MENU)) {
                            ul {
                                @for (href, label) in NAV {
                                    li {
                                        @if ctx.path == href {
                                            a href=(href) aria-current="page" { (ctx.t(label)) }
                                        } @else {
                                            a href=(href) { (ctx.t(label)) }
                                        }
                                    }
                                }
                                li { a href="/ui/check" { (ctx.t(&i18n::CHECK)) } }
                            }
                        }
                    }
                }
                main id="content" {
                    h1 { (title) }
                    (body)
                }
                footer { (ctx.t(&i18n::FOOTER)) }
            }
        }
    }
}

pub fn error(ctx: &Ctx, status: StatusCode, message: &str) -> Markup {
    let title = format!("{} {}", ctx.t(&i18n::ERROR), status.as_u16());
    page(
        ctx,
        &title,
        html! {
            p.verdict.bad role="alert" { (message) }
            p { a href="/ui" { (ctx.t(&i18n::BACK)) } }
        },
    )
}
