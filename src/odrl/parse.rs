//! From ODRL JSON-LD (compact, prefixed or full IRIs) to a validated [`Policy`].
//!
//! Parsing and validation are one pass: every problem is collected with its JSON path, and a
//! policy comes out only when there are none. The pass also does the processing the
//! Information Model asks of a consumer:
//! - shared policy-level `action`, `target` and party properties are copied into the rules
//!   that lack them (§2.7.1 "Compact Policy"; a rule's own value wins);
//! - compound rules are split into atomic rules, one per action × target × assigner ×
//!   assignee (§2.7 "Policy Rule Composition");
//! - duties without parties take them from their permission (§2.6.5);
//! - `inheritFrom` parents given in the same document (a JSON array or `@graph`) are merged
//!   (§2.9), and so are constraints referenced by `@id` (Example 15) and custom actions with
//!   their `includedIn` (§3.3).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::odrl::decimal::Decimal;
use crate::odrl::error::{Problem, ValidationError};
use crate::odrl::model::{
    Action, Asset, AtomicConstraint, ConflictStrategy, Constraint, Duty, LeftOperand, Literal,
    LogicalConstraint, LogicalOperand, OperandKind, Party, Policy, PolicyKind, RightOperand, Rule,
    RuleKind, normalise_currency,
};
use crate::odrl::spatial::Area;
use crate::odrl::vocab::{self, FUNCTIONS, LEFT_OPERANDS, ODRL, Operator, Prefixes, XSD};
use crate::odrl::xsd::{TimeBound, XsdDuration};

/// Deepest `includedIn` chain followed (a guard against cycles the check below misses).
pub(crate) const MAX_ACTION_DEPTH: usize = 32;

/// Parse and validate a policy document.
pub fn parse_policy(document: &Value) -> Result<Policy, Vec<ValidationError>> {
    let mut parser = Parser::default();
    let nodes = parser.collect_nodes(document);
    if nodes.is_empty() {
        return Err(parser.errors);
    }
    parser.index_nodes(&nodes);
    let Some((main_path, main)) = nodes.iter().find(|(_, node)| is_policy_node(&parser, node))
    else {
        return Err(vec![ValidationError {
            path: "$".into(),
            problem: Problem::NoPolicy,
        }]);
    };
    let policy = parser.policy(main_path, main, &nodes);
    match policy {
        Some(policy) if parser.errors.is_empty() => Ok(policy),
        _ => Err(parser.errors),
    }
}

#[derive(Default)]
struct Parser<'a> {
    prefixes: Prefixes,
    errors: Vec<ValidationError>,
    warnings: Vec<String>,
    /// Constraint nodes given at top level, by expanded uid.
    constraint_nodes: HashMap<String, &'a Map<String, Value>>,
    action_parents: HashMap<String, String>,
    membership: HashMap<String, Vec<String>>,
    profile_declared: bool,
    warned_profile_terms: HashSet<String>,
}

/// Policy-level properties shared with every rule (IM §2.7.1).
#[derive(Default, Clone)]
struct Shared<'a> {
    properties: HashMap<&'static str, &'a Value>,
}

/// Parties a duty inherits from its permission (IM §2.6.5).
#[derive(Default, Clone)]
struct InheritedParties {
    assigner: Option<Party>,
    assignee: Option<Party>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DutyRole {
    Condition,
    Obligation,
    Consequence,
    Remedy,
}

/// The properties that may be shared at policy level.
const SHARED_PROPERTIES: [&str; 16] = [
    "action",
    "target",
    "assigner",
    "assignee",
    "attributedParty",
    "attributingParty",
    "compensatedParty",
    "compensatingParty",
    "consentingParty",
    "consentedParty",
    "contractingParty",
    "contractedParty",
    "informedParty",
    "informingParty",
    "trackingParty",
    "trackedParty",
];

const LOGICAL_OPERANDS: [(&str, LogicalOperand); 4] = [
    ("and", LogicalOperand::And),
    ("or", LogicalOperand::Or),
    ("xone", LogicalOperand::Xone),
    ("andSequence", LogicalOperand::AndSequence),
];

/// Look up an ODRL property written as a term, `odrl:term`, or a full IRI.
fn get<'v>(node: &'v Map<String, Value>, term: &str) -> Option<&'v Value> {
    if let Some(value) = node.get(term) {
        return Some(value);
    }
    if term == "uid" {
        return node.get("@id");
    }
    node.get(&format!("odrl:{term}"))
        .or_else(|| node.get(&format!("{ODRL}{term}")))
}

/// The items of a value that may be one item, an array, `{"@list": […]}` or `{"@set": […]}`.
fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(map)) => match map.get("@list").or_else(|| map.get("@set")) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(other) => vec![other],
            None => vec![value.unwrap_or(&Value::Null)],
        },
        Some(other) => vec![other],
    }
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The identifier a value names: a string, or `@id`/`uid` of an object.
fn identifier(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(map) => get(map, "uid").and_then(Value::as_str),
        _ => None,
    }
}

fn is_policy_node(parser: &Parser<'_>, node: &Map<String, Value>) -> bool {
    let typed = parser.types(node).iter().any(|t| {
        matches!(
            vocab::compact(t),
            "Set"
                | "Offer"
                | "Agreement"
                | "Policy"
                | "Privacy"
                | "Request"
                | "Ticket"
                | "Assertion"
        )
    });
    typed
        || ["permission", "prohibition", "obligation"]
            .iter()
            .any(|key| get(node, key).is_some())
}

impl<'a> Parser<'a> {
    fn error(&mut self, path: &str, problem: Problem) {
        self.errors.push(ValidationError {
            path: path.to_owned(),
            problem,
        });
    }

    /// The top-level nodes of the document with their paths.
    fn collect_nodes(&mut self, document: &'a Value) -> Vec<(String, &'a Map<String, Value>)> {
        let mut nodes = Vec::new();
        match document {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::Object(map) => nodes.push((format!("[{index}]"), map)),
                        other => self.error(
                            &format!("[{index}]"),
                            Problem::WrongShape {
                                expected: "a JSON-LD node object",
                                found: shape(other),
                            },
                        ),
                    }
                }
            }
            Value::Object(map) => {
                if let Some(context) = map.get("@context") {
                    self.prefixes.declare_from_context(context);
                }
                match map.get("@graph") {
                    Some(Value::Array(graph)) => {
                        for (index, item) in graph.iter().enumerate() {
                            if let Value::Object(node) = item {
                                nodes.push((format!("@graph[{index}]"), node));
                            }
                        }
                    }
                    _ => nodes.push((String::new(), map)),
                }
            }
            other => self.error(
                "$",
                Problem::WrongShape {
                    expected: "a JSON object (an ODRL policy) or an array of JSON-LD nodes",
                    found: shape(other),
                },
            ),
        }
        for (_, node) in &nodes {
            if let Some(context) = node.get("@context") {
                self.prefixes.declare_from_context(context);
            }
        }
        nodes
    }

    /// Record constraints, custom actions and `partOf` declared as separate nodes.
    fn index_nodes(&mut self, nodes: &[(String, &'a Map<String, Value>)]) {
        for (_, node) in nodes {
            let types = self.types(node);
            let uid = get(node, "uid").and_then(Value::as_str);
            let is_constraint = types
                .iter()
                .any(|t| matches!(vocab::compact(t), "Constraint" | "LogicalConstraint"))
                || get(node, "leftOperand").is_some();
            if let (true, Some(uid)) = (is_constraint, uid) {
                self.constraint_nodes
                    .insert(self.prefixes.expand_id(uid), node);
            }
            if let (Some(uid), Some(parent)) = (uid, get(node, "includedIn"))
                && let Some(parent) = identifier(parent)
            {
                let action = self.expand_action_name(uid);
                let parent = self.expand_action_name(parent);
                self.action_parents.insert(action, parent);
            }
            if let (Some(uid), Some(part_of)) = (uid, get(node, "partOf")) {
                self.record_membership(uid, part_of);
            }
        }
    }

    fn record_membership(&mut self, member: &str, part_of: &Value) {
        let member = self.prefixes.expand_id(member);
        for collection in items(Some(part_of)) {
            if let Some(collection) = identifier(collection) {
                let collection = self.prefixes.expand_id(collection);
                self.membership
                    .entry(member.clone())
                    .or_default()
                    .push(collection);
            }
        }
    }

    fn types(&self, node: &Map<String, Value>) -> Vec<String> {
        items(node.get("@type"))
            .into_iter()
            .filter_map(Value::as_str)
            .map(|t| self.prefixes.expand_vocab(t).unwrap_or_else(|bare| bare))
            .collect()
    }

    fn expand_action_name(&self, written: &str) -> String {
        self.prefixes
            .expand_vocab(written)
            .unwrap_or_else(|bare| bare)
    }

    /// Build the policy from its node and its parents.
    fn policy(
        &mut self,
        path: &str,
        node: &'a Map<String, Value>,
        nodes: &[(String, &'a Map<String, Value>)],
    ) -> Option<Policy> {
        let root = if path.is_empty() { "$" } else { path };
        let uid = match get(node, "uid").and_then(Value::as_str) {
            Some(uid) => self.prefixes.expand_id(uid),
            None => {
                self.error(root, Problem::MissingUid);
                String::new()
            }
        };
        let kind = self.policy_kind(root, node);

        // The chain of policies: this one, then its ancestors (IM §2.9).
        let mut chain: Vec<(String, &'a Map<String, Value>)> = vec![(path.to_owned(), node)];
        let mut inherit_from = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([uid.clone()]);
        let mut index = 0;
        while index < chain.len() {
            let (chain_path, current) = chain[index].clone();
            for parent in items(get(current, "inheritFrom")) {
                let Some(parent_id) = identifier(parent) else {
                    continue;
                };
                let parent_id = self.prefixes.expand_id(parent_id);
                if !seen.insert(parent_id.clone()) {
                    self.error(
                        &join(&chain_path, "inheritFrom"),
                        Problem::InheritanceCycle(parent_id),
                    );
                    continue;
                }
                let found = nodes.iter().find(|(_, candidate)| {
                    get(candidate, "uid")
                        .and_then(Value::as_str)
                        .is_some_and(|id| self.prefixes.expand_id(id) == parent_id)
                });
                match found {
                    Some((parent_path, parent_node)) => {
                        chain.push((parent_path.clone(), parent_node));
                    }
                    None => self.error(
                        &join(&chain_path, "inheritFrom"),
                        Problem::UnresolvedParent(parent_id.clone()),
                    ),
                }
                inherit_from.push(parent_id);
            }
            index += 1;
        }

        // Shared properties: the nearest policy in the chain that declares one wins.
        let mut shared = Shared::default();
        for (_, policy_node) in &chain {
            for property in SHARED_PROPERTIES {
                if let Some(value) = get(policy_node, property) {
                    shared.properties.entry(property).or_insert(value);
                }
            }
        }

        let mut profiles = Vec::new();
        let mut conflicts: Vec<(String, ConflictStrategy)> = Vec::new();
        for (chain_path, policy_node) in &chain {
            for profile in items(get(policy_node, "profile")) {
                if let Some(profile) = identifier(profile) {
                    let profile = self.prefixes.expand_id(profile);
                    if !profiles.contains(&profile) {
                        profiles.push(profile);
                    }
                }
            }
            for conflict in items(get(policy_node, "conflict")) {
                let written = identifier(conflict).unwrap_or_default();
                let strategy = match self
                    .prefixes
                    .expand_vocab(written)
                    .as_deref()
                    .map(vocab::compact)
                {
                    Ok("perm") => Some(ConflictStrategy::Perm),
                    Ok("prohibit") => Some(ConflictStrategy::Prohibit),
                    Ok("invalid") => Some(ConflictStrategy::Invalid),
                    _ => None,
                };
                match strategy {
                    Some(strategy) => conflicts.push((written.to_owned(), strategy)),
                    None => self.error(
                        &join(chain_path, "conflict"),
                        Problem::UnknownConflictStrategy(written.to_owned()),
                    ),
                }
            }
        }
        self.profile_declared = !profiles.is_empty();
        for profile in &profiles {
            if profile != vocab::PROJECT_PROFILE && profile != vocab::CORE_PROFILE {
                self.warnings.push(format!(
                    "profile {profile} is not one this evaluator implements: its terms are \
                     compared as opaque identifiers"
                ));
            }
        }
        let mut distinct: Vec<ConflictStrategy> = Vec::new();
        for (_, strategy) in &conflicts {
            if !distinct.contains(strategy) {
                distinct.push(*strategy);
            }
        }
        let (conflict, conflict_note) = match distinct.as_slice() {
            [] => (
                ConflictStrategy::Invalid,
                Some(
                    "no conflict strategy declared: the default `invalid` applies (IM §2.10)"
                        .to_owned(),
                ),
            ),
            [one] => (*one, None),
            _ => (
                ConflictStrategy::Invalid,
                Some(
                    "several conflict strategies declared (after inheritance): any conflict voids \
                     the policy (IM §2.10, requirement 4)"
                        .to_owned(),
                ),
            ),
        };

        let mut permissions = Vec::new();
        let mut prohibitions = Vec::new();
        let mut obligations = Vec::new();
        for (chain_path, policy_node) in &chain {
            for (index, rule) in items(get(policy_node, "permission"))
                .into_iter()
                .enumerate()
            {
                let rule_path = join(chain_path, &format!("permission[{index}]"));
                permissions.extend(self.rule(rule, &rule_path, RuleKind::Permission, &shared));
            }
            for (index, rule) in items(get(policy_node, "prohibition"))
                .into_iter()
                .enumerate()
            {
                let rule_path = join(chain_path, &format!("prohibition[{index}]"));
                prohibitions.extend(self.rule(rule, &rule_path, RuleKind::Prohibition, &shared));
            }
            for (index, duty) in items(get(policy_node, "obligation"))
                .into_iter()
                .enumerate()
            {
                let duty_path = join(chain_path, &format!("obligation[{index}]"));
                let inherited = InheritedParties {
                    assigner: self.shared_party(&shared, "assigner", &duty_path),
                    assignee: self.shared_party(&shared, "assignee", &duty_path),
                };
                obligations.extend(self.duty(
                    duty,
                    &duty_path,
                    &inherited,
                    DutyRole::Obligation,
                    Some(&shared),
                ));
            }
        }
        if permissions.is_empty() && prohibitions.is_empty() && obligations.is_empty() {
            let nothing_parsed = self.errors.is_empty();
            if nothing_parsed {
                self.error(root, Problem::NoRules);
            }
        }
        if let Some(kind) = kind {
            self.check_parties(kind, &permissions, &prohibitions, &obligations);
        }
        self.check_action_cycles();

        Some(Policy {
            uid,
            kind: kind.unwrap_or(PolicyKind::Set),
            profiles,
            conflict,
            conflict_note,
            inherit_from,
            permissions,
            prohibitions,
            obligations,
            action_parents: std::mem::take(&mut self.action_parents),
            declared_membership: std::mem::take(&mut self.membership),
            prefixes: self.prefixes.clone(),
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    fn policy_kind(&mut self, root: &str, node: &Map<String, Value>) -> Option<PolicyKind> {
        let types = self.types(node);
        if types.is_empty() {
            return Some(PolicyKind::Set);
        }
        for written in &types {
            match vocab::compact(written) {
                "Set" | "Policy" => return Some(PolicyKind::Set),
                "Offer" => return Some(PolicyKind::Offer),
                "Agreement" => return Some(PolicyKind::Agreement),
                _ => {}
            }
        }
        let first = types.first().cloned().unwrap_or_default();
        self.error(
            root,
            Problem::UnsupportedPolicyType(vocab::compact(&first).to_owned()),
        );
        None
    }

    /// Offers need an assigner, Agreements an assigner and an assignee, in every rule
    /// (IM §2.1.2, §2.1.3), after shared properties have been copied in.
    fn check_parties(
        &mut self,
        kind: PolicyKind,
        permissions: &[Rule],
        prohibitions: &[Rule],
        obligations: &[Duty],
    ) {
        let (needs_assigner, needs_assignee, name) = match kind {
            PolicyKind::Set => return,
            PolicyKind::Offer => (true, false, "Offer"),
            PolicyKind::Agreement => (true, true, "Agreement"),
        };
        let mut reported = HashSet::new();
        let parties = permissions
            .iter()
            .chain(prohibitions)
            .map(|r| (&r.path, r.assigner.is_some(), r.assignee.is_some()))
            .chain(
                obligations
                    .iter()
                    .map(|d| (&d.path, d.assigner.is_some(), d.assignee.is_some())),
            )
            .map(|(path, assigner, assignee)| (path.clone(), assigner, assignee))
            .collect::<Vec<_>>();
        for (path, has_assigner, has_assignee) in parties {
            if !reported.insert(path.clone()) {
                continue;
            }
            if needs_assigner && !has_assigner {
                self.error(&path, Problem::MissingAssigner(name));
            }
            if needs_assignee && !has_assignee {
                self.error(&path, Problem::MissingAssignee);
            }
        }
    }

    fn check_action_cycles(&mut self) {
        let actions: Vec<String> = self.action_parents.keys().cloned().collect();
        for action in actions {
            let mut current = action.clone();
            for _ in 0..MAX_ACTION_DEPTH {
                match self.action_parents.get(&current) {
                    Some(parent) if *parent == action => {
                        self.error("$", Problem::ActionCycle(action.clone()));
                        break;
                    }
                    Some(parent) => current = parent.clone(),
                    None => break,
                }
            }
        }
    }

    fn shared_party(&mut self, shared: &Shared<'a>, function: &str, path: &str) -> Option<Party> {
        let value = shared.properties.get(function)?;
        items(Some(value))
            .first()
            .and_then(|first| self.party(first, &join(path, function)))
    }

    /// One rule as written, as one or more atomic rules.
    fn rule(
        &mut self,
        value: &'a Value,
        path: &str,
        kind: RuleKind,
        shared: &Shared<'a>,
    ) -> Vec<Rule> {
        let Value::Object(node) = value else {
            self.error(
                path,
                Problem::WrongShape {
                    expected: "a rule object",
                    found: shape(value),
                },
            );
            return Vec::new();
        };
        let uid = get(node, "uid")
            .and_then(Value::as_str)
            .map(|uid| self.prefixes.expand_id(uid));
        let property =
            |name: &'static str| get(node, name).or_else(|| shared.properties.get(name).copied());

        let actions: Vec<Action> = items(property("action"))
            .into_iter()
            .enumerate()
            .filter_map(|(i, a)| self.action(a, &format!("{path}.action[{i}]")))
            .collect();
        if actions.is_empty() && property("action").is_none() {
            self.error(path, Problem::MissingAction);
        }
        let targets: Vec<Asset> = items(property("target"))
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| self.asset(t, &format!("{path}.target[{i}]")))
            .collect();
        if property("target").is_none() {
            let name = match kind {
                RuleKind::Permission => "permission",
                RuleKind::Prohibition => "prohibition",
            };
            self.error(path, Problem::MissingTarget(name));
        }
        let assigners = self.parties(property("assigner"), &join(path, "assigner"));
        let assignees = self.parties(property("assignee"), &join(path, "assignee"));
        let other_parties = self.other_parties(&property, path);
        let constraints = self.constraints(get(node, "constraint"), &join(path, "constraint"));
        let mut duties = Vec::new();
        let mut remedies = Vec::new();
        match kind {
            RuleKind::Permission => {
                for (index, duty) in items(get(node, "duty")).into_iter().enumerate() {
                    let duty_path = format!("{path}.duty[{index}]");
                    // Duties without parties take those of the permission (IM §2.6.5); a
                    // compound permission's duty gets the first assigner/assignee.
                    let inherited = InheritedParties {
                        assigner: assigners.first().cloned().flatten(),
                        assignee: assignees.first().cloned().flatten(),
                    };
                    duties.extend(self.duty(
                        duty,
                        &duty_path,
                        &inherited,
                        DutyRole::Condition,
                        None,
                    ));
                }
            }
            RuleKind::Prohibition => {
                for (index, remedy) in items(get(node, "remedy")).into_iter().enumerate() {
                    let remedy_path = format!("{path}.remedy[{index}]");
                    remedies.extend(self.duty(
                        remedy,
                        &remedy_path,
                        &InheritedParties::default(),
                        DutyRole::Remedy,
                        None,
                    ));
                }
            }
        }

        let mut atomic = Vec::new();
        let targets: Vec<Option<Asset>> = if targets.is_empty() {
            vec![None]
        } else {
            targets.into_iter().map(Some).collect()
        };
        for action in &actions {
            for target in &targets {
                for assigner in &assigners {
                    for assignee in &assignees {
                        atomic.push(Rule {
                            kind,
                            uid: uid.clone(),
                            path: path.to_owned(),
                            action: action.clone(),
                            target: target.clone(),
                            assigner: assigner.clone(),
                            assignee: assignee.clone(),
                            other_parties: other_parties.clone(),
                            constraints: constraints.clone(),
                            duties: duties.clone(),
                            remedies: remedies.clone(),
                        });
                    }
                }
            }
        }
        atomic
    }

    /// A list of parties, or `[None]` when there are none (so the cartesian product works).
    fn parties(&mut self, value: Option<&'a Value>, path: &str) -> Vec<Option<Party>> {
        let parties: Vec<Option<Party>> = items(value)
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| self.party(p, &format!("{path}[{i}]")).map(Some))
            .collect();
        if parties.is_empty() {
            vec![None]
        } else {
            parties
        }
    }

    fn other_parties(
        &mut self,
        property: &dyn Fn(&'static str) -> Option<&'a Value>,
        path: &str,
    ) -> Vec<(String, Party)> {
        let mut parties = Vec::new();
        for function in FUNCTIONS {
            if function == "assigner" || function == "assignee" {
                continue;
            }
            for (index, value) in items(property(function)).into_iter().enumerate() {
                if let Some(party) = self.party(value, &format!("{path}.{function}[{index}]")) {
                    parties.push((format!("{ODRL}{function}"), party));
                }
            }
        }
        parties
    }

    fn duty(
        &mut self,
        value: &'a Value,
        path: &str,
        inherited: &InheritedParties,
        role: DutyRole,
        shared: Option<&Shared<'a>>,
    ) -> Option<Duty> {
        let Value::Object(node) = value else {
            self.error(
                path,
                Problem::WrongShape {
                    expected: "a duty object",
                    found: shape(value),
                },
            );
            return None;
        };
        let property = |name: &'static str| {
            get(node, name).or_else(|| shared.and_then(|s| s.properties.get(name).copied()))
        };
        let uid = get(node, "uid")
            .and_then(Value::as_str)
            .map(|uid| self.prefixes.expand_id(uid));
        let actions = items(property("action"));
        let action = match actions.as_slice() {
            [] => {
                self.error(path, Problem::MissingAction);
                None
            }
            [one] => self.action(one, &format!("{path}.action")),
            several => {
                self.error(path, Problem::SeveralDutyActions(several.len()));
                None
            }
        };
        let target = items(property("target"))
            .first()
            .and_then(|t| self.asset(t, &join(path, "target")));
        let assigner = match property("assigner") {
            Some(value) => items(Some(value))
                .first()
                .and_then(|p| self.party(p, &join(path, "assigner"))),
            None => inherited.assigner.clone(),
        };
        let assignee = match property("assignee") {
            Some(value) => items(Some(value))
                .first()
                .and_then(|p| self.party(p, &join(path, "assignee"))),
            None => inherited.assignee.clone(),
        };
        let other_parties = self.other_parties(&property, path);
        let constraints = self.constraints(get(node, "constraint"), &join(path, "constraint"));
        let mut consequences = Vec::new();
        for (index, consequence) in items(get(node, "consequence")).into_iter().enumerate() {
            let consequence_path = format!("{path}.consequence[{index}]");
            match role {
                DutyRole::Consequence => {
                    self.error(&consequence_path, Problem::ConsequenceOfConsequence)
                }
                DutyRole::Remedy => self.error(&consequence_path, Problem::RemedyWithConsequence),
                DutyRole::Condition | DutyRole::Obligation => {
                    let parties = InheritedParties {
                        assigner: assigner.clone(),
                        assignee: assignee.clone(),
                    };
                    consequences.extend(self.duty(
                        consequence,
                        &consequence_path,
                        &parties,
                        DutyRole::Consequence,
                        None,
                    ));
                }
            }
        }
        let action = action?;
        Some(Duty {
            key: uid.clone().unwrap_or_else(|| path.to_owned()),
            uid,
            path: path.to_owned(),
            action,
            target,
            assigner,
            assignee,
            other_parties,
            constraints,
            consequences,
        })
    }

    fn action(&mut self, value: &'a Value, path: &str) -> Option<Action> {
        let (written, refinements, parent) = match value {
            Value::String(term) => (term.as_str(), Vec::new(), None),
            Value::Object(node) => {
                let named = node
                    .get("rdf:value")
                    .or_else(|| node.get(vocab::RDF_VALUE))
                    .or_else(|| get(node, "uid"));
                let Some(written) = named.and_then(identifier) else {
                    self.error(path, Problem::MissingIdentifier("action"));
                    return None;
                };
                let refinements =
                    self.constraints(get(node, "refinement"), &join(path, "refinement"));
                let parent = get(node, "includedIn").and_then(identifier);
                (written, refinements, parent)
            }
            other => {
                self.error(
                    path,
                    Problem::WrongShape {
                        expected: "an action term, IRI or object",
                        found: shape(other),
                    },
                );
                return None;
            }
        };
        let iri = match self.prefixes.expand_vocab(written) {
            Ok(iri) => iri,
            Err(bare) => bare,
        };
        if let Some(parent) = parent {
            let parent = self.expand_action_name(parent);
            self.action_parents.insert(iri.clone(), parent);
        }
        let known = iri.strip_prefix(ODRL).is_some_and(|term| {
            vocab::action_parent(term).is_some() || vocab::TOP_LEVEL_ACTIONS.contains(&term)
        }) || iri
            .strip_prefix(vocab::CC)
            .is_some_and(|term| vocab::CC_ACTIONS.contains(&term));
        if !known
            && !self.action_parents.contains_key(&iri)
            && self.warned_profile_terms.insert(iri.clone())
        {
            self.warnings.push(format!(
                "{path}: action `{written}` is not an ODRL action and declares no `includedIn`: \
                 it is matched exactly, and covers no other action"
            ));
        }
        Some(Action { iri, refinements })
    }

    fn asset(&mut self, value: &'a Value, path: &str) -> Option<Asset> {
        let (iri, is_collection, refinements) =
            self.entity(value, path, "asset", "AssetCollection")?;
        Some(Asset {
            iri,
            is_collection,
            refinements,
        })
    }

    fn party(&mut self, value: &'a Value, path: &str) -> Option<Party> {
        let (iri, is_collection, refinements) =
            self.entity(value, path, "party", "PartyCollection")?;
        Some(Party {
            iri,
            is_collection,
            refinements,
        })
    }

    /// An asset or party: a string IRI, or an object with `uid`/`source`, `@type`,
    /// `refinement` and `partOf`.
    fn entity(
        &mut self,
        value: &'a Value,
        path: &str,
        what: &'static str,
        collection_type: &str,
    ) -> Option<(String, bool, Vec<Constraint>)> {
        match value {
            Value::String(iri) => Some((self.prefixes.expand_id(iri), false, Vec::new())),
            Value::Object(node) => {
                let Some(iri) = get(node, "uid")
                    .or_else(|| get(node, "source"))
                    .and_then(identifier)
                else {
                    self.error(path, Problem::MissingIdentifier(what));
                    return None;
                };
                let iri = self.prefixes.expand_id(iri);
                let is_collection = self
                    .types(node)
                    .iter()
                    .any(|t| vocab::compact(t) == collection_type);
                if let Some(part_of) = get(node, "partOf") {
                    self.record_membership(&iri, part_of);
                }
                let refinements =
                    self.constraints(get(node, "refinement"), &join(path, "refinement"));
                Some((iri, is_collection || !refinements.is_empty(), refinements))
            }
            other => {
                self.error(
                    path,
                    Problem::WrongShape {
                        expected: "an IRI or an object with a uid",
                        found: shape(other),
                    },
                );
                None
            }
        }
    }

    fn constraints(&mut self, value: Option<&'a Value>, path: &str) -> Vec<Constraint> {
        items(value)
            .into_iter()
            .enumerate()
            .filter_map(|(index, item)| self.constraint(item, &format!("{path}[{index}]"), true))
            .collect()
    }

    /// A constraint node, resolving a bare `{"@id": …}` reference to a constraint given
    /// elsewhere in the document.
    fn resolve(&mut self, value: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        let Value::Object(node) = value else {
            if let Value::String(reference) = value {
                return self.lookup_constraint(reference, path);
            }
            self.error(
                path,
                Problem::WrongShape {
                    expected: "a constraint object",
                    found: shape(value),
                },
            );
            return None;
        };
        let is_reference = node.len() == 1 && node.contains_key("@id");
        if is_reference {
            let reference = node.get("@id").and_then(Value::as_str).unwrap_or_default();
            return self.lookup_constraint(reference, path);
        }
        Some(node)
    }

    fn lookup_constraint(&mut self, reference: &str, path: &str) -> Option<&'a Map<String, Value>> {
        let iri = self.prefixes.expand_id(reference);
        match self.constraint_nodes.get(&iri) {
            Some(node) => Some(*node),
            None => {
                self.error(path, Problem::UnresolvedConstraint(iri));
                None
            }
        }
    }

    fn constraint(
        &mut self,
        value: &'a Value,
        path: &str,
        allow_logical: bool,
    ) -> Option<Constraint> {
        let node = self.resolve(value, path)?;
        let uid = get(node, "uid")
            .and_then(Value::as_str)
            .map(|uid| self.prefixes.expand_id(uid));
        let logical: Vec<(LogicalOperand, &'a Value, &str)> = LOGICAL_OPERANDS
            .iter()
            .filter_map(|(term, operand)| get(node, term).map(|v| (*operand, v, *term)))
            .collect();
        if logical.is_empty() {
            return self.atomic(node, uid, path).map(Constraint::Atomic);
        }
        if !allow_logical {
            self.error(path, Problem::NestedLogicalConstraint);
            return None;
        }
        if get(node, "leftOperand").is_some() {
            self.error(path, Problem::AmbiguousConstraint);
            return None;
        }
        if logical.len() > 1 {
            let names: Vec<&str> = logical.iter().map(|(_, _, term)| *term).collect();
            self.error(path, Problem::SeveralLogicalOperands(names.join(", ")));
            return None;
        }
        let (operand, list, term) = logical[0];
        let operand_path = join(path, term);
        let mut constraints = Vec::new();
        let mut seen = HashSet::new();
        let members = items(Some(list));
        for (index, member) in members.iter().enumerate() {
            let member_path = format!("{operand_path}[{index}]");
            if let Some(reference) = identifier(member)
                && !seen.insert(self.prefixes.expand_id(reference))
            {
                self.error(
                    &member_path,
                    Problem::DuplicateLogicalOperand(reference.to_owned()),
                );
                continue;
            }
            match self.constraint(member, &member_path, false) {
                Some(Constraint::Atomic(atomic)) => constraints.push(atomic),
                Some(Constraint::Logical(_)) | None => {}
            }
        }
        if members.len() < 2 {
            self.error(
                path,
                Problem::TooFewLogicalOperands {
                    operand: operand.term(),
                    count: members.len(),
                },
            );
            return None;
        }
        Some(Constraint::Logical(LogicalConstraint {
            uid,
            path: path.to_owned(),
            operand,
            constraints,
        }))
    }

    fn atomic(
        &mut self,
        node: &'a Map<String, Value>,
        uid: Option<String>,
        path: &str,
    ) -> Option<AtomicConstraint> {
        let left = self.left_operand(node, path);
        let operator = self.operator(node, path);
        let right = get(node, "rightOperand");
        let reference = get(node, "rightOperandReference");
        let (left, operator) = (left?, operator?);
        if let Some(allowed) = allowed_operators(left.kind)
            && !allowed.1.contains(&operator)
        {
            self.error(
                &join(path, "operator"),
                Problem::OperatorNotAllowed {
                    left: left.name().to_owned(),
                    operator: operator.term().to_owned(),
                    allowed: allowed.0,
                },
            );
            return None;
        }
        let unit = get(node, "unit")
            .and_then(identifier)
            .map(|unit| normalise_currency(&self.prefixes.expand_id(unit)));
        let data_type = get(node, "dataType")
            .and_then(identifier)
            .map(|t| self.prefixes.expand_vocab(t).unwrap_or_else(|bare| bare));
        let right = match (right, reference) {
            (Some(_), Some(_)) => {
                self.error(path, Problem::BothRightOperands);
                return None;
            }
            (None, None) => {
                self.error(path, Problem::MissingConstraintPart("rightOperand"));
                return None;
            }
            (None, Some(reference)) => {
                let iri = identifier(reference)
                    .map(|iri| self.prefixes.expand_id(iri))
                    .unwrap_or_default();
                self.warnings.push(format!(
                    "{path}: rightOperandReference {iri} is not dereferenced by this evaluator: \
                     the constraint is never satisfied"
                ));
                RightOperand::Reference(iri)
            }
            (Some(right), None) => {
                let raw = self.raw_literals(right, data_type.as_deref());
                if !operator.takes_a_list() && raw.len() > 1 {
                    self.error(
                        &join(path, "rightOperand"),
                        Problem::SeveralValuesForOneValueOperator {
                            operator: operator.term(),
                            count: raw.len(),
                        },
                    );
                    return None;
                }
                self.typed_right(&left, &raw, &join(path, "rightOperand"))?
            }
        };
        let status = get(node, "status").map(|status| {
            let raw = self.raw_literals(status, None);
            raw.first()
                .map(generic_literal)
                .unwrap_or(Literal::Text(String::new()))
        });
        Some(AtomicConstraint {
            uid,
            path: path.to_owned(),
            left,
            operator,
            right,
            unit,
            status,
        })
    }

    fn left_operand(&mut self, node: &Map<String, Value>, path: &str) -> Option<LeftOperand> {
        let Some(written) = get(node, "leftOperand").and_then(identifier) else {
            self.error(path, Problem::MissingConstraintPart("leftOperand"));
            return None;
        };
        let left_path = join(path, "leftOperand");
        let iri = match self.prefixes.expand_vocab(written) {
            Ok(iri) => iri,
            Err(bare) => {
                self.error(&left_path, Problem::UnknownLeftOperand(bare));
                return None;
            }
        };
        let kind = match iri.strip_prefix(ODRL) {
            Some(term) if !LEFT_OPERANDS.contains(&term) => {
                self.error(&left_path, Problem::UnknownLeftOperand(written.to_owned()));
                return None;
            }
            Some("dateTime") => OperandKind::DateTime,
            Some("elapsedTime") => OperandKind::ElapsedTime,
            Some("count") => OperandKind::Count,
            Some("purpose") => OperandKind::Purpose,
            Some("spatial") => OperandKind::Spatial,
            Some("recipient") => OperandKind::Recipient,
            Some("payAmount") => OperandKind::PayAmount,
            Some("event") => OperandKind::Event,
            Some(_) => OperandKind::Other,
            None => {
                if !self.profile_declared && self.warned_profile_terms.insert(iri.clone()) {
                    self.warnings.push(format!(
                        "{left_path}: left operand `{written}` is not ODRL and the policy declares \
                         no profile defining it (IM §2.1); it is compared with the request \
                         context value of the same name"
                    ));
                }
                OperandKind::Other
            }
        };
        Some(LeftOperand {
            iri,
            written: written.to_owned(),
            kind,
        })
    }

    fn operator(&mut self, node: &Map<String, Value>, path: &str) -> Option<Operator> {
        let Some(written) = get(node, "operator").and_then(identifier) else {
            self.error(path, Problem::MissingConstraintPart("operator"));
            return None;
        };
        let operator = self
            .prefixes
            .expand_vocab(written)
            .ok()
            .and_then(|iri| iri.strip_prefix(ODRL).and_then(Operator::from_term));
        if operator.is_none() {
            self.error(
                &join(path, "operator"),
                Problem::UnknownOperator(written.to_owned()),
            );
        }
        operator
    }

    /// The values of a right operand, untyped yet.
    fn raw_literals(&self, value: &Value, data_type: Option<&str>) -> Vec<RawLiteral> {
        items(Some(value))
            .into_iter()
            .filter_map(|item| match item {
                Value::String(text) => Some(RawLiteral {
                    text: text.clone(),
                    data_type: data_type.map(str::to_owned),
                    is_id: false,
                    is_number: false,
                }),
                Value::Number(number) => Some(RawLiteral {
                    text: number.to_string(),
                    data_type: data_type.map(str::to_owned),
                    is_id: false,
                    is_number: true,
                }),
                Value::Bool(flag) => Some(RawLiteral {
                    text: flag.to_string(),
                    data_type: Some(format!("{XSD}boolean")),
                    is_id: false,
                    is_number: false,
                }),
                Value::Object(map) => {
                    if let Some(id) = map.get("@id").and_then(Value::as_str) {
                        return Some(RawLiteral {
                            text: self.prefixes.expand_vocab(id).unwrap_or_else(|bare| bare),
                            data_type: None,
                            is_id: true,
                            is_number: false,
                        });
                    }
                    let text = match map.get("@value")? {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    let data_type = map
                        .get("@type")
                        .and_then(Value::as_str)
                        .map(|t| self.prefixes.expand_vocab(t).unwrap_or_else(|bare| bare))
                        .or_else(|| data_type.map(str::to_owned));
                    Some(RawLiteral {
                        text,
                        data_type,
                        is_id: false,
                        is_number: false,
                    })
                }
                _ => None,
            })
            .collect()
    }

    fn typed_right(
        &mut self,
        left: &LeftOperand,
        raw: &[RawLiteral],
        path: &str,
    ) -> Option<RightOperand> {
        if raw.is_empty() {
            self.error(path, Problem::MissingConstraintPart("rightOperand"));
            return None;
        }
        let mut failed = false;
        let bad = |parser: &mut Self, value: &str, expected: &str| {
            parser.error(
                path,
                Problem::BadRightOperand {
                    left: left.name().to_owned(),
                    value: value.to_owned(),
                    expected: expected.to_owned(),
                },
            );
        };
        let single = raw.first();
        let right = match left.kind {
            OperandKind::DateTime => {
                let literal = single?;
                match TimeBound::parse(&literal.text) {
                    Some(bound) => RightOperand::Time(bound),
                    None => {
                        bad(
                            self,
                            &literal.text,
                            "an xsd:date or xsd:dateTime (e.g. 2025-01-01 or 2025-01-01T00:00:00Z)",
                        );
                        failed = true;
                        RightOperand::Terms(Vec::new())
                    }
                }
            }
            OperandKind::ElapsedTime => {
                let literal = single?;
                match XsdDuration::parse(&literal.text) {
                    Some(duration) => RightOperand::Duration(duration),
                    None => {
                        bad(self, &literal.text, "an xsd:duration (e.g. P30D or PT12H)");
                        failed = true;
                        RightOperand::Terms(Vec::new())
                    }
                }
            }
            OperandKind::Count => {
                let literal = single?;
                match Decimal::parse(&literal.text).and_then(Decimal::to_u64) {
                    Some(count) => RightOperand::Count(count),
                    None => {
                        bad(self, &literal.text, "a non-negative xsd:integer");
                        failed = true;
                        RightOperand::Terms(Vec::new())
                    }
                }
            }
            OperandKind::PayAmount => {
                let literal = single?;
                match Decimal::parse(&literal.text) {
                    Some(amount) => RightOperand::Amount(amount),
                    None => {
                        bad(self, &literal.text, "an xsd:decimal (e.g. 5.00)");
                        failed = true;
                        RightOperand::Terms(Vec::new())
                    }
                }
            }
            OperandKind::Spatial => {
                let mut areas = Vec::new();
                for literal in raw {
                    match Area::parse(&literal.text) {
                        Ok(area) => areas.push(area),
                        Err(error) => {
                            bad(self, &literal.text, &format!("a known area: {error}"));
                            failed = true;
                        }
                    }
                }
                RightOperand::Areas(areas)
            }
            OperandKind::Purpose | OperandKind::Recipient | OperandKind::Event => {
                let terms = raw
                    .iter()
                    .map(|literal| {
                        if literal.is_id {
                            literal.text.clone()
                        } else {
                            self.prefixes
                                .expand_vocab(&literal.text)
                                .unwrap_or_else(|bare| bare)
                        }
                    })
                    .collect();
                RightOperand::Terms(terms)
            }
            OperandKind::Other => RightOperand::Literals(raw.iter().map(generic_literal).collect()),
        };
        if failed { None } else { Some(right) }
    }
}

/// A right operand value before its type is known.
struct RawLiteral {
    text: String,
    data_type: Option<String>,
    is_id: bool,
    is_number: bool,
}

/// A generic literal, typed by its datatype (or JSON type).
fn generic_literal(raw: &RawLiteral) -> Literal {
    if raw.is_id {
        return Literal::Iri(raw.text.clone());
    }
    let data_type = raw.data_type.as_deref().and_then(|t| t.strip_prefix(XSD));
    let numeric = raw.is_number
        || matches!(
            data_type,
            Some(
                "integer"
                    | "decimal"
                    | "double"
                    | "float"
                    | "int"
                    | "long"
                    | "short"
                    | "nonNegativeInteger"
                    | "positiveInteger"
                    | "unsignedInt"
            )
        );
    if numeric && let Some(number) = Decimal::parse(&raw.text) {
        return Literal::Number(number);
    }
    match data_type {
        Some("date" | "dateTime") => {
            if let Some(bound) = TimeBound::parse(&raw.text) {
                return Literal::Time(bound);
            }
        }
        Some("duration") => {
            if let Some(duration) = XsdDuration::parse(&raw.text) {
                return Literal::Duration(duration);
            }
        }
        Some("boolean") => return Literal::Boolean(raw.text == "true" || raw.text == "1"),
        Some("anyURI") => return Literal::Iri(raw.text.clone()),
        _ => {}
    }
    Literal::Text(raw.text.clone())
}

const ORDERED: [Operator; 6] = [
    Operator::Eq,
    Operator::Neq,
    Operator::Lt,
    Operator::Lteq,
    Operator::Gt,
    Operator::Gteq,
];

const MEMBERSHIP: [Operator; 8] = [
    Operator::Eq,
    Operator::Neq,
    Operator::IsA,
    Operator::IsPartOf,
    Operator::HasPart,
    Operator::IsAnyOf,
    Operator::IsAllOf,
    Operator::IsNoneOf,
];

/// The operators a left operand accepts, in words and as a list (`None`: any).
fn allowed_operators(kind: OperandKind) -> Option<(&'static str, &'static [Operator])> {
    match kind {
        OperandKind::DateTime
        | OperandKind::ElapsedTime
        | OperandKind::Count
        | OperandKind::PayAmount
        | OperandKind::Event => Some(("eq, neq, lt, lteq, gt, gteq", &ORDERED)),
        OperandKind::Purpose | OperandKind::Recipient | OperandKind::Spatial => Some((
            "eq, neq, isA, isPartOf, hasPart, isAnyOf, isAllOf, isNoneOf",
            &MEMBERSHIP,
        )),
        OperandKind::Other => None,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
