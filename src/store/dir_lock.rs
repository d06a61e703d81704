//! One process per data directory: an exclusive advisory lock (`flock`) on `LOCK` in it, held
//! for the life of the process. Two runtimes on one data directory would both resume the same
//! executions (running a step twice) and collect each other's blobs. The holder writes its pid
//! and start time into the file, so a refused process can say who holds it. The kernel releases
//! the lock when the holder exits, however it exits (SIGKILL too); the file itself stays.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// Held while alive; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    path: PathBuf,
    _file: File,
}

impl DataDirLock {
    /// Creates `data_dir` if needed and takes its lock for `command`, or fails naming the
    /// process that holds it.
    pub fn acquire(data_dir: &Path, command: &str) -> anyhow::Result<DataDirLock> {
        super::data_dir::ensure(data_dir)?;
        let path = data_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the lock file {} in the data directory (SYMPHAINY_DATA_DIR): {e}",
                    path.display()
                )
            })?;
        if let Err(e) = try_lock_exclusive(&file) {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                anyhow::bail!(
                    "the data directory {} (SYMPHAINY_DATA_DIR) is in use by another symphainy \
                     process ({}); only one process may use a data directory at a time",
                    data_dir.display(),
                    holder_of(&mut file)
                );
            }
            anyhow::bail!("cannot lock {}: {e}", path.display());
        }
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let record = format!(
            "pid={}\nstarted={started}\ncommand={command}\n",
            std::process::id()
        );
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(record.as_bytes())?;
        file.sync_all()?;
        Ok(DataDirLock { path, _file: file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `pid 1234, started 2026-…, serve` from the holder's record (it may still be writing it).
fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_string(&mut text);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match field("pid") {
        Some(pid) => {
            let mut s = format!("pid {pid}");
            if let Some(started) = field("started") {
                s.push_str(&format!(", started {started}"));
            }
            if let Some(command) = field("command") {
                s.push_str(&format!(", `{command}`"));
            }
            s
        }
        None => "a process that is just starting; its pid is not recorded yet".to_string(),
    }
}

#[cfg(unix)]
fn try_lock_exclusive(file: &File) -> std::io::Result<()> {
    use rustix::fs::{flock, FlockOperation};
    flock(file, FlockOperation::NonBlockingLockExclusive).map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn try_lock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), "serve").unwrap();
        let err = DataDirLock::acquire(dir.path(), "runtime")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("`serve`"), "{err}");
        drop(first);
        let again = DataDirLock::acquire(dir.path(), "serve").unwrap();
        let record = std::fs::read_to_string(again.path()).unwrap();
        assert!(
            record.starts_with(&format!("pid={}\nstarted=", std::process::id())),
            "{record}"
        );
    }
}
