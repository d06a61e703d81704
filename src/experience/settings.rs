//! The Experience Plane's settings (resolved from `ServeArgs`).

use std::time::Duration;

use secrecy::SecretString;

pub use crate::security::rate::RateSpec;

/// 16 MiB: an inline file's hex doubles it in the request body.
pub const DEFAULT_MAX_INLINE_UPLOAD_BYTES: u64 = 16 * 1024 * 1024;

/// Large intent submits (inline files) handled at once; more wait their turn.
pub const INLINE_UPLOADS_AT_ONCE: usize = 4;
/// How long a large submit waits for its turn before it is answered 503.
pub const INLINE_UPLOAD_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl ExperienceSettings {
    /// The intent submit route's body limit: an inline file as hex, and the rest of the body.
    pub fn submit_body_limit(&self) -> usize {
        (self.max_inline_upload_bytes as usize)
            .saturating_mul(2)
            .saturating_add(1024 * 1024)
    }
}

#[derive(Clone)]
pub struct ExperienceSettings {
    pub jwt_secret: SecretString,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Require a Bearer token for every session that belongs to a user.
    pub auth_strict: bool,
    pub rate_login: RateSpec,
    pub rate_register: RateSpec,
    /// Origins allowed by CORS (empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: u64,
    /// Largest file sent inline in an intent submit (decoded bytes).
    pub max_inline_upload_bytes: u64,
    /// Largest JSON body, and the largest an intent's parameters may be once an inline file
    /// is taken out of them.
    pub max_body_bytes: usize,
    /// Agent sockets: at most this many at once (more: 1013 "Server at capacity").
    pub ws_max_connections: usize,
    /// An agent socket with no frame from the client for this long is closed (1000).
    pub ws_idle: std::time::Duration,
    /// Messages waiting for a slow client before it is closed with 1013.
    pub ws_outbound_queue: usize,
    /// This plane's address as browsers reach it (`https://symphainy.example.com`), for
    /// absolute links; unset: the request's own host.
    pub public_url: Option<String>,
    /// How long an export's download link works after it is shown.
    pub download_ttl: std::time::Duration,
    /// The bearer credential of `/metrics` on this public listener; unset: not served here
    /// (the Runtime Plane's internal listener serves them).
    pub metrics_token: Option<SecretString>,
}

impl std::fmt::Debug for ExperienceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExperienceSettings")
            .field("jwt_secret", &self.jwt_secret)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("auth_strict", &self.auth_strict)
            .field("rate_login", &self.rate_login.to_string())
            .field("rate_register", &self.rate_register.to_string())
            .field("cors_origins", &self.cors_origins)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("max_inline_upload_bytes", &self.max_inline_upload_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("ws_max_connections", &self.ws_max_connections)
            .field("ws_idle", &self.ws_idle)
            .field("ws_outbound_queue", &self.ws_outbound_queue)
            .field("public_url", &self.public_url)
            .field("download_ttl", &self.download_ttl)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rate_specs() {
        let r: RateSpec = "5/60".parse().unwrap();
        assert_eq!((r.limit, r.window), (5, Duration::from_secs(60)));
        assert!("5".parse::<RateSpec>().is_err());
        assert!("0/60".parse::<RateSpec>().is_err());
        assert!("x/60".parse::<RateSpec>().is_err());
    }
}
