//! C2SP tlog-cosignature/v1: a witness's timestamped Ed25519 signature over a checkpoint.
//!
//! The signed message is `cosignature/v1\ntime <seconds>\n` followed by the checkpoint body;
//! the signature line's value is key ID (4 bytes) || timestamp (8 bytes, big-endian) ||
//! Ed25519 signature (64 bytes). A cosignature says "I, the witness, saw this checkpoint at
//! this time and it was consistent with everything I saw before".

use super::note::{ALG_COSIGNATURE_V1, Note, NoteError, NoteSigner, NoteVerifier, signature_line};

/// The message a witness signs for `checkpoint_text` at `timestamp` (seconds since epoch).
pub fn cosignature_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// Sign a checkpoint as a witness; returns the signature line to append to the note.
pub fn cosign(
    witness: &NoteSigner,
    checkpoint_text: &str,
    timestamp: u64,
) -> Result<String, NoteError> {
    if witness.verifier().alg() != ALG_COSIGNATURE_V1 {
        return Err(NoteError::BadKeyName);
    }
    let message = cosignature_message(checkpoint_text, timestamp);
    let signature = witness.sign_message(message.as_bytes());
    let mut value = witness.verifier().key_id().to_vec();
    value.extend_from_slice(&timestamp.to_be_bytes());
    value.extend_from_slice(&signature);
    Ok(signature_line(witness.name(), &value))
}

/// Find and check `witness`'s cosignature on a note; returns its timestamp.
pub fn verify_cosignature(note: &Note, witness: &NoteVerifier) -> Result<u64, NoteError> {
    if witness.alg() != ALG_COSIGNATURE_V1 {
        return Err(NoteError::BadVerifierKey(
            "a witness key must be a cosignature/v1 (0x04) key",
        ));
    }
    let mut found = None;
    for signature in note.signatures_by(witness) {
        let (timestamp, sig) = signature.value.split_at_checked(8).ok_or_else(|| {
            NoteError::BadSignatureLine(format!("cosignature by {} is too short", witness.name()))
        })?;
        let timestamp = u64::from_be_bytes(timestamp.try_into().unwrap_or([0; 8]));
        let message = cosignature_message(&note.text, timestamp);
        if !witness.verify_message(message.as_bytes(), sig) {
            return Err(NoteError::InvalidSignature(witness.name().to_owned()));
        }
        found = Some(timestamp);
    }
    found.ok_or_else(|| NoteError::UnknownSigner(witness.vkey()))
}
