//! The ODRL 2.2 vocabulary this evaluator understands, and the expansion of compact terms.
//!
//! Policies arrive as JSON-LD in compact form with the ODRL context
//! (`http://www.w3.org/ns/odrl.jsonld`), with `odrl:`-prefixed names, or with full IRIs.
//! Instead of running a JSON-LD processor (which would fetch contexts over the network) the
//! parser expands the three forms itself: a bare term is an ODRL term (or one defined in an
//! inline context object), `prefix:name` uses the prefixes declared inline plus the
//! well-known ones below, and anything else is an IRI. Everything is compared expanded.
//!
//! The action hierarchy (`includedIn`) and the lists of left operands and operators are
//! those of the ODRL Vocabulary & Expression 2.2 (W3C Recommendation, 15 February 2018),
//! §4.x, from its ontology `ODRL22.ttl`.

use std::collections::HashMap;

/// The ODRL namespace.
pub const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
/// The project's namespace for its own terms (custom actions such as `ecd:sign-contract`,
/// the profile identifier, `ecd:perUse`). Written `ecd:` in policies.
pub const PROJECT: &str = "https://w3id.org/ecd-clearinghouse/odrl#";
/// The identifier of this project's ODRL profile.
pub const PROJECT_PROFILE: &str = "https://w3id.org/ecd-clearinghouse/odrl#profile";
/// The ODRL core profile identifier (Information Model §3.4).
pub const CORE_PROFILE: &str = "http://www.w3.org/ns/odrl/2/core";
/// `rdf:value`, the key that names the action when an action carries refinements.
pub const RDF_VALUE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value";
/// The Creative Commons namespace, whose actions the ODRL vocabulary includes in `use`.
pub const CC: &str = "http://creativecommons.org/ns#";
/// The Creative Commons actions of the ODRL vocabulary ("Collective Actions"), all
/// `includedIn` `use` (`CommericalUse` is the vocabulary's own spelling).
pub const CC_ACTIONS: [&str; 10] = [
    "Attribution",
    "CommercialUse",
    "CommericalUse",
    "DerivativeWorks",
    "Distribution",
    "Notice",
    "Reproduction",
    "ShareAlike",
    "Sharing",
    "SourceCode",
];
/// XML Schema datatypes.
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// Prefixes every policy may use without declaring them.
const WELL_KNOWN_PREFIXES: [(&str, &str); 15] = [
    ("odrl", ODRL),
    ("ecd", PROJECT),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", XSD),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("dc", "http://purl.org/dc/terms/"),
    ("dct", "http://purl.org/dc/terms/"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("schema", "http://schema.org/"),
    ("cc", CC),
    ("dpv", "https://w3id.org/dpv#"),
];

/// The prefixes and terms in force for one policy document.
#[derive(Debug, Clone, Default)]
pub struct Prefixes {
    /// Prefixes and terms declared in inline `@context` objects.
    declared: HashMap<String, String>,
}

impl Prefixes {
    /// Record `name → IRI` from an inline context object (`{"ex": "http://…#"}` or
    /// `{"ex": {"@id": "http://…#"}}`). Context IRIs (strings) are ignored: the ODRL
    /// context is built in and no other context is fetched.
    pub fn declare_from_context(&mut self, context: &serde_json::Value) {
        match context {
            serde_json::Value::Array(items) => {
                for item in items {
                    self.declare_from_context(item);
                }
            }
            serde_json::Value::Object(map) => {
                for (name, value) in map {
                    if name.starts_with('@') {
                        continue;
                    }
                    let iri = match value {
                        serde_json::Value::String(iri) => Some(iri.as_str()),
                        serde_json::Value::Object(definition) => {
                            definition.get("@id").and_then(serde_json::Value::as_str)
                        }
                        _ => None,
                    };
                    if let Some(iri) = iri {
                        self.declared.insert(name.clone(), iri.to_owned());
                    }
                }
            }
            _ => {}
        }
    }

    fn prefix(&self, name: &str) -> Option<&str> {
        self.declared.get(name).map(String::as_str).or_else(|| {
            WELL_KNOWN_PREFIXES
                .iter()
                .find(|(prefix, _)| *prefix == name)
                .map(|(_, iri)| *iri)
        })
    }

    /// Expand a value in a vocabulary position (action, leftOperand, operator, conflict,
    /// `@type`): bare ODRL terms become ODRL IRIs. A bare term that is neither declared nor
    /// an ODRL term is returned as written (`Err`), for the caller to refuse or keep opaque.
    pub fn expand_vocab(&self, written: &str) -> Result<String, String> {
        if let Some((prefix, name)) = written.split_once(':') {
            if let Some(base) = self.prefix(prefix)
                && !name.starts_with("//")
            {
                return Ok(format!("{base}{name}"));
            }
            return Ok(written.to_owned());
        }
        if let Some(iri) = self.declared.get(written) {
            return Ok(self.expand_id(iri));
        }
        if is_odrl_term(written) {
            return Ok(format!("{ODRL}{written}"));
        }
        Err(written.to_owned())
    }

    /// Expand a value in an identifier position (uid, target, assignee, right operand IRI):
    /// only `prefix:name` with a known prefix changes.
    pub fn expand_id(&self, written: &str) -> String {
        if let Some((prefix, name)) = written.split_once(':')
            && !name.starts_with("//")
            && let Some(base) = self.prefix(prefix)
        {
            return format!("{base}{name}");
        }
        written.to_owned()
    }

    /// Whether a value written in a request (or context) denotes `iri`, without allocating:
    /// the same string, `prefix:name` expanding to it, or a bare term naming it (an ODRL
    /// term, or one declared in the policy's context).
    pub fn denotes(&self, written: &str, iri: &str) -> bool {
        if written == iri {
            return true;
        }
        if let Some((prefix, name)) = written.split_once(':') {
            if name.starts_with("//") {
                return false;
            }
            return match self.prefix(prefix) {
                Some(base) => {
                    iri.len() == base.len() + name.len()
                        && iri.starts_with(base)
                        && iri.ends_with(name)
                }
                None => false,
            };
        }
        if let Some(declared) = self.declared.get(written) {
            return declared == iri || self.expand_id(declared) == iri;
        }
        iri.strip_prefix(ODRL) == Some(written)
    }
}

/// A short name for display: `use` for ODRL terms, `ecd:x` for project terms, else the IRI.
pub fn compact(iri: &str) -> &str {
    if let Some(term) = iri.strip_prefix(ODRL) {
        return term;
    }
    iri
}

/// Whether a bare term is defined by the ODRL vocabulary (any class of term).
fn is_odrl_term(term: &str) -> bool {
    action_parent(term).is_some()
        || TOP_LEVEL_ACTIONS.contains(&term)
        || LEFT_OPERANDS.contains(&term)
        || Operator::from_term(term).is_some()
        || OTHER_TERMS.contains(&term)
}

/// ODRL terms that are neither actions, left operands nor operators.
const OTHER_TERMS: [&str; 13] = [
    "Set",
    "Offer",
    "Agreement",
    "Policy",
    "perm",
    "prohibit",
    "invalid",
    "policyUsage",
    "AssetCollection",
    "PartyCollection",
    "Asset",
    "Party",
    "Action",
];

/// The two top-level actions (Information Model §2.4).
pub const TOP_LEVEL_ACTIONS: [&str; 2] = ["use", "transfer"];

/// The parent (`includedIn`) of an ODRL action, by local name.
pub fn action_parent(term: &str) -> Option<&'static str> {
    match term {
        "extract" => Some("reproduce"),
        "give" | "sell" => Some("transfer"),
        "acceptTracking" | "aggregate" | "annotate" | "anonymize" | "archive" | "attribute"
        | "compensate" | "concurrentUse" | "delete" | "derive" | "digitize" | "display"
        | "distribute" | "ensureExclusivity" | "execute" | "grantUse" | "include" | "index"
        | "inform" | "install" | "modify" | "move" | "nextPolicy" | "obtainConsent" | "play"
        | "present" | "print" | "read" | "reproduce" | "reviewPolicy" | "stream"
        | "synchronize" | "textToSpeech" | "transform" | "translate" | "uninstall"
        | "watermark" => Some("use"),
        _ => None,
    }
}

/// Every left operand of the ODRL Common Vocabulary.
pub const LEFT_OPERANDS: [&str; 32] = [
    "absolutePosition",
    "absoluteSpatialPosition",
    "absoluteTemporalPosition",
    "absoluteSize",
    "count",
    "dateTime",
    "delayPeriod",
    "deliveryChannel",
    "elapsedTime",
    "event",
    "fileFormat",
    "industry",
    "language",
    "media",
    "meteredTime",
    "payAmount",
    "percentage",
    "product",
    "purpose",
    "recipient",
    "relativePosition",
    "relativeSpatialPosition",
    "relativeTemporalPosition",
    "relativeSize",
    "resolution",
    "spatial",
    "spatialCoordinates",
    "systemDevice",
    "timeInterval",
    "unitOfCount",
    "version",
    "virtualLocation",
];

/// The party functions (sub-properties of `function`) of the ODRL vocabulary.
pub const FUNCTIONS: [&str; 14] = [
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

/// The relational operators of a constraint (ODRL Vocabulary §4.x "Constraint Operators").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Operator {
    Eq,
    Neq,
    Lt,
    Lteq,
    Gt,
    Gteq,
    IsA,
    HasPart,
    IsPartOf,
    IsAllOf,
    IsAnyOf,
    IsNoneOf,
}

impl Operator {
    /// The operator named by an ODRL term.
    pub fn from_term(term: &str) -> Option<Operator> {
        Some(match term {
            "eq" => Operator::Eq,
            "neq" => Operator::Neq,
            "lt" => Operator::Lt,
            "lteq" => Operator::Lteq,
            "gt" => Operator::Gt,
            "gteq" => Operator::Gteq,
            "isA" => Operator::IsA,
            "hasPart" => Operator::HasPart,
            "isPartOf" => Operator::IsPartOf,
            "isAllOf" => Operator::IsAllOf,
            "isAnyOf" => Operator::IsAnyOf,
            "isNoneOf" => Operator::IsNoneOf,
            _ => return None,
        })
    }

    /// The ODRL term.
    pub fn term(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Lt => "lt",
            Operator::Lteq => "lteq",
            Operator::Gt => "gt",
            Operator::Gteq => "gteq",
            Operator::IsA => "isA",
            Operator::HasPart => "hasPart",
            Operator::IsPartOf => "isPartOf",
            Operator::IsAllOf => "isAllOf",
            Operator::IsAnyOf => "isAnyOf",
            Operator::IsNoneOf => "isNoneOf",
        }
    }

    /// Set-based operators take a list of right operand values.
    pub fn takes_a_list(self) -> bool {
        matches!(
            self,
            Operator::IsAllOf | Operator::IsAnyOf | Operator::IsNoneOf
        )
    }

    /// The operator in plain words, for explanations.
    pub fn words(self) -> &'static str {
        match self {
            Operator::Eq => "equal to",
            Operator::Neq => "different from",
            Operator::Lt => "less than",
            Operator::Lteq => "at most",
            Operator::Gt => "greater than",
            Operator::Gteq => "at least",
            Operator::IsA => "a kind of",
            Operator::HasPart => "containing",
            Operator::IsPartOf => "part of",
            Operator::IsAllOf => "all of",
            Operator::IsAnyOf => "one of",
            Operator::IsNoneOf => "none of",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_the_three_written_forms() {
        let p = Prefixes::default();
        assert_eq!(p.expand_vocab("use").unwrap(), format!("{ODRL}use"));
        assert_eq!(p.expand_vocab("odrl:use").unwrap(), format!("{ODRL}use"));
        assert_eq!(
            p.expand_vocab("http://www.w3.org/ns/odrl/2/use").unwrap(),
            format!("{ODRL}use")
        );
        assert_eq!(p.expand_vocab("sign-contract"), Err("sign-contract".into()));
        assert_eq!(p.expand_vocab("ex:view").unwrap(), "ex:view");
        assert!(p.denotes("read", &format!("{ODRL}read")));
        assert!(p.denotes("odrl:read", &format!("{ODRL}read")));
        assert!(!p.denotes("reads", &format!("{ODRL}read")));
    }

    #[test]
    fn inline_context_prefixes_are_used() {
        let mut p = Prefixes::default();
        p.declare_from_context(&serde_json::json!([
            "http://www.w3.org/ns/odrl.jsonld",
            {"ex": "http://example.com/ns#", "sign": {"@id": "ecd:sign-contract"}}
        ]));
        assert_eq!(
            p.expand_vocab("ex:view").unwrap(),
            "http://example.com/ns#view"
        );
        assert_eq!(
            p.expand_vocab("sign").unwrap(),
            format!("{PROJECT}sign-contract")
        );
        assert!(p.denotes("ex:view", "http://example.com/ns#view"));
    }
}
