//! Demo data: a small, realistic history for a fresh embedded instance, so a newcomer sees
//! a populated log, participants and figures at once. Seeded only into an empty log, so a
//! restart with the same data directory keeps (and does not duplicate) what is there.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use crate::entry::{GovernanceKind, GovernanceRecorded};

pub mod bench;
mod exchange;
use crate::http::AppState;
use crate::journal::JournalError;
use crate::keys::ensure_key_file;
use crate::participants;
use crate::trust::legal_category;
use crate::trust::mandates::{self, DeliberationRequest};
use crate::trust::proconnect::{ACR_CERTIFIED_OFFICER, Identity};
use crate::trust::sirene::SireneSource;
use crate::trust::wallet::Wallet;
pub use exchange::count_limited_agreement;

/// The demo's organisations: SIRET, legal name, catégorie juridique, active.
/// Real, valid identifiers; the facts are the demo's, not a copy of the register.
pub const ORGANISATIONS: &[(&str, &str, &str, bool)] = &[
    ("21690123100011", "COMMUNE DE LYON", "7210", true),
    ("20004697700019", "METROPOLE DE LYON", "7229", true),
    (
        "13002526500013",
        "DIRECTION INTERMINISTERIELLE DU NUMERIQUE",
        "7120",
        true,
    ),
    ("55203253400646", "DANONE", "5599", true),
    ("73282932000074", "DONNEES TERRITORIALES SAS", "5710", true),
    ("44306184100047", "ATELIER FERME DES TRAVAUX", "5499", false),
];

/// The demo's committee (CTD) member organisation: SIREN, name. The pages' demo sign-in
/// acts as one of its members.
pub const COMMITTEE_MEMBER: (&str, &str) = ("200046977", "MÉTROPOLE DE LYON");

/// An answer in the shape of Sirene's `GET /siret/{siret}`.
pub fn sirene_answer(siret: &str, name: &str, category: &str, active: bool) -> Vec<u8> {
    let state = if active { "A" } else { "C" };
    let body = json!({
        "header": {"statut": 200, "message": "OK (demo fixture, not the INSEE register)"},
        "etablissement": {
            "siren": &siret[..9],
            "nic": &siret[9..],
            "siret": siret,
            "etablissementSiege": true,
            "uniteLegale": {
                "etatAdministratifUniteLegale": state,
                "categorieJuridiqueUniteLegale": category,
                "denominationUniteLegale": name,
            },
            "periodesEtablissement": [{"dateFin": null, "etatAdministratifEtablissement": state}],
        }
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Sirene answers for the demo organisations (the demo has no network).
pub fn sirene_fixture() -> SireneSource {
    let answers: BTreeMap<String, Vec<u8>> = ORGANISATIONS
        .iter()
        .map(|(siret, name, category, active)| {
            (
                (*siret).to_owned(),
                sirene_answer(siret, name, category, *active),
            )
        })
        .collect();
    SireneSource::Fixture(Arc::new(answers))
}

/// Seed the demo history if the log holds nothing but the start-up anchor entries.
/// Returns the number of entries written. Everything happens in the current month.
pub async fn seed(state: &AppState, data_dir: &Path) -> anyhow::Result<u64> {
    seed_periods(state, data_dir, false).await
}

/// When the demo's history starts: the 10th of last month, 09:00 UTC.
pub fn history_start() -> DateTime<Utc> {
    let now = Utc::now();
    let (year, month) = if now.month() == 1 {
        (now.year() - 1, 12)
    } else {
        (now.year(), now.month() - 1)
    };
    Utc.with_ymd_and_hms(year, month, 10, 9, 0, 0)
        .single()
        .unwrap_or(now)
}

/// Seed two billing periods: the caller has set the service's clock to
/// [`history_start`] (before the service logged anything, so log times stay in order);
/// last month's activity is logged at that time, then the clock comes back to now, last
/// month is closed, one of its lines is corrected by a credit note and this month's
/// activity follows.
pub async fn seed_two_periods(state: &AppState, data_dir: &Path) -> anyhow::Result<u64> {
    let seeded = seed_periods(state, data_dir, true).await;
    crate::clock::reset();
    seeded
}

async fn seed_periods(state: &AppState, data_dir: &Path, history: bool) -> anyhow::Result<u64> {
    let before = state.journal.reader().head().head.size;
    if !state.store.participants(None, 1).await?.is_empty() {
        return Ok(0);
    }
    seed_governance(state).await?;
    let parties = seed_participants(state, data_dir).await?;
    let disputed = exchange::seed(state, &parties).await?;
    if history {
        crate::clock::reset();
        exchange::seed_current_period(state, &parties, &disputed).await?;
    }
    Ok(state.journal.reader().head().head.size - before)
}

/// A demo key kept in the data directory (so demo connectors can act after a restart).
fn demo_wallet(data_dir: &Path, kind: &str, siren: &str) -> anyhow::Result<Wallet> {
    let path = data_dir.join(kind).join(format!("{siren}.key"));
    let signer = ensure_key_file(&path, kind)?;
    Ok(Wallet::new(signer.signing_key().clone()))
}

/// A demo organisation once registered: its representative (wallet and mandate) and its
/// connector key.
pub struct DemoParty {
    pub siren: String,
    pub siret: String,
    pub representative: Wallet,
    /// The representative's MandateCredential, as issued.
    pub mandate: serde_json::Value,
    pub connector: Wallet,
}

/// Register one organisation through the real flows: a (simulated) ProConnect sign-in of its
/// representative — an officer for companies, a délibération recorded by the operator first
/// for public bodies and associations, with `powers` if given — then a presentation bound
/// to a challenge. Keys are kept under `data_dir` so the demo's connectors can act after a
/// restart.
pub async fn enrol(
    state: &AppState,
    data_dir: &Path,
    siret: &str,
    name: &str,
    category: &str,
    powers: Option<serde_json::Value>,
) -> anyhow::Result<DemoParty> {
    let trust = &state.trust;
    let siren = &siret[..9];
    let email = format!("representant@{siren}.demo.invalid");
    let covered = legal_category::officer_certification_covers(category);
    if !covered {
        mandates::record_deliberation(
            trust,
            DeliberationRequest {
                siret: siret.to_owned(),
                grantee_email: email.clone(),
                document_sha256: hex::encode(Sha256::digest(
                    format!("Délibération (demo) — {name}").as_bytes(),
                )),
                powers,
                max_delegation_depth: 1,
                valid_until: crate::clock::now() + Duration::days(365),
            },
            "demo-operator",
        )
        .await?;
    }
    let representative = demo_wallet(data_dir, "demo-wallets", siren)?;
    let identity = Identity {
        issuer: "urn:demo:proconnect".into(),
        subject: format!("demo-representative-{siren}"),
        given_name: "Démo".into(),
        usual_name: format!("Représentant {siren}"),
        email,
        uid: None,
        siret: siret.to_owned(),
        idp_id: "demo".into(),
        organization_label: Some(name.to_owned()),
        roles: Vec::new(),
        acr: if covered {
            ACR_CERTIFIED_OFFICER.to_owned()
        } else {
            "https://proconnect.gouv.fr/assurance/consistency-checked".to_owned()
        },
        amr: Vec::new(),
        auth_time: None,
        id_token_sha256: hex::encode(Sha256::digest(format!("demo sign-in {siren}").as_bytes())),
    };
    let outcome = mandates::issue_after_sign_in(trust, &identity, representative.did()).await?;
    let (challenge, _) = trust.new_challenge().await?;
    let presentation = representative.present(
        &outcome.credentials,
        Some(&challenge),
        Some(trust.public_url()),
    )?;
    let connector = demo_wallet(data_dir, "demo-connectors", siren)?;
    participants::register(trust, &presentation, &[connector.public_jwk()]).await?;
    let mandate = outcome
        .credentials
        .iter()
        .find(|c| {
            c.get("type")
                .and_then(|t| t.as_array())
                .is_some_and(|t| t.iter().any(|t| t == "MandateCredential"))
        })
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no mandate was issued for {siren}"))?;
    Ok(DemoParty {
        siren: siren.to_owned(),
        siret: siret.to_owned(),
        representative,
        mandate,
        connector,
    })
}

/// Register every active demo organisation.
async fn seed_participants(state: &AppState, data_dir: &Path) -> anyhow::Result<Vec<DemoParty>> {
    let mut parties = Vec::new();
    for (siret, name, category, active) in ORGANISATIONS {
        if *active {
            parties.push(enrol(state, data_dir, siret, name, category, None).await?);
        }
    }
    Ok(parties)
}

/// Anchor a few committee documents.
async fn seed_governance(state: &AppState) -> Result<u64, JournalError> {
    let now = crate::clock::now();
    let records = [
        (
            GovernanceKind::Deliberation,
            "CTD deliberation 2026-01: adoption of the data-space charter",
            "CTD-2026-01",
            120,
        ),
        (
            GovernanceKind::Minutes,
            "Minutes of the CTD meeting of 12 March 2026",
            "CTD-PV-2026-03-12",
            90,
        ),
        (
            GovernanceKind::OperatorDecision,
            "Operator decision: clearing-house tariffs for 2026",
            "OP-2026-007",
            60,
        ),
        (
            GovernanceKind::Notice,
            "Notice to participants: witness network opened to partner data spaces",
            "NOTICE-2026-02",
            30,
        ),
    ];
    let mut written = 0;
    for (kind, title, reference, days_ago) in records {
        let document = format!("{title} ({reference})");
        let body = GovernanceRecorded {
            kind,
            title: title.to_owned(),
            document_sha256: hex::encode(Sha256::digest(document.as_bytes())),
            reference: Some(reference.to_owned()),
            recorded_by: "demo-operator".to_owned(),
            anchors_version: state.trust.anchors_version(),
        };
        state
            .journal
            .append(now - Duration::days(days_ago), &body)
            .await?;
        written += 1;
    }
    Ok(written)
}
