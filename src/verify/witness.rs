//! Checking witnesses' cosignatures on a checkpoint against a quorum.

use crate::ledger::note::{Note, NoteError, NoteVerifier};
use crate::ledger::witness::verify_cosignature;

/// What each expected witness's cosignature looked like.
#[derive(Debug, Clone)]
pub struct CosignatureCheck {
    pub witness: String,
    /// The cosignature's timestamp, or why it is missing or invalid.
    pub result: Result<u64, NoteError>,
}

/// Check the cosignature of each of `witnesses` on `note` (a signed checkpoint).
pub fn check_cosignatures(
    note: &str,
    witnesses: &[NoteVerifier],
) -> Result<Vec<CosignatureCheck>, NoteError> {
    let parsed = Note::parse(note)?;
    Ok(witnesses
        .iter()
        .map(|witness| CosignatureCheck {
            witness: witness.vkey(),
            result: verify_cosignature(&parsed, witness),
        })
        .collect())
}
