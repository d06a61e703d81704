//! The states an execution and its steps go through, as types. The database and the wire keep
//! their lower-case strings (`as_str`, serde); nothing else compares those strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an execution is. `pending` → (`awaiting_approval` →) `running` → one of the three
/// terminal states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionState {
    Pending,
    AwaitingApproval,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl ExecutionState {
    pub const ALL: [ExecutionState; 6] = [
        ExecutionState::Pending,
        ExecutionState::AwaitingApproval,
        ExecutionState::Running,
        ExecutionState::Completed,
        ExecutionState::Failed,
        ExecutionState::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionState::Pending => "pending",
            ExecutionState::AwaitingApproval => "awaiting_approval",
            ExecutionState::Running => "running",
            ExecutionState::Completed => "completed",
            ExecutionState::Failed => "failed",
            ExecutionState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ExecutionState> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Completed, failed or cancelled: it will not change again.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecutionState::Completed | ExecutionState::Failed | ExecutionState::Cancelled
        )
    }
}

/// Where one step of an execution's saga is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Running,
    Completed,
    Failed,
    /// Undone after a later step failed.
    Compensated,
    /// Its undoing failed too (the error says why).
    CompensationFailed,
}

impl StepState {
    pub const ALL: [StepState; 5] = [
        StepState::Running,
        StepState::Completed,
        StepState::Failed,
        StepState::Compensated,
        StepState::CompensationFailed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            StepState::Running => "running",
            StepState::Completed => "completed",
            StepState::Failed => "failed",
            StepState::Compensated => "compensated",
            StepState::CompensationFailed => "compensation_failed",
        }
    }

    pub fn parse(s: &str) -> Option<StepState> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

impl fmt::Display for ExecutionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for StepState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored state that is none of ours: the row cannot be read.
pub(crate) fn undecodable(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {column} '{value}'").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_from_their_strings_and_serialize_as_them() {
        for state in ExecutionState::ALL {
            assert_eq!(ExecutionState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        for state in StepState::ALL {
            assert_eq!(StepState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(ExecutionState::parse("done"), None);
        let terminal: Vec<_> = ExecutionState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .map(ExecutionState::as_str)
            .collect();
        assert_eq!(terminal, ["completed", "failed", "cancelled"]);
    }

    /// The SQL filter for unfinished executions names exactly the states that are not terminal.
    #[test]
    fn the_unfinished_filter_is_every_state_not_terminal() {
        let mut in_sql: Vec<&str> = crate::store::executions::UNFINISHED
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        in_sql.sort_unstable();
        let mut not_terminal: Vec<&str> = ExecutionState::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .map(ExecutionState::as_str)
            .collect();
        not_terminal.sort_unstable();
        assert_eq!(in_sql, not_terminal);
    }
}
