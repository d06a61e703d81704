//! What the event log appends: a new event, the state change it reports (an [`Effect`] on an
//! execution or step, through its fence, or a conversation turn; committed with it) and what
//! became of it.

use serde_json::Value;

use super::rows::EventRow;
use super::states::ExecutionState;

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

/// A state change committed atomically with its event. Every effect on an execution is fenced
/// by the execution's epoch: a stale driver's write changes nothing.
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
        status: ExecutionState,
        error: Option<String>,
    },
    /// A turn of one of the event's session's conversations, stored after the conversation's
    /// last turn. Not fenced: a conversation belongs to no execution.
    ConversationTurn {
        conversation_id: String,
        role: String,
        content: String,
        data: Value,
    },
}

impl Effect {
    /// The execution the effect changes and the epoch it must still hold (none for a turn).
    pub fn target(&self) -> Option<(&str, i64)> {
        Some(match self {
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
            Effect::ConversationTurn { .. } => return None,
        })
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
