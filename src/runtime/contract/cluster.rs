//! What `GET /api/cluster` shows: the runtime nodes, and which node holds each partition of
//! the sessions, at which epoch.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ClusterView {
    /// The answering node's id; null for a single node on SQLite (not a cluster).
    pub node_id: Option<String>,
    /// How long a lease lasts without renewal, in milliseconds (this node's setting).
    pub lease_ms: u64,
    /// Registered nodes, by id.
    pub nodes: Vec<ClusterNode>,
    /// Every partition, in order.
    pub partitions: Vec<PartitionLease>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ClusterNode {
    pub node_id: String,
    /// Its Runtime API, as the other nodes reach it.
    pub address: String,
    pub host: String,
    /// RFC 3339.
    pub started_at: String,
    /// Milliseconds since its last heartbeat, by the database's clock.
    pub heartbeat_age_ms: i64,
    /// Heartbeating within the lease time and not leaving: it counts in the shares.
    pub live: bool,
    /// Handing its partitions over before it exits.
    pub leaving: bool,
    /// Partitions it holds with a lease still running.
    pub partitions: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PartitionLease {
    pub partition: u16,
    /// The node holding it; null when free (or its holder's lease ran out).
    pub owner: Option<String>,
    /// Grows at every change of owner: the fence of its owner's writes.
    pub epoch: i64,
    /// Milliseconds until the lease runs out unless renewed (negative: ran out).
    pub expires_in_ms: i64,
}
