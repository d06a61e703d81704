//! What this node may run: every partition (a single node: no lease, no fence), or in a
//! cluster the partitions its keeper holds, at their epochs, while its leases are renewed in
//! time. The keeper changes it; the router and the event log read it on every use.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::partition::{partition_of, PARTITIONS};
use crate::runtime::contract::error::RuntimeError;
use crate::store::cluster::{Fence, Held};

/// True for a refusal because the session's partition is not held here (nothing of the
/// command ran).
pub fn is_moved(e: &RuntimeError) -> bool {
    matches!(e, RuntimeError::Unavailable(why) if why.starts_with(crate::store::cluster::MOVED))
}

/// A change of what the node holds, for the engine to act on.
#[derive(Debug)]
pub enum Change {
    /// Newly held: their sessions' unfinished executions are to be resumed here.
    Gained(Vec<u16>),
    /// No longer held: their session actors are to stop; `done` answers once they have.
    Lost {
        partitions: Vec<u16>,
        done: Option<oneshot::Sender<()>>,
    },
}

pub struct Ownership {
    cluster: Option<Leases>,
}

struct Leases {
    node_id: String,
    /// A fenced transaction's idle and lock-wait limit: half a lease.
    limit_ms: u64,
    /// Per partition, the epoch it is held at; 0 when not held.
    epochs: Vec<AtomicI64>,
    base: Instant,
    /// Until when (ms since `base`) the leases count as held: a quarter lease before they run
    /// out in the database, counted from before the renewal was sent. 0: never renewed.
    valid_until: AtomicU64,
    /// Whether other nodes are registered (their subscribers follow this node's commits).
    others: std::sync::atomic::AtomicBool,
    /// Grows each time partitions are taken: whatever was cached about their sessions (their
    /// last `seq`) may have changed on another node meanwhile.
    generation: AtomicU64,
    changes: mpsc::UnboundedSender<Change>,
}

impl Ownership {
    /// A single node: it owns every partition, with nothing to renew and nothing to fence.
    pub fn single() -> Ownership {
        Ownership { cluster: None }
    }

    /// A cluster node holding nothing yet, its leases lasting `lease`; the receiver gets every
    /// change the keeper makes.
    pub fn cluster(
        node_id: String,
        lease: std::time::Duration,
    ) -> (Ownership, mpsc::UnboundedReceiver<Change>) {
        let (changes, rx) = mpsc::unbounded_channel();
        let leases = Leases {
            node_id,
            limit_ms: (lease / 2).as_millis() as u64,
            epochs: (0..PARTITIONS).map(|_| AtomicI64::new(0)).collect(),
            base: Instant::now(),
            valid_until: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            others: std::sync::atomic::AtomicBool::new(true),
            changes,
        };
        (
            Ownership {
                cluster: Some(leases),
            },
            rx,
        )
    }

    /// The node's id in the cluster; `None` for a single node.
    pub fn node_id(&self) -> Option<&str> {
        self.cluster.as_ref().map(|c| c.node_id.as_str())
    }

    /// Whether this node may run the session now.
    pub fn owns(&self, session_id: &str) -> bool {
        match &self.cluster {
            None => true,
            Some(c) => c.epoch(partition_of(session_id)).is_some(),
        }
    }

    /// What an event-log commit for `sessions` must still hold: `Ok(None)` for a single node;
    /// `Err` with the sessions' partitions this node does not hold now.
    pub fn fence<'a>(
        &self,
        sessions: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Fence>, Vec<u16>> {
        let Some(c) = &self.cluster else {
            return Ok(None);
        };
        let mut held: Vec<Held> = Vec::new();
        let mut missing = Vec::new();
        for session in sessions {
            let p = partition_of(session);
            match c.epoch(p) {
                Some(epoch) => held.push((p, epoch)),
                None => missing.push(p),
            }
        }
        if !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            return Err(missing);
        }
        held.sort_unstable();
        held.dedup();
        Ok(Some(Fence {
            node_id: c.node_id.clone(),
            held,
            limit_ms: c.limit_ms,
            announce: c.others.load(Ordering::Acquire),
        }))
    }

    /// How many times partitions were taken (0 for a single node): a cache of sessions' state
    /// kept across a change of it may be stale.
    pub fn generation(&self) -> u64 {
        self.cluster
            .as_ref()
            .map_or(0, |c| c.generation.load(Ordering::Acquire))
    }

    /// Whether the session's partition is held (at any epoch, however long ago the leases were
    /// renewed): [`Self::owns`] without the leases' validity.
    pub fn holds(&self, session_id: &str) -> bool {
        match &self.cluster {
            None => true,
            Some(c) => c.epochs[usize::from(partition_of(session_id))].load(Ordering::Acquire) != 0,
        }
    }

    /// What a write for the session must still hold ([`Self::fence`] of one session), or the
    /// refusal a command for it gets here (its partition is not held now).
    pub fn session_fence(&self, session_id: &str) -> Result<Option<Fence>, RuntimeError> {
        self.fence([session_id])
            .map_err(|_| RuntimeError::Unavailable(crate::store::cluster::MOVED.into()))
    }

    /// The partitions held now, at their epochs (empty for a single node).
    pub fn held(&self) -> Vec<Held> {
        let Some(c) = &self.cluster else {
            return Vec::new();
        };
        (0..PARTITIONS)
            .filter_map(|p| match c.epochs[usize::from(p)].load(Ordering::Acquire) {
                0 => None,
                epoch => Some((p, epoch)),
            })
            .collect()
    }

    /// The keeper's: whether other nodes are registered (live or not: a paused one will read
    /// what it missed), so that this node's commits are announced.
    pub fn others(&self, others: bool) {
        if let Some(c) = &self.cluster {
            c.others.store(others, Ordering::Release);
        }
    }

    /// The keeper's: the leases count as held until `until`.
    pub fn valid_until(&self, until: Instant) {
        if let Some(c) = &self.cluster {
            let ms = until.saturating_duration_since(c.base).as_millis() as u64;
            c.valid_until.store(ms.max(1), Ordering::Release);
        }
    }

    /// The keeper's: `gained` are held now (the engine is told).
    pub fn gain(&self, gained: &[Held]) {
        let Some(c) = &self.cluster else { return };
        // First: a flush that sees the new epochs sees the new generation too.
        c.generation.fetch_add(1, Ordering::AcqRel);
        for (p, epoch) in gained {
            c.epochs[usize::from(*p)].store(*epoch, Ordering::Release);
        }
        if !gained.is_empty() {
            let _ = c
                .changes
                .send(Change::Gained(gained.iter().map(|(p, _)| *p).collect()));
        }
    }

    /// The keeper's: `lost` are no longer held; the answer resolves once the engine has
    /// stopped their sessions (at once when there is nothing to stop, or no engine).
    pub fn lose(&self, lost: &[u16]) -> oneshot::Receiver<()> {
        let (done, rx) = oneshot::channel();
        let Some(c) = &self.cluster else {
            let _ = done.send(());
            return rx;
        };
        for p in lost {
            c.epochs[usize::from(*p)].store(0, Ordering::Release);
        }
        if lost.is_empty() {
            let _ = done.send(());
        } else {
            let _ = c.changes.send(Change::Lost {
                partitions: lost.to_vec(),
                done: Some(done),
            });
        }
        rx
    }
}

impl Leases {
    fn epoch(&self, p: u16) -> Option<i64> {
        let until = self.valid_until.load(Ordering::Acquire);
        if until == 0 || self.base.elapsed().as_millis() as u64 >= until {
            return None;
        }
        match self.epochs[usize::from(p)].load(Ordering::Acquire) {
            0 => None,
            epoch => Some(epoch),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_single_node_owns_everything_and_fences_nothing() {
        let o = Ownership::single();
        assert!(o.owns("any"));
        assert!(o.fence(["a", "b"]).unwrap().is_none());
        assert!(o.node_id().is_none());
    }

    #[tokio::test]
    async fn a_node_owns_what_it_holds_while_its_leases_are_valid() {
        let (o, mut changes) = Ownership::cluster("n1".into(), Duration::from_secs(10));
        let p = partition_of("s1");
        assert!(!o.owns("s1"), "nothing held yet");
        o.gain(&[(p, 7)]);
        assert!(matches!(changes.recv().await, Some(Change::Gained(v)) if v == vec![p]));
        assert!(!o.owns("s1"), "never renewed");
        o.valid_until(Instant::now() + Duration::from_secs(60));
        assert!(o.owns("s1"));
        let fence = o.fence(["s1", "s1"]).unwrap().unwrap();
        assert!(
            fence.announce,
            "announced until the keeper knows it is alone"
        );
        assert_eq!((fence.node_id.as_str(), fence.held), ("n1", vec![(p, 7)]));
        o.others(false);
        assert!(!o.fence(["s1"]).unwrap().unwrap().announce);
        o.others(true);
        let other = (0..1000)
            .map(|i| format!("x{i}"))
            .find(|s| partition_of(s) != p)
            .unwrap();
        assert_eq!(
            o.fence(["s1", other.as_str()]).unwrap_err(),
            vec![partition_of(&other)]
        );
        // Past the validity: nothing is owned, whatever is held (a millisecond after the
        // start at least, the validity's unit).
        std::thread::sleep(Duration::from_millis(2));
        o.valid_until(Instant::now());
        assert!(!o.owns("s1"));
        o.valid_until(Instant::now() + Duration::from_secs(60));
        let done = o.lose(&[p]);
        assert!(!o.owns("s1"));
        match changes.recv().await {
            Some(Change::Lost { partitions, done }) => {
                assert_eq!(partitions, vec![p]);
                done.unwrap().send(()).unwrap();
            }
            other => panic!("{other:?}"),
        }
        done.await.unwrap();
        assert!(o.held().is_empty());
    }
}
