//! ExecutionActor: one per running execution. It owns the execution's saga driver (a task, so
//! its `handle` never waits on step work), forwards cancel/approval to it, and stops cleanly
//! when the execution is terminal. The first actor of a new execution drives it at the epoch it
//! was stored with; any other (a restart, a resume) claims a new epoch, stops its predecessor's
//! driver and resumes from the store.

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::actors::panic::panic_text;
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::engine::context::RuntimeCtx;
use crate::runtime::engine::messages::ExecutionMsg;
use crate::runtime::engine::saga::{self, Control};
use crate::store::ExecutionRow;

/// Why an execution actor stopped at once: its execution does not exist (an ordinary exit:
/// nothing a restart could fix).
const EXECUTION_NOT_FOUND: &str = "execution not found";

pub struct ExecutionActor;

pub struct ExecutionArgs {
    pub ctx: RuntimeCtx,
    /// Its session (a claim is fenced by the session's partition).
    pub session_id: String,
    pub execution_id: String,
    /// The row just stored for a new execution (its steps: none yet), or `None` to claim and
    /// read it from the store.
    pub fresh: Option<Box<ExecutionRow>>,
}

pub struct ExecutionState {
    ctx: RuntimeCtx,
    session_id: String,
    execution_id: String,
    fresh: Option<Box<ExecutionRow>>,
    control: mpsc::UnboundedSender<Control>,
    driver_id: Option<tokio::task::Id>,
}

impl Actor for ExecutionActor {
    type Msg = ExecutionMsg;
    type State = ExecutionState;
    type Arguments = ExecutionArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: ExecutionArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(
            args.ctx.faults,
            format!("execution:{}", args.execution_id),
            myself,
            ExecutionMsg::Panic
        );
        // Nothing starts here: the driver starts in `post_start`, once this actor is linked to
        // its session, so a failed spawn can never leave a driver running without an actor.
        let (control, _) = mpsc::unbounded_channel();
        Ok(ExecutionState {
            ctx: args.ctx,
            session_id: args.session_id,
            execution_id: args.execution_id,
            fresh: args.fresh,
            control,
            driver_id: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let ctx = state.ctx.clone();
        let execution_id = state.execution_id.clone();
        let session_id = state.session_id.clone();
        // The stored row is only ours if no driver has taken the execution since: one that has
        // (a recovery scan that got there first) holds a newer epoch, and only a claim beats it.
        let fresh = state.fresh.take();
        let fresh = fresh.filter(|_| !ctx.drivers.contains_key(&execution_id));
        if let Some((_, previous)) = ctx.drivers.remove(&execution_id) {
            previous.abort();
        }
        let start = match fresh {
            Some(row) => saga::Start::Fresh(row),
            None => match ctx
                .store
                .claim_execution(&execution_id, ctx.ownership.session_fence(&session_id)?)
                .await?
            {
                Some(epoch) => saga::Start::Claimed(epoch),
                None => {
                    // Nothing to drive (and nothing a restart could fix).
                    myself.stop(Some(EXECUTION_NOT_FOUND.into()));
                    return Ok(());
                }
            },
        };
        let (control, rx) = mpsc::unbounded_channel();
        let span = tracing::info_span!(
            "execution",
            session_id = tracing::field::Empty,
            request_id = tracing::field::Empty,
            %execution_id,
            epoch = start.epoch()
        );
        let driver = tokio::spawn(
            saga::drive(ctx.clone(), execution_id.clone(), start, rx).instrument(span),
        );
        let handle = driver.abort_handle();
        state.driver_id = Some(handle.id());
        ctx.drivers.insert(execution_id, handle);
        state.control = control;
        tokio::spawn(async move {
            let outcome = match driver.await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("driver failed: {e:?}")),
                Err(join) if join.is_panic() => Some(format!(
                    "driver panicked: {}",
                    panic_text(&join.into_panic())
                )),
                // Aborted (a newer incarnation took over, or shutdown): this actor is done.
                Err(_) => None,
            };
            let _ = myself.send_message(ExecutionMsg::DriverDone(outcome));
        });
        Ok(())
    }

    /// Stopped from outside while its driver runs: the driver stops too. (Killed with its
    /// session, this does not run: the session's `post_stop` stops its drivers. A panic skips
    /// it too; the next incarnation aborts the driver it finds.)
    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(mine) = state.driver_id {
            if let Some((_, driver)) = state
                .ctx
                .drivers
                .remove_if(&state.execution_id, |_, h| h.id() == mine)
            {
                driver.abort();
            }
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            #[cfg(feature = "fault-injection")]
            ExecutionMsg::Panic => panic!("fault injected into execution {}", state.execution_id),
            ExecutionMsg::Cancel(reply) => {
                if let Err(mpsc::error::SendError(Control::Cancel(reply))) =
                    state.control.send(Control::Cancel(reply))
                {
                    let _ = reply.send(Err(finished()));
                }
            }
            ExecutionMsg::Approve {
                hook_id,
                approved,
                reason,
                reply,
            } => {
                let ctl = Control::Approve {
                    hook_id,
                    approved,
                    reason,
                    reply,
                };
                if let Err(mpsc::error::SendError(Control::Approve { reply, .. })) =
                    state.control.send(ctl)
                {
                    let _ = reply.send(Err(finished()));
                }
            }
            ExecutionMsg::DriverDone(None) => {
                // Only our own entry: a newer incarnation's driver may be registered by now.
                if let Some(mine) = state.driver_id {
                    state
                        .ctx
                        .drivers
                        .remove_if(&state.execution_id, |_, h| h.id() == mine);
                }
                myself.stop(None);
            }
            ExecutionMsg::DriverDone(Some(why)) => {
                tracing::error!(execution_id = %state.execution_id, %why, "execution driver failed");
                return Err(why.into());
            }
        }
        Ok(())
    }
}

fn finished() -> RuntimeError {
    RuntimeError::conflict("execution_finished", "the execution has already finished")
}
