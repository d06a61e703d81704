//! The event log's fast path: a whole batch in a handful of set-based statements, whatever its
//! size. The events go in multi-row inserts; every execution the batch changes passes its
//! epoch fence in one statement; then the effects are applied in waves (the first effect of each
//! execution, then the second, …), each wave one statement per kind of change. The batch's new
//! executions (intake) go first. All of it is one [`Script`]: on SQLite a single hand-off to
//! the connection's worker thread (besides `BEGIN`, `COMMIT` and a read of the last `seq` of each
//! session not cached yet), on PostgreSQL a round trip per statement: about ten for a batch of
//! up to 256 rows of each kind, and a few more per wave when an execution changes more often.
//!
//! It applies when no event of the batch is a repeat and no effect is fenced out — the common
//! case. Otherwise it answers `None`, and the caller rolls the transaction back and appends
//! event by event (`events::one_by_one`), which tells each event's fate apart.

use std::collections::HashMap;

use sqlx::{Any, Transaction};

use super::db::{is_unique_violation, Backend};
use super::event_model::{AppendOutcome, Effect, NewEvent};
use super::event_sql::{next_seq, stored, INSERT_EVENTS};
use super::executions::{add_intake, NewExecution};
use super::script::{Ran, Script};
use super::states::StepState;
use super::turns::{add_turns, turn_row, TurnRow};

/// Stores `intake` and appends `items` in the caller's transaction, in one script; `None` when
/// the batch must take the careful path (the caller rolls back).
pub(super) async fn append_batch(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    intake: &[NewExecution],
    items: &[(NewEvent, Option<Effect>)],
    last_seq: &HashMap<String, i64>,
    seqs: &mut HashMap<String, i64>,
) -> Result<Option<Vec<AppendOutcome>>, sqlx::Error> {
    let Some(plan) = Plan::of(items) else {
        return Ok(None); // one execution at two epochs: one of them is stale
    };
    let mut numbered = Vec::with_capacity(items.len());
    for (event, _) in items {
        let seq = next_seq(tx, &event.session_id, last_seq, seqs).await?;
        seqs.insert(event.session_id.clone(), seq);
        numbered.push(seq);
    }
    let rows: Vec<_> = items.iter().zip(&numbered).collect();
    let mut script = Script::new(backend);
    add_intake(&mut script, intake);
    // A plain insert: a repeated key (a retried append, rare) fails it, and the careful path
    // tells the repeat apart. (`ON CONFLICT … DO NOTHING` would cost every row a speculative
    // insertion: on PostgreSQL about a third of the statement's time.)
    script.rows(
        &rows,
        "(?, ?, ?, ?, ?, ?, ?, ?)",
        |values| format!("{INSERT_EVENTS} {values}"),
        |q, ((event, _), seq)| {
            q.bind(&event.event_id)
                .bind(&event.session_id)
                .bind(**seq)
                .bind(&event.event_type)
                .bind(&event.execution_id)
                .bind(&event.event_key)
                .bind(event.data.to_string())
                .bind(event.created_at);
        },
        true,
    );
    // The fence before the waves: the rows stay locked until the commit (SQLite's write lock,
    // PostgreSQL's row locks), so the waves need no fence of their own.
    plan.fence(&mut script);
    for wave in &plan.waves {
        wave.add_to(&mut script);
    }
    match script.run(tx).await {
        Ok(Ran::AsExpected) => {}
        // A stale epoch, or an execution whose row is not there.
        Ok(Ran::Short) => return Ok(None),
        Err(e) if is_unique_violation(&e) => return Ok(None), // a repeated key
        // A step of an execution whose row is not there (SQLite runs the whole script, so the
        // waves run after a short fence): the careful path answers its event `Fenced`.
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => return Ok(None),
        Err(e) => return Err(e),
    }
    Ok(Some(
        items
            .iter()
            .zip(numbered)
            .map(|((event, _), seq)| AppendOutcome::Appended(stored(event, seq)))
            .collect(),
    ))
}

/// The executions a batch changes, each at its epoch with its last event's time, and its
/// effects in waves: wave `k` holds the `k`-th effect of each execution, so an execution has at
/// most one effect in a wave and the waves keep each execution's order.
struct Plan<'a> {
    targets: Vec<(&'a str, i64, i64)>,
    waves: Vec<Wave<'a>>,
}

impl<'a> Plan<'a> {
    /// `None` when an execution is changed at two epochs (an old driver and a new one).
    fn of(items: &'a [(NewEvent, Option<Effect>)]) -> Option<Plan<'a>> {
        let mut plan = Plan {
            targets: Vec::new(),
            waves: Vec::new(),
        };
        // Per execution: its place in `targets` and how many of its effects are placed.
        let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
        // Per conversation (session, conversation): how many of its turns are placed.
        let mut conversations: HashMap<(&str, &str), usize> = HashMap::new();
        for (event, effect) in items {
            let Some(effect) = effect else { continue };
            let at = event.created_at;
            let Some((execution_id, epoch)) = effect.target() else {
                if let Some(turn) = turn_row(event, effect) {
                    let depth = conversations
                        .entry((&event.session_id, turn.1))
                        .or_default();
                    if plan.waves.len() == *depth {
                        plan.waves.push(Wave::default());
                    }
                    plan.waves[*depth].turns.push(turn);
                    *depth += 1;
                }
                continue;
            };
            let (target, depth) = seen.entry(execution_id).or_insert_with(|| {
                plan.targets.push((execution_id, epoch, at));
                (plan.targets.len() - 1, 0)
            });
            let target = &mut plan.targets[*target];
            if target.1 != epoch {
                return None;
            }
            target.2 = at;
            if plan.waves.len() == *depth {
                plan.waves.push(Wave::default());
            }
            plan.waves[*depth].add(effect, at);
            *depth += 1;
        }
        Some(plan)
    }

    /// Every execution of the batch must still be at its epoch (its `updated_at` set to its
    /// last event's time, as the event-by-event path leaves it).
    fn fence(&'a self, script: &mut Script<'a>) {
        script.rows(
            &self.targets,
            "(?, ?, ?)",
            |values| {
                format!(
                    "UPDATE executions SET updated_at = v.column3 FROM (VALUES {values}) AS v \
                     WHERE executions.execution_id = v.column1 AND executions.epoch = v.column2"
                )
            },
            |q, (id, epoch, at)| {
                q.bind(*id).bind(*epoch).bind(*at);
            },
            true,
        );
    }
}

/// One wave's changes, by kind: one statement for each kind present.
#[derive(Default)]
struct Wave<'a> {
    /// (execution, epoch, at)
    started: Vec<(&'a str, i64, i64)>,
    /// (execution, epoch, hook, reason)
    awaiting: Vec<(&'a str, i64, &'a str, &'a str)>,
    /// (execution, epoch, artifacts)
    artifacts: Vec<(&'a str, i64, String)>,
    /// (execution, epoch, reason)
    refused: Vec<(&'a str, i64, &'a str)>,
    /// (execution, epoch, at, status, error)
    finished: Vec<(&'a str, i64, i64, &'static str, Option<&'a str>)>,
    /// (execution, idx, name, at)
    step_started: Vec<(&'a str, i64, &'a str, i64)>,
    /// (execution, idx, output, at)
    step_completed: Vec<(&'a str, i64, String, i64)>,
    /// (execution, idx, name, error, at)
    step_failed: Vec<(&'a str, i64, &'a str, &'a str, i64)>,
    /// (execution, idx, status, error)
    step_compensated: Vec<(&'a str, i64, &'static str, Option<&'a str>)>,
    /// At most one per conversation.
    turns: Vec<TurnRow<'a>>,
}

/// An update of `executions` from a VALUES list whose first columns are the execution and its
/// epoch (`v.column1`, `v.column2`). (`updated_at` is the fence's.)
fn update_executions(set: &str, values: &str) -> String {
    format!(
        "UPDATE executions SET {set} FROM (VALUES {values}) AS v \
         WHERE executions.execution_id = v.column1 AND executions.epoch = v.column2"
    )
}

/// An update of `execution_steps` from a VALUES list whose first columns are the execution and
/// the step's index.
fn update_steps(set: &str, values: &str) -> String {
    format!(
        "UPDATE execution_steps SET {set} FROM (VALUES {values}) AS v \
         WHERE execution_steps.execution_id = v.column1 AND execution_steps.idx = v.column2"
    )
}

impl<'a> Wave<'a> {
    fn add(&mut self, effect: &'a Effect, at: i64) {
        match effect {
            Effect::ExecutionStarted {
                execution_id,
                epoch,
            } => self.started.push((execution_id, *epoch, at)),
            Effect::AwaitingApproval {
                execution_id,
                epoch,
                hook_id,
                reason,
            } => self.awaiting.push((execution_id, *epoch, hook_id, reason)),
            Effect::StepStarted {
                execution_id,
                idx,
                name,
                ..
            } => self.step_started.push((execution_id, *idx, name, at)),
            Effect::StepCompleted {
                execution_id,
                epoch,
                idx,
                output,
                artifacts,
            } => {
                if let Some(artifacts) = artifacts {
                    self.artifacts
                        .push((execution_id, *epoch, artifacts.to_string()));
                }
                self.step_completed
                    .push((execution_id, *idx, output.to_string(), at));
            }
            Effect::StepFailed {
                execution_id,
                idx,
                name,
                error,
                ..
            } => self.step_failed.push((execution_id, *idx, name, error, at)),
            Effect::StepCompensated {
                execution_id,
                idx,
                error,
                ..
            } => {
                let status = if error.is_some() {
                    StepState::CompensationFailed
                } else {
                    StepState::Compensated
                };
                self.step_compensated
                    .push((execution_id, *idx, status.as_str(), error.as_deref()));
            }
            Effect::ApprovalRefused {
                execution_id,
                epoch,
                reason,
            } => self.refused.push((execution_id, *epoch, reason)),
            Effect::ExecutionFinished {
                execution_id,
                epoch,
                status,
                error,
            } => self
                .finished
                .push((execution_id, *epoch, at, status.as_str(), error.as_deref())),
            // Placed by conversation, not by execution (`Plan::of`).
            Effect::ConversationTurn { .. } => {}
        }
    }

    /// Adds the wave's statements. Each change of `executions` must find its row at its epoch
    /// (which the fence rules out: it is checked all the same).
    fn add_to(&'a self, script: &mut Script<'a>) {
        script.rows(
            &self.started,
            "(?, ?, ?)",
            |values| {
                update_executions(
                    "status = 'running', started_at = COALESCE(started_at, v.column3), \
                     answered_hook_id = COALESCE(hook_id, answered_hook_id), \
                     hook_decision = CASE WHEN hook_id IS NULL THEN hook_decision ELSE 'approved' END, \
                     hook_id = NULL, hook_reason = NULL",
                    values,
                )
            },
            |q, (id, epoch, at)| {
                q.bind(*id).bind(*epoch).bind(*at);
            },
            true,
        );
        script.rows(
            &self.awaiting,
            "(?, ?, ?, ?)",
            |values| {
                update_executions(
                    "status = 'awaiting_approval', hook_id = v.column3, hook_reason = v.column4",
                    values,
                )
            },
            |q, (id, epoch, hook, reason)| {
                q.bind(*id).bind(*epoch).bind(*hook).bind(*reason);
            },
            true,
        );
        script.rows(
            &self.artifacts,
            "(?, ?, ?)",
            |values| update_executions("artifacts = v.column3", values),
            |q, (id, epoch, artifacts)| {
                q.bind(*id).bind(*epoch).bind(artifacts);
            },
            true,
        );
        script.rows(
            &self.refused,
            "(?, ?, ?)",
            |values| {
                update_executions(
                    "error = v.column3, answered_hook_id = hook_id, hook_decision = 'refused', \
                     hook_id = NULL, hook_reason = NULL",
                    values,
                )
            },
            |q, (id, epoch, reason)| {
                q.bind(*id).bind(*epoch).bind(*reason);
            },
            true,
        );
        script.rows(
            &self.finished,
            "(?, ?, ?, ?, ?)",
            |values| {
                update_executions(
                    "status = v.column4, error = v.column5, completed_at = v.column3, \
                     hook_id = NULL, hook_reason = NULL",
                    values,
                )
            },
            |q, (id, epoch, at, status, error)| {
                q.bind(*id)
                    .bind(*epoch)
                    .bind(*at)
                    .bind(*status)
                    .bind(*error);
            },
            true,
        );
        script.rows(
            &self.step_started,
            "(?, ?, ?, 'running', 1, ?)",
            |values| {
                format!(
                    "INSERT INTO execution_steps (execution_id, idx, name, status, attempts, started_at) \
                     VALUES {values} ON CONFLICT (execution_id, idx) DO UPDATE SET status = 'running', \
                     attempts = execution_steps.attempts + 1, started_at = excluded.started_at, error = NULL"
                )
            },
            |q, (id, idx, name, at)| {
                q.bind(*id).bind(*idx).bind(*name).bind(*at);
            },
            false,
        );
        script.rows(
            &self.step_completed,
            "(?, ?, ?, ?)",
            |values| {
                update_steps(
                    "status = 'completed', output = v.column3, completed_at = v.column4",
                    values,
                )
            },
            |q, (id, idx, output, at)| {
                q.bind(*id).bind(*idx).bind(output).bind(*at);
            },
            false,
        );
        script.rows(
            &self.step_failed,
            "(?, ?, ?, 'failed', ?, 0, ?)",
            |values| {
                format!(
                    "INSERT INTO execution_steps (execution_id, idx, name, status, error, attempts, completed_at) \
                     VALUES {values} ON CONFLICT (execution_id, idx) DO UPDATE SET status = 'failed', \
                     error = excluded.error, completed_at = excluded.completed_at"
                )
            },
            |q, (id, idx, name, error, at)| {
                q.bind(*id).bind(*idx).bind(*name).bind(*error).bind(*at);
            },
            false,
        );
        script.rows(
            &self.step_compensated,
            "(?, ?, ?, ?)",
            |values| {
                update_steps(
                    "status = v.column3, error = COALESCE(v.column4, error)",
                    values,
                )
            },
            |q, (id, idx, status, error)| {
                q.bind(*id).bind(*idx).bind(*status).bind(*error);
            },
            false,
        );
        add_turns(script, &self.turns);
    }
}
