//! Whether constraints and refinements are satisfied in the state of the world.
//!
//! Closed world: a constraint on a value the request's context does not give is not
//! satisfied. Several constraints on one rule are a conjunction (IM §2.5). When the context
//! gives several values (two purposes, three communes), each must satisfy the constraint:
//! `purpose isAnyOf [research, education]` with purposes `research` and `marketing` is not
//! satisfied, because one declared purpose is not allowed. `isAllOf` asks the values to cover
//! every listed one; `hasPart` asks one of them to contain the listed one.

use std::cmp::Ordering;

use serde_json::Value;

use crate::odrl::decimal::Decimal;
use crate::odrl::model::{
    AtomicConstraint, Constraint, Literal, LogicalConstraint, LogicalOperand, OperandKind, Policy,
    RightOperand,
};
use crate::odrl::report::ConstraintReport;
use crate::odrl::request::{Context, EventPhase, Money};
use crate::odrl::spatial::Area;
use crate::odrl::vocab::{self, ODRL, Operator};
use crate::odrl::xsd::{XsdDuration, format_instant, parse_date_time};

/// Where constraints are being evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Constraints of a permission, prohibition or obligation, and refinements.
    Rule,
    /// Constraints deciding whether a permission's duty is active.
    DutyActivation,
}

/// What constraints are evaluated against.
pub(crate) struct Facts<'a> {
    pub policy: &'a Policy,
    pub context: &'a Context,
    /// The amount a `payAmount` constraint compares (a payment, when checking a compensate
    /// duty; otherwise the context's).
    pub pay_amount: Option<&'a Money>,
    pub role: Role,
}

/// Evaluate a conjunction of constraints.
pub(crate) fn all_satisfied(
    constraints: &[Constraint],
    facts: &Facts<'_>,
) -> (bool, Vec<ConstraintReport>) {
    let reports: Vec<ConstraintReport> = constraints.iter().map(|c| check(c, facts)).collect();
    (reports.iter().all(|r| r.satisfied), reports)
}

fn check(constraint: &Constraint, facts: &Facts<'_>) -> ConstraintReport {
    match constraint {
        Constraint::Atomic(atomic) => check_atomic(atomic, facts),
        Constraint::Logical(logical) => check_logical(logical, facts),
    }
}

fn check_logical(logical: &LogicalConstraint, facts: &Facts<'_>) -> ConstraintReport {
    let mut members = Vec::with_capacity(logical.constraints.len());
    let mut stopped = false;
    for member in &logical.constraints {
        if stopped {
            members.push(ConstraintReport {
                path: member.path.clone(),
                uid: member.uid.clone(),
                left_operand: Some(member.left.name().to_owned()),
                operator: Some(member.operator.term()),
                expected: Some(expected(member)),
                actual: None,
                logical: None,
                members: Vec::new(),
                satisfied: false,
                explanation:
                    "not evaluated: an earlier constraint of the sequence is not satisfied"
                        .to_owned(),
            });
            continue;
        }
        let report = check_atomic(member, facts);
        if logical.operand == LogicalOperand::AndSequence && !report.satisfied {
            stopped = true;
        }
        members.push(report);
    }
    let satisfied_count = members.iter().filter(|m| m.satisfied).count();
    let total = members.len();
    let (satisfied, explanation) = match logical.operand {
        LogicalOperand::And => (
            satisfied_count == total,
            format!("and: {satisfied_count} of {total} constraints satisfied, all are required"),
        ),
        LogicalOperand::Or => (
            satisfied_count >= 1,
            format!(
                "or: {satisfied_count} of {total} constraints satisfied, at least one is required"
            ),
        ),
        LogicalOperand::Xone => (
            satisfied_count == 1,
            format!(
                "xone: {satisfied_count} of {total} constraints satisfied, exactly one is required"
            ),
        ),
        LogicalOperand::AndSequence => (
            satisfied_count == total,
            if stopped {
                format!(
                    "andSequence: stopped at the first unsatisfied constraint ({satisfied_count} \
                     of {total} satisfied in order)"
                )
            } else {
                format!("andSequence: all {total} constraints satisfied in order")
            },
        ),
    };
    ConstraintReport {
        path: logical.path.clone(),
        uid: logical.uid.clone(),
        left_operand: None,
        operator: None,
        expected: None,
        actual: None,
        logical: Some(logical.operand),
        members,
        satisfied,
        explanation,
    }
}

/// The outcome of comparing, before it is written up.
enum Outcome {
    /// Compared: satisfied or not, with the actual value in words.
    Compared { satisfied: bool, actual: String },
    /// The context gives no value.
    Unknown,
    /// A value was given but cannot be compared, and why.
    Incomparable { actual: String, why: String },
    /// Satisfied without comparison, and why.
    Granted(String),
}

fn check_atomic(constraint: &AtomicConstraint, facts: &Facts<'_>) -> ConstraintReport {
    let outcome = match &constraint.right {
        RightOperand::Reference(iri) => Outcome::Incomparable {
            actual: String::new(),
            why: format!(
                "the right operand is a reference ({iri}) this evaluator does not dereference"
            ),
        },
        _ => match constraint.left.kind {
            OperandKind::DateTime => date_time(constraint, facts),
            OperandKind::ElapsedTime => elapsed_time(constraint, facts),
            OperandKind::Count => count(constraint, facts),
            OperandKind::PayAmount => pay_amount(constraint, facts),
            OperandKind::Purpose => terms(constraint, &facts.context.purpose, facts, false),
            OperandKind::Recipient => terms(constraint, &facts.context.recipient, facts, true),
            OperandKind::Spatial => spatial(constraint, facts),
            OperandKind::Event => event(constraint, facts),
            OperandKind::Other => generic(constraint, facts),
        },
    };
    write_up(constraint, outcome)
}

fn write_up(constraint: &AtomicConstraint, outcome: Outcome) -> ConstraintReport {
    let name = constraint.left.name();
    let expected = expected(constraint);
    let words = operator_words(constraint);
    let (satisfied, actual, explanation) = match outcome {
        Outcome::Compared { satisfied, actual } => {
            let not = if satisfied { "" } else { "not " };
            let verdict = if satisfied {
                "satisfied"
            } else {
                "not satisfied"
            };
            let explanation =
                format!("{verdict}: {name} is {actual}, which is {not}{words} {expected}");
            (satisfied, Some(actual), explanation)
        }
        Outcome::Unknown => (
            false,
            None,
            format!(
                "not satisfied: the request gives no {name} (closed world: an unknown value \
                 satisfies no constraint); the policy requires {name} {words} {expected}"
            ),
        ),
        Outcome::Incomparable { actual, why } => (
            false,
            (!actual.is_empty()).then_some(actual),
            format!("not satisfied: {why}"),
        ),
        Outcome::Granted(why) => (true, None, format!("satisfied: {why}")),
    };
    ConstraintReport {
        path: constraint.path.clone(),
        uid: constraint.uid.clone(),
        left_operand: Some(name.to_owned()),
        operator: Some(constraint.operator.term()),
        expected: Some(expected),
        actual,
        logical: None,
        members: Vec::new(),
        satisfied,
        explanation,
    }
}

/// The right operand in words.
fn expected(constraint: &AtomicConstraint) -> String {
    let list = |items: Vec<String>| {
        if constraint.operator.takes_a_list() {
            format!("[{}]", items.join(", "))
        } else {
            items.join(", ")
        }
    };
    match &constraint.right {
        RightOperand::Time(bound) => bound.to_string(),
        RightOperand::Duration(duration) => duration.to_string(),
        RightOperand::Count(count) => count.to_string(),
        RightOperand::Amount(amount) => match &constraint.unit {
            Some(unit) => format!("{amount} {unit}"),
            None => amount.to_string(),
        },
        RightOperand::Terms(terms) => {
            list(terms.iter().map(|t| vocab::compact(t).to_owned()).collect())
        }
        RightOperand::Areas(areas) => list(areas.iter().map(Area::to_string).collect()),
        RightOperand::Literals(literals) => list(literals.iter().map(Literal::to_string).collect()),
        RightOperand::Reference(iri) => iri.clone(),
    }
}

fn operator_words(constraint: &AtomicConstraint) -> &'static str {
    match (constraint.left.kind, constraint.operator) {
        (OperandKind::DateTime | OperandKind::Event, Operator::Lt) => "before",
        (OperandKind::DateTime | OperandKind::Event, Operator::Lteq) => "on or before",
        (OperandKind::DateTime | OperandKind::Event, Operator::Gt) => "after",
        (OperandKind::DateTime | OperandKind::Event, Operator::Gteq) => "on or after",
        (OperandKind::DateTime | OperandKind::Event, Operator::Eq) => "during",
        (OperandKind::DateTime | OperandKind::Event, Operator::Neq) => "outside",
        (OperandKind::Spatial, Operator::Eq | Operator::IsA | Operator::IsPartOf) => "within",
        (OperandKind::Spatial, Operator::Neq) => "outside",
        (OperandKind::Spatial, Operator::IsAnyOf) => "within one of",
        (OperandKind::Spatial, Operator::IsAllOf) => "within all of",
        (OperandKind::Spatial, Operator::IsNoneOf) => "within none of",
        (_, operator) => operator.words(),
    }
}

/// Whether an ordering between the actual and the expected value satisfies an operator.
fn ordered(operator: Operator, ordering: Ordering) -> bool {
    match operator {
        Operator::Eq => ordering == Ordering::Equal,
        Operator::Neq => ordering != Ordering::Equal,
        Operator::Lt => ordering == Ordering::Less,
        Operator::Lteq => ordering != Ordering::Greater,
        Operator::Gt => ordering == Ordering::Greater,
        Operator::Gteq => ordering != Ordering::Less,
        _ => false,
    }
}

fn date_time(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let (Some(now), RightOperand::Time(bound)) = (facts.context.date_time, &constraint.right)
    else {
        return Outcome::Unknown;
    };
    Outcome::Compared {
        satisfied: ordered(constraint.operator, bound.locate(now)),
        actual: format_instant(now),
    }
}

fn elapsed_time(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let RightOperand::Duration(limit) = &constraint.right else {
        return Outcome::Unknown;
    };
    let elapsed = match (facts.context.elapsed_time, &constraint.status) {
        (Some(elapsed), _) => elapsed,
        (None, Some(Literal::Duration(recorded))) => *recorded,
        _ => return Outcome::Unknown,
    };
    compare_durations(constraint.operator, &elapsed, limit)
}

fn compare_durations(operator: Operator, actual: &XsdDuration, limit: &XsdDuration) -> Outcome {
    match actual.partial_compare(limit) {
        Some(ordering) => Outcome::Compared {
            satisfied: ordered(operator, ordering),
            actual: actual.to_string(),
        },
        None => Outcome::Incomparable {
            actual: actual.to_string(),
            why: format!(
                "{actual} and {limit} cannot be ordered (months have different lengths; XSD 1.1 \
                 §3.3.6.2): write both in days or both in months"
            ),
        },
    }
}

/// `count` is the number of times the action has been exercised; the context gives the
/// uses logged so far, so this request is use number `count + 1`, and that number is
/// compared (IM §2.5.1: with a `status` of 5, "the action has already been exercised 5
/// times and the comparison must compare the current action"). `count lteq 10` therefore
/// allows ten uses; `count lt 10` allows nine.
fn count(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let RightOperand::Count(limit) = &constraint.right else {
        return Outcome::Unknown;
    };
    let (earlier, source) = match (facts.context.count, &constraint.status) {
        (Some(count), _) => (count, "logged"),
        (None, Some(Literal::Number(status))) => match status.to_u64() {
            Some(count) => (count, "recorded in the constraint's status"),
            None => return Outcome::Unknown,
        },
        _ => return Outcome::Unknown,
    };
    let this_use = earlier.saturating_add(1);
    Outcome::Compared {
        satisfied: ordered(constraint.operator, this_use.cmp(limit)),
        actual: format!("{this_use} for this request ({earlier} earlier uses {source})"),
    }
}

fn pay_amount(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let RightOperand::Amount(limit) = &constraint.right else {
        return Outcome::Unknown;
    };
    let Some(money) = facts.pay_amount else {
        return Outcome::Unknown;
    };
    let actual = match &money.currency {
        Some(currency) => format!("{} {currency}", money.value),
        None => money.value.to_string(),
    };
    if let Some(unit) = &constraint.unit {
        match &money.currency {
            Some(currency) if currency == unit => {}
            Some(currency) => {
                return Outcome::Incomparable {
                    why: format!("the amount is in {currency}, the policy counts in {unit}"),
                    actual,
                };
            }
            None => {
                return Outcome::Incomparable {
                    why: format!("the amount has no unit, the policy counts in {unit}"),
                    actual,
                };
            }
        }
    }
    Outcome::Compared {
        satisfied: ordered(constraint.operator, money.value.cmp(limit)),
        actual,
    }
}

/// Purpose and recipient: terms compared by identity; for recipients, `isA`/`isPartOf`
/// also hold for a member of the named party collection.
fn terms(
    constraint: &AtomicConstraint,
    values: &[String],
    facts: &Facts<'_>,
    parties: bool,
) -> Outcome {
    let RightOperand::Terms(expected) = &constraint.right else {
        return Outcome::Unknown;
    };
    if values.is_empty() {
        return Outcome::Unknown;
    }
    let prefixes = &facts.policy.prefixes;
    let equal = |value: &String, term: &String| prefixes.denotes(value, term);
    let within = |value: &String, term: &String| {
        equal(value, term)
            || (parties
                && crate::odrl::evaluate::is_member(
                    facts.policy,
                    &facts.context.party_membership,
                    value,
                    term,
                ))
    };
    let contains = |value: &String, term: &String| {
        equal(value, term)
            || (parties
                && crate::odrl::evaluate::is_member(
                    facts.policy,
                    &facts.context.party_membership,
                    term,
                    value,
                ))
    };
    let satisfied = set_semantics(
        constraint.operator,
        values,
        expected,
        equal,
        within,
        contains,
    );
    Outcome::Compared {
        satisfied,
        actual: values.join(", "),
    }
}

fn spatial(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let RightOperand::Areas(expected) = &constraint.right else {
        return Outcome::Unknown;
    };
    let values = &facts.context.spatial;
    if values.is_empty() {
        return Outcome::Unknown;
    }
    let within = |value: &Area, area: &Area| value.is_within(area);
    let contains = |value: &Area, area: &Area| area.is_within(value);
    let satisfied = set_semantics(
        constraint.operator,
        values,
        expected,
        within,
        within,
        contains,
    );
    Outcome::Compared {
        satisfied,
        actual: values
            .iter()
            .map(Area::describe_with_parents)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The set semantics shared by purpose, recipient, spatial and generic terms. `equal` is
/// identity (for `eq`/`neq`); `within` is membership or containment (for `isA`,
/// `isPartOf`, `isAnyOf`…); `contains` is the converse (for `hasPart`). Spatial passes
/// containment for both `equal` and `within`.
fn set_semantics<V, E>(
    operator: Operator,
    values: &[V],
    expected: &[E],
    equal: impl Fn(&V, &E) -> bool,
    within: impl Fn(&V, &E) -> bool,
    contains: impl Fn(&V, &E) -> bool,
) -> bool {
    let Some(first) = expected.first() else {
        return false;
    };
    if values.is_empty() {
        return false;
    }
    match operator {
        Operator::Eq => values.iter().all(|v| equal(v, first)),
        Operator::Neq => values.iter().all(|v| !equal(v, first)),
        Operator::IsA | Operator::IsPartOf => values.iter().all(|v| within(v, first)),
        Operator::HasPart => values.iter().any(|v| contains(v, first)),
        Operator::IsAnyOf => values.iter().all(|v| expected.iter().any(|e| within(v, e))),
        Operator::IsAllOf => expected.iter().all(|e| values.iter().any(|v| within(v, e))),
        Operator::IsNoneOf => values
            .iter()
            .all(|v| !expected.iter().any(|e| within(v, e))),
        Operator::Lt | Operator::Lteq | Operator::Gt | Operator::Gteq => false,
    }
}

fn event(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let RightOperand::Terms(events) = &constraint.right else {
        return Outcome::Unknown;
    };
    let Some(event) = events.first() else {
        return Outcome::Unknown;
    };
    let policy_usage = format!("{ODRL}policyUsage");
    let is_policy_usage = *event == policy_usage;
    if facts.role == Role::DutyActivation
        && is_policy_usage
        && matches!(constraint.operator, Operator::Lt | Operator::Lteq)
    {
        return Outcome::Granted(
            "the duty must be fulfilled before the permitted action is exercised (event before \
             policyUsage, IM Example 22): it is checked as a pre-condition of this request"
                .to_owned(),
        );
    }
    let prefixes = &facts.policy.prefixes;
    let phase = facts
        .context
        .events
        .iter()
        .find(|(written, _)| prefixes.denotes(written, event))
        .map(|(_, phase)| *phase)
        // The request is the moment the policy is used.
        .or(is_policy_usage.then_some(EventPhase::During));
    let Some(phase) = phase else {
        return Outcome::Unknown;
    };
    let ordering = match phase {
        EventPhase::Before => Ordering::Less,
        EventPhase::During => Ordering::Equal,
        EventPhase::After => Ordering::Greater,
    };
    let words = match phase {
        EventPhase::Before => "before",
        EventPhase::During => "during",
        EventPhase::After => "after",
    };
    Outcome::Compared {
        satisfied: ordered(constraint.operator, ordering),
        actual: format!("now {words} {}", vocab::compact(event)),
    }
}

/// Any other left operand: the context value under the policy's name for it, compared by
/// the type of the right operand.
fn generic(constraint: &AtomicConstraint, facts: &Facts<'_>) -> Outcome {
    let RightOperand::Literals(expected) = &constraint.right else {
        return Outcome::Unknown;
    };
    let other = &facts.context.other;
    let left = &constraint.left;
    let found = other
        .get(&left.written)
        .or_else(|| other.get(left.name()))
        .or_else(|| other.get(&left.iri))
        .or_else(|| {
            other
                .iter()
                .find(|(key, _)| facts.policy.prefixes.denotes(key, &left.iri))
                .map(|(_, value)| value)
        });
    let values: Vec<&Value> = match found {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(value) => vec![value],
        None => match &constraint.status {
            Some(status) => {
                return compare_literal_status(constraint, status, expected);
            }
            None => return Outcome::Unknown,
        },
    };
    let texts: Vec<String> = values.iter().map(|v| json_text(v)).collect();
    let actual = texts.join(", ");
    let operator = constraint.operator;
    if matches!(
        operator,
        Operator::Lt | Operator::Lteq | Operator::Gt | Operator::Gteq
    ) || matches!(
        expected.first(),
        Some(Literal::Number(_) | Literal::Time(_) | Literal::Duration(_))
    ) && matches!(operator, Operator::Eq | Operator::Neq)
    {
        let Some(limit) = expected.first() else {
            return Outcome::Unknown;
        };
        let mut all = true;
        for text in &texts {
            match compare_text_with(text, limit) {
                Some(ordering) => all &= ordered(operator, ordering),
                None => {
                    return Outcome::Incomparable {
                        why: format!(
                            "{} is `{text}`, which cannot be compared with {limit}",
                            left.name()
                        ),
                        actual,
                    };
                }
            }
        }
        return Outcome::Compared {
            satisfied: all,
            actual,
        };
    }
    let prefixes = &facts.policy.prefixes;
    let equal = |value: &String, literal: &Literal| match literal {
        Literal::Iri(iri) => prefixes.denotes(value, iri),
        Literal::Text(text) => value == text,
        Literal::Boolean(flag) => *value == flag.to_string(),
        other => compare_text_with(value, other) == Some(Ordering::Equal),
    };
    Outcome::Compared {
        satisfied: set_semantics(operator, &texts, expected, equal, equal, equal),
        actual,
    }
}

fn compare_literal_status(
    constraint: &AtomicConstraint,
    status: &Literal,
    expected: &[Literal],
) -> Outcome {
    let Some(limit) = expected.first() else {
        return Outcome::Unknown;
    };
    let text = match status {
        Literal::Iri(text) | Literal::Text(text) => text.clone(),
        other => other.to_string(),
    };
    match compare_text_with(&text, limit) {
        Some(ordering) => Outcome::Compared {
            satisfied: ordered(constraint.operator, ordering),
            actual: format!("{text} (recorded in the constraint's status)"),
        },
        None => Outcome::Unknown,
    }
}

/// Compare a context value (as text) with a typed literal.
fn compare_text_with(text: &str, literal: &Literal) -> Option<Ordering> {
    match literal {
        Literal::Number(limit) => Decimal::parse(text).map(|value| value.cmp(limit)),
        Literal::Time(bound) => parse_date_time(text).map(|instant| bound.locate(instant)),
        Literal::Duration(limit) => XsdDuration::parse(text)?.partial_compare(limit),
        Literal::Boolean(flag) => (text == flag.to_string()).then_some(Ordering::Equal),
        Literal::Iri(value) | Literal::Text(value) => Some(text.cmp(value.as_str())),
    }
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(map) => map
            .get("@value")
            .or_else(|| map.get("@id"))
            .map(json_text)
            .unwrap_or_else(|| value.to_string()),
        other => other.to_string(),
    }
}
