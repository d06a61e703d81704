//! A cluster node's runtime client: each command for a session runs on the node that holds the
//! session's partition, here or forwarded over the internal API to its holder's `/node` routes.

pub mod client;
pub mod owners;

pub use client::RoutingClient;
