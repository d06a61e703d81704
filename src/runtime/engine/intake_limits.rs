//! How fast one session (and one tenant) may hand the runtime work: intents and agent turns.
//! One socket could otherwise send 2,000 chat turns in 0.2 s and start 2,000 executions. Over
//! a limit the runtime answers 429 `rate_limit_exceeded` with the wait, and stores nothing.

use crate::security::rate::{KeyedRate, RateSpec};

use crate::runtime::contract::error::RuntimeError;

#[derive(Debug, Clone, Copy)]
pub struct IntakeRates {
    /// Intents per session (`SYMPHAINY_INTENT_RATE_SESSION`).
    pub intents_per_session: RateSpec,
    /// Agent turns per session (`SYMPHAINY_TURN_RATE_SESSION`).
    pub turns_per_session: RateSpec,
    /// Intents and turns together, per tenant (`SYMPHAINY_INTAKE_RATE_TENANT`).
    pub per_tenant: RateSpec,
}

impl Default for IntakeRates {
    fn default() -> Self {
        let rate = |limit, secs| RateSpec {
            limit,
            window: std::time::Duration::from_secs(secs),
        };
        Self {
            intents_per_session: rate(100, 10),
            turns_per_session: rate(30, 10),
            per_tenant: rate(1000, 10),
        }
    }
}

pub struct IntakeLimits {
    intents: KeyedRate,
    turns: KeyedRate,
    tenants: KeyedRate,
}

impl IntakeLimits {
    pub fn new(rates: IntakeRates) -> Self {
        Self {
            intents: KeyedRate::sustained(rates.intents_per_session),
            turns: KeyedRate::sustained(rates.turns_per_session),
            tenants: KeyedRate::sustained(rates.per_tenant),
        }
    }

    pub fn admit_intent(&self, session_id: &str, tenant: Option<&str>) -> Result<(), RuntimeError> {
        admit(&self.intents, session_id, "intents for this session")?;
        self.admit_tenant(tenant)
    }

    pub fn admit_turn(&self, session_id: &str, tenant: Option<&str>) -> Result<(), RuntimeError> {
        admit(
            &self.turns,
            session_id,
            "messages to agents for this session",
        )?;
        self.admit_tenant(tenant)
    }

    fn admit_tenant(&self, tenant: Option<&str>) -> Result<(), RuntimeError> {
        match tenant {
            Some(t) => admit(&self.tenants, t, "requests for this tenant"),
            None => Ok(()),
        }
    }

    /// Drops the state of sessions and tenants back to a full allowance (bounded memory).
    pub fn forget_idle(&self) {
        self.intents.forget_idle();
        self.turns.forget_idle();
        self.tenants.forget_idle();
    }
}

fn admit(rate: &KeyedRate, key: &str, what: &'static str) -> Result<(), RuntimeError> {
    rate.check(key).map_err(|retry_after_secs| {
        metrics::counter!(crate::telemetry::names::RATE_LIMITED, "limit" => what).increment(1);
        let (limit, window_secs) = (rate.spec.limit, rate.spec.window.as_secs());
        RuntimeError::RateLimited {
            message: format!(
                "too many {what} (at most {limit} per {window_secs} s); retry in \
                 {retry_after_secs} seconds"
            ),
            limit,
            window_secs,
            retry_after_secs,
        }
    })
}
