//! Billing for mixed public/private financing: tariffs and financing rules as published
//! data, usage priced from logged receipts, and each billable amount split between
//! financers and the participant, in integer cents, reproducibly from the log.
//!
//! | module       | owns                                                                |
//! |--------------|---------------------------------------------------------------------|
//! | [`money`]    | cents, parsing and printing amounts, no floating point               |
//! | [`tariff`]   | a versioned tariff: per transfer, per GB, subscription, free tier, exemptions |
//! | [`financing`]| a financer's rule: eligibility as ODRL, rate, cap, envelope          |
//! | [`publish`]  | publishing tariffs and financing rules; statements from the log       |
//! | [`allocate`] | splitting one amount between financers (largest remainder)           |
//! | [`standing`] | billing holds placed and cleared by the operator                     |
//! | [`statement`]| usage and cost-allocation statements from logged entries             |
//! | [`close`]    | closing a period (statement hashes logged), credit notes afterwards  |
//! | [`report`]   | the committee's financing report and expenditure statements          |
//! | [`indicators`]| consultations, requests, downloads and volumes per period           |
//! | [`csv`]      | CSV exports                                                          |
//! | [`invoice`]  | EN 16931 invoices and credit notes as UBL 2.1 XML                     |
//! | [`invoicing`]| the invoices and credit notes a statement gives (seller, buyers, Chorus Pro) |
//!
//! The clearing house meters and allocates; it sells nothing. Every figure here is a pure
//! function of log entries (receipts, participants, contracts, published tariffs and
//! financing rules), so anyone holding the entries recomputes it to the cent.

pub mod allocate;
pub mod close;
pub mod csv;
pub mod financing;
pub mod indicators;
pub mod invoice;
pub mod invoicing;
pub mod money;
pub mod publish;
pub mod report;
pub mod standing;
pub mod statement;
pub mod tariff;

/// Why a tariff, a financing rule or a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillingError {
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
    #[error("{0}")]
    Computation(String),
}
