//! JSON Schemas of the credentials this service issues, named by each credential's
//! `credentialSchema` and served at `/schemas/<name>`.

/// Base of the schemas' stable identifiers.
pub const BASE: &str = "https://w3id.org/ecd-clearinghouse/schemas/";

/// (file name, credential type, schema text).
pub const SCHEMAS: &[(&str, &str, &str)] = &[
    (
        "organisation-credential.json",
        "OrganisationCredential",
        include_str!("schemas/organisation-credential.schema.json"),
    ),
    (
        "mandate-credential.json",
        "MandateCredential",
        include_str!("schemas/mandate-credential.schema.json"),
    ),
];

/// The schema identifier for a credential type issued here.
pub fn schema_id(kind: &str) -> Option<String> {
    SCHEMAS
        .iter()
        .find(|(_, k, _)| *k == kind)
        .map(|(name, _, _)| format!("{BASE}{name}"))
}

/// A schema's text by file name.
pub fn schema(name: &str) -> Option<&'static str> {
    SCHEMAS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, text)| *text)
}
