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
        let (sql, binds) = executions_query(f, after, limit);
        let rows = bind_all(sqlx::query(&sql), binds)
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
        let (sql, binds) = sessions_query(f, after, limit);
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(&self.store.pool)
            .await?;
        rows.iter()
            .map(SessionRow::from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }
}

/// A listing's parameter.
#[derive(Debug, Clone, PartialEq)]
enum Bind {
    Text(String),
    Int(i64),
}

/// A WHERE clause made only of the filters given, so that the database can use the index
/// that fits them (`tenant_id`, `session_id` … with `created_at`); a clause such as
/// `($1 IS NULL OR tenant_id = $1)` would leave it to scan by time and filter every row.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Where {
    /// Adds `clause`, its `?`s standing for the next parameter (the same one, where a clause
    /// names it twice).
    fn and(&mut self, clause: &str, bind: Bind) {
        self.binds.push(bind);
        self.clauses
            .push(clause.replace('?', &format!("${}", self.binds.len())));
    }

    fn text(&mut self, column: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.and(&format!("{column} = ?"), Bind::Text(v.clone()));
        }
    }

    fn time(&mut self, since: Option<i64>, until: Option<i64>) {
        if let Some(t) = since {
            self.and("created_at >= ?", Bind::Int(t));
        }
        if let Some(t) = until {
            self.and("created_at < ?", Bind::Int(t));
        }
    }

    /// Rows after the cursor, in `created_at DESC, id DESC` order.
    fn after(&mut self, id_column: &str, after: Option<&Cursor>) {
        if let Some(c) = after {
            self.and(
                "(created_at < ? OR (created_at = ?",
                Bind::Int(c.created_at),
            );
            let last = self.clauses.len() - 1;
            self.binds.push(Bind::Text(c.id.clone()));
            let n = self.binds.len();
            self.clauses[last].push_str(&format!(" AND {id_column} < ${n}))"));
        }
    }

    /// `SELECT columns FROM table [WHERE …] ORDER BY … LIMIT n`.
    fn query(
        mut self,
        columns: &str,
        table: &str,
        id_column: &str,
        limit: i64,
    ) -> (String, Vec<Bind>) {
        self.binds.push(Bind::Int(limit));
        let limit_param = self.binds.len();
        let filter = if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        };
        (
            format!(
                "SELECT {columns} FROM {table}{filter} \
                 ORDER BY created_at DESC, {id_column} DESC LIMIT ${limit_param}"
            ),
            self.binds,
        )
    }
}

fn executions_query(
    f: &ExecutionFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let mut w = Where::default();
    w.text("tenant_id", &f.tenant_id);
    w.text("session_id", &f.session_id);
    w.text("status", &f.status);
    w.text("intent_type", &f.intent_type);
    w.time(f.since, f.until);
    w.after("execution_id", after);
    w.query(EXECUTION_COLUMNS, "executions", "execution_id", limit)
}

fn sessions_query(f: &SessionFilter, after: Option<&Cursor>, limit: i64) -> (String, Vec<Bind>) {
    let mut w = Where::default();
    w.text("tenant_id", &f.tenant_id);
    w.text("user_id", &f.user_id);
    w.text("status", &f.status);
    w.time(f.since, f.until);
    w.after("session_id", after);
    w.query(SESSION_COLUMNS, "sessions", "session_id", limit)
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        query = match b {
            Bind::Text(t) => query.bind(t),
            Bind::Int(i) => query.bind(i),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn only_the_given_filters_are_in_the_query() {
        let (sql, binds) = executions_query(&ExecutionFilter::default(), None, 10);
        assert!(!sql.contains("WHERE"), "{sql}");
        assert!(
            sql.ends_with("ORDER BY created_at DESC, execution_id DESC LIMIT $1"),
            "{sql}"
        );
        assert_eq!(binds, [Bind::Int(10)]);
        let f = ExecutionFilter {
            tenant_id: Some("t1".into()),
            until: Some(99),
            ..Default::default()
        };
        let cursor = Cursor {
            created_at: 50,
            id: "e9".into(),
        };
        let (sql, binds) = executions_query(&f, Some(&cursor), 5);
        assert!(
            sql.contains(
                " WHERE tenant_id = $1 AND created_at < $2 AND \
                 (created_at < $3 OR (created_at = $3 AND execution_id < $4)) ORDER BY"
            ),
            "{sql}"
        );
        assert!(sql.ends_with("LIMIT $5"), "{sql}");
        assert_eq!(
            binds,
            [
                Bind::Text("t1".into()),
                Bind::Int(99),
                Bind::Int(50),
                Bind::Text("e9".into()),
                Bind::Int(5)
            ]
        );
    }

    /// On a real SQLite database, a listing by tenant or by session reads the index that
    /// starts with that column, and a cursor keeps it.
    #[tokio::test]
    async fn listings_read_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/l.db", dir.path().display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let cursor = Cursor {
            created_at: 1,
            id: "x".into(),
        };
        let plan = |(sql, binds): (String, Vec<Bind>)| {
            let store = store.clone();
            async move {
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let rows = bind_all(sqlx::query(&explain), binds)
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
                use sqlx::Row;
                rows.iter()
                    .map(|r| r.try_get::<String, _>("detail").unwrap())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        let by_tenant = ExecutionFilter {
            tenant_id: Some("t".into()),
            ..Default::default()
        };
        let p = plan(executions_query(&by_tenant, Some(&cursor), 10)).await;
        assert!(p.contains("executions_tenant_created"), "{p}");
        let by_session = ExecutionFilter {
            session_id: Some("s".into()),
            ..Default::default()
        };
        let p = plan(executions_query(&by_session, None, 10)).await;
        assert!(p.contains("executions_session"), "{p}");
        let sessions = SessionFilter {
            tenant_id: Some("t".into()),
            ..Default::default()
        };
        let p = plan(sessions_query(&sessions, Some(&cursor), 10)).await;
        assert!(p.contains("sessions_tenant"), "{p}");
        store.close().await;
    }
}
