//! The session event log, written as a transactional outbox: an event and the state change it
//! reports (an [`Effect`] on an execution or step) commit together or not at all, and many
//! appends share one transaction (group commit).

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use super::batch;
use super::db::Store;
use super::rows::EventRow;
use super::write::Detached;

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: String,
    pub session_id: String,
    pub event_type: String,
    pub execution_id: Option<String>,
    /// Deduplication key: an event with a key already in the session's log is not written
    /// again (and its effect is not applied again).
    pub event_key: Option<String>,
    pub data: Value,
    pub created_at: i64,
}

/// A state change committed atomically with its event. Every effect is fenced by the
/// execution's epoch: a stale driver's write changes nothing.
#[derive(Debug, Clone)]
pub enum Effect {
    ExecutionStarted {
        execution_id: String,
        epoch: i64,
    },
    AwaitingApproval {
        execution_id: String,
        epoch: i64,
        hook_id: String,
        reason: String,
    },
    StepStarted {
        execution_id: String,
        epoch: i64,
        idx: i64,
        name: String,
    },
    StepCompleted {
        execution_id: String,
        epoch: i64,
        idx: i64,
        output: Value,
        /// The execution's artifacts after this step (merged), when the step produced any.
        artifacts: Option<Value>,
    },
    StepFailed {
        execution_id: String,
        epoch: i64,
        idx: i64,
        name: String,
        error: String,
    },
    StepCompensated {
        execution_id: String,
        epoch: i64,
        idx: i64,
        error: Option<String>,
    },
    /// A refused approval: the reason is recorded and the hook cleared; the execution then
    /// finishes `cancelled` (a crash in between resumes into that ending).
    ApprovalRefused {
        execution_id: String,
        epoch: i64,
        reason: String,
    },
    ExecutionFinished {
        execution_id: String,
        epoch: i64,
        status: String,
        error: Option<String>,
    },
}

impl Effect {
    /// Whether the effect changes the execution row beyond its `updated_at` (the others change
    /// only a step row).
    pub fn changes_execution(&self) -> bool {
        !matches!(
            self,
            Effect::StepStarted { .. }
                | Effect::StepCompleted {
                    artifacts: None,
                    ..
                }
                | Effect::StepFailed { .. }
                | Effect::StepCompensated { .. }
        )
    }

    /// The execution the effect changes and the epoch it must still hold.
    pub fn target(&self) -> (&str, i64) {
        match self {
            Effect::ExecutionStarted {
                execution_id,
                epoch,
            }
            | Effect::AwaitingApproval {
                execution_id,
                epoch,
                ..
            }
            | Effect::StepStarted {
                execution_id,
                epoch,
                ..
            }
            | Effect::StepCompleted {
                execution_id,
                epoch,
                ..
            }
            | Effect::StepFailed {
                execution_id,
                epoch,
                ..
            }
            | Effect::StepCompensated {
                execution_id,
                epoch,
                ..
            }
            | Effect::ApprovalRefused {
                execution_id,
                epoch,
                ..
            }
            | Effect::ExecutionFinished {
                execution_id,
                epoch,
                ..
            } => (execution_id, *epoch),
        }
    }
}

#[derive(Debug, Clone)]
pub enum AppendOutcome {
    Appended(EventRow),
    /// An event with the same key was already stored; this is it.
    Duplicate(EventRow),
    /// The effect's epoch is stale: nothing was written.
    Fenced,
}

const EVENT_COLUMNS: &str = "event_id, session_id, seq, event_type, execution_id, data, created_at";

/// An insert of events, followed by one or more `(…8 values…)` and [`UNLESS_REPEATED`].
pub(super) const INSERT_EVENTS: &str =
    "INSERT INTO events (event_id, session_id, seq, event_type, \
    execution_id, event_key, data, created_at) VALUES";
/// An event whose key the session's log already has is not inserted.
pub(super) const UNLESS_REPEATED: &str = "ON CONFLICT (session_id, event_key) DO NOTHING";

impl Store {
    /// Appends a batch in one transaction (in a task of its own: see `write`). `last_seq`
    /// caches each session's latest `seq` (filled from the database on a miss); it is only
    /// updated when the transaction commits. The batch and the cache come back with the result.
    pub async fn append_events(
        &self,
        items: Vec<(NewEvent, Option<Effect>)>,
        mut last_seq: HashMap<String, i64>,
    ) -> Appended {
        let run = self.detached(move |w| async move {
            let result = append_in(&w, &items, &mut last_seq).await;
            Ok(Appended {
                result,
                items,
                last_seq,
            })
        });
        run.await.unwrap_or_else(|e| Appended {
            result: Err(e),
            items: Vec::new(),
            last_seq: HashMap::new(),
        })
    }

    /// The session's latest `seq` (0 when it has no events).
    pub async fn max_seq(&self, session_id: &str) -> Result<i64, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let row =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) AS s FROM events WHERE session_id = $1")
                .bind(session_id)
                .fetch_one(&mut *conn)
                .await?;
        row.try_get::<i64, _>("s")
    }

    /// Stored events of a session with `seq > after_seq`, in order, at most `limit`.
    pub async fn events_after(
        &self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(session_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(EventRow::from_row).collect()
    }

    pub async fn events_of_execution(
        &self,
        execution_id: &str,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE execution_id = $1 ORDER BY seq"
        ))
        .bind(execution_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(EventRow::from_row).collect()
    }
}

/// What an append did, with the batch and the cache it was given.
pub struct Appended {
    pub result: Result<Vec<AppendOutcome>, sqlx::Error>,
    pub items: Vec<(NewEvent, Option<Effect>)>,
    pub last_seq: HashMap<String, i64>,
}

async fn append_in(
    w: &Detached,
    items: &[(NewEvent, Option<Effect>)],
    last_seq: &mut HashMap<String, i64>,
) -> Result<Vec<AppendOutcome>, sqlx::Error> {
    let mut tx = w.begin().await?;
    let mut seqs: HashMap<String, i64> = HashMap::new();
    let outcomes = match batch::append_batch(&mut tx, items, last_seq, &mut seqs).await? {
        Some(outcomes) => outcomes,
        None => {
            // A repeat or a stale epoch in the batch: start over, one event at a time.
            tx.rollback().await?;
            tx = w.begin().await?;
            seqs.clear();
            one_by_one(&mut tx, items, last_seq, &mut seqs).await?
        }
    };
    crate::failpoint!(crate::failpoints::EVENTS_BEFORE_COMMIT);
    tx.commit().await?;
    last_seq.extend(seqs);
    Ok(outcomes)
}

/// The careful path: each event on its own, so that a repeated key or a stale epoch affects
/// only its own event.
async fn one_by_one(
    tx: &mut Transaction<'_, Any>,
    items: &[(NewEvent, Option<Effect>)],
    last_seq: &HashMap<String, i64>,
    seqs: &mut HashMap<String, i64>,
) -> Result<Vec<AppendOutcome>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(items.len());
    for (event, effect) in items {
        let seq = next_seq(tx, &event.session_id, last_seq, seqs).await?;
        // The event first: its key tells in the same statement whether it is a repeat.
        let inserted = sqlx::query(&format!(
            "{INSERT_EVENTS} ($1, $2, $3, $4, $5, $6, $7, $8) {UNLESS_REPEATED}"
        ))
        .bind(&event.event_id)
        .bind(&event.session_id)
        .bind(seq)
        .bind(&event.event_type)
        .bind(&event.execution_id)
        .bind(&event.event_key)
        .bind(event.data.to_string())
        .bind(event.created_at)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            outcomes.push(repeated(tx, event, effect.as_ref()).await?);
            continue;
        }
        if let Some(effect) = effect {
            if !apply_effect(tx, effect, event.created_at, false).await? {
                // Fenced out: the event goes too (its `seq` is free again).
                sqlx::query("DELETE FROM events WHERE event_id = $1")
                    .bind(&event.event_id)
                    .execute(&mut **tx)
                    .await?;
                outcomes.push(AppendOutcome::Fenced);
                continue;
            }
        }
        seqs.insert(event.session_id.clone(), seq);
        outcomes.push(AppendOutcome::Appended(stored(event, seq)));
    }
    Ok(outcomes)
}

/// The outcome for an event whose key is already in the log: the stored event, or `Fenced`
/// when the appender no longer holds its execution (a stale driver must learn it is fenced
/// even when its event exists already). Its effect is not applied again.
async fn repeated(
    tx: &mut Transaction<'_, Any>,
    event: &NewEvent,
    effect: Option<&Effect>,
) -> Result<AppendOutcome, sqlx::Error> {
    if let Some(effect) = effect {
        if !holds_epoch(tx, effect).await? {
            return Ok(AppendOutcome::Fenced);
        }
    }
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE session_id = $1 AND event_key = $2"
    ))
    .bind(&event.session_id)
    .bind(&event.event_key)
    .fetch_one(&mut **tx)
    .await?;
    Ok(AppendOutcome::Duplicate(EventRow::from_row(&row)?))
}

/// The `seq` a new event of the session takes: one past the last one of this transaction
/// (`seqs`), else of the cache (`last_seq`), else of the store. The caller records it in
/// `seqs` once the event is in.
pub(super) async fn next_seq(
    tx: &mut Transaction<'_, Any>,
    session_id: &str,
    last_seq: &HashMap<String, i64>,
    seqs: &HashMap<String, i64>,
) -> Result<i64, sqlx::Error> {
    Ok(match seqs.get(session_id).or(last_seq.get(session_id)) {
        Some(s) => *s + 1,
        None => max_seq_in(tx, session_id).await? + 1,
    })
}

/// The row an appended event is stored as.
pub(super) fn stored(event: &NewEvent, seq: i64) -> EventRow {
    EventRow {
        event_id: event.event_id.clone(),
        session_id: event.session_id.clone(),
        seq,
        event_type: event.event_type.clone(),
        execution_id: event.execution_id.clone(),
        data: event.data.clone(),
        created_at: event.created_at,
    }
}

async fn max_seq_in(tx: &mut Transaction<'_, Any>, session_id: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS s FROM events WHERE session_id = $1")
        .bind(session_id)
        .fetch_one(&mut **tx)
        .await?;
    row.try_get::<i64, _>("s")
}

async fn holds_epoch(tx: &mut Transaction<'_, Any>, effect: &Effect) -> Result<bool, sqlx::Error> {
    let (execution_id, epoch) = effect.target();
    let row = sqlx::query("SELECT epoch FROM executions WHERE execution_id = $1")
        .bind(execution_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("epoch")? == epoch,
        None => false,
    })
}

/// Applies one effect inside the transaction. `false` when fenced out (stale epoch).
/// `held`: this transaction has already passed the fence for the effect's execution and epoch
/// (the row stays locked until commit: SQLite's write lock, PostgreSQL's row lock), so an effect
/// that changes nothing on the execution row but its `updated_at` skips that statement.
pub(super) async fn apply_effect(
    tx: &mut Transaction<'_, Any>,
    effect: &Effect,
    at: i64,
    held: bool,
) -> Result<bool, sqlx::Error> {
    if (effect.changes_execution() || !held) && !fence(tx, effect, at).await? {
        return Ok(false);
    }
    apply_to_steps(tx, effect, at).await?;
    Ok(true)
}

/// The fence: changes the execution row only if the appender still owns it (its epoch).
async fn fence(
    tx: &mut Transaction<'_, Any>,
    effect: &Effect,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let (execution_id, epoch) = effect.target();
    let fenced = match effect {
        Effect::ExecutionStarted { .. } => sqlx::query(
            "UPDATE executions SET status = 'running', started_at = COALESCE(started_at, $3), \
             answered_hook_id = COALESCE(hook_id, answered_hook_id), \
             hook_decision = CASE WHEN hook_id IS NULL THEN hook_decision ELSE 'approved' END, \
             hook_id = NULL, hook_reason = NULL, updated_at = $3 WHERE execution_id = $1 AND epoch = $2",
        )
        .bind(execution_id)
        .bind(epoch)
        .bind(at),
        Effect::AwaitingApproval { hook_id, reason, .. } => sqlx::query(
            "UPDATE executions SET status = 'awaiting_approval', hook_id = $4, hook_reason = $5, \
             updated_at = $3 WHERE execution_id = $1 AND epoch = $2",
        )
        .bind(execution_id)
        .bind(epoch)
        .bind(at)
        .bind(hook_id)
        .bind(reason),
        Effect::StepCompleted {
            artifacts: Some(artifacts),
            ..
        } => sqlx::query(
            "UPDATE executions SET artifacts = $4, updated_at = $3 WHERE execution_id = $1 AND epoch = $2",
        )
        .bind(execution_id)
        .bind(epoch)
        .bind(at)
        .bind(artifacts.to_string()),
        Effect::ApprovalRefused { reason, .. } => sqlx::query(
            "UPDATE executions SET error = $4, answered_hook_id = hook_id, hook_decision = 'refused', \
             hook_id = NULL, hook_reason = NULL, updated_at = $3 WHERE execution_id = $1 AND epoch = $2",
        )
        .bind(execution_id)
        .bind(epoch)
        .bind(at)
        .bind(reason),
        Effect::ExecutionFinished { status, error, .. } => sqlx::query(
            "UPDATE executions SET status = $4, error = $5, completed_at = $3, hook_id = NULL, \
             hook_reason = NULL, updated_at = $3 WHERE execution_id = $1 AND epoch = $2",
        )
        .bind(execution_id)
        .bind(epoch)
        .bind(at)
        .bind(status)
        .bind(error),
        _ => sqlx::query("UPDATE executions SET updated_at = $3 WHERE execution_id = $1 AND epoch = $2")
            .bind(execution_id)
            .bind(epoch)
            .bind(at),
    };
    Ok(fenced.execute(&mut **tx).await?.rows_affected() == 1)
}

/// The effect's change to its step row, if it has one.
async fn apply_to_steps(
    tx: &mut Transaction<'_, Any>,
    effect: &Effect,
    at: i64,
) -> Result<(), sqlx::Error> {
    let (execution_id, _) = effect.target();
    match effect {
        Effect::StepStarted { idx, name, .. } => {
            sqlx::query(
                "INSERT INTO execution_steps (execution_id, idx, name, status, attempts, started_at) \
                 VALUES ($1, $2, $3, 'running', 1, $4) \
                 ON CONFLICT (execution_id, idx) DO UPDATE SET status = 'running', \
                 attempts = execution_steps.attempts + 1, started_at = excluded.started_at, error = NULL",
            )
            .bind(execution_id)
            .bind(idx)
            .bind(name)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        Effect::StepCompleted { idx, output, .. } => {
            sqlx::query(
                "UPDATE execution_steps SET status = 'completed', output = $3, completed_at = $4 \
                 WHERE execution_id = $1 AND idx = $2",
            )
            .bind(execution_id)
            .bind(idx)
            .bind(output.to_string())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        Effect::StepFailed {
            idx, name, error, ..
        } => {
            sqlx::query(
                "INSERT INTO execution_steps (execution_id, idx, name, status, error, attempts, completed_at) \
                 VALUES ($1, $2, $3, 'failed', $4, 0, $5) \
                 ON CONFLICT (execution_id, idx) DO UPDATE SET status = 'failed', \
                 error = excluded.error, completed_at = excluded.completed_at",
            )
            .bind(execution_id)
            .bind(idx)
            .bind(name)
            .bind(error)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        Effect::StepCompensated { idx, error, .. } => {
            let status = if error.is_some() {
                "compensation_failed"
            } else {
                "compensated"
            };
            sqlx::query(
                "UPDATE execution_steps SET status = $3, error = COALESCE($4, error) \
                 WHERE execution_id = $1 AND idx = $2",
            )
            .bind(execution_id)
            .bind(idx)
            .bind(status)
            .bind(error)
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
