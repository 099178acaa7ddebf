//! A mandate's powers, written as ODRL permissions, and deciding them with the same ODRL
//! evaluator that decides transfers.
//!
//! Powers are an ODRL `Set` whose permissions name actions of this service's vocabulary
//! (`sign-contract`, `request-transfer`, `manage-keys`, `read-audit`) on the organisation
//! (`urn:siren:<SIREN>`), optionally constrained (e.g. `payAmount` at most 10 000 EUR).
//! "May this person do X for this organisation" is then an ODRL evaluation like any other,
//! with its explanation.

use serde_json::{Value, json};

use crate::odrl::{Context, Policy, Request, evaluate};

/// The vocabulary of this service's actions (the ODRL profile namespace).
pub const VOCAB: &str = "https://w3id.org/ecd-clearinghouse/odrl#";

/// The powers a mandate may carry.
pub const SIGN_CONTRACT: &str = "https://w3id.org/ecd-clearinghouse/odrl#sign-contract";
pub const REQUEST_TRANSFER: &str = "https://w3id.org/ecd-clearinghouse/odrl#request-transfer";
pub const MANAGE_KEYS: &str = "https://w3id.org/ecd-clearinghouse/odrl#manage-keys";
pub const READ_AUDIT: &str = "https://w3id.org/ecd-clearinghouse/odrl#read-audit";
/// Every power, in the order they are listed.
pub const ALL: [&str; 4] = [SIGN_CONTRACT, REQUEST_TRANSFER, MANAGE_KEYS, READ_AUDIT];

/// The ODRL identifier of an organisation: the target of its representatives' powers.
pub fn organisation_target(siren: &str) -> String {
    format!("urn:siren:{siren}")
}

/// The ODRL party collection of a class of organisation (`public-body` →
/// `ecd:public-bodies`), as policies, decisions and financing rules name it.
pub fn class_collection(class: &str) -> String {
    let collection = match class {
        "public-body" => "public-bodies",
        "company" => "companies",
        "association" => "associations",
        "sole-trader" => "sole-traders",
        other => other,
    };
    format!("{VOCAB}{collection}")
}

/// Expand a short power name (`sign-contract`) to its IRI; IRIs pass through.
pub fn power_iri(name: &str) -> Option<&'static str> {
    ALL.iter()
        .copied()
        .find(|iri| *iri == name || iri.strip_prefix(VOCAB) == Some(name))
}

/// Every power over `siren`, unconstrained: what a certified officer holds.
pub fn all_powers(uid: &str, siren: &str) -> Value {
    let target = organisation_target(siren);
    json!({
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set",
        "uid": uid,
        "permission": ALL.iter().map(|action| json!({"target": target, "action": action})).collect::<Vec<_>>(),
    })
}

/// Why powers do not allow something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PowerError {
    #[error("the mandate's powers are not a valid ODRL policy: {0}")]
    Invalid(String),
    #[error("the mandate does not grant `{action}` for SIREN {siren}: {reason}")]
    NotGranted {
        action: String,
        siren: String,
        reason: String,
    },
}

/// Check that `powers` let their holder do `action` for `siren` in `context` (an ODRL
/// request context: `payAmount`, `dateTime`, …).
pub fn check(powers: &Value, action: &str, siren: &str, context: &Value) -> Result<(), PowerError> {
    let policy = Policy::from_json(powers).map_err(|e| PowerError::Invalid(e.to_string()))?;
    let context = match context {
        Value::Object(map) => {
            Context::from_json(map).map_err(|e| PowerError::Invalid(e.to_string()))?
        }
        _ => Context::default(),
    };
    let request = Request::new(action)
        .with_target(organisation_target(siren))
        .with_context(context);
    let evaluation = evaluate(&policy, &request);
    if evaluation.is_permit() {
        Ok(())
    } else {
        Err(PowerError::NotGranted {
            action: action.strip_prefix(VOCAB).unwrap_or(action).to_owned(),
            siren: siren.to_owned(),
            reason: evaluation.reason,
        })
    }
}

/// The target of an ODRL rule as an IRI: the rule's own `target` (a string, or an object
/// with `uid` / `@id`), else the policy's. `None` when there is none or several.
fn rule_target(rule: &Value, policy: &Value) -> Option<String> {
    let iri = |value: &Value| match value {
        Value::String(iri) => Some(iri.clone()),
        Value::Object(object) => object
            .get("uid")
            .or_else(|| object.get("@id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    rule.get("target")
        .or_else(|| policy.get("target"))
        .and_then(iri)
}

/// Check that every permission in `requested` is covered by `parent`: a sub-mandate can
/// only pass on powers its grantor holds. Each requested permission must name a known
/// power on `siren`, and the parent powers must hold that action on that organisation
/// (`urn:siren:<SIREN>`, as the rule's target or the policy's);
/// the parent's constraints are copied onto the child so they cannot be shed.
pub fn restrict(
    requested: &Value,
    parent: &Value,
    siren: &str,
    uid: &str,
) -> Result<Value, PowerError> {
    let permissions = requested
        .get("permission")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| PowerError::Invalid("powers need at least one permission".into()))?;
    let parent_permissions = parent
        .get("permission")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let target = organisation_target(siren);
    let mut granted = Vec::new();
    for permission in permissions {
        let action = permission
            .get("action")
            .and_then(Value::as_str)
            .and_then(power_iri)
            .ok_or_else(|| {
                PowerError::Invalid(format!(
                    "unknown power {:?} (one of sign-contract, request-transfer, manage-keys, read-audit)",
                    permission.get("action")
                ))
            })?;
        // The parent must grant the action on this organisation (constraints aside: they
        // are copied below instead). A rule over another organisation does not count.
        let parent_rule = parent_permissions
            .iter()
            .find(|p| {
                p.get("action").and_then(Value::as_str).and_then(power_iri) == Some(action)
                    && rule_target(p, parent).as_deref() == Some(target.as_str())
            })
            .ok_or_else(|| PowerError::NotGranted {
                action: action.strip_prefix(VOCAB).unwrap_or(action).to_owned(),
                siren: siren.to_owned(),
                reason: format!("the grantor does not hold this power on {target}"),
            })?;
        let mut constraints: Vec<Value> = Vec::new();
        for source in [parent_rule, permission] {
            match source.get("constraint") {
                Some(Value::Array(items)) => constraints.extend(items.iter().cloned()),
                Some(one @ Value::Object(_)) => constraints.push(one.clone()),
                _ => {}
            }
        }
        let mut rule = json!({"target": organisation_target(siren), "action": action});
        if !constraints.is_empty() {
            rule["constraint"] = Value::Array(constraints);
        }
        granted.push(rule);
    }
    let powers = json!({
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set",
        "uid": uid,
        "permission": granted,
    });
    Policy::from_json(&powers).map_err(|e| PowerError::Invalid(e.to_string()))?;
    Ok(powers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(permissions: Value) -> Value {
        json!({
            "@context": "http://www.w3.org/ns/odrl.jsonld",
            "@type": "Set",
            "uid": "urn:uuid:parent",
            "permission": permissions,
        })
    }

    #[test]
    fn restrict_accepts_a_parent_rule_on_the_organisation() {
        let siren = "552032534";
        let target = organisation_target(siren);
        let requested = json!({"permission": [{"action": "manage-keys"}]});
        for rule in [
            json!({"target": target, "action": MANAGE_KEYS}),
            json!({"target": {"uid": target}, "action": "https://w3id.org/ecd-clearinghouse/odrl#manage-keys"}),
        ] {
            let child = restrict(&requested, &parent(json!([rule])), siren, "urn:uuid:child")
                .unwrap_or_else(|e| panic!("{rule}: {e}"));
            assert_eq!(child["permission"][0]["target"], target.as_str());
            assert_eq!(child["permission"][0]["action"], MANAGE_KEYS);
            check(&child, MANAGE_KEYS, siren, &json!({})).unwrap();
        }
        // A policy-level target counts for rules without their own.
        let mut policy = parent(json!([{"action": MANAGE_KEYS}]));
        policy["target"] = json!(target);
        restrict(&requested, &policy, siren, "urn:uuid:child").unwrap();
        // The officer's full powers pass on any one of them.
        restrict(
            &requested,
            &all_powers("urn:uuid:p", siren),
            siren,
            "urn:uuid:c",
        )
        .unwrap();
    }

    #[test]
    fn restrict_refuses_a_parent_rule_on_another_organisation() {
        let requested = json!({"permission": [{"action": "manage-keys"}]});
        let other =
            parent(json!([{"target": organisation_target("356000000"), "action": MANAGE_KEYS}]));
        let error = restrict(&requested, &other, "552032534", "urn:uuid:child").unwrap_err();
        assert!(
            matches!(&error, PowerError::NotGranted { reason, .. } if reason.contains("urn:siren:552032534")),
            "{error}"
        );
        let untargeted = parent(json!([{"action": MANAGE_KEYS}]));
        assert!(restrict(&requested, &untargeted, "552032534", "urn:uuid:child").is_err());
    }

    #[test]
    fn restrict_keeps_the_parent_constraints() {
        let siren = "552032534";
        let rule = json!({"target": organisation_target(siren), "action": SIGN_CONTRACT,
            "constraint": [{"leftOperand": "payAmount", "operator": "lteq",
                            "rightOperand": {"@value": "10000", "@type": "xsd:decimal"}, "unit": "EUR"}]});
        let child = restrict(
            &json!({"permission": [{"action": "sign-contract"}]}),
            &parent(json!([rule])),
            siren,
            "urn:uuid:child",
        )
        .unwrap();
        assert_eq!(
            child["permission"][0]["constraint"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
