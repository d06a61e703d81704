//! What the server tells its operators: logs (`logging.rs`) and metrics (`metrics.rs`, the
//! names and what each counts in `names.rs`).

pub mod logging;
pub mod metrics;
pub mod names;

pub use logging::{flush, init};
