//! Database access (sqlx over SQLite or PostgreSQL, one API) and, later, blob storage.
//! Each file holds the queries of one table family; `db` opens pools and runs migrations.

pub mod artifact_store;
pub mod artifacts;
pub mod auth;
mod batch;
pub mod blobs;
pub mod cluster;
pub mod conversations;
pub mod data_dir;
pub mod db;
pub mod dir_lock;
pub mod durability;
pub mod error;
pub mod event_model;
mod event_sql;
pub mod events;
pub mod executions;
pub mod health;
mod health_watch;
pub mod ids;
pub mod listing;
pub mod refresh_tokens;
pub mod rows;
pub mod runtime_store;
mod script;
pub mod sessions;
pub mod states;
pub mod time;
mod turns;
pub mod usage;
pub mod users;
pub mod write;

pub use artifact_store::ArtifactStore;
pub use auth::AuthStore;
pub use db::{Backend, Store};
pub use error::StoreError;
pub use event_model::{AppendOutcome, Effect, NewEvent};
pub use events::Appended;
pub use executions::{InsertOutcome, NewExecution};
pub use rows::{EventRow, ExecutionRow, SessionRow, StepRow};
pub use runtime_store::RuntimeStore;
pub use sessions::BindOutcome;
pub use states::{ExecutionState, StepState};
