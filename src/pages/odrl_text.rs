//! An ODRL agreement as sentences a committee member can read: who may (or must not) do
//! what to which dataset, under which conditions. Built from the same parsed model the
//! evaluator decides with ([`Policy::validate_json`]), so the words describe what is enforced.

use serde_json::Value;

use super::i18n::Lang;
use crate::odrl::vocab::{self, Operator};
use crate::odrl::{
    AtomicConstraint, Constraint, Duty, Party, Policy, RightOperand as R, Rule, RuleKind,
};

/// The policy's sentences, or a sentence saying it could not be read.
pub fn sentences(lang: Lang, agreement: &Value) -> Vec<String> {
    let policy = match Policy::validate_json(agreement) {
        Ok(policy) => policy,
        Err(errors) => {
            let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
            return vec![match lang {
                Lang::Fr => format!("La politique ne peut pas être lue : {first}"),
                Lang::En => format!("The policy cannot be read: {first}"),
            }];
        }
    };
    let mut out = Vec::new();
    for rule in policy.permissions().iter().chain(policy.prohibitions()) {
        out.push(rule_sentence(lang, rule));
    }
    for duty in policy.obligations() {
        out.push(duty_sentence(lang, duty, true));
    }
    out
}

fn party(lang: Lang, party: Option<&Party>) -> String {
    match party {
        None => match lang {
            Lang::Fr => "tout bénéficiaire".into(),
            Lang::En => "any assignee".into(),
        },
        Some(p) => match p.iri.strip_prefix("urn:siren:") {
            Some(siren) => format!("SIREN {siren}"),
            None => vocab::compact(&p.iri).to_owned(),
        },
    }
}

fn rule_sentence(lang: Lang, rule: &Rule) -> String {
    let who = party(lang, rule.assignee.as_ref());
    let from = party(lang, rule.assigner.as_ref());
    let action = vocab::compact(&rule.action.iri);
    let target = rule
        .target
        .as_ref()
        .map(|t| t.iri.clone())
        .unwrap_or_else(|| "—".into());
    let mut sentence = match (lang, rule.kind) {
        (Lang::Fr, RuleKind::Permission) => {
            format!("{who} peut « {action} » le jeu de données {target} de {from}")
        }
        (Lang::Fr, RuleKind::Prohibition) => {
            format!("{who} ne doit pas « {action} » le jeu de données {target} de {from}")
        }
        (Lang::En, RuleKind::Permission) => {
            format!("{who} may “{action}” dataset {target} of {from}")
        }
        (Lang::En, RuleKind::Prohibition) => {
            format!("{who} must not “{action}” dataset {target} of {from}")
        }
    };
    let conditions = conditions(lang, &rule.constraints);
    if !conditions.is_empty() {
        sentence.push_str(match lang {
            Lang::Fr => ", à condition que ",
            Lang::En => ", provided that ",
        });
        sentence.push_str(&conditions);
    }
    for duty in &rule.duties {
        sentence.push_str("; ");
        sentence.push_str(&duty_sentence(lang, duty, false));
    }
    sentence.push('.');
    sentence
}

fn duty_sentence(lang: Lang, duty: &Duty, obligation: bool) -> String {
    let action = vocab::compact(&duty.action.iri);
    let mut sentence = match (lang, obligation) {
        (Lang::Fr, false) => format!("avant cela, il faut « {action} »"),
        (Lang::En, false) => format!("before that, one must “{action}”"),
        (Lang::Fr, true) => format!("Obligation : « {action} »"),
        (Lang::En, true) => format!("Obligation: “{action}”"),
    };
    let conditions = conditions(lang, &duty.constraints);
    if !conditions.is_empty() {
        sentence.push_str(" (");
        sentence.push_str(&conditions);
        sentence.push(')');
    }
    sentence
}

fn conditions(lang: Lang, constraints: &[Constraint]) -> String {
    let and = match lang {
        Lang::Fr => " et ",
        Lang::En => " and ",
    };
    constraints
        .iter()
        .map(|c| match c {
            Constraint::Atomic(a) => atomic(lang, a),
            Constraint::Logical(l) => {
                let joiner = match (lang, l.operand.term()) {
                    (Lang::Fr, "or") => " ou ",
                    (Lang::En, "or") => " or ",
                    (Lang::Fr, "xone") => " ou bien (un seul) ",
                    (Lang::En, "xone") => " or else (exactly one) ",
                    _ => and,
                };
                format!(
                    "({})",
                    l.constraints
                        .iter()
                        .map(|a| atomic(lang, a))
                        .collect::<Vec<_>>()
                        .join(joiner)
                )
            }
        })
        .collect::<Vec<_>>()
        .join(and)
}

fn operand_name(lang: Lang, name: &str) -> String {
    let known = match (lang, name) {
        (Lang::Fr, "count") => "le nombre d'utilisations",
        (Lang::En, "count") => "the number of uses",
        (Lang::Fr, "dateTime") => "la date",
        (Lang::En, "dateTime") => "the date",
        (Lang::Fr, "elapsedTime") => "le temps écoulé depuis l'accord",
        (Lang::En, "elapsedTime") => "the time since the agreement",
        (Lang::Fr, "purpose") => "la finalité",
        (Lang::En, "purpose") => "the purpose",
        (Lang::Fr, "spatial") => "le lieu",
        (Lang::En, "spatial") => "the place",
        (Lang::Fr, "recipient") => "le destinataire",
        (Lang::En, "recipient") => "the recipient",
        (Lang::Fr, "payAmount") => "le montant payé",
        (Lang::En, "payAmount") => "the amount paid",
        _ => return name.to_owned(),
    };
    known.to_owned()
}

fn operator_words(lang: Lang, operator: Operator) -> &'static str {
    match (lang, operator) {
        (Lang::Fr, Operator::Eq) => "soit égal à",
        (Lang::En, Operator::Eq) => "is",
        (Lang::Fr, Operator::Neq) => "soit différent de",
        (Lang::En, Operator::Neq) => "is not",
        (Lang::Fr, Operator::Lt) => "soit inférieur à",
        (Lang::En, Operator::Lt) => "is less than",
        (Lang::Fr, Operator::Lteq) => "ne dépasse pas",
        (Lang::En, Operator::Lteq) => "is at most",
        (Lang::Fr, Operator::Gt) => "soit supérieur à",
        (Lang::En, Operator::Gt) => "is more than",
        (Lang::Fr, Operator::Gteq) => "soit au moins",
        (Lang::En, Operator::Gteq) => "is at least",
        (Lang::Fr, Operator::IsA) => "soit un(e)",
        (Lang::En, Operator::IsA) => "is a",
        (Lang::Fr, Operator::HasPart) => "contienne",
        (Lang::En, Operator::HasPart) => "contains",
        (Lang::Fr, Operator::IsPartOf) => "soit compris(e) dans",
        (Lang::En, Operator::IsPartOf) => "is within",
        (Lang::Fr, Operator::IsAllOf) => "comprenne tous parmi",
        (Lang::En, Operator::IsAllOf) => "is all of",
        (Lang::Fr, Operator::IsAnyOf) => "soit l'un de",
        (Lang::En, Operator::IsAnyOf) => "is any of",
        (Lang::Fr, Operator::IsNoneOf) => "ne soit aucun de",
        (Lang::En, Operator::IsNoneOf) => "is none of",
    }
}

fn atomic(lang: Lang, constraint: &AtomicConstraint) -> String {
    let right = match &constraint.right {
        R::Time(t) => t.to_string(),
        R::Duration(d) => d.to_string(),
        R::Count(n) => n.to_string(),
        R::Amount(a) => format!(
            "{a}{}",
            constraint
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ),
        R::Terms(terms) => terms
            .iter()
            .map(|t| vocab::compact(t).to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        R::Areas(areas) => areas
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        R::Literals(literals) => literals
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        R::Reference(iri) => iri.clone(),
    };
    format!(
        "{} {} {right}",
        operand_name(lang, constraint.left.name()),
        operator_words(lang, constraint.operator)
    )
}
