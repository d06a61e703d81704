//! The Security Guard: registration, login, token issue and rotation, logout.

use std::time::Duration;

use super::inputs::{DisplayName, Email, Password};
use super::password::PasswordHasher;
use super::roles::{permissions_of, Role};
use super::tokens::{hash_refresh_token, new_refresh_token, Claims, JwtKeys};
use crate::store::auth::AuthStore;
use crate::store::refresh_tokens::RefreshRow;
use crate::store::time::now_micros;
use crate::store::users::UserRow;

/// Who a user is within one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub tenant_id: String,
    pub roles: Vec<Role>,
}

impl Identity {
    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.as_str().to_string()).collect()
    }

    pub fn permissions(&self) -> Vec<String> {
        permissions_of(&self.roles)
    }
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this email is already registered")]
    EmailTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("internal error")]
    Internal(String),
}

impl From<crate::store::StoreError> for AuthError {
    fn from(e: crate::store::StoreError) -> Self {
        AuthError::Internal(e.chain())
    }
}

impl From<anyhow::Error> for AuthError {
    fn from(e: anyhow::Error) -> Self {
        AuthError::Internal(e.to_string())
    }
}

#[derive(Clone)]
pub struct SecurityGuard {
    store: AuthStore,
    hasher: PasswordHasher,
    jwt: JwtKeys,
    refresh_ttl: Duration,
}

impl SecurityGuard {
    pub fn new(store: AuthStore, jwt: JwtKeys, refresh_ttl: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            store,
            hasher: PasswordHasher::new()?,
            jwt,
            refresh_ttl,
        })
    }

    pub fn access_ttl(&self) -> Duration {
        self.jwt.access_ttl
    }

    /// Creates the user with a tenant of their own, in which they are `owner`.
    pub async fn register(
        &self,
        name: DisplayName,
        email: Email,
        password: Password,
    ) -> Result<Identity, AuthError> {
        let hash = self.hasher.hash(&password).await?;
        let user = UserRow {
            user_id: uuid::Uuid::new_v4().to_string(),
            email: email.as_str().to_string(),
            name: name.as_str().to_string(),
            password_hash: hash,
            created_at: now_micros(),
        };
        let tenant_id = uuid::Uuid::new_v4().to_string();
        let tenant_name = format!("{}'s workspace", user.name);
        if !self
            .store
            .insert_user_with_tenant(&user, &tenant_id, &tenant_name)
            .await?
        {
            return Err(AuthError::EmailTaken);
        }
        tracing::info!(user_id = %user.user_id, %tenant_id, "user registered");
        Ok(Identity {
            user_id: user.user_id,
            email: user.email,
            name: user.name,
            tenant_id,
            roles: vec![Role::Owner],
        })
    }

    /// Same answer, and about the same time, whether the email is unknown or the password wrong.
    pub async fn login(&self, email: &str, password: &str) -> Result<Identity, AuthError> {
        let user = match Email::parse(email) {
            Ok(e) => self.store.user_by_email(e.as_str()).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        if !self.hasher.verify(password, stored).await {
            return Err(AuthError::InvalidCredentials);
        }
        let user = user.ok_or(AuthError::InvalidCredentials)?;
        // A user without any tenant cannot sign in; say nothing more than for a bad password.
        self.identity_of(user, None)
            .await
            .map_err(|_| AuthError::InvalidCredentials)
    }

    async fn identity_of(
        &self,
        user: UserRow,
        tenant: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let memberships = self.store.memberships(&user.user_id).await?;
        let (tenant_id, role) = memberships
            .into_iter()
            .find(|(t, _)| tenant.is_none_or(|want| want == t))
            .ok_or(AuthError::InvalidToken(
                "the user has no access to this tenant",
            ))?;
        Ok(Identity {
            user_id: user.user_id,
            email: user.email,
            name: user.name,
            tenant_id,
            roles: Role::parse(&role).into_iter().collect(),
        })
    }

    /// The identity behind a user id and tenant (for `me` and refresh).
    pub async fn identity(&self, user_id: &str, tenant_id: &str) -> Result<Identity, AuthError> {
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::InvalidToken("the user no longer exists"))?;
        self.identity_of(user, Some(tenant_id)).await
    }

    /// Issues an access token and a refresh token in a new family (a new sign-in).
    pub async fn issue_tokens(&self, who: &Identity) -> Result<TokenPair, AuthError> {
        let (pair, row) = self.new_pair(who, uuid::Uuid::new_v4().to_string())?;
        self.store
            .insert_refresh_token(&row, true, now_micros())
            .await?;
        Ok(pair)
    }

    fn new_pair(
        &self,
        who: &Identity,
        family_id: String,
    ) -> Result<(TokenPair, RefreshRow), AuthError> {
        let access_token = self
            .jwt
            .issue(&who.user_id, &who.tenant_id, &who.role_names())?;
        let refresh_token = new_refresh_token();
        let row = RefreshRow {
            token_hash: hash_refresh_token(&refresh_token),
            family_id,
            user_id: who.user_id.clone(),
            tenant_id: who.tenant_id.clone(),
            expires_at: now_micros()
                .saturating_add(self.refresh_ttl.as_micros().min(i64::MAX as u128) as i64),
            used_at: None,
            revoked_at: None,
        };
        let pair = TokenPair {
            access_token,
            refresh_token,
            expires_in: self.jwt.access_ttl.as_secs(),
        };
        Ok((pair, row))
    }

    /// Rotates a refresh token: single use. Presenting a used token revokes its whole family,
    /// including any successor minted concurrently (the family is checked on every refresh).
    pub async fn refresh(&self, token: &str) -> Result<(Identity, TokenPair), AuthError> {
        const INVALID: AuthError = AuthError::InvalidToken("the refresh token is invalid");
        let hash = hash_refresh_token(token);
        let row = self.store.refresh_token(&hash).await?.ok_or(INVALID)?;
        let now = now_micros();
        if row.revoked_at.is_some() {
            return Err(INVALID);
        }
        if row.expires_at <= now {
            return Err(AuthError::InvalidToken("the refresh token has expired"));
        }
        let who = self.identity(&row.user_id, &row.tenant_id).await?;
        let (pair, successor) = self.new_pair(&who, row.family_id.clone())?;
        if row.used_at.is_some()
            || !self
                .store
                .rotate_refresh_token(&hash, &successor, now)
                .await?
        {
            let revoked = self
                .store
                .revoke_refresh_family(&row.family_id, now)
                .await?;
            tracing::warn!(user_id = %row.user_id, family_id = %row.family_id, revoked,
                "refresh token reused; family revoked");
            return Err(AuthError::InvalidToken(
                "the refresh token was already used; its session has been revoked",
            ));
        }
        Ok((who, pair))
    }

    /// Revokes the family of `refresh_token` (which must be the user's), or, without one, every
    /// refresh token of the user.
    pub async fn logout(
        &self,
        user_id: &str,
        refresh_token: Option<&str>,
    ) -> Result<(), AuthError> {
        let now = now_micros();
        match refresh_token {
            Some(t) => {
                if let Some(row) = self.store.refresh_token(&hash_refresh_token(t)).await? {
                    if row.user_id == user_id {
                        self.store
                            .revoke_refresh_family(&row.family_id, now)
                            .await?;
                    }
                }
            }
            None => {
                self.store.revoke_user_refresh_tokens(user_id, now).await?;
            }
        }
        Ok(())
    }

    pub fn verify_access(&self, token: &str) -> Result<Claims, AuthError> {
        self.jwt.verify(token).map_err(AuthError::InvalidToken)
    }
}
