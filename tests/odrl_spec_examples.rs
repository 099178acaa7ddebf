//! The examples of the ODRL Information Model 2.2 (W3C Recommendation) and the case tables of
//! the ODRL Formal Semantics draft, parsed, validated and evaluated.

// Helpers may unwrap: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use clearinghouse::odrl::{
    Decision, DeonticState, Evaluation, Policy, Problem, Request, RuleKind, evaluate,
};
use serde_json::{Value, json};

fn vector(name: &str) -> Value {
    let path = format!("{}/tests/vectors/odrl/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn example(n: u32) -> Value {
    vector(&format!("im/example-{n:02}.json"))
}

fn policy(document: &Value) -> Policy {
    Policy::from_json(document).unwrap_or_else(|e| panic!("{e}"))
}

fn ask(policy: &Policy, request: Value) -> Evaluation {
    evaluate(policy, &Request::from_json(&request).unwrap())
}

fn problems(document: &Value) -> Vec<(String, Problem)> {
    Policy::validate_json(document)
        .expect_err("the document should be invalid")
        .into_iter()
        .map(|e| (e.path, e.problem))
        .collect()
}

/// Every published policy example is valid, except those the tests below show are not.
#[test]
fn information_model_examples_are_valid() {
    for n in [
        1, 2, 3, 4, 5, 8, 9, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
        31, 34, 35,
    ] {
        if let Err(errors) = Policy::validate_json(&example(n)) {
            panic!("Example {n}: {errors:?}");
        }
    }
}

/// §2.1.1 Example 1: a Set permitting `use`; `read` is included in `use`, `transfer` is not.
#[test]
fn example_1_set_use_covers_read() {
    let p = policy(&example(1));
    let movie = "http://example.com/asset:9898.movie";
    assert_eq!(
        ask(&p, json!({"action": "use", "target": movie})).decision,
        Decision::Permit
    );
    let read = ask(&p, json!({"action": "read", "target": movie}));
    assert_eq!(read.decision, Decision::Permit);
    assert!(
        read.rules[0].scope[0].contains("read is included in use"),
        "{:?}",
        read.rules[0].scope
    );
    assert_eq!(
        ask(&p, json!({"action": "transfer", "target": movie})).decision,
        Decision::NotApplicable
    );
    assert_eq!(
        ask(
            &p,
            json!({"action": "use", "target": "http://example.com/other"})
        )
        .decision,
        Decision::NotApplicable
    );
}

/// §2.1.2 Example 2: an Offer grants nothing until agreed (formal semantics), unless asked.
#[test]
fn example_2_offer_is_not_considered() {
    let p = policy(&example(2));
    let movie = "http://example.com/asset:9898.movie";
    let plain = ask(&p, json!({"action": "play", "target": movie}));
    assert_eq!(plain.decision, Decision::NotApplicable);
    assert!(plain.reason.contains("Offer"));
    let tried = ask(
        &p,
        json!({"action": "play", "target": movie, "evaluateOffer": true}),
    );
    assert_eq!(tried.decision, Decision::Permit);
}

/// §2.1.3 Example 3 and §2.3.1 Example 8: an Agreement grants its assignee only.
#[test]
fn examples_3_and_8_agreement_grants_the_assignee() {
    let p = policy(&example(3));
    let movie = "http://example.com/asset:9898.movie";
    let billie = "http://example.com/party:person:billie";
    let granted = ask(
        &p,
        json!({"action": "play", "target": movie, "assignee": billie}),
    );
    assert_eq!(granted.decision, Decision::Permit);
    let deciding = granted.deciding_rule.unwrap();
    assert_eq!(
        (deciding.kind, deciding.index, deciding.path.as_str()),
        (RuleKind::Permission, 0, "permission[0]")
    );
    let other = json!({"action": "play", "target": movie, "assignee": "http://example.com/x"});
    assert_eq!(ask(&p, other).decision, Decision::NotApplicable);
    assert_eq!(
        ask(&p, json!({"action": "play", "target": movie})).decision,
        Decision::NotApplicable
    );
    let p8 = policy(&example(8));
    let song = json!({"action": "play", "target": "http://example.com/music/1999.mp3",
                      "assignee": "http://example.com/people/billie"});
    assert_eq!(ask(&p8, song).decision, Decision::Permit);
}

/// §2.2.2 Example 5 with Example 6: a member of an AssetCollection is a target of its rule.
#[test]
fn examples_5_and_6_asset_collection_membership() {
    let p = policy(&example(5));
    let doc = "http://example.com/asset:111.doc";
    let member = json!({"action": "index", "target": doc,
        "context": {"assetMembership": {doc: ["http://example.com/archive1011"]}}});
    assert_eq!(ask(&p, member).decision, Decision::Permit);
    assert_eq!(
        ask(&p, json!({"action": "index", "target": doc})).decision,
        Decision::NotApplicable
    );
}

/// §2.3.1 Example 9 with Example 10: a member of a PartyCollection is an assignee.
#[test]
fn examples_9_and_10_party_collection_membership() {
    let p = policy(&example(9));
    let murphy = "http://example.com/person/murphy";
    let book = "http://example.com/looking-glass.ebook";
    let member = json!({"action": "read", "target": book, "assignee": murphy,
        "context": {"partyMembership": {murphy: ["http://example.com/team/A"]}}});
    assert_eq!(ask(&p, member).decision, Decision::Permit);
    let stranger = json!({"action": "read", "target": book, "assignee": murphy});
    assert_eq!(ask(&p, stranger).decision, Decision::NotApplicable);
}

/// §2.5.3 Example 13: `dateTime lt 2018-01-01`; a missing time is not satisfied.
#[test]
fn example_13_date_constraint() {
    let p = policy(&example(13));
    let base = |time: Option<&str>| {
        let mut request = json!({"action": "distribute", "target": "http://example.com/document:1234",
                                 "evaluateOffer": true, "context": {}});
        if let Some(time) = time {
            request["context"]["dateTime"] = json!(time);
        }
        request
    };
    assert_eq!(
        ask(&p, base(Some("2017-12-19T15:00:00"))).decision,
        Decision::Permit
    );
    let late = ask(&p, base(Some("2018-01-01T00:00:00Z")));
    assert_eq!(late.decision, Decision::Deny);
    let constraint = &late.rules[0].constraints[0];
    assert!(!constraint.satisfied);
    assert_eq!(constraint.actual.as_deref(), Some("2018-01-01T00:00:00Z"));
    assert_eq!(constraint.expected.as_deref(), Some("2018-01-01"));
    let unknown = ask(&p, base(None));
    assert_eq!(unknown.decision, Decision::Deny);
    assert!(
        unknown.rules[0].constraints[0]
            .explanation
            .contains("closed world")
    );
}

/// §2.5.4 Example 14: a refinement on the action (`resolution lteq 1200`).
#[test]
fn example_14_action_refinement() {
    let p = policy(&example(14));
    let print = |dpi: u32| {
        json!({"action": "print", "target": "http://example.com/document:1234",
                                  "evaluateOffer": true, "context": {"resolution": dpi}})
    };
    assert_eq!(ask(&p, print(1200)).decision, Decision::Permit);
    let sharp = ask(&p, print(2400));
    assert_eq!(sharp.decision, Decision::Deny);
    assert!(
        sharp.rules[0].active,
        "refinements do not deactivate the rule"
    );
    assert!(!sharp.rules[0].refinements[0].satisfied);
}

/// §2.5.4 Example 15: `xone` over two constraints given as separate documents.
#[test]
fn example_15_xone_over_referenced_constraints() {
    let p = policy(&example(15));
    let reproduce = |media: &str| {
        json!({"action": "reproduce", "target": "http://example.com/book/1999",
                                         "evaluateOffer": true, "context": {"media": media}})
    };
    assert_eq!(ask(&p, reproduce("online")).decision, Decision::Permit);
    assert_eq!(ask(&p, reproduce("print")).decision, Decision::Permit);
    let neither = ask(&p, reproduce("broadcast"));
    assert_eq!(neither.decision, Decision::Deny);
    assert!(
        neither.rules[0].refinements[0]
            .explanation
            .contains("exactly one")
    );
}

/// §2.5.5 Example 16 writes the profile's left operand `runningTime` as a bare term, which
/// the ODRL context does not define: the validator names it.
#[test]
fn example_16_bare_profile_operand_is_an_unknown_left_operand() {
    assert_eq!(
        problems(&example(16)),
        vec![(
            "permission[0].target[0].refinement[0].leftOperand".to_owned(),
            Problem::UnknownLeftOperand("runningTime".to_owned())
        )]
    );
    // Written as a prefixed name, it is a profile term and the policy is valid.
    let mut fixed = example(16);
    fixed["@context"] =
        json!(["http://www.w3.org/ns/odrl.jsonld", {"ex": "http://example.com/odrl:profile:11#"}]);
    fixed["permission"][0]["target"]["refinement"][0]["leftOperand"] = json!("ex:runningTime");
    let p = policy(&fixed);
    let movie = "http://example.com/movie/1";
    let play = |minutes: u32| {
        json!({"action": "play", "target": movie, "evaluateOffer": true,
        "context": {"ex:runningTime": minutes,
                    "assetMembership": {movie: ["http://example.com/media-catalogue"]}}})
    };
    assert_eq!(ask(&p, play(45)).decision, Decision::Permit);
    assert_eq!(ask(&p, play(90)).decision, Decision::Deny);
}

/// §2.5.6 Example 17: a refined PartyCollection (`foaf:age gt 17`).
#[test]
fn example_17_party_collection_refinement() {
    let p = policy(&example(17));
    let view = |age: u32| {
        json!({"action": "ex:view", "target": "http://example.com/myPhotos:BdayParty",
        "assignee": "http://example.com/alice",
        "context": {"foaf:age": age,
                    "partyMembership": {"http://example.com/alice": ["http://example.com/user44/friends"]}}})
    };
    assert_eq!(ask(&p, view(30)).decision, Decision::Permit);
    assert_eq!(ask(&p, view(16)).decision, Decision::Deny);
}

/// §2.6.1 Example 18: `dateTime lteq 2017-12-31` includes the whole last day.
#[test]
fn example_18_date_is_a_whole_day() {
    let p = policy(&example(18));
    let play = |time: &str| {
        json!({"action": "play", "target": "http://example.com/game:9090",
                                   "evaluateOffer": true, "context": {"dateTime": time}})
    };
    assert_eq!(
        ask(&p, play("2017-12-31T23:59:59Z")).decision,
        Decision::Permit
    );
    assert_eq!(
        ask(&p, play("2018-01-01T00:00:00Z")).decision,
        Decision::Deny
    );
}

/// §2.6.2 Example 19: a permission to display and a prohibition to archive do not conflict.
#[test]
fn example_19_permission_and_prohibition() {
    let p = policy(&example(19));
    let request = |action: &str| {
        json!({"action": action, "target": "http://example.com/photoAlbum:55",
                                        "assignee": "http://example.com/assignee:55"})
    };
    assert_eq!(ask(&p, request("display")).decision, Decision::Permit);
    let archive = ask(&p, request("archive"));
    assert_eq!(archive.decision, Decision::Deny);
    assert_eq!(archive.deciding_rule.unwrap().kind, RuleKind::Prohibition);
    assert!(archive.conflict.detected.is_none());
}

/// §2.6.4 Examples 20 and 21: obligations are reported with their state; a payment fulfils
/// a compensate obligation.
#[test]
fn examples_20_and_21_obligations_are_reported() {
    let p = policy(&example(20));
    let unpaid = ask(&p, json!({"action": "use"}));
    assert_eq!(unpaid.decision, Decision::NotApplicable);
    assert_eq!(unpaid.obligations[0].deontic_state, DeonticState::NotSet);
    let paid = ask(
        &p,
        json!({"action": "use", "context": {"payments": [
        {"duty": "obligation[0]", "payer": "http://example.com/person:44",
         "payee": "http://example.com/org:43", "amount": "500.00", "currency": "EUR"}]}}),
    );
    assert_eq!(paid.obligations[0].deontic_state, DeonticState::Fulfilled);
    let p21 = policy(&example(21));
    let report = ask(
        &p21,
        json!({"action": "use", "context": {"dutyStates": {"obligation[0]": "Violated"}}}),
    );
    assert_eq!(report.obligations[0].deontic_state, DeonticState::Violated);
    assert_eq!(report.obligations[0].consequences.len(), 1);
    assert_eq!(report.obligations[0].consequences[0].action, "compensate");
}

/// §2.6.5 Example 22: a compensate duty must be paid before the permission is active.
#[test]
fn example_22_duty_gates_the_permission() {
    let p = policy(&example(22));
    let play = |payments: Value| {
        json!({"action": "play", "target": "http://example.com/music/1999.mp3",
        "evaluateOffer": true, "context": {"dateTime": "2025-01-01T12:00:00Z", "payments": payments}})
    };
    let payment = |amount: &str, currency: &str| {
        json!([{"duty": "permission[0].duty[0]",
        "payee": "http://example.com/assigner:sony", "amount": amount, "currency": currency,
        "date": "2025-01-01T11:00:00Z"}])
    };
    let unpaid = ask(&p, play(json!([])));
    assert_eq!(unpaid.decision, Decision::Deny);
    assert!(!unpaid.rules[0].active);
    assert_eq!(
        unpaid.rules[0].duties[0].deontic_state,
        DeonticState::NotSet
    );
    assert_eq!(
        ask(&p, play(payment("5.00", "EUR"))).decision,
        Decision::Permit
    );
    assert_eq!(
        ask(&p, play(payment("5", "http://dbpedia.org/resource/Euro"))).decision,
        Decision::Permit
    );
    assert_eq!(
        ask(&p, play(payment("4.99", "EUR"))).decision,
        Decision::Deny
    );
    assert_eq!(
        ask(&p, play(payment("5.00", "USD"))).decision,
        Decision::Deny
    );
}

/// §2.6.6 Example 23: a duty's consequence; §2.6.7 Example 24: a prohibition's remedy.
#[test]
fn examples_23_and_24_consequence_and_remedy() {
    let p = policy(&example(23));
    let distribute = |states: Value| {
        json!({"action": "distribute", "target": "http://example.com/data:77",
        "assignee": "http://example.com/person:88", "context": {"dutyStates": states}})
    };
    let done = ask(
        &p,
        distribute(json!({"permission[0].duty[0]": {"deonticState": "Fulfilled"}})),
    );
    assert_eq!(done.decision, Decision::Permit);
    let missed = ask(
        &p,
        distribute(json!({"permission[0].duty[0]": {"deonticState": "Violated"}})),
    );
    assert_eq!(missed.decision, Decision::Deny);
    assert_eq!(
        missed.rules[0].duties[0].consequences[0].action,
        "acceptTracking"
    );
    let p24 = policy(&example(24));
    let index = ask(
        &p24,
        json!({"action": "index", "target": "http://example.com/data:77",
                                 "assignee": "http://example.com/org:99"}),
    );
    assert_eq!(index.decision, Decision::Deny);
    assert_eq!(index.rules[0].remedies[0].action, "anonymize");
    assert!(index.rules[0].outcome.contains("remedies"));
}

/// §2.7 Examples 25–29: compound and compact policies become atomic rules.
#[test]
fn examples_26_to_29_composition_and_compact_policies() {
    let compound = policy(&example(26));
    let atomic = policy(&example(27));
    let key = |p: &Policy| {
        let mut rules: Vec<(String, String, String)> = p
            .permissions()
            .iter()
            .map(|r| {
                (
                    r.action.iri.clone(),
                    r.target.as_ref().unwrap().iri.clone(),
                    r.assigner.as_ref().unwrap().iri.clone(),
                )
            })
            .collect();
        rules.sort();
        rules
    };
    assert_eq!(compound.permissions().len(), 4);
    assert_eq!(key(&compound), key(&atomic));
    let compact = policy(&example(28));
    let expanded = policy(&example(29));
    let parties = |p: &Policy| {
        p.permissions()
            .iter()
            .map(|r| {
                (
                    r.action.iri.clone(),
                    r.target.as_ref().unwrap().iri.clone(),
                    r.assigner.as_ref().unwrap().iri.clone(),
                    r.assignee.as_ref().unwrap().iri.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(parties(&compact), parties(&expanded));
    let stream = json!({"action": "stream", "target": "http://example.com/music/PurpleRain.mp3"});
    assert_eq!(ask(&compound, stream).decision, Decision::Permit);
}

/// §2.8 Example 30: the metadata example's empty permission is not a valid rule.
#[test]
fn example_30_empty_permission_is_invalid() {
    assert_eq!(
        problems(&example(30)),
        vec![
            ("permission[0]".to_owned(), Problem::MissingAction),
            (
                "permission[0]".to_owned(),
                Problem::MissingTarget("permission")
            ),
        ]
    );
}

/// §2.9 Examples 31–33: inheritance merges the parent's assigner and obligation.
#[test]
fn examples_31_to_33_inheritance() {
    assert_eq!(
        problems(&example(32)),
        vec![
            (
                "inheritFrom".to_owned(),
                Problem::UnresolvedParent("http://example.com/policy:default".to_owned())
            ),
            // The assigner would have come from the missing parent.
            (
                "permission[0]".to_owned(),
                Problem::MissingAssigner("Agreement")
            ),
        ]
    );
    let merged = policy(&json!([example(32), example(31)]));
    assert_eq!(
        merged.inherits_from(),
        ["http://example.com/policy:default"]
    );
    let rule = &merged.permissions()[0];
    assert_eq!(
        rule.assigner.as_ref().unwrap().iri,
        "http://example.com/org-01"
    );
    assert_eq!(
        rule.assignee.as_ref().unwrap().iri,
        "http://example.com/user:0001"
    );
    let obligation = &merged.obligations()[0];
    assert_eq!(
        obligation.assigner.as_ref().unwrap().iri,
        "http://example.com/org-01"
    );
    assert_eq!(
        obligation.assignee.as_ref().unwrap().iri,
        "http://example.com/user:0001"
    );
    let display = json!({"action": "display", "target": "http://example.com/asset:5555",
                         "assignee": "http://example.com/user:0001"});
    let answer = ask(&merged, display.clone());
    assert_eq!(answer.decision, Decision::Permit);
    assert_eq!(answer.obligations[0].action, "reviewPolicy");
    // Example 33 is the result of the inheritance: with its (now informational) inheritFrom
    // removed, it holds the same rules as the merge above.
    let mut published = example(33);
    published.as_object_mut().unwrap().remove("inheritFrom");
    let published = policy(&published);
    let parties = |p: &Policy| {
        let rules = p
            .permissions()
            .iter()
            .map(|r| (&r.action.iri, &r.assigner, &r.assignee));
        let duties = p
            .obligations()
            .iter()
            .map(|d| (&d.action.iri, &d.assigner, &d.assignee));
        rules
            .chain(duties)
            .map(|(a, from, to)| {
                (
                    a.clone(),
                    from.as_ref().map(|p| p.iri.clone()),
                    to.as_ref().map(|p| p.iri.clone()),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(parties(&published), parties(&merged));
    assert_eq!(ask(&published, display).decision, Decision::Permit);
}

/// §2.10 Examples 34 and 35: `perm` lets the `use` permission override the `print`
/// prohibition once the policies are merged; two different strategies void the policy.
#[test]
fn examples_34_and_35_conflict_strategies() {
    let alone = policy(&example(35));
    let print = json!({"action": "print", "target": "http://example.com/asset:1212"});
    assert_eq!(ask(&alone, print.clone()).decision, Decision::Deny);
    let mut child = example(35);
    child["inheritFrom"] = json!("http://example.com/policy:0001");
    let merged = policy(&json!([child.clone(), example(34)]));
    let answer = ask(&merged, print.clone());
    assert_eq!(answer.decision, Decision::Permit);
    assert!(answer.conflict.outcome.as_deref().unwrap().contains("perm"));
    child["conflict"] = json!("prohibit");
    let contradictory = policy(&json!([child, example(34)]));
    let void = ask(&contradictory, print);
    assert_eq!(void.decision, Decision::Deny);
    assert!(void.reason.contains("void"));
    let display = json!({"action": "display", "target": "http://example.com/asset:1212"});
    assert_eq!(
        ask(&contradictory, display).decision,
        Decision::Deny,
        "a void policy permits nothing"
    );
}

// ---- ODRL Formal Semantics case tables ----

/// A1-1, A1-2: a constrained permission is active only while its constraint holds.
#[test]
fn formal_semantics_a1_constrained_permission() {
    let p = policy(&vector("fs/policy-A1.json"));
    let request = |time: &str| {
        json!({"action": "distribute", "target": "http://example.com/document/1234",
        "assignee": "http://example.com/party/1", "context": {"dateTime": time}})
    };
    let a11 = ask(&p, request("2017-12-19T15:00:00"));
    assert_eq!(
        (a11.decision, a11.rules[0].active),
        (Decision::Permit, true)
    );
    assert_eq!(
        a11.deciding_rule.unwrap().uid.as_deref(),
        Some("http://example.com/rule/A1")
    );
    let a12 = ask(&p, request("2019-12-19T15:00:00"));
    assert_eq!((a12.decision, a12.rules[0].active), (Decision::Deny, false));
}

/// B1-1, B1-2: the permission stays active; the refinement decides.
#[test]
fn formal_semantics_b1_refined_permission() {
    let p = policy(&vector("fs/policy-B1.json"));
    let request = |dpi: &str| {
        json!({"action": "print", "target": "http://example.com/document/1234",
        "context": {"resolution": dpi}})
    };
    let b11 = ask(&p, request("600"));
    assert_eq!(
        (b11.decision, b11.rules[0].active),
        (Decision::Permit, true)
    );
    let b12 = ask(&p, request("2400"));
    assert_eq!((b12.decision, b12.rules[0].active), (Decision::Deny, true));
    assert_eq!(
        b12.rules[0].refinements[0].uid.as_deref(),
        Some("http://example.com/refinement/B1")
    );
}

/// E22-1, E22-2: the condition (duty) must be fulfilled for the permission to be active.
#[test]
fn formal_semantics_e22_conditioned_permission() {
    let p = policy(&vector("fs/policy-22.json"));
    let play = |payments: Value| {
        json!({"action": "play", "target": "http://example.com/music/1999.mp3",
        "assignee": "http://example.com/party/billie", "context": {"payments": payments}})
    };
    let e221 = ask(&p, play(json!([])));
    let duty = &e221.rules[0].duties[0];
    assert_eq!(
        (duty.active, duty.deontic_state),
        (true, DeonticState::NotSet)
    );
    assert_eq!(
        (e221.rules[0].active, e221.decision),
        (false, Decision::Deny)
    );
    let e222 = ask(
        &p,
        play(json!([{"duty": "http://example.com/condition/1",
        "payer": "http://example.com/party/billie", "payee": "http://example.com/party/sony",
        "amount": "5.00", "currency": "http://dbpedia.org/resource/Euro"}])),
    );
    let duty = &e222.rules[0].duties[0];
    assert_eq!(
        (duty.active, duty.deontic_state),
        (true, DeonticState::Fulfilled)
    );
    assert_eq!(
        (e222.rules[0].active, e222.decision),
        (true, Decision::Permit)
    );
}

/// E88-1…3: a condition with a constraint binds only when its constraint holds.
#[test]
fn formal_semantics_e88_condition_with_constraint() {
    let p = policy(&vector("fs/policy-88.json"));
    let play = |day: &str, payments: Value| {
        json!({"action": "play",
        "target": "http://example.com/music/1999.mp3", "assignee": "http://example.com/party/billie",
        "context": {"ex:dayOfWeek": day, "payments": payments}})
    };
    let fee = json!([{"duty": "http://example.com/condition/1", "payee": "http://example.com/party/sony",
                      "amount": "5.00", "currency": "EUR"}]);
    let e881 = ask(&p, play("Monday", json!([])));
    assert_eq!(
        (e881.rules[0].duties[0].active, e881.decision),
        (false, Decision::Permit)
    );
    let e882 = ask(&p, play("Sunday", json!([])));
    assert_eq!(
        (e882.rules[0].duties[0].active, e882.decision),
        (true, Decision::Deny)
    );
    let e883 = ask(&p, play("Sunday", fee));
    assert_eq!(
        e883.rules[0].duties[0].deontic_state,
        DeonticState::Fulfilled
    );
    assert_eq!(e883.decision, Decision::Permit);
}

/// E55-1…3: a constrained prohibition is active before 2025 only.
#[test]
fn formal_semantics_e55_constrained_prohibition() {
    let p = policy(&vector("fs/policy-55.json"));
    let archive = |time: &str| {
        json!({"action": "archive", "target": "http://example.com/photoAlbum:55",
        "assignee": "http://example.com/assignee:55", "context": {"dateTime": time}})
    };
    let before = ask(&p, archive("2024-06-01T00:00:00Z"));
    assert_eq!(
        (before.rules[0].active, before.decision),
        (true, Decision::Deny)
    );
    assert_eq!(before.deciding_rule.unwrap().kind, RuleKind::Prohibition);
    let after = ask(&p, archive("2025-06-01T00:00:00Z"));
    assert!(!after.rules[0].active);
    assert_eq!(
        after.decision,
        Decision::Deny,
        "no permission: closed world"
    );
    assert!(after.deciding_rule.is_none());
}

/// E42-1, E42-2: an obligation without constraints is always active.
#[test]
fn formal_semantics_e42_obligation() {
    let p = policy(&vector("fs/policy-42.json"));
    let paid = ask(
        &p,
        json!({"action": "use", "context": {"payments": [{
        "duty": "http://example.com/obligation/1", "payer": "http://example.com/party/44",
        "payee": "http://example.com/party/43", "amount": "500", "currency": "EUR"}]}}),
    );
    assert_eq!(
        (
            paid.obligations[0].active,
            paid.obligations[0].deontic_state
        ),
        (true, DeonticState::Fulfilled)
    );
    let unpaid = ask(&p, json!({"action": "use"}));
    assert_eq!(
        (
            unpaid.obligations[0].active,
            unpaid.obligations[0].deontic_state
        ),
        (true, DeonticState::NotSet)
    );
}
