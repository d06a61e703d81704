//! Rate limits (governor's GCRA, keyed): login per client address and per email, register per
//! client address. Over the limit: 429 `rate_limit_exceeded` with `retry_after`, `Retry-After`,
//! `X-RateLimit-Limit` and `X-RateLimit-Window`.

use axum::http::StatusCode;

use super::settings::RateSpec;
use crate::http::ApiError;
use crate::security::rate::KeyedRate;

/// A limit with its name (the `limit` label of the rejections metric).
pub struct Limit(KeyedRate, &'static str);

impl Limit {
    pub fn new(name: &'static str, spec: RateSpec) -> Self {
        Self(KeyedRate::new(spec), name)
    }

    /// Counts one request for `key`; `Err(429)` when over the limit.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.0.check(key).map_err(|secs| {
            metrics::counter!(crate::telemetry::names::RATE_LIMITED, "limit" => self.1)
                .increment(1);
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                format!("too many attempts; retry in {secs} seconds"),
            )
            .with_retry(
                secs,
                &[
                    ("x-ratelimit-limit", self.0.spec.limit.to_string()),
                    (
                        "x-ratelimit-window",
                        self.0.spec.window.as_secs().to_string(),
                    ),
                ],
            )
        })
    }

    fn forget_idle(&self) {
        self.0.forget_idle();
    }
}

pub struct RateLimits {
    pub login_by_addr: Limit,
    pub login_by_email: Limit,
    pub register_by_addr: Limit,
}

impl RateLimits {
    pub fn new(login: RateSpec, register: RateSpec) -> Self {
        Self {
            login_by_addr: Limit::new("login_by_address", login),
            login_by_email: Limit::new("login_by_email", login),
            register_by_addr: Limit::new("register_by_address", register),
        }
    }

    /// Drops the state of keys that are back to a full allowance (bounded memory).
    pub fn forget_idle(&self) {
        self.login_by_addr.forget_idle();
        self.login_by_email.forget_idle();
        self.register_by_addr.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_with_retry_after() {
        let l = Limit::new("test", "3/60".parse().unwrap());
        for _ in 0..3 {
            l.check("1.2.3.4").unwrap();
        }
        let e = l.check("1.2.3.4").unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        let secs = e.retry.as_ref().unwrap().after_secs;
        assert!((50..=60).contains(&secs), "{secs}");
        l.check("5.6.7.8").expect("other keys are unaffected");
    }
}
