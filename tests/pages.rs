//! The pages (`/ui`) on the demo binary: over plain HTTP on both databases (sign-in, every
//! page, CSRF refusals that change nothing, security headers, an organisation's member
//! seeing only its own data), and in a real headless Chromium through chromium-driver
//! (demo sign-in, every page, chart figures equal to the API's, a bundle downloaded and a
//! tampered one reported as such, screenshots under `docs/screenshots/`).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clearinghouse::pages::PAGE_CSP;
use clearinghouse::store::audit::AuditSession;
use clearinghouse::store::{Store, StoreOptions};
use common::{Db, ServerProcess, TestDb};
use serde_json::Value;
use sha2::{Digest, Sha256};

const DANONE: &str = "552032534";
const DINUM: &str = "130025265";

/// A demo process on `kind`, its data directory and its database URL.
async fn demo(kind: Db) -> (ServerProcess, TestDb, std::path::PathBuf, String) {
    let db = TestDb::new_for_process(kind).await;
    let data = db.dir.path().join("demo");
    let mut env = Vec::new();
    if kind == Db::Postgres {
        env.push(("CLEARINGHOUSE_DATABASE_URL", db.url.clone()));
    }
    let process = ServerProcess::spawn(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    let url = match kind {
        Db::Postgres => db.url.clone(),
        Db::Sqlite => format!("sqlite://{}", data.join("clearinghouse.db").display()),
    };
    (process, db, data, url)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The CSRF token in a page's forms.
fn csrf_of(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form")
        + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let response = client.get(format!("{base}{path}")).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post_form(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{base}{path}"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Every page route (method, pattern, concrete path) and what an anonymous visitor gets:
/// the sign-in page's redirect (303), the page itself (200), or a refusal.
const PAGE_ROUTES: &[(&str, &str, &str, u16)] = &[
    ("GET", "/", "/", 303),
    ("GET", "/ui", "/ui", 303),
    ("GET", "/ui/style.css", "/ui/style.css", 200),
    ("GET", "/ui/sign-in", "/ui/sign-in", 200),
    ("POST", "/ui/sign-in/demo", "/ui/sign-in/demo", 403),
    ("POST", "/ui/sign-in/operator", "/ui/sign-in/operator", 403),
    // The demo has no ProConnect client: the page says so.
    (
        "GET",
        "/ui/sign-in/proconnect",
        "/ui/sign-in/proconnect",
        503,
    ),
    ("POST", "/ui/sign-out", "/ui/sign-out", 403),
    ("GET", "/ui/participants", "/ui/participants", 303),
    ("GET", "/ui/contracts", "/ui/contracts", 303),
    ("GET", "/ui/exchanges", "/ui/exchanges", 303),
    ("GET", "/ui/indicators", "/ui/indicators", 303),
    ("GET", "/ui/indicators.csv", "/ui/indicators.csv", 303),
    ("GET", "/ui/billing", "/ui/billing", 303),
    (
        "GET",
        "/ui/billing/report.csv",
        "/ui/billing/report.csv",
        303,
    ),
    (
        "GET",
        "/ui/billing/invoices/{number}",
        "/ui/billing/invoices/X",
        303,
    ),
    (
        "GET",
        "/ui/billing/periods/{period}/bundle",
        "/ui/billing/periods/2026-01/bundle",
        303,
    ),
    ("GET", "/ui/audit", "/ui/audit", 303),
    ("GET", "/ui/audit/bundle", "/ui/audit/bundle", 303),
    ("GET", "/ui/check", "/ui/check", 303),
    ("POST", "/ui/check", "/ui/check", 303),
];

/// The page routes `src/pages/mod.rs` declares.
fn declared_page_routes() -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages/mod.rs"),
    )
    .unwrap();
    let mut routes = std::collections::BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + 7..];
        let open = rest.find('"').unwrap();
        let close = rest[open + 1..].find('"').unwrap();
        routes.insert(rest[open + 1..open + 1 + close].to_owned());
    }
    routes
}

/// `POST /ui/check` as `multipart/form-data`, as a browser sends it.
async fn post_multipart(
    client: &reqwest::Client,
    base: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let boundary = "----pages-test-boundary-7d0c1e";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    client
        .post(format!("{base}/ui/check"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Over HTTP: sign-in, every page, CSRF refusals, headers and scoping.
async fn pages_over_http(kind: Db) {
    let (process, _db, data, db_url) = demo(kind).await;
    let base = process.base.clone();
    let operator_token = std::fs::read_to_string(data.join("operator-token")).unwrap();
    let browser = client();

    // Every page route is listed, and none shows anything to an anonymous visitor.
    let listed: std::collections::BTreeSet<String> =
        PAGE_ROUTES.iter().map(|r| r.1.to_owned()).collect();
    assert_eq!(
        declared_page_routes(),
        listed,
        "page routes and PAGE_ROUTES differ"
    );
    for (method, _, path, status) in PAGE_ROUTES {
        let anonymous = client();
        let request = match *method {
            "GET" => anonymous.get(format!("{base}{path}")),
            _ => anonymous
                .post(format!("{base}{path}"))
                .form(&[("token", operator_token.trim())]),
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), *status, "{method} {path}");
        if *status == 303 && *path != "/" {
            assert_eq!(response.headers()["location"], "/ui/sign-in", "{path}");
        }
    }

    // Signed out: every page sends to the sign-in page, which has its own strict CSP.
    let response = browser
        .get(format!("{base}/ui/billing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/ui/sign-in");
    let response = browser
        .get(format!("{base}/ui/sign-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-security-policy"], PAGE_CSP);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let sign_in = response.text().await.unwrap();
    assert!(
        sign_in.contains("Démonstration : données fictives"),
        "{sign_in}"
    );
    let csrf = csrf_of(&sign_in);
    // The API keeps its allow-nothing policy.
    let response = browser
        .get(format!("{base}/v1/participants"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    let (status, css) = get(&browser, &base, "/ui/style.css").await;
    assert_eq!(status, 200);
    assert!(css.contains("prefers") || css.contains("table"));

    // CSRF: without the token, with a wrong one, or from another browser (no secret
    // cookie), the operator's right token opens nothing.
    for form in [
        vec![("token", operator_token.as_str())],
        vec![("token", operator_token.as_str()), ("csrf", "0123abcd")],
    ] {
        let response = post_form(&browser, &base, "/ui/sign-in/operator", &form).await;
        assert_eq!(response.status(), 403);
        assert!(response.headers().get("set-cookie").is_none());
        let body = response.text().await.unwrap();
        assert!(
            body.contains("CSRF") && body.contains("Rien n'a été modifié"),
            "{body}"
        );
    }
    let stranger = client();
    let response = post_form(
        &stranger,
        &base,
        "/ui/sign-in/demo",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(response.status(), 403);
    let (status, _) = get(&browser, &base, "/ui").await;
    assert_eq!(status, 303, "still signed out");

    // A wrong operator token is refused in words.
    let response = post_form(
        &browser,
        &base,
        "/ui/sign-in/operator",
        &[("csrf", csrf.as_str()), ("token", "not-the-token")],
    )
    .await;
    assert_eq!(response.status(), 401);

    // The demo's committee member signs in without any provider, and every page says so.
    let response = post_form(
        &browser,
        &base,
        "/ui/sign-in/demo",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(response.status(), 303);
    let session = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        session.starts_with("ch_session=") && session.contains("HttpOnly"),
        "{session}"
    );
    let last_month = (chrono::Utc::now().date_naive().with_day(1).unwrap()
        - chrono::Duration::days(1))
    .format("%Y-%m")
    .to_string();
    let pages: [(&str, &[&str]); 8] = [
        (
            "/ui",
            &[
                "Taille du journal",
                "Dernier point de contrôle signé",
                "Entrées par jour",
            ],
        ),
        (
            "/ui/participants",
            &["DANONE", "company", "inscrit à l'entrée"],
        ),
        (
            "/ui/contracts",
            &["Ce que le contrat permet", "peut « use »", "Historique"],
        ),
        (
            "/ui/exchanges",
            &["receipt.mismatch", "class=\"mismatch\"", "DISCORDANCE"],
        ),
        (
            "/ui/indicators",
            &["<svg", "data-value=", "Par jeu de données"],
        ),
        (
            &format!("/ui/billing?period={last_month}"),
            &[
                "Rapport de financement",
                "Financement public",
                "/ui/billing/invoices/",
            ],
        ),
        ("/ui/audit", &["Paquet d'audit hors ligne"]),
        ("/ui/check", &["Vérifier un reçu ou un paquet"]),
    ];
    for (path, expected) in pages {
        let response = browser.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-security-policy"],
            PAGE_CSP,
            "{path}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Démonstration : connecté sans ProConnect comme membre du CTD"),
            "{path}: no demo banner"
        );
        for text in expected {
            assert!(body.contains(text), "{path}: {text:?} missing");
        }
        assert!(!body.contains("<script"), "{path}: pages run no script");
    }
    // The decisions and transfers come a page at a time, in log order: walking the pages
    // three entries at a time finds the same entries as one large page, each once.
    let indexes = |body: &str| -> Vec<u64> {
        body.split("data-index=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (_, whole) = get(&browser, &base, "/ui/exchanges?size=499").await;
    assert!(!whole.contains("id=\"next-page\""));
    let all = indexes(&whole);
    assert!(
        all.len() > 6,
        "the demo has several pages of exchanges: {all:?}"
    );
    let mut walked = Vec::new();
    let mut path = "/ui/exchanges?size=3".to_owned();
    for first in std::iter::once(true).chain(std::iter::repeat(false)) {
        let (status, page) = get(&browser, &base, &path).await;
        assert_eq!(status, 200, "{path}");
        let found = indexes(&page);
        assert!(found.len() <= 3 && !found.is_empty(), "{path}: {found:?}");
        assert_eq!(page.contains("id=\"first-page\""), !first, "{path}");
        walked.extend(found);
        let Some(start) = page.find("id=\"next-page\" rel=\"next\" href=\"") else {
            break;
        };
        let href = page[start..].split("href=\"").nth(1).unwrap();
        path = href.split('"').next().unwrap().replace("&amp;", "&");
    }
    assert_eq!(walked, all);
    assert!(
        walked.windows(2).all(|w| w[0] < w[1]),
        "log order: {walked:?}"
    );

    let (_, english) = get(&browser, &base, "/ui?lang=en").await;
    assert!(
        english.contains("Demo: signed in without ProConnect as") && english.contains("Overview")
    );
    let (_, french) = get(&browser, &base, "/ui?lang=fr").await;
    assert!(french.contains("Vue d'ensemble"));

    // Downloads go through the API with the session: CSV figures, a UBL invoice, bundles.
    let response = browser
        .get(format!("{base}/ui/indicators.csv?by=class"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let (_, billing) = get(&browser, &base, &format!("/ui/billing?period={last_month}")).await;
    let start = billing.find("/ui/billing/invoices/").unwrap();
    let link = billing[start..].split('"').next().unwrap();
    let (status, xml) = get(&browser, &base, link).await;
    assert_eq!(status, 200);
    assert!(xml.contains("urn:cen.eu:en16931:2017"), "{xml}");
    let (status, bundle) = get(
        &browser,
        &base,
        &format!("/ui/audit/bundle?participant={DANONE}"),
    )
    .await;
    assert_eq!(status, 200);
    let bundle: Value = serde_json::from_str(&bundle).unwrap();
    assert!(!bundle["entries"].as_array().unwrap().is_empty());

    // The check page, posted without its token, checks nothing.
    let document = bundle.to_string();
    let response = post_multipart(&browser, &base, &[("document", &document)]).await;
    assert_eq!(response.status(), 403);
    let (_, check) = get(&browser, &base, "/ui/check").await;
    let csrf = csrf_of(&check);
    let response =
        post_multipart(&browser, &base, &[("csrf", &csrf), ("document", &document)]).await;
    let body = response.text().await.unwrap();
    assert!(body.contains("data-verifies=\"true\""), "{body}");

    // Signing out needs the token too; without it the session stays.
    let response = post_form(&browser, &base, "/ui/sign-out", &[]).await;
    assert_eq!(response.status(), 403);
    let (status, _) = get(&browser, &base, "/ui").await;
    assert_eq!(status, 200);
    let response = post_form(&browser, &base, "/ui/sign-out", &[("csrf", csrf.as_str())]).await;
    assert_eq!(response.status(), 303);
    let (status, _) = get(&browser, &base, "/ui").await;
    assert_eq!(status, 303, "signed out");

    // The operator's token opens the whole log too.
    let (_, sign_in) = get(&browser, &base, "/ui/sign-in").await;
    let response = post_form(
        &browser,
        &base,
        "/ui/sign-in/operator",
        &[
            ("csrf", csrf_of(&sign_in).as_str()),
            ("token", operator_token.trim()),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let (_, overview) = get(&browser, &base, "/ui").await;
    assert!(
        overview.contains("opérateur (voit tout le journal)"),
        "{overview}"
    );

    // A member of another organisation (a ProConnect session for DANONE) sees its own
    // data only: no committee figures, no other organisation's entries.
    let store = Store::connect(&StoreOptions::new(db_url)).await.unwrap();
    let token = "a-page-session-token-for-danone-0123456789";
    let now = chrono::Utc::now().timestamp_millis();
    store
        .save_audit_session(
            &hex::encode(Sha256::digest(token.as_bytes())),
            &AuditSession {
                label: format!("page-proconnect:{DANONE} read-audit mandate urn:uuid:test"),
                siren: Some(DANONE.into()),
            },
            now + 3_600_000,
            now,
        )
        .await
        .unwrap();
    let member = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let as_member = |path: &str| {
        member
            .get(format!("{base}{path}"))
            .header("cookie", format!("ch_session={token}"))
            .send()
    };
    let body = as_member("/ui/participants")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("DANONE") && !body.contains("DIRECTION INTERMINISTERIELLE"));
    let body = as_member("/ui/indicators")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("réservés au comité") && !body.contains("data-value="),
        "{body}"
    );
    let response = as_member(&format!("/ui/exchanges?participant={DINUM}"))
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert!(
        body.contains(&format!("reads SIREN {DANONE}'s entries only")),
        "{body}"
    );
    let body = as_member(&format!("/ui/billing?period={last_month}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains(DANONE) && !body.contains(DINUM) && !body.contains("id=\"report-public\"")
    );
    let response = as_member(&format!("/ui/billing/periods/{last_month}/bundle"))
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    store.close().await;
    process.kill().await;
}

on_both_databases!(over_http, super::pages_over_http);

/// ProConnect sign-in from the pages, against the local OpenID provider (tests/oidc). The
/// pages open only for a person holding a live `read-audit` mandate issued here: a DANONE
/// employee without one is refused; the officer, once issued mandates, gets a session over
/// DANONE's data only (nothing personal kept, the mandate named in the log); after the
/// mandate is revoked, the officer is refused again.
async fn proconnect_sign_in(kind: Db) {
    let env = common::trust::TrustEnv::start(kind, &[], |_| {}).await;
    let page_sign_in = |persona: &'static str| {
        let url = env.url(&format!("/ui/sign-in/proconnect?login_hint={persona}"));
        async move {
            let browser = common::trust::browser();
            let response = browser.get(url).send().await.unwrap();
            (browser, response)
        }
    };
    let browser = common::trust::browser();
    let (status, sign_in) = get(&browser, &env.server.base, "/ui/sign-in").await;
    assert_eq!(status, 200);
    assert!(sign_in.contains("/ui/sign-in/proconnect"), "{sign_in}");

    // No mandate yet: refused, and told what is missing. Nothing is logged.
    let before = env.log_size().await;
    let (_, refused) = page_sign_in("employee").await;
    assert_eq!(refused.status(), 403);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        problem["type"].as_str().unwrap().rsplit('/').next(),
        Some("mandate-rejected")
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("live read-audit mandate for SIREN {DANONE}")),
        "{problem}"
    );
    assert_eq!(env.log_size().await, before);

    // The officer signs in for mandates (ProConnect's officer certification: every power,
    // read-audit included), then signs in to the pages.
    let holder = common::trust::DidKey::new(41);
    let (_, mandate) = env.credentials_of("officer", &holder).await;
    let mandate_id = mandate["id"].as_str().unwrap().to_owned();
    let (browser, response) = page_sign_in("officer").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/ui");
    let overview = response.text().await.unwrap();
    assert!(
        overview.contains(&format!(
            "ProConnect, SIREN {DANONE} (voit les données de son organisation seulement)"
        )),
        "{overview}"
    );
    assert!(
        !overview.contains("Camille") && !overview.contains("Lefèvre"),
        "no personal data"
    );
    let (_, indicators) = get(&browser, &env.server.base, "/ui/indicators").await;
    assert!(indicators.contains("réservés au comité"));
    // Each read is logged under the mandate, never the person.
    let (_, exchanges) = get(&browser, &env.server.base, "/ui/exchanges").await;
    assert!(exchanges.contains("<h1"), "{exchanges}");
    let last = env.entry(env.log_size().await - 1).await;
    assert_eq!(last["type"], "audit.read", "{last}");
    let reader = last["reader"].as_str().unwrap();
    assert!(
        reader.contains(&mandate_id) && reader.contains(DANONE) && !reader.contains("camille"),
        "{reader}"
    );

    // The callback's state is single-use: replaying it opens nothing.
    let (status, _) = get(
        &browser,
        &env.server.base,
        "/v1/auth/proconnect/callback?code=x&state=used",
    )
    .await;
    assert!(status >= 400, "{status}");

    // Revoked: the next page sign-in is refused.
    let (status, revoked) = env
        .post(
            &format!("/v1/credentials/{mandate_id}/revocation"),
            &serde_json::json!({"reason": "left the company"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let (_, refused) = page_sign_in("officer").await;
    assert_eq!(refused.status(), 403);
    env.server.stop().await;
}

on_both_databases!(proconnect, super::proconnect_sign_in);

use chrono::Datelike;

// ---------------------------------------------------------------------------------------
// In a real browser.

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser and its driver, or why they are missing.
fn browser_tools() -> Result<(String, String), String> {
    let find = |names: &[&str]| {
        names
            .iter()
            .map(|n| std::path::PathBuf::from(format!("/usr/bin/{n}")))
            .find(|p| p.exists())
            .map(|p| p.display().to_string())
    };
    let chromium = find(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("chromium is not installed (apt-get install chromium)")?;
    let driver = find(&["chromedriver"])
        .ok_or("chromedriver is not installed (apt-get install chromium-driver)")?;
    Ok((chromium, driver))
}

async fn start_driver(path: &str) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url }
}

async fn screenshot(browser: &fantoccini::Client, name: &str) {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_none() {
        return;
    }
    let png = browser.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(format!("{name}.png"));
    std::fs::write(path, png).unwrap();
}

/// Figures drawn in chart `id`: (category, series) → value.
async fn chart(browser: &fantoccini::Client, id: &str) -> Vec<(String, String, i64)> {
    use fantoccini::Locator;
    let mut out = Vec::new();
    for bar in browser
        .find_all(Locator::Css(&format!("svg#{id} rect.bar")))
        .await
        .unwrap()
    {
        out.push((
            bar.attr("data-category").await.unwrap().unwrap(),
            bar.attr("data-series").await.unwrap().unwrap(),
            bar.attr("data-value")
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap(),
        ));
    }
    out
}

/// A tool the browser test needs: in CI its absence fails the test; elsewhere the test is
/// skipped with a message saying what to install.
fn required_in_ci<T>(what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(found) => Some(found),
        Err(missing) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{what} must run in CI: {missing}")
        }
        Err(missing) => {
            eprintln!("skipped: {missing}");
            None
        }
    }
}

/// axe-core's source (tests/a11y, `npm ci` there), or why it is missing.
fn axe_source() -> Result<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/a11y/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (run `npm ci` in tests/a11y)", path.display()))
}

/// Run axe-core's WCAG 2.0/2.1 A and AA rules (colour contrast, names and labels, landmarks,
/// language, headings…) on the page shown; panics naming every violation and where.
async fn assert_accessible(browser: &fantoccini::Client, axe: &str, page: &str) {
    browser.execute(axe, vec![]).await.unwrap();
    let violations = browser
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {runOnly: {type: "tag",
                                            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
                  .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.help} at ` +
                        v.nodes.map(n => n.target.join(" ")).join(", "))))
                  .catch(e => done([`axe failed: ${e}`]));"#,
            vec![],
        )
        .await
        .unwrap();
    let violations = violations.as_array().cloned().unwrap_or_default();
    assert!(violations.is_empty(), "{page}: {violations:#?}");
}

/// The element that has the keyboard focus: (tag, href or text, outline style, outline
/// width in px).
async fn focused(browser: &fantoccini::Client) -> (String, String, String, f64) {
    let value = browser
        .execute(
            r#"const e = document.activeElement; const s = getComputedStyle(e);
               return [e.tagName.toLowerCase(), e.getAttribute("href") || e.textContent.trim(),
                       s.outlineStyle, parseFloat(s.outlineWidth) || 0];"#,
            vec![],
        )
        .await
        .unwrap();
    (
        value[0].as_str().unwrap().to_owned(),
        value[1].as_str().unwrap().to_owned(),
        value[2].as_str().unwrap().to_owned(),
        value[3].as_f64().unwrap(),
    )
}

/// Press and release one key.
async fn press(browser: &fantoccini::Client, key: fantoccini::key::Key) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let key = char::from(key);
    browser
        .perform_actions(
            KeyActions::new("keyboard".into())
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key }),
        )
        .await
        .unwrap();
}

/// In headless Chromium: sign in, every page, charts against the API, a bundle
/// downloaded, checked, then tampered with and reported; keyboard use and axe-core's WCAG
/// checks (contrast included) on every page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium() {
    use fantoccini::Locator;
    let Some((chromium, driver_path)) = required_in_ci("the browser test", browser_tools()) else {
        return;
    };
    let Some(axe) = required_in_ci("the accessibility checks", axe_source()) else {
        return;
    };
    let (process, _db, data, _) = demo(Db::Sqlite).await;
    let base = process.base.clone();
    let operator_token = std::fs::read_to_string(data.join("operator-token")).unwrap();
    let driver = start_driver(&driver_path).await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,1400", "--lang=fr-FR"],
            "prefs": {"intl.accept_languages": "fr-FR,fr"},
        }),
    );
    let browser =
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("chromium-driver starts a headless chromium");

    // Sign in as the demo's committee member, by keyboard and click like a person.
    browser.goto(&format!("{base}/ui")).await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/ui/sign-in")
    );
    // French, whatever the browser asks (the choice is remembered in a cookie).
    browser
        .goto(&format!("{base}/ui/sign-in?lang=fr"))
        .await
        .unwrap();
    screenshot(&browser, "sign-in").await;
    assert_accessible(&browser, &axe, "sign-in").await;
    browser
        .find(Locator::Id("demo-sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let banner = browser
        .find(Locator::Css("div.demo"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        banner.contains("Démonstration : connecté sans ProConnect comme membre du CTD"),
        "{banner}"
    );
    let size: u64 = browser
        .find(Locator::Id("log-size"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(size > 20);
    screenshot(&browser, "overview").await;
    assert_accessible(&browser, &axe, "overview").await;

    // By keyboard alone: the first Tab reaches the skip link, then Tab walks the header
    // (sign-out, language) and the navigation in reading order, every focus is drawn (a
    // visible outline), and Enter follows a link.
    press(&browser, fantoccini::key::Key::Tab).await;
    let (tag, target, _, _) = focused(&browser).await;
    assert_eq!(
        (tag.as_str(), target.as_str()),
        ("a", "#content"),
        "skip link first"
    );
    let mut order = Vec::new();
    for _ in 0..20 {
        let (tag, target, outline, width) = focused(&browser).await;
        assert!(
            outline != "none" && width >= 2.0,
            "focus on {tag} {target:?} is not visible ({outline} {width}px)"
        );
        order.push(target);
        press(&browser, fantoccini::key::Key::Tab).await;
    }
    let position = |wanted: &str| {
        order
            .iter()
            .position(|t| t == wanted)
            .unwrap_or_else(|| panic!("{wanted} is not reachable by Tab: {order:?}"))
    };
    let navigation = [
        "/ui/participants",
        "/ui/contracts",
        "/ui/exchanges",
        "/ui/indicators",
        "/ui/billing",
        "/ui/audit",
        "/ui/check",
    ]
    .map(position);
    assert!(
        navigation.windows(2).all(|w| w[0] < w[1]),
        "navigation in reading order: {order:?}"
    );
    assert!(position("Se déconnecter") < navigation[0], "{order:?}");
    browser.goto(&format!("{base}/ui")).await.unwrap();
    for _ in 0..=navigation[1] {
        press(&browser, fantoccini::key::Key::Tab).await;
    }
    assert_eq!(focused(&browser).await.1, "/ui/contracts");
    press(&browser, fantoccini::key::Key::Enter).await;
    let h1 = browser
        .find(Locator::Css("main h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Contrats", "Enter followed the focused link");
    browser.goto(&format!("{base}/ui")).await.unwrap();

    // Every page through the navigation links.
    for (link, name, heading) in [
        ("Participants", "participants", "Participants"),
        ("Contrats", "contracts", "Contrats"),
        (
            "Décisions et transferts",
            "exchanges",
            "Décisions et transferts",
        ),
        ("Indicateurs", "indicators", "Indicateurs"),
        ("Facturation", "billing", "Facturation"),
        ("Audit", "audit", "Audit"),
        ("Vérifier", "check", "Vérifier un reçu ou un paquet"),
    ] {
        browser
            .find(Locator::LinkText(link))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let h1 = browser
            .find(Locator::Css("main h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(h1, heading);
        let banner = browser
            .find(Locator::Css("div.demo"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(banner.contains("sans ProConnect"), "{name}");
        if name == "exchanges" {
            let mismatched = browser.find_all(Locator::Css("tr.mismatch")).await.unwrap();
            assert!(
                !mismatched.is_empty(),
                "mismatched receipts are highlighted"
            );
        }
        if name != "indicators" && name != "billing" {
            screenshot(&browser, name).await;
        }
        assert_accessible(&browser, &axe, name).await;
    }

    // Charts draw the API's figures.
    let api = reqwest::Client::new();
    let token = operator_token.trim().to_owned();
    let api_get = |path: String| api_json(&api, &base, &token, path);
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    browser
        .goto(&format!("{base}/ui/indicators?period={this_month}"))
        .await
        .unwrap();
    screenshot(&browser, "indicators").await;
    for by in ["class", "dataset"] {
        let drawn = chart(&browser, &format!("indicators-{by}")).await;
        let rows = api_get(format!("/v1/indicators?period={this_month}&by={by}")).await;
        let rows = rows["rows"].as_array().unwrap();
        assert!(!rows.is_empty(), "the demo has {by} figures this month");
        assert_eq!(drawn.len(), rows.len() * 3, "{by}: three bars per row");
        for row in rows {
            let key = row["key"].as_str().unwrap();
            for (field, series) in [
                ("consultations", "Consultations"),
                ("requests", "Demandes autorisées"),
                ("downloads", "Téléchargements"),
            ] {
                let value = drawn
                    .iter()
                    .find(|(c, s, _)| c == key && s == series)
                    .map(|(_, _, v)| *v);
                assert_eq!(value, row[field].as_i64(), "{by} {key} {field}");
            }
        }
    }
    let last_month = (chrono::Utc::now().date_naive().with_day(1).unwrap()
        - chrono::Duration::days(1))
    .format("%Y-%m")
    .to_string();
    browser
        .goto(&format!("{base}/ui/billing?period={last_month}"))
        .await
        .unwrap();
    screenshot(&browser, "billing").await;
    let report = api_get(format!("/v1/billing/financing-report?period={last_month}")).await;
    let drawn = chart(&browser, "financing").await;
    for (class, totals) in report["by_class"].as_object().unwrap() {
        let public = drawn
            .iter()
            .find(|(c, s, _)| c == class && s == "Financement public")
            .map(|(_, _, v)| *v);
        assert_eq!(public, totals["public_cents"].as_i64(), "{class} public");
        let own = drawn
            .iter()
            .find(|(c, s, _)| c == class && s == "Part des participants")
            .map(|(_, _, v)| *v);
        assert_eq!(
            own,
            totals["participant_cents"].as_i64(),
            "{class} participants"
        );
    }
    assert!(
        report["public_cents"].as_i64().unwrap() > 0,
        "the demo is co-financed"
    );

    // Download a bundle through the audit page's link, with the browser's own session.
    browser.goto(&format!("{base}/ui/audit")).await.unwrap();
    let href = browser
        .find(Locator::Css("a[href*='/bundle']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let session = browser.get_named_cookie("ch_session").await.unwrap();
    let bundle: Value = api
        .get(format!("{base}{href}"))
        .header("cookie", format!("ch_session={}", session.value()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("period-bundle.json");
    std::fs::write(&good, serde_json::to_vec(&bundle).unwrap()).unwrap();
    // Tamper with one transfer receipt: 1 byte more than the connector signed for.
    let mut tampered = bundle.clone();
    let mut changed = None;
    for item in tampered["entries"].as_array_mut().unwrap() {
        let mut entry: Value =
            serde_json::from_slice(&B64.decode(item["data"].as_str().unwrap()).unwrap()).unwrap();
        if entry["type"] == "receipt.recorded" {
            entry["bytes"] = Value::from(entry["bytes"].as_u64().unwrap() + 1);
            item["data"] = Value::String(B64.encode(serde_json::to_vec(&entry).unwrap()));
            changed = item["index"].as_u64();
            break;
        }
    }
    let changed = changed.expect("the period bundle holds receipts");
    let bad = dir.path().join("tampered-bundle.json");
    std::fs::write(&bad, serde_json::to_vec(&tampered).unwrap()).unwrap();

    for (file, verifies) in [(&good, true), (&bad, false)] {
        browser.goto(&format!("{base}/ui/check")).await.unwrap();
        browser
            .find(Locator::Id("file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        browser
            .find(Locator::Id("check-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The click only schedules the form's submission: wait for the answer page rather
        // than looking at the form page still shown (the bundle is checked in a debug build,
        // on a machine busy with the other tests).
        let verdict = match browser
            .wait()
            .at_most(Duration::from_secs(120))
            .for_element(Locator::Id("verdict"))
            .await
        {
            Ok(verdict) => verdict,
            Err(e) => {
                let url = browser.current_url().await.map(|u| u.to_string());
                let main = match browser.find(Locator::Css("main")).await {
                    Ok(main) => main.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no verdict after submitting {file:?} ({e}); page {url:?}: {main}");
            }
        };
        let text = verdict.text().await.unwrap();
        assert_eq!(
            verdict.attr("data-verifies").await.unwrap().as_deref(),
            Some(if verifies { "true" } else { "false" }),
            "{text}"
        );
        if verifies {
            assert!(
                text.contains("Vérifié.") && text.contains("recalculés au centime près"),
                "{text}"
            );
            screenshot(&browser, "check-verifies").await;
            assert_accessible(&browser, &axe, "check-verifies").await;
        } else {
            assert!(text.contains("Ne vérifie pas."), "{text}");
            assert!(
                text.contains(&format!("entry {changed} (receipt.recorded)")),
                "{text}"
            );
            screenshot(&browser, "check-tampered").await;
            assert_accessible(&browser, &axe, "check-tampered").await;
        }
    }

    // A phone-sized window: the pages still work (tables scroll inside their box).
    browser.set_window_size(390, 844).await.unwrap();
    browser.goto(&format!("{base}/ui/exchanges")).await.unwrap();
    let width: i64 = browser
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(
        width <= 420,
        "the page does not overflow a phone's width ({width}px)"
    );
    screenshot(&browser, "phone-exchanges").await;
    assert_accessible(&browser, &axe, "phone-exchanges").await;

    browser.close().await.unwrap();
    drop(driver);
    process.kill().await;
}

/// A JSON answer of the API, with the operator's token.
async fn api_json(api: &reqwest::Client, base: &str, token: &str, path: String) -> Value {
    api.get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
