//! The evaluator: permit, deny or not applicable, following the ODRL Formal Semantics
//! (W3C ODRL Community Group draft, "ODRL Formal Semantics", access control scenario).
//!
//! For each rule, as the formal semantics say:
//! - a rule **applies** to the request when the requested action is the rule's action or is
//!   `includedIn` it (transitively: a permission for `use` covers `read`, not the reverse),
//!   and the target and assignee match when the rule names them (equal, or a member of the
//!   named collection per `assetMembership`/`partyMembership` or `partOf` in the policy);
//! - a **permission is active** iff all its constraints are satisfied and each of its duties
//!   is fulfilled or inactive (a duty is active iff its own constraints are satisfied);
//! - a **prohibition is active** iff all its constraints are satisfied;
//! - a rule **takes effect** on the request when it applies, is active and every refinement
//!   (of its action, target collection and assignee collection) is satisfied.
//!
//! Then: a prohibition that takes effect denies; a permission that takes effect permits;
//! both is a conflict, resolved by the policy's strategy (IM §2.10): `perm`, `prohibit`, or
//! `invalid` (the default), which voids the whole policy, so that every request is denied.
//! With `invalid`, any permission and prohibition both in force over overlapping actions,
//! assets and parties void the policy, even if neither is about this request. A rule that
//! applies but does not take effect leaves the request denied (closed world: only what is
//! explicitly permitted is allowed); when no rule applies the answer is not applicable.
//!
//! An Offer is a proposal, "not considered by an ODRL Evaluator" (formal semantics,
//! "Semantics of Policies"): it answers not applicable unless the request asks to evaluate
//! it as though agreed (`evaluateOffer`). Obligations are reported with their state and do
//! not change the decision; remedies are listed with the prohibition they repair.

use std::collections::{HashMap, HashSet};

use crate::odrl::check::{Facts, Role, all_satisfied};
use crate::odrl::model::{
    Asset, ConflictStrategy, Constraint, Duty, Literal, Party, Policy, PolicyKind, RightOperand,
    Rule, RuleKind,
};
use crate::odrl::parse::MAX_ACTION_DEPTH;
use crate::odrl::report::{
    ConflictReport, ConflictingRules, ConstraintReport, Decision, DutyReport, Evaluation, RuleRef,
    RuleReport,
};
use crate::odrl::request::{Context, DeonticState, Money, Payment, Request};
use crate::odrl::vocab::{self, ODRL, PROJECT};
use crate::odrl::xsd::format_instant;

/// How deep collection membership is followed.
const MAX_MEMBERSHIP_DEPTH: usize = 16;

/// Evaluate a request against a policy.
pub fn evaluate(policy: &Policy, request: &Request) -> Evaluation {
    let requested = Requested::new(policy, request);
    let conflict_base = ConflictReport {
        strategy: policy.conflict,
        note: policy.conflict_note.clone(),
        detected: None,
        outcome: None,
    };
    if policy.kind == PolicyKind::Offer && !request.evaluate_offer {
        return Evaluation {
            decision: Decision::NotApplicable,
            reason: "the policy is an Offer: a proposal that grants nothing until it is agreed \
                     (ODRL formal semantics); evaluate the Agreement, or set evaluateOffer to \
                     try the Offer as if agreed"
                .to_owned(),
            policy: policy.uid.clone(),
            policy_type: policy.kind,
            deciding_rule: None,
            conflict: conflict_base,
            rules: Vec::new(),
            obligations: Vec::new(),
            warnings: policy.warnings.clone(),
        };
    }
    let facts = Facts {
        policy,
        context: &request.context,
        pay_amount: request.context.pay_amount.as_ref(),
        role: Role::Rule,
    };
    let permissions: Vec<RuleOutcome> = policy
        .permissions
        .iter()
        .enumerate()
        .map(|(index, rule)| evaluate_rule(policy, rule, index, &requested, &facts))
        .collect();
    let prohibitions: Vec<RuleOutcome> = policy
        .prohibitions
        .iter()
        .enumerate()
        .map(|(index, rule)| evaluate_rule(policy, rule, index, &requested, &facts))
        .collect();
    let obligations = policy
        .obligations
        .iter()
        .map(|duty| evaluate_duty(policy, duty, &facts))
        .collect();

    let conflict_pair = find_conflict(policy, &permissions, &prohibitions);
    let permitting = permissions.iter().find(|o| o.applies && o.in_force);
    let prohibiting = prohibitions.iter().find(|o| o.applies && o.in_force);
    let any_applies = permissions.iter().chain(&prohibitions).any(|o| o.applies);

    let mut conflict = conflict_base;
    let (decision, deciding, reason) = if let (Some((p, n)), ConflictStrategy::Invalid) =
        (conflict_pair, policy.conflict)
    {
        conflict.detected = Some(ConflictingRules {
            permission: permissions[p].report.rule.clone(),
            prohibition: prohibitions[n].report.rule.clone(),
        });
        let outcome = format!(
            "{} and {} are both in force over the same action, asset and party, and the \
             conflict strategy is invalid: the whole policy is void (IM §2.10)",
            label(&permissions[p].report.rule),
            label(&prohibitions[n].report.rule)
        );
        conflict.outcome = Some(outcome.clone());
        (Decision::Deny, None, outcome)
    } else {
        match (permitting, prohibiting) {
            (Some(permission), Some(prohibition)) => {
                conflict.detected = Some(ConflictingRules {
                    permission: permission.report.rule.clone(),
                    prohibition: prohibition.report.rule.clone(),
                });
                if policy.conflict == ConflictStrategy::Perm {
                    let outcome = format!(
                        "{} and {} conflict; the strategy perm makes the permission prevail",
                        label(&permission.report.rule),
                        label(&prohibition.report.rule)
                    );
                    conflict.outcome = Some(outcome.clone());
                    (Decision::Permit, Some(permission), outcome)
                } else {
                    let outcome = format!(
                        "{} and {} conflict; the strategy prohibit makes the prohibition prevail",
                        label(&permission.report.rule),
                        label(&prohibition.report.rule)
                    );
                    conflict.outcome = Some(outcome.clone());
                    (Decision::Deny, Some(prohibition), outcome)
                }
            }
            (None, Some(prohibition)) => (
                Decision::Deny,
                Some(prohibition),
                format!(
                    "prohibited by {}: {}",
                    label(&prohibition.report.rule),
                    requested.describe()
                ),
            ),
            (Some(permission), None) => (
                Decision::Permit,
                Some(permission),
                format!(
                    "permitted by {}: {}",
                    label(&permission.report.rule),
                    requested.describe()
                ),
            ),
            (None, None) if any_applies => {
                let first = permissions.iter().find(|o| o.applies);
                let reason = match first {
                    Some(outcome) => format!(
                        "denied: {} is about this request but {}",
                        label(&outcome.report.rule),
                        outcome.report.outcome
                    ),
                    None => format!(
                        "denied: no permission is about {} (only what is explicitly \
                         permitted is allowed)",
                        requested.describe()
                    ),
                };
                (Decision::Deny, first, reason)
            }
            (None, None) => (
                Decision::NotApplicable,
                None,
                format!("no rule of the policy is about {}", requested.describe()),
            ),
        }
    };
    let deciding_rule = deciding.map(|o| o.report.rule.clone());
    Evaluation {
        decision,
        reason,
        policy: policy.uid.clone(),
        policy_type: policy.kind,
        deciding_rule,
        conflict,
        rules: permissions
            .into_iter()
            .chain(prohibitions)
            .map(|o| o.report)
            .collect(),
        obligations,
        warnings: policy.warnings.clone(),
    }
}

/// The request's action, target and assignee, expanded in the policy's context.
struct Requested<'a> {
    action: String,
    target: Option<String>,
    assignee: Option<String>,
    request: &'a Request,
}

impl<'a> Requested<'a> {
    fn new(policy: &Policy, request: &'a Request) -> Requested<'a> {
        let prefixes = &policy.prefixes;
        Requested {
            action: prefixes
                .expand_vocab(&request.action)
                .unwrap_or_else(|bare| bare),
            target: request.target.as_deref().map(|t| prefixes.expand_id(t)),
            assignee: request.assignee.as_deref().map(|a| prefixes.expand_id(a)),
            request,
        }
    }

    fn describe(&self) -> String {
        let mut words = format!("action {}", vocab::compact(&self.action));
        if let Some(target) = &self.target {
            words.push_str(&format!(" on {target}"));
        }
        if let Some(assignee) = &self.assignee {
            words.push_str(&format!(" by {assignee}"));
        }
        words
    }
}

/// One rule's evaluation.
struct RuleOutcome {
    report: RuleReport,
    /// About this request (action, target, assignee).
    applies: bool,
    /// Active and every refinement satisfied: the rule takes effect when it applies.
    in_force: bool,
}

fn label(rule: &RuleRef) -> String {
    match &rule.uid {
        Some(uid) => format!("{} {uid} ({})", kind_word(rule.kind), rule.path),
        None => format!("{} {}", kind_word(rule.kind), rule.path),
    }
}

fn kind_word(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Permission => "permission",
        RuleKind::Prohibition => "prohibition",
    }
}

fn evaluate_rule(
    policy: &Policy,
    rule: &Rule,
    index: usize,
    requested: &Requested<'_>,
    facts: &Facts<'_>,
) -> RuleOutcome {
    let context = &requested.request.context;
    let mut scope = Vec::with_capacity(3);
    let action_matches = match action_chain(policy, &requested.action, &rule.action.iri) {
        Some(chain) if chain.len() <= 1 => {
            scope.push(format!(
                "action {} is the rule's action",
                vocab::compact(&rule.action.iri)
            ));
            true
        }
        Some(chain) => {
            let chain: Vec<&str> = chain.iter().map(|a| vocab::compact(a)).collect();
            scope.push(format!(
                "action {} is included in {} ({})",
                chain.first().copied().unwrap_or_default(),
                vocab::compact(&rule.action.iri),
                chain.join(" ⊂ ")
            ));
            true
        }
        None => {
            let narrower = action_chain(policy, &rule.action.iri, &requested.action).is_some();
            scope.push(if narrower {
                format!(
                    "the rule is about {}, narrower than the requested {}: it does not cover it",
                    vocab::compact(&rule.action.iri),
                    vocab::compact(&requested.action)
                )
            } else {
                format!(
                    "the rule is about {}, which does not include the requested {}",
                    vocab::compact(&rule.action.iri),
                    vocab::compact(&requested.action)
                )
            });
            false
        }
    };
    let target_matches = match (&rule.target, &requested.target) {
        (None, _) => true,
        (Some(asset), Some(target)) => {
            let (matched, words) = entity_matches(
                policy,
                &context.asset_membership,
                &asset.iri,
                target,
                "target",
                "assetMembership",
            );
            scope.push(words);
            matched
        }
        (Some(asset), None) => {
            scope.push(format!(
                "the request names no target; the rule is about {}",
                asset.iri
            ));
            false
        }
    };
    let assignee_matches = match (&rule.assignee, &requested.assignee) {
        (None, _) => {
            scope.push("any assignee: the rule names none".to_owned());
            true
        }
        (Some(party), Some(assignee)) => {
            let (matched, words) = entity_matches(
                policy,
                &context.party_membership,
                &party.iri,
                assignee,
                "assignee",
                "partyMembership",
            );
            scope.push(words);
            matched
        }
        (Some(party), None) => {
            scope.push(format!(
                "the request names no assignee; the rule is for {}",
                party.iri
            ));
            false
        }
    };
    let applies = action_matches && target_matches && assignee_matches;

    let (constraints_ok, constraints) = all_satisfied(&rule.constraints, facts);
    let mut refinements = Vec::new();
    let mut refinements_ok = true;
    let lists: [&[Constraint]; 3] = [
        &rule.action.refinements,
        rule.target
            .as_ref()
            .map_or(&[], |a: &Asset| a.refinements.as_slice()),
        rule.assignee
            .as_ref()
            .map_or(&[], |p: &Party| p.refinements.as_slice()),
    ];
    for list in lists {
        let (ok, reports) = all_satisfied(list, facts);
        refinements_ok &= ok;
        refinements.extend(reports);
    }
    let duties: Vec<(bool, DutyReport)> = rule
        .duties
        .iter()
        .map(|duty| {
            let report = evaluate_duty(policy, duty, facts);
            let satisfied = !report.active || report.deontic_state == DeonticState::Fulfilled;
            (satisfied, report)
        })
        .collect();
    let duties_ok = duties.iter().all(|(ok, _)| *ok);
    let remedies = rule
        .remedies
        .iter()
        .map(|duty| evaluate_duty(policy, duty, facts))
        .collect();
    let active = constraints_ok && duties_ok;
    let in_force = active && refinements_ok;

    let outcome = if !applies {
        format!(
            "does not apply: {}",
            // Every mismatch is worded "the rule…"/"the request…"; matches never start so.
            scope
                .iter()
                .filter(|s| s.starts_with("the "))
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    } else if !constraints_ok {
        first_failure("is not active: a constraint is not satisfied", &constraints)
    } else if !duties_ok {
        let failed: Vec<String> = duties
            .iter()
            .filter(|(ok, _)| !ok)
            .map(|(_, d)| {
                format!(
                    "duty {} ({}) is {}",
                    d.key,
                    d.action,
                    state_word(d.deontic_state)
                )
            })
            .collect();
        format!(
            "is not active: a duty is not fulfilled ({}); a permission whose active duty is not \
             fulfilled grants nothing (formal semantics)",
            failed.join("; ")
        )
    } else if !refinements_ok {
        first_failure(
            "does not take effect: a refinement is not satisfied",
            &refinements,
        )
    } else {
        match rule.kind {
            RuleKind::Permission => "permits the request".to_owned(),
            RuleKind::Prohibition => {
                if rule.remedies.is_empty() {
                    "prohibits the request".to_owned()
                } else {
                    "prohibits the request; if infringed, its remedies must be fulfilled".to_owned()
                }
            }
        }
    };
    RuleOutcome {
        report: RuleReport {
            rule: RuleRef {
                kind: rule.kind,
                index,
                path: rule.path.clone(),
                uid: rule.uid.clone(),
            },
            action: vocab::compact(&rule.action.iri).to_owned(),
            target: rule.target.as_ref().map(|t| t.iri.clone()),
            assignee: rule.assignee.as_ref().map(|a| a.iri.clone()),
            applies,
            scope,
            active,
            constraints,
            refinements,
            duties: duties.into_iter().map(|(_, d)| d).collect(),
            remedies,
            outcome,
        },
        applies,
        in_force,
    }
}

fn first_failure(prefix: &str, reports: &[ConstraintReport]) -> String {
    match reports.iter().find(|r| !r.satisfied) {
        Some(report) => format!("{prefix} ({}: {})", report.path, report.explanation),
        None => prefix.to_owned(),
    }
}

fn state_word(state: DeonticState) -> &'static str {
    match state {
        DeonticState::NotSet => "not fulfilled yet",
        DeonticState::Fulfilled => "fulfilled",
        DeonticState::Violated => "violated",
    }
}

/// The chain from `action` up to `ancestor` through `includedIn`, if `ancestor` is
/// `action` or one of its ancestors.
fn action_chain(policy: &Policy, action: &str, ancestor: &str) -> Option<Vec<String>> {
    let mut chain = vec![action.to_owned()];
    let mut current = action.to_owned();
    for _ in 0..MAX_ACTION_DEPTH {
        if current == ancestor {
            return Some(chain);
        }
        current = policy.parent_action(&current)?;
        chain.push(current.clone());
    }
    None
}

/// Whether an action covers another (it, or an ancestor of it).
pub(crate) fn action_covers(policy: &Policy, rule_action: &str, action: &str) -> bool {
    action_chain(policy, action, rule_action).is_some()
}

fn entity_matches(
    policy: &Policy,
    membership: &HashMap<String, Vec<String>>,
    rule_entity: &str,
    requested: &str,
    what: &str,
    source: &str,
) -> (bool, String) {
    if rule_entity == requested {
        return (true, format!("{what} {requested} is the rule's {what}"));
    }
    if is_member(policy, membership, requested, rule_entity) {
        return (
            true,
            format!(
                "{what} {requested} is a member of the rule's collection {rule_entity} ({source} or partOf)"
            ),
        );
    }
    (
        false,
        format!("the rule's {what} is {rule_entity}; {requested} is neither it nor a member of it"),
    )
}

/// Whether `member` belongs, directly or through nested collections, to `collection`, per
/// the request's membership map and the `partOf` declarations of the policy. Either side may
/// be written as in the request or expanded.
pub(crate) fn is_member(
    policy: &Policy,
    membership: &HashMap<String, Vec<String>>,
    member: &str,
    collection: &str,
) -> bool {
    let same =
        |a: &str, b: &str| a == b || policy.prefixes.denotes(a, b) || policy.prefixes.denotes(b, a);
    let mut frontier = vec![member.to_owned()];
    let mut seen: HashSet<String> = HashSet::new();
    for _ in 0..MAX_MEMBERSHIP_DEPTH {
        let mut next = Vec::new();
        for current in &frontier {
            let declared = policy
                .declared_membership
                .iter()
                .chain(membership.iter())
                .filter(|(key, _)| same(key, current))
                .flat_map(|(_, collections)| collections.iter());
            for parent in declared {
                if same(parent, collection) {
                    return true;
                }
                if seen.insert(parent.clone()) {
                    next.push(parent.clone());
                }
            }
        }
        if next.is_empty() {
            return false;
        }
        frontier = next;
    }
    false
}

/// A permission's and a prohibition's overlapping scope: related actions, the same or
/// nested assets and parties (or none named).
fn find_conflict(
    policy: &Policy,
    permissions: &[RuleOutcome],
    prohibitions: &[RuleOutcome],
) -> Option<(usize, usize)> {
    let empty = HashMap::new();
    for (p, permission) in permissions.iter().enumerate() {
        if !permission.in_force {
            continue;
        }
        let allowed = &policy.permissions[p];
        for (n, prohibition) in prohibitions.iter().enumerate() {
            if !prohibition.in_force {
                continue;
            }
            let denied = &policy.prohibitions[n];
            let actions = action_covers(policy, &allowed.action.iri, &denied.action.iri)
                || action_covers(policy, &denied.action.iri, &allowed.action.iri);
            let overlap = |a: Option<&str>, b: Option<&str>| match (a, b) {
                (Some(a), Some(b)) => {
                    a == b || is_member(policy, &empty, a, b) || is_member(policy, &empty, b, a)
                }
                _ => true,
            };
            let assets = overlap(
                allowed.target.as_ref().map(|t| t.iri.as_str()),
                denied.target.as_ref().map(|t| t.iri.as_str()),
            );
            let parties = overlap(
                allowed.assignee.as_ref().map(|a| a.iri.as_str()),
                denied.assignee.as_ref().map(|a| a.iri.as_str()),
            );
            if actions && assets && parties {
                return Some((p, n));
            }
        }
    }
    None
}

/// Evaluate a duty: active when its constraints hold; its deontic state from the request's
/// `dutyStates`, or, for `compensate`, from the payments made.
pub(crate) fn evaluate_duty(policy: &Policy, duty: &Duty, facts: &Facts<'_>) -> DutyReport {
    let activation = Facts {
        role: Role::DutyActivation,
        ..*facts
    };
    let (active, constraints) = all_satisfied(&duty.constraints, &activation);
    let context = facts.context;
    let declared = context
        .duty_states
        .iter()
        .find(|(key, _)| {
            *key == &duty.key
                || *key == &duty.path
                || duty
                    .uid
                    .as_deref()
                    .is_some_and(|uid| policy.prefixes.denotes(key, uid))
        })
        .map(|(_, state)| *state);
    let compensate = format!("{ODRL}compensate");
    let (deontic_state, explanation) = match declared {
        Some(state) => (
            state,
            format!(
                "{} according to the request's dutyStates",
                state_word(state)
            ),
        ),
        None if action_covers(policy, &compensate, &duty.action.iri) => paid(policy, duty, context),
        None => (
            DeonticState::NotSet,
            format!(
                "not fulfilled yet: the request's dutyStates say nothing of duty {}",
                duty.key
            ),
        ),
    };
    let explanation = if active {
        explanation
    } else {
        format!(
            "inactive (a constraint of the duty is not satisfied): it binds nobody now; {explanation}"
        )
    };
    let consequences = duty
        .consequences
        .iter()
        .map(|consequence| evaluate_duty(policy, consequence, facts))
        .collect();
    DutyReport {
        key: duty.key.clone(),
        path: duty.path.clone(),
        action: vocab::compact(&duty.action.iri).to_owned(),
        active,
        deontic_state,
        constraints,
        consequences,
        explanation,
    }
}

/// Whether the payments made fulfil a compensate duty: a payment for this duty whose amount
/// satisfies the duty's `payAmount` refinements, to the compensated party (or the
/// assigner), from the compensating party when one is named, made no later than the request.
/// With the refinement `unitOfCount eq ecd:perUse`, one such payment is due per use: this
/// request needs `count + 1` of them.
fn paid(policy: &Policy, duty: &Duty, context: &Context) -> (DeonticState, String) {
    let payee = duty
        .party("compensatedParty")
        .or(duty.assigner.as_ref())
        .map(|p| p.iri.as_str());
    let payer = duty.party("compensatingParty").map(|p| p.iri.as_str());
    let per_use = duty.action.refinements.iter().any(is_per_use);
    let amount_refinements: Vec<Constraint> = duty
        .action
        .refinements
        .iter()
        .filter(|c| !is_per_use(c))
        .cloned()
        .collect();
    let needed = if per_use {
        context.count.unwrap_or(0).saturating_add(1)
    } else {
        1
    };
    let same = |written: &str, iri: &str| written == iri || policy.prefixes.denotes(written, iri);
    let mut matching = 0u64;
    let mut rejections = Vec::new();
    for payment in &context.payments {
        let for_this_duty = payment.duty == duty.key
            || payment.duty == duty.path
            || duty
                .uid
                .as_deref()
                .is_some_and(|uid| same(&payment.duty, uid));
        if !for_this_duty {
            continue;
        }
        match payment_problem(
            policy,
            payment,
            payee,
            payer,
            &amount_refinements,
            context,
            &same,
        ) {
            None => matching += 1,
            Some(problem) => rejections.push(problem),
        }
    }
    if matching >= needed {
        let unit = if per_use {
            format!(" ({matching} payments for {needed} uses, one due per use)")
        } else {
            String::new()
        };
        return (
            DeonticState::Fulfilled,
            format!("fulfilled by payment{unit}"),
        );
    }
    let mut explanation = if per_use {
        format!("not fulfilled: {matching} matching payments, {needed} due (one per use)")
    } else {
        format!("not fulfilled: no matching payment for duty {}", duty.key)
    };
    if !rejections.is_empty() {
        explanation.push_str(&format!(" — {}", rejections.join("; ")));
    }
    (DeonticState::NotSet, explanation)
}

fn is_per_use(constraint: &Constraint) -> bool {
    let Constraint::Atomic(atomic) = constraint else {
        return false;
    };
    if atomic.left.iri != format!("{ODRL}unitOfCount") {
        return false;
    }
    match &atomic.right {
        RightOperand::Literals(literals) => literals.iter().any(|l| match l {
            Literal::Iri(iri) | Literal::Text(iri) => {
                iri == &format!("{PROJECT}perUse") || iri == "perUse"
            }
            _ => false,
        }),
        _ => false,
    }
}

fn payment_problem(
    policy: &Policy,
    payment: &Payment,
    payee: Option<&str>,
    payer: Option<&str>,
    refinements: &[Constraint],
    context: &Context,
    same: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    if let Some(payee) = payee {
        match &payment.payee {
            Some(paid_to) if same(paid_to, payee) => {}
            Some(paid_to) => return Some(format!("payment to {paid_to}, not to {payee}")),
            None => return Some(format!("payment names no payee; {payee} is due")),
        }
    }
    if let Some(payer) = payer {
        match &payment.payer {
            Some(paid_by) if same(paid_by, payer) => {}
            Some(paid_by) => return Some(format!("payment by {paid_by}, not by {payer}")),
            None => return Some(format!("payment names no payer; {payer} must pay")),
        }
    }
    if let (Some(date), Some(now)) = (payment.date, context.date_time)
        && date > now
    {
        return Some(format!(
            "payment dated {} is after the request ({})",
            format_instant(date),
            format_instant(now)
        ));
    }
    let money = Money {
        value: payment.amount,
        currency: payment.currency.clone(),
    };
    let facts = Facts {
        policy,
        context,
        pay_amount: Some(&money),
        role: Role::Rule,
    };
    let (ok, reports) = all_satisfied(refinements, &facts);
    if !ok {
        let failure = reports
            .iter()
            .find(|r| !r.satisfied)
            .map(|r| r.explanation.clone())
            .unwrap_or_default();
        return Some(format!("payment of {}: {failure}", money_words(&money)));
    }
    None
}

fn money_words(money: &Money) -> String {
    match &money.currency {
        Some(currency) => format!("{} {currency}", money.value),
        None => money.value.to_string(),
    }
}
