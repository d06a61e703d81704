//! The saga driver: runs one execution's steps in order, outside any actor's `handle`.
//!
//! Every state change is an event committed together with its effect (see `store::events`), and
//! every write is fenced by the epoch this driver claimed, so: a completed step is recorded
//! exactly once and never run again; a crash at any point resumes from the last completed step;
//! a stale driver (from before an actor restart) can no longer write anything.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use ractor::RpcReplyPort;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::actors::panic::panic_text;
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::event_type::EventType;
use crate::runtime::engine::context::RuntimeCtx;
use crate::runtime::engine::event_log::Item;
use crate::runtime::engine::handler::{SagaStep, StepContext, StepError};
use crate::runtime::engine::progress::{Progress, ProgressSink};
use crate::store::time::now_micros;
use crate::store::{AppendOutcome, Effect, ExecutionRow, NewEvent, StepRow};
use crate::store::{ExecutionState, StepState};
use crate::telemetry::names;

/// Requests an execution actor passes to its driver.
pub enum Control {
    Cancel(RpcReplyPort<Result<(), RuntimeError>>),
    Approve {
        hook_id: String,
        approved: bool,
        reason: Option<String>,
        reply: RpcReplyPort<Result<(), RuntimeError>>,
    },
}

/// The driver lost ownership of the execution (a newer driver holds it): stop quietly.
struct Fenced;

enum DriveError {
    Fenced,
    Runtime(RuntimeError),
}

impl From<Fenced> for DriveError {
    fn from(_: Fenced) -> Self {
        DriveError::Fenced
    }
}

impl From<RuntimeError> for DriveError {
    fn from(e: RuntimeError) -> Self {
        DriveError::Runtime(e)
    }
}

impl From<crate::store::StoreError> for DriveError {
    fn from(e: crate::store::StoreError) -> Self {
        DriveError::Runtime(e.into())
    }
}

struct Driver {
    ctx: RuntimeCtx,
    exec: ExecutionRow,
    epoch: i64,
    control: mpsc::UnboundedReceiver<Control>,
    /// Events recorded but not yet sent: they go with the next one, in one commit.
    staged: Vec<Item>,
    /// The execution's start and its first step's start were committed with its intake
    /// ([`opening`]): the first step runs (attempt 1) without recording them again.
    opened: bool,
}

/// How a driver comes to own its execution.
pub enum Start {
    /// A new execution, as just stored (at its first epoch, with no step rows but, when it is
    /// `running`, its first step's start: see [`opening`]).
    Fresh(Box<ExecutionRow>),
    /// An existing one, claimed at this epoch: read it from the store.
    Claimed(i64),
}

impl Start {
    pub fn epoch(&self) -> i64 {
        match self {
            Start::Fresh(row) => row.epoch,
            Start::Claimed(epoch) => *epoch,
        }
    }
}

/// Runs the execution to a terminal state (or until fenced out). `Err` means an infrastructure
/// failure (database, event log): the execution actor fails and its supervisor restarts it.
pub async fn drive(
    ctx: RuntimeCtx,
    execution_id: String,
    start: Start,
    control: mpsc::UnboundedReceiver<Control>,
) -> Result<(), RuntimeError> {
    let epoch = start.epoch();
    let fresh = matches!(start, Start::Fresh(_));
    // Only a new execution stored with its opening events is `running` when fresh.
    let opened = matches!(&start, Start::Fresh(row) if row.status == ExecutionState::Running);
    // Read after the claim: whatever a fenced predecessor wrote before it is in this row.
    let (exec, steps) = match start {
        Start::Fresh(row) => (*row, Some(Vec::new())),
        Start::Claimed(_) => match ctx.store.get_execution(&execution_id).await? {
            Some(row) => (row, None),
            None => return Err(RuntimeError::not_found("execution")),
        },
    };
    tracing::Span::current().record("session_id", exec.session_id.as_str());
    if let Some(r) = &exec.request_id {
        tracing::Span::current().record("request_id", r.as_str());
    }
    if exec.is_terminal() {
        return Ok(());
    }
    // Picked up again while it was running (a restart, a takeover): resumed. A first start
    // is counted when it is recorded (`ExecutionStarted`).
    if exec.status == ExecutionState::Running && !opened {
        metrics::counter!(names::EXECUTIONS_RESUMED, "intent_type" => exec.intent_type.clone())
            .increment(1);
        tracing::info!(
            execution_id = %exec.execution_id,
            intent_type = %exec.intent_type,
            fresh_actor = fresh,
            "execution resumed"
        );
    }
    let mut driver = Driver {
        ctx,
        exec,
        epoch,
        control,
        staged: Vec::new(),
        opened,
    };
    // The run, in its submitter's trace when traces are exported (the execution's own span
    // began before its row, and so its traceparent, was read).
    let run_span = crate::telemetry::logging::span_in_trace(
        tracing::info_span!(
            "run",
            execution_id = %driver.exec.execution_id,
            intent_type = %driver.exec.intent_type,
            request_id = driver.exec.request_id.as_deref().unwrap_or("-")
        ),
        driver.exec.traceparent.as_deref(),
    );
    match tracing::Instrument::instrument(driver.run(steps), run_span).await {
        Ok(()) | Err(DriveError::Fenced) => Ok(()),
        Err(DriveError::Runtime(e)) => Err(e),
    }
}

enum Ending {
    Completed,
    Failed { step: String, error: String },
    Cancelled(String),
}

impl Driver {
    /// `known_steps`: the step rows when the caller knows them (a new execution has none).
    async fn run(&mut self, known_steps: Option<Vec<StepRow>>) -> Result<(), DriveError> {
        let Some(handler) = self.ctx.handlers.get(&self.exec.intent_type) else {
            let error = format!(
                "no handler is registered for intent type '{}'",
                self.exec.intent_type
            );
            return self.fail_before_start(error).await;
        };
        // A handler bug must fail this execution, not the actors around it.
        let params = self.exec.parameters.clone();
        let planned = std::panic::catch_unwind(AssertUnwindSafe(|| handler.plan(&params)));
        let (steps, approval) = match planned {
            Ok(p) => p,
            Err(panic) => {
                let error = format!("the intent handler panicked: {}", panic_text(&panic));
                return self.fail_before_start(error).await;
            }
        };
        let rows = match known_steps {
            Some(rows) => rows,
            None => self.ctx.store.get_steps(&self.exec.execution_id).await?,
        };

        // Recovery: a step recorded as failed means we crashed while compensating.
        if let Some(failed) = rows.iter().find(|r| r.status == StepState::Failed) {
            let error = failed.error.clone().unwrap_or_default();
            let ending = if error == CANCELLED {
                Ending::Cancelled("cancelled".into())
            } else {
                Ending::Failed {
                    step: failed.name.clone(),
                    error,
                }
            };
            self.compensate_all(&steps, &rows).await?;
            return self.finish(ending).await;
        }

        if self.exec.status == ExecutionState::Pending {
            if let Some(reason) = approval {
                let hook_id = uuid::Uuid::new_v4().to_string();
                let data = json!({"hook_id": hook_id, "execution_id": self.exec.execution_id,
                    "intent_type": self.exec.intent_type, "reason": reason});
                let effect = Effect::AwaitingApproval {
                    execution_id: self.exec.execution_id.clone(),
                    epoch: self.epoch,
                    hook_id: hook_id.clone(),
                    reason: reason.clone(),
                };
                self.emit(
                    EventType::SafetyApprovalPending,
                    "approval",
                    data,
                    Some(effect),
                )
                .await?;
                self.exec.status = ExecutionState::AwaitingApproval;
                self.exec.hook_id = Some(hook_id);
                self.exec.hook_reason = Some(reason);
            }
        }
        let mut approved_reply = None;
        if self.exec.status == ExecutionState::AwaitingApproval {
            if self.exec.hook_id.is_none() {
                // The refusal was recorded before a crash: finish it.
                let reason = self
                    .exec
                    .error
                    .clone()
                    .unwrap_or_else(|| "approval refused".into());
                return self.finish(Ending::Cancelled(reason)).await;
            }
            match self.await_approval().await? {
                Decision::Approved(reply) => approved_reply = Some(reply),
                Decision::Refused(reply, reason) => {
                    let effect = Effect::ApprovalRefused {
                        execution_id: self.exec.execution_id.clone(),
                        epoch: self.epoch,
                        reason: reason.clone(),
                    };
                    let data = json!({"hook_id": self.exec.hook_id, "execution_id": self.exec.execution_id,
                        "intent_type": self.exec.intent_type, "reason": reason});
                    self.emit(EventType::SafetyHalted, "halted", data, Some(effect))
                        .await?;
                    let _ = reply.send(Ok(()));
                    return self.finish(Ending::Cancelled(reason)).await;
                }
                Decision::Cancelled(reply) => {
                    self.finish(Ending::Cancelled("cancelled".into())).await?;
                    let _ = reply.send(Ok(()));
                    return Ok(());
                }
            }
        }
        if self.opened {
            started_log(&self.exec);
        }
        if self.exec.status != ExecutionState::Running {
            started_log(&self.exec);
            let effect = Effect::ExecutionStarted {
                execution_id: self.exec.execution_id.clone(),
                epoch: self.epoch,
            };
            let data = json!({"execution_id": self.exec.execution_id, "intent_type": self.exec.intent_type});
            if approved_reply.is_some() {
                self.emit(EventType::ExecutionStarted, "started", data, Some(effect))
                    .await?;
            } else {
                // Committed with the first step's start (or the ending, for no steps): one
                // commit fewer, and nothing runs before either is durable.
                self.stage(EventType::ExecutionStarted, "started", data, Some(effect));
            }
            self.exec.status = ExecutionState::Running;
        }
        // An approval is answered once it is durable (the execution has started).
        if let Some(reply) = approved_reply {
            let _ = reply.send(Ok(()));
        }

        let mut outputs = BTreeMap::new();
        let mut artifacts = match &self.exec.artifacts {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let mut done: Vec<StepRow> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let row = rows.iter().find(|r| r.idx == i as i64);
            if let Some(row) = row.filter(|r| r.status == StepState::Completed) {
                outputs.insert(row.name.clone(), row.output.clone().unwrap_or(Value::Null));
                done.push(row.clone());
                continue;
            }
            let attempt = row.map_or(0, |r| r.attempts) + 1;
            let name = step.name().to_string();
            if attempt > MAX_STEP_ATTEMPTS {
                // Poison: each run of this step so far ended with the process (or its actor)
                // gone. Resuming it again would loop; it fails instead, and compensation runs.
                let error = format!(
                    "the step '{name}' was interrupted {} times (the server stopped or crashed \
                     while it ran); it is not tried again",
                    attempt - 1
                );
                self.record_step_failure(i, &name, &error).await?;
                self.compensate_all(&steps, &done).await?;
                return self.finish(Ending::Failed { step: name, error }).await;
            }
            if std::mem::take(&mut self.opened) {
                // Its start is stored already (attempt 1, with the intake).
            } else {
                let (key, data, effect) = step_start(&self.exec, self.epoch, i, &name, attempt);
                self.emit(EventType::StepStarted, &key, data, Some(effect))
                    .await?;
            }

            let ctx = self.step_context(outputs.clone(), attempt, &name);
            let step_started = std::time::Instant::now();
            let run = self.run_step(step.clone(), ctx).await;
            let outcome = match &run {
                StepRun::Done(Ok(_)) => "ok",
                StepRun::Done(Err(_)) => "error",
                StepRun::Cancelled(_) => "cancelled",
            };
            metrics::histogram!(names::STEP_SECONDS, "intent_type" => self.exec.intent_type.clone(),
                "step" => name.clone(), "outcome" => outcome)
            .record(step_started.elapsed().as_secs_f64());
            match run {
                StepRun::Done(Ok(out)) => {
                    crate::failpoint!(crate::failpoints::SAGA_BEFORE_STEP_RECORD);
                    let new_artifacts = !out.artifacts.is_empty();
                    artifacts.extend(out.artifacts);
                    let effect = Effect::StepCompleted {
                        execution_id: self.exec.execution_id.clone(),
                        epoch: self.epoch,
                        idx: i as i64,
                        output: out.output.clone(),
                        artifacts: new_artifacts.then(|| Value::Object(artifacts.clone())),
                    };
                    let data = json!({"execution_id": self.exec.execution_id,
                        "intent_type": self.exec.intent_type, "step": name, "step_index": i});
                    let key = format!("step:{i}:completed");
                    if i + 1 == steps.len() {
                        // The last step's record is committed with the execution's ending.
                        self.stage(EventType::StepCompleted, &key, data, Some(effect));
                    } else {
                        self.emit(EventType::StepCompleted, &key, data, Some(effect))
                            .await?;
                    }
                    outputs.insert(name.clone(), out.output.clone());
                    done.push(StepRow {
                        idx: i as i64,
                        name,
                        status: StepState::Completed,
                        output: Some(out.output),
                        error: None,
                        attempts: attempt,
                        started_at: None,
                        completed_at: None,
                    });
                }
                StepRun::Done(Err(err)) => {
                    self.record_step_failure(i, &name, &err.0).await?;
                    self.compensate_all(&steps, &done).await?;
                    return self
                        .finish(Ending::Failed {
                            step: name,
                            error: err.0,
                        })
                        .await;
                }
                StepRun::Cancelled(reply) => {
                    // The cancel is durable once recorded; compensation follows.
                    self.record_step_failure(i, &name, CANCELLED).await?;
                    let _ = reply.send(Ok(()));
                    self.compensate_all(&steps, &done).await?;
                    return self.finish(Ending::Cancelled("cancelled".into())).await;
                }
            }
            if i + 1 < steps.len() {
                if let Some(reply) = self.cancel_requested() {
                    // Recorded on the next step so that a crash during compensation resumes as
                    // a cancellation, not as a run.
                    let next = steps[i + 1].name().to_string();
                    self.record_step_failure(i + 1, &next, CANCELLED).await?;
                    let _ = reply.send(Ok(()));
                    self.compensate_all(&steps, &done).await?;
                    return self.finish(Ending::Cancelled("cancelled".into())).await;
                }
            }
        }
        self.exec.artifacts = Some(Value::Object(artifacts));
        self.finish(Ending::Completed).await
    }

    /// Fails an execution whose steps cannot even be planned (no handler, handler panic).
    async fn fail_before_start(&mut self, error: String) -> Result<(), DriveError> {
        self.finish(Ending::Failed {
            step: String::new(),
            error,
        })
        .await
    }

    fn step_context(
        &self,
        outputs: BTreeMap<String, Value>,
        attempt: i64,
        step: &str,
    ) -> StepContext {
        let sink = ProgressEvents {
            events: self.ctx.events.clone(),
            session_id: self.exec.session_id.clone(),
            execution_id: self.exec.execution_id.clone(),
            intent_type: self.exec.intent_type.clone(),
            step: step.to_string(),
            attempt,
            n: std::sync::atomic::AtomicU64::new(0),
        };
        StepContext {
            progress: Progress::new(Arc::new(sink), self.ctx.config.progress_interval),
            execution_id: self.exec.execution_id.clone(),
            session_id: self.exec.session_id.clone(),
            tenant_id: self.exec.tenant_id.clone(),
            intent_type: self.exec.intent_type.clone(),
            parameters: self.exec.parameters.clone(),
            metadata: self.exec.metadata.clone(),
            outputs,
            attempt,
            services: self.ctx.services.clone(),
        }
    }

    /// Runs a step while answering control messages; a cancel drops the step's future, unless
    /// the step cannot be interrupted (then the cancel is refused and the step finishes).
    async fn run_step(&mut self, step: Arc<dyn SagaStep>, ctx: StepContext) -> StepRun {
        let interruptible = step.interruptible();
        let step_name = step.name().to_string();
        let fut = async move {
            AssertUnwindSafe(step.run(&ctx))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    Err(StepError::new(format!(
                        "step panicked: {}",
                        panic_text(&panic)
                    )))
                })
        };
        tokio::pin!(fut);
        loop {
            tokio::select! {
                // A step that finished wins over a cancel that arrived at the same time.
                biased;
                result = &mut fut => return StepRun::Done(result),
                msg = self.control.recv() => match msg {
                    Some(Control::Cancel(reply)) if interruptible => return StepRun::Cancelled(reply),
                    Some(Control::Cancel(reply)) => {
                        let _ = reply.send(Err(RuntimeError::conflict(
                            "not_cancellable",
                            format!("the execution is in its '{step_name}' step, which cannot be \
                                interrupted; it will complete"),
                        )));
                    }
                    Some(Control::Approve { reply, .. }) => {
                        let _ = reply.send(Err(RuntimeError::conflict(
                            "not_awaiting_approval", "the execution is not awaiting approval")));
                    }
                    None => return StepRun::Done(fut.await),
                },
            }
        }
    }

    /// A cancel waiting in the control channel, if any (approvals are refused: not waiting).
    fn cancel_requested(&mut self) -> Option<RpcReplyPort<Result<(), RuntimeError>>> {
        while let Ok(msg) = self.control.try_recv() {
            match msg {
                Control::Cancel(reply) => return Some(reply),
                Control::Approve { reply, .. } => {
                    let _ = reply.send(Err(RuntimeError::conflict(
                        "not_awaiting_approval",
                        "the execution is not awaiting approval",
                    )));
                }
            }
        }
        None
    }

    /// Waits for the approval decision; the caller answers it once the decision is stored.
    async fn await_approval(&mut self) -> Result<Decision, DriveError> {
        let hook_id = self.exec.hook_id.clone().unwrap_or_default();
        loop {
            match self.control.recv().await {
                Some(Control::Cancel(reply)) => return Ok(Decision::Cancelled(reply)),
                Some(Control::Approve {
                    hook_id: given,
                    approved,
                    reason,
                    reply,
                }) => {
                    if given != hook_id {
                        let _ = reply.send(Err(RuntimeError::not_found("hook")));
                        continue;
                    }
                    if approved {
                        return Ok(Decision::Approved(reply));
                    }
                    let reason = format!(
                        "approval refused: {}",
                        reason.unwrap_or_else(|| "no reason given".into())
                    );
                    return Ok(Decision::Refused(reply, reason));
                }
                // The actor is gone; a new driver will take over.
                None => return Err(DriveError::Fenced),
            }
        }
    }

    async fn record_step_failure(
        &mut self,
        i: usize,
        name: &str,
        error: &str,
    ) -> Result<(), DriveError> {
        let effect = Effect::StepFailed {
            execution_id: self.exec.execution_id.clone(),
            epoch: self.epoch,
            idx: i as i64,
            name: name.to_string(),
            error: error.to_string(),
        };
        let data = json!({"execution_id": self.exec.execution_id, "intent_type": self.exec.intent_type,
            "step": name, "step_index": i, "error": error});
        self.emit(
            EventType::StepFailed,
            &format!("step:{i}:failed"),
            data,
            Some(effect),
        )
        .await
    }

    /// Compensates the completed steps in reverse order (each at most once, recorded).
    async fn compensate_all(
        &mut self,
        steps: &[Arc<dyn SagaStep>],
        rows: &[StepRow],
    ) -> Result<(), DriveError> {
        let mut completed: Vec<&StepRow> = rows
            .iter()
            .filter(|r| r.status == StepState::Completed)
            .collect();
        completed.sort_by_key(|r| std::cmp::Reverse(r.idx));
        for row in completed {
            let Some(step) = steps.get(row.idx as usize).cloned() else {
                continue;
            };
            let ctx = self.step_context(BTreeMap::new(), row.attempts, &row.name);
            let output = row.output.clone().unwrap_or(Value::Null);
            let result = AssertUnwindSafe(async move { step.compensate(&ctx, &output).await })
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    Err(StepError::new(format!(
                        "compensation panicked: {}",
                        panic_text(&panic)
                    )))
                });
            let error = result.err().map(|e| e.0);
            if let Some(e) = &error {
                tracing::warn!(step = %row.name, error = %e, "compensation failed");
            }
            let effect = Effect::StepCompensated {
                execution_id: self.exec.execution_id.clone(),
                epoch: self.epoch,
                idx: row.idx,
                error: error.clone(),
            };
            let data = json!({"execution_id": self.exec.execution_id, "intent_type": self.exec.intent_type,
                "step": row.name, "step_index": row.idx, "error": error});
            self.emit(
                EventType::StepCompensated,
                &format!("step:{}:compensated", row.idx),
                data,
                Some(effect),
            )
            .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, ending: Ending) -> Result<(), DriveError> {
        let base =
            json!({"execution_id": self.exec.execution_id, "intent_type": self.exec.intent_type});
        let (event_type, status, error, mut data) = match ending {
            Ending::Completed => {
                let mut d = base;
                d["artifacts"] = self.exec.artifacts.clone().unwrap_or_else(|| json!({}));
                (
                    EventType::ExecutionCompleted,
                    ExecutionState::Completed,
                    None,
                    d,
                )
            }
            Ending::Failed { step, error } => {
                let mut d = base;
                d["step"] = json!(step);
                d["error"] = json!(error);
                (
                    EventType::ExecutionFailed,
                    ExecutionState::Failed,
                    Some(error),
                    d,
                )
            }
            Ending::Cancelled(reason) => {
                let mut d = base;
                d["message"] = json!(reason);
                (
                    EventType::ExecutionCancelled,
                    ExecutionState::Cancelled,
                    Some(reason),
                    d,
                )
            }
        };
        data["status"] = json!(status);
        let took = (now_micros() - self.exec.created_at).max(0) as f64 / 1e6;
        let failure = error.clone().filter(|_| status == ExecutionState::Failed);
        let effect = Effect::ExecutionFinished {
            execution_id: self.exec.execution_id.clone(),
            epoch: self.epoch,
            status,
            error,
        };
        self.emit(event_type, "finished", data, Some(effect))
            .await?;
        // Counted once the end is durable (a fenced or failed write is finished by another run).
        metrics::counter!(names::EXECUTIONS_FINISHED, "intent_type" => self.exec.intent_type.clone(),
            "status" => status.as_str())
        .increment(1);
        metrics::histogram!(names::EXECUTION_SECONDS, "intent_type" => self.exec.intent_type.clone(),
            "status" => status.as_str())
        .record(took);
        match failure {
            Some(e) => tracing::info!(
                execution_id = %self.exec.execution_id,
                intent_type = %self.exec.intent_type,
                duration_ms = (took * 1000.0) as u64,
                error = %e,
                "execution failed"
            ),
            None => tracing::info!(
                execution_id = %self.exec.execution_id,
                intent_type = %self.exec.intent_type,
                duration_ms = (took * 1000.0) as u64,
                status = status.as_str(),
                "execution finished"
            ),
        }
        Ok(())
    }

    /// Records an event (with its effect) to be committed with the next one emitted.
    fn stage(&mut self, event_type: EventType, key: &str, data: Value, effect: Option<Effect>) {
        let event = execution_event(
            &self.exec.session_id,
            &self.exec.execution_id,
            event_type,
            key,
            data,
        );
        self.staged.push((event, effect));
    }

    /// Commits the staged events and this one, in order, in one transaction.
    async fn emit(
        &mut self,
        event_type: EventType,
        key: &str,
        data: Value,
        effect: Option<Effect>,
    ) -> Result<(), DriveError> {
        self.stage(event_type, key, data, effect);
        let items = std::mem::take(&mut self.staged);
        let outcomes = self.ctx.events.append_all(items).await?;
        if outcomes.iter().any(|o| matches!(o, AppendOutcome::Fenced)) {
            return Err(Fenced.into());
        }
        Ok(())
    }
}

/// An event of an execution, its key unique in the execution (`key`).
fn execution_event(
    session_id: &str,
    execution_id: &str,
    event_type: EventType,
    key: &str,
    data: Value,
) -> NewEvent {
    NewEvent {
        event_id: crate::store::ids::ordered_id(),
        session_id: session_id.to_string(),
        event_type: event_type.as_str().to_string(),
        execution_id: Some(execution_id.to_string()),
        event_key: Some(format!("{execution_id}:{key}")),
        data,
        created_at: now_micros(),
    }
}

/// A step's start: its event key, data and effect.
fn step_start(
    exec: &ExecutionRow,
    epoch: i64,
    i: usize,
    name: &str,
    attempt: i64,
) -> (String, Value, Effect) {
    let data = json!({"execution_id": exec.execution_id, "intent_type": exec.intent_type,
        "step": name, "step_index": i, "attempt": attempt});
    let effect = Effect::StepStarted {
        execution_id: exec.execution_id.clone(),
        epoch,
        idx: i as i64,
        name: name.to_string(),
    };
    (format!("step:{i}:started:{attempt}"), data, effect)
}

fn started_log(exec: &ExecutionRow) {
    metrics::counter!(names::EXECUTIONS_STARTED, "intent_type" => exec.intent_type.clone())
        .increment(1);
    tracing::info!(
        execution_id = %exec.execution_id,
        intent_type = %exec.intent_type,
        session_id = %exec.session_id,
        "execution started"
    );
}

/// The opening of a new execution that can start at once (its handler plans at least one step
/// and asks for no approval): `EXECUTION_STARTED` and its first step's `STEP_STARTED`, the
/// same events its driver would record first, to be committed with its intake — one commit
/// fewer per intent, and none before its first step runs. `row` is the execution as stored
/// (`pending`); it comes back as it will be once they are committed (`running`). `None`: the
/// driver records its start itself (a handler that panics fails there, as an execution).
pub fn opening(ctx: &RuntimeCtx, row: &mut ExecutionRow) -> Option<Vec<Item>> {
    let handler = ctx.handlers.get(&row.intent_type)?;
    let params = &row.parameters;
    let (steps, approval) =
        std::panic::catch_unwind(AssertUnwindSafe(|| handler.plan(params))).ok()?;
    let first = steps.first()?.name().to_string();
    if approval.is_some() {
        return None;
    }
    let started = execution_event(
        &row.session_id,
        &row.execution_id,
        EventType::ExecutionStarted,
        "started",
        json!({"execution_id": row.execution_id, "intent_type": row.intent_type}),
    );
    let effect = Effect::ExecutionStarted {
        execution_id: row.execution_id.clone(),
        epoch: row.epoch,
    };
    let (key, data, step_effect) = step_start(row, row.epoch, 0, &first, 1);
    let step = execution_event(
        &row.session_id,
        &row.execution_id,
        EventType::StepStarted,
        &key,
        data,
    );
    row.status = ExecutionState::Running;
    row.started_at = Some(started.created_at);
    row.updated_at = step.created_at;
    Some(vec![(started, Some(effect)), (step, Some(step_effect))])
}

enum StepRun {
    Done(Result<crate::runtime::engine::handler::StepOutput, StepError>),
    Cancelled(RpcReplyPort<Result<(), RuntimeError>>),
}

enum Decision {
    Approved(RpcReplyPort<Result<(), RuntimeError>>),
    Refused(RpcReplyPort<Result<(), RuntimeError>>, String),
    Cancelled(RpcReplyPort<Result<(), RuntimeError>>),
}

/// Runs of one step that may start (the first, and re-runs after interruptions) before the
/// step is failed as poison: a step that takes the process down every time must not be resumed
/// forever. Five, so that a few restarts for other reasons (a deploy, a crash elsewhere) while
/// a long step runs do not fail it.
pub const MAX_STEP_ATTEMPTS: i64 = 5;

/// The error recorded on a step interrupted by a cancel.
const CANCELLED: &str = "cancelled";

/// A step's progress, written as `EXECUTION_PROGRESS` events of its execution.
struct ProgressEvents {
    events: crate::runtime::engine::event_log::EventLogHandle,
    session_id: String,
    execution_id: String,
    intent_type: String,
    step: String,
    attempt: i64,
    n: std::sync::atomic::AtomicU64,
}

#[async_trait::async_trait]
impl ProgressSink for ProgressEvents {
    async fn emit(&self, mut data: Value) {
        let n = self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        data["execution_id"] = json!(self.execution_id);
        data["intent_type"] = json!(self.intent_type);
        data["step"] = json!(self.step);
        let event = NewEvent {
            event_id: crate::store::ids::ordered_id(),
            session_id: self.session_id.clone(),
            event_type: EventType::ExecutionProgress.as_str().to_string(),
            execution_id: Some(self.execution_id.clone()),
            event_key: Some(format!(
                "{}:progress:{}:{}:{n}",
                self.execution_id, self.step, self.attempt
            )),
            data,
            created_at: now_micros(),
        };
        // Progress is advice: a slow or failed write is given up (logged), the step goes on.
        match tokio::time::timeout(
            std::time::Duration::from_secs(2),
            self.events.append(event, None),
        )
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "progress event not stored"),
            Err(_) => tracing::debug!("progress event not stored in time"),
        }
    }
}
