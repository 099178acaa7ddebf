//! A financing rule: who covers what share of the platform's charges for whom, as a
//! versioned JSON file under `policies/financing/`, published to the log
//! (`financing.published`) before it applies.
//!
//! Eligibility is an ODRL `Set` decided by the same evaluator as contracts: a permission to
//! `ecd:finance` a target (a dataset, or the collections `ecd:all-datasets` and
//! `ecd:platform-subscription`) for an assignee (usually a party collection such as
//! `ecd:public-bodies`), with any constraint (dates, spatial…). So every "why was this
//! covered" has an explanation.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::BillingError;
use super::money::{parse_basis_points, parse_cents};
use crate::odrl::{Context, Policy, Request};
use crate::trust::powers::class_collection;

/// The action financing rules grant.
pub const FINANCE: &str = "https://w3id.org/ecd-clearinghouse/odrl#finance";
/// Collection every dataset belongs to, for rules that cover all transfers.
pub const ALL_DATASETS: &str = "https://w3id.org/ecd-clearinghouse/odrl#all-datasets";
/// Target of subscription lines.
pub const SUBSCRIPTION: &str = "https://w3id.org/ecd-clearinghouse/odrl#platform-subscription";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FinancerFile {
    name: String,
    /// SIREN of a French financer; absent for e.g. a European fund.
    #[serde(default)]
    siren: Option<String>,
    /// `region`, `departement`, `commune`, `state`, `eu-fund`, `participant`…
    kind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FinancingFile {
    id: String,
    version: u32,
    financer: FinancerFile,
    /// The legal instrument: `subvention`, `FEDER 2021-2027`, `convention`…
    instrument: String,
    rate_percent: String,
    cap_per_participant_period: String,
    envelope: String,
    valid_from: String,
    #[serde(default)]
    valid_until: Option<String>,
    eligibility: Value,
}

/// A validated financing rule.
#[derive(Debug, Clone)]
pub struct FinancingRule {
    pub id: String,
    pub version: u32,
    pub financer_name: String,
    pub financer_siren: Option<String>,
    pub financer_kind: String,
    pub instrument: String,
    pub rate_bp: u32,
    pub cap_cents: i64,
    pub envelope_cents: i64,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    eligibility: Policy,
}

fn invalid(file: &str, reason: String) -> BillingError {
    BillingError::Invalid {
        file: file.to_owned(),
        reason,
    }
}

impl FinancingRule {
    pub fn from_json(name: &str, value: &Value) -> Result<FinancingRule, BillingError> {
        let file: FinancingFile =
            serde_json::from_value(value.clone()).map_err(|e| invalid(name, e.to_string()))?;
        if file.id.is_empty() || file.version == 0 {
            return Err(invalid(
                name,
                "id must be set and version at least 1".into(),
            ));
        }
        if let Some(siren) = &file.financer.siren {
            crate::trust::siret::Siren::parse(siren)
                .map_err(|e| invalid(name, format!("financer.siren: {e}")))?;
        }
        let amount = |field: &str, text: &str| {
            parse_cents(text)
                .ok_or_else(|| invalid(name, format!("{field} {text:?} is not an amount in euros")))
        };
        let time = |field: &str, text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    invalid(
                        name,
                        format!("{field} {text:?} is not an RFC 3339 date-time"),
                    )
                })
        };
        let eligibility = Policy::validate_json(&file.eligibility).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            invalid(
                name,
                format!(
                    "eligibility is not a valid ODRL policy: {}",
                    list.join("; ")
                ),
            )
        })?;
        Ok(FinancingRule {
            rate_bp: parse_basis_points(&file.rate_percent).ok_or_else(|| {
                invalid(
                    name,
                    format!("rate_percent {:?} is not 0–100", file.rate_percent),
                )
            })?,
            cap_cents: amount(
                "cap_per_participant_period",
                &file.cap_per_participant_period,
            )?,
            envelope_cents: amount("envelope", &file.envelope)?,
            valid_from: time("valid_from", &file.valid_from)?,
            valid_until: file
                .valid_until
                .as_deref()
                .map(|t| time("valid_until", t))
                .transpose()?,
            id: file.id,
            version: file.version,
            financer_name: file.financer.name,
            financer_siren: file.financer.siren,
            financer_kind: file.financer.kind,
            instrument: file.instrument,
            eligibility,
        })
    }

    /// Whether the rule covers `target` (a dataset IRI or [`SUBSCRIPTION`]) for the
    /// participant `siren` of `class` at `at`; with the evaluator's reason.
    pub fn covers(
        &self,
        siren: &str,
        class: &str,
        target: &str,
        at: DateTime<Utc>,
    ) -> (bool, String) {
        if at < self.valid_from || self.valid_until.is_some_and(|until| at >= until) {
            return (false, format!("{} is not in force at that time", self.id));
        }
        let party = format!("urn:siren:{siren}");
        let mut context = Context::default()
            .with_date_time(at)
            .with_party_membership(party.clone(), class_collection(class));
        if target != SUBSCRIPTION {
            context = context.with_asset_membership(target, ALL_DATASETS);
        }
        let request = Request::new(FINANCE)
            .with_target(target)
            .with_assignee(party)
            .with_context(context);
        let evaluation = self.eligibility.evaluate(&request);
        (evaluation.is_permit(), evaluation.reason)
    }
}
