//! Rate limits (governor's GCRA, keyed): login per client address and per email, register per
//! client address. Over the limit: 429 `rate_limit_exceeded` with `retry_after`, `Retry-After`,
//! `X-RateLimit-Limit` and `X-RateLimit-Window`.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::settings::RateSpec;
use crate::http::ApiError;

pub struct Limit {
    spec: RateSpec,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Limit {
    pub fn new(spec: RateSpec) -> Self {
        // A burst of N, then one more per window: never more than N within one window, and
        // `Retry-After` is honest about the wait.
        let burst = NonZeroU32::new(spec.limit).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(spec.window.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            spec,
            limiter: RateLimiter::keyed(quota),
        }
    }

    /// Counts one request for `key`; `Err(429)` when over the limit.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        match self.limiter.check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    format!("too many attempts; retry in {secs} seconds"),
                )
                .with_retry(
                    secs,
                    &[
                        ("x-ratelimit-limit", self.spec.limit.to_string()),
                        ("x-ratelimit-window", self.spec.window.as_secs().to_string()),
                    ],
                ))
            }
        }
    }

    fn forget_idle(&self) {
        self.limiter.retain_recent();
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
            login_by_addr: Limit::new(login),
            login_by_email: Limit::new(login),
            register_by_addr: Limit::new(register),
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
        let l = Limit::new("3/60".parse().unwrap());
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
