//! Refresh tokens, stored as hashes, grouped in rotation families. Revocation is a property of
//! the family: a token is usable only while it is unused, unexpired and its family not revoked.

use sqlx::Row;

use super::auth::AuthStore;
use super::error::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRow {
    pub token_hash: String,
    pub family_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// When the token's family was revoked.
    pub revoked_at: Option<i64>,
}

impl AuthStore {
    /// Stores a token; with `new_family`, its family too.
    pub async fn insert_refresh_token(
        &self,
        r: &RefreshRow,
        new_family: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        let r = r.clone();
        self.store
            .detached(move |w| async move {
                let r = &r;
                let mut tx = w.begin().await?;
                if new_family {
                    sqlx::query(
                "INSERT INTO refresh_families (family_id, user_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(&r.family_id)
            .bind(&r.user_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
                }
                insert_token(&mut tx, r, at).await?;
                tx.commit().await
            })
            .await
    }

    pub async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRow>, StoreError> {
        let row = sqlx::query(
            "SELECT t.token_hash, t.family_id, t.user_id, t.tenant_id, t.expires_at, t.used_at, \
             f.revoked_at FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id \
             WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.store.pool)
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

    /// Rotation, in one transaction: marks `used` as used and stores `successor`, only if
    /// `used` was unused and its family is not revoked. `false` means reuse (or revocation).
    pub async fn rotate_refresh_token(
        &self,
        used: &str,
        successor: &RefreshRow,
        at: i64,
    ) -> Result<bool, StoreError> {
        let (used, successor) = (used.to_string(), successor.clone());
        self.store
            .detached(move |w| async move {
                let (used, successor) = (used.as_str(), &successor);
                let mut tx = w.begin().await?;
                let marked = sqlx::query(
                "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
             AND family_id IN (SELECT family_id FROM refresh_families WHERE revoked_at IS NULL)",
            )
            .bind(used)
            .bind(at)
            .execute(&mut *tx)
            .await?;
                if marked.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok::<_, StoreError>(false);
                }
                insert_token(&mut tx, successor, at).await?;
                tx.commit().await?;
                Ok(true)
            })
            .await
    }

    pub async fn revoke_refresh_family(&self, family_id: &str, at: i64) -> Result<u64, StoreError> {
        let res = sqlx::query(
            "UPDATE refresh_families SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(at)
        .execute(&self.store.writer)
        .await?;
        Ok(res.rows_affected())
    }

    pub async fn revoke_user_refresh_tokens(
        &self,
        user_id: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let res = sqlx::query(
            "UPDATE refresh_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(at)
        .execute(&self.store.writer)
        .await?;
        Ok(res.rows_affected())
    }
}

async fn insert_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &RefreshRow,
    at: i64,
) -> Result<(), sqlx::Error> {
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}
