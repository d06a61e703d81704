//! How durable a commit is (`SYMPHAINY_DURABILITY`), chosen once for the store's connections.
//!
//! - `process`: a commit survives a crash of the process that made it. SQLite in WAL mode with
//!   `synchronous = NORMAL`: the WAL is not synced at each commit, so a power loss or an OS
//!   crash may lose the last commits (never corrupting the database). On PostgreSQL,
//!   `synchronous_commit = off`: the server acknowledges before its WAL is flushed, so a crash
//!   of the database server (or the machine) may lose up to three `wal_writer_delay`s of
//!   commits (0.6 s by default); a crash of the runtime loses nothing.
//! - `fsync`: a commit also survives a power loss. SQLite `synchronous = FULL` (the WAL is
//!   synced at each commit); PostgreSQL as its server is configured (`synchronous_commit = on`
//!   by default: flushed, and replicated when synchronous standbys are set).
//!
//! Unset, each backend keeps what it had: `process` on SQLite, and on PostgreSQL the server's
//! own `synchronous_commit` (`on`, i.e. `fsync`, unless the server or role turns it off).
//! Behind a pooler in transaction mode (PgBouncer) a session's `SET` does not hold: set
//! `synchronous_commit` on the role or the server there.

use super::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Process,
    Fsync,
}

impl Durability {
    /// `process` or `fsync` (as `SYMPHAINY_DURABILITY` spells them).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "process" => Ok(Durability::Process),
            "fsync" => Ok(Durability::Fsync),
            other => Err(format!(
                "'{other}' is not a durability: use process or fsync"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Process => "process",
            Durability::Fsync => "fsync",
        }
    }

    /// What a backend does when nothing is chosen.
    pub fn default_for(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Durability::Process,
            Backend::Postgres => Durability::Fsync,
        }
    }

    /// Run on each new connection (after the backend's own settings), if anything. `chosen`:
    /// set by the operator (unset, PostgreSQL keeps the server's own `synchronous_commit`;
    /// chosen `fsync` turns it on, whatever the server or role says).
    pub fn connection_sql(self, backend: Backend, chosen: bool) -> Option<&'static str> {
        match (backend, self) {
            (Backend::Sqlite, Durability::Process) => Some("PRAGMA synchronous = NORMAL;"),
            (Backend::Sqlite, Durability::Fsync) => Some("PRAGMA synchronous = FULL;"),
            (Backend::Postgres, Durability::Process) => Some("SET synchronous_commit = off;"),
            (Backend::Postgres, Durability::Fsync) if chosen => {
                Some("SET synchronous_commit = on;")
            }
            (Backend::Postgres, Durability::Fsync) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use sqlx::Connection;

    /// Every connection of both pools runs with the chosen setting (and PostgreSQL's, when
    /// `TEST_DATABASE_URL` is set: unreachable, the test fails).
    #[tokio::test]
    async fn each_connection_has_the_chosen_setting() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (None, 1),
            (Some(Durability::Process), 1),
            (Some(Durability::Fsync), 2),
        ];
        for (i, (chosen, want)) in cases.into_iter().enumerate() {
            let url = format!("sqlite://{}/d{i}.db", dir.path().display());
            let store = Store::open(&url, chosen).await.unwrap();
            for pool in [&store.pool, &store.writer] {
                let n: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(n, want, "{chosen:?}: PRAGMA synchronous");
            }
            store.close().await;
        }
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        // Unset: whatever the server says on a plain connection.
        let server: String = {
            let store = Store::open(&url, Some(Durability::Fsync)).await.unwrap();
            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
            let v = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            store.close().await;
            v
        };
        let cases = [
            (None, server.as_str()),
            (Some(Durability::Process), "off"),
            (Some(Durability::Fsync), "on"),
        ];
        for (chosen, want) in cases {
            let store = Store::open(&url, chosen)
                .await
                .expect("TEST_DATABASE_URL is reachable");
            let v: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(v, want, "{chosen:?}: synchronous_commit");
            store.close().await;
        }
    }

    #[test]
    fn names_parse_and_print_back() {
        for d in [Durability::Process, Durability::Fsync] {
            assert_eq!(Durability::parse(d.as_str()), Ok(d));
        }
        assert_eq!(Durability::parse(" FSYNC "), Ok(Durability::Fsync));
        assert!(Durability::parse("full")
            .unwrap_err()
            .contains("process or fsync"));
    }
}
