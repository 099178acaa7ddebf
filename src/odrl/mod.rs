//! ODRL 2.2 policies: a typed model, a validator with precise errors, and an evaluator that
//! answers permit, deny or not applicable with an explanation.
//!
//! One evaluator decides both "may this transfer happen" (contracts are ODRL Agreements) and
//! "may this person sign this contract" (mandates carry their powers as ODRL permissions).
//! Policies are parsed once into [`Policy`] and evaluated many times; evaluation does no
//! parsing and no I/O.
//!
//! ```
//! use clearinghouse::odrl::{Policy, Request, evaluate};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_json(&serde_json::from_str(r#"{
//!     "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
//!     "uid": "https://ecd.example/policy/1",
//!     "permission": [{"target": "https://ecd.example/ds/1", "action": "use"}]}"#)?)?;
//! let answer = evaluate(&policy, &Request::new("read").with_target("https://ecd.example/ds/1"));
//! assert!(answer.is_permit());
//! # Ok(()) }
//! ```
//!
//! | module     | owns                                                                  |
//! |------------|-----------------------------------------------------------------------|
//! | `vocab`    | ODRL terms, the `includedIn` hierarchy, expanding compact terms        |
//! | `model`    | the typed, atomic policy                                              |
//! | `parse`    | JSON-LD → model, with validation                                      |
//! | `request`  | the evaluation request and the state of the world                     |
//! | `check`    | constraints and refinements against the state of the world            |
//! | `evaluate` | rules, duties, conflicts: the decision                                |
//! | `report`   | the decision and its explanation (the CLI's JSON)                      |
//! | `xsd`, `decimal`, `spatial` | dates and durations, exact amounts, INSEE areas      |
//!
//! Semantics are those of the ODRL Information Model 2.2, the Vocabulary 2.2 and the ODRL
//! Formal Semantics draft (access control scenario); each choice the specifications leave
//! open is documented where it is made and in `policies/README.md`.

mod check;
pub mod decimal;
mod error;
mod evaluate;
mod model;
mod parse;
mod report;
mod request;
pub mod spatial;
pub mod vocab;
pub mod xsd;

use std::path::Path;

pub use error::{OdrlError, Problem, RequestError, ValidationError};
pub use evaluate::evaluate;
pub use model::{
    Action, Asset, AtomicConstraint, ConflictStrategy, Constraint, Duty, LeftOperand, Literal,
    LogicalConstraint, LogicalOperand, OperandKind, Party, Policy, PolicyKind, RightOperand, Rule,
    RuleKind,
};
pub use report::{
    ConflictReport, ConflictingRules, ConstraintReport, Decision, DutyReport, Evaluation, RuleRef,
    RuleReport,
};
pub use request::{Context, DeonticState, EventPhase, Money, Payment, Request};

impl Policy {
    /// Parse and validate an ODRL policy in JSON-LD: compact terms with the ODRL context,
    /// `odrl:` prefixed names or full IRIs. The document may also be a JSON array (or a
    /// `@graph`) holding the policy with the parent policies it inherits from and the
    /// constraints and actions it refers to by `@id`. Every problem found is returned.
    pub fn from_json(document: &serde_json::Value) -> Result<Policy, OdrlError> {
        parse::parse_policy(document).map_err(OdrlError::Invalid)
    }

    /// Evaluate a request against this policy (same as [`evaluate`]).
    pub fn evaluate(&self, request: &Request) -> Evaluation {
        evaluate(self, request)
    }

    /// Whether this policy permits the request: "does this Set of powers permit action X on
    /// target Y for assignee Z in context C". Deny and not-applicable are both `false`.
    pub fn permits(&self, request: &Request) -> bool {
        evaluate(self, request).is_permit()
    }

    /// Like [`Policy::from_json`], but with the list of validation errors itself.
    pub fn validate_json(document: &serde_json::Value) -> Result<Policy, Vec<ValidationError>> {
        parse::parse_policy(document)
    }
}

/// Evaluate the request in `request` against the policy in `policy` and return the decision
/// and its explanation as JSON: what `clearinghouse odrl eval --policy FILE --request FILE`
/// prints. An invalid policy or request is an error naming every problem.
pub fn eval_files(policy: &Path, request: &Path) -> Result<serde_json::Value, OdrlError> {
    let policy = Policy::from_json(&read_json(policy)?)?;
    let request = Request::from_json(&read_json(request)?)?;
    let evaluation = evaluate(&policy, &request);
    Ok(serde_json::to_value(&evaluation).unwrap_or_else(|error| {
        // The report holds only strings, booleans and enums: it always serialises.
        serde_json::json!({"decision": "deny", "reason": format!("internal error: {error}")})
    }))
}

fn read_json(path: &Path) -> Result<serde_json::Value, OdrlError> {
    let text = std::fs::read_to_string(path).map_err(|source| OdrlError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| OdrlError::Json {
        path: path.to_owned(),
        source,
    })
}
