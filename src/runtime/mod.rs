//! The Runtime Plane, the execution authority, in four roles:
//! - `contract`: the seam — the [`RuntimeClient`] trait and everything that crosses it
//!   (requests, statuses, events, artifacts, errors);
//! - `wire`: both ends of the internal HTTP API (the server over any runtime client, and the
//!   HTTP client the Experience Plane uses when the planes run apart);
//! - `engine`: router, sessions, executions, sagas, the event log, the agent host — it knows
//!   no realm;
//! - `realms`: the intents themselves, each realm registering its handlers and background actors;
//! - `cluster`: partitions of sessions leased to nodes, for many nodes on one PostgreSQL;
//! - `routing`: a cluster node's runtime client, running each command where its session lives.

pub mod cluster;
pub mod contract;
pub mod engine;
pub mod realms;
pub mod routing;
pub mod wire;

pub use contract::client::{EventStream, RuntimeClient};
pub use contract::error::RuntimeError;
pub use engine::config::RuntimeConfig;
pub use engine::handler::{IntentHandler, SagaStep, StepContext, StepError, StepOutput};
pub use engine::registry::HandlerRegistry;
pub use engine::system::Runtime;
