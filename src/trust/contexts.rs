//! JSON-LD contexts, all loaded offline: the W3C ones bundled with `ssi`, and this service's
//! own context (served at `/contexts/v1` too). A credential naming any other context is
//! rejected rather than fetched: terms whose meaning we cannot pin are not signed or trusted.

use std::collections::HashMap;

use ssi::json_ld::ContextLoader;

/// This service's JSON-LD context: the terms of its credentials.
pub const CONTEXT_URL: &str = "https://w3id.org/ecd-clearinghouse/v1";
/// The context document.
pub const CONTEXT: &str = include_str!("data/context-v1.jsonld");
/// W3C VC Data Model 2.0 context.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// A loader with the bundled W3C contexts and ours.
pub fn loader() -> ContextLoader {
    let ours = HashMap::from([(CONTEXT_URL.to_owned(), CONTEXT.to_owned())]);
    // The context is a constant the tests load; should it ever fail to parse, only the
    // W3C contexts load and credentials naming ours are rejected (fail closed).
    ContextLoader::default()
        .with_context_map_from(ours)
        .unwrap_or_default()
}
