//! The typed ODRL 2.2 policy: what a parsed, validated policy holds.
//!
//! Everything here is already expanded (full IRIs), atomic (one action, one target, one
//! assigner and one assignee per rule, Information Model §2.7) and typed (right operands are
//! dates, durations, decimals, areas or terms, not strings), so evaluation does no parsing.
//! Each rule, duty and constraint keeps the JSON path it came from (`permission[0].duty[1]`)
//! so that explanations and errors point into the document the author wrote.

use std::collections::HashMap;

use serde::Serialize;

use crate::odrl::decimal::Decimal;
use crate::odrl::spatial::Area;
use crate::odrl::vocab::{self, Operator, Prefixes};
use crate::odrl::xsd::{TimeBound, XsdDuration};

/// A validated ODRL policy, ready to be evaluated many times.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) uid: String,
    pub(crate) kind: PolicyKind,
    pub(crate) profiles: Vec<String>,
    pub(crate) conflict: ConflictStrategy,
    /// Why the strategy is what it is, when it is not simply the declared value.
    pub(crate) conflict_note: Option<String>,
    pub(crate) inherit_from: Vec<String>,
    pub(crate) permissions: Vec<Rule>,
    pub(crate) prohibitions: Vec<Rule>,
    pub(crate) obligations: Vec<Duty>,
    /// `includedIn` declared in the document for custom actions: action → parent.
    pub(crate) action_parents: HashMap<String, String>,
    /// `partOf` declared in the document for assets and parties: member → collections.
    pub(crate) declared_membership: HashMap<String, Vec<String>>,
    pub(crate) prefixes: Prefixes,
    pub(crate) warnings: Vec<String>,
}

impl Policy {
    /// The policy's `uid`.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Set, Offer or Agreement.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The ODRL profiles the policy declares.
    pub fn profiles(&self) -> &[String] {
        &self.profiles
    }

    /// The conflict strategy in force (`invalid` unless declared, Information Model §2.10).
    pub fn conflict_strategy(&self) -> ConflictStrategy {
        self.conflict
    }

    /// Parent policies merged into this one.
    pub fn inherits_from(&self) -> &[String] {
        &self.inherit_from
    }

    /// The atomic permissions.
    pub fn permissions(&self) -> &[Rule] {
        &self.permissions
    }

    /// The atomic prohibitions.
    pub fn prohibitions(&self) -> &[Rule] {
        &self.prohibitions
    }

    /// The policy-level obligations.
    pub fn obligations(&self) -> &[Duty] {
        &self.obligations
    }

    /// Findings that do not make the policy invalid but that its author should read
    /// (unrecognised profiles, custom actions without `includedIn`, unresolvable references).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The parent action of `action` (`includedIn`), from the document or the ODRL vocabulary.
    pub(crate) fn parent_action(&self, action: &str) -> Option<String> {
        if let Some(parent) = self.action_parents.get(action) {
            return Some(parent.clone());
        }
        if let Some(term) = action.strip_prefix(vocab::CC) {
            return vocab::CC_ACTIONS
                .contains(&term)
                .then(|| format!("{}use", vocab::ODRL));
        }
        let term = action.strip_prefix(vocab::ODRL)?;
        vocab::action_parent(term).map(|parent| format!("{}{parent}", vocab::ODRL))
    }
}

/// The subclass of the policy (Information Model §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    /// A Set (also a plain `Policy`): rules with no particular parties.
    Set,
    /// An Offer from an assigner: a proposal that grants nothing until agreed.
    Offer,
    /// An Agreement between an assigner and an assignee.
    Agreement,
}

/// How a conflict between a permission and a prohibition is resolved (IM §2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictStrategy {
    /// Permissions override prohibitions.
    Perm,
    /// Prohibitions override permissions.
    Prohibit,
    /// Any conflict voids the whole policy (the default).
    Invalid,
}

/// Whether a rule permits or prohibits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Permission,
    Prohibition,
}

/// An atomic permission or prohibition.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rule {
    pub kind: RuleKind,
    pub uid: Option<String>,
    /// Where the rule is in the document, e.g. `permission[0]`; a compound rule split into
    /// atomic rules gives the same path to each.
    pub path: String,
    pub action: Action,
    pub target: Option<Asset>,
    pub assigner: Option<Party>,
    pub assignee: Option<Party>,
    /// Other functional roles (`compensatedParty`, `attributedParty`…): function IRI, party.
    pub other_parties: Vec<(String, Party)>,
    pub constraints: Vec<Constraint>,
    /// Pre-conditions of a permission (IM §2.6.5).
    pub duties: Vec<Duty>,
    /// What must be done if a prohibition is infringed (IM §2.6.7).
    pub remedies: Vec<Duty>,
}

/// A duty: a permission's pre-condition, a policy obligation, a consequence or a remedy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Duty {
    /// The name by which a request's `dutyStates` and `payments` refer to this duty: its
    /// `uid`, or its JSON path when it has none.
    pub key: String,
    pub uid: Option<String>,
    pub path: String,
    pub action: Action,
    pub target: Option<Asset>,
    pub assigner: Option<Party>,
    pub assignee: Option<Party>,
    pub other_parties: Vec<(String, Party)>,
    pub constraints: Vec<Constraint>,
    pub consequences: Vec<Duty>,
}

impl Duty {
    /// The party named for a function (e.g. `compensatedParty`), if any.
    pub fn party(&self, function: &str) -> Option<&Party> {
        let iri = format!("{}{function}", vocab::ODRL);
        self.other_parties
            .iter()
            .find(|(name, _)| *name == iri)
            .map(|(_, party)| party)
    }
}

/// An action, possibly refined (IM §2.5.4).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Action {
    /// The action's IRI, or the bare term as written for a custom action that is not an IRI.
    pub iri: String,
    pub refinements: Vec<Constraint>,
}

/// An asset or asset collection (IM §2.2).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Asset {
    /// `uid`, or `source` for a refined collection.
    pub iri: String,
    pub is_collection: bool,
    pub refinements: Vec<Constraint>,
}

/// A party or party collection (IM §2.3).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Party {
    /// `uid`, or `source` for a refined collection.
    pub iri: String,
    pub is_collection: bool,
    pub refinements: Vec<Constraint>,
}

/// A constraint or logical constraint (IM §2.5).
#[derive(Debug, Clone)]
pub enum Constraint {
    Atomic(AtomicConstraint),
    Logical(LogicalConstraint),
}

/// `leftOperand operator rightOperand` (IM §2.5.1).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AtomicConstraint {
    pub uid: Option<String>,
    pub path: String,
    pub left: LeftOperand,
    pub operator: Operator,
    pub right: RightOperand,
    /// The unit of the right operand (a currency for `payAmount`), normalised.
    pub unit: Option<String>,
    /// A recorded value of the left operand (IM §2.5.1 `status`), used when the request
    /// gives none.
    pub status: Option<Literal>,
}

/// A logical constraint over atomic constraints (IM §2.5.2).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogicalConstraint {
    pub uid: Option<String>,
    pub path: String,
    pub operand: LogicalOperand,
    pub constraints: Vec<AtomicConstraint>,
}

/// The logical operand of a logical constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LogicalOperand {
    /// All satisfied.
    And,
    /// At least one satisfied.
    Or,
    /// Exactly one satisfied.
    Xone,
    /// All satisfied, evaluated in order; the first unsatisfied one stops the evaluation.
    AndSequence,
}

impl LogicalOperand {
    pub fn term(self) -> &'static str {
        match self {
            LogicalOperand::And => "and",
            LogicalOperand::Or => "or",
            LogicalOperand::Xone => "xone",
            LogicalOperand::AndSequence => "andSequence",
        }
    }
}

/// A left operand with the evaluation semantics it gets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LeftOperand {
    /// The expanded IRI.
    pub iri: String,
    /// As written in the policy (the request's context may use this name).
    pub written: String,
    pub kind: OperandKind,
}

impl LeftOperand {
    /// The short name used in explanations and as the request context key.
    pub fn name(&self) -> &str {
        vocab::compact(&self.iri)
    }
}

/// The left operands with dedicated semantics; everything else is compared generically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    DateTime,
    ElapsedTime,
    Count,
    Purpose,
    Spatial,
    Recipient,
    PayAmount,
    Event,
    /// Another ODRL left operand, or one from a profile.
    Other,
}

/// A typed right operand.
#[derive(Debug, Clone)]
pub enum RightOperand {
    Time(TimeBound),
    Duration(XsdDuration),
    Count(u64),
    Amount(Decimal),
    /// IRIs or terms (purpose, recipient, event), expanded.
    Terms(Vec<String>),
    Areas(Vec<Area>),
    /// Values of another left operand.
    Literals(Vec<Literal>),
    /// `rightOperandReference`: an IRI to dereference, which this evaluator does not do.
    Reference(String),
}

/// A literal of a generic constraint.
#[derive(Debug, Clone)]
pub enum Literal {
    Number(Decimal),
    Time(TimeBound),
    Duration(XsdDuration),
    Boolean(bool),
    Iri(String),
    Text(String),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Time(t) => write!(f, "{t}"),
            Literal::Duration(d) => write!(f, "{d}"),
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Iri(i) => write!(f, "{}", vocab::compact(i)),
            Literal::Text(t) => write!(f, "\"{t}\""),
        }
    }
}

/// Currencies written as ISO 4217 codes or as the IRIs ODRL examples use.
pub fn normalise_currency(unit: &str) -> String {
    let known: [(&str, &[&str]); 4] = [
        (
            "EUR",
            &[
                "http://dbpedia.org/resource/Euro",
                "https://dbpedia.org/resource/Euro",
                "http://www.wikidata.org/entity/Q4916",
                "https://www.wikidata.org/entity/Q4916",
                "€",
            ],
        ),
        (
            "USD",
            &[
                "http://dbpedia.org/resource/United_States_dollar",
                "https://dbpedia.org/resource/United_States_dollar",
                "$",
            ],
        ),
        (
            "GBP",
            &[
                "http://dbpedia.org/resource/Pound_sterling",
                "https://dbpedia.org/resource/Pound_sterling",
                "£",
            ],
        ),
        (
            "CHF",
            &[
                "http://dbpedia.org/resource/Swiss_franc",
                "https://dbpedia.org/resource/Swiss_franc",
            ],
        ),
    ];
    for (code, aliases) in known {
        if unit.eq_ignore_ascii_case(code) || aliases.contains(&unit) {
            return code.to_owned();
        }
    }
    unit.to_owned()
}
