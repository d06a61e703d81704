//! Password hashing with argon2id at the OWASP parameters (19 MiB, 2 iterations, 1 lane), on
//! the blocking pool so async workers never stall. Unknown users are verified against a dummy
//! hash, so a login takes the same time whether or not the email exists.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::inputs::Password;

#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    dummy_hash: String,
    /// At most this many hashes at once (each takes 19 MiB and a core): a login storm queues
    /// instead of exhausting memory, the blocking pool, or the CPU everything else needs.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Half the cores (at least one): during a login storm the other half keeps serving sockets
/// and intents (BENCHMARKS.md, login storm).
fn concurrent_hashes() -> usize {
    (std::thread::available_parallelism().map_or(2, |n| n.get()) / 2).max(1)
}

impl PasswordHasher {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon
            .hash_password(b"dummy password for unknown users", &salt)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string();
        Ok(Self {
            argon,
            dummy_hash,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(concurrent_hashes())),
        })
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let argon = self.argon.clone();
        let pw = password.clone();
        // Held until the hash itself ends (the blocking work outlives a dropped request).
        let queued =
            crate::telemetry::metrics::Held::new(crate::telemetry::names::LOGIN_HASHES_QUEUED);
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let _queued = queued;
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(pw.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown user) it does the same
    /// work against a dummy hash and returns false.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> bool {
        let argon = self.argon.clone();
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let pw = password.to_string();
        let queued =
            crate::telemetry::metrics::Held::new(crate::telemetry::names::LOGIN_HASHES_QUEUED);
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let matched = tokio::task::spawn_blocking(move || {
            let _queued = queued;
            PasswordHash::new(&hash)
                .map(|parsed| argon.verify_password(pw.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        known && matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_parameters_and_verifies() {
        let h = PasswordHasher::new().unwrap();
        let pw = Password::parse("correct horse battery").unwrap();
        let stored = h.hash(&pw).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            h.verify("correct horse battery", Some(stored.clone()))
                .await
        );
        assert!(!h.verify("wrong horse battery", Some(stored)).await);
        assert!(!h.verify("dummy password for unknown users", None).await);
    }
}
