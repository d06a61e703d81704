//! The Runtime Plane, the execution authority: router, sessions, executions, sagas, the event
//! log, realm handlers, the runtime client seam and the internal HTTP API.

pub mod agent;
pub mod api;
pub mod availability;
pub mod client;
pub mod context;
pub mod error;
pub mod event_log;
pub mod execution;
pub mod handler;
pub mod http_client;
pub mod in_process;
pub mod intake_limits;
pub mod model;
pub mod realms;
pub mod router;
pub mod saga;
pub mod session;
pub mod system;

pub use client::{EventStream, RuntimeClient};
pub use context::RuntimeConfig;
pub use error::RuntimeError;
pub use handler::{HandlerRegistry, IntentHandler, SagaStep, StepContext, StepError, StepOutput};
pub use system::Runtime;
