//! Server-rendered pages for the governance committee (CTD) and the operator, under `/ui`.
//!
//! | module          | owns                                                           |
//! |-----------------|----------------------------------------------------------------|
//! | [`i18n`]        | the words, in French (default) and English                     |
//! | [`session`]     | sign-in sessions (cookies) and CSRF tokens                     |
//! | [`layout`]      | the page shell, banners, error pages, the style sheet          |
//! | [`charts`]      | bar charts as SVG, with their figures as tables                |
//! | [`odrl_text`]   | ODRL policies as sentences                                     |
//! | [`api`]         | calling the JSON API in process, as the signed-in viewer       |
//! | [`sign_in`], [`overview`], [`registry`], [`exchange`], [`figures`], [`audit`] | the pages |
//!
//! Pages hold no business logic: every figure comes from the JSON API's own handlers,
//! called in process with the viewer's session as bearer token ([`api`]), so a page shows
//! exactly what the API answers that viewer, with the same scoping, and each read is logged
//! (`audit.read`) as the API logs it. Pages need no JavaScript; their Content-Security-Policy
//! allows the one style sheet and nothing else.

pub mod api;
pub mod audit;
pub mod charts;
pub mod exchange;
pub mod figures;
pub mod i18n;
pub mod layout;
pub mod odrl_text;
pub mod overview;
pub mod registry;
pub mod session;
pub mod sign_in;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::AppState;
use i18n::Lang;
use session::Viewer;

/// The pages' Content-Security-Policy: the style sheet from this origin, images inline in
/// SVG or as `data:`, forms posting back here only, no scripts, no framing.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the pages need beyond the API's state.
#[derive(Debug, Clone, Default)]
pub struct PagesConfig {
    /// Set by `clearinghouse demo`: a committee member anyone may sign in as, without an
    /// identity provider; every page then says so.
    pub demo_member: Option<DemoMember>,
}

#[derive(Debug, Clone)]
pub struct DemoMember {
    pub siren: String,
    pub name: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(overview::page))
        .route("/ui/style.css", get(layout::style_sheet))
        .route("/ui/sign-in", get(sign_in::page))
        .route("/ui/sign-in/demo", post(sign_in::demo))
        .route("/ui/sign-in/operator", post(sign_in::operator))
        .route("/ui/sign-in/proconnect", get(sign_in::proconnect))
        .route("/ui/sign-out", post(sign_in::sign_out))
        .route("/ui/participants", get(registry::participants))
        .route("/ui/contracts", get(registry::contracts))
        .route("/ui/exchanges", get(exchange::page))
        .route("/ui/indicators", get(figures::indicators))
        .route("/ui/indicators.csv", get(figures::indicators_csv))
        .route("/ui/billing", get(figures::billing))
        .route("/ui/billing/report.csv", get(figures::report_csv))
        .route("/ui/billing/invoices/{number}", get(figures::invoice))
        .route(
            "/ui/billing/periods/{period}/bundle",
            get(figures::period_bundle),
        )
        .route("/ui/audit", get(audit::page))
        .route("/ui/audit/bundle", get(audit::bundle))
        .route(
            "/ui/check",
            get(audit::check_page)
                .post(audit::check)
                .layer(axum::extract::DefaultBodyLimit::max(audit::MAX_CHECKED)),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        // Pages show what one viewer may see: never kept by a shared cache.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// What every page knows about its request: language, viewer, CSRF token.
#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub viewer: Option<Viewer>,
    /// The per-browser secret, and whether it is new (to be set as a cookie).
    csrf_secret: String,
    new_secret: bool,
    /// The language was chosen by `?lang=` and is to be remembered.
    remember_lang: bool,
    pub path: String,
    pub state: AppState,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Ctx, Self::Rejection> {
        let asked = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "lang")
                .map(|(_, v)| v.to_owned())
        });
        let lang = Lang::pick(
            asked.as_deref(),
            session::cookie(&parts.headers, session::LANG_COOKIE),
            &parts.headers,
        );
        let (csrf_secret, new_secret) = match session::cookie(&parts.headers, session::CSRF_COOKIE)
        {
            Some(secret) => (secret.to_owned(), false),
            None => (session::random_token(), true),
        };
        Ok(Ctx {
            lang,
            viewer: session::viewer(state, parts).await,
            csrf_secret,
            new_secret,
            remember_lang: asked.as_deref().and_then(Lang::parse).is_some(),
            path: parts.uri.path().to_owned(),
            state: state.clone(),
        })
    }
}

/// A page that could not be shown, already rendered (boxed: results stay small).
pub struct PageError(pub Box<Response>);

impl PageError {
    pub fn new(response: Response) -> PageError {
        PageError(Box::new(response))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

pub type PageResult = Result<Response, PageError>;

impl Ctx {
    pub fn t(&self, message: &i18n::Msg) -> &'static str {
        self.lang.t(message)
    }

    /// The token this page's forms carry.
    pub fn csrf(&self) -> String {
        session::csrf_token(
            &self.csrf_secret,
            self.viewer.as_ref().map(|v| v.token.as_str()),
        )
    }

    /// The signed-in viewer, or a redirect to the sign-in page.
    pub fn require(&self) -> Result<&Viewer, PageError> {
        self.viewer
            .as_ref()
            .ok_or_else(|| PageError::new(Redirect::to("/ui/sign-in").into_response()))
    }

    /// A complete page: the shell around `body`, with the cookies this request needs.
    pub fn render(&self, title: &str, body: Markup) -> Response {
        self.respond(StatusCode::OK, layout::page(self, title, body))
    }

    /// An error page with a message in plain words.
    pub fn error(&self, status: StatusCode, message: &str) -> PageError {
        PageError::new(self.respond(status, layout::error(self, status, message)))
    }

    fn respond(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = (status, axum::response::Html(markup.into_string())).into_response();
        self.add_cookies(&mut response);
        response
    }

    /// Set the cookies this request established (CSRF secret, language choice).
    pub fn add_cookies(&self, response: &mut Response) {
        let headers = response.headers_mut();
        if self.new_secret {
            headers.append(
                header::SET_COOKIE,
                session::set_cookie(
                    &self.state,
                    session::CSRF_COOKIE,
                    &self.csrf_secret,
                    60 * 60 * 24,
                ),
            );
        }
        if self.remember_lang {
            headers.append(
                header::SET_COOKIE,
                session::set_cookie(
                    &self.state,
                    session::LANG_COOKIE,
                    self.lang.code(),
                    60 * 60 * 24 * 365,
                ),
            );
        }
    }
}

/// Escape a value for a query string (the few characters our values may hold).
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Euros from integer cents, French or English style.
pub fn euros(lang: Lang, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    match lang {
        Lang::Fr => format!("{sign}{},{:02} €", cents / 100, cents % 100),
        Lang::En => format!("{sign}€{}.{:02}", cents / 100, cents % 100),
    }
}
