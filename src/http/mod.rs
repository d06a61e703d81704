//! HTTP plumbing shared by both planes: the contract's error shape, extractors that reject bad
//! input in that shape, and the fallback for unknown routes.

pub mod bearer_secret;
pub mod body_deadline;
pub mod conn_clock;
pub mod db_gate;
pub mod edge_io;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod layers;
pub mod limits;
pub mod metrics_layer;
pub mod openapi;
pub mod probes;
pub mod queries;
pub mod serve;

pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
