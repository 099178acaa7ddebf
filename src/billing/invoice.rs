//! EN 16931 invoices and credit notes rendered as UBL 2.1 XML (CEN core, no CIUS).
//!
//! The output targets the CEN UBL validation artefacts (`CustomizationID`
//! `urn:cen.eu:en16931:2017`) and carries what Chorus Pro needs for a public buyer.
//! Every amount is an `i64` of cents and every rate an `u32` of basis points; nothing
//! here uses floating point.
//!
//! Mapping (EN 16931 business term → UBL element):
//!
//! | BT / BG | meaning | UBL |
//! |---|---|---|
//! | BT-24 | specification identifier | `cbc:CustomizationID` = `urn:cen.eu:en16931:2017` |
//! | BT-1, BT-2 | number, issue date | `cbc:ID`, `cbc:IssueDate` |
//! | BT-9 | payment due date | invoice: `cbc:DueDate`; credit note: written into BT-20 (UBL 2.1 `CreditNote` has no `cbc:DueDate`) |
//! | BT-3 | type code | `cbc:InvoiceTypeCode` 380 / `cbc:CreditNoteTypeCode` 381 |
//! | BT-22 | note | `cbc:Note` |
//! | BT-5 | currency | `cbc:DocumentCurrencyCode`, and `@currencyID` on every amount |
//! | BT-10 | buyer reference: Chorus Pro "code service" (service exécutant) | `cbc:BuyerReference` |
//! | BG-14 (BT-73, BT-74) | invoicing period | `cac:InvoicePeriod/cbc:StartDate`, `cbc:EndDate` |
//! | BT-13 | purchase order reference: Chorus Pro "numéro d'engagement" (engagement juridique) | `cac:OrderReference/cbc:ID` |
//! | BG-3 / BT-25 | preceding invoice (required here for a credit note) | `cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID` |
//! | BT-34 / BT-49 | electronic address | `cbc:EndpointID`, SIRET with `@schemeID="0009"`, else SIREN with `"0002"` |
//! | BT-29 / BT-46 | seller / buyer identifier: SIRET | `cac:PartyIdentification/cbc:ID @schemeID="0009"` |
//! | BT-35, BT-37, BT-38, BT-40 (BT-50, BT-52, BT-53, BT-55) | postal address | `cac:PostalAddress/cbc:StreetName`, `cbc:CityName`, `cbc:PostalZone`, `cac:Country/cbc:IdentificationCode` |
//! | BT-31 / BT-48 | VAT identifier | `cac:PartyTaxScheme/cbc:CompanyID` + `cac:TaxScheme/cbc:ID` = `VAT` |
//! | BT-27 / BT-44 | legal name | `cac:PartyLegalEntity/cbc:RegistrationName` |
//! | BT-30 / BT-47 | legal registration identifier: SIREN | `cac:PartyLegalEntity/cbc:CompanyID @schemeID="0002"` |
//! | BT-20 | payment terms | `cac:PaymentTerms/cbc:Note` |
//! | BT-110 | total VAT | `cac:TaxTotal/cbc:TaxAmount` |
//! | BG-23 (BT-116..BT-121) | VAT breakdown per (category, rate) | `cac:TaxSubtotal`: `cbc:TaxableAmount`, `cbc:TaxAmount`, `cac:TaxCategory/cbc:ID`, `cbc:Percent`, `cbc:TaxExemptionReasonCode`, `cbc:TaxExemptionReason` |
//! | BT-106, BT-109, BT-112, BT-115 | totals | `cac:LegalMonetaryTotal/cbc:LineExtensionAmount`, `cbc:TaxExclusiveAmount`, `cbc:TaxInclusiveAmount`, `cbc:PayableAmount` |
//! | BG-25 (BT-126, BT-129, BT-131) | line id, quantity, net amount | `cac:InvoiceLine` / `cac:CreditNoteLine`: `cbc:ID`, `cbc:InvoicedQuantity` / `cbc:CreditedQuantity` (`@unitCode="C62"`), `cbc:LineExtensionAmount` |
//! | BT-153, BT-151, BT-152 | item name, VAT category, rate | `cac:Item/cbc:Name`, `cac:Item/cac:ClassifiedTaxCategory/cbc:ID`, `cbc:Percent` |
//! | BT-146 | item net price | `cac:Price/cbc:PriceAmount` |
//!
//! SIREN is the legal registration (BT-30/BT-47, ICD 0002) as EN 16931 defines it and as
//! the French CIUS uses it; the SIRET (ICD 0009) is the establishment, which Chorus Pro
//! routes on, so it goes in the party identifier and the electronic address. Older
//! Factur-X guidance for Chorus Pro put the public buyer's SIRET in BT-47 instead: a
//! receiver that insists on that needs BT-47 switched, nothing else.
//!
//! VAT categories: a line with an exemption is `E` at 0 %, any other line is `S` at its
//! rate. The VAT of each breakdown group is computed once on the group's taxable amount
//! (not per line), rounded half away from zero to the cent, which is half-up for the
//! positive amounts of ordinary invoices and symmetric for negative lines.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};

/// BT-24 for the CEN core specification without any CIUS.
pub const CUSTOMIZATION_ID: &str = "urn:cen.eu:en16931:2017";
/// ISO 6523 ICD of the French SIRENE register for a SIREN (legal unit).
const ICD_SIREN: &str = "0002";
/// ISO 6523 ICD for a SIRET (establishment), the identifier Chorus Pro routes on.
const ICD_SIRET: &str = "0009";
/// UN/ECE Recommendation 20 code "one": the quantities are whole units.
const UNIT_ONE: &str = "C62";
const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub line: String,
    pub city: String,
    pub postcode: String,
    /// ISO 3166-1 alpha-2, e.g. "FR".
    pub country_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// 9 digits.
    pub siren: String,
    /// 14 digits; for a public buyer, Chorus Pro needs it.
    pub siret: Option<String>,
    /// e.g. FR + key + SIREN.
    pub vat_id: Option<String>,
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub description: String,
    /// Whole units.
    pub quantity: i64,
    pub unit_price_cents: i64,
    /// Must equal `quantity * unit_price_cents`.
    pub net_cents: i64,
    /// 0 with an exemption, else the rate (2000 = 20 %).
    pub vat_bp: u32,
    /// (VATEX code, reason text) when the line is exempt.
    pub vat_exemption: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    /// Invoicing period (start, end).
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// ISO 4217, e.g. "EUR".
    pub currency: String,
    pub seller: Party,
    pub buyer: Party,
    /// BT-10, Chorus Pro "code service".
    pub buyer_reference: Option<String>,
    /// BT-13, Chorus Pro "numéro d'engagement".
    pub order_reference: Option<String>,
    /// BT-25, for a credit note the invoice it corrects.
    pub preceding_invoice: Option<String>,
    pub note: Option<String>,
    /// BT-20. Added because BR-CO-25 wants a due date or payment terms whenever an
    /// amount is due, and a UBL credit note can only carry the due date as terms.
    pub payment_terms: Option<String>,
    pub lines: Vec<Line>,
}

/// Renders `document` as a UBL 2.1 `Invoice` or `CreditNote`.
///
/// Every check is done before any XML is written, so no partial document exists.
///
/// # Errors
///
/// A message naming the first problem found: no lines, a net amount that is not
/// quantity × unit price, an exempt line without code or reason, a 0 % line without an
/// exemption, a malformed SIREN/SIRET/VAT id, a missing seller VAT id, a credit note
/// without its preceding invoice, an amount due without due date or terms, a
/// character XML cannot carry, or an arithmetic overflow.
pub fn to_ubl(document: &Document) -> Result<String, String> {
    let totals = compute(document)?;
    Ok(render(document, &totals))
}

/// VAT category of a line or a breakdown group (UNCL 5305 subset used here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    /// Exempt from VAT.
    E,
    /// Standard rate.
    S,
}

impl Category {
    fn code(self) -> &'static str {
        match self {
            Category::E => "E",
            Category::S => "S",
        }
    }
}

struct Group<'a> {
    taxable_cents: i64,
    vat_cents: i64,
    exemption: Option<&'a (String, String)>,
}

struct Totals<'a> {
    /// Keyed by (category, rate) so the breakdown comes out in a stable order.
    groups: BTreeMap<(Category, u32), Group<'a>>,
    line_total: i64,
    vat_total: i64,
    with_vat: i64,
}

fn compute(d: &Document) -> Result<Totals<'_>, String> {
    check_text("document number (BT-1)", &d.number, true)?;
    if d.currency.len() != 3 || !d.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("currency {:?} is not an ISO 4217 code", d.currency));
    }
    check_date("issue date", d.issue_date)?;
    if let Some(due) = d.due_date {
        check_date("due date", due)?;
    }
    if let Some((start, end)) = d.period {
        check_date("period start", start)?;
        check_date("period end", end)?;
        // BR-29: the end of the invoicing period may not precede its start.
        if end < start {
            return Err(format!(
                "invoicing period ends ({end}) before it starts ({start})"
            ));
        }
    }
    check_party("seller", &d.seller)?;
    check_party("buyer", &d.buyer)?;
    for (what, value) in [
        ("buyer reference (BT-10)", &d.buyer_reference),
        ("order reference (BT-13)", &d.order_reference),
        ("preceding invoice (BT-25)", &d.preceding_invoice),
        ("note (BT-22)", &d.note),
        ("payment terms (BT-20)", &d.payment_terms),
    ] {
        if let Some(v) = value {
            check_text(what, v, true)?;
        }
    }
    // A credit note that does not say which invoice it corrects cannot be matched by
    // the buyer (and French law requires the reference on an "avoir").
    if d.kind == DocumentKind::CreditNote && d.preceding_invoice.is_none() {
        return Err(
            "a credit note needs the invoice it corrects (preceding_invoice, BT-25)".into(),
        );
    }
    if d.lines.is_empty() {
        return Err("a document needs at least one line (BR-16)".into());
    }

    let mut groups: BTreeMap<(Category, u32), Group<'_>> = BTreeMap::new();
    let mut seen_ids = HashSet::new();
    let mut line_total: i64 = 0;
    for line in &d.lines {
        let category = check_line(line)?;
        if !seen_ids.insert(line.id.as_str()) {
            return Err(format!("line id {:?} is used twice", line.id));
        }
        line_total = line_total
            .checked_add(line.net_cents)
            .ok_or("sum of line amounts overflows")?;
        let group = groups.entry((category, line.vat_bp)).or_insert(Group {
            taxable_cents: 0,
            vat_cents: 0,
            exemption: line.vat_exemption.as_ref(),
        });
        // BR-E-01 allows one exempt breakdown group, and the group carries a single
        // reason (BT-120/BT-121): exempt lines with different reasons cannot be expressed.
        if group.exemption != line.vat_exemption.as_ref() {
            return Err(format!(
                "line {:?}: its exemption differs from another exempt line's; one document can carry one exemption reason",
                line.id
            ));
        }
        group.taxable_cents = group
            .taxable_cents
            .checked_add(line.net_cents)
            .ok_or("sum of taxable amounts overflows")?;
    }

    // BR-S-02 / BR-E-02: standard-rated and exempt lines both need the seller's VAT id.
    if d.seller.vat_id.is_none() {
        return Err(
            "seller VAT identifier (BT-31) is required for standard-rated or exempt lines".into(),
        );
    }

    let mut vat_total: i64 = 0;
    for (&(_, bp), group) in &mut groups {
        group.vat_cents = vat_of(group.taxable_cents, bp)?;
        vat_total = vat_total
            .checked_add(group.vat_cents)
            .ok_or("VAT total overflows")?;
    }
    // No document-level allowances, charges or prepayments: BT-109 = BT-106 and
    // BT-115 = BT-112.
    let with_vat = line_total
        .checked_add(vat_total)
        .ok_or("total with VAT overflows")?;

    // BR-CO-25: an amount due needs a due date or payment terms.
    if with_vat > 0 && d.due_date.is_none() && d.payment_terms.is_none() {
        return Err(
            "an amount is due: give a due date (BT-9) or payment terms (BT-20) (BR-CO-25)".into(),
        );
    }
    Ok(Totals {
        groups,
        line_total,
        vat_total,
        with_vat,
    })
}

fn check_line(line: &Line) -> Result<Category, String> {
    check_text("line id (BT-126)", &line.id, true)?;
    let at = format!("line {:?}", line.id);
    check_text(
        &format!("{at} description (BT-153)"),
        &line.description,
        true,
    )?;
    // BR-27: the item net price may not be negative; a refund is a credit note.
    if line.unit_price_cents < 0 {
        return Err(format!("{at}: unit price is negative (BR-27)"));
    }
    let expected = line
        .quantity
        .checked_mul(line.unit_price_cents)
        .ok_or_else(|| format!("{at}: quantity * unit price overflows"))?;
    if line.net_cents != expected {
        return Err(format!(
            "{at}: net amount {} is not quantity {} * unit price {} = {}",
            cents(line.net_cents),
            line.quantity,
            cents(line.unit_price_cents),
            cents(expected)
        ));
    }
    match &line.vat_exemption {
        Some((code, reason)) => {
            check_text(&format!("{at} exemption reason code (BT-121)"), code, true)?;
            if code.contains(char::is_whitespace) {
                return Err(format!("{at}: exemption code {code:?} contains a space"));
            }
            check_text(&format!("{at} exemption reason (BT-120)"), reason, true)?;
            // BR-E-05: an exempt line is at 0 %.
            if line.vat_bp != 0 {
                return Err(format!(
                    "{at}: an exempt line must have a 0 % rate, not {}",
                    percent(line.vat_bp)
                ));
            }
            Ok(Category::E)
        }
        None if line.vat_bp == 0 => Err(format!(
            "{at}: 0 % VAT needs an exemption (VATEX code and reason text)"
        )),
        // No VAT rate exceeds 100 %: such a value is a units mistake, not a rate.
        None if line.vat_bp > 10_000 => {
            Err(format!("{at}: VAT rate {} bp is above 100 %", line.vat_bp))
        }
        None => Ok(Category::S),
    }
}

fn check_party(role: &str, p: &Party) -> Result<(), String> {
    check_text(&format!("{role} name"), &p.name, true)?;
    if !is_digits(&p.siren, 9) {
        return Err(format!("{role} SIREN {:?} is not 9 digits", p.siren));
    }
    if let Some(siret) = &p.siret {
        // A SIRET is the SIREN followed by a 5-digit establishment number (NIC).
        if !is_digits(siret, 14) || !siret.starts_with(&p.siren) {
            return Err(format!(
                "{role} SIRET {siret:?} is not 14 digits starting with its SIREN"
            ));
        }
    }
    if let Some(vat) = &p.vat_id {
        check_text(&format!("{role} VAT identifier"), vat, true)?;
        // BR-CO-09: a VAT identifier starts with the ISO country prefix.
        let prefix = vat.get(..2).unwrap_or_default();
        if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "{role} VAT identifier {vat:?} lacks its country prefix"
            ));
        }
    }
    let a = &p.address;
    check_text(&format!("{role} address line"), &a.line, false)?;
    check_text(&format!("{role} city"), &a.city, false)?;
    check_text(&format!("{role} postcode"), &a.postcode, false)?;
    if a.country_code.len() != 2 || !a.country_code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "{role} country code {:?} is not ISO 3166-1 alpha-2",
            a.country_code
        ));
    }
    Ok(())
}

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Rejects what XML 1.0 cannot carry (most control characters), and blank values
/// where the element is mandatory or would otherwise be emitted empty.
fn check_text(what: &str, value: &str, required: bool) -> Result<(), String> {
    if required && value.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    match value
        .chars()
        .find(|&c| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}'))
    {
        Some(c) => Err(format!("{what} contains the character U+{:04X}, which XML cannot carry", c as u32)),
        None => Ok(()),
    }
}

fn check_date(what: &str, date: NaiveDate) -> Result<(), String> {
    // xs:date needs a four-digit year for the plain YYYY-MM-DD form written here.
    if (1..=9999).contains(&date.year()) {
        Ok(())
    } else {
        Err(format!("{what} has a year outside 1..=9999"))
    }
}

/// VAT in cents of `taxable_cents` at `bp` basis points, rounded half away from zero.
fn vat_of(taxable_cents: i64, bp: u32) -> Result<i64, String> {
    let product = i128::from(taxable_cents) * i128::from(bp);
    let mut vat = product / 10_000;
    // The remainder has the sign of the product; twice its size reaching the divisor
    // means the fraction is at least one half.
    if (product % 10_000).abs() * 2 >= 10_000 {
        vat += product.signum();
    }
    i64::try_from(vat).map_err(|_| "VAT amount overflows".to_string())
}

fn cents(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn percent(bp: u32) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

fn iso_date(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// Escapes the five XML special characters; the same output is safe in text and in
/// double- or single-quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Preserved CR would be normalised away by any parser; keep it visible.
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// Minimal indented writer. Element names are static and trusted; text and attribute
/// values always go through `escape`.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            self.out.push_str(&escape(value));
            self.out.push('"');
        }
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_with(name, &[], text);
    }

    fn amount(&mut self, name: &str, currency: &str, value: i64) {
        self.leaf_with(name, &[("currencyID", currency)], &cents(value));
    }

    fn tax_scheme_vat(&mut self) {
        self.open("cac:TaxScheme");
        self.leaf("cbc:ID", "VAT");
        self.close("cac:TaxScheme");
    }
}

fn render(d: &Document, t: &Totals<'_>) -> String {
    let (root, ns, type_element, type_code, line_element, quantity_element) = match d.kind {
        DocumentKind::Invoice => (
            "Invoice",
            NS_INVOICE,
            "cbc:InvoiceTypeCode",
            "380",
            "cac:InvoiceLine",
            "cbc:InvoicedQuantity",
        ),
        DocumentKind::CreditNote => (
            "CreditNote",
            NS_CREDIT_NOTE,
            "cbc:CreditNoteTypeCode",
            "381",
            "cac:CreditNoteLine",
            "cbc:CreditedQuantity",
        ),
    };
    let cur = d.currency.as_str();
    let mut x = Xml {
        out: String::with_capacity(4096 + 1024 * d.lines.len()),
        depth: 0,
    };
    x.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    for piece in [
        "<",
        root,
        " xmlns=\"",
        ns,
        "\" xmlns:cac=\"",
        NS_CAC,
        "\" xmlns:cbc=\"",
        NS_CBC,
        "\">\n",
    ] {
        x.out.push_str(piece);
    }
    x.depth = 1;

    // Element order follows the UBL 2.1 schema sequence, which differs slightly
    // between Invoice and CreditNote (no cbc:DueDate in the latter).
    x.leaf("cbc:CustomizationID", CUSTOMIZATION_ID);
    x.leaf("cbc:ID", &d.number);
    x.leaf("cbc:IssueDate", &iso_date(d.issue_date));
    if d.kind == DocumentKind::Invoice
        && let Some(due) = d.due_date
    {
        x.leaf("cbc:DueDate", &iso_date(due));
    }
    x.leaf(type_element, type_code);
    if let Some(note) = &d.note {
        x.leaf("cbc:Note", note);
    }
    x.leaf("cbc:DocumentCurrencyCode", cur);
    if let Some(reference) = &d.buyer_reference {
        x.leaf("cbc:BuyerReference", reference);
    }
    if let Some((start, end)) = d.period {
        x.open("cac:InvoicePeriod");
        x.leaf("cbc:StartDate", &iso_date(start));
        x.leaf("cbc:EndDate", &iso_date(end));
        x.close("cac:InvoicePeriod");
    }
    if let Some(order) = &d.order_reference {
        x.open("cac:OrderReference");
        x.leaf("cbc:ID", order);
        x.close("cac:OrderReference");
    }
    if let Some(preceding) = &d.preceding_invoice {
        x.open("cac:BillingReference");
        x.open("cac:InvoiceDocumentReference");
        x.leaf("cbc:ID", preceding);
        x.close("cac:InvoiceDocumentReference");
        x.close("cac:BillingReference");
    }

    x.open("cac:AccountingSupplierParty");
    party(&mut x, &d.seller);
    x.close("cac:AccountingSupplierParty");
    x.open("cac:AccountingCustomerParty");
    party(&mut x, &d.buyer);
    x.close("cac:AccountingCustomerParty");

    let terms = match (d.kind, &d.payment_terms, d.due_date) {
        (_, Some(terms), _) => Some(terms.clone()),
        // The credit note's only place for BT-9 in CEN UBL without payment means.
        (DocumentKind::CreditNote, None, Some(due)) => Some(format!("Due date: {}", iso_date(due))),
        _ => None,
    };
    if let Some(terms) = terms {
        x.open("cac:PaymentTerms");
        x.leaf("cbc:Note", &terms);
        x.close("cac:PaymentTerms");
    }

    totals(&mut x, cur, t);

    for line in &d.lines {
        invoice_line(&mut x, cur, line, line_element, quantity_element);
    }

    x.close(root);
    x.out
}

/// BG-23 VAT breakdown with BT-110, then BG-22 document totals.
fn totals(x: &mut Xml, cur: &str, t: &Totals<'_>) {
    x.open("cac:TaxTotal");
    x.amount("cbc:TaxAmount", cur, t.vat_total);
    for (&(category, bp), group) in &t.groups {
        x.open("cac:TaxSubtotal");
        x.amount("cbc:TaxableAmount", cur, group.taxable_cents);
        x.amount("cbc:TaxAmount", cur, group.vat_cents);
        x.open("cac:TaxCategory");
        x.leaf("cbc:ID", category.code());
        x.leaf("cbc:Percent", &percent(bp));
        if let Some((code, reason)) = group.exemption {
            x.leaf("cbc:TaxExemptionReasonCode", code);
            x.leaf("cbc:TaxExemptionReason", reason);
        }
        x.tax_scheme_vat();
        x.close("cac:TaxCategory");
        x.close("cac:TaxSubtotal");
    }
    x.close("cac:TaxTotal");

    x.open("cac:LegalMonetaryTotal");
    x.amount("cbc:LineExtensionAmount", cur, t.line_total);
    x.amount("cbc:TaxExclusiveAmount", cur, t.line_total);
    x.amount("cbc:TaxInclusiveAmount", cur, t.with_vat);
    x.amount("cbc:PayableAmount", cur, t.with_vat);
    x.close("cac:LegalMonetaryTotal");
}

/// One BG-25 line; the category is re-derived the same way `check_line` derived it.
fn invoice_line(x: &mut Xml, cur: &str, line: &Line, line_element: &str, quantity_element: &str) {
    let category = if line.vat_exemption.is_some() {
        Category::E
    } else {
        Category::S
    };
    x.open(line_element);
    x.leaf("cbc:ID", &line.id);
    x.leaf_with(
        quantity_element,
        &[("unitCode", UNIT_ONE)],
        &line.quantity.to_string(),
    );
    x.amount("cbc:LineExtensionAmount", cur, line.net_cents);
    x.open("cac:Item");
    x.leaf("cbc:Name", &line.description);
    x.open("cac:ClassifiedTaxCategory");
    x.leaf("cbc:ID", category.code());
    x.leaf("cbc:Percent", &percent(line.vat_bp));
    x.tax_scheme_vat();
    x.close("cac:ClassifiedTaxCategory");
    x.close("cac:Item");
    x.open("cac:Price");
    x.amount("cbc:PriceAmount", cur, line.unit_price_cents);
    x.close("cac:Price");
    x.close(line_element);
}

fn party(x: &mut Xml, p: &Party) {
    x.open("cac:Party");
    // BT-34/BT-49: Chorus Pro and Peppol address French entities by SIRET when known.
    match &p.siret {
        Some(siret) => x.leaf_with("cbc:EndpointID", &[("schemeID", ICD_SIRET)], siret),
        None => x.leaf_with("cbc:EndpointID", &[("schemeID", ICD_SIREN)], &p.siren),
    }
    if let Some(siret) = &p.siret {
        x.open("cac:PartyIdentification");
        x.leaf_with("cbc:ID", &[("schemeID", ICD_SIRET)], siret);
        x.close("cac:PartyIdentification");
    }
    x.open("cac:PostalAddress");
    // Optional address parts are left out rather than written empty.
    let a = &p.address;
    for (element, value) in [
        ("cbc:StreetName", &a.line),
        ("cbc:CityName", &a.city),
        ("cbc:PostalZone", &a.postcode),
    ] {
        if !value.trim().is_empty() {
            x.leaf(element, value);
        }
    }
    x.open("cac:Country");
    x.leaf("cbc:IdentificationCode", &a.country_code);
    x.close("cac:Country");
    x.close("cac:PostalAddress");
    if let Some(vat) = &p.vat_id {
        x.open("cac:PartyTaxScheme");
        x.leaf("cbc:CompanyID", vat);
        x.tax_scheme_vat();
        x.close("cac:PartyTaxScheme");
    }
    x.open("cac:PartyLegalEntity");
    x.leaf("cbc:RegistrationName", &p.name);
    x.leaf_with("cbc:CompanyID", &[("schemeID", ICD_SIREN)], &p.siren);
    x.close("cac:PartyLegalEntity");
    x.close("cac:Party");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_rounds_half_away_from_zero_in_integers() {
        assert_eq!(vat_of(103_333, 2000), Ok(20_667)); // 206.666 -> 206.67
        assert_eq!(vat_of(25, 2000), Ok(5)); // exact
        assert_eq!(vat_of(10, 5000), Ok(5)); // exact
        assert_eq!(vat_of(1, 5000), Ok(1)); // 0.5 cent -> 1
        assert_eq!(vat_of(3, 5000), Ok(2)); // 1.5 cents -> 2
        assert_eq!(vat_of(-3, 5000), Ok(-2)); // symmetric
        assert_eq!(vat_of(1, 4999), Ok(0)); // 0.4999 cent -> 0
        assert_eq!(vat_of(999, 550), Ok(55)); // 54.945 -> 55
        assert_eq!(vat_of(0, 2000), Ok(0));
        assert_eq!(vat_of(i64::MAX, 10_000), Ok(i64::MAX));
    }

    #[test]
    fn formats_amounts_and_rates() {
        assert_eq!(cents(0), "0.00");
        assert_eq!(cents(5), "0.05");
        assert_eq!(cents(-50), "-0.50");
        assert_eq!(cents(123_456), "1234.56");
        assert_eq!(cents(i64::MIN), "-92233720368547758.08");
        assert_eq!(percent(2000), "20.00");
        assert_eq!(percent(550), "5.50");
        assert_eq!(percent(210), "2.10");
        assert_eq!(percent(0), "0.00");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"A&B <c> "d" 'e'"#),
            "A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;"
        );
        assert_eq!(escape("Société Générale"), "Société Générale");
    }
}
