//! Sessions: created, read, and bound to a user and tenant (upgrade).

use serde_json::Value;
use sqlx::Row;

use super::cluster::{fenced_begin, Fence};
use super::db::is_unique_violation;
use super::error::StoreError;
use super::rows::SessionRow;
use super::runtime_store::RuntimeStore;

pub(super) const COLUMNS: &str =
    "session_id, tenant_id, user_id, status, metadata, created_at, updated_at, superseded_by, \
     succeeds";

impl RuntimeStore {
    /// Inserts a new session. `Ok(false)` when the id is taken.
    pub async fn insert_session(&self, s: &SessionRow) -> Result<bool, StoreError> {
        let res = insert_row(&self.store.writer, s).await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_session(&self, session_id: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(SessionRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    /// Binds a session (and its executions and artifacts so far) to a user and tenant and
    /// replaces its metadata — only if it is anonymous or already theirs (checked in the UPDATE
    /// itself, so concurrent upgrades cannot both win). An anonymous session also gets a
    /// successor: a new session id for the owner (bound the same way), recorded as the old
    /// one's `superseded_by`. Upgrading again answers the same successor.
    pub async fn bind_session(
        &self,
        session_id: &str,
        user_id: &str,
        tenant_id: &str,
        metadata: &Value,
        at: i64,
        fence: Option<Fence>,
    ) -> Result<BindOutcome, StoreError> {
        let (session_id, user_id, tenant_id, metadata) = (
            session_id.to_string(),
            user_id.to_string(),
            tenant_id.to_string(),
            metadata.clone(),
        );
        self.store
            .detached(move |w| async move {
                let (session_id, user_id, tenant_id) =
                    (session_id.as_str(), user_id.as_str(), tenant_id.as_str());
                let mut tx = fenced_begin(&w, fence.as_ref()).await?;
                let before = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM sessions WHERE session_id = $1"
                ))
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(before) = before.as_ref().map(SessionRow::from_row).transpose()? else {
                    tx.rollback().await?;
                    return Ok::<_, StoreError>(BindOutcome::NotFound);
                };
                let res = sqlx::query(
                "UPDATE sessions SET user_id = $2, tenant_id = $3, metadata = $4, updated_at = $5 \
                 WHERE session_id = $1 AND (user_id IS NULL OR user_id = $2) \
                 AND (tenant_id IS NULL OR tenant_id = $3)",
            )
            .bind(session_id)
            .bind(user_id)
            .bind(tenant_id)
            .bind(metadata.to_string())
            .bind(at)
            .execute(&mut *tx)
            .await?;
                if res.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(BindOutcome::BoundToAnother);
                }
                // What the session did while anonymous now belongs to its tenant too.
                for table in ["executions", "artifacts"] {
                    sqlx::query(&format!(
                    "UPDATE {table} SET tenant_id = $2 WHERE session_id = $1 AND tenant_id IS NULL"
                ))
                    .bind(session_id)
                    .bind(tenant_id)
                    .execute(&mut *tx)
                    .await?;
                }
                let successor = match (&before.user_id, &before.superseded_by) {
                    // Anonymous until now: its owner gets a new id.
                    (None, None) => {
                        let next = SessionRow {
                            session_id: uuid::Uuid::new_v4().to_string(),
                            tenant_id: Some(tenant_id.to_string()),
                            user_id: Some(user_id.to_string()),
                            status: "active".into(),
                            metadata: metadata.clone(),
                            created_at: at,
                            updated_at: at,
                            superseded_by: None,
                            succeeds: Some(session_id.to_string()),
                        };
                        // Claimed in the UPDATE itself: of two concurrent upgrades (PostgreSQL reads
                        // `before` without a lock) one names the successor, the other finds it.
                        let claimed = sqlx::query(
                            "UPDATE sessions SET superseded_by = $2 \
                         WHERE session_id = $1 AND superseded_by IS NULL",
                        )
                        .bind(session_id)
                        .bind(&next.session_id)
                        .execute(&mut *tx)
                        .await?;
                        if claimed.rows_affected() == 1 {
                            insert_row(&mut *tx, &next).await?;
                            Some(next.session_id)
                        } else {
                            sqlx::query("SELECT superseded_by FROM sessions WHERE session_id = $1")
                                .bind(session_id)
                                .fetch_one(&mut *tx)
                                .await?
                                .try_get("superseded_by")?
                        }
                    }
                    (_, existing) => existing.clone(),
                };
                tx.commit().await?;
                let store = w.store().runtime();
                let row = store.get_session(session_id).await?;
                let next = match &successor {
                    Some(id) => store.get_session(id).await?,
                    None => None,
                };
                Ok(match row {
                    None => BindOutcome::NotFound,
                    Some(row) => BindOutcome::Bound(Box::new(row), next.map(Box::new)),
                })
            })
            .await
    }
}

#[derive(Debug)]
pub enum BindOutcome {
    /// The session as bound, and its successor (the owner's new id) when it has one.
    Bound(Box<SessionRow>, Option<Box<SessionRow>>),
    BoundToAnother,
    NotFound,
}

async fn insert_row<'e, E>(conn: E, s: &SessionRow) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO sessions (session_id, tenant_id, user_id, status, metadata, created_at, \
         updated_at, succeeds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&s.session_id)
    .bind(&s.tenant_id)
    .bind(&s.user_id)
    .bind(&s.status)
    .bind(s.metadata.to_string())
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(&s.succeeds)
    .execute(conn)
    .await
    .map(|_| ())
}
