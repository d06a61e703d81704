//! Restart intensity (Erlang's `intensity`/`period`): at most N restarts within T, then escalate.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How many restarts a supervisor tolerates in a sliding window before it gives up and escalates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    pub max_restarts: u32,
    pub within: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            within: Duration::from_secs(10),
        }
    }
}

/// Sliding-window restart counter for one supervisor.
#[derive(Debug)]
pub struct RestartIntensity {
    policy: RestartPolicy,
    recent: VecDeque<Instant>,
}

impl RestartIntensity {
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            recent: VecDeque::new(),
        }
    }

    /// Records one restart now. Returns `false` when this restart exceeds the intensity, in which
    /// case the supervisor must escalate instead of restarting.
    pub fn record_restart(&mut self) -> bool {
        self.record_restart_at(Instant::now())
    }

    pub fn record_restart_at(&mut self, now: Instant) -> bool {
        while let Some(first) = self.recent.front() {
            if now.duration_since(*first) > self.policy.within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        self.recent.push_back(now);
        self.recent.len() as u32 <= self.policy.max_restarts
    }

    pub fn policy(&self) -> RestartPolicy {
        self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_max_then_refuses() {
        let mut i = RestartIntensity::new(RestartPolicy {
            max_restarts: 2,
            within: Duration::from_secs(1),
        });
        let t0 = Instant::now();
        assert!(i.record_restart_at(t0));
        assert!(i.record_restart_at(t0 + Duration::from_millis(10)));
        assert!(!i.record_restart_at(t0 + Duration::from_millis(20)));
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let mut i = RestartIntensity::new(RestartPolicy {
            max_restarts: 1,
            within: Duration::from_millis(100),
        });
        let t0 = Instant::now();
        assert!(i.record_restart_at(t0));
        assert!(i.record_restart_at(t0 + Duration::from_millis(150)));
        assert!(!i.record_restart_at(t0 + Duration::from_millis(160)));
    }
}
