//! Signing in and out: ProConnect (OpenID Connect), the operator's token, and in the demo a
//! committee member without any identity provider.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::i18n;
use super::session::{self, SESSION_COOKIE};
use super::{Ctx, PageError, PageResult};
use crate::http::AppState;
use crate::http::problem::Problem;
use crate::store::audit::AuditSession;
use crate::trust::proconnect::Identity;

/// A posted form: its CSRF token and, for the operator, the token.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    pub csrf: Option<String>,
    pub token: Option<String>,
}

/// `GET /ui/sign-in`.
pub async fn page(ctx: Ctx) -> Response {
    let csrf = ctx.csrf();
    let body = html! {
        h2 { "ProConnect" }
        @if ctx.state.trust.proconnect().is_some() {
            p { a href="/ui/sign-in/proconnect" { (ctx.t(&i18n::SIGN_IN_PROCONNECT)) } }
        } @else {
            p { (ctx.t(&i18n::NO_PROCONNECT)) }
        }
        @if let Some(member) = &ctx.state.pages.demo_member {
            h2 { "Démonstration / Demo" }
            form method="post" action="/ui/sign-in/demo" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" id="demo-sign-in" {
                    (ctx.t(&i18n::SIGN_IN_DEMO)) " — " (member.name)
                }
            }
        }
        h2 { (ctx.t(&i18n::SIGN_IN_OPERATOR)) }
        form method="post" action="/ui/sign-in/operator" {
            input type="hidden" name="csrf" value=(csrf);
            label for="token" { (ctx.t(&i18n::OPERATOR_TOKEN)) }
            input type="password" id="token" name="token" autocomplete="off" required;
            " "
            button type="submit" { (ctx.t(&i18n::SUBMIT)) }
        }
    };
    ctx.render(ctx.t(&i18n::SIGN_IN), body)
}

/// Refuse a form whose CSRF token is missing or wrong: nothing happens.
pub fn check_csrf(ctx: &Ctx, headers: &HeaderMap, posted: Option<&str>) -> Result<(), PageError> {
    if session::csrf_ok(headers, posted) {
        Ok(())
    } else {
        Err(ctx.error(StatusCode::FORBIDDEN, ctx.t(&i18n::CSRF_REFUSED)))
    }
}

fn form_csrf(form: &Result<Form<SignInForm>, FormRejection>) -> Option<&str> {
    form.as_ref().ok().and_then(|Form(f)| f.csrf.as_deref())
}

/// Open a session and go to the overview.
async fn signed_in(
    state: &AppState,
    ctx: Option<&Ctx>,
    session: AuditSession,
    not_after: Option<chrono::DateTime<chrono::Utc>>,
) -> PageResult {
    let token = session::open(state, session, not_after)
        .await
        .map_err(|_| match ctx {
            Some(ctx) => ctx.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the session could not be opened (database unavailable)",
            ),
            None => PageError::new(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        })?;
    let mut response = Redirect::to("/ui").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(state, SESSION_COOKIE, &token, session::SESSION_HOURS * 3600),
    );
    if let Some(ctx) = ctx {
        ctx.add_cookies(&mut response);
    }
    Ok(response)
}

/// `POST /ui/sign-in/demo`: the demo's committee member (demo instances only).
pub async fn demo(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> PageResult {
    let Some(member) = state.pages.demo_member.clone() else {
        return Err(ctx.error(StatusCode::NOT_FOUND, "this is not a demo instance"));
    };
    check_csrf(&ctx, &headers, form_csrf(&form))?;
    signed_in(
        &state,
        Some(&ctx),
        AuditSession {
            label: session::demo_label(&member.siren),
            siren: None,
        },
        None,
    )
    .await
}

/// `POST /ui/sign-in/operator`: the operator's token opens a session over the whole log.
pub async fn operator(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> PageResult {
    check_csrf(&ctx, &headers, form_csrf(&form))?;
    let token = form
        .as_ref()
        .ok()
        .and_then(|Form(f)| f.token.as_deref())
        .unwrap_or("");
    if !state.operator_auth.accepts(token.trim()) {
        return Err(ctx.error(StatusCode::UNAUTHORIZED, ctx.t(&i18n::WRONG_TOKEN)));
    }
    signed_in(
        &state,
        Some(&ctx),
        AuditSession {
            label: "operator".into(),
            siren: None,
        },
        None,
    )
    .await
}

/// `GET /ui/sign-in/proconnect[?login_hint=EMAIL]`: off to the provider; it comes back to
/// `/v1/auth/proconnect/callback`, which calls [`after_proconnect`].
pub async fn proconnect(
    ctx: Ctx,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> PageResult {
    let hint = query
        .get("login_hint")
        .map(|h| h.trim())
        .filter(|h| !h.is_empty() && h.len() <= 200);
    let url = crate::trust::mandates::start_page_sign_in(&ctx.state.trust, hint)
        .await
        .map_err(|e| ctx.error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()))?;
    Ok(Redirect::to(&url).into_response())
}

/// A verified ProConnect identity opens a page session only with a live `read-audit`
/// mandate this service issued to that person
/// ([`crate::trust::audit_access::page_session`]): over the whole log for a committee
/// member organisation, its own data otherwise. Nothing personal is kept: the session's
/// label names the SIREN and the mandate.
pub async fn after_proconnect(state: &AppState, identity: &Identity) -> Result<Response, Problem> {
    let (session, mandate_until) = crate::trust::audit_access::page_session(
        &state.trust,
        identity,
        state.operator_auth.committee(),
    )
    .await
    .map_err(crate::http::trust::trust_problem)?;
    signed_in(state, None, session, Some(mandate_until))
        .await
        .map_err(|_| Problem::log_unavailable(&"the session could not be opened"))
}

/// `POST /ui/sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> PageResult {
    check_csrf(&ctx, &headers, form_csrf(&form))?;
    if let Some(viewer) = &ctx.viewer {
        session::close(&state, &viewer.token)
            .await
            .map_err(|_| ctx.error(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"))?;
    }
    let mut response = Redirect::to("/ui/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}
