//! One process per data directory: an exclusive advisory lock (`flock`) on `LOCK` in it, held
//! for the life of the process. Two runtimes on one data directory would both resume the same
//! executions (running a step twice) and collect each other's blobs. The holder writes its pid
//! and start time into the file, so a refused process can say who holds it. The kernel releases
//! the lock when the holder exits, however it exits (SIGKILL too); the file itself stays.
//! An SQLite database kept outside the data directory (`DATABASE_URL`) gets the same lock in
//! its own directory, so two data directories cannot share one database file either.

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
        Self::acquire_in(
            data_dir,
            &format!(
                "the data directory {} (SYMPHAINY_DATA_DIR)",
                data_dir.display()
            ),
            command,
        )
    }

    /// Takes the lock of `dir` (which exists); `what` names it in errors.
    fn acquire_in(dir: &Path, what: &str, command: &str) -> anyhow::Result<DataDirLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the lock file {} of {what}: {e}",
                    path.display()
                )
            })?;
        if let Err(e) = try_lock_exclusive(&file) {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                anyhow::bail!(
                    "{what} is in use by another symphainy process ({}); only one process may \
                     use it at a time",
                    holder_of(&mut file)
                );
            }
            anyhow::bail!("cannot lock {}: {e}", path.display());
        }
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut record = format!("pid={}\nstarted={started}\n", std::process::id());
        // In a container the pid is the namespace's (often 1): the host name tells which.
        if let Some(host) = host_name() {
            record.push_str(&format!("host={host}\n"));
        }
        record.push_str(&format!("command={command}\n"));
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

/// The locks a process on this store holds: the data directory's when `with_data_dir` (a
/// server: its blobs live there), and, for an SQLite `database_url`, the lock of the database
/// file's directory when that is another directory (or the only one, without `with_data_dir`).
pub fn lock_store(
    data_dir: &Path,
    database_url: &str,
    command: &str,
    with_data_dir: bool,
) -> anyhow::Result<Vec<DataDirLock>> {
    let mut locks = Vec::new();
    if with_data_dir {
        locks.push(DataDirLock::acquire(data_dir, command)?);
    }
    let Some(db_dir) = sqlite_dir(database_url) else {
        return Ok(locks);
    };
    super::data_dir::ensure(data_dir)?;
    std::fs::create_dir_all(&db_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the directory {} of the SQLite database: {e}",
            db_dir.display()
        )
    })?;
    let same = match (db_dir.canonicalize(), data_dir.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        if !with_data_dir {
            locks.push(DataDirLock::acquire(data_dir, command)?);
        }
    } else {
        let what = format!(
            "the directory {} of the SQLite database (DATABASE_URL)",
            db_dir.display()
        );
        locks.push(DataDirLock::acquire_in(&db_dir, &what, command)?);
    }
    Ok(locks)
}

/// The directory of an `sqlite:` URL's file; `None` for another database.
fn sqlite_dir(url: &str) -> Option<PathBuf> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().filter(|f| !f.is_empty())?;
    let parent = Path::new(file).parent()?;
    Some(if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_path_buf()
    })
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
            if let Some(host) = field("host") {
                s.push_str(&format!(", host {host}"));
            }
            if let Some(command) = field("command") {
                s.push_str(&format!(", `{command}`"));
            }
            s
        }
        None => "a process that is just starting; its pid is not recorded yet".to_string(),
    }
}

/// This machine's (or container's) host name, where the system tells it.
fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
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
    fn an_sqlite_file_elsewhere_is_locked_in_its_own_directory() {
        let data = tempfile::tempdir().unwrap();
        let db = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/x.db?mode=rwc", db.path().display());
        let held = lock_store(data.path(), &url, "serve", true).unwrap();
        assert_eq!(held.len(), 2);
        assert_eq!(held[1].path(), db.path().join("LOCK"));
        // Another data directory, the same database file: refused.
        let other = tempfile::tempdir().unwrap();
        let err = lock_store(other.path(), &url, "serve", true)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "the directory {} of the SQLite database (DATABASE_URL) is in use by another \
                 symphainy process (pid {}",
                db.path().display(),
                std::process::id()
            )),
            "{err}"
        );
        // The default file in the data directory: one lock, the data directory's.
        let inside = format!("sqlite://{}/symphainy.db", other.path().display());
        let held = lock_store(other.path(), &inside, "migrate", false).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].path(), other.path().join("LOCK"));
        assert!(
            lock_store(other.path(), "postgres://h/db", "migrate", false)
                .unwrap()
                .is_empty()
        );
    }

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
