//! The engine: the actor tree that runs intents (router → sessions → executions and agents),
//! sagas, the event log, intake limits and the in-process runtime client. It knows no realm:
//! realms come in through the handler registry and their own background actors.

pub mod agent;
pub mod announced;
pub mod artifact_registry;
pub mod brain;
pub mod cluster_view;
pub mod config;
pub mod context;
pub mod desk;
pub mod desk_backend;
pub mod event_log;
pub mod execution;
pub mod handler;
pub mod in_process;
pub mod intake_limits;
pub mod intent_info;
pub mod language;
pub mod messages;
pub mod params;
pub mod progress;
pub mod realm;
pub mod registry;
pub mod router;
pub mod saga;
pub mod session;
pub mod system;
