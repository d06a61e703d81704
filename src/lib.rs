//! Symphainy runtime: an actor-system runtime serving an agentic platform's web frontend.
//! See docs/architecture.md for the design; `runtime` is the execution authority (its
//! contract, wire, engine and realms), `experience` the delivery plane, `agents` the brain the
//! engine hosts, `actors` the generic supervision machinery.

pub mod actors;
pub mod agents;
pub mod app;
pub mod cli;
pub mod config;
pub mod env_errors;
pub mod experience;
pub mod failpoints;
pub mod healthcheck;
pub mod http;
pub mod probe;
pub mod redact;
pub mod runtime;
pub mod security;
pub mod store;
pub mod telemetry;
