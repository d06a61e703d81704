//! Plain records as stored, decoded from rows of either backend.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::states::{undecodable, ExecutionState, StepState};

fn json(row: &AnyRow, col: &str) -> Result<Value, sqlx::Error> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn opt_json(row: &AnyRow, col: &str) -> Result<Option<Value>, sqlx::Error> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub status: String,
    pub metadata: Value,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set once an anonymous session is upgraded: the owner's new session id. This one then
    /// needs the owner's token (its id may be known to others: session fixation).
    pub superseded_by: Option<String>,
    /// On a successor: the anonymous session it continues.
    pub succeeds: Option<String>,
}

impl SessionRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            session_id: row.try_get("session_id")?,
            tenant_id: row.try_get("tenant_id")?,
            user_id: row.try_get("user_id")?,
            status: row.try_get("status")?,
            metadata: json(row, "metadata")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            superseded_by: row.try_get("superseded_by")?,
            succeeds: row.try_get("succeeds")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    pub execution_id: String,
    pub intent_id: String,
    pub intent_type: String,
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub solution_id: String,
    pub parameters: Value,
    pub metadata: Value,
    pub status: ExecutionState,
    pub error: Option<String>,
    pub artifacts: Option<Value>,
    pub hook_id: Option<String>,
    pub hook_reason: Option<String>,
    pub epoch: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub updated_at: i64,
    /// The request that submitted it, if known.
    pub request_id: Option<String>,
    /// That request's W3C trace context, when traces are exported.
    pub traceparent: Option<String>,
}

impl ExecutionRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            execution_id: row.try_get("execution_id")?,
            intent_id: row.try_get("intent_id")?,
            intent_type: row.try_get("intent_type")?,
            session_id: row.try_get("session_id")?,
            tenant_id: row.try_get("tenant_id")?,
            solution_id: row.try_get("solution_id")?,
            parameters: json(row, "parameters")?,
            metadata: json(row, "metadata")?,
            status: {
                let s: String = row.try_get("status")?;
                ExecutionState::parse(&s).ok_or_else(|| undecodable("execution status", &s))?
            },
            error: row.try_get("error")?,
            artifacts: opt_json(row, "artifacts")?,
            hook_id: row.try_get("hook_id")?,
            hook_reason: row.try_get("hook_reason")?,
            epoch: row.try_get("epoch")?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
            updated_at: row.try_get("updated_at")?,
            request_id: row.try_get("request_id")?,
            traceparent: row.try_get("traceparent")?,
        })
    }

    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub idx: i64,
    pub name: String,
    pub status: StepState,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub attempts: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

impl StepRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            idx: row.try_get("idx")?,
            name: row.try_get("name")?,
            status: {
                let s: String = row.try_get("status")?;
                StepState::parse(&s).ok_or_else(|| undecodable("step status", &s))?
            },
            output: opt_json(row, "output")?,
            error: row.try_get("error")?,
            attempts: row.try_get("attempts")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub event_id: String,
    pub session_id: String,
    pub seq: i64,
    pub event_type: String,
    pub execution_id: Option<String>,
    pub data: Value,
    pub created_at: i64,
}

impl EventRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            event_id: row.try_get("event_id")?,
            session_id: row.try_get("session_id")?,
            seq: row.try_get("seq")?,
            event_type: row.try_get("event_type")?,
            execution_id: row.try_get("execution_id")?,
            data: json(row, "data")?,
            created_at: row.try_get("created_at")?,
        })
    }
}
