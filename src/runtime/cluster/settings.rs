//! A cluster node's settings (PostgreSQL only; a single SQLite node has none).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// This node's id in the cluster; a new random one at each start when unset.
    pub node_id: Option<String>,
    /// This node's Runtime API as the other nodes reach it; default: the address its listener
    /// is bound to (the machine's host name in place of an unspecified address).
    pub advertise_url: Option<String>,
    /// How long a partition's lease lasts without renewal. A dead node's partitions are taken
    /// over within about this plus a heartbeat ([`Self::heartbeat`]).
    pub lease: Duration,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            node_id: None,
            advertise_url: None,
            lease: Duration::from_secs(10),
        }
    }
}

impl ClusterSettings {
    /// How often the node heartbeats, renews its leases and rebalances: a quarter lease.
    pub fn heartbeat(&self) -> Duration {
        self.lease / 4
    }
}
