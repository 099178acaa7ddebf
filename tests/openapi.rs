//! `/openapi.json` is a valid OpenAPI 3.1 document (checked against the OpenAPI
//! Initiative's JSON Schema), and `/docs` lists every operation.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Db, TestServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_validates() {
    let server = TestServer::start(Db::Sqlite).await;
    let document: Value = server
        .client
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema: Value =
        serde_json::from_str(include_str!("vectors/openapi/oas-3.1-schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths["/v1/decisions"]["post"]["security"][0]["connector"].is_array());
    assert!(paths["/log/tile/{path}"]["get"].is_object());
    let problem = &document["components"]["responses"]["Problem"]["content"];
    assert!(problem["application/problem+json"].is_object());

    // A document that breaks the schema is caught.
    let mut broken = document.clone();
    broken["openapi"] = Value::from("2.0");
    assert!(!validator.is_valid(&broken));

    let page = server
        .client
        .get(server.url("/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for operation in clearinghouse::http::openapi::OPERATIONS {
        assert!(
            page.contains(&format!("<code>{}</code>", operation.path)),
            "{}",
            operation.path
        );
    }
}
