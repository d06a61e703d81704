//! The database health watcher: probes reads and a committed write every [`PROBE_PERIOD`]
//! and records the outcome in the store's [`DbHealth`](super::health::DbHealth).

use std::sync::Arc;

use super::db::Store;
use super::error::StoreError;
use super::health::{DbHealth, BUSY_IS_NOT_DOWN, PROBE_PERIOD, PROBE_TIMEOUT, SLOW_PROBES_TO_FAIL};
use super::time::now_micros;

impl Store {
    /// Whether the database can be read and written (as of the last probe).
    pub fn health(&self) -> &Arc<DbHealth> {
        &self.health
    }

    /// Probes the database every [`PROBE_PERIOD`] until the store is closed. Until every
    /// migration in `schema` is applied (see [`Store::check_schema`]) the database counts as
    /// down, with the missing migrations as the reason.
    pub fn watch_health(&self, schema: &'static [i64]) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut schema_ready = schema.is_empty();
            let mut slow = 0u32;
            let mut ticks = tokio::time::interval(PROBE_PERIOD);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if store.pool.is_closed() {
                    return;
                }
                if !schema_ready {
                    match store.check_schema(schema).await {
                        Ok(true) => schema_ready = true,
                        Ok(false) => continue,
                        // The probes below say why.
                        Err(_) => {}
                    }
                }
                let reads = probe(store.probe_read()).await;
                let writes = match &reads {
                    Ok(()) => probe(store.probe_write()).await,
                    Err(_) => Err(Probe::Failed("the database cannot be read".into())),
                };
                // A probe that only ran out of time fails the database after a few in a row.
                let slow_now =
                    matches!(reads, Err(Probe::Slow)) || matches!(writes, Err(Probe::Slow));
                slow = if slow_now { slow + 1 } else { 0 };
                if slow_now
                    && (slow < SLOW_PROBES_TO_FAIL || store.health.wrote_within(BUSY_IS_NOT_DOWN))
                {
                    continue;
                }
                store.health.set(
                    reads.map_err(|p| p.to_string()),
                    writes.map_err(|p| p.to_string()),
                );
            }
        })
    }

    /// Whether every migration in `schema` is applied; when not, the database's health is set
    /// down with the missing ones named (the migrations are the Runtime Plane's to apply).
    pub async fn check_schema(&self, schema: &[i64]) -> Result<bool, StoreError> {
        let missing = self.missing_migrations(schema).await?;
        if missing.is_empty() {
            return Ok(true);
        }
        let why = format!(
            "the database schema lacks migrations {missing:?}: the Runtime Plane applies them \
             when it starts (or run `symphainy migrate`)"
        );
        self.health.set(Err(why.clone()), Err(why));
        Ok(false)
    }

    async fn probe_read(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A committed write through the writer: what every acknowledged request needs.
    async fn probe_write(&self) -> Result<(), StoreError> {
        let at = now_micros();
        self.detached(move |w| async move {
            let mut tx = w.begin().await?;
            sqlx::query("UPDATE health_probe SET probed_at = $1 WHERE id = 1")
                .bind(at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })
        .await
    }
}

enum Probe {
    Slow,
    Failed(String),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Slow => write!(f, "the database did not answer within {PROBE_TIMEOUT:?}"),
            Probe::Failed(why) => f.write_str(why),
        }
    }
}

async fn probe(
    fut: impl std::future::Future<Output = Result<(), StoreError>>,
) -> Result<(), Probe> {
    match tokio::time::timeout(PROBE_TIMEOUT, fut).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Probe::Failed(e.to_string())),
        Err(_) => Err(Probe::Slow),
    }
}
