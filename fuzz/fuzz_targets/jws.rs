//! Compact JWS as connectors and issuers send them (receipts, client assertions,
//! representatives' signatures, vc+jwt credentials).
#![no_main]

use clearinghouse::jose;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for detached in [None, Some(&b"payload"[..])] {
        if let Ok(jws) = jose::parse(text, detached) {
            let _ = jws.header_str("kid");
            let _ = jws.payload_json();
            let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
            let _ = jws.verify_ed25519(&key);
            let _ = jws.verify(&serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}));
        }
    }
});
