//! Runtime nodes on one PostgreSQL (here in one process, each on its own port 0): the
//! partitions split evenly among the live nodes, a leaving node hands its share over, a node
//! runs the sessions of its own partitions, a commit for a partition another node took over is
//! refused with nothing written, and the leases' statements keep their promises. (PostgreSQL
//! only: on SQLite the runtime is a single node.)

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use symphainy::config::Config;
use symphainy::runtime::cluster::partition_of;
use symphainy::store::cluster::NodeInfo;
use symphainy::store::Store;

use crate::common::*;

fn node_config(base: &Config, node_id: &str, lease_ms: u64) -> Config {
    let mut config = base.clone();
    config.runtime.cluster.node_id = Some(node_id.into());
    config.runtime.cluster.lease = Duration::from_millis(lease_ms);
    config
}

async fn view(t: &TestApp) -> Value {
    let r = t
        .http
        .get(t.url("/api/cluster"))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

/// How many partitions each node holds with a running lease.
fn owners(view: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for p in view["partitions"].as_array().unwrap() {
        if let (Some(owner), true) = (p["owner"].as_str(), p["expires_in_ms"].as_i64() > Some(0)) {
            *out.entry(owner.to_string()).or_default() += 1;
        }
    }
    out
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Who holds the session's partition, by the view.
fn owner_of(view: &Value, session: &str) -> String {
    let p = usize::from(partition_of(session));
    view["partitions"][p]["owner"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// An echo submitted to `t`'s Runtime API: its status code and body.
async fn submit(t: &TestApp, session: &str, message: &str) -> (u16, Value) {
    t.submit(json!({"intent_type": "echo", "session_id": session,
        "parameters": {"message": message}}))
        .await
}

/// Submits an echo on `t` and waits for its end; its status.
async fn echo(t: &TestApp, session: &str, message: &str) -> Value {
    t.run_intent(session, None, "echo", json!({ "message": message }))
        .await
}

#[tokio::test]
async fn nodes_share_the_partitions_and_a_leaving_node_hands_its_share_over() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let base = test_config(&db);
    let a = spawn_app_with(node_config(&base, "node-a", 1000), builtins()).await;
    let seen = view(&a).await;
    assert_eq!(seen["node_id"], "node-a");
    assert_eq!(seen["partitions"].as_array().unwrap().len(), 256);
    assert_eq!(
        owners(&seen),
        counts(&[("node-a", 256)]),
        "alone, it holds all"
    );

    let b = spawn_app_with(node_config(&base, "node-b", 1000), builtins()).await;
    // Node a hands half over at a heartbeat, node b takes them at one of its own.
    let even = counts(&[("node-a", 128), ("node-b", 128)]);
    let seen = eventually(Duration::from_secs(15), || async {
        let v = view(&a).await;
        (owners(&v) == even).then_some(v)
    })
    .await;
    let nodes = seen["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes
        .iter()
        .all(|n| n["live"] == true && n["partitions"] == 128));
    assert_eq!(owners(&view(&b).await), even, "both see the same leases");

    // A session of each node's partitions: each node runs its own.
    let mut on = BTreeMap::new();
    while on.len() < 2 {
        let s = runtime_session(&a.http, &a.base, &a.token).await;
        on.entry(owner_of(&seen, &s)).or_insert(s);
    }
    let done = echo(&a, &on["node-a"], "to a").await;
    assert_eq!(done["status"], "completed");
    let done = echo(&b, &on["node-b"], "to b").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["artifacts"]["echo"]["semantic_payload"]["message"],
        "to b"
    );

    // Node b leaves: node a holds everything again, and runs b's session.
    b.app.shutdown().await;
    let alone = counts(&[("node-a", 256)]);
    eventually(Duration::from_secs(15), || async {
        (owners(&view(&a).await) == alone).then_some(())
    })
    .await;
    let after = view(&a).await;
    assert_eq!(
        after["nodes"].as_array().unwrap().len(),
        1,
        "b's row is gone"
    );
    let done = echo(&a, &on["node-b"], "to a now").await;
    assert_eq!(done["status"], "completed");
    a.app.shutdown().await;
    db.cleanup().await;
}

/// Two nodes with an even split; their cluster view once it is even.
async fn two_nodes(db: &TestDb) -> (TestApp, TestApp, Value) {
    let base = test_config(db);
    let a = spawn_app_with(node_config(&base, "node-a", 1000), builtins()).await;
    let b = spawn_app_with(node_config(&base, "node-b", 1000), builtins()).await;
    let even = counts(&[("node-a", 128), ("node-b", 128)]);
    let seen = eventually(Duration::from_secs(15), || async {
        let v = view(&a).await;
        (owners(&v) == even).then_some(v)
    })
    .await;
    (a, b, seen)
}

crate::both_wirings!(commands_run_where_their_session_lives_and_its_events_reach_every_node);

/// Over both wirings: node a's Experience Plane in its process, or on its own over HTTP.
async fn commands_run_where_their_session_lives_and_its_events_reach_every_node() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let (a, b, seen) = two_nodes(&db).await;
    // An anonymous session (through a's Experience Plane) that node b holds.
    let session = loop {
        let s = a.anonymous().await;
        if owner_of(&seen, &s) == "node-b" {
            break s;
        }
    };
    // A socket on node a's Experience Plane follows it.
    let mut ws = crate::common::ws::connect(&a.exp, &format!("session_id={session}")).await;
    let hello = crate::common::ws::next(&mut ws).await.unwrap();
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");

    // A submit to node a runs on node b; its events reach a's socket, in order.
    let r = a
        .http
        .post(format!("{}/api/intent/submit", a.exp))
        .json(&json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "via a"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let accepted: Value = r.json().await.unwrap();
    let events = crate::common::ws::until(&mut ws, "EXECUTION_COMPLETED").await;
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["execution_id"] == accepted["execution_id"])
        .collect();
    assert_eq!(
        mine.iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "EXECUTION_STARTED",
            "STEP_STARTED",
            "STEP_COMPLETED",
            "EXECUTION_COMPLETED"
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "contiguous from 1"
    );
    // Node b ran it: its driver's metrics say so, a's do not.
    let done = a
        .wait_terminal(accepted["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(
        done["artifacts"]["echo"]["semantic_payload"]["message"],
        "via a"
    );
    // Node b runs the session; node a never activated it.
    assert!(active_sessions(&b).await.contains(&session));
    assert!(!active_sessions(&a).await.contains(&session));

    // A chat turn sent on a's socket is answered by the agent on node b.
    crate::common::ws::send(
        &mut ws,
        json!({"type": "agent.message", "payload": {"text": "hello",
            "context": {"surface": "guide", "conversation_id": "c-1"}}}),
    )
    .await;
    let turn = crate::common::ws::until(&mut ws, "AGENT_RESPONSE").await;
    let response = turn.last().unwrap();
    assert_eq!(response["data"]["conversation_id"], "c-1");
    let last = *seqs.last().unwrap();
    let turn_seqs: Vec<i64> = turn.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(turn_seqs[0], last + 1, "no gap after the echo's events");
    assert!(turn_seqs.windows(2).all(|w| w[1] == w[0] + 1));
    a.app.shutdown().await;
    b.app.shutdown().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_newcomer_reads_what_a_lone_node_committed_before_it_began_announcing() {
    use futures::StreamExt;
    use symphainy::runtime::contract::model::Scope;
    use symphainy::runtime::RuntimeClient;
    let Some(db) = postgres_db().await else {
        return;
    };
    let base = test_config(&db);
    // Node a is alone, so it does not announce; its next round (when it would see node b and
    // start announcing) is a quarter of a minute away.
    let a = spawn_app_with(node_config(&base, "node-a", 60_000), builtins()).await;
    let b = spawn_app_with(node_config(&base, "node-b", 2_000), builtins()).await;
    let session = runtime_session(&a.http, &a.base, &a.token).await;
    // A subscriber on node b, of a session node a holds.
    let mut events = b
        .app
        .app
        .runtime
        .client()
        .subscribe(&Scope::Any, &session, 0)
        .await
        .unwrap();
    a.submit_echo(&session, None, "unannounced").await;
    // Node b's subscribers look in the store three of its heartbeats after it began listening
    // (1.5 s): the events arrive long before node a's next round.
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(e)) = events.next().await {
            seen.push((e.seq, e.event_type.clone()));
            if e.event_type == "EXECUTION_COMPLETED" {
                return;
            }
        }
    })
    .await
    .expect("the newcomer's subscriber got the lone node's events");
    assert_eq!(
        seen,
        [
            (1, "EXECUTION_STARTED".to_string()),
            (2, "STEP_STARTED".to_string()),
            (3, "STEP_COMPLETED".to_string()),
            (4, "EXECUTION_COMPLETED".to_string())
        ]
    );
    b.app.shutdown().await;
    a.app.shutdown().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_commit_for_a_partition_taken_over_is_refused_and_the_node_lets_it_go() {
    let Some(db) = postgres_db().await else {
        return;
    };
    // A long lease: the node's keeper does not look again during the test (its rounds are
    // run by hand below).
    let a = spawn_app_with(node_config(&test_config(&db), "node-a", 60_000), builtins()).await;
    let session = runtime_session(&a.http, &a.base, &a.token).await;
    let done = echo(&a, &session, "first").await;
    assert_eq!(done["status"], "completed");

    // Another node takes the session's partition over, as a takeover does: the next epoch.
    let p = i32::from(partition_of(&session));
    let raw = raw_pool(&db.url).await;
    let epoch: i64 =
        sqlx::query_scalar("SELECT epoch FROM partition_leases WHERE partition_id = $1")
            .bind(p)
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(epoch, 1, "taken once, by node a at its start");
    take_over(&raw, p).await;
    let rows = |table: &'static str| {
        let raw = raw.clone();
        let session = session.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!(
                "SELECT COUNT(*) FROM {table} WHERE session_id = $1"
            ))
            .bind(&session)
            .fetch_one(&raw)
            .await
            .unwrap()
        }
    };
    let (executions, events) = (rows("executions").await, rows("events").await);
    assert_eq!(executions, 1);

    // Node a still believes it holds the partition: its commit is refused, nothing stored.
    let (status, body) = submit(&a, &session, "late").await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "runtime_unavailable");
    assert_eq!(rows("executions").await, executions);
    assert_eq!(rows("events").await, events);

    // Its keeper's next round sees the loss: the session's actor stops, and the node refuses
    // the session before any write.
    let runtime = a.app.app.runtime.clone();
    runtime.keeper().unwrap().tick().await.unwrap();
    let held: Vec<u16> = runtime
        .keeper()
        .unwrap()
        .held()
        .iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(held.len(), 255);
    assert!(!held.contains(&partition_of(&session)));
    assert_eq!(submit(&a, &session, "later").await.0, 503);
    assert_eq!(rows("executions").await, executions);

    // Sessions of the partitions it still holds go on.
    let other = loop {
        let s = runtime_session(&a.http, &a.base, &a.token).await;
        if partition_of(&s) != partition_of(&session) {
            break s;
        }
    };
    assert_eq!(echo(&a, &other, "still here").await["status"], "completed");
    raw.close().await;
    a.app.shutdown().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_node_that_lets_a_partition_go_stops_the_steps_running_there() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let a = spawn_app_with(node_config(&test_config(&db), "node-a", 60_000), builtins()).await;
    let runtime = a.app.app.runtime.clone();
    let session = runtime_session(&a.http, &a.base, &a.token).await;
    let (status, body) = a
        .submit(json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "slow", "delay_ms": 30000}}))
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["execution_id"].as_str().unwrap().to_string();
    // Its step runs here.
    eventually(Duration::from_secs(10), || async {
        runtime.ctx.drivers.contains_key(&id).then_some(())
    })
    .await;
    // Another node takes the session's partition; this node's next round lets it go, and the
    // step's driver stops with the session (the new owner will run the step again).
    let raw = raw_pool(&db.url).await;
    take_over(&raw, i32::from(partition_of(&session))).await;
    runtime.keeper().unwrap().tick().await.unwrap();
    assert!(!active_sessions(&a).await.contains(&session));
    assert!(
        !runtime.ctx.drivers.contains_key(&id),
        "the driver was stopped"
    );
    // Nothing more was written for it here: it is still running, as the new owner finds it.
    let status = a.status(&id).await;
    assert_eq!(status["status"], "running");
    assert_eq!(event_types(&status), ["EXECUTION_STARTED", "STEP_STARTED"]);
    raw.close().await;
    a.app.shutdown().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_partition_that_moves_away_and_back_continues_its_sessions_logs() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let a = spawn_app_with(node_config(&test_config(&db), "node-a", 60_000), builtins()).await;
    let keeper = a.app.app.runtime.keeper().unwrap().clone();
    let session = runtime_session(&a.http, &a.base, &a.token).await;
    assert_eq!(echo(&a, &session, "first").await["status"], "completed");
    let p = i32::from(partition_of(&session));
    let raw = raw_pool(&db.url).await;
    // Node z takes the partition over, and writes two events of the session meanwhile.
    take_over(&raw, p).await;
    keeper.tick().await.unwrap();
    let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE session_id = $1")
        .bind(&session)
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(last, 4, "the echo's four events");
    for seq in [5i64, 6] {
        sqlx::query(
            "INSERT INTO events (event_id, session_id, seq, event_type, execution_id, event_key, \
             data, created_at) VALUES ($1, $2, $3, 'AGENT_RESPONSE', NULL, $4, '{}', 0)",
        )
        .bind(format!("z-{seq}"))
        .bind(&session)
        .bind(seq)
        .bind(format!("z-key-{seq}"))
        .execute(&raw)
        .await
        .unwrap();
    }
    // Node z lets it go; node a takes it back at its next round.
    sqlx::query("UPDATE partition_leases SET owner = NULL, expires_at = 0 WHERE partition_id = $1")
        .bind(p)
        .execute(&raw)
        .await
        .unwrap();
    keeper.tick().await.unwrap();
    assert!(keeper
        .held()
        .iter()
        .any(|(q, epoch)| i32::from(*q) == p && *epoch == 3));
    // The session's log goes on after z's events (node a's cached `seq` was 4).
    let done = echo(&a, &session, "back").await;
    assert_eq!(done["status"], "completed");
    let seqs: Vec<i64> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [7, 8, 9, 10]);
    raw.close().await;
    a.app.shutdown().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_lease_is_taken_over_only_once_it_runs_out_and_always_at_a_new_epoch() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let store = store.runtime();
    let node = |id: &str| NodeInfo {
        node_id: id.into(),
        address: format!("http://{id}:8000"),
        host: "test".into(),
        process: String::new(),
    };
    store.cluster_join(&node("a"), 256).await.unwrap();
    store.cluster_join(&node("b"), 256).await.unwrap();
    let a = store.cluster_claim("a", 400, 300).await.unwrap();
    assert_eq!(a.len(), 256, "all free, at most as many as there are");
    assert!(a.iter().all(|(_, epoch)| *epoch == 1));
    assert!(
        store.cluster_claim("b", 400, 10).await.unwrap().is_empty(),
        "all held"
    );
    assert_eq!(store.cluster_renew("a", 400).await.unwrap(), a);

    // Node a stops renewing: once its leases ran out, b takes them at the next epoch.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let b = store.cluster_claim("b", 60_000, 10).await.unwrap();
    assert_eq!(b, (0..10).map(|p| (p, 2)).collect::<Vec<_>>());
    // a's renewal finds only what nobody took.
    let renewed = store.cluster_renew("a", 60_000).await.unwrap();
    assert_eq!(renewed, (10..256).map(|p| (p, 1)).collect::<Vec<_>>());

    // Given back, a partition is free at once, and taken again at a new epoch.
    assert_eq!(
        store.cluster_release("b", &[3, 4, 200]).await.unwrap(),
        2,
        "200 is a's"
    );
    let again = store.cluster_claim("a", 60_000, 5).await.unwrap();
    assert_eq!(again, vec![(3, 3), (4, 3)]);
    // Leaving frees the rest of a node's partitions and removes its row.
    store.cluster_leave("b").await.unwrap();
    let (_, leases) = store.cluster_leases().await.unwrap();
    assert_eq!(leases.iter().filter(|l| l.owner.is_none()).count(), 8);
    let (_, nodes) = store.cluster_nodes().await.unwrap();
    assert_eq!(
        nodes.iter().map(|n| n.node_id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    db.cleanup().await;
}

/// Node z takes partition `p` over, as a takeover does: the next epoch, a lease of a minute.
async fn take_over(raw: &sqlx::PgPool, p: i32) {
    sqlx::query(
        "UPDATE partition_leases SET owner = 'node-z', epoch = epoch + 1, \
         expires_at = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT + 60000 \
         WHERE partition_id = $1",
    )
    .bind(p)
    .execute(raw)
    .await
    .unwrap();
}

async fn active_sessions(t: &TestApp) -> Vec<String> {
    let router = t.app.app.runtime.ctx.router.get().unwrap();
    ractor::call!(
        router,
        symphainy::runtime::engine::messages::RouterMsg::ActiveSessions
    )
    .unwrap()
}

fn builtins() -> symphainy::runtime::HandlerRegistry {
    symphainy::runtime::realms::builtin()
}

async fn raw_pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}
