//! Private key files: written with mode 0600, and refused when others can read them.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::ledger::note::{NoteError, NoteSigner};

/// Why a key file could not be written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    #[error("key file {path} already exists; refusing to overwrite it (use --force)")]
    Exists { path: String },
    #[error(
        "key file {path} is readable by group or others (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen { path: String, mode: u32 },
    #[error("key file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {path}: {source}")]
    Format {
        path: String,
        #[source]
        source: NoteError,
    },
    #[error("key file {path} is for {found:?}, but the configured name is {expected:?}")]
    WrongName {
        path: String,
        found: String,
        expected: String,
    },
}

/// Write `signer`'s private key to `path` with mode 0600 (created atomically with that
/// mode, so it is never readable by others even for an instant).
pub fn write_key_file(path: &Path, signer: &NoteSigner, force: bool) -> Result<(), KeyFileError> {
    let shown = path.display().to_string();
    let io = |source| KeyFileError::Io {
        path: shown.clone(),
        source,
    };
    if path.exists() && !force {
        return Err(KeyFileError::Exists { path: shown });
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    // An existing file keeps its old mode on open; force it.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    file.write_all(format!("{}\n", signer.skey()).as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Read a private key, refusing a file that group or others can read, and checking that
/// it belongs to `expected_name` when one is given.
pub fn read_key_file(path: &Path, expected_name: Option<&str>) -> Result<NoteSigner, KeyFileError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|source| KeyFileError::Io {
        path: shown.clone(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen { path: shown, mode });
    }
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: shown.clone(),
        source,
    })?;
    let signer = NoteSigner::from_skey(&text).map_err(|source| KeyFileError::Format {
        path: shown.clone(),
        source,
    })?;
    if let Some(expected) = expected_name
        && signer.name() != expected
    {
        return Err(KeyFileError::WrongName {
            path: shown,
            found: signer.name().to_owned(),
            expected: expected.to_owned(),
        });
    }
    Ok(signer)
}

/// Read a key file, first creating it (mode 0600) with a fresh key if it does not exist.
pub fn ensure_key_file(path: &Path, name: &str) -> Result<NoteSigner, KeyFileError> {
    if !path.exists() {
        let signer =
            NoteSigner::generate(name, crate::ledger::note::ALG_ED25519).map_err(|source| {
                KeyFileError::Format {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        write_key_file(path, &signer, false)?;
    }
    read_key_file(path, Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::note::ALG_ED25519;

    #[test]
    fn written_keys_are_private_and_readable_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let signer = NoteSigner::generate("log.example/x", ALG_ED25519).unwrap();
        write_key_file(&path, &signer, false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = read_key_file(&path, Some("log.example/x")).unwrap();
        assert_eq!(back.verifier(), signer.verifier());
        assert!(matches!(
            write_key_file(&path, &signer, false),
            Err(KeyFileError::Exists { .. })
        ));
        assert!(matches!(
            read_key_file(&path, Some("other")),
            Err(KeyFileError::WrongName { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_key_file(&path, None),
            Err(KeyFileError::TooOpen { mode: 0o644, .. })
        ));
    }
}
