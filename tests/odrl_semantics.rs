//! Formal-semantics cases beyond the published examples: conflict strategies, `includedIn`,
//! closed world, logical constraints, collections, counts that run out, every supported left
//! operand both ways, custom actions for mandates, and invalid policies with their errors.

// Helpers may unwrap: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use clearinghouse::odrl::{Decision, Evaluation, Policy, Problem, Request, evaluate};
use serde_json::{Value, json};

const DATA: &str = "https://data.example.fr/ds/1";
const ALICE: &str = "urn:siren:111111111";

fn policy(document: Value) -> Policy {
    Policy::from_json(&document).unwrap_or_else(|e| panic!("{e}"))
}

/// A Set with one permission on DATA (the given properties added to it).
fn permission(extra: Value) -> Policy {
    let mut rule = json!({"target": DATA, "action": "use"});
    for (key, value) in extra.as_object().unwrap() {
        rule[key] = value.clone();
    }
    policy(
        json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
                  "uid": "urn:test:policy", "permission": [rule]}),
    )
}

fn constrained(constraint: Value) -> Policy {
    permission(json!({"constraint": [constraint]}))
}

fn ask(policy: &Policy, context: Value) -> Evaluation {
    let request = json!({"action": "use", "target": DATA, "assignee": ALICE, "context": context});
    evaluate(policy, &Request::from_json(&request).unwrap())
}

fn decide(policy: &Policy, context: Value) -> Decision {
    ask(policy, context).decision
}

fn problem(document: Value) -> (String, Problem) {
    let errors = Policy::validate_json(&document).expect_err("invalid");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors.into_iter().next().unwrap();
    (error.path, error.problem)
}

fn with_rule(rule: Value) -> Value {
    json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "uid": "urn:p", "permission": [rule]})
}

// ---- conflicts ----

fn conflicting(strategy: Option<&str>) -> Policy {
    let mut document = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
        "uid": "urn:conflict",
        "permission": [{"target": DATA, "action": "use"}],
        "prohibition": [{"target": DATA, "action": "print"}],
        "obligation": []});
    if let Some(strategy) = strategy {
        document["conflict"] = json!(strategy);
    }
    policy(document)
}

fn print(policy: &Policy, action: &str) -> Evaluation {
    evaluate(policy, &Request::new(action).with_target(DATA))
}

/// IM §2.10: `perm` lets the permission prevail, `prohibit` the prohibition.
#[test]
fn conflict_strategies_perm_and_prohibit() {
    let perm = print(&conflicting(Some("perm")), "print");
    assert_eq!(perm.decision, Decision::Permit);
    assert_eq!(perm.deciding_rule.unwrap().path, "permission[0]");
    let prohibit = print(&conflicting(Some("prohibit")), "print");
    assert_eq!(prohibit.decision, Decision::Deny);
    assert_eq!(prohibit.deciding_rule.unwrap().path, "prohibition[0]");
    assert_eq!(
        print(&conflicting(Some("prohibit")), "read").decision,
        Decision::Permit
    );
}

/// The default `invalid` voids the whole policy: even `read`, which only the permission is
/// about, is denied while the conflicting rules are both in force.
#[test]
fn default_conflict_strategy_voids_the_policy() {
    let policy = conflicting(None);
    for action in ["print", "read"] {
        let answer = print(&policy, action);
        assert_eq!(answer.decision, Decision::Deny, "{action}");
        assert!(answer.reason.contains("void"), "{}", answer.reason);
        assert!(answer.conflict.note.as_deref().unwrap().contains("default"));
        assert!(answer.conflict.detected.is_some());
    }
}

/// Rules about unrelated actions do not conflict, whatever the strategy.
#[test]
fn unrelated_actions_do_not_conflict() {
    let policy = policy(
        json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "uid": "urn:p",
        "permission": [{"target": DATA, "action": "display"}],
        "prohibition": [{"target": DATA, "action": "print"}]}),
    );
    assert_eq!(print(&policy, "display").decision, Decision::Permit);
    assert_eq!(print(&policy, "print").decision, Decision::Deny);
}

// ---- scope ----

/// `includedIn` is transitive and one-way: `use` covers `extract` (⊂ reproduce ⊂ use), a
/// permission for `read` does not cover `use`.
#[test]
fn included_in_is_transitive_and_one_way() {
    let use_policy = permission(json!({}));
    assert_eq!(print(&use_policy, "extract").decision, Decision::Permit);
    assert_eq!(
        print(&use_policy, "http://www.w3.org/ns/odrl/2/read").decision,
        Decision::Permit
    );
    assert_eq!(print(&use_policy, "odrl:read").decision, Decision::Permit);
    let read_policy = permission(json!({"action": "read"}));
    let answer = print(&read_policy, "use");
    assert_eq!(answer.decision, Decision::NotApplicable);
    assert!(
        answer.rules[0].scope[0].contains("narrower"),
        "{:?}",
        answer.rules[0].scope
    );
}

/// No rule about the action, target or party: not applicable.
#[test]
fn not_applicable_when_no_rule_matches() {
    let p = permission(json!({"assignee": ALICE}));
    assert_eq!(decide(&p, json!({})), Decision::Permit);
    let bob = evaluate(
        &p,
        &Request::new("use")
            .with_target(DATA)
            .with_assignee("urn:siren:2"),
    );
    assert_eq!(bob.decision, Decision::NotApplicable);
    let other = evaluate(
        &p,
        &Request::new("use")
            .with_target("urn:other")
            .with_assignee(ALICE),
    );
    assert_eq!(other.decision, Decision::NotApplicable);
}

/// Nested collections: a party in a team in a department is a member of the department.
#[test]
fn collections_are_followed_transitively() {
    let p = permission(
        json!({"assignee": {"@type": "PartyCollection", "uid": "urn:dept"},
                              "target": {"@type": "AssetCollection", "uid": "urn:catalogue"}}),
    );
    let request = |membership: Value| {
        let request = json!({"action": "read", "target": "urn:ds:9", "assignee": ALICE,
            "context": {"partyMembership": membership,
                        "assetMembership": {"urn:ds:9": "urn:catalogue"}}});
        evaluate(&p, &Request::from_json(&request).unwrap()).decision
    };
    assert_eq!(
        request(json!({ALICE: ["urn:team"], "urn:team": ["urn:dept"]})),
        Decision::Permit
    );
    assert_eq!(
        request(json!({ALICE: ["urn:team"]})),
        Decision::NotApplicable
    );
}

/// A refined asset collection: members qualify only if the refinement holds.
#[test]
fn asset_collection_refinement() {
    let p = permission(
        json!({"target": {"@type": "AssetCollection", "source": "urn:catalogue",
        "refinement": [{"leftOperand": "fileFormat", "operator": "eq", "rightOperand": "text/csv"}]}}),
    );
    let request = |format: &str| {
        let request = json!({"action": "use", "target": "urn:ds:9",
            "context": {"fileFormat": format, "assetMembership": {"urn:ds:9": ["urn:catalogue"]}}});
        evaluate(&p, &Request::from_json(&request).unwrap()).decision
    };
    assert_eq!(request("text/csv"), Decision::Permit);
    assert_eq!(request("application/pdf"), Decision::Deny);
}

// ---- logical constraints ----

fn logical(operand: &str, list: bool) -> Policy {
    let members = json!([
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"},
        {"leftOperand": "spatial", "operator": "isPartOf", "rightOperand": "region:84"}
    ]);
    let members = if list {
        json!({"@list": members})
    } else {
        members
    };
    constrained(json!({operand: members}))
}

fn purpose_and_place(purpose: &str, commune: &str) -> Value {
    json!({"purpose": purpose, "spatial": commune})
}

#[test]
fn logical_and_or_xone_and_sequence() {
    let cases = [
        // (purpose, commune, and, or, xone)
        ("research", "69123", true, true, false),
        ("research", "13055", false, true, true),
        ("marketing", "69123", false, true, true),
        ("marketing", "13055", false, false, false),
    ];
    for (purpose, commune, and, or, xone) in cases {
        let facts = purpose_and_place(purpose, commune);
        let expect = |ok: bool| if ok { Decision::Permit } else { Decision::Deny };
        assert_eq!(
            decide(&logical("and", false), facts.clone()),
            expect(and),
            "and {purpose} {commune}"
        );
        assert_eq!(
            decide(&logical("or", false), facts.clone()),
            expect(or),
            "or {purpose} {commune}"
        );
        assert_eq!(
            decide(&logical("xone", true), facts.clone()),
            expect(xone),
            "xone {purpose} {commune}"
        );
        assert_eq!(
            decide(&logical("andSequence", true), facts),
            expect(and),
            "andSequence"
        );
    }
    let stopped = ask(
        &logical("andSequence", true),
        purpose_and_place("marketing", "69123"),
    );
    let report = &stopped.rules[0].constraints[0];
    assert!(
        report.members[1].explanation.contains("not evaluated"),
        "{report:?}"
    );
}

// ---- counts ----

/// Counts that run out: the context gives the uses logged so far; `count lteq 3` allows
/// three uses, `count lt 3` two.
#[test]
fn counts_run_out() {
    let at_most =
        constrained(json!({"leftOperand": "count", "operator": "lteq", "rightOperand": 3}));
    let fewer = constrained(json!({"leftOperand": "count", "operator": "lt", "rightOperand": 3}));
    let mut permitted = (0, 0);
    for earlier in 0..6 {
        if decide(&at_most, json!({"count": earlier})) == Decision::Permit {
            permitted.0 += 1;
        }
        if decide(&fewer, json!({"count": earlier})) == Decision::Permit {
            permitted.1 += 1;
        }
    }
    assert_eq!(permitted, (3, 2));
    let exhausted = ask(&at_most, json!({"count": 3}));
    assert!(
        exhausted.rules[0].constraints[0]
            .explanation
            .contains("4 for this request (3 earlier uses"),
        "{}",
        exhausted.rules[0].constraints[0].explanation
    );
    assert_eq!(decide(&at_most, json!({})), Decision::Deny, "closed world");
}

// ---- every supported left operand, both ways ----

#[test]
fn date_time_operand() {
    let p = constrained(json!({"leftOperand": "dateTime", "operator": "gteq",
                               "rightOperand": {"@value": "2025-03-01T08:00:00+01:00", "@type": "xsd:dateTime"}}));
    assert_eq!(
        decide(&p, json!({"dateTime": "2025-03-01T07:00:00Z"})),
        Decision::Permit
    );
    assert_eq!(
        decide(&p, json!({"dateTime": "2025-03-01T06:59:59"})),
        Decision::Deny
    );
}

#[test]
fn elapsed_time_operand() {
    let p = constrained(json!({"leftOperand": "elapsedTime", "operator": "lteq",
                               "rightOperand": {"@value": "P30D", "@type": "xsd:duration"}}));
    assert_eq!(
        decide(&p, json!({"elapsedTime": "P10DT2H"})),
        Decision::Permit
    );
    assert_eq!(decide(&p, json!({"elapsedTime": "P31D"})), Decision::Deny);
    let months = ask(&p, json!({"elapsedTime": "P1M"}));
    assert_eq!(months.decision, Decision::Deny);
    assert!(
        months.rules[0].constraints[0]
            .explanation
            .contains("cannot be ordered")
    );
}

#[test]
fn purpose_operand() {
    let any = constrained(json!({"leftOperand": "purpose", "operator": "isAnyOf",
        "rightOperand": [{"@id": "dpv:AcademicResearch"}, {"@id": "dpv:NonCommercialResearch"}]}));
    assert_eq!(
        decide(&any, json!({"purpose": "dpv:AcademicResearch"})),
        Decision::Permit
    );
    assert_eq!(
        decide(
            &any,
            json!({"purpose": "https://w3id.org/dpv#NonCommercialResearch"})
        ),
        Decision::Permit
    );
    assert_eq!(
        decide(
            &any,
            json!({"purpose": ["dpv:AcademicResearch", "dpv:Marketing"]})
        ),
        Decision::Deny
    );
    let none = constrained(
        json!({"leftOperand": "purpose", "operator": "isNoneOf", "rightOperand": ["marketing"]}),
    );
    assert_eq!(
        decide(&none, json!({"purpose": "research"})),
        Decision::Permit
    );
    assert_eq!(
        decide(&none, json!({"purpose": "marketing"})),
        Decision::Deny
    );
    let all = constrained(
        json!({"leftOperand": "purpose", "operator": "isAllOf", "rightOperand": ["a", "b"]}),
    );
    assert_eq!(
        decide(&all, json!({"purpose": ["a", "b", "c"]})),
        Decision::Permit
    );
    assert_eq!(decide(&all, json!({"purpose": ["a"]})), Decision::Deny);
}

#[test]
fn spatial_operand() {
    let region = constrained(
        json!({"leftOperand": "spatial", "operator": "isPartOf", "rightOperand": "region:84"}),
    );
    assert_eq!(
        decide(&region, json!({"spatial": "69123"})),
        Decision::Permit
    );
    assert_eq!(decide(&region, json!({"spatial": "38"})), Decision::Permit);
    assert_eq!(
        decide(&region, json!({"spatial": "84007"})),
        Decision::Deny,
        "Avignon is in PACA"
    );
    let eq = constrained(json!({"leftOperand": "spatial", "operator": "eq", "rightOperand": "2A"}));
    assert_eq!(decide(&eq, json!({"spatial": "2A004"})), Decision::Permit);
    assert_eq!(decide(&eq, json!({"spatial": "2B033"})), Decision::Deny);
    let any = constrained(
        json!({"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": ["971", "974"]}),
    );
    assert_eq!(decide(&any, json!({"spatial": "97411"})), Decision::Permit);
    assert_eq!(decide(&any, json!({"spatial": "97209"})), Decision::Deny);
    let none = constrained(
        json!({"leftOperand": "spatial", "operator": "isNoneOf", "rightOperand": ["region:11"]}),
    );
    assert_eq!(decide(&none, json!({"spatial": "69123"})), Decision::Permit);
    assert_eq!(decide(&none, json!({"spatial": "75056"})), Decision::Deny);
    let has = constrained(
        json!({"leftOperand": "spatial", "operator": "hasPart", "rightOperand": "69381"}),
    );
    assert_eq!(
        decide(
            &has,
            json!({"spatial": "http://id.insee.fr/geo/departement/69"})
        ),
        Decision::Permit
    );
    assert_eq!(decide(&has, json!({"spatial": "13"})), Decision::Deny);
    let all = constrained(
        json!({"leftOperand": "spatial", "operator": "isAllOf", "rightOperand": ["69", "region:84"]}),
    );
    assert_eq!(decide(&all, json!({"spatial": "69123"})), Decision::Permit);
    assert_eq!(decide(&all, json!({"spatial": "01053"})), Decision::Deny);
    let explained = ask(&region, json!({"spatial": "69123"}));
    assert!(
        explained.rules[0].constraints[0]
            .actual
            .as_deref()
            .unwrap()
            .contains("Rhône")
    );
}

#[test]
fn recipient_operand() {
    let eq = constrained(
        json!({"leftOperand": "recipient", "operator": "eq", "rightOperand": {"@id": "urn:siren:3"}}),
    );
    assert_eq!(
        decide(&eq, json!({"recipient": "urn:siren:3"})),
        Decision::Permit
    );
    assert_eq!(
        decide(&eq, json!({"recipient": "urn:siren:4"})),
        Decision::Deny
    );
    let part = constrained(
        json!({"leftOperand": "recipient", "operator": "isPartOf", "rightOperand": {"@id": "ecd:public-bodies"}}),
    );
    let member = json!({"recipient": "urn:siren:3", "partyMembership": {"urn:siren:3": ["ecd:public-bodies"]}});
    assert_eq!(decide(&part, member), Decision::Permit);
    assert_eq!(
        decide(&part, json!({"recipient": "urn:siren:3"})),
        Decision::Deny
    );
}

#[test]
fn pay_amount_operand() {
    let p = constrained(json!({"leftOperand": "payAmount", "operator": "lteq",
        "rightOperand": {"@value": "1000.00", "@type": "xsd:decimal"}, "unit": "https://dbpedia.org/resource/Euro"}));
    assert_eq!(
        decide(&p, json!({"payAmount": {"value": "1000", "unit": "EUR"}})),
        Decision::Permit
    );
    assert_eq!(
        decide(
            &p,
            json!({"payAmount": {"value": "1000.01", "unit": "EUR"}})
        ),
        Decision::Deny
    );
    let dollars = ask(&p, json!({"payAmount": {"value": "10", "unit": "USD"}}));
    assert_eq!(dollars.decision, Decision::Deny);
    assert!(dollars.rules[0].constraints[0].explanation.contains("USD"));
    assert_eq!(
        decide(&p, json!({"payAmount": {"value": "10"}})),
        Decision::Deny
    );
}

#[test]
fn event_operand() {
    let during = constrained(
        json!({"leftOperand": "event", "operator": "eq", "rightOperand": {"@id": "urn:event:crisis"}}),
    );
    assert_eq!(
        decide(&during, json!({"event": ["urn:event:crisis"]})),
        Decision::Permit
    );
    assert_eq!(
        decide(&during, json!({"event": {"urn:event:crisis": "after"}})),
        Decision::Deny
    );
    assert_eq!(decide(&during, json!({})), Decision::Deny, "unknown event");
    let after = constrained(
        json!({"leftOperand": "event", "operator": "gt", "rightOperand": {"@id": "urn:event:launch"}}),
    );
    assert_eq!(
        decide(&after, json!({"event": {"urn:event:launch": "after"}})),
        Decision::Permit
    );
    assert_eq!(
        decide(&after, json!({"event": {"urn:event:launch": "before"}})),
        Decision::Deny
    );
    let usage = constrained(
        json!({"leftOperand": "event", "operator": "eq", "rightOperand": {"@id": "odrl:policyUsage"}}),
    );
    assert_eq!(
        decide(&usage, json!({})),
        Decision::Permit,
        "the request is the policy usage"
    );
}

// ---- duties ----

/// A violated duty keeps the permission inactive; a duty fulfilled once (same uid) serves
/// every permission that refers to it (IM §2.6.5).
#[test]
fn duties_by_uid() {
    let p = policy(
        json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "uid": "urn:p",
        "permission": [
            {"target": DATA, "action": "read", "duty": [{"uid": "urn:duty:attribution", "action": "attribute"}]},
            {"target": DATA, "action": "distribute", "duty": [{"uid": "urn:duty:attribution", "action": "attribute"}]}]}),
    );
    let states =
        |state: &str| json!({"dutyStates": {"urn:duty:attribution": {"deonticState": state}}});
    let request = |action: &str, state: &str| {
        let request = json!({"action": action, "target": DATA, "context": states(state)});
        evaluate(&p, &Request::from_json(&request).unwrap()).decision
    };
    assert_eq!(request("read", "Fulfilled"), Decision::Permit);
    assert_eq!(request("distribute", "Fulfilled"), Decision::Permit);
    assert_eq!(request("read", "Violated"), Decision::Deny);
    assert_eq!(request("read", "NotSet"), Decision::Deny);
}

// ---- mandates: custom actions ----

/// Custom actions declared `includedIn` are covered by their parent; undeclared custom
/// terms are matched exactly; `payAmount lteq` bounds a mandate's power.
#[test]
fn mandate_powers_with_custom_actions() {
    let org = "urn:siren:222222222";
    let mandate = policy(json!({"@context": ["http://www.w3.org/ns/odrl.jsonld",
            {"sign-contract": "https://w3id.org/ecd-clearinghouse/odrl#sign-contract"}],
        "@graph": [
            {"@type": "Set", "uid": "urn:mandate:1", "assignee": "urn:person:1",
             "permission": [
                {"target": org, "action": "sign-contract",
                 "constraint": [{"leftOperand": "payAmount", "operator": "lteq",
                                 "rightOperand": {"@value": "50000", "@type": "xsd:decimal"}, "unit": "EUR"}]},
                {"target": org, "action": "manage-keys"},
                {"target": org, "action": [{"rdf:value": {"@id": "ecd:read-audit"}, "includedIn": "odrl:read"}]}]},
            {"@id": "ecd:sign-amendment", "@type": "Action", "includedIn": "ecd:sign-contract"}]}));
    let power = |action: &str, amount: &str| {
        let request = json!({"action": action, "target": org, "assignee": "urn:person:1",
                             "context": {"payAmount": {"value": amount, "unit": "EUR"}}});
        evaluate(&mandate, &Request::from_json(&request).unwrap()).decision
    };
    assert_eq!(power("ecd:sign-contract", "12000"), Decision::Permit);
    assert_eq!(
        power(
            "https://w3id.org/ecd-clearinghouse/odrl#sign-amendment",
            "12000"
        ),
        Decision::Permit
    );
    assert_eq!(power("ecd:sign-contract", "60000"), Decision::Deny);
    assert_eq!(power("manage-keys", "0"), Decision::Permit);
    assert_eq!(power("manage-key", "0"), Decision::NotApplicable);
    assert_eq!(power("ecd:read-audit", "0"), Decision::Permit);
    assert_eq!(
        power("read", "0"),
        Decision::NotApplicable,
        "read-audit does not cover read"
    );
    assert!(mandate.warnings().iter().any(|w| w.contains("manage-keys")));
}

// ---- invalid policies ----

#[test]
fn unknown_left_operand() {
    let rule = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "colour", "operator": "eq", "rightOperand": "blue"}]});
    assert_eq!(
        problem(with_rule(rule)),
        (
            "permission[0].constraint[0].leftOperand".into(),
            Problem::UnknownLeftOperand("colour".into())
        )
    );
    let prefixed = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "odrl:colour", "operator": "eq", "rightOperand": "blue"}]});
    assert_eq!(
        problem(with_rule(prefixed)).1,
        Problem::UnknownLeftOperand("odrl:colour".into())
    );
}

#[test]
fn wrong_operator_for_the_operand() {
    let rule = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "dateTime", "operator": "isA", "rightOperand": "2025-01-01"}]});
    assert_eq!(
        problem(with_rule(rule)),
        (
            "permission[0].constraint[0].operator".into(),
            Problem::OperatorNotAllowed {
                left: "dateTime".into(),
                operator: "isA".into(),
                allowed: "eq, neq, lt, lteq, gt, gteq"
            }
        )
    );
    let spatial = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "spatial", "operator": "lt", "rightOperand": "69"}]});
    assert!(matches!(
        problem(with_rule(spatial)).1,
        Problem::OperatorNotAllowed { .. }
    ));
    let unknown = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "count", "operator": "atMost", "rightOperand": 3}]});
    assert_eq!(
        problem(with_rule(unknown)).1,
        Problem::UnknownOperator("atMost".into())
    );
}

#[test]
fn missing_assigner_and_assignee() {
    let offer = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer", "uid": "urn:p",
                       "permission": [{"target": DATA, "action": "use"}]});
    assert_eq!(
        problem(offer),
        ("permission[0]".into(), Problem::MissingAssigner("Offer"))
    );
    let agreement = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Agreement", "uid": "urn:p",
                           "permission": [{"target": DATA, "action": "use", "assigner": "urn:a"}]});
    assert_eq!(
        problem(agreement),
        ("permission[0]".into(), Problem::MissingAssignee)
    );
}

#[test]
fn bad_right_operands() {
    let date = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "dateTime", "operator": "lt", "rightOperand": "soon"}]});
    assert!(matches!(problem(with_rule(date)),
        (path, Problem::BadRightOperand { left, value, .. })
            if path == "permission[0].constraint[0].rightOperand" && left == "dateTime" && value == "soon"));
    let area = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "spatial", "operator": "eq", "rightOperand": "region:99"}]});
    assert!(
        matches!(problem(with_rule(area)).1, Problem::BadRightOperand { expected, .. } if expected.contains("région"))
    );
    let list = json!({"target": DATA, "action": "use",
        "constraint": [{"leftOperand": "count", "operator": "lt", "rightOperand": [1, 2]}]});
    assert_eq!(
        problem(with_rule(list)).1,
        Problem::SeveralValuesForOneValueOperator {
            operator: "lt",
            count: 2
        }
    );
}

#[test]
fn malformed_logical_constraints() {
    let one = json!({"target": DATA, "action": "use", "constraint": [{"or": [
        {"leftOperand": "count", "operator": "lt", "rightOperand": 3}]}]});
    assert_eq!(
        problem(with_rule(one)).1,
        Problem::TooFewLogicalOperands {
            operand: "or",
            count: 1
        }
    );
    let nested = json!({"target": DATA, "action": "use", "constraint": [{"and": [
        {"leftOperand": "count", "operator": "lt", "rightOperand": 3},
        {"or": [{"leftOperand": "count", "operator": "lt", "rightOperand": 3},
                {"leftOperand": "count", "operator": "gt", "rightOperand": 9}]}]}]});
    assert_eq!(
        problem(with_rule(nested)),
        (
            "permission[0].constraint[0].and[1]".into(),
            Problem::NestedLogicalConstraint
        )
    );
    let dangling = json!({"target": DATA, "action": "use", "constraint": [{"xone": {"@list": [
        {"@id": "urn:c:1"}, {"@id": "urn:c:2"}]}}]});
    let errors = Policy::validate_json(&with_rule(dangling)).unwrap_err();
    assert_eq!(
        errors[0].problem,
        Problem::UnresolvedConstraint("urn:c:1".into())
    );
}

#[test]
fn policy_level_problems() {
    let no_uid = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "permission": [{"target": DATA, "action": "use"}]});
    assert_eq!(problem(no_uid), ("$".into(), Problem::MissingUid));
    let conflict = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "uid": "urn:p", "conflict": "first",
                          "permission": [{"target": DATA, "action": "use"}]});
    assert_eq!(
        problem(conflict),
        (
            "conflict".into(),
            Problem::UnknownConflictStrategy("first".into())
        )
    );
    let ticket = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Ticket", "uid": "urn:p",
                        "permission": [{"target": DATA, "action": "use"}]});
    assert_eq!(
        problem(ticket),
        ("$".into(), Problem::UnsupportedPolicyType("Ticket".into()))
    );
    let empty =
        json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "uid": "urn:p"});
    assert_eq!(problem(empty), ("$".into(), Problem::NoRules));
    let error = Policy::from_json(&json!(42)).unwrap_err().to_string();
    assert!(error.contains("$: expected"), "{error}");
}

/// The explanation names the expected and the actual value in words.
#[test]
fn explanations_are_plain_words() {
    let p = constrained(json!({"leftOperand": "dateTime", "operator": "lt",
                               "rightOperand": {"@value": "2025-01-01", "@type": "xsd:date"}}));
    let answer = ask(&p, json!({"dateTime": "2025-06-01T12:00:00Z"}));
    let text = &answer.rules[0].constraints[0].explanation;
    assert_eq!(
        text,
        "not satisfied: dateTime is 2025-06-01T12:00:00Z, which is not before 2025-01-01"
    );
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["decidingRule"]["path"], "permission[0]");
    assert_eq!(json["rules"][0]["constraints"][0]["expected"], "2025-01-01");
}
