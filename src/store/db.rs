//! Opening the database (SQLite file by default, PostgreSQL for `postgres://` URLs) and running
//! the embedded migrations. All queries use `$n` placeholders, which both backends accept.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor, Row};

use crate::redact::redact_url;

use super::durability::Durability;
use super::error::{cause_chain, StoreError};
use super::health::DbHealth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The one store API over both backends. Cheap to clone.
///
/// Writes go through `writer`. On SQLite that is a pool of one connection: SQLite lets one
/// writer in at a time, and a second one waiting on its lock sleeps in SQLite's busy handler
/// (1, 2, 5, 10 … ms) however soon the lock is free; queued here, each writer is woken the
/// moment the previous one commits. On PostgreSQL `writer` is the same pool as `pool`.
#[derive(Clone)]
pub struct Store {
    pub(super) pool: AnyPool,
    /// Private to the store: transactions on it only through `write::Detached`; the other store
    /// files use it for single autocommit statements.
    pub(super) writer: AnyPool,
    backend: Backend,
    durability: Durability,
    pub(super) health: Arc<DbHealth>,
    /// PostgreSQL's URL, for the connection that listens to the cluster's announcements.
    pub(super) pg_url: Option<Arc<secrecy::SecretString>>,
}

/// A PostgreSQL connection idle this long is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`). For SQLite the file and its
    /// directory are created when missing and the database runs in WAL mode.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        Self::open(url, None).await
    }

    /// [`Store::connect`] with a chosen durability (`None`: the backend's default).
    pub async fn open(url: &str, durability: Option<Durability>) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://");
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let chosen = durability.is_some();
        let durability = durability.unwrap_or(Durability::default_for(backend));
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| anyhow::anyhow!("DATABASE_URL {} is not valid: {e}", redact_url(&url)))?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
        // One plain connection first: a pool that cannot connect retries until its acquire
        // timeout and then reports only "pool timed out"; this names the database and the cause.
        check_connect(backend, &url, &options).await?;
        let pool = pool_options(backend, durability, chosen, false, 8, 16)
            .connect_with(options.clone())
            .await?;
        let writer = match backend {
            Backend::Sqlite => {
                pool_options(backend, durability, chosen, true, 1, 1)
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        let pg_url = (backend == Backend::Postgres).then(|| Arc::new(url.clone().into()));
        Ok(Store {
            pool,
            writer,
            backend,
            durability,
            health: Arc::default(),
            pg_url,
        })
    }

    /// Applies every pending migration (idempotent).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        if self.backend == Backend::Postgres {
            MIGRATOR.run(&self.writer).await?;
            return Ok(());
        }
        // A migration may sort a whole table (an index built): its temporary files on disk,
        // not in memory as the writer's own statements keep them.
        let mut conn = self.writer.acquire().await?;
        conn.execute("PRAGMA temp_store = DEFAULT").await?;
        let migrated = MIGRATOR.run(&mut *conn).await;
        conn.execute(WRITER_TEMP_STORE).await?;
        migrated?;
        Ok(())
    }

    /// Which of `versions` (migration numbers) the database has not applied. A database that
    /// has applied none (no migrations table yet) misses them all.
    pub async fn missing_migrations(&self, versions: &[i64]) -> Result<Vec<i64>, StoreError> {
        let applied: Vec<i64> =
            match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await
            {
                Ok(rows) => rows
                    .iter()
                    .map(|r| r.try_get::<i64, _>("version"))
                    .collect::<Result<_, _>>()?,
                Err(e) => match StoreError::from(e) {
                    // No such table: nothing was ever migrated.
                    StoreError::Failed(_) => Vec::new(),
                    down => return Err(down),
                },
            };
        Ok(versions
            .iter()
            .copied()
            .filter(|v| !applied.contains(v))
            .collect())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How durable its commits are.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// A trivial round trip, for readiness checks.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// SQLite's writer keeps its temporary data in memory: the statement journals (a multi-row
/// statement's undo, within a transaction) that by default spill to a temporary file past
/// 64 KiB, a write system call per page on the path every write queues behind. That memory is
/// what one statement on the writer changes or sorts — the pages one statement of at most 256
/// events or 500 parsed records touches — and no statement there sorts a whole table
/// (migrations, which may, keep temporary files).
const WRITER_TEMP_STORE: &str = "PRAGMA temp_store = MEMORY";

/// How long the first connection may take before start-up gives up on the database.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens and closes one connection, failing with the database (password hidden) and the
/// underlying cause: `Connection refused`, a failed authentication, a missing database.
async fn check_connect(
    backend: Backend,
    url: &str,
    options: &AnyConnectOptions,
) -> anyhow::Result<()> {
    let what = match backend {
        Backend::Postgres => format!(
            "cannot connect to the database {} (DATABASE_URL)",
            redact_url(url)
        ),
        Backend::Sqlite => format!("cannot open the SQLite database {}", url),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect_with(options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(anyhow::anyhow!("{what}: {}", cause_chain(&e))),
        Err(_) => Err(anyhow::anyhow!(
            "{what}: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// The pool settings of either backend (`sqlite` or `postgres` connections at most; `writer`:
/// SQLite's one writer connection).
fn pool_options(
    backend: Backend,
    durability: Durability,
    chosen: bool,
    writer: bool,
    sqlite: u32,
    postgres: u32,
) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        })
        // Past this a request answers 503 `database_unavailable`. The health watcher refuses
        // requests sooner while the database is down (see `health`); this stays long so that a
        // busy moment (a queue for the one SQLite writer) is not taken for an outage.
        .acquire_timeout(Duration::from_secs(10))
        // A ping before every acquire doubles the round trips of a short query (SQLite: a
        // hand-off to its worker thread and back; PostgreSQL: the network). Only a PostgreSQL
        // connection that has sat idle is checked: that is the one a database restart or a
        // dropped link has broken; a failed check takes another connection.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if backend == Backend::Postgres && meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        // A connection must come back outside any transaction. One that is still inside one
        // was dropped mid-transaction or failed to commit (a full disk: SQLite may have rolled
        // back on its own, and sqlx's ROLLBACK then fails and its depth stays at 1): reused,
        // its later statements would run inside that transaction and never be committed. A
        // queued rollback (a `Transaction` dropped on an error path) runs first; a connection
        // still inside a transaction after it is closed, and the pool opens a fresh one.
        .after_release(|conn, _| {
            Box::pin(async move {
                if !conn.is_in_transaction() {
                    return Ok(true);
                }
                conn.ping().await?;
                if conn.is_in_transaction() {
                    tracing::warn!("a database connection came back inside a transaction: closed");
                    return Ok(false);
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                         PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    if writer {
                        conn.execute(WRITER_TEMP_STORE).await?;
                    }
                }
                if let Some(sql) = durability.connection_sql(backend, chosen) {
                    conn.execute(sql).await?;
                }
                Ok(())
            })
        })
}

/// `sqlite://./data/x.db` → creates `./data` and adds `mode=rwc` so the file is created.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path_part = rest.split('?').next().unwrap_or_default();
    if path_part.is_empty() || path_part == ":memory:" {
        anyhow::bail!("an SQLite DATABASE_URL must name a file");
    }
    if let Some(parent) = Path::new(path_part).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the directory {} of the SQLite database: {e}",
                    parent.display()
                )
            })?;
        }
    }
    Ok(if rest.contains("mode=") {
        format!("sqlite://{rest}")
    } else if rest.contains('?') {
        format!("sqlite://{rest}&mode=rwc")
    } else {
        format!("sqlite://{rest}?mode=rwc")
    })
}

/// True for a unique-constraint violation on either backend.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
