//! What can be wrong with a policy, a request, or the files the CLI reads.
//!
//! Validation does not stop at the first problem: a policy author gets every problem at once,
//! each with the JSON path it is at (`permission[0].constraint[1]`) and the rule of the ODRL
//! Information Model (IM) or Vocabulary it breaks.

use std::fmt;
use std::path::PathBuf;

/// One problem in a policy document, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path into the document, e.g. `permission[0].constraint[1]` (`$` for the root).
    pub path: String,
    pub problem: Problem,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

impl std::error::Error for ValidationError {}

/// What is wrong at a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    #[error("expected {expected}, found {found}")]
    WrongShape {
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "the document holds no ODRL policy (no @type Set, Offer, Agreement or Policy, and no \
         permission, prohibition or obligation)"
    )]
    NoPolicy,
    #[error("policy type `{0}` is not supported (Set, Offer, Agreement or Policy)")]
    UnsupportedPolicyType(String),
    #[error("a policy must have a `uid` (IM §2.1)")]
    MissingUid,
    #[error("a policy must have at least one permission, prohibition or obligation (IM §2.1)")]
    NoRules,
    #[error("a rule must have an `action` (IM §2.6)")]
    MissingAction,
    #[error("a duty must have exactly one action, found {0} (split it into several duties)")]
    SeveralDutyActions(usize),
    #[error("a {0} must have a `target` asset (IM §2.6.1, §2.6.2)")]
    MissingTarget(&'static str),
    #[error("an {0} must name an `assigner` for every rule (IM §2.1.2, §2.1.3)")]
    MissingAssigner(&'static str),
    #[error("an Agreement must name an `assignee` for every rule (IM §2.1.3)")]
    MissingAssignee,
    #[error("this {0} has no identifier (`uid`, `@id`, or `source` for a collection)")]
    MissingIdentifier(&'static str),
    #[error(
        "unknown left operand `{0}`: not an ODRL 2.2 left operand (a profile's left operand \
         must be written as an IRI or a prefixed name)"
    )]
    UnknownLeftOperand(String),
    #[error(
        "unknown operator `{0}` (eq, neq, lt, lteq, gt, gteq, isA, hasPart, isPartOf, isAllOf, isAnyOf, isNoneOf)"
    )]
    UnknownOperator(String),
    #[error("operator `{operator}` cannot be used with left operand `{left}` (allowed: {allowed})")]
    OperatorNotAllowed {
        left: String,
        operator: String,
        allowed: &'static str,
    },
    #[error("a constraint must have `{0}` (IM §2.5.1)")]
    MissingConstraintPart(&'static str),
    #[error("a constraint must have only one of `rightOperand` and `rightOperandReference`")]
    BothRightOperands,
    #[error("right operand `{value}` of `{left}` is not {expected}")]
    BadRightOperand {
        left: String,
        value: String,
        expected: String,
    },
    #[error("operator `{operator}` compares with one value, but {count} were given")]
    SeveralValuesForOneValueOperator {
        operator: &'static str,
        count: usize,
    },
    #[error("conflict strategy `{0}` is unknown (perm, prohibit or invalid)")]
    UnknownConflictStrategy(String),
    #[error(
        "a logical constraint `{operand}` needs at least two constraints, found {count} (IM §2.5.2)"
    )]
    TooFewLogicalOperands { operand: &'static str, count: usize },
    #[error(
        "a logical constraint's operands must be Constraints, not logical constraints (IM §2.5.2)"
    )]
    NestedLogicalConstraint,
    #[error(
        "constraint `{0}` appears twice in one logical constraint (IM §2.5.2: operands must be unique)"
    )]
    DuplicateLogicalOperand(String),
    #[error(
        "a constraint cannot be both logical (and/or/xone/andSequence) and atomic (leftOperand)"
    )]
    AmbiguousConstraint,
    #[error("a logical constraint has one logical operand, found several ({0})")]
    SeveralLogicalOperands(String),
    #[error("constraint `{0}` is referenced but not defined in the document")]
    UnresolvedConstraint(String),
    #[error(
        "inheritFrom `{0}`: the parent policy is not in the document; give it in the same JSON \
         array or @graph (parents are not fetched from the network)"
    )]
    UnresolvedParent(String),
    #[error("inheritFrom makes a cycle through `{0}` (IM §2.9: inheritance must not be circular)")]
    InheritanceCycle(String),
    #[error("a consequence cannot have consequences of its own (IM §2.6.3)")]
    ConsequenceOfConsequence,
    #[error("a remedy must not have consequences (IM §2.6.7)")]
    RemedyWithConsequence,
    #[error("action `{0}` is includedIn itself through a cycle")]
    ActionCycle(String),
}

/// Why a request file is not a valid evaluation request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("request must be a JSON object")]
    NotAnObject,
    #[error("request lacks `{0}`")]
    Missing(&'static str),
    #[error("`{field}`: {reason}")]
    BadField { field: String, reason: String },
}

/// Everything the ODRL module's entry points can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OdrlError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the policy is not valid ODRL:\n{}", list(.0))]
    Invalid(Vec<ValidationError>),
    #[error("the request is not valid: {0}")]
    Request(#[from] RequestError),
}

fn list(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(|error| format!("  - {error}"))
        .collect::<Vec<_>>()
        .join("\n")
}
