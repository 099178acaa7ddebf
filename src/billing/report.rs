//! The financing report for the governance committee: who paid what, how much public money
//! covered what, per financer and per class, with each financer's expenditure statement
//! (état récapitulatif des dépenses): the lines it covered, which a funder needs to pay a
//! grant. Derived from the period's statements only, so it reconciles with them exactly.

use std::collections::BTreeMap;

use serde::Serialize;

use super::money::format_cents;
use super::statement::Statement;

/// A line a financer covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expenditure {
    pub siren: String,
    pub class: String,
    /// `transfer`, `subscription` or `credit`.
    pub kind: String,
    pub target: String,
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    pub gross_cents: i64,
    pub covered_cents: i64,
}

/// One financer's part of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinancerReport {
    /// `id@version` of the rule.
    pub rule: String,
    pub financer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siren: Option<String>,
    pub kind: String,
    pub instrument: String,
    pub covered_cents: i64,
    pub covered_by_class_cents: BTreeMap<String, i64>,
    /// What was left of the envelope after the period's last line it covered.
    pub envelope_left_cents: i64,
    pub expenditure: Vec<Expenditure>,
}

/// Totals of one participant class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClassTotals {
    pub participants: u64,
    pub gross_cents: i64,
    pub financed_cents: i64,
    pub public_cents: i64,
    pub participant_cents: i64,
}

/// The committee's financing report for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinancingReport {
    pub period: String,
    pub gross_cents: i64,
    pub financed_cents: i64,
    /// Covered by public financers (every kind but `participant`).
    pub public_cents: i64,
    pub participant_cents: i64,
    pub by_class: BTreeMap<String, ClassTotals>,
    pub financers: Vec<FinancerReport>,
}

/// Whether a financer kind spends public money.
fn is_public(kind: &str) -> bool {
    kind != "participant"
}

/// The report for `period` from its statements.
pub fn report(period: &str, statements: &[Statement]) -> FinancingReport {
    let mut report = FinancingReport {
        period: period.to_owned(),
        gross_cents: 0,
        financed_cents: 0,
        public_cents: 0,
        participant_cents: 0,
        by_class: BTreeMap::new(),
        financers: Vec::new(),
    };
    let mut financers: BTreeMap<String, FinancerReport> = BTreeMap::new();
    for statement in statements {
        let class = report.by_class.entry(statement.class.clone()).or_default();
        class.participants += 1;
        class.gross_cents += statement.gross_cents;
        class.participant_cents += statement.participant_cents;
        report.gross_cents += statement.gross_cents;
        report.participant_cents += statement.participant_cents;
        for line in &statement.lines {
            for row in &line.financers {
                let financer =
                    financers
                        .entry(row.rule.clone())
                        .or_insert_with(|| FinancerReport {
                            rule: row.rule.clone(),
                            financer: row.financer.clone(),
                            siren: row.siren.clone(),
                            kind: row.kind.clone(),
                            instrument: row.instrument.clone(),
                            covered_cents: 0,
                            covered_by_class_cents: BTreeMap::new(),
                            envelope_left_cents: row.envelope_left_cents,
                            expenditure: Vec::new(),
                        });
                financer.covered_cents += row.amount_cents;
                *financer
                    .covered_by_class_cents
                    .entry(statement.class.clone())
                    .or_default() += row.amount_cents;
                financer.expenditure.push(Expenditure {
                    siren: statement.siren.clone(),
                    class: statement.class.clone(),
                    kind: line.kind.clone(),
                    target: line.target.clone(),
                    time: line.time.clone(),
                    transfer_id: line.transfer_id.clone(),
                    gross_cents: line.gross_cents,
                    covered_cents: row.amount_cents,
                });
                let class = report.by_class.entry(statement.class.clone()).or_default();
                class.financed_cents += row.amount_cents;
                report.financed_cents += row.amount_cents;
                if is_public(&row.kind) {
                    class.public_cents += row.amount_cents;
                    report.public_cents += row.amount_cents;
                }
            }
        }
    }
    for financer in financers.values_mut() {
        // Lines are listed by time; the envelope left is the one after the latest.
        financer.expenditure.sort_by(|a, b| a.time.cmp(&b.time));
    }
    report.financers = financers.into_values().collect();
    for financer in &mut report.financers {
        if let Some(last) = statements
            .iter()
            .flat_map(|s| &s.lines)
            .filter(|l| l.financers.iter().any(|r| r.rule == financer.rule))
            .max_by(|a, b| a.time.cmp(&b.time))
            && let Some(row) = last.financers.iter().find(|r| r.rule == financer.rule)
        {
            financer.envelope_left_cents = row.envelope_left_cents;
        }
    }
    report
}

/// Every financer's expenditure statement as one CSV.
pub fn to_csv(report: &FinancingReport) -> String {
    let rows: Vec<Vec<String>> = report
        .financers
        .iter()
        .flat_map(|f| {
            f.expenditure.iter().map(move |e| {
                vec![
                    report.period.clone(),
                    f.rule.clone(),
                    f.financer.clone(),
                    f.siren.clone().unwrap_or_default(),
                    f.instrument.clone(),
                    e.siren.clone(),
                    e.class.clone(),
                    e.kind.clone(),
                    e.target.clone(),
                    e.time.clone(),
                    e.transfer_id.clone().unwrap_or_default(),
                    format_cents(e.gross_cents),
                    format_cents(e.covered_cents),
                ]
            })
        })
        .collect();
    super::csv::document(
        &[
            "period",
            "rule",
            "financer",
            "financer_siren",
            "instrument",
            "participant_siren",
            "class",
            "line",
            "target",
            "time",
            "transfer_id",
            "gross_eur",
            "covered_eur",
        ],
        &rows,
    )
}
