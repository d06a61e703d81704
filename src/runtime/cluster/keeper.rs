//! The node's lease keeper. Every heartbeat (a quarter lease) it writes the node's heartbeat,
//! renews the leases it holds (noting any taken over meanwhile as lost), and moves towards
//! its even share of the partitions among the live nodes: it claims free or expired ones when
//! it holds too few, and hands back its highest ones (their sessions stopped first) when it
//! holds too many. When it cannot renew in time, the node stops owning anything on its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::identity;
use super::ownership::Ownership;
use super::settings::ClusterSettings;
use super::shares::share;
use crate::store::cluster::{Held, NodeInfo};
use crate::store::{RuntimeStore, StoreError};
use crate::telemetry::names;

fn changed(change: &'static str, count: usize) {
    metrics::counter!(names::CLUSTER_PARTITION_CHANGES, "change" => change).increment(count as u64);
}

/// How long a round waits for the sessions of partitions it let go to stop: at most this, and
/// never more than half a heartbeat (the round must end in time to renew the rest).
const STOP_WAIT: Duration = Duration::from_secs(2);

pub struct Keeper {
    store: RuntimeStore,
    ownership: Arc<Ownership>,
    node: NodeInfo,
    lease: Duration,
    heartbeat: Duration,
    /// Until when the leases count as held (as told to `ownership`).
    valid_until: parking_lot::Mutex<Option<Instant>>,
    /// Set when the node leaves: no round takes partitions any more.
    leaving: std::sync::atomic::AtomicBool,
}

impl Keeper {
    /// Registers the node, buries its dead predecessors on this machine, and takes a first
    /// share of the partitions.
    pub async fn join(
        store: RuntimeStore,
        ownership: Arc<Ownership>,
        settings: &ClusterSettings,
        address: String,
    ) -> Result<Keeper, StoreError> {
        let node = NodeInfo {
            node_id: ownership.node_id().unwrap_or_default().to_string(),
            address,
            host: identity::host(),
            process: identity::this_process(),
        };
        let keeper = Keeper {
            store,
            ownership,
            node,
            lease: settings.lease,
            heartbeat: settings.heartbeat(),
            valid_until: parking_lot::Mutex::new(None),
            leaving: Default::default(),
        };
        keeper
            .store
            .cluster_join(&keeper.node, super::PARTITIONS)
            .await?;
        keeper.bury_predecessors().await?;
        keeper.tick().await?;
        tracing::info!(
            node_id = %keeper.node.node_id,
            address = %keeper.node.address,
            partitions = keeper.ownership.held().len(),
            "joined the cluster"
        );
        Ok(keeper)
    }

    pub fn node_id(&self) -> &str {
        &self.node.node_id
    }

    /// A node of this machine whose process is gone (a crash before this start, or this very
    /// node id's last run) holds its leases no longer.
    async fn bury_predecessors(&self) -> Result<(), StoreError> {
        let (_, nodes) = self.store.cluster_nodes().await?;
        for n in nodes {
            let dead = n.host == self.node.host && identity::is_gone(&n.process);
            let mine = n.node_id == self.node.node_id && n.process != self.node.process;
            if dead || mine {
                tracing::info!(node_id = %n.node_id, "a dead node of this machine: its partitions are free");
                self.store.cluster_leave(&n.node_id).await?;
            }
        }
        // Written again: burying this node's own id removed its row.
        self.store.cluster_heartbeat(&self.node).await?;
        Ok(())
    }

    fn stop_wait(&self) -> Duration {
        STOP_WAIT.min(self.heartbeat / 2)
    }

    fn lease_ms(&self) -> i64 {
        self.lease.as_millis() as i64
    }

    /// One round: heartbeat, renew, rebalance.
    pub async fn tick(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let id = self.node.node_id.as_str();
        self.store.cluster_heartbeat(&self.node).await?;
        let renewed = self.store.cluster_renew(id, self.lease_ms()).await?;
        // Counted from before the renewal was sent, a quarter lease short of the database's.
        let until = started + self.lease * 3 / 4;
        *self.valid_until.lock() = Some(until);
        self.ownership.valid_until(until);
        let held = self.ownership.held();
        let lost: Vec<u16> = held
            .iter()
            .filter(|h| !renewed.contains(h))
            .map(|(p, _)| *p)
            .collect();
        if !lost.is_empty() {
            tracing::warn!(partitions = ?lost, "partitions taken over by another node");
            changed("lost", lost.len());
            let _ = tokio::time::timeout(self.stop_wait(), self.ownership.lose(&lost)).await;
        }
        // Held in the database at an epoch this node never took (its answer was lost): handed
        // back, to be taken again at a new epoch.
        let unknown: Vec<u16> = renewed
            .iter()
            .filter(|h| !held.contains(h))
            .map(|(p, _)| *p)
            .collect();
        self.store.cluster_release(id, &unknown).await?;
        self.rebalance().await
    }

    async fn rebalance(&self) -> Result<(), StoreError> {
        let id = self.node.node_id.as_str();
        let (now, nodes) = self.store.cluster_nodes().await?;
        self.ownership.others(nodes.iter().any(|n| n.node_id != id));
        let live: Vec<&str> = nodes
            .iter()
            .filter(|n| !n.leaving && now - n.heartbeat_at < self.lease_ms())
            .map(|n| n.node_id.as_str())
            .collect();
        let Some(index) = live.iter().position(|n| *n == id) else {
            return Ok(()); // leaving
        };
        let target = share(index, live.len());
        let held = self.ownership.held();
        if self.leaving.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        if held.len() < target {
            let claimed = self
                .store
                .cluster_claim(id, self.lease_ms(), target - held.len())
                .await?;
            if !claimed.is_empty() {
                tracing::info!(count = claimed.len(), "partitions taken");
                changed("taken", claimed.len());
                self.ownership.gain(&claimed);
            }
        } else if held.len() > target && live.len() > 1 {
            let give: Vec<u16> = held
                .iter()
                .rev()
                .take(held.len() - target)
                .map(|(p, _)| *p)
                .collect();
            self.hand_back(&give).await?;
        }
        metrics::gauge!(names::CLUSTER_PARTITIONS_HELD).set(self.ownership.held().len() as f64);
        // Nodes silent for a long while leave the table (a dead node's leases ran out long ago).
        self.store
            .cluster_forget_silent((self.lease_ms() * 30).max(300_000))
            .await?;
        Ok(())
    }

    /// Stops the partitions' sessions, then frees their leases for the other nodes.
    async fn hand_back(&self, partitions: &[u16]) -> Result<(), StoreError> {
        tracing::info!(count = partitions.len(), "handing partitions over");
        changed("handed", partitions.len());
        let _ = tokio::time::timeout(self.stop_wait(), self.ownership.lose(partitions)).await;
        self.store
            .cluster_release(&self.node.node_id, partitions)
            .await?;
        Ok(())
    }

    /// Runs a round every heartbeat until `stop`. A round that fails is logged; past the
    /// leases' validity without a renewal, the node lets everything go on its own.
    pub fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(self.heartbeat) => {}
                    _ = stop.changed() => return,
                }
                if *stop.borrow() {
                    return;
                }
                // A round that outlasts its heartbeat (a database that does not answer) counts
                // as failed: its statements are each on their own, so dropping it leaves no
                // transaction open.
                let round = tokio::time::timeout(self.heartbeat * 2, self.tick()).await;
                let failed = match round {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.chain()),
                    Err(_) => Some("the round did not end in time".to_string()),
                };
                if let Some(why) = failed {
                    tracing::warn!(error = %why, "cluster heartbeat failed");
                    let expired = self
                        .valid_until
                        .lock()
                        .is_some_and(|until| Instant::now() >= until);
                    let held: Vec<u16> = self.ownership.held().iter().map(|(p, _)| *p).collect();
                    if expired && !held.is_empty() {
                        tracing::error!(
                            partitions = held.len(),
                            "leases not renewed in time: this node lets its partitions go"
                        );
                        let _ = tokio::time::timeout(self.stop_wait(), self.ownership.lose(&held))
                            .await;
                    }
                }
            }
        })
    }

    /// Marks the node as leaving, so that the others stop counting it (and it takes nothing
    /// more itself).
    pub async fn leaving(&self) -> Result<(), StoreError> {
        self.leaving
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.store.cluster_leaving(&self.node.node_id).await
    }

    /// The node has stopped its sessions: its leases are freed and its row removed.
    pub async fn leave(&self) -> Result<(), StoreError> {
        self.store.cluster_leave(&self.node.node_id).await?;
        tracing::info!(node_id = %self.node.node_id, "left the cluster");
        Ok(())
    }

    /// The partitions held now.
    pub fn held(&self) -> Vec<Held> {
        self.ownership.held()
    }
}
