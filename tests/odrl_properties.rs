//! Properties: logical constraints mean what IM §2.5.2 says for any mix of satisfied
//! members; validation and request parsing never panic on arbitrary JSON; decimal and
//! count comparisons agree with integer arithmetic.

// Helpers may unwrap: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use clearinghouse::odrl::decimal::Decimal;
use clearinghouse::odrl::{Decision, Policy, Request, evaluate};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A policy whose single permission has a logical constraint over `n` profile operands
/// `ex:c0…`, each satisfied when the context says `"yes"`.
fn logical_policy(operand: &str, n: usize) -> Policy {
    let members: Vec<Value> = (0..n)
        .map(
            |i| json!({"leftOperand": format!("ex:c{i}"), "operator": "eq", "rightOperand": "yes"}),
        )
        .collect();
    Policy::from_json(&json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", {"ex": "https://example.org/profile#"}],
        "uid": "urn:p", "profile": "https://example.org/profile",
        "permission": [{"target": "urn:t", "action": "use",
                        "constraint": [{operand: {"@list": members}}]}]}))
    .unwrap()
}

fn permitted(policy: &Policy, bits: &[bool]) -> bool {
    let mut context = Map::new();
    for (i, bit) in bits.iter().enumerate() {
        context.insert(format!("ex:c{i}"), json!(if *bit { "yes" } else { "no" }));
    }
    let request = json!({"action": "use", "target": "urn:t", "context": context});
    evaluate(policy, &Request::from_json(&request).unwrap()).decision == Decision::Permit
}

proptest! {
    #[test]
    fn or_is_any_and_is_all_xone_is_exactly_one(bits in prop::collection::vec(any::<bool>(), 2..7)) {
        let n = bits.len();
        let satisfied = bits.iter().filter(|b| **b).count();
        prop_assert_eq!(permitted(&logical_policy("or", n), &bits), satisfied >= 1);
        prop_assert_eq!(permitted(&logical_policy("and", n), &bits), satisfied == n);
        prop_assert_eq!(permitted(&logical_policy("xone", n), &bits), satisfied == 1);
        prop_assert_eq!(permitted(&logical_policy("andSequence", n), &bits), satisfied == n);
    }

    #[test]
    fn count_lteq_allows_exactly_limit_uses(limit in 0u64..50, earlier in 0u64..60) {
        let policy = Policy::from_json(&json!({"uid": "urn:p", "permission": [{"target": "urn:t",
            "action": "use", "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": limit}]}]}))
            .unwrap();
        let request = json!({"action": "use", "target": "urn:t", "context": {"count": earlier}});
        let decision = evaluate(&policy, &Request::from_json(&request).unwrap()).decision;
        prop_assert_eq!(decision == Decision::Permit, earlier < limit);
    }

    #[test]
    fn decimals_compare_like_scaled_integers(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000,
                                             scale_a in 0u32..4, scale_b in 0u32..4) {
        let text = |v: i64, scale: u32| {
            let digits = v.unsigned_abs().to_string();
            let padded = format!("{digits:0>width$}", width = scale as usize + 1);
            let (int, frac) = padded.split_at(padded.len() - scale as usize);
            let sign = if v < 0 { "-" } else { "" };
            if scale == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
        };
        let left = Decimal::parse(&text(a, scale_a)).unwrap();
        let right = Decimal::parse(&text(b, scale_b)).unwrap();
        let widen = |v: i64, scale: u32| i128::from(v) * 10i128.pow(4 - scale);
        prop_assert_eq!(left.cmp(&right), widen(a, scale_a).cmp(&widen(b, scale_b)));
    }

    #[test]
    fn validation_never_panics(document in arbitrary_json()) {
        let _ = Policy::validate_json(&document);
        let _ = Request::from_json(&document);
    }

    #[test]
    fn validation_never_panics_on_policy_shaped_json(rule in policy_shaped_rule()) {
        let document = json!({"@context": "http://www.w3.org/ns/odrl.jsonld", "uid": "urn:p",
                              "@type": "Agreement", "permission": [rule.clone()], "prohibition": rule});
        if let Ok(policy) = Policy::validate_json(&document) {
            let request = json!({"action": "read", "target": "urn:t", "assignee": "urn:a",
                                 "context": {"count": 1, "dateTime": "2025-01-01T00:00:00Z"}});
            let _ = evaluate(&policy, &Request::from_json(&request).unwrap());
        }
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z:/@0-9.]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Keys that an ODRL parser looks at, plus noise.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("uid".to_owned()),
        Just("@id".to_owned()),
        Just("@type".to_owned()),
        Just("@list".to_owned()),
        Just("permission".to_owned()),
        Just("prohibition".to_owned()),
        Just("obligation".to_owned()),
        Just("action".to_owned()),
        Just("target".to_owned()),
        Just("assigner".to_owned()),
        Just("assignee".to_owned()),
        Just("constraint".to_owned()),
        Just("refinement".to_owned()),
        Just("duty".to_owned()),
        Just("leftOperand".to_owned()),
        Just("operator".to_owned()),
        Just("rightOperand".to_owned()),
        Just("and".to_owned()),
        Just("xone".to_owned()),
        Just("inheritFrom".to_owned()),
        Just("context".to_owned()),
        "[a-z]{1,6}",
    ]
}

fn policy_shaped_rule() -> impl Strategy<Value = Value> {
    let left = prop_oneof![
        Just("dateTime"),
        Just("count"),
        Just("spatial"),
        Just("purpose"),
        Just("payAmount"),
        Just("elapsedTime"),
        Just("event"),
        Just("recipient"),
        Just("media"),
        Just("ex:x")
    ];
    let operator = prop_oneof![
        Just("eq"),
        Just("lt"),
        Just("lteq"),
        Just("gt"),
        Just("isA"),
        Just("isAnyOf"),
        Just("hasPart"),
        Just("isNoneOf"),
        Just("isAllOf"),
        Just("isPartOf")
    ];
    let right = prop_oneof![
        Just(json!("2025-01-01")),
        Just(json!(3)),
        Just(json!("69")),
        Just(json!(["a", "b"])),
        Just(json!({"@value": "P1D", "@type": "xsd:duration"})),
        Just(json!({"@id": "odrl:policyUsage"})),
        Just(json!("region:84")),
        Just(json!("5.00"))
    ];
    (left, operator, right, prop::bool::ANY).prop_map(|(left, operator, right, with_duty)| {
        let mut rule = json!({"target": "urn:t", "action": "use", "assigner": "urn:a", "assignee": "urn:a",
            "constraint": [{"leftOperand": left, "operator": operator, "rightOperand": right}]});
        if with_duty {
            rule["duty"] = json!([{"action": "compensate",
                "constraint": [{"leftOperand": left, "operator": operator, "rightOperand": right}]}]);
        }
        rule
    })
}
