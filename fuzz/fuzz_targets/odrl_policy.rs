//! ODRL policies as participants submit them (contracts, templates, financing rules).
#![no_main]

use clearinghouse::odrl::{Policy, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = Policy::from_json(&document);
    if let Ok(policy) = Policy::validate_json(&document) {
        let request = Request::new("http://www.w3.org/ns/odrl/2/use")
            .with_target("https://data.example/dataset/1")
            .with_assignee("urn:siren:552032534");
        let _ = policy.evaluate(&request);
    }
});
