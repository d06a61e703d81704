//! Sessions: created, read, and bound to a user and tenant (upgrade).

use serde_json::Value;

use super::db::{is_unique_violation, Store};
use super::rows::SessionRow;

const COLUMNS: &str = "session_id, tenant_id, user_id, status, metadata, created_at, updated_at";

impl Store {
    /// Inserts a new session. `Ok(false)` when the id is taken.
    pub async fn insert_session(&self, s: &SessionRow) -> Result<bool, sqlx::Error> {
        let res = sqlx::query(
            "INSERT INTO sessions (session_id, tenant_id, user_id, status, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.session_id)
        .bind(&s.tenant_id)
        .bind(&s.user_id)
        .bind(&s.status)
        .bind(s.metadata.to_string())
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&self.writer)
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn get_session(&self, session_id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(SessionRow::from_row).transpose()
    }

    /// Binds a session (and its executions so far) to a user and tenant and replaces its
    /// metadata — only if it is anonymous or already theirs (checked in the UPDATE itself, so
    /// concurrent upgrades cannot both win).
    pub async fn bind_session(
        &self,
        session_id: &str,
        user_id: &str,
        tenant_id: &str,
        metadata: &Value,
        at: i64,
    ) -> Result<BindOutcome, sqlx::Error> {
        let (session_id, user_id, tenant_id, metadata) = (
            session_id.to_string(),
            user_id.to_string(),
            tenant_id.to_string(),
            metadata.clone(),
        );
        self.detached(move |w| async move {
            let (session_id, user_id, tenant_id, metadata) = (
                session_id.as_str(),
                user_id.as_str(),
                tenant_id.as_str(),
                &metadata,
            );
            let mut tx = w.begin().await?;
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
            if res.rows_affected() == 1 {
                // What the session did while anonymous now belongs to its tenant too.
                sqlx::query(
                "UPDATE executions SET tenant_id = $2 WHERE session_id = $1 AND tenant_id IS NULL",
            )
            .bind(session_id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
                sqlx::query(
                "UPDATE artifacts SET tenant_id = $2 WHERE session_id = $1 AND tenant_id IS NULL",
            )
            .bind(session_id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            }
            tx.commit().await?;
            let row = w.store().get_session(session_id).await?;
            Ok(match (res.rows_affected(), row) {
                (_, None) => BindOutcome::NotFound,
                (0, Some(_)) => BindOutcome::BoundToAnother,
                (_, Some(row)) => BindOutcome::Bound(row),
            })
        })
        .await
    }
}

#[derive(Debug)]
pub enum BindOutcome {
    Bound(SessionRow),
    BoundToAnother,
    NotFound,
}
