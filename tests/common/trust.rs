//! Test support for the trust flows: a local HTTP server answering in the Sirene API's
//! shape, the local OpenID provider (npm `oidc-provider` with ProConnect's claims), an
//! external credential issuer, and a holder's wallet that signs presentations.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use clearinghouse::trust::status::{bitstring, encode_list};
use clearinghouse::trust::wallet::Wallet;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

pub const SIRENE_KEY: &str = "test-sirene-api-key";

/// An organisation the Sirene stand-in knows.
#[derive(Clone)]
pub struct Company {
    pub siret: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub active: bool,
}

/// The organisations of the trust tests (valid identifiers).
pub const COMPANIES: &[Company] = &[
    Company {
        siret: "55203253400646",
        name: "DANONE",
        category: "5599",
        active: true,
    },
    Company {
        siret: "21690123100011",
        name: "COMMUNE DE LYON",
        category: "7210",
        active: true,
    },
    Company {
        siret: "73282932000074",
        name: "DONNEES TERRITORIALES SAS",
        category: "5710",
        active: true,
    },
    Company {
        siret: "44306184100047",
        name: "ATELIER FERME",
        category: "5499",
        active: false,
    },
    Company {
        siret: "13002526500013",
        name: "DIRECTION INTERMINISTERIELLE DU NUMERIQUE",
        category: "7120",
        active: true,
    },
];

/// A local HTTP server answering `GET /siret/{siret}` in the shape of INSEE's Sirene API
/// 3.11 (as documented on portail-api.insee.fr), with its API-key header checked.
pub struct SireneStub {
    pub base: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

/// What the Sirene stand-in knows, and the SIRETs it was asked about.
type SireneState = (Arc<BTreeMap<String, Company>>, Arc<Mutex<Vec<String>>>);

async fn sirene_siret(
    State((companies, requests)): State<SireneState>,
    headers: HeaderMap,
    UrlPath(siret): UrlPath<String>,
) -> Response {
    requests.lock().unwrap().push(siret.clone());
    if headers
        .get("X-INSEE-Api-Key-Integration")
        .and_then(|v| v.to_str().ok())
        != Some(SIRENE_KEY)
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"fault": {"message": "Invalid Credentials"}})),
        )
            .into_response();
    }
    let Some(company) = companies.get(&siret) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"header": {"statut": 404, "message": format!("Aucun élément trouvé pour le siret {siret}")}})),
        )
            .into_response();
    };
    let state = if company.active { "A" } else { "C" };
    axum::Json(json!({
        "header": {"statut": 200, "message": "OK"},
        "etablissement": {
            "siren": &siret[..9], "nic": &siret[9..], "siret": siret,
            "statutDiffusionEtablissement": "O", "etablissementSiege": true,
            "dateCreationEtablissement": "1990-01-01",
            "uniteLegale": {
                "etatAdministratifUniteLegale": state,
                "statutDiffusionUniteLegale": "O",
                "categorieJuridiqueUniteLegale": company.category,
                "denominationUniteLegale": company.name,
                "activitePrincipaleUniteLegale": "70.10Z",
                "nomUniteLegale": null, "prenom1UniteLegale": null
            },
            "adresseEtablissement": {"codeCommuneEtablissement": "69123", "libelleCommuneEtablissement": "LYON"},
            "periodesEtablissement": [
                {"dateFin": null, "dateDebut": "2020-01-01", "etatAdministratifEtablissement": state},
                {"dateFin": "2019-12-31", "dateDebut": "1990-01-01", "etatAdministratifEtablissement": "A"}
            ]
        }
    }))
    .into_response()
}

impl SireneStub {
    pub async fn start() -> SireneStub {
        let companies: BTreeMap<String, Company> = COMPANIES
            .iter()
            .map(|c| (c.siret.to_owned(), c.clone()))
            .collect();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let app = Router::new()
            .route("/api-sirene/3.11/siret/{siret}", get(sirene_siret))
            .with_state((Arc::new(companies), requests.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api-sirene/3.11", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        SireneStub { base, requests }
    }
}

/// The local OpenID provider (tests/oidc): a real `oidc-provider` emitting ProConnect's
/// claims, logging in the persona named by `login_hint`.
pub struct OidcProvider {
    pub issuer: String,
    child: tokio::process::Child,
}

pub const CLIENT_ID: &str = "clearinghouse-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789abcdef0123456789";

fn oidc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Install the provider's npm packages once (CI does it up front; this covers local runs).
fn ensure_node_modules() {
    static INSTALL: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALL.get_or_init(|| {
        let dir = oidc_dir();
        if dir.join("node_modules/oidc-provider").exists() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--omit=dev", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm is needed for the ProConnect tests (tests/oidc)");
        assert!(status.success(), "npm ci failed in tests/oidc");
    });
}

/// A persona of the local provider (ProConnect claims).
pub fn persona(sub: &str, given: &str, usual: &str, email: &str, siret: &str, acr: &str) -> Value {
    json!({
        "sub": sub, "given_name": given, "usual_name": usual, "email": email,
        "uid": "1", "siret": siret, "idp_id": "71144ab3-ee1a-4401-b7b3-79b44f7daeeb",
        "organization_label": "Test", "roles": [], "acr": acr, "amr": ["pwd", "mfa"]
    })
}

impl OidcProvider {
    /// Start the provider with these personas, accepting `redirect_uri` for the test client.
    pub async fn start(dir: &Path, redirect_uri: &str, personas: Value) -> OidcProvider {
        use tokio::io::AsyncBufReadExt;
        ensure_node_modules();
        let config = json!({
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_post",
                "id_token_signed_response_alg": "RS256",
                "userinfo_signed_response_alg": "RS256"
            }],
            "personas": personas
        });
        let config_path = dir.join("oidc-config.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let mut child = tokio::process::Command::new("node")
            .arg(oidc_dir().join("provider.mjs"))
            .args(["--config", config_path.to_str().unwrap(), "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node is needed for the ProConnect tests");
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("OIDC provider listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("the OIDC provider exited before listening");
        })
        .await
        .expect("the OIDC provider did not start within 60 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        OidcProvider { issuer, child }
    }
}

/// A browser: follows the sign-in redirects with a cookie jar and returns the final answer.
pub async fn browser_sign_in(client: &reqwest::Client, start_url: &str) -> reqwest::Response {
    client.get(start_url).send().await.unwrap()
}

/// A client that follows redirects and keeps cookies, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(20))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Write the anchors of a test service: itself, the local provider, and an external issuer.
pub fn write_anchors(dir: &Path, oidc_issuer: &str, external: &[(&str, &str, &[&str])]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("clearinghouse.toml"),
        r#"id = "clearinghouse"
name = "Test clearing house"
kind = "credential-issuer"
issuer = "self"
credential_types = ["OrganisationCredential", "MandateCredential"]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("proconnect.toml"),
        format!(
            r#"id = "proconnect"
name = "Local ProConnect"
kind = "openid-provider"
issuer = "{oidc_issuer}"
acr_values = ["https://proconnect.gouv.fr/assurance/certification-dirigeant", "https://proconnect.gouv.fr/assurance/consistency-checked"]
"#
        ),
    )
    .unwrap();
    for (id, did, types) in external {
        let types = types
            .iter()
            .map(|t| format!("{t:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        std::fs::write(
            dir.join(format!("{id}.toml")),
            format!("id = \"{id}\"\nname = \"{id}\"\nkind = \"credential-issuer\"\nissuer = \"{did}\"\ncredential_types = [{types}]\n"),
        )
        .unwrap();
    }
}

/// An Ed25519 key with its did:key: a holder's wallet or an external issuer.
pub struct DidKey {
    wallet: Wallet,
    pub did: String,
    pub method: String,
}

impl DidKey {
    pub fn new(seed: u8) -> DidKey {
        Self::from_wallet(Wallet::new(SigningKey::from_bytes(&[seed; 32])))
    }

    pub fn random() -> DidKey {
        Self::from_wallet(Wallet::generate())
    }

    fn from_wallet(wallet: Wallet) -> DidKey {
        DidKey {
            did: wallet.did().to_owned(),
            method: wallet.method().to_owned(),
            wallet,
        }
    }

    pub fn public_jwk(&self) -> Value {
        self.wallet.public_jwk()
    }

    /// Sign a credential (assertionMethod) with eddsa-jcs-2022.
    pub fn sign_credential(&self, credential: Value) -> Value {
        self.wallet.sign_credential(&credential).unwrap()
    }

    /// A presentation of `credentials`, signed (authentication) with eddsa-jcs-2022.
    pub fn present(
        &self,
        credentials: &[Value],
        challenge: Option<&str>,
        domain: Option<&str>,
    ) -> Value {
        self.wallet.present(credentials, challenge, domain).unwrap()
    }
}

/// An unsigned VC 2.0 credential from `issuer`.
pub fn credential(
    issuer: &str,
    kind: &str,
    subject: Value,
    valid: (DateTime<Utc>, DateTime<Utc>),
    status: Option<Value>,
) -> Value {
    let mut credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/ecd-clearinghouse/v1"],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", kind],
        "issuer": issuer,
        "validFrom": valid.0.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "validUntil": valid.1.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "credentialSubject": subject,
    });
    if let Some(status) = status {
        credential["credentialStatus"] = status;
    }
    credential
}

/// A status entry pointing at `list_url`.
pub fn status_entry(list_url: &str, index: u64) -> Value {
    json!({
        "id": format!("{list_url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index.to_string(),
        "statusListCredential": list_url,
    })
}

/// The list's issuer, its revoked indexes and its URL.
type ListState = (Arc<DidKey>, Arc<Mutex<Vec<u64>>>, String);

/// An external issuer's status list, served over HTTP, signed with eddsa-jcs-2022.
pub struct StatusListServer {
    pub url: String,
    revoked: Arc<Mutex<Vec<u64>>>,
}

impl StatusListServer {
    pub async fn start(issuer: Arc<DidKey>) -> StatusListServer {
        let revoked: Arc<Mutex<Vec<u64>>> = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/status/1", listener.local_addr().unwrap());
        let state = (issuer, revoked.clone(), url.clone());
        let app = Router::new()
            .route(
                "/status/1",
                get(|State((issuer, revoked, url)): State<ListState>| async move {
                    let bits = bitstring(&revoked.lock().unwrap());
                    let now = Utc::now();
                    let list = json!({
                        "@context": ["https://www.w3.org/ns/credentials/v2"],
                        "id": url,
                        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                        "issuer": issuer.did,
                        "validFrom": (now - chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        "validUntil": (now + chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        "credentialSubject": {"id": format!("{url}#list"), "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": encode_list(&bits)}
                    });
                    axum::Json(issuer.sign_credential(list))
                }),
            )
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StatusListServer { url, revoked }
    }

    pub fn revoke(&self, index: u64) {
        self.revoked.lock().unwrap().push(index);
    }
}

pub const DANONE: &str = "55203253400646";
pub const LYON: &str = "21690123100011";
pub const OFFICER_ACR: &str = "https://proconnect.gouv.fr/assurance/certification-dirigeant";
pub const CHECKED_ACR: &str = "https://proconnect.gouv.fr/assurance/consistency-checked";

/// The personas most trust tests need: a certified officer and an employee of DANONE, a
/// certified officer of DONNEES TERRITORIALES (another SIREN).
pub fn standard_personas() -> Value {
    json!({
        "officer": persona("sub-officer", "Camille", "Lefèvre", "camille.lefevre@danone.example.fr", DANONE, OFFICER_ACR),
        "employee": persona("sub-employee", "Thomas", "Girard", "thomas.girard@danone.example.fr", DANONE, CHECKED_ACR),
        "other_officer": persona("sub-other", "Inès", "Moreau", "ines.moreau@donnees.example.fr", "73282932000074", OFFICER_ACR),
    })
}

/// A service on `kind` with the local Sirene API and OpenID provider, the anchors of
/// [`write_anchors`] (plus `external`), and `adjust` applied to its configuration.
pub struct TrustEnv {
    pub server: super::TestServer,
    _oidc: OidcProvider,
    _sirene: SireneStub,
    _dir: tempfile::TempDir,
}

impl TrustEnv {
    pub async fn start(
        kind: super::Db,
        external: &[(&str, &str, &[&str])],
        adjust: impl FnOnce(&mut clearinghouse::config::Config),
    ) -> TrustEnv {
        use clearinghouse::ledger::note::{ALG_ED25519, NoteSigner};
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sirene = SireneStub::start().await;
        let oidc = OidcProvider::start(
            dir.path(),
            &format!("{base}/v1/auth/proconnect/callback"),
            standard_personas(),
        )
        .await;
        let anchors = dir.path().join("anchors");
        write_anchors(&anchors, &oidc.issuer, external);
        let db = super::TestDb::new(kind).await;
        let mut config = super::test_config(&db);
        config.trust.anchors_dir = anchors;
        config.trust.allow_http_did_web = true;
        config.trust.status_cache_seconds = 0;
        config.sirene.base_url = sirene.base.clone();
        config.sirene.api_key = Some(SIRENE_KEY.into());
        config.proconnect.issuer = oidc.issuer.clone();
        config.proconnect.client_id = Some(CLIENT_ID.into());
        config.proconnect.client_secret = Some(CLIENT_SECRET.into());
        adjust(&mut config);
        let signer = NoteSigner::generate(super::ORIGIN, ALG_ED25519).unwrap();
        let server =
            super::TestServer::start_on_listener(db, signer, config, listener, |_| {}).await;
        TrustEnv {
            server,
            _oidc: oidc,
            _sirene: sirene,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Sign in through the provider as `persona`, binding mandates to `holder`.
    pub async fn sign_in(&self, persona: &str, holder: &DidKey) -> (u16, Value) {
        let response = browser()
            .get(self.url(&format!(
                "/v1/auth/proconnect/login?holder={}&login_hint={persona}",
                holder.did
            )))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Sign in as `persona` and return its (OrganisationCredential, MandateCredential).
    pub async fn credentials_of(&self, persona: &str, holder: &DidKey) -> (Value, Value) {
        let (status, outcome) = self.sign_in(persona, holder).await;
        assert_eq!(status, 200, "{outcome}");
        (
            credential_of(&outcome, "OrganisationCredential").clone(),
            credential_of(&outcome, "MandateCredential").clone(),
        )
    }

    pub async fn challenge(&self) -> String {
        let (status, body) = self.get("/v1/challenges").await;
        assert_eq!(status, 200, "{body}");
        body["challenge"].as_str().unwrap().to_owned()
    }

    /// A presentation bound to a fresh challenge and this service's domain.
    pub async fn present(&self, holder: &DidKey, credentials: &[Value]) -> Value {
        let challenge = self.challenge().await;
        holder.present(credentials, Some(&challenge), Some(&self.server.base))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.server.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST JSON, with the operator's token when `operator`.
    pub async fn post(&self, path: &str, body: &Value, operator: bool) -> (u16, Value) {
        let mut request = self.server.client.post(self.url(path)).json(body);
        if operator {
            request = request.bearer_auth(super::OPERATOR_TOKEN);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The log entry at `index`, parsed.
    pub async fn entry(&self, index: u64) -> Value {
        let (status, entry) = self.get(&format!("/log/entries/{index}")).await;
        assert_eq!(status, 200, "entry {index}: {entry}");
        entry
    }

    /// The log's size, from its signed checkpoint.
    pub async fn log_size(&self) -> u64 {
        use clearinghouse::ledger::note::{NoteVerifier, open_checkpoint};
        let note = self
            .server
            .client
            .get(self.url("/log/checkpoint"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let verifier = NoteVerifier::from_vkey(&self.server.vkey).unwrap();
        open_checkpoint(&note, &verifier, super::ORIGIN)
            .unwrap()
            .size
    }
}

/// The credential of type `kind` in a sign-in outcome.
pub fn credential_of<'a>(outcome: &'a Value, kind: &str) -> &'a Value {
    outcome["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"].as_array().unwrap().iter().any(|t| t == kind))
        .unwrap_or_else(|| panic!("no {kind} in {outcome}"))
}

/// A server that trusts its own credentials and answers Sirene with the demo's fixture
/// (no OpenID provider): enough to enrol the demo organisations through the real flows.
/// `adjust` changes the configuration first. The directory holds the anchors; keep it.
pub async fn demo_fixture_server(
    kind: super::Db,
    adjust: impl FnOnce(&mut clearinghouse::config::Config),
) -> (super::TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let anchors = dir.path().join("anchors");
    write_anchors(&anchors, "http://127.0.0.1:9/unused-provider", &[]);
    let db = super::TestDb::new(kind).await;
    let mut config = super::test_config(&db);
    config.trust.anchors_dir = anchors;
    adjust(&mut config);
    config.validate().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = super::TestServer::start_on_listener(
        db,
        clearinghouse::ledger::note::NoteSigner::generate(
            super::ORIGIN,
            clearinghouse::ledger::note::ALG_ED25519,
        )
        .unwrap(),
        config,
        listener,
        |options| options.sirene = clearinghouse::demo::sirene_fixture(),
    )
    .await;
    (server, dir)
}
