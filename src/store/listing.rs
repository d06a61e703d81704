//! Visibility queries: a page of executions or sessions, filtered, newest first, continued
//! from a cursor (the last row's creation time and id), so pages never skip or repeat a row
//! while new ones arrive.

use super::error::StoreError;
use super::executions::COLUMNS as EXECUTION_COLUMNS;
use super::rows::{ExecutionRow, SessionRow};
use super::runtime_store::RuntimeStore;
use super::sessions::COLUMNS as SESSION_COLUMNS;

/// Where a page starts: after the row with this creation time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

/// The filters of an execution listing; `None` filters nothing.
#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    pub tenant_id: Option<String>,
    pub session_id: Option<String>,
    pub status: Option<String>,
    pub intent_type: Option<String>,
    /// Created at or after (µs).
    pub since: Option<i64>,
    /// Created before (µs).
    pub until: Option<i64>,
}

/// The filters of a session listing.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub status: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl RuntimeStore {
    /// Up to `limit` executions matching `f`, newest first, after `after`.
    pub async fn list_executions(
        &self,
        f: &ExecutionFilter,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions \
             WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR session_id = $2) \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR intent_type = $4) \
             AND ($5 IS NULL OR created_at >= $5) AND ($6 IS NULL OR created_at < $6) \
             AND ($7 IS NULL OR created_at < $7 OR (created_at = $7 AND execution_id < $8)) \
             ORDER BY created_at DESC, execution_id DESC LIMIT $9"
        ))
        .bind(&f.tenant_id)
        .bind(&f.session_id)
        .bind(&f.status)
        .bind(&f.intent_type)
        .bind(f.since)
        .bind(f.until)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id.clone()).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(ExecutionRow::from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }

    /// Up to `limit` sessions matching `f`, newest first, after `after`.
    pub async fn list_sessions(
        &self,
        f: &SessionFilter,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR user_id = $2) \
             AND ($3 IS NULL OR status = $3) \
             AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
             AND ($6 IS NULL OR created_at < $6 OR (created_at = $6 AND session_id < $7)) \
             ORDER BY created_at DESC, session_id DESC LIMIT $8"
        ))
        .bind(&f.tenant_id)
        .bind(&f.user_id)
        .bind(&f.status)
        .bind(f.since)
        .bind(f.until)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id.clone()).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(SessionRow::from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }
}
