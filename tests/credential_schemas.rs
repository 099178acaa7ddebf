//! The JSON Schemas of the credentials this service issues, checked against credentials it
//! actually issued (a certified officer's ProConnect sign-in, through the local OpenID
//! provider and Sirene API), with the schemas fetched over HTTP where a verifier would get
//! them; tampered credentials fail them; the documented examples pass them.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::Db;
use common::trust::{DidKey, TrustEnv};
use serde_json::{Value, json};

/// Schema identifiers name `/schemas/<file>` on the service.
fn schema_file(credential: &Value) -> String {
    let id = credential["credentialSchema"]["id"].as_str().unwrap();
    assert_eq!(credential["credentialSchema"]["type"], "JsonSchema");
    id.strip_prefix(clearinghouse::trust::schemas::BASE)
        .unwrap_or_else(|| panic!("schema id {id} is not under the schemas' base"))
        .to_owned()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Fetch a schema from the running service, checking its media type and `$id`.
async fn fetch_schema(env: &TrustEnv, file: &str) -> Value {
    let response = env
        .server
        .client
        .get(env.url(&format!("/schemas/{file}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/schema+json"
    );
    let schema: Value = response.json().await.unwrap();
    assert_eq!(
        schema["$id"],
        format!("{}{file}", clearinghouse::trust::schemas::BASE)
    );
    schema
}

fn example(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs/credentials")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn issued_credentials_match_their_schemas(kind: Db) {
    let env = TrustEnv::start(kind, &[], |_| {}).await;
    let officer = DidKey::random();
    let (organisation, mandate) = env.credentials_of("officer", &officer).await;

    let org_file = schema_file(&organisation);
    let mandate_file = schema_file(&mandate);
    assert_eq!(org_file, "organisation-credential.json");
    assert_eq!(mandate_file, "mandate-credential.json");
    let org_schema = validator(&fetch_schema(&env, &org_file).await);
    let mandate_schema = validator(&fetch_schema(&env, &mandate_file).await);

    // What the service issued validates, proof included.
    assert_eq!(
        errors(&org_schema, &organisation),
        Vec::<String>::new(),
        "{organisation:#}"
    );
    assert_eq!(
        errors(&mandate_schema, &mandate),
        Vec::<String>::new(),
        "{mandate:#}"
    );
    // Each schema is specific to its type.
    assert!(!org_schema.is_valid(&mandate));
    assert!(!mandate_schema.is_valid(&organisation));

    // Tampered organisation credentials fail: SIREN missing, SIRET not 14 digits, an
    // unknown member, a wrong type.
    let mut no_siren = organisation.clone();
    no_siren["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("siren");
    let failures = errors(&org_schema, &no_siren);
    assert!(failures.iter().any(|e| e.contains("siren")), "{failures:?}");
    for bad_siret in ["5520325340064", "5520325340064A", "552 032 534 00646", ""] {
        let mut tampered = organisation.clone();
        tampered["credentialSubject"]["siret"] = json!(bad_siret);
        let failures = errors(&org_schema, &tampered);
        assert!(
            failures
                .iter()
                .any(|e| e.contains("/credentialSubject/siret")),
            "{bad_siret:?}: {failures:?}"
        );
    }
    let mut extra = organisation.clone();
    extra["credentialSubject"]["email"] = json!("camille.lefevre@danone.example.fr");
    assert!(!org_schema.is_valid(&extra));
    let mut closed = organisation.clone();
    closed["credentialSubject"]["administrativeStatus"] = json!("closed");
    assert!(!org_schema.is_valid(&closed));

    // Tampered mandates fail: a power outside the vocabulary, a clear-text e-mail instead
    // of its commitment, a SIREN of the wrong length.
    let mut unknown_power = mandate.clone();
    unknown_power["credentialSubject"]["powers"]["permission"][0]["action"] =
        json!("https://w3id.org/ecd-clearinghouse/odrl#everything");
    assert!(!mandate_schema.is_valid(&unknown_power));
    let mut clear_email = mandate.clone();
    clear_email["credentialSubject"]["person"]["emailCommitment"] =
        json!("camille.lefevre@danone.example.fr");
    assert!(!mandate_schema.is_valid(&clear_email));
    let mut short_siren = mandate.clone();
    short_siren["credentialSubject"]["actsFor"]["siren"] = json!("55203253");
    assert!(!mandate_schema.is_valid(&short_siren));

    // The documented examples follow the same schemas.
    let org_example = example("organisation-credential.example.json");
    let mandate_example = example("mandate-credential.example.json");
    assert_eq!(errors(&org_schema, &org_example), Vec::<String>::new());
    assert_eq!(
        errors(&mandate_schema, &mandate_example),
        Vec::<String>::new()
    );
    // …and have the shape of what is issued: the same members, at every level.
    assert_same_members(&organisation, &org_example, "");
    assert_same_members(&mandate, &mandate_example, "");

    // Unknown schema names are a 404 problem.
    let (status, problem) = env.get("/schemas/../Cargo.toml").await;
    assert_eq!(status, 404, "{problem}");
    let (status, problem) = env.get("/schemas/employee-credential.json").await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["type"], "/problems/not-found");
    env.server.stop().await;
}
on_both_databases!(issued, super::issued_credentials_match_their_schemas);

/// Object members of `issued` and `example` are the same, recursively (arrays by their first
/// element), so the examples document exactly what the service issues.
fn assert_same_members(issued: &Value, example: &Value, path: &str) {
    match (issued, example) {
        (Value::Object(a), Value::Object(b)) => {
            let keys_a: std::collections::BTreeSet<_> = a.keys().collect();
            let keys_b: std::collections::BTreeSet<_> = b.keys().collect();
            assert_eq!(keys_a, keys_b, "members differ at {path:?}");
            for (key, value) in a {
                assert_same_members(value, &b[key], &format!("{path}/{key}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                assert_same_members(x, y, &format!("{path}/0"));
            }
        }
        _ => {}
    }
}

#[test]
fn the_schemas_are_valid_draft_2020_12() {
    for (file, kind, text) in clearinghouse::trust::schemas::SCHEMAS {
        let schema: Value = serde_json::from_str(text).unwrap();
        assert!(
            jsonschema::draft202012::meta::is_valid(&schema),
            "{file} is not a valid 2020-12 schema"
        );
        assert_eq!(schema["title"], *kind);
        assert_eq!(
            clearinghouse::trust::schemas::schema_id(kind).unwrap(),
            schema["$id"].as_str().unwrap()
        );
    }
}
