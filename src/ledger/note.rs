//! C2SP signed-note (Ed25519, signature type 0x01) and tlog-checkpoint.
//!
//! A signed note is UTF-8 text ending in a newline, a blank line, then one signature line
//! per signer: `— <key name> <base64(key ID || signature)>`. The key ID is the first four
//! bytes of SHA-256(key name || "\n" || type || public key), so a verifier can tell which of
//! its keys a line claims to be from before checking it. Lines from unknown keys are
//! ignored; a line from a known key that does not verify rejects the whole note.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::hash::Hash;

/// Signature type byte of a plain Ed25519 signed-note key.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of a C2SP tlog-cosignature/v1 key (timestamped Ed25519).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The signature line prefix: an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// More signature lines than this is an attack on the verifier, not a note.
const MAX_SIGNATURES: usize = 100;

/// Why a note, key or checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    #[error("key name must be non-empty and contain no spaces, newlines or `+`")]
    BadKeyName,
    #[error("malformed verifier key: {0}")]
    BadVerifierKey(&'static str),
    #[error("malformed private key: {0}")]
    BadPrivateKey(&'static str),
    #[error("note text must be UTF-8 without control characters and end with a newline")]
    BadText,
    #[error("note has no blank line separating text from signatures")]
    MissingSeparator,
    #[error("malformed signature line: {0}")]
    BadSignatureLine(String),
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("signature by {0} does not verify")]
    InvalidSignature(String),
    #[error("note is not signed by any of the expected keys ({0})")]
    UnknownSigner(String),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
}

/// Key ID of a signed-note key: SHA-256(name || "\n" || type || public key)[..4].
pub fn key_id(name: &str, alg: u8, public_key: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([alg]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::BadKeyName);
    }
    Ok(())
}

/// A public key that checks signature lines of one name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    alg: u8,
    key: VerifyingKey,
    id: [u8; 4],
}

impl NoteVerifier {
    pub fn new(name: &str, alg: u8, key: VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(NoteVerifier {
            name: name.to_owned(),
            alg,
            id: key_id(name, alg, key.as_bytes()),
            key,
        })
    }

    /// Parse a verifier key `<name>+<hex key ID>+<base64(type || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let vkey = vkey.trim();
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadVerifierKey(
                "expected <name>+<key id>+<base64 key>",
            ));
        };
        check_key_name(name)?;
        let id = hex::decode(id_hex)
            .ok()
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or(NoteError::BadVerifierKey("key ID must be 8 hex digits"))?;
        let raw = B64
            .decode(key_b64)
            .map_err(|_| NoteError::BadVerifierKey("key is not base64"))?;
        let (alg, public) = raw
            .split_first()
            .ok_or(NoteError::BadVerifierKey("key is empty"))?;
        if *alg != ALG_ED25519 && *alg != ALG_COSIGNATURE_V1 {
            return Err(NoteError::BadVerifierKey(
                "only Ed25519 (0x01) and cosignature/v1 (0x04) keys are supported",
            ));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::BadVerifierKey("Ed25519 public key must be 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::BadVerifierKey("not a valid Ed25519 point"))?;
        let verifier = NoteVerifier::new(name, *alg, key)?;
        if verifier.id != id {
            return Err(NoteError::BadVerifierKey(
                "key ID does not match the name and key",
            ));
        }
        Ok(verifier)
    }

    /// The verifier key string, `<name>+<hex key ID>+<base64(type || public key)>`.
    pub fn vkey(&self) -> String {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(raw))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    pub fn alg(&self) -> u8 {
        self.alg
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Check a plain Ed25519 signature over a message.
    pub fn verify_message(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify(message, &signature).is_ok()
    }
}

/// A private signed-note key (the log's key, or a witness's).
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("vkey", &self.verifier.vkey())
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    pub fn new(name: &str, alg: u8, key: SigningKey) -> Result<Self, NoteError> {
        Ok(NoteSigner {
            verifier: NoteVerifier::new(name, alg, key.verifying_key())?,
            key,
        })
    }

    /// A fresh random key.
    pub fn generate(name: &str, alg: u8) -> Result<Self, NoteError> {
        Self::new(name, alg, SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// Parse `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`.
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::BadPrivateKey("must start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadPrivateKey(
                "expected PRIVATE+KEY+<name>+<key id>+<base64 key>",
            ));
        };
        let raw = B64
            .decode(key_b64)
            .map_err(|_| NoteError::BadPrivateKey("key is not base64"))?;
        let (alg, seed) = raw
            .split_first()
            .ok_or(NoteError::BadPrivateKey("key is empty"))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::BadPrivateKey("Ed25519 seed must be 32 bytes"))?;
        let signer = NoteSigner::new(name, *alg, SigningKey::from_bytes(&seed))?;
        if hex::encode(signer.verifier.id) != id_hex {
            return Err(NoteError::BadPrivateKey(
                "key ID does not match the name and key",
            ));
        }
        Ok(signer)
    }

    /// The private key string; keep it in a file only its owner can read.
    pub fn skey(&self) -> String {
        let mut raw = vec![self.verifier.alg];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.verifier.name,
            hex::encode(self.verifier.id),
            B64.encode(raw)
        )
    }

    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The Ed25519 key itself (the credential issuer key shares this file format).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    /// Raw Ed25519 signature of a message.
    pub fn sign_message(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Sign note text (which must end in a newline) and return the whole signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let signature = self.sign_message(text.as_bytes());
        let mut value = self.verifier.id.to_vec();
        value.extend_from_slice(&signature);
        Ok(format!("{text}\n{}", signature_line(self.name(), &value)))
    }
}

/// A signature line of a note: `— <name> <base64(value)>\n`.
pub fn signature_line(name: &str, value: &[u8]) -> String {
    format!("{SIG_PREFIX}{name} {}\n", B64.encode(value))
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::BadText);
    }
    Ok(())
}

/// One signature line of a note, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// The bytes after the key ID: a signature, or a timestamp and a signature.
    pub value: Vec<u8>,
}

/// A note split into its text and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Split a signed note. Checks the format, not the signatures.
    pub fn parse(note: &str) -> Result<Note, NoteError> {
        let split = note.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let text = &note[..split + 1];
        check_text(text)?;
        let block = &note[split + 2..];
        if !block.ends_with('\n') {
            return Err(NoteError::BadSignatureLine(
                "signature block must end with a newline".into(),
            ));
        }
        let mut signatures = Vec::new();
        for line in block[..block.len() - 1].split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| NoteError::BadSignatureLine(format!("{line:?} lacks `— `")))?;
            let (name, value) = rest
                .split_once(' ')
                .ok_or_else(|| NoteError::BadSignatureLine(format!("{line:?} lacks a key name")))?;
            check_key_name(name)?;
            let raw = B64.decode(value).map_err(|_| {
                NoteError::BadSignatureLine(format!("signature by {name} is not base64"))
            })?;
            if raw.len() < 5 {
                return Err(NoteError::BadSignatureLine(format!(
                    "signature by {name} is too short"
                )));
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id: [raw[0], raw[1], raw[2], raw[3]],
                value: raw[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(NoteError::BadSignatureLine("note has no signatures".into()));
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Signature lines claiming to come from `verifier` (same name and key ID).
    pub fn signatures_by<'a>(
        &'a self,
        verifier: &'a NoteVerifier,
    ) -> impl Iterator<Item = &'a NoteSignature> + 'a {
        self.signatures
            .iter()
            .filter(move |s| s.name == verifier.name && s.key_id == verifier.id)
    }
}

/// Parse a signed note and check it carries a valid Ed25519 signature by `verifier`.
/// Returns the note text.
pub fn open_note(note: &str, verifier: &NoteVerifier) -> Result<Note, NoteError> {
    let parsed = Note::parse(note)?;
    let mut found = false;
    for signature in parsed.signatures_by(verifier) {
        if !verifier.verify_message(parsed.text.as_bytes(), &signature.value) {
            return Err(NoteError::InvalidSignature(verifier.name.clone()));
        }
        found = true;
    }
    if !found {
        return Err(NoteError::UnknownSigner(verifier.vkey()));
    }
    Ok(parsed)
}

/// A C2SP tlog-checkpoint: origin, tree size, root hash and optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint body, each line ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parse a checkpoint body (the text of a signed note).
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::BadCheckpoint("must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::BadCheckpoint("missing origin line"))?;
        let size_text = lines
            .next()
            .ok_or(NoteError::BadCheckpoint("missing tree size line"))?;
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(NoteError::BadCheckpoint(
                "tree size must be a decimal without leading zeros",
            ));
        }
        let size = size_text
            .parse()
            .map_err(|_| NoteError::BadCheckpoint("tree size is too large"))?;
        let root_text = lines
            .next()
            .ok_or(NoteError::BadCheckpoint("missing root hash line"))?;
        let root: Hash = B64
            .decode(root_text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(NoteError::BadCheckpoint(
                "root hash must be 32 bytes of standard base64",
            ))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::BadCheckpoint(
                "extension lines must not be empty",
            ));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Sign this checkpoint as a note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        signer.sign_note(&self.to_text())
    }
}

/// Open a signed checkpoint: check the log's signature, parse the body and check the origin.
pub fn open_checkpoint(
    note: &str,
    verifier: &NoteVerifier,
    origin: &str,
) -> Result<Checkpoint, NoteError> {
    let opened = open_note(note, verifier)?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    if checkpoint.origin != origin {
        return Err(NoteError::BadCheckpoint(
            "origin line does not match the expected origin",
        ));
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let signer = NoteSigner::generate("log.example/test", ALG_ED25519).unwrap();
        let again = NoteSigner::from_skey(&signer.skey()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        let verifier = NoteVerifier::from_vkey(&signer.verifier().vkey()).unwrap();
        assert_eq!(&verifier, signer.verifier());
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "a b", "a+b", "a\nb"] {
            assert_eq!(
                NoteSigner::generate(name, ALG_ED25519).err(),
                Some(NoteError::BadKeyName)
            );
        }
    }

    #[test]
    fn checkpoint_text_round_trips() {
        let cp = Checkpoint {
            origin: "o".into(),
            size: 12,
            root: [7; 32],
            extensions: vec!["x: y".into()],
        };
        assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
        assert!(Checkpoint::parse("o\n012\nAAAA\n").is_err());
        assert!(Checkpoint::parse("o\n12\n").is_err());
    }
}
