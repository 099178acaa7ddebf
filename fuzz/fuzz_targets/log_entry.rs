//! Log entries as a verifier or auditor reads them from a log it does not trust.
#![no_main]

use clearinghouse::entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = entry::decode(data);
    let _ = entry::peek(data);
});
