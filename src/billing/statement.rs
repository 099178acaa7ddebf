//! Usage and cost-allocation statements, computed from log entries only.
//!
//! Rules, so anyone recomputes the same figures from the same entries:
//! - **Periods** are calendar months (UTC). A transfer belongs to the month of its first
//!   receipt's log time (the log's clock, not the connectors').
//! - **One line per transfer**, billed to the contract's assignee (the consumer), with the
//!   consumer's account of bytes and records when it posted one, the provider's otherwise;
//!   a receipt logged after the end of its transfer's month is not taken into account.
//! - **Order**: events are taken month by month (by their log time), in log order within a
//!   month, so a late-stamped entry never makes the computation go back to a month it left.
//! - **Tariff**: the highest version of the tariffs published (logged) before the transfer's
//!   first receipt and in force at its time. Exempt classes pay nothing; the first
//!   `free_transfers_per_period` transfers of a participant in a month are free; otherwise
//!   per transfer + per GB prorated to the byte, rounded half up to the cent.
//! - **Subscription**: one line per month for each participant that transferred in it, at
//!   the tariff of its last transfer (unless exempt), after its transfers.
//! - **Financing**: each line's gross amount is split by [`super::allocate`] between the
//!   rules published before the line, in force, whose ODRL eligibility covers it, listed by
//!   rule id; caps apply per participant and month, envelopes over the rule's whole life,
//!   consumed in log order across all participants.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;

use super::BillingError;
use super::allocate::{Share, allocate};
use super::financing::{FinancingRule, SUBSCRIPTION};
use super::tariff::Tariff;
use crate::entry::{Decoded, Entry};

/// What the entries say, gathered for computing.
#[derive(Debug, Default)]
pub struct Inputs {
    classes: HashMap<String, String>,
    /// Contract id → (assigner SIREN, assignee SIREN).
    contracts: HashMap<String, (String, String)>,
    transfers: HashMap<String, Transfer>,
    tariffs: Vec<(u64, Tariff)>,
    rules: Vec<(u64, FinancingRule)>,
    credits: Vec<Credit>,
}

/// A credit note cancelling an earlier line.
#[derive(Debug, Clone)]
struct Credit {
    index: u64,
    time: DateTime<Utc>,
    id: String,
    siren: String,
    transfer_id: String,
    reason: String,
}

/// What happens at one point of the log, in log order.
enum Event<'a> {
    Transfer(&'a Transfer),
    Credit(&'a Credit),
}

impl Event<'_> {
    fn index(&self) -> u64 {
        match self {
            Event::Transfer(t) => t.first_index,
            Event::Credit(c) => c.index,
        }
    }

    fn time(&self) -> DateTime<Utc> {
        match self {
            Event::Transfer(t) => t.time,
            Event::Credit(c) => c.time,
        }
    }
}

#[derive(Debug, Clone)]
struct Transfer {
    id: String,
    first_index: u64,
    time: DateTime<Utc>,
    contract: String,
    asset: String,
    /// (bytes, records, receipt index) of each side.
    consumer: Option<(u64, u64, u64)>,
    provider: Option<(u64, u64, u64)>,
}

pub(crate) fn siren_of(party: &str) -> String {
    party.strip_prefix("urn:siren:").unwrap_or(party).to_owned()
}

impl Inputs {
    /// Take one entry into account (entries must be added in log order).
    pub fn add(&mut self, index: u64, decoded: &Decoded) -> Result<(), BillingError> {
        let at = decoded.envelope.time;
        match &decoded.entry {
            Entry::ParticipantRegistered(p) => {
                self.classes.insert(p.siren.clone(), p.class.clone());
            }
            Entry::ContractAgreed(c) => {
                self.contracts.insert(
                    c.contract_id.clone(),
                    (siren_of(&c.assigner), siren_of(&c.assignee)),
                );
            }
            Entry::ReceiptRecorded(r) => {
                let transfer = self
                    .transfers
                    .entry(r.transfer_id.clone())
                    .or_insert_with(|| Transfer {
                        id: r.transfer_id.clone(),
                        first_index: index,
                        time: at,
                        contract: r.contract_id.clone(),
                        asset: r.asset.clone(),
                        consumer: None,
                        provider: None,
                    });
                // A receipt logged after its transfer's month is not billed: the month's
                // figures must not change once it has ended (and been closed).
                if Month::of(at) != Month::of(transfer.time) {
                    return Ok(());
                }
                let side = Some((r.bytes, r.records, index));
                if r.role == "consumer" {
                    transfer.consumer = side;
                } else {
                    transfer.provider = side;
                }
            }
            Entry::TariffPublished(t) => {
                let tariff = Tariff::from_json(&format!("tariff at log index {index}"), &t.tariff)?;
                self.tariffs.push((index, tariff));
            }
            Entry::FinancingPublished(f) => {
                let rule = FinancingRule::from_json(
                    &format!("financing rule at log index {index}"),
                    &f.rule,
                )?;
                self.rules.push((index, rule));
            }
            Entry::BillingCreditIssued(c) => self.credits.push(Credit {
                index,
                time: at,
                id: c.credit_id.clone(),
                siren: c.siren.clone(),
                transfer_id: c.transfer_id.clone(),
                reason: c.reason.clone(),
            }),
            _ => {}
        }
        Ok(())
    }

    fn tariff_for(&self, index: u64, at: DateTime<Utc>) -> Option<&Tariff> {
        self.tariffs
            .iter()
            .filter(|(published, t)| *published < index && t.in_force(at))
            .map(|(_, t)| t)
            .max_by_key(|t| (t.version, t.valid_from))
    }
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(at: DateTime<Utc>) -> Month {
        Month {
            year: at.year(),
            month: at.month(),
        }
    }

    /// Parse `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        let month = Month {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
        };
        (text.len() == 7 && (1..=12).contains(&month.month)).then_some(month)
    }

    /// The month before.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The first instant after the month.
    pub fn end_exclusive(self) -> DateTime<Utc> {
        let (year, month) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    /// The last instant of the month (subscription lines are dated there).
    fn end(self) -> DateTime<Utc> {
        self.end_exclusive() - chrono::Duration::milliseconds(1)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One financer's part of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinancerRow {
    pub rule: String,
    pub financer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siren: Option<String>,
    pub kind: String,
    pub instrument: String,
    pub rate_bp: u32,
    pub amount_cents: i64,
    pub envelope_left_cents: i64,
}

/// One billable line: usage, price and its allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// `transfer` or `subscription`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    pub target: String,
    pub time: String,
    pub bytes: u64,
    pub records: u64,
    /// Log index of the receipt the figures come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_index: Option<u64>,
    /// `id@version` of the tariff applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff: Option<String>,
    /// The tariff's unit prices for this kind of line, in cents: per transfer and per GB
    /// for a transfer, per month for a subscription (0 when exempt or free).
    pub unit_prices: BTreeMap<String, i64>,
    pub vat_bp: u32,
    /// For a 0 % rate: the VATEX code and the legal ground of the exemption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_exemption: Option<(String, String)>,
    pub gross_cents: i64,
    /// Why the price is what it is (exempt class, free tier, no tariff…).
    pub note: String,
    pub financers: Vec<FinancerRow>,
    pub participant_cents: i64,
    /// For a `credit` line: the credit note's id and the period of the line it cancels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_period: Option<String>,
}

impl Line {
    /// A line of `gross` cents at `tariff`, not yet allocated (the participant owes it all).
    fn priced(
        kind: &str,
        target: &str,
        at: DateTime<Utc>,
        tariff: Option<&Tariff>,
        gross: i64,
        note: String,
    ) -> Line {
        Line {
            kind: kind.to_owned(),
            transfer_id: None,
            contract: None,
            target: target.to_owned(),
            time: crate::entry::format_time(at),
            bytes: 0,
            records: 0,
            receipt_index: None,
            tariff: tariff.map(|t| format!("{}@{}", t.id, t.version)),
            unit_prices: match tariff {
                Some(t) if gross != 0 && kind == "transfer" => BTreeMap::from([
                    ("per_transfer_cents".to_owned(), t.per_transfer_cents),
                    ("per_gb_cents".to_owned(), t.per_gb_cents),
                ]),
                Some(t) if gross != 0 => {
                    BTreeMap::from([("per_month_cents".to_owned(), t.subscription_cents)])
                }
                _ => BTreeMap::new(),
            },
            vat_bp: tariff.map(|t| t.vat_bp).unwrap_or(0),
            vat_exemption: tariff
                .filter(|t| t.vat_bp == 0)
                .and_then(|t| Some((t.vat_exemption_code.clone()?, t.vat_exemption.clone()?))),
            gross_cents: gross,
            note,
            financers: Vec::new(),
            participant_cents: gross,
            credit_id: None,
            corrected_period: None,
        }
    }
}

/// SHA-256 (hex) of a statement's RFC 8785 JSON: what closing a period logs.
pub fn statement_sha256(statement: &Statement) -> Result<String, BillingError> {
    use sha2::{Digest, Sha256};
    let value =
        serde_json::to_value(statement).map_err(|e| BillingError::Computation(e.to_string()))?;
    let bytes = crate::entry::canonical_json(&value)
        .map_err(|e| BillingError::Computation(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// A participant's statement for one month: the usage statement (relevé d'usage) and the
/// cost-allocation statement (état de répartition) in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub siren: String,
    pub class: String,
    pub period: String,
    pub lines: Vec<Line>,
    pub gross_cents: i64,
    /// Total per financing rule.
    pub financed_cents: BTreeMap<String, i64>,
    pub participant_cents: i64,
}

struct Running {
    /// Envelope left per rule id.
    envelopes: HashMap<String, i64>,
    /// Cap left per (rule, participant) for the current month.
    caps: HashMap<(String, String), i64>,
}

fn allocate_line(
    inputs: &Inputs,
    running: &mut Running,
    line: &mut Line,
    siren: &str,
    class: &str,
    index: u64,
    at: DateTime<Utc>,
) -> Result<(), BillingError> {
    let mut eligible: Vec<&FinancingRule> = inputs
        .rules
        .iter()
        .filter(|(published, _)| *published < index)
        .map(|(_, rule)| rule)
        .filter(|rule| rule.covers(siren, class, &line.target, at).0)
        .collect();
    // The latest version of each rule id, listed by id.
    eligible.sort_by(|a, b| a.id.cmp(&b.id).then(b.version.cmp(&a.version)));
    eligible.dedup_by(|later, first| later.id == first.id);
    let shares: Vec<Share> = eligible
        .iter()
        .map(|rule| Share {
            financer: rule.id.clone(),
            rate_bp: rule.rate_bp,
            cap_remaining: *running
                .caps
                .get(&(rule.id.clone(), siren.to_owned()))
                .unwrap_or(&rule.cap_cents),
            envelope_remaining: *running
                .envelopes
                .get(&rule.id)
                .unwrap_or(&rule.envelope_cents),
        })
        .collect();
    let split = allocate(line.gross_cents, &shares)?;
    for (rule, (_, amount)) in eligible.iter().zip(&split.financed) {
        let share = shares
            .iter()
            .find(|s| s.financer == rule.id)
            .ok_or_else(|| BillingError::Computation("allocation lost a financer".into()))?;
        let envelope_left = share.envelope_remaining - amount;
        running.envelopes.insert(rule.id.clone(), envelope_left);
        running.caps.insert(
            (rule.id.clone(), siren.to_owned()),
            share.cap_remaining - amount,
        );
        line.financers.push(FinancerRow {
            rule: format!("{}@{}", rule.id, rule.version),
            financer: rule.financer_name.clone(),
            siren: rule.financer_siren.clone(),
            kind: rule.financer_kind.clone(),
            instrument: rule.instrument.clone(),
            rate_bp: rule.rate_bp,
            amount_cents: *amount,
            envelope_left_cents: envelope_left,
        });
    }
    line.participant_cents = split.participant;
    Ok(())
}

/// Every participant's statement for `period`, from everything logged up to its end.
pub fn compute(inputs: &Inputs, period: Month) -> Result<Vec<Statement>, BillingError> {
    let mut events: Vec<Event> = inputs
        .transfers
        .values()
        .map(Event::Transfer)
        .chain(inputs.credits.iter().map(Event::Credit))
        .filter(|e| Month::of(e.time()) <= period)
        .collect();
    events.sort_by_key(|e| (Month::of(e.time()), e.index()));
    let mut running = Running {
        envelopes: HashMap::new(),
        caps: HashMap::new(),
    };
    let mut statements: BTreeMap<String, Statement> = BTreeMap::new();
    // Every transfer line so far, for credit notes: transfer id → (payer, class, line).
    let mut billed: HashMap<String, (String, String, Line)> = HashMap::new();
    let mut month_of_run: Option<Month> = None;
    // Per participant in the current month: transfers so far, last (index, time).
    let mut counts: BTreeMap<String, (u32, u64, DateTime<Utc>)> = BTreeMap::new();
    let mut position = 0;
    while position <= events.len() {
        let next = events.get(position);
        let month = next.map(|e| Month::of(e.time()));
        // Close the previous month: subscriptions, then reset caps and counters.
        if month_of_run.is_some() && month != month_of_run {
            let closing = month_of_run.unwrap_or(period);
            for (siren, (_, index, _)) in std::mem::take(&mut counts) {
                let class = inputs.classes.get(&siren).cloned().unwrap_or_default();
                let end = closing.end();
                let tariff = inputs.tariff_for(index + 1, end);
                let (gross, note) = match tariff {
                    None => (0, "no tariff in force".to_owned()),
                    Some(t) if t.exempt_classes.contains(&class) => (0, format!("{class}: exempt")),
                    Some(t) => (t.subscription_cents, "monthly subscription".to_owned()),
                };
                let mut line = Line::priced("subscription", SUBSCRIPTION, end, tariff, gross, note);
                allocate_line(
                    inputs,
                    &mut running,
                    &mut line,
                    &siren,
                    &class,
                    index + 1,
                    end,
                )?;
                if closing == period {
                    push(&mut statements, &siren, &class, period, line);
                }
            }
            running.caps.clear();
        }
        let Some(event) = next else { break };
        month_of_run = month;
        position += 1;
        match event {
            Event::Transfer(transfer) => {
                let (payer, class, line) =
                    transfer_line(inputs, &mut running, &mut counts, transfer)?;
                if Month::of(transfer.time) == period {
                    push(&mut statements, &payer, &class, period, line.clone());
                }
                billed.insert(transfer.id.clone(), (payer, class, line));
            }
            Event::Credit(credit) => {
                let Some((payer, class, original)) = billed.remove(&credit.transfer_id) else {
                    return Err(BillingError::Computation(format!(
                        "credit note {} cancels transfer {}, which no earlier line bills (or \
                         another credit note already cancelled)",
                        credit.id, credit.transfer_id
                    )));
                };
                if payer != credit.siren {
                    return Err(BillingError::Computation(format!(
                        "credit note {} is for SIREN {}, but transfer {} was billed to {payer}",
                        credit.id, credit.siren, credit.transfer_id
                    )));
                }
                let line = credit_line(&mut running, credit, &original);
                if Month::of(credit.time) == period {
                    push(&mut statements, &payer, &class, period, line);
                }
            }
        }
    }
    Ok(statements.into_values().collect())
}

/// Price and allocate one transfer; returns its payer, the payer's class and the line.
fn transfer_line(
    inputs: &Inputs,
    running: &mut Running,
    counts: &mut BTreeMap<String, (u32, u64, DateTime<Utc>)>,
    transfer: &Transfer,
) -> Result<(String, String, Line), BillingError> {
    let Some((_, payer)) = inputs.contracts.get(&transfer.contract) else {
        return Err(BillingError::Computation(format!(
            "transfer {} refers to contract {}, which the entries do not hold",
            transfer.id, transfer.contract
        )));
    };
    let class = inputs.classes.get(payer).cloned().unwrap_or_default();
    let (bytes, records, receipt_index) =
        transfer
            .consumer
            .or(transfer.provider)
            .unwrap_or((0, 0, transfer.first_index));
    let counter = counts
        .entry(payer.clone())
        .or_insert((0, transfer.first_index, transfer.time));
    counter.0 += 1;
    counter.1 = transfer.first_index;
    counter.2 = transfer.time;
    let used = counter.0;
    let tariff = inputs.tariff_for(transfer.first_index, transfer.time);
    let (gross, note) = match tariff {
        None => (0, "no tariff in force".to_owned()),
        Some(t) if t.exempt_classes.contains(&class) => (0, format!("{class}: exempt")),
        Some(t) if used <= t.free_transfers => {
            (0, format!("free tier ({used} of {})", t.free_transfers))
        }
        Some(t) => (t.transfer_price(bytes), "per transfer + per GB".to_owned()),
    };
    let mut line = Line::priced(
        "transfer",
        &transfer.asset,
        transfer.time,
        tariff,
        gross,
        note,
    );
    line.transfer_id = Some(transfer.id.clone());
    line.contract = Some(transfer.contract.clone());
    line.bytes = bytes;
    line.records = records;
    line.receipt_index = Some(receipt_index);
    allocate_line(
        inputs,
        running,
        &mut line,
        payer,
        &class,
        transfer.first_index,
        transfer.time,
    )?;
    Ok((payer.clone(), class, line))
}

/// The credit line cancelling `original`: every amount negated, each financer's share
/// returned to its envelope (caps belong to the original's month and are left alone).
fn credit_line(running: &mut Running, credit: &Credit, original: &Line) -> Line {
    let mut line = original.clone();
    line.kind = "credit".into();
    line.time = crate::entry::format_time(credit.time);
    line.gross_cents = -original.gross_cents;
    line.participant_cents = -original.participant_cents;
    line.credit_id = Some(credit.id.clone());
    line.corrected_period = DateTime::parse_from_rfc3339(&original.time)
        .ok()
        .map(|t| Month::of(t.with_timezone(&Utc)).to_string());
    line.note = format!(
        "credit note {} cancelling the line of {}: {}",
        credit.id, original.time, credit.reason
    );
    for row in &mut line.financers {
        let id = row
            .rule
            .rsplit_once('@')
            .map(|(id, _)| id.to_owned())
            .unwrap_or_else(|| row.rule.clone());
        let left = running
            .envelopes
            .entry(id)
            .or_insert(row.envelope_left_cents);
        *left += row.amount_cents;
        row.envelope_left_cents = *left;
        row.amount_cents = -row.amount_cents;
    }
    line
}

fn push(
    statements: &mut BTreeMap<String, Statement>,
    siren: &str,
    class: &str,
    period: Month,
    line: Line,
) {
    let statement = statements
        .entry(siren.to_owned())
        .or_insert_with(|| Statement {
            siren: siren.to_owned(),
            class: class.to_owned(),
            period: period.to_string(),
            lines: Vec::new(),
            gross_cents: 0,
            financed_cents: BTreeMap::new(),
            participant_cents: 0,
        });
    statement.gross_cents += line.gross_cents;
    statement.participant_cents += line.participant_cents;
    for row in &line.financers {
        *statement
            .financed_cents
            .entry(row.rule.clone())
            .or_default() += row.amount_cents;
    }
    statement.lines.push(line);
}

/// Statements as CSV: one row per line, with the financers' total and the participant's
/// charge (the JSON form has the row per financer).
pub fn to_csv(statements: &[Statement]) -> String {
    use super::money::format_cents;
    let rows: Vec<Vec<String>> = statements
        .iter()
        .flat_map(|s| {
            s.lines.iter().map(move |l| {
                let financed: i64 = l.financers.iter().map(|r| r.amount_cents).sum();
                vec![
                    s.period.clone(),
                    s.siren.clone(),
                    s.class.clone(),
                    l.kind.clone(),
                    l.transfer_id.clone().unwrap_or_default(),
                    l.contract.clone().unwrap_or_default(),
                    l.target.clone(),
                    l.time.clone(),
                    l.bytes.to_string(),
                    l.records.to_string(),
                    l.tariff.clone().unwrap_or_default(),
                    format_cents(i64::from(l.vat_bp)),
                    format_cents(l.gross_cents),
                    format_cents(financed),
                    format_cents(l.participant_cents),
                    l.note.clone(),
                ]
            })
        })
        .collect();
    super::csv::document(
        &[
            "period",
            "siren",
            "class",
            "line",
            "transfer_id",
            "contract",
            "target",
            "time",
            "bytes",
            "records",
            "tariff",
            "vat_percent",
            "gross_eur",
            "financed_eur",
            "participant_eur",
            "note",
        ],
        &rows,
    )
}
