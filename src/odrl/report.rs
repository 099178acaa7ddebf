//! The answer of an evaluation and its explanation, serialised as the CLI's JSON output.
//!
//! The explanation is written for a connector operator: every rule considered, why it does
//! or does not apply, and for each constraint the value the request gave, the value the
//! policy expects, and a sentence saying which way it went.

use serde::Serialize;

use crate::odrl::model::{ConflictStrategy, LogicalOperand, PolicyKind, RuleKind};
use crate::odrl::request::DeonticState;

/// Permit, deny, or not applicable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    #[serde(rename = "permit")]
    Permit,
    #[serde(rename = "deny")]
    Deny,
    /// No rule of the policy is about this action, target and assignee.
    #[serde(rename = "not-applicable")]
    NotApplicable,
}

/// The result of evaluating one request against one policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    pub decision: Decision,
    /// One sentence saying why.
    pub reason: String,
    pub policy: String,
    pub policy_type: PolicyKind,
    /// The rule that decided: the permission that permits, the prohibition that denies, or
    /// (for a deny with no active permission) the first permission that applied but was not
    /// active.
    pub deciding_rule: Option<RuleRef>,
    pub conflict: ConflictReport,
    /// Every permission and prohibition, in document order.
    pub rules: Vec<RuleReport>,
    /// The policy's obligations and their state (they do not change the decision).
    pub obligations: Vec<DutyReport>,
    /// The policy's warnings (unrecognised profiles, custom actions…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Evaluation {
    /// Whether the request is permitted.
    pub fn is_permit(&self) -> bool {
        self.decision == Decision::Permit
    }
}

/// Which rule, by kind, index among rules of that kind (atomic), path and uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRef {
    pub kind: RuleKind,
    /// Index among the policy's atomic permissions (or prohibitions).
    pub index: usize,
    /// Where the rule is written in the document.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// How conflicts were handled.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictReport {
    pub strategy: ConflictStrategy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A permission and a prohibition that were both in force over overlapping actions,
    /// assets and parties, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected: Option<ConflictingRules>,
    /// What the strategy did, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// Two conflicting rules.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictingRules {
    pub permission: RuleRef,
    pub prohibition: RuleRef,
}

/// What happened to one rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleReport {
    pub rule: RuleRef,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Whether the rule is about the requested action, target and assignee.
    pub applies: bool,
    /// How the action, target and assignee matched, or did not.
    pub scope: Vec<String>,
    /// Constraints satisfied and, for a permission, duties fulfilled (formal semantics).
    pub active: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<ConstraintReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refinements: Vec<ConstraintReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<DutyReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remedies: Vec<DutyReport>,
    /// What the rule did to this request, in words.
    pub outcome: String,
}

/// How one constraint (or logical constraint) went.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The left operand (atomic constraints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_operand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<&'static str>,
    /// The value the policy expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The value the request's context gave (absent: unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The logical operand (logical constraints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logical: Option<LogicalOperand>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ConstraintReport>,
    pub satisfied: bool,
    pub explanation: String,
}

/// The state of a duty: a permission's condition, an obligation, a consequence, a remedy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DutyReport {
    /// The key a request uses for this duty in `dutyStates` and `payments`.
    pub key: String,
    pub path: String,
    pub action: String,
    /// Whether the duty's constraints hold (an inactive duty binds nobody).
    pub active: bool,
    pub deontic_state: DeonticState,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<ConstraintReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consequences: Vec<DutyReport>,
    pub explanation: String,
}
