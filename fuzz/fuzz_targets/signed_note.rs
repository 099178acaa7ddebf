//! Signed notes, checkpoints and verifier keys, as a verifier or witness reads them.
#![no_main]

use clearinghouse::ledger::note::{ALG_ED25519, Checkpoint, Note, NoteVerifier, open_checkpoint};
use libfuzzer_sys::fuzz_target;

const ORIGIN: &str = "fuzz.example/log";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = NoteVerifier::from_vkey(text);
    let _ = Note::parse(text);
    let _ = Checkpoint::parse(text);
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    if let Ok(verifier) = NoteVerifier::new(ORIGIN, ALG_ED25519, key) {
        let _ = open_checkpoint(text, &verifier, ORIGIN);
    }
});
