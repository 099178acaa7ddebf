//! Usage indicators: the figures platforms report to their funders, from logged entries.
//!
//! - **consultations**: decisions asked (`decision.made`, permit or deny);
//! - **requests**: permitted transfers (decisions that permitted);
//! - **downloads**: transfers with a receipt (`receipt.recorded`), counted once per transfer;
//! - **volumes**: bytes and records of those transfers, by the consumer's account when it
//!   posted one, the provider's otherwise (the rule statements use).
//!
//! A decision counts for the participant that asked; a transfer for the contract's
//! assignee (the consumer). Grouped per dataset, participant, class or in total, per month.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::statement::Month;
use crate::entry::{Decoded, Entry};

/// Entry types indicators are computed from.
pub const INDICATOR_INPUTS: [&str; 4] = [
    "participant.registered",
    "contract.agreed",
    "decision.made",
    "receipt.recorded",
];

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Total,
    Dataset,
    Participant,
    Class,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<GroupBy> {
        Some(match text {
            "total" => GroupBy::Total,
            "dataset" => GroupBy::Dataset,
            "participant" => GroupBy::Participant,
            "class" => GroupBy::Class,
            _ => return None,
        })
    }
}

/// One row of indicators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    pub period: String,
    /// The group's key: a dataset IRI, a SIREN, a class, or `total`.
    pub key: String,
    pub consultations: u64,
    pub requests: u64,
    pub downloads: u64,
    pub bytes: u64,
    pub records: u64,
}

/// Transfer id → (participant, dataset, bytes, records, by the consumer?).
type Transfers = HashMap<String, (String, String, u64, u64, bool)>;

/// Indicators for one month, gathered entry by entry (in log order).
#[derive(Debug)]
pub struct Indicators {
    period: Month,
    classes: HashMap<String, String>,
    assignees: HashMap<String, String>,
    /// (participant, dataset) → (consultations, requests).
    decisions: BTreeMap<(String, String), (u64, u64)>,
    transfers: Transfers,
    /// Transfers with a receipt before the period.
    earlier: std::collections::HashSet<String>,
}

use super::statement::siren_of;

impl Indicators {
    pub fn new(period: Month) -> Indicators {
        Indicators {
            period,
            classes: HashMap::new(),
            assignees: HashMap::new(),
            decisions: BTreeMap::new(),
            transfers: HashMap::new(),
            earlier: std::collections::HashSet::new(),
        }
    }

    /// Take one entry into account.
    pub fn add(&mut self, decoded: &Decoded) {
        let in_period = Month::of(decoded.envelope.time) == self.period;
        match &decoded.entry {
            Entry::ParticipantRegistered(p) => {
                self.classes.insert(p.siren.clone(), p.class.clone());
            }
            Entry::ContractAgreed(c) => {
                self.assignees
                    .insert(c.contract_id.clone(), siren_of(&c.assignee));
            }
            Entry::DecisionMade(d) if in_period => {
                let counts = self
                    .decisions
                    .entry((d.requester.clone(), d.target.clone()))
                    .or_default();
                counts.0 += 1;
                counts.1 += u64::from(d.decision == "permit");
            }
            Entry::ReceiptRecorded(r) if !in_period => {
                self.earlier.insert(r.transfer_id.clone());
            }
            // A transfer counts in the month of its first receipt only.
            Entry::ReceiptRecorded(r) if self.earlier.contains(&r.transfer_id) => {}
            Entry::ReceiptRecorded(r) => {
                let participant = self
                    .assignees
                    .get(&r.contract_id)
                    .cloned()
                    .unwrap_or_else(|| r.siren.clone());
                let by_consumer = r.role == "consumer";
                let slot = self.transfers.entry(r.transfer_id.clone()).or_insert((
                    participant,
                    r.asset.clone(),
                    r.bytes,
                    r.records,
                    by_consumer,
                ));
                if by_consumer && !slot.4 {
                    (slot.2, slot.3, slot.4) = (r.bytes, r.records, true);
                }
            }
            _ => {}
        }
    }

    fn key(&self, group: GroupBy, participant: &str, dataset: &str) -> String {
        match group {
            GroupBy::Total => "total".into(),
            GroupBy::Dataset => dataset.to_owned(),
            GroupBy::Participant => participant.to_owned(),
            GroupBy::Class => self
                .classes
                .get(participant)
                .cloned()
                .unwrap_or_else(|| "unregistered".into()),
        }
    }

    /// The rows, sorted by key.
    pub fn rows(&self, group: GroupBy) -> Vec<Row> {
        let mut rows: BTreeMap<String, Row> = BTreeMap::new();
        let mut updates: Vec<(String, Row)> = Vec::new();
        for ((participant, dataset), (consultations, requests)) in &self.decisions {
            updates.push((
                self.key(group, participant, dataset),
                Row {
                    consultations: *consultations,
                    requests: *requests,
                    ..Row::default()
                },
            ));
        }
        for (participant, dataset, bytes, records, _) in self.transfers.values() {
            updates.push((
                self.key(group, participant, dataset),
                Row {
                    downloads: 1,
                    bytes: *bytes,
                    records: *records,
                    ..Row::default()
                },
            ));
        }
        for (key, add) in updates {
            let total = rows.entry(key.clone()).or_insert_with(|| Row {
                period: self.period.to_string(),
                key,
                ..Row::default()
            });
            // Connector-reported volumes: saturate rather than overflow.
            total.consultations = total.consultations.saturating_add(add.consultations);
            total.requests = total.requests.saturating_add(add.requests);
            total.downloads = total.downloads.saturating_add(add.downloads);
            total.bytes = total.bytes.saturating_add(add.bytes);
            total.records = total.records.saturating_add(add.records);
        }
        rows.into_values().collect()
    }
}

/// Rows as CSV.
pub fn to_csv(rows: &[Row]) -> String {
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.period.clone(),
                r.key.clone(),
                r.consultations.to_string(),
                r.requests.to_string(),
                r.downloads.to_string(),
                r.bytes.to_string(),
                r.records.to_string(),
            ]
        })
        .collect();
    super::csv::document(
        &[
            "period",
            "key",
            "consultations",
            "requests",
            "downloads",
            "bytes",
            "records",
        ],
        &records,
    )
}
