//! Invoices and credit notes from statements, read back by an independent EN 16931
//! implementation (`en16931-formats`): syntax, UBL binding and the business rules of the
//! core specification. A public buyer's documents carry what Chorus Pro routes on.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use clearinghouse::billing::invoicing::{
    AddressConfig, BuyerConfig, BuyerFacts, InvoicingSettings, SellerConfig, documents, ubl,
};
use clearinghouse::billing::statement::{FinancerRow, Line, Statement};
use en16931_formats::{Policy, Recommendation, receive};

fn settings() -> InvoicingSettings {
    InvoicingSettings {
        seller: Some(SellerConfig {
            name: "Plateforme régionale des données".into(),
            siren: "732829320".into(),
            siret: Some("73282932000074".into()),
            vat_id: "FR44732829320".into(),
            address: AddressConfig {
                line: "1 place de la Donnée".into(),
                city: "Lyon".into(),
                postcode: "69002".into(),
                country_code: "FR".into(),
            },
        }),
        payment_days: 30,
        prefix: "CH".into(),
        buyers: vec![BuyerConfig {
            siren: "200046977".into(),
            code_service: Some("SERV-NUMERIQUE".into()),
            engagement: Some("EJ-2026-000123".into()),
            address: None,
        }],
    }
}

fn line(kind: &str, n: u32, gross: i64, financed: i64, vat_bp: u32) -> Line {
    Line {
        kind: kind.into(),
        transfer_id: Some(format!("urn:uuid:00000000-0000-4000-8000-00000000000{n}")),
        contract: Some("https://data.example.fr/contracts/1".into()),
        target: "https://data.example.fr/dataset/budget".into(),
        time: "2026-11-12T10:00:00.000Z".into(),
        bytes: 1_048_576,
        records: 1000,
        receipt_index: Some(u64::from(n)),
        tariff: Some("platform-2026@1".into()),
        unit_prices: BTreeMap::new(),
        vat_bp,
        vat_exemption: (vat_bp == 0)
            .then(|| ("VATEX-EU-132".into(), "Exonération, CGI art. 261".into())),
        gross_cents: gross,
        note: "per transfer + per GB".into(),
        financers: if financed == 0 {
            Vec::new()
        } else {
            vec![FinancerRow {
                rule: "region-2026@1".into(),
                financer: "Région".into(),
                siren: Some("200053767".into()),
                kind: "region".into(),
                instrument: "Subvention".into(),
                rate_bp: 5000,
                amount_cents: financed,
                envelope_left_cents: 100_000,
            }]
        },
        participant_cents: gross - financed,
        credit_id: (kind == "credit").then(|| "urn:uuid:credit".into()),
        corrected_period: (kind == "credit").then(|| "2026-10".into()),
    }
}

fn statement(lines: Vec<Line>) -> Statement {
    Statement {
        siren: "200046977".into(),
        class: "public-body".into(),
        period: "2026-11".into(),
        gross_cents: lines.iter().map(|l| l.gross_cents).sum(),
        financed_cents: BTreeMap::new(),
        participant_cents: lines.iter().map(|l| l.participant_cents).sum(),
        lines,
    }
}

fn buyer() -> BuyerFacts {
    BuyerFacts {
        siren: "200046977".into(),
        siret: "20004697700019".into(),
        legal_name: "METROPOLE DE LYON".into(),
    }
}

fn accepted(xml: &str) {
    let received = receive(xml.as_bytes(), &Policy::default());
    assert_eq!(
        received.recommendation,
        Recommendation::Accept,
        "{received}\n{xml}"
    );
}

#[test]
fn invoices_and_credit_notes_pass_the_en16931_rules() {
    let lines = vec![
        line("transfer", 1, 176, 88, 2000),
        line("transfer", 2, 1333, 0, 2000),
        line("subscription", 3, 3000, 1500, 2000),
        line("transfer", 4, 500, 0, 0),
        // Nothing owed: not invoiced.
        line("transfer", 5, 0, 0, 2000),
        line("credit", 6, -176, -88, 2000),
    ];
    let docs = documents(&settings(), &statement(lines), &buyer()).unwrap();
    assert_eq!(docs.len(), 2, "one invoice and one credit note");
    let invoice = ubl(&docs[0]).unwrap();
    assert_eq!(docs[0].number, "CH-2026-11-200046977");
    assert_eq!(docs[0].lines.len(), 4);
    accepted(&invoice);
    // Chorus Pro: code service, engagement and the buyer's SIRET.
    assert!(invoice.contains("<cbc:BuyerReference>SERV-NUMERIQUE</cbc:BuyerReference>"));
    assert!(invoice.contains("EJ-2026-000123"));
    assert!(invoice.contains(">20004697700019<"));
    // VAT per line: 20 % lines and an exempt one with its reason.
    assert!(invoice.contains("VATEX-EU-132"), "{invoice}");
    assert!(invoice.contains("<cbc:ID>E</cbc:ID>") && invoice.contains("<cbc:ID>S</cbc:ID>"));

    let credit = ubl(&docs[1]).unwrap();
    assert_eq!(docs[1].number, "CH-2026-11-200046977-AV-2026-10");
    assert_eq!(
        docs[1].preceding_invoice.as_deref(),
        Some("CH-2026-10-200046977")
    );
    assert!(credit.contains("<CreditNote"), "{credit}");
    assert!(credit.contains("CH-2026-10-200046977"));
    accepted(&credit);
}

#[test]
fn a_tampered_total_is_rejected() {
    let docs = documents(
        &settings(),
        &statement(vec![line("transfer", 1, 1000, 0, 2000)]),
        &buyer(),
    )
    .unwrap();
    let xml = ubl(&docs[0]).unwrap();
    let payable = "<cbc:PayableAmount currencyID=\"EUR\">12.00</cbc:PayableAmount>";
    assert!(xml.contains(payable), "{xml}");
    let tampered = xml.replace(
        payable,
        "<cbc:PayableAmount currencyID=\"EUR\">12.01</cbc:PayableAmount>",
    );
    let received = receive(tampered.as_bytes(), &Policy::default());
    assert_eq!(
        received.recommendation,
        Recommendation::Reject,
        "{received}"
    );
}

#[test]
fn no_seller_no_invoice() {
    let mut settings = settings();
    settings.seller = None;
    let error = documents(
        &settings,
        &statement(vec![line("transfer", 1, 1000, 0, 2000)]),
        &buyer(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("[invoicing.seller]"), "{error}");
}
