//! Rate limits shared by both planes: "N per S seconds" (`RateSpec`) and a keyed limiter over
//! it (governor's GCRA), strict (N per window) or sustained (N per window, refilled steadily).
//! The wait it reports is honest.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// "N requests per S seconds", written `N/S` (e.g. `5/60`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    pub limit: u32,
    pub window: Duration,
}

impl std::str::FromStr for RateSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (n, secs) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not N/SECONDS (e.g. 5/60)"))?;
        let limit: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' is not a count"))?;
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("'{secs}' is not seconds"))?;
        if limit == 0 || secs == 0 {
            return Err("both numbers of a rate limit must be positive".into());
        }
        Ok(RateSpec {
            limit,
            window: Duration::from_secs(secs),
        })
    }
}

impl std::fmt::Display for RateSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.limit, self.window.as_secs())
    }
}

pub struct KeyedRate {
    pub spec: RateSpec,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl KeyedRate {
    /// A burst of N, then one more per window: never more than N within one window (for
    /// login and registration attempts).
    pub fn new(spec: RateSpec) -> Self {
        Self::with_refill(spec, spec.window)
    }

    /// A burst of N, then N per window sustained (one every window/N): for work that comes
    /// steadily, such as intents.
    pub fn sustained(spec: RateSpec) -> Self {
        Self::with_refill(spec, spec.window / spec.limit.max(1))
    }

    fn with_refill(spec: RateSpec, every: Duration) -> Self {
        let burst = NonZeroU32::new(spec.limit).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(every.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            spec,
            limiter: RateLimiter::keyed(quota),
        }
    }

    /// Counts one event for `key`; over the limit, `Err(seconds to wait)` (at least 1).
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
            })
    }

    /// Drops the state of keys that are back to a full allowance (bounded memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}
