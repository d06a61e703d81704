//! Failpoints (feature `failpoints`): named places in the write paths where a test makes the
//! process crash or panic, set with the `FAILPOINTS` environment variable in the `fail` crate's
//! syntax (`name=action;...`, e.g. `saga.before_step_record=2*off->return`). The action
//! `return` aborts the process on the spot, as a power cut would; `panic` panics there. Without
//! the feature every point compiles to nothing.

/// A store write transaction (events with their effects) about to commit.
pub const EVENTS_BEFORE_COMMIT: &str = "events.before_commit";
/// An artifact (with its lineage) about to commit.
pub const ARTIFACT_BEFORE_COMMIT: &str = "artifacts.before_commit";
/// The event log: a batch committed, neither published to subscribers nor answered yet.
pub const EVENT_LOG_BEFORE_PUBLISH: &str = "event_log.before_publish";
/// The saga: a step's work done, its completion not recorded yet.
pub const SAGA_BEFORE_STEP_RECORD: &str = "saga.before_step_record";

/// Every failpoint, for documentation and tests.
pub const ALL: [&str; 4] = [
    EVENTS_BEFORE_COMMIT,
    ARTIFACT_BEFORE_COMMIT,
    EVENT_LOG_BEFORE_PUBLISH,
    SAGA_BEFORE_STEP_RECORD,
];

/// Ends the process at once (no destructors, no flushing: what a crash leaves).
pub fn crash(point: &str) -> ! {
    eprintln!("failpoint {point}: crashing the process");
    std::process::abort()
}

/// A failpoint: with `return` the process aborts here, with `panic` it panics here.
#[macro_export]
macro_rules! failpoint {
    ($name:expr) => {
        fail::fail_point!($name, |_| $crate::failpoints::crash($name))
    };
}
