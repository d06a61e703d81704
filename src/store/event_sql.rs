//! The statements an append is made of: the insert and the next `seq` (shared by the fast path,
//! `batch`, and the event by event one, `events`), and one effect — through its epoch fence, or
//! a conversation turn — for the event by event path (the fast path applies a whole batch's
//! effects set by set).

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use super::db::Backend;
use super::event_model::{Effect, NewEvent};
use super::rows::EventRow;
use super::script::Script;
use super::states::StepState;
use super::turns::{add_turns, turn_row};

pub(super) const EVENT_COLUMNS: &str =
    "event_id, session_id, seq, event_type, execution_id, data, created_at";

/// An insert of events, followed by one or more `(…8 values…)` and [`UNLESS_REPEATED`].
pub(super) const INSERT_EVENTS: &str =
    "INSERT INTO events (event_id, session_id, seq, event_type, \
    execution_id, event_key, data, created_at) VALUES";
/// An event whose key the session's log already has is not inserted.
pub(super) const UNLESS_REPEATED: &str = "ON CONFLICT (session_id, event_key) DO NOTHING";

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

pub(super) async fn holds_epoch(
    tx: &mut Transaction<'_, Any>,
    effect: &Effect,
) -> Result<bool, sqlx::Error> {
    let Some((execution_id, epoch)) = effect.target() else {
        return Ok(true); // a turn: no execution to hold
    };
    let row = sqlx::query("SELECT epoch FROM executions WHERE execution_id = $1")
        .bind(execution_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("epoch")? == epoch,
        None => false,
    })
}

/// Applies one event's effect inside the transaction, through its fence. `false` when fenced
/// out (stale epoch).
pub(super) async fn apply_effect(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    event: &NewEvent,
    effect: &Effect,
) -> Result<bool, sqlx::Error> {
    let at = event.created_at;
    if let Some(turn) = turn_row(event, effect) {
        let turns = [turn];
        let mut script = Script::new(backend);
        add_turns(&mut script, &turns);
        script.run(tx).await?;
        return Ok(true);
    }
    if !fence(tx, effect, at).await? {
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
    let Some((execution_id, epoch)) = effect.target() else {
        return Ok(true);
    };
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
        .bind(status.as_str())
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
    let Some((execution_id, _)) = effect.target() else {
        return Ok(());
    };
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
                StepState::CompensationFailed
            } else {
                StepState::Compensated
            };
            sqlx::query(
                "UPDATE execution_steps SET status = $3, error = COALESCE($4, error) \
                 WHERE execution_id = $1 AND idx = $2",
            )
            .bind(execution_id)
            .bind(idx)
            .bind(status.as_str())
            .bind(error)
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
