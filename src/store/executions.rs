//! Executions, their steps and idempotency keys.

use serde_json::Value;
use sqlx::Row;

use super::cluster::{fenced_begin, Fence};
use super::db::{is_unique_violation, Backend};
use super::error::StoreError;
use super::rows::{ExecutionRow, StepRow};
use super::runtime_store::RuntimeStore;
use super::script::Script;
use super::states::ExecutionState;

pub(super) const COLUMNS: &str =
    "execution_id, intent_id, intent_type, session_id, tenant_id, solution_id, \
    parameters, metadata, status, error, artifacts, hook_id, hook_reason, epoch, created_at, \
    started_at, completed_at, updated_at, request_id, traceparent";

/// The epoch a new execution is stored with: its first driver's.
pub const FIRST_EPOCH: i64 = 1;

pub const UNFINISHED: &str = "('pending', 'running', 'awaiting_approval')";

#[derive(Debug, Clone)]
pub struct NewExecution {
    pub execution_id: String,
    pub intent_id: String,
    pub intent_type: String,
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub solution_id: String,
    pub parameters: Value,
    pub metadata: Value,
    pub created_at: i64,
    /// The request that submitted it (`x-request-id`), if known.
    pub request_id: Option<String>,
    /// That request's W3C trace context, when traces are exported.
    pub traceparent: Option<String>,
    /// `(scope, key)`: at most one execution per scope and key.
    pub idempotency: Option<(String, String)>,
    /// Another scope whose keys count too (a session's own keys from before its upgrade).
    pub idempotency_alt_scope: Option<String>,
}

#[derive(Debug)]
pub enum InsertOutcome {
    Created(ExecutionRow),
    /// The idempotency key was used before: this is the first execution, nothing new stored.
    Existing(ExecutionRow),
}

impl RuntimeStore {
    /// Stores a new `pending` execution, or returns the execution that already holds its
    /// idempotency key. The execution and its key are written in one transaction. A new
    /// execution is stored at epoch [`FIRST_EPOCH`]: the driver started for it right away owns it
    /// without a claim (a later driver claims the next epoch and fences it out).
    ///
    /// `fence` (a cluster node's): the session's partition at the node's epoch; a node that no
    /// longer holds it writes nothing and gets [`StoreError::Moved`].
    pub async fn insert_execution(
        &self,
        new: &NewExecution,
        fence: Option<Fence>,
    ) -> Result<InsertOutcome, StoreError> {
        let Some((scope, key)) = &new.idempotency else {
            if fence.is_some() {
                let new = new.clone();
                return self
                    .store
                    .detached(move |w| async move {
                        let mut tx = fenced_begin(&w, fence.as_ref()).await?;
                        insert_rows(&mut tx, w.store().backend(), std::slice::from_ref(&new))
                            .await?;
                        tx.commit().await?;
                        Ok::<_, StoreError>(InsertOutcome::Created(new_row(&new)))
                    })
                    .await;
            }
            // One statement, committed on its own: no transaction to open and close.
            let mut conn = self.store.writer.acquire().await?;
            insert_rows(&mut conn, self.store.backend(), std::slice::from_ref(new)).await?;
            return Ok(InsertOutcome::Created(new_row(new)));
        };
        let scopes = std::iter::once(scope).chain(new.idempotency_alt_scope.as_ref());
        for scope in scopes {
            if let Some(existing) = self.execution_by_idempotency_key(scope, key).await? {
                return Ok(InsertOutcome::Existing(existing));
            }
        }
        let (new, scope, key) = (new.clone(), scope.to_string(), key.to_string());
        self.store.detached(move |w| async move {
        let (new, scope, key) = (&new, scope.as_str(), key.as_str());
        let mut tx = fenced_begin(&w, fence.as_ref()).await?;
        insert_rows(&mut tx, w.store().backend(), std::slice::from_ref(new)).await?;
        let res = sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, execution_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(scope)
        .bind(key)
        .bind(&new.execution_id)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                // A concurrent submit with the same key won the race: keep theirs.
                tx.rollback().await?;
                return match w.store().runtime().execution_by_idempotency_key(scope, key).await? {
                    Some(existing) => Ok(InsertOutcome::Existing(existing)),
                    None => Err(e.into()),
                };
            }
            Err(e) => return Err(StoreError::from(e)),
        }
        tx.commit().await?;
        Ok(InsertOutcome::Created(new_row(new)))
        })
        .await
    }

    async fn execution_by_idempotency_key(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<ExecutionRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM executions WHERE execution_id = \
             (SELECT execution_id FROM idempotency_keys WHERE scope = $1 AND idem_key = $2)"
        ))
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref().map(ExecutionRow::from_row).transpose()
    }

    pub async fn get_execution(
        &self,
        execution_id: &str,
    ) -> Result<Option<ExecutionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM executions WHERE execution_id = $1"
        ))
        .bind(execution_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(ExecutionRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    /// How many executions the session has, by status.
    pub async fn session_execution_counts(
        &self,
        session_id: &str,
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM executions WHERE session_id = $1 GROUP BY status",
        )
        .bind(session_id)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("status")?, r.try_get::<i64, _>("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The session's latest `limit` executions, newest first.
    pub async fn session_executions(
        &self,
        session_id: &str,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM executions WHERE session_id = $1 \
             ORDER BY created_at DESC, execution_id LIMIT $2"
        ))
        .bind(session_id)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(ExecutionRow::from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }

    /// The execution waiting on a safety hook.
    pub async fn execution_by_hook(
        &self,
        hook_id: &str,
    ) -> Result<Option<ExecutionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM executions WHERE hook_id = $1"
        ))
        .bind(hook_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(ExecutionRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    /// The execution whose safety hook `hook_id` was answered, and the answer (`approved` or
    /// `refused`).
    pub async fn answered_hook(
        &self,
        hook_id: &str,
    ) -> Result<Option<(ExecutionRow, String)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, hook_decision FROM executions WHERE answered_hook_id = $1"
        ))
        .bind(hook_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.map(|r| Ok((ExecutionRow::from_row(&r)?, r.try_get("hook_decision")?)))
            .transpose()
    }

    pub async fn get_steps(&self, execution_id: &str) -> Result<Vec<StepRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, name, status, output, error, attempts, started_at, completed_at \
             FROM execution_steps WHERE execution_id = $1 ORDER BY idx",
        )
        .bind(execution_id)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(StepRow::from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Takes ownership of an execution for a new driver: bumps and returns its epoch. Writes by
    /// drivers holding an older epoch are refused from then on (fencing).
    /// `fence`: as for [`Self::insert_execution`] (a node that let the session's partition go
    /// must not take its executions from the node that holds it now).
    pub async fn claim_execution(
        &self,
        execution_id: &str,
        fence: Option<Fence>,
    ) -> Result<Option<i64>, StoreError> {
        const CLAIM: &str =
            "UPDATE executions SET epoch = epoch + 1 WHERE execution_id = $1 RETURNING epoch";
        let row = match fence {
            None => {
                sqlx::query(CLAIM)
                    .bind(execution_id)
                    .fetch_optional(&self.store.writer)
                    .await?
            }
            Some(fence) => {
                let execution_id = execution_id.to_string();
                self.store
                    .detached(move |w| async move {
                        let mut tx = fenced_begin(&w, Some(&fence)).await?;
                        let row = sqlx::query(CLAIM)
                            .bind(&execution_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok::<_, StoreError>(row)
                    })
                    .await?
            }
        };
        row.map(|r| r.try_get::<i64, _>("epoch"))
            .transpose()
            .map_err(StoreError::from)
    }

    /// Sessions that own at least one execution that is not terminal (to resume at start).
    pub async fn sessions_with_unfinished_executions(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT session_id FROM executions WHERE status IN {UNFINISHED}"
        ))
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("session_id"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn unfinished_executions(&self, session_id: &str) -> Result<Vec<String>, StoreError> {
        self.unfinished_executions_before(session_id, None).await
    }

    /// [`Self::unfinished_executions`] created before `created_before` (µs), if given.
    pub async fn unfinished_executions_before(
        &self,
        session_id: &str,
        created_before: Option<i64>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT execution_id FROM executions WHERE session_id = $1 AND status IN {UNFINISHED} \
             AND created_at < $2 ORDER BY created_at"
        ))
        .bind(session_id)
        .bind(created_before.unwrap_or(i64::MAX))
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("execution_id"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

/// Stores new `pending` executions (no idempotency key) on `conn` (an autocommit statement per
/// 256 rows, or the caller's transaction).
pub(super) async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    news: &[NewExecution],
) -> Result<(), sqlx::Error> {
    let mut script = Script::new(backend);
    add_intake(&mut script, news);
    script.run(conn).await?;
    Ok(())
}

/// Adds the insert of new `pending` executions to a script: the event log's group commit
/// carries the intake of many intents with their events.
pub(super) fn add_intake<'q>(script: &mut Script<'q>, news: &'q [NewExecution]) {
    script.rows(
        news,
        "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
        // The ids are new uuids: one already there is this intake's own, committed by an
        // attempt whose answer was lost (a retry), not another's.
        |values| {
            format!(
                "INSERT INTO executions (execution_id, intent_id, intent_type, session_id, \
                 tenant_id, solution_id, parameters, metadata, status, epoch, created_at, \
                 updated_at, request_id, traceparent) VALUES {values} \
                 ON CONFLICT (execution_id) DO NOTHING"
            )
        },
        |q, new| {
            q.bind(&new.execution_id)
                .bind(&new.intent_id)
                .bind(&new.intent_type)
                .bind(&new.session_id)
                .bind(&new.tenant_id)
                .bind(&new.solution_id)
                .bind(new.parameters.to_string())
                .bind(new.metadata.to_string())
                .bind(FIRST_EPOCH)
                .bind(new.created_at)
                .bind(new.created_at)
                .bind(&new.request_id)
                .bind(&new.traceparent);
        },
        false,
    );
}

/// The row [`insert_rows`] stored, as a read would return it.
pub(crate) fn new_row(new: &NewExecution) -> ExecutionRow {
    ExecutionRow {
        execution_id: new.execution_id.clone(),
        intent_id: new.intent_id.clone(),
        intent_type: new.intent_type.clone(),
        session_id: new.session_id.clone(),
        tenant_id: new.tenant_id.clone(),
        solution_id: new.solution_id.clone(),
        parameters: new.parameters.clone(),
        metadata: new.metadata.clone(),
        status: ExecutionState::Pending,
        error: None,
        artifacts: None,
        hook_id: None,
        hook_reason: None,
        epoch: FIRST_EPOCH,
        created_at: new.created_at,
        started_at: None,
        completed_at: None,
        updated_at: new.created_at,
        request_id: new.request_id.clone(),
        traceparent: new.traceparent.clone(),
    }
}
