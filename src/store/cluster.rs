//! The cluster's tables (PostgreSQL only): runtime nodes and their heartbeats, and the leases
//! of the session partitions, each with the epoch that fences its owner's writes. Every time is
//! the database's clock in milliseconds, so the nodes' own clocks never decide a lease.

use std::collections::HashMap;

use secrecy::ExposeSecret;
use sqlx::{Any, Row, Transaction};

use super::error::StoreError;
use super::runtime_store::RuntimeStore;
use super::write::Detached;

/// Frees every lease of the node `$1`, taking the rows in partition order (as every statement
/// that locks several lease rows does, so that two never wait for each other).
const FREE_ALL: &str = "UPDATE partition_leases SET owner = NULL, expires_at = 0 \
     WHERE partition_id IN (SELECT partition_id FROM partition_leases WHERE owner = $1 \
       ORDER BY partition_id FOR UPDATE)";

/// The database's clock, in milliseconds since the Unix epoch.
const NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// A node as it registers.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub node_id: String,
    /// Its Runtime API, as the others reach it.
    pub address: String,
    pub host: String,
    /// Boot id, pid and start time of its process (empty where unknown).
    pub process: String,
}

/// A node as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub node_id: String,
    pub address: String,
    pub host: String,
    pub process: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub leaving: bool,
}

/// A partition's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub partition: u16,
    pub owner: Option<String>,
    pub epoch: i64,
    pub expires_at: i64,
}

/// How every refusal of a command or write for a session of a partition this node does not
/// hold begins (nothing of it ran: it may be sent to the partition's holder).
pub const MOVED: &str = "the session's partition is held by another runtime node";

/// A partition held at an epoch.
pub type Held = (u16, i64);

/// What a cluster node's event-log commit must still hold: the partitions of its sessions at
/// the epochs the node believes it holds them.
#[derive(Debug, Clone)]
pub struct Fence {
    pub node_id: String,
    pub held: Vec<Held>,
    /// How long the fenced transaction may sit idle, or wait for a lock, before the database
    /// ends it (milliseconds): a node paused or cut off inside it must not hold its partitions'
    /// rows, which a takeover waits for, past its lease.
    pub limit_ms: u64,
    /// Whether the commit is announced to the other nodes (`NOTIFY`): not when no other node
    /// is registered, since PostgreSQL serialises the commits that notify.
    pub announce: bool,
}

impl RuntimeStore {
    /// Registers the node (again, if its row was removed) and makes sure the `partitions`
    /// lease rows exist. Returns the database's time.
    pub async fn cluster_join(&self, node: &NodeInfo, partitions: u16) -> Result<i64, StoreError> {
        sqlx::query(&format!(
            "INSERT INTO partition_leases (partition_id, owner, epoch, expires_at) \
             SELECT g, NULL, 0, 0 FROM generate_series(0, {}) AS g \
             ON CONFLICT (partition_id) DO NOTHING",
            i32::from(partitions) - 1
        ))
        .execute(&self.store.writer)
        .await?;
        self.cluster_heartbeat(node).await
    }

    /// The node's heartbeat: its row's time set to now (the row written anew if it was
    /// removed, its start time kept otherwise). Returns the database's time.
    pub async fn cluster_heartbeat(&self, node: &NodeInfo) -> Result<i64, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO cluster_nodes \
               (node_id, address, host, process, started_at, heartbeat_at, leaving) \
             VALUES ($1, $2, $3, $4, {NOW}, {NOW}, 0) \
             ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = {NOW}, \
               address = excluded.address, host = excluded.host, process = excluded.process \
             RETURNING heartbeat_at"
        ))
        .bind(&node.node_id)
        .bind(&node.address)
        .bind(&node.host)
        .bind(&node.process)
        .fetch_one(&self.store.writer)
        .await?;
        Ok(row.try_get::<i64, _>("heartbeat_at")?)
    }

    /// Every registered node, and the database's time.
    pub async fn cluster_nodes(&self) -> Result<(i64, Vec<NodeRow>), StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT node_id, address, host, process, started_at, heartbeat_at, leaving, \
               {NOW} AS now FROM cluster_nodes ORDER BY node_id"
        ))
        .fetch_all(&self.store.pool)
        .await?;
        let mut now = match rows.first() {
            Some(r) => r.try_get::<i64, _>("now")?,
            None => 0,
        };
        if rows.is_empty() {
            now = self.cluster_now().await?;
        }
        let nodes = rows
            .iter()
            .map(|r| {
                Ok(NodeRow {
                    node_id: r.try_get("node_id")?,
                    address: r.try_get("address")?,
                    host: r.try_get("host")?,
                    process: r.try_get("process")?,
                    started_at: r.try_get("started_at")?,
                    heartbeat_at: r.try_get("heartbeat_at")?,
                    leaving: r.try_get::<i32, _>("leaving")? != 0,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((now, nodes))
    }

    async fn cluster_now(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(&format!("SELECT {NOW} AS now"))
            .fetch_one(&self.store.pool)
            .await?;
        Ok(row.try_get::<i64, _>("now")?)
    }

    /// Every partition's lease, and the database's time.
    pub async fn cluster_leases(&self) -> Result<(i64, Vec<LeaseRow>), StoreError> {
        let rows = sqlx::query(
            "SELECT partition_id, owner, epoch, expires_at FROM partition_leases \
             ORDER BY partition_id",
        )
        .fetch_all(&self.store.pool)
        .await?;
        let leases = rows
            .iter()
            .map(|r| {
                Ok(LeaseRow {
                    partition: partition_of_row(r)?,
                    owner: r.try_get("owner")?,
                    epoch: r.try_get("epoch")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((self.cluster_now().await?, leases))
    }

    /// Who holds each partition with a running lease, and that node's address.
    pub async fn cluster_placement(&self) -> Result<Vec<(u16, String, String)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT l.partition_id, l.owner, n.address FROM partition_leases l \
             JOIN cluster_nodes n ON n.node_id = l.owner WHERE l.expires_at > {NOW}"
        ))
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok((
                    partition_of_row(r)?,
                    r.try_get("owner")?,
                    r.try_get("address")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Extends every lease the node holds to `lease_ms` from now; what it holds, at which
    /// epochs (a partition taken over meanwhile is not among them).
    pub async fn cluster_renew(
        &self,
        node_id: &str,
        lease_ms: i64,
    ) -> Result<Vec<Held>, StoreError> {
        let rows = sqlx::query(&format!(
            "UPDATE partition_leases SET expires_at = {NOW} + $2 \
             WHERE partition_id IN (SELECT partition_id FROM partition_leases WHERE owner = $1 \
               ORDER BY partition_id FOR UPDATE) \
             RETURNING partition_id, epoch"
        ))
        .bind(node_id)
        .bind(lease_ms)
        .fetch_all(&self.store.writer)
        .await?;
        Ok(held_rows(&rows)?)
    }

    /// Takes up to `max` partitions that nobody holds or whose lease has run out, each at the
    /// next epoch, leased for `lease_ms`; those taken. A partition whose old owner is inside a
    /// commit is skipped (its commit holds the row) and tried again at the next round.
    pub async fn cluster_claim(
        &self,
        node_id: &str,
        lease_ms: i64,
        max: usize,
    ) -> Result<Vec<Held>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(&format!(
            "UPDATE partition_leases SET owner = $1, epoch = epoch + 1, expires_at = {NOW} + $2 \
             WHERE partition_id IN (SELECT partition_id FROM partition_leases \
               WHERE owner IS NULL OR expires_at < {NOW} \
               ORDER BY partition_id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING partition_id, epoch"
        ))
        .bind(node_id)
        .bind(lease_ms)
        .bind(max as i64)
        .fetch_all(&self.store.writer)
        .await?;
        Ok(held_rows(&rows)?)
    }

    /// Gives up `partitions` (those the node still holds): free for any node at once.
    pub async fn cluster_release(
        &self,
        node_id: &str,
        partitions: &[u16],
    ) -> Result<u64, StoreError> {
        if partitions.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(&format!(
            "UPDATE partition_leases SET owner = NULL, expires_at = 0 \
             WHERE partition_id IN (SELECT partition_id FROM partition_leases \
               WHERE owner = $1 AND partition_id IN ({}) ORDER BY partition_id FOR UPDATE)",
            id_list(partitions)
        ))
        .bind(node_id)
        .execute(&self.store.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// The node is leaving: `leaving` set, so that nobody counts it in the shares any more.
    pub async fn cluster_leaving(&self, node_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE cluster_nodes SET leaving = 1 WHERE node_id = $1")
            .bind(node_id)
            .execute(&self.store.writer)
            .await?;
        Ok(())
    }

    /// The node has left, or is known dead (a predecessor on this machine whose process is
    /// gone): whatever it still holds is free at once, its row removed.
    pub async fn cluster_leave(&self, node_id: &str) -> Result<(), StoreError> {
        sqlx::query(FREE_ALL)
            .bind(node_id)
            .execute(&self.store.writer)
            .await?;
        sqlx::query("DELETE FROM cluster_nodes WHERE node_id = $1")
            .bind(node_id)
            .execute(&self.store.writer)
            .await?;
        Ok(())
    }

    /// Removes the rows of nodes silent for longer than `silent_ms`.
    pub async fn cluster_forget_silent(&self, silent_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(&format!(
            "DELETE FROM cluster_nodes WHERE heartbeat_at < {NOW} - $1"
        ))
        .bind(silent_ms)
        .execute(&self.store.writer)
        .await?;
        Ok(done.rows_affected())
    }
}

/// The channel on which cluster nodes announce what their event-log commits wrote.
const CHANNEL: &str = "symphainy_events";
/// An announcement's largest payload (PostgreSQL's limit is 8,000 bytes).
const PAYLOAD: usize = 7_000;

/// Inside an event-log commit: announces each session's new last `seq` to every node (as
/// `session:seq` words), delivered when the commit is, and never if it is rolled back.
pub(super) async fn announce(
    tx: &mut Transaction<'_, Any>,
    seqs: &HashMap<String, i64>,
) -> Result<(), sqlx::Error> {
    let mut payloads = vec![String::new()];
    for (session, seq) in seqs {
        let word = format!("{session}:{seq}");
        let last = payloads.last_mut().expect("one at least");
        if !last.is_empty() && last.len() + 1 + word.len() > PAYLOAD {
            payloads.push(word);
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(&word);
        }
    }
    for payload in payloads.iter().filter(|p| !p.is_empty()) {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A node's ear for the others' commits.
pub struct CommitListener {
    inner: sqlx::postgres::PgListener,
}

impl RuntimeStore {
    /// Listens to the cluster's commit announcements (PostgreSQL).
    pub async fn listen_commits(&self) -> Result<CommitListener, StoreError> {
        let Some(url) = &self.store.pg_url else {
            return Err(StoreError::Failed(sqlx::Error::Configuration(
                "commit announcements need PostgreSQL".into(),
            )));
        };
        let mut inner = sqlx::postgres::PgListener::connect(url.expose_secret()).await?;
        inner.listen(CHANNEL).await?;
        Ok(CommitListener { inner })
    }
}

impl CommitListener {
    /// The next announcement's `(session, seq)` pairs. `Ok(None)`: the connection broke (it
    /// is made again at the next call) and announcements may have been missed.
    pub async fn next(&mut self) -> Result<Option<Vec<(String, i64)>>, StoreError> {
        let Some(n) = self.inner.try_recv().await? else {
            return Ok(None);
        };
        Ok(Some(
            n.payload()
                .split_whitespace()
                .filter_map(|word| {
                    let (session, seq) = word.rsplit_once(':')?;
                    Some((session.to_string(), seq.parse().ok()?))
                })
                .collect(),
        ))
    }
}

/// A write transaction that holds the fence's partitions (a cluster node's) until it ends, or
/// `Moved` when the node no longer holds one of them at its epoch (nothing written).
pub(super) async fn fenced_begin(
    w: &Detached,
    fence: Option<&Fence>,
) -> Result<crate::store::write::Tx, StoreError> {
    let mut tx = w.begin().await?;
    if let Some(fence) = fence {
        let lost = hold_partitions(&mut tx, &fence.node_id, &fence.held, fence.limit_ms).await?;
        if !lost.is_empty() {
            tx.rollback().await?;
            return Err(StoreError::Moved(format!(
                "{MOVED} (partitions {lost:?} were taken over)"
            )));
        }
    }
    Ok(tx)
}

/// Inside an event-log commit: holds the rows of the partitions in `fence` (`FOR SHARE`, until
/// the commit) and returns those the node no longer holds at the epoch it believes. A takeover
/// (which updates the row) waits for this commit; a commit after a takeover sees its epoch.
pub(super) async fn hold_partitions(
    tx: &mut Transaction<'_, Any>,
    node_id: &str,
    fence: &[Held],
    limit_ms: u64,
) -> Result<Vec<u16>, sqlx::Error> {
    if fence.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<u16> = fence.iter().map(|(p, _)| *p).collect();
    // The transaction's own limits are set in the same statement (`set_config(…, true)` holds
    // until the transaction ends): no round trip of their own.
    let rows = sqlx::query(&format!(
        "WITH limits AS (SELECT set_config('idle_in_transaction_session_timeout', $2, true) AS i, \
           set_config('lock_timeout', $2, true) AS l) \
         SELECT p.partition_id, p.epoch FROM partition_leases p, limits \
         WHERE p.owner = $1 AND p.partition_id IN ({}) ORDER BY p.partition_id FOR SHARE OF p",
        id_list(&ids)
    ))
    .bind(node_id)
    .bind(limit_ms.max(1).to_string())
    .fetch_all(&mut **tx)
    .await?;
    let held = held_rows(&rows)?;
    Ok(fence
        .iter()
        .filter(|pair| !held.contains(pair))
        .map(|(p, _)| *p)
        .collect())
}

fn partition_of_row(r: &sqlx::any::AnyRow) -> Result<u16, sqlx::Error> {
    let p: i32 = r.try_get("partition_id")?;
    u16::try_from(p).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn held_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Held>, sqlx::Error> {
    let mut held = rows
        .iter()
        .map(|r| Ok((partition_of_row(r)?, r.try_get::<i64, _>("epoch")?)))
        .collect::<Result<Vec<Held>, sqlx::Error>>()?;
    held.sort_unstable();
    Ok(held)
}

/// Partition numbers as an SQL list (they are integers this process made, never input).
fn id_list(partitions: &[u16]) -> String {
    partitions
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
