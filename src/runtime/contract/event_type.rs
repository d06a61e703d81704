//! The types of the events the engine writes into a session's log. The log and the wire keep
//! their upper-case names (`as_str`); the engine names them through this type only.

use std::fmt;

macro_rules! event_types {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant,)*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }
        }
    };
}

event_types! {
    ExecutionStarted => "EXECUTION_STARTED",
    SafetyApprovalPending => "SAFETY_APPROVAL_PENDING",
    SafetyHalted => "SAFETY_HALTED",
    StepStarted => "STEP_STARTED",
    StepCompleted => "STEP_COMPLETED",
    StepFailed => "STEP_FAILED",
    StepCompensated => "STEP_COMPENSATED",
    ExecutionCompleted => "EXECUTION_COMPLETED",
    ExecutionFailed => "EXECUTION_FAILED",
    ExecutionCancelled => "EXECUTION_CANCELLED",
    ExecutionProgress => "EXECUTION_PROGRESS",
    AgentStarted => "AGENT_STARTED",
    AgentToken => "AGENT_TOKEN",
    AgentResponse => "AGENT_RESPONSE",
    AgentFailed => "AGENT_FAILED",
}

impl EventType {
    pub fn parse(s: &str) -> Option<EventType> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// The last event of an execution.
    pub const fn ends_execution(self) -> bool {
        matches!(
            self,
            EventType::ExecutionCompleted
                | EventType::ExecutionFailed
                | EventType::ExecutionCancelled
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_back_from_their_names() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("execution_started"), None);
        let ends: Vec<_> = EventType::ALL
            .iter()
            .filter(|t| t.ends_execution())
            .map(|t| t.as_str())
            .collect();
        assert_eq!(
            ends,
            [
                "EXECUTION_COMPLETED",
                "EXECUTION_FAILED",
                "EXECUTION_CANCELLED"
            ]
        );
    }
}
