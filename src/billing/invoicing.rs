//! Invoices and credit notes for what a participant owes, from its statement.
//!
//! Only the participant's own charge is invoiced (financers' shares are claimed with the
//! financing report, not invoiced). One invoice per participant and period for its
//! positive lines; one credit note per corrected period for its credit lines, referring to
//! that period's invoice. Numbers and dates follow from the statement alone, so the same
//! statement always gives the same documents: `<prefix>-<period>-<SIREN>` for invoices,
//! `<prefix>-<period>-<SIREN>-AV-<corrected period>` for credit notes, issued on the
//! period's last day.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::BillingError;
use super::invoice::{Address, Document, DocumentKind, Line as InvoiceLine, Party, to_ubl};
use super::money::format_cents;
use super::statement::{Line, Month, Statement};

/// A postal address in the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AddressConfig {
    pub line: String,
    pub city: String,
    pub postcode: String,
    /// ISO 3166-1 alpha-2; `FR` when left out.
    pub country_code: String,
}

/// The operator, as the seller on invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerConfig {
    pub name: String,
    pub siren: String,
    #[serde(default)]
    pub siret: Option<String>,
    /// Intra-community VAT number (`FR` + key + SIREN).
    pub vat_id: String,
    #[serde(default)]
    pub address: AddressConfig,
}

/// What a buyer's accounts payable need on its invoices (public buyers on Chorus Pro).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyerConfig {
    pub siren: String,
    /// Chorus Pro "code service" (BT-10).
    #[serde(default)]
    pub code_service: Option<String>,
    /// Chorus Pro "numéro d'engagement" (BT-13).
    #[serde(default)]
    pub engagement: Option<String>,
    #[serde(default)]
    pub address: Option<AddressConfig>,
}

/// `[invoicing]`: who issues invoices and what buyers need on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InvoicingSettings {
    /// The seller; invoices are refused until it is configured.
    pub seller: Option<SellerConfig>,
    /// Days from issue to payment due.
    pub payment_days: u32,
    /// Invoice number prefix.
    pub prefix: String,
    #[serde(rename = "buyers")]
    pub buyers: Vec<BuyerConfig>,
}

impl Default for InvoicingSettings {
    fn default() -> Self {
        InvoicingSettings {
            seller: None,
            payment_days: 30,
            prefix: "CH".into(),
            buyers: Vec::new(),
        }
    }
}

/// The buyer as the participant registry knows it.
#[derive(Debug, Clone)]
pub struct BuyerFacts {
    pub siren: String,
    pub siret: String,
    pub legal_name: String,
}

fn address(config: Option<&AddressConfig>) -> Address {
    let config = config.cloned().unwrap_or_default();
    Address {
        line: config.line,
        city: config.city,
        postcode: config.postcode,
        country_code: if config.country_code.is_empty() {
            "FR".into()
        } else {
            config.country_code
        },
    }
}

/// The last day of a month.
fn last_day(period: Month) -> NaiveDate {
    (period.end_exclusive() - Duration::days(1)).date_naive()
}

fn first_day(period: Month) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(period.year, period.month, 1)
}

fn describe(line: &Line) -> String {
    let financed: i64 = line.financers.iter().map(|r| r.amount_cents).sum();
    let what = match line.kind.as_str() {
        "subscription" => "Clearing-house monthly subscription".to_owned(),
        _ => format!(
            "Clearing-house transfer {} of {} ({} bytes, {} records)",
            line.transfer_id.as_deref().unwrap_or("?"),
            line.target,
            line.bytes,
            line.records
        ),
    };
    if financed == 0 {
        what
    } else {
        format!(
            "{what}; gross {} EUR, of which {} EUR covered by public financing",
            format_cents(line.gross_cents.abs()),
            format_cents(financed.abs())
        )
    }
}

fn invoice_line(n: usize, line: &Line, amount: i64) -> InvoiceLine {
    InvoiceLine {
        id: (n + 1).to_string(),
        description: describe(line),
        quantity: 1,
        unit_price_cents: amount,
        net_cents: amount,
        vat_bp: line.vat_bp,
        vat_exemption: line.vat_exemption.clone(),
    }
}

/// The invoice number of a participant's period.
pub fn invoice_number(settings: &InvoicingSettings, period: &str, siren: &str) -> String {
    format!("{}-{period}-{siren}", settings.prefix)
}

/// The documents a statement gives: its invoice (if the participant owes anything) and a
/// credit note per corrected period (if it has credit lines).
pub fn documents(
    settings: &InvoicingSettings,
    statement: &Statement,
    buyer: &BuyerFacts,
) -> Result<Vec<Document>, BillingError> {
    let seller = settings.seller.as_ref().ok_or_else(|| {
        BillingError::Computation(
            "no seller is configured ([invoicing.seller]): invoices cannot be issued".into(),
        )
    })?;
    let period = Month::parse(&statement.period)
        .ok_or_else(|| BillingError::Computation("statement period is not YYYY-MM".into()))?;
    let issue_date = last_day(period);
    let profile = settings.buyers.iter().find(|b| b.siren == buyer.siren);
    let seller_party = Party {
        name: seller.name.clone(),
        siren: seller.siren.clone(),
        siret: seller.siret.clone(),
        vat_id: Some(seller.vat_id.clone()),
        address: address(Some(&seller.address)),
    };
    let buyer_party = Party {
        name: buyer.legal_name.clone(),
        siren: buyer.siren.clone(),
        siret: Some(buyer.siret.clone()),
        vat_id: None,
        address: address(profile.and_then(|p| p.address.as_ref())),
    };
    let due = issue_date + Duration::days(i64::from(settings.payment_days));
    let base = |kind, number: String, lines: Vec<InvoiceLine>, preceding| Document {
        kind,
        number,
        issue_date,
        due_date: Some(due),
        period: first_day(period).map(|first| (first, issue_date)),
        currency: "EUR".into(),
        seller: seller_party.clone(),
        buyer: buyer_party.clone(),
        buyer_reference: profile.and_then(|p| p.code_service.clone()),
        order_reference: profile.and_then(|p| p.engagement.clone()),
        preceding_invoice: preceding,
        note: Some(format!(
            "Statement of {} for SIREN {}: figures recomputable from the clearing house's log",
            statement.period, statement.siren
        )),
        payment_terms: Some(format!(
            "Payment within {} days, by {due}",
            settings.payment_days
        )),
        lines,
    };
    let mut documents = Vec::new();
    let owed: Vec<InvoiceLine> = statement
        .lines
        .iter()
        .filter(|l| l.kind != "credit" && l.participant_cents > 0)
        .enumerate()
        .map(|(n, l)| invoice_line(n, l, l.participant_cents))
        .collect();
    if !owed.is_empty() {
        documents.push(base(
            DocumentKind::Invoice,
            invoice_number(settings, &statement.period, &statement.siren),
            owed,
            None,
        ));
    }
    let mut corrected: Vec<&str> = statement
        .lines
        .iter()
        .filter(|l| l.kind == "credit" && l.participant_cents < 0)
        .filter_map(|l| l.corrected_period.as_deref())
        .collect();
    corrected.sort_unstable();
    corrected.dedup();
    for old in corrected {
        let lines: Vec<InvoiceLine> = statement
            .lines
            .iter()
            .filter(|l| {
                l.kind == "credit"
                    && l.participant_cents < 0
                    && l.corrected_period.as_deref() == Some(old)
            })
            .enumerate()
            .map(|(n, l)| invoice_line(n, l, -l.participant_cents))
            .collect();
        documents.push(base(
            DocumentKind::CreditNote,
            format!(
                "{}-AV-{old}",
                invoice_number(settings, &statement.period, &statement.siren)
            ),
            lines,
            Some(invoice_number(settings, old, &statement.siren)),
        ));
    }
    Ok(documents)
}

/// A document as UBL 2.1 XML.
pub fn ubl(document: &Document) -> Result<String, BillingError> {
    to_ubl(document)
        .map_err(|e| BillingError::Computation(format!("invoice {}: {e}", document.number)))
}
