//! The data directory (`SYMPHAINY_DATA_DIR`): created on first use, and checked writable so
//! that a wrong path fails at start with the directory and its variable named.

use std::fs::File;
use std::path::Path;

/// Creates the data directory and checks that it is writable, naming it and its variable when
/// not (the first thing a new user gets wrong).
pub fn ensure(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {} (SYMPHAINY_DATA_DIR): {e}",
            data_dir.display()
        )
    })?;
    let probe = data_dir.join(format!(".write-test-{}", std::process::id()));
    match File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => anyhow::bail!(
            "the data directory {} (SYMPHAINY_DATA_DIR) is not writable: {e}",
            data_dir.display()
        ),
    }
}
