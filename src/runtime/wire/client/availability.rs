//! Whether the runtime answers, as one runtime client sees it. During an outage every call
//! fails the same expected way (503 `runtime_unavailable` to the frontend): its first failure is
//! logged at WARN, the others at DEBUG, and the first answer after it at INFO — one line per
//! outage and one per recovery, however many requests there are.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Availability {
    down: AtomicBool,
}

impl Availability {
    /// A call found the runtime unavailable.
    pub fn failed(&self, why: &str) {
        if self.down.swap(true, Ordering::SeqCst) {
            tracing::debug!(%why, "runtime still unavailable");
        } else {
            tracing::warn!(%why, "runtime unavailable; answering 503 runtime_unavailable until it is back");
        }
    }

    /// A call got an answer (whatever it says).
    pub fn answered(&self) {
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::SeqCst) {
            tracing::info!("runtime available again");
        }
    }
}
