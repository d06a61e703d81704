//! Whether the database can be read and written right now, known without waiting on it.
//! A watcher (`health_watch`) probes it every second (a `SELECT 1` and a one-row write committed through the
//! writer, each bounded by [`PROBE_TIMEOUT`]); requests are refused at once with 503
//! `database_unavailable` while a probe fails (see `http::layers`), readiness says why, and the
//! first probe that succeeds again lets requests back in. No restart is needed: a writer
//! connection left broken by a failed COMMIT (a full disk) is closed by the pool's release
//! hook and replaced.

use super::time::now_micros;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// How long one probe may take before it counts as a failure.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Time between probes.
pub const PROBE_PERIOD: Duration = Duration::from_secs(1);
/// Slow probes in a row (no error, just no answer in time) before the database is called down,
/// and only if no write transaction has gone through for [`BUSY_IS_NOT_DOWN`]: a loaded
/// database (a long delete holding the one SQLite writer, a saturated pool) is not an
/// unavailable one. Errors (no connection, a full disk) count at once.
pub const SLOW_PROBES_TO_FAIL: u32 = 3;
pub const BUSY_IS_NOT_DOWN: Duration = Duration::from_secs(15);

#[derive(Default)]
pub struct DbHealth {
    reads_down: AtomicBool,
    writes_down: AtomicBool,
    why: Mutex<Option<String>>,
    /// When a write transaction last went through (µs), whoever ran it.
    last_write: std::sync::atomic::AtomicI64,
}

/// What the database allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbState {
    Up,
    /// Reads work, writes fail (a full disk, a read-only file system or replica).
    ReadOnly,
    Down,
}

impl DbState {
    pub fn as_str(self) -> &'static str {
        match self {
            DbState::Up => "ok",
            DbState::ReadOnly => "read_only",
            DbState::Down => "unavailable",
        }
    }
}

impl DbHealth {
    pub fn state(&self) -> DbState {
        if self.reads_down.load(Ordering::Relaxed) {
            DbState::Down
        } else if self.writes_down.load(Ordering::Relaxed) {
            DbState::ReadOnly
        } else {
            DbState::Up
        }
    }

    /// A write transaction went through: the database is serving.
    pub(crate) fn note_write(&self) {
        self.last_write.store(now_micros(), Ordering::Relaxed);
    }

    pub(super) fn wrote_within(&self, d: Duration) -> bool {
        now_micros() - self.last_write.load(Ordering::Relaxed) < d.as_micros() as i64
    }

    /// The last probe failure, while the database is not up.
    pub fn why(&self) -> Option<String> {
        self.why.lock().clone()
    }

    pub(super) fn set(&self, reads: Result<(), String>, writes: Result<(), String>) {
        let before = self.state();
        self.reads_down.store(reads.is_err(), Ordering::Relaxed);
        self.writes_down.store(writes.is_err(), Ordering::Relaxed);
        let why = reads.err().or(writes.err());
        let after = self.state();
        if before != after {
            match (&why, after) {
                (Some(why), _) => {
                    tracing::warn!(state = after.as_str(), %why, "database health changed")
                }
                (None, _) => {
                    tracing::info!(state = after.as_str(), "database health changed: back up")
                }
            }
        }
        *self.why.lock() = why;
    }
}

/// True for errors that say the database cannot serve now (rather than that the request is
/// wrong): no connection, I/O, a full disk, a read-only or locked database, a server shutting
/// down. These answer 503 `database_unavailable`.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match err {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => true,
        E::Protocol(_) => true,
        E::Database(db) => unavailable_code(&db.code().map(|c| c.into_owned()).unwrap_or_default()),
        _ => false,
    }
}

/// The database error codes of an unavailable database, on either backend.
fn unavailable_code(code: &str) -> bool {
    if code.len() == 5 {
        // A PostgreSQL SQLSTATE (five characters, often all digits): connection
        // exception, insufficient resources (disk full), operator intervention
        // (shutdown), system error.
        code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57P")
            || code.starts_with("58")
    } else {
        // An SQLite result code (at most four digits; the primary code in the low
        // byte): BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
        code.parse::<i32>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 11 | 13 | 14 | 26))
    }
}

#[cfg(test)]
mod tests {
    use super::unavailable_code;

    #[test]
    fn codes_are_read_by_their_backend() {
        // PostgreSQL: connection failure, disk full, too many connections, admin shutdown, I/O.
        for code in ["08006", "08000", "53100", "53300", "57P01", "58030"] {
            assert!(unavailable_code(code), "{code}");
        }
        // PostgreSQL codes whose digits would read as SQLite BUSY (42501 & 0xff = 5) or
        // READONLY (21000 & 0xff = 8): a request's fault, not the database's.
        for code in ["42501", "21000", "23505", "42P01"] {
            assert!(!unavailable_code(code), "{code}");
        }
        // SQLite: FULL, BUSY, IOERR_WRITE (778), READONLY; not CONSTRAINT_UNIQUE (2067).
        for code in ["13", "5", "778", "8"] {
            assert!(unavailable_code(code), "{code}");
        }
        assert!(!unavailable_code("2067"));
        assert!(!unavailable_code(""));
    }
}
