//! Refresh tokens, stored as hashes, grouped in rotation families.

use sqlx::Row;

use super::db::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRow {
    pub token_hash: String,
    pub family_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Store {
    pub async fn insert_refresh_token(&self, r: &RefreshRow, at: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, tenant_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.token_hash)
        .bind(&r.family_id)
        .bind(&r.user_id)
        .bind(&r.tenant_id)
        .bind(r.expires_at)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT token_hash, family_id, user_id, tenant_id, expires_at, used_at, revoked_at \
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(RefreshRow {
                token_hash: r.try_get("token_hash")?,
                family_id: r.try_get("family_id")?,
                user_id: r.try_get("user_id")?,
                tenant_id: r.try_get("tenant_id")?,
                expires_at: r.try_get("expires_at")?,
                used_at: r.try_get("used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .transpose()
    }

    /// Marks a token used. `false` when it was already used or revoked (a concurrent refresh
    /// with the same token loses: that is reuse).
    pub async fn use_refresh_token(&self, token_hash: &str, at: i64) -> Result<bool, sqlx::Error> {
        let res = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn revoke_refresh_family(
        &self,
        family_id: &str,
        at: i64,
    ) -> Result<u64, sqlx::Error> {
        let res = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }

    pub async fn revoke_user_refresh_tokens(
        &self,
        user_id: &str,
        at: i64,
    ) -> Result<u64, sqlx::Error> {
        let res = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }
}
