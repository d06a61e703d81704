//! Shared secrets (service token, signing keys): taken from configuration, or generated once
//! into the data directory (mode 0600) and reused. Their values are never logged.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// Returns `configured` when set, else the secret stored in `data_dir/file_name`, generating
/// and storing a new random one (256 bits, hex) the first time.
pub fn load_or_generate(
    configured: Option<String>,
    data_dir: &Path,
    file_name: &str,
) -> anyhow::Result<String> {
    if let Some(s) = configured.filter(|s| !s.trim().is_empty()) {
        return Ok(s.trim().to_string());
    }
    let path = data_dir.join(file_name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    std::fs::create_dir_all(data_dir)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path)?;
    f.write_all(secret.as_bytes())?;
    f.sync_all()?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_generate(None, dir.path(), "token").unwrap();
        let b = load_or_generate(None, dir.path(), "token").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(
            load_or_generate(Some("given".into()), dir.path(), "token").unwrap(),
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
