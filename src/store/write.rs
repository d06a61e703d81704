//! Write transactions that always finish. A future dropped half-way through a transaction (a
//! cancelled step, an aborted driver, a killed actor, a client that hung up) would hand its
//! connection back to the pool in an unknown state: on SQLite still inside the transaction and
//! holding the write lock, so later statements "succeed" inside it and are never committed.
//! So the only way to open a write transaction is [`Store::detached`]: the work runs in a task
//! of its own, which always ends with a commit or a rollback whatever happens to its caller.
//! The pool's release hook (`db.rs`) is the second line: a connection still in a transaction
//! when it comes back is closed, never reused.

use std::future::Future;

use sqlx::{Any, Transaction};
use tracing::Instrument;

use super::db::{Backend, Store};
use super::error::StoreError;

pub type Tx = Transaction<'static, Any>;

/// Held only by code running inside a [`Store::detached`] task: the key to a write transaction.
pub struct Detached {
    store: Store,
}

impl Detached {
    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails immediately with
    /// `SQLITE_BUSY_SNAPSHOT` when another writer got there first, instead of waiting its turn.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.store.backend() {
            Backend::Sqlite => self.store.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.store.writer.begin().await,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Store {
    /// Runs `work` to its end in a task of its own and returns what it returned. Dropping the
    /// returned future does not stop the work; a panic in it is the caller's panic.
    pub async fn detached<T, E, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Detached) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let fut = work(Detached {
            store: self.clone(),
        });
        let task = tokio::spawn(fut.instrument(tracing::Span::current()));
        match task.await {
            Ok(Ok(value)) => {
                self.health.note_write();
                Ok(value)
            }
            Ok(Err(e)) => Err(e.into()),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: only when the runtime itself is shutting down.
            Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolClosed)),
        }
    }
}
