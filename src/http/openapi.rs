//! The API contract: an OpenAPI 3.1 document built from [`OPERATIONS`], the one list of
//! every route with who may call it, served at `/openapi.json` and browsable at `/docs`.
//! `tests/authorization.rs` checks that the list covers every route the routers declare
//! and that each route enforces the security it declares here; `tests/openapi.rs` checks
//! the document against the OpenAPI 3.1 schema.

use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::AppState;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Anyone: open reads, or requests authenticated by what their body carries (signed
    /// presentations, agreements, receipts, client assertions).
    Public,
    /// A connector's access token (`POST /v1/oauth/token`).
    Connector,
    /// The audit role: an audit session, a configured auditor, or the operator.
    Auditor,
    /// The operator's token.
    Operator,
    /// A signed presentation in the body, or else the operator's token.
    PresentationOrOperator,
}

/// One operation of the API.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub method: &'static str,
    /// As in the router (`{name}` parameters, `{*rest}` for the tile path).
    pub path: &'static str,
    pub security: Security,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Query parameters (name, required).
    pub query: &'static [(&'static str, bool)],
}

const fn op(
    method: &'static str,
    path: &'static str,
    security: Security,
    tag: &'static str,
    summary: &'static str,
    query: &'static [(&'static str, bool)],
) -> Operation {
    Operation {
        method,
        path,
        security,
        tag,
        summary,
        query,
    }
}

use Security::{Auditor, Connector, Operator, PresentationOrOperator, Public};

/// Every route of the service.
pub const OPERATIONS: &[Operation] = &[
    op("GET", "/healthz", Public, "operations", "Liveness", &[]),
    op(
        "GET",
        "/readyz",
        Public,
        "operations",
        "Readiness: database, sequencer, key",
        &[],
    ),
    op(
        "GET",
        "/metrics",
        Public,
        "operations",
        "Prometheus metrics",
        &[],
    ),
    op(
        "GET",
        "/openapi.json",
        Public,
        "operations",
        "This document",
        &[],
    ),
    op(
        "GET",
        "/docs",
        Public,
        "operations",
        "This document, browsable",
        &[],
    ),
    op(
        "GET",
        "/problems/{slug}",
        Public,
        "operations",
        "What a problem type means",
        &[],
    ),
    op(
        "GET",
        "/log/checkpoint",
        Public,
        "log",
        "The signed checkpoint (C2SP tlog-checkpoint), with witness cosignatures",
        &[],
    ),
    op(
        "GET",
        "/log/key",
        Public,
        "log",
        "The log's verifier key",
        &[],
    ),
    op(
        "GET",
        "/log/tile/{*path}",
        Public,
        "log",
        "A tile or entry bundle (C2SP tlog-tiles)",
        &[],
    ),
    op(
        "GET",
        "/log/entries/{index}",
        Public,
        "log",
        "One entry, with its leaf hash",
        &[],
    ),
    op(
        "GET",
        "/log/proof/inclusion",
        Public,
        "log",
        "RFC 9162 inclusion proof",
        &[("index", true), ("size", false)],
    ),
    op(
        "GET",
        "/log/proof/consistency",
        Public,
        "log",
        "RFC 9162 consistency proof",
        &[("old", true), ("new", false)],
    ),
    op(
        "POST",
        "/v1/governance/records",
        Operator,
        "log",
        "Anchor a governance document",
        &[],
    ),
    op(
        "GET",
        "/.well-known/did.json",
        Public,
        "trust",
        "The service's did:web document",
        &[],
    ),
    op(
        "GET",
        "/contexts/v1",
        Public,
        "trust",
        "The credentials' JSON-LD context",
        &[],
    ),
    op(
        "GET",
        "/schemas/{name}",
        Public,
        "trust",
        "A credential's JSON Schema",
        &[],
    ),
    op(
        "GET",
        "/v1/status/{list}",
        Public,
        "trust",
        "A Bitstring Status List credential",
        &[],
    ),
    op(
        "GET",
        "/v1/challenges",
        Public,
        "trust",
        "A one-time challenge for a presentation",
        &[],
    ),
    op(
        "POST",
        "/v1/vc-api/credentials/verify",
        Public,
        "trust",
        "Verify a credential (VC API)",
        &[],
    ),
    op(
        "POST",
        "/v1/vc-api/presentations/verify",
        Public,
        "trust",
        "Verify a presentation (VC API)",
        &[],
    ),
    op(
        "GET",
        "/v1/trust/anchors",
        Public,
        "trust",
        "The trust anchors in force",
        &[],
    ),
    op(
        "POST",
        "/v1/trust/anchors/reload",
        Operator,
        "trust",
        "Reload the trust anchors",
        &[],
    ),
    op(
        "GET",
        "/v1/auth/proconnect/login",
        Public,
        "trust",
        "Start a ProConnect sign-in",
        &[("holder", true), ("login_hint", false)],
    ),
    op(
        "GET",
        "/v1/auth/proconnect/callback",
        Public,
        "trust",
        "ProConnect's callback: credentials issued",
        &[
            ("code", false),
            ("state", false),
            ("iss", false),
            ("error", false),
            ("error_description", false),
        ],
    ),
    op(
        "POST",
        "/v1/mandates/delegations",
        Public,
        "trust",
        "Delegate a mandate (on a presentation of one's own)",
        &[],
    ),
    op(
        "POST",
        "/v1/mandates/deliberations",
        Operator,
        "trust",
        "Record a délibération granting a mandate",
        &[],
    ),
    op(
        "POST",
        "/v1/credentials/{id}/revocation",
        PresentationOrOperator,
        "trust",
        "Revoke a credential and what derives from it",
        &[],
    ),
    op(
        "POST",
        "/v1/privacy/erasures",
        Operator,
        "trust",
        "Erase a person's private records",
        &[],
    ),
    op(
        "GET",
        "/v1/participants",
        Public,
        "participants",
        "Registered participants",
        &[("after", false), ("limit", false)],
    ),
    op(
        "POST",
        "/v1/participants",
        Public,
        "participants",
        "Register an organisation (on a presentation)",
        &[],
    ),
    op(
        "GET",
        "/v1/participants/{siren}",
        Public,
        "participants",
        "One participant",
        &[],
    ),
    op(
        "POST",
        "/v1/participants/{siren}/keys",
        Public,
        "participants",
        "Add or revoke connector keys (on a presentation)",
        &[],
    ),
    op(
        "POST",
        "/v1/participants/{siren}/suspension",
        Operator,
        "participants",
        "Suspend a participant",
        &[],
    ),
    op(
        "POST",
        "/v1/participants/{siren}/reinstatement",
        Operator,
        "participants",
        "Reinstate a participant",
        &[],
    ),
    op(
        "POST",
        "/v1/participants/{siren}/billing-hold",
        Operator,
        "participants",
        "Put a participant's billing on hold",
        &[],
    ),
    op(
        "POST",
        "/v1/participants/{siren}/billing-clearance",
        Operator,
        "participants",
        "Clear a billing hold",
        &[],
    ),
    op(
        "POST",
        "/v1/oauth/token",
        Public,
        "exchange",
        "Connector access token (client assertion)",
        &[],
    ),
    op(
        "GET",
        "/v1/contracts",
        Public,
        "exchange",
        "A party's contracts",
        &[("party", true), ("after", false), ("limit", false)],
    ),
    op(
        "POST",
        "/v1/contracts",
        Public,
        "exchange",
        "Record a contract both parties signed",
        &[],
    ),
    op(
        "GET",
        "/v1/contracts/{id}",
        Public,
        "exchange",
        "One contract",
        &[],
    ),
    op(
        "POST",
        "/v1/contracts/{id}/amendments",
        Public,
        "exchange",
        "Amend a contract (both parties sign)",
        &[],
    ),
    op(
        "POST",
        "/v1/contracts/{id}/termination",
        Public,
        "exchange",
        "Terminate a contract (a party signs)",
        &[],
    ),
    op(
        "POST",
        "/v1/contracts/{id}/payments",
        Operator,
        "exchange",
        "Record a payment under a contract",
        &[],
    ),
    op(
        "POST",
        "/v1/decisions",
        Connector,
        "exchange",
        "Ask for a pre-transfer decision",
        &[],
    ),
    op(
        "POST",
        "/v1/receipts",
        Public,
        "exchange",
        "Post a signed transfer receipt",
        &[],
    ),
    op(
        "POST",
        "/v1/billing/tariffs",
        Operator,
        "billing",
        "Publish a tariff",
        &[],
    ),
    op(
        "POST",
        "/v1/billing/financing-rules",
        Operator,
        "billing",
        "Publish a financing rule",
        &[],
    ),
    op(
        "GET",
        "/v1/billing/statements",
        Auditor,
        "billing",
        "Statements for a month",
        &[("period", true), ("participant", false), ("format", false)],
    ),
    op(
        "GET",
        "/v1/billing/periods/{period}",
        Auditor,
        "billing",
        "Whether a month is closed",
        &[],
    ),
    op(
        "POST",
        "/v1/billing/periods/{period}/close",
        Operator,
        "billing",
        "Close a month",
        &[],
    ),
    op(
        "GET",
        "/v1/billing/periods/{period}/bundle",
        Auditor,
        "billing",
        "A month's billing bundle, for offline recompute",
        &[],
    ),
    op(
        "POST",
        "/v1/billing/credit-notes",
        Operator,
        "billing",
        "Cancel a line of a closed month",
        &[],
    ),
    op(
        "GET",
        "/v1/billing/financing-report",
        Auditor,
        "billing",
        "The committee's financing report",
        &[("period", true), ("format", false)],
    ),
    op(
        "GET",
        "/v1/billing/invoices",
        Auditor,
        "billing",
        "A participant's invoices and credit notes for a closed month",
        &[("period", true), ("participant", true)],
    ),
    op(
        "GET",
        "/v1/billing/invoices/{number}",
        Auditor,
        "billing",
        "One invoice or credit note (UBL 2.1)",
        &[],
    ),
    op(
        "GET",
        "/v1/indicators",
        Auditor,
        "billing",
        "Usage indicators for a month",
        &[("period", true), ("by", false), ("format", false)],
    ),
    op(
        "GET",
        "/v1/audit/entries",
        Auditor,
        "audit",
        "Filtered, paginated log entries",
        &[
            ("type", false),
            ("participant", false),
            ("contract", false),
            ("asset", false),
            ("from", false),
            ("to", false),
            ("after", false),
            ("limit", false),
            ("format", false),
        ],
    ),
    op(
        "GET",
        "/v1/audit/bundles",
        Auditor,
        "audit",
        "An offline audit bundle",
        &[
            ("type", false),
            ("participant", false),
            ("contract", false),
            ("asset", false),
            ("from", false),
            ("to", false),
            ("since_size", false),
        ],
    ),
    op(
        "POST",
        "/v1/audit/sessions",
        Public,
        "audit",
        "Open an audit session with a read-audit mandate",
        &[],
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
}

/// The OpenAPI path of a router path (`{*path}` → `{path}`).
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn parameters(operation: &Operation) -> Vec<Value> {
    let mut list = Vec::new();
    for segment in operation.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            list.push(
                json!({"name": name.trim_start_matches('*'), "in": "path", "required": true,
                             "schema": {"type": "string"}}),
            );
        }
    }
    for (name, required) in operation.query {
        list.push(json!({"name": name, "in": "query", "required": required,
                         "schema": {"type": "string"}}));
    }
    list
}

/// The OpenAPI 3.1 document.
pub fn document(public_url: &str) -> Value {
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let security = match operation.security {
            Public => json!([]),
            Connector => json!([{"connector": []}]),
            Auditor => json!([{"auditSession": []}, {"auditor": []}, {"operator": []}]),
            Operator => json!([{"operator": []}]),
            PresentationOrOperator => json!([{}, {"operator": []}]),
        };
        let mut entry = json!({
            "summary": operation.summary,
            "tags": [operation.tag],
            "operationId": format!("{} {}", operation.method.to_lowercase(), operation.path),
            "parameters": parameters(operation),
            "security": security,
            "responses": {
                "200": {"description": "Success"},
                "default": {"$ref": "#/components/responses/Problem"},
            },
        });
        if operation.method == "POST" {
            entry["requestBody"] = json!({"required": true, "content": {
                "application/json": {"schema": {"type": "object"}}}});
        }
        paths
            .entry(openapi_path(operation.path))
            .or_insert_with(|| json!({}))[operation.method.to_lowercase()] = entry;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ECD clearing house",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Neutral clearing house and contract ledger for French territorial common data spaces. Every error is an RFC 9457 problem (application/problem+json) whose `type` is documented at /problems/{slug}.",
        },
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "operator": {"type": "http", "scheme": "bearer", "description": "The operator's token"},
                "auditor": {"type": "http", "scheme": "bearer", "description": "A configured auditor's token ([[auth.auditors]])"},
                "auditSession": {"type": "http", "scheme": "bearer", "description": "An audit session from POST /v1/audit/sessions"},
                "connector": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A connector access token from POST /v1/oauth/token"},
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                },
            },
            "responses": {
                "Problem": {
                    "description": "An RFC 9457 problem",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            },
        },
    })
}

async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(document(state.trust.public_url()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /docs`: the operations as a plain page (no script: the security headers forbid
/// it anyway).
async fn docs() -> impl IntoResponse {
    let mut rows = String::new();
    for operation in OPERATIONS {
        rows.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{:?}</td><td>{}</td></tr>\n",
            operation.method,
            escape(operation.path),
            escape(operation.tag),
            operation.security,
            escape(operation.summary),
        ));
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ECD clearing house API</title></head>\
         <body><h1>ECD clearing house API</h1><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1). \
         Errors: RFC 9457 problems, see <code>/problems/{{slug}}</code>.</p>\
         <table><thead><tr><th>Method</th><th>Path</th><th>Tag</th><th>Who may call</th><th>What</th></tr></thead><tbody>\n{rows}</tbody></table></body></html>"
    ))
}
