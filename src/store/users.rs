//! Users, tenants and memberships (the Security Guard's tables).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::auth::AuthStore;
use super::db::is_unique_violation;
use super::error::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
}

impl UserRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const USER_COLUMNS: &str = "user_id, email, name, password_hash, created_at";

impl AuthStore {
    /// Creates a user, a tenant and the user's `owner` membership in one transaction.
    /// `Ok(false)` when the email is already registered.
    pub async fn insert_user_with_tenant(
        &self,
        user: &UserRow,
        tenant_id: &str,
        tenant_name: &str,
    ) -> Result<bool, StoreError> {
        let (user, tenant_id, tenant_name) =
            (user.clone(), tenant_id.to_string(), tenant_name.to_string());
        self.store.detached(move |w| async move {
        let (user, tenant_id, tenant_name) = (&user, tenant_id.as_str(), tenant_name.as_str());
        let mut tx = w.begin().await?;
        sqlx::query("INSERT INTO tenants (tenant_id, name, created_at) VALUES ($1, $2, $3)")
            .bind(tenant_id)
            .bind(tenant_name)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO users (user_id, email, name, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&user.user_id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        sqlx::query(
            "INSERT INTO memberships (user_id, tenant_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(&user.user_id)
        .bind(tenant_id)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
        })
        .await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(UserRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    pub async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE user_id = $1"
        ))
        .bind(user_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(UserRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    /// `(tenant_id, role)` of every membership of the user, oldest first.
    pub async fn memberships(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant_id, role FROM memberships WHERE user_id = $1 ORDER BY created_at, tenant_id",
        )
        .bind(user_id)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("tenant_id")?, r.try_get("role")?)))
            .collect()
    }
}
