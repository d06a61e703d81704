//! The cluster as this node sees it (`GET /api/cluster`): nodes and partition leases read from
//! the database, with ages and remaining times by the database's clock.

use crate::runtime::contract::cluster::{ClusterNode, ClusterView, PartitionLease};
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::engine::context::RuntimeInner;
use crate::store::time::to_rfc3339;

pub async fn view(ctx: &RuntimeInner) -> Result<ClusterView, RuntimeError> {
    let lease_ms = ctx.config.cluster.lease.as_millis() as u64;
    let Some(node_id) = ctx.ownership.node_id() else {
        return Ok(ClusterView {
            node_id: None,
            lease_ms,
            nodes: Vec::new(),
            partitions: Vec::new(),
        });
    };
    let (now, nodes) = ctx.store.cluster_nodes().await?;
    let (lease_now, leases) = ctx.store.cluster_leases().await?;
    let partitions: Vec<PartitionLease> = leases
        .into_iter()
        .map(|l| PartitionLease {
            partition: l.partition,
            owner: l.owner,
            epoch: l.epoch,
            expires_in_ms: l.expires_at - lease_now,
        })
        .collect();
    let nodes = nodes
        .into_iter()
        .map(|n| {
            let age = now - n.heartbeat_at;
            ClusterNode {
                partitions: partitions
                    .iter()
                    .filter(|p| p.owner.as_deref() == Some(&n.node_id) && p.expires_in_ms > 0)
                    .count(),
                live: !n.leaving && age < lease_ms as i64,
                node_id: n.node_id,
                address: n.address,
                host: n.host,
                started_at: to_rfc3339(n.started_at * 1000),
                heartbeat_age_ms: age,
                leaving: n.leaving,
            }
        })
        .collect();
    Ok(ClusterView {
        node_id: Some(node_id.to_string()),
        lease_ms,
        nodes,
        partitions,
    })
}
