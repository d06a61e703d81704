-- A cluster of runtime nodes on one PostgreSQL (a single SQLite node never writes here).
-- Each node registers and heartbeats; times are the database's clock in milliseconds.
CREATE TABLE cluster_nodes (
    node_id TEXT PRIMARY KEY,
    -- The node's Runtime API, as the other nodes reach it (http://host:port).
    address TEXT NOT NULL,
    -- The machine and the process (boot id, pid, process start): a node that finds a
    -- predecessor of its own machine whose process is gone knows it is dead at once.
    host TEXT NOT NULL,
    process TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    -- 1 while the node hands its partitions over before it exits.
    leaving INTEGER NOT NULL DEFAULT 0
);
-- Sessions hash into a fixed number of partitions; each is leased to one node at a time. The
-- epoch grows at every change of owner, and every commit of the event log holds its partitions'
-- rows at the epochs it believes (FOR SHARE): a takeover waits for such a commit, and a commit
-- after a takeover finds another epoch and is refused.
CREATE TABLE partition_leases (
    partition_id INTEGER PRIMARY KEY,
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0
);
