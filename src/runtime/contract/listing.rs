//! Visibility over the wire: listing executions and sessions, filtered, newest first, by
//! opaque cursor pages. A query is checked here (limits, times, statuses) and becomes the
//! store's filter.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::RuntimeError;
use super::model::{PendingHook, Session};
use crate::store::listing::{Cursor, ExecutionFilter, SessionFilter};
use crate::store::rows::ExecutionRow;
use crate::store::time::to_rfc3339;
use crate::store::ExecutionState;

/// Rows a page holds by default, and at most.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExecutionQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_type: Option<String>,
    /// RFC 3339: created at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// RFC 3339: created before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One execution in a listing (its status without artifacts and events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionSummary {
    pub execution_id: String,
    pub intent_id: String,
    pub intent_type: String,
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub status: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub error: Option<String>,
    /// The execution this one retries, if it is a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
    /// The request that submitted it, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The approval it waits on, while `awaiting_approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<PendingHook>,
}

impl From<ExecutionRow> for ExecutionSummary {
    fn from(r: ExecutionRow) -> Self {
        ExecutionSummary {
            hook: PendingHook::of(&r),
            retry_of: r.metadata["retry_of"].as_str().map(String::from),
            execution_id: r.execution_id,
            intent_id: r.intent_id,
            intent_type: r.intent_type,
            session_id: r.session_id,
            tenant_id: r.tenant_id,
            status: r.status.as_str().to_string(),
            created_at: to_rfc3339(r.created_at),
            started_at: r.started_at.map(to_rfc3339),
            completed_at: r.completed_at.map(to_rfc3339),
            error: r.error,
            request_id: r.request_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionPage {
    pub executions: Vec<ExecutionSummary>,
    /// Pass it as `cursor` for the next page; absent on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A page of a parsed file's records, read without an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordPage {
    pub parsed_file_id: String,
    /// The records, in file order (each as the parse stored it).
    pub records: Vec<Value>,
    /// The index of the first record of this page.
    pub offset: i64,
    /// How many records the parse holds, when it says.
    pub record_count: Option<u64>,
    /// Pass it as `cursor` for the next page; absent on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Records a page holds by default, and at most.
pub const DEFAULT_RECORDS: i64 = 100;
pub const MAX_RECORDS: i64 = 500;

/// A record page's query: `cursor` (a previous page's `next_cursor`) and `limit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl RecordQuery {
    /// The first record's index and the page size.
    pub fn parse(&self) -> Result<(i64, i64), RuntimeError> {
        let offset = match text(&self.cursor) {
            None => 0,
            Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix("r:").and_then(|n| n.parse::<i64>().ok()))
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    RuntimeError::invalid("cursor", "is not a cursor this server gave")
                })?,
        };
        let limit = match self.limit {
            None => DEFAULT_RECORDS,
            Some(n) if (1..=MAX_RECORDS).contains(&n) => n,
            Some(_) => {
                return Err(RuntimeError::invalid(
                    "limit",
                    format!("must be from 1 to {MAX_RECORDS}"),
                ))
            }
        };
        Ok((offset, limit))
    }
}

/// The cursor of the record page starting at `offset`.
pub fn record_cursor(offset: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("r:{offset}"))
}

/// Keeps a listing to the caller's tenant: a scope's tenant is the filter, and a filter
/// naming another tenant is 404.
pub fn scope_tenant(
    scope: &super::model::Scope,
    filter: &mut Option<String>,
) -> Result<(), RuntimeError> {
    if let super::model::Scope::Tenant(t) = scope {
        match filter {
            Some(asked) if asked != t => return Err(RuntimeError::not_found("tenant")),
            _ => *filter = Some(t.clone()),
        }
    }
    Ok(())
}

/// A page from rows read with one more than `limit` (whether there is a next page): the rows
/// kept, and the cursor after the last of them when more follow.
pub fn page_of<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(&cursor_of(r)))
    } else {
        None
    };
    (rows, next)
}

/// A cursor as clients see it: opaque text.
pub fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", c.created_at, c.id))
}

fn decode_cursor(text: &str) -> Result<Cursor, RuntimeError> {
    let bad = || RuntimeError::invalid("cursor", "is not a cursor this server gave");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = raw.split_once(':').ok_or_else(bad)?;
    Ok(Cursor {
        created_at: at.parse().map_err(|_| bad())?,
        id: id.to_string(),
    })
}

fn micros(field: &str, text: &Option<String>) -> Result<Option<i64>, RuntimeError> {
    match text {
        None => Ok(None),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| Some(d.timestamp_micros()))
            .map_err(|_| {
                RuntimeError::invalid(field, "must be an RFC 3339 time (2026-11-30T12:00:00Z)")
            }),
    }
}

fn limit(l: Option<i64>) -> Result<i64, RuntimeError> {
    match l {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(RuntimeError::invalid(
            "limit",
            format!("must be from 1 to {MAX_LIMIT}"),
        )),
    }
}

fn text(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

impl ExecutionQuery {
    /// The store's filter, cursor and page size; a bad field is a 422 naming it.
    pub fn parse(&self) -> Result<(ExecutionFilter, Option<Cursor>, i64), RuntimeError> {
        if let Some(s) = text(&self.status) {
            if ExecutionState::parse(&s).is_none() {
                return Err(RuntimeError::invalid(
                    "status",
                    "must be pending, running, awaiting_approval, completed, failed or cancelled",
                ));
            }
        }
        let filter = ExecutionFilter {
            tenant_id: text(&self.tenant_id),
            session_id: text(&self.session_id),
            status: text(&self.status),
            intent_type: text(&self.intent_type),
            since: micros("since", &self.since)?,
            until: micros("until", &self.until)?,
        };
        let cursor = text(&self.cursor).map(|c| decode_cursor(&c)).transpose()?;
        Ok((filter, cursor, limit(self.limit)?))
    }
}

impl SessionQuery {
    pub fn parse(&self) -> Result<(SessionFilter, Option<Cursor>, i64), RuntimeError> {
        let filter = SessionFilter {
            tenant_id: text(&self.tenant_id),
            user_id: text(&self.user_id),
            status: text(&self.status),
            since: micros("since", &self.since)?,
            until: micros("until", &self.until)?,
        };
        let cursor = text(&self.cursor).map(|c| decode_cursor(&c)).transpose()?;
        Ok((filter, cursor, limit(self.limit)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = Cursor {
            created_at: 1_700_000_000_123_456,
            id: "e-1".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), c);
        assert!(decode_cursor("not-a-cursor!").is_err());
        let q = ExecutionQuery {
            limit: Some(0),
            ..Default::default()
        };
        assert!(q.parse().is_err());
        let q = ExecutionQuery {
            since: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(q.parse().is_err());
    }
}
