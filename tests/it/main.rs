//! The integration tests, in one binary (one link of the crate instead of one per file):
//! each file is a module, sharing the harness in `common`. Two suites stay binaries of their
//! own because they take over something process-wide: `tests/parse_memory.rs` installs a
//! counting global allocator, `tests/outage_logs.rs` a global log subscriber whose lines it
//! counts; other tests running beside them would skew both.

mod common;

mod agent_load;
mod agent_socket;
mod agents;
mod architecture;
mod bad_input;
mod cancel_race;
mod chat_latency;
mod cheap_reads;
mod cluster;
mod cluster_processes;
mod console;
mod content;
mod crash_recovery;
mod data_dir_lock;
mod data_mash;
mod database_outage;
mod edge;
mod engine_realm;
mod execution_actions;
mod experience_api;
mod failpoints;
mod fault_injection;
mod frontend_journeys;
mod group_commit;
mod healthcheck;
mod insights;
mod limits;
mod openapi;
mod operator_cli;
mod otlp;
mod permits;
mod process_crash;
mod progress;
mod regressions;
mod runtime_api;
mod saga;
mod secrets_in_logs;
mod session_intents;
mod split_planes;
mod startup_errors;
mod store;
mod upload;
mod visibility;
