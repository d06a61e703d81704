//! SQLite's WAL checkpoints, off the writer's path. By default SQLite checkpoints inside the
//! commit that takes the log past 1,000 pages, so one write in a few hundred pays for copying
//! every page back into the database file and syncing it — on the one writer connection every
//! other write queues behind. Here a task checkpoints from a reader connection every
//! [`EVERY`] (`PASSIVE`: it never waits for, or blocks, the writer or a reader); the writer
//! keeps a far larger automatic threshold only as a backstop, should the task fall behind.

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;

/// How often the log is checkpointed.
pub const EVERY: Duration = Duration::from_millis(250);

/// The writer's own threshold (pages, of 4 KiB by default): reached only if checkpoints here
/// cannot keep up.
pub(super) const WRITER_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 16000";

/// The running task; it stops when the last clone of its store is dropped.
pub(super) struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts checkpointing the database of `pool` (readers).
pub(super) fn start(pool: AnyPool) -> Arc<Checkpointer> {
    Arc::new(Checkpointer(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, "WAL checkpoint failed");
            }
        }
    })))
}
