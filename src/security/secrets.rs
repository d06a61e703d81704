//! Shared secrets (service token, signing keys): taken from configuration, or generated once
//! into the data directory (mode 0600) and reused. Their values are never logged.

use std::io::Write;
use std::path::Path;

use backon::{BlockingRetryable, ConstantBuilder};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Returns `configured` when set, else the secret stored in `data_dir/file_name`, generating
/// and storing a new random one (256 bits, hex) the first time.
pub fn load_or_generate(
    configured: Option<SecretString>,
    data_dir: &Path,
    file_name: &str,
) -> anyhow::Result<SecretString> {
    if let Some(s) = configured {
        let s = s.expose_secret().trim();
        if !s.is_empty() {
            return Ok(s.into());
        }
    }
    stored_or_generated(data_dir, file_name).map(SecretString::from)
}

/// The secret in `data_dir/file_name`, generated and stored there the first time.
fn stored_or_generated(data_dir: &Path, file_name: &str) -> anyhow::Result<String> {
    // Read or generated, the secret lives in the data directory: a bad one fails here, named.
    crate::store::data_dir::ensure(data_dir)?;
    let path = data_dir.join(file_name);
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => anyhow::bail!("cannot read the secret file {}: {e}", path.display()),
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut opts = std::fs::OpenOptions::new();
    // `create_new`: never overwrite a secret file (an unreadable one is an error, not a reason
    // to mint a new key), and two processes starting together agree on one secret.
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(&path) {
        Ok(mut f) => {
            f.write_all(secret.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new secret");
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process won the race (or the file is empty): use what is there, once it
            // is written (read 50 times, 20 ms apart). `Err(None)`: empty so far.
            let stored = || match std::fs::read_to_string(&path) {
                Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                Ok(_) => Err(None),
                Err(e) => Err(Some(e)),
            };
            let written = ConstantBuilder::new()
                .with_delay(std::time::Duration::from_millis(20))
                .with_max_times(49);
            match stored.retry(written).when(Option::is_none).call() {
                Ok(secret) => Ok(secret),
                Err(Some(e)) => Err(e.into()),
                Err(None) => anyhow::bail!("the secret file {} is empty", path.display()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_generate(None, dir.path(), "token").unwrap();
        let b = load_or_generate(None, dir.path(), "token").unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 64);
        assert_eq!(
            load_or_generate(Some(" given ".into()), dir.path(), "token")
                .unwrap()
                .expose_secret(),
            "given"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("token"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
