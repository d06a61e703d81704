//! The real binary as a cluster on one PostgreSQL: `runtime` processes and `experience`
//! processes, each on port 0, the Experience nodes given every runtime node's address.
//! - SIGKILL of a runtime node under load (agent-socket clients and REST submitters on both
//!   Experience nodes): every accepted intent ends exactly once, no step whose completion was
//!   recorded runs again, every socket's events stay contiguous, and the dead node's
//!   partitions are held again within the lease plus a stated bound.
//! - SIGSTOP of a node past its lease: the others take over and finish its execution; after
//!   SIGCONT its late writes are refused, and it rejoins holding nothing it lost.
//! - A rolling restart of three runtime nodes under load loses nothing, and a fourth node takes
//!   a share. (PostgreSQL only: on SQLite the runtime is a single node.)

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

const TOKEN: &str = "cluster-processes-token";
const LEASE_MS: u64 = 2_000;
/// A dead node's partitions are held again within the lease and this: a heartbeat of the
/// survivors (a quarter lease) for them to see the leases ran out, and two seconds for their
/// rounds' own work and this test's polling on a loaded machine.
const TAKEOVER_BOUND: Duration = Duration::from_millis(LEASE_MS / 4 + 2_000);

async fn runtime_node(db: &TestDb, id: &str) -> Binary {
    runtime_node_at(db, id, "127.0.0.1:0").await
}

/// Runtime nodes of these ids, and their Runtime API addresses.
async fn runtime_nodes(db: &TestDb, ids: &[&str]) -> (Vec<Binary>, Vec<String>) {
    let mut nodes = Vec::new();
    for id in ids {
        nodes.push(runtime_node(db, id).await);
    }
    let bases = nodes.iter().map(|b| b.base.clone()).collect();
    (nodes, bases)
}

/// A runtime node listening at `addr`.
async fn runtime_node_at(db: &TestDb, id: &str, addr: &str) -> Binary {
    let lease = LEASE_MS.to_string();
    start_plane(
        db,
        TOKEN,
        "runtime",
        &[
            ("SYMPHAINY_NODE_ID", id),
            ("SYMPHAINY_CLUSTER_LEASE_MS", &lease),
            ("SYMPHAINY_RUNTIME_ADDR", addr),
        ],
    )
    .await
}

async fn experience_node(db: &TestDb, runtimes: &[String]) -> Binary {
    start_plane(
        db,
        TOKEN,
        "experience",
        &[("SYMPHAINY_RUNTIME_URL", &runtimes.join(","))],
    )
    .await
}

async fn view(http: &reqwest::Client, base: &str) -> Option<Value> {
    let r = http
        .get(format!("{base}/api/cluster"))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    r.json().await.ok()
}

/// Partitions per node with a running lease.
fn owners(view: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for p in view["partitions"].as_array().into_iter().flatten() {
        if let (Some(owner), true) = (p["owner"].as_str(), p["expires_in_ms"].as_i64() > Some(0)) {
            *out.entry(owner.to_string()).or_default() += 1;
        }
    }
    out
}

/// Waits until exactly `nodes` hold every partition, evenly (shares differ by one at most).
async fn even_among(http: &reqwest::Client, base: &str, nodes: &[&str], within: Duration) -> Value {
    eventually(within, || async {
        let v = view(http, base).await?;
        let o = owners(&v);
        let even = o.len() == nodes.len()
            && nodes.iter().all(|n| o.contains_key(*n))
            && o.values().sum::<usize>() == 256
            && o.values().max()? - o.values().min()? <= 1;
        even.then_some(v)
    })
    .await
}

/// A socket client of one session on an Experience node: chats with the Guide (a turn every
/// half second), reads events, reconnects after a cut with `after_seq` = the last `seq` it
/// saw, records every `seq`. Its answers (`AGENT_RESPONSE`s) counted in `answered`.
fn socket_client(
    exp: String,
    session: String,
    seen: Arc<Mutex<Vec<i64>>>,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut asked = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let last = seen.lock().last().copied().unwrap_or(0);
            let url = format!(
                "{}/api/runtime/agent?session_id={session}&after_seq={last}",
                exp.replace("http://", "ws://")
            );
            let Ok(Ok((mut ws, _))) = tokio::time::timeout(
                Duration::from_secs(2),
                tokio_tungstenite::connect_async(url),
            )
            .await
            else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            loop {
                if asked.elapsed() > Duration::from_millis(500) {
                    asked = Instant::now();
                    let turn = json!({"type": "agent.message", "payload": {"text": "what can you do?",
                        "context": {"surface": "guide", "conversation_id": "c-load"}}});
                    if futures::SinkExt::send(&mut ws, Message::Text(turn.to_string().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                let next = tokio::time::timeout(Duration::from_millis(200), ws.next()).await;
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match next {
                    Err(_) => continue,
                    Ok(Some(Ok(Message::Text(t)))) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        if let Some(seq) = v["seq"].as_i64() {
                            seen.lock().push(seq);
                        }
                        if v["event_type"] == "AGENT_RESPONSE" {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Ok(Some(Ok(_))) => continue,
                    Ok(Some(Err(_)) | None) => break,
                }
            }
        }
    })
}

/// Submits echoes through an Experience node, round-robin over `sessions`, each with an
/// idempotency key that it sends again until the intent is accepted (so an answer lost with
/// a dying node never makes a second intent). The accepted execution ids.
fn submitter(
    exp: String,
    sessions: Vec<String>,
    accepted: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    name: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let mut i = 0usize;
        while !stop.load(Ordering::SeqCst) {
            i += 1;
            let key = format!("{name}-{i}");
            loop {
                let r = http
                    .post(format!("{exp}/api/intent/submit"))
                    .header("Idempotency-Key", &key)
                    .json(
                        &json!({"intent_type": "echo", "session_id": sessions[i % sessions.len()],
                        "parameters": {"message": key, "delay_ms": (i * 37) % 300}}),
                    )
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 202 => {
                        let v: Value = r.json().await.unwrap();
                        accepted
                            .lock()
                            .push(v["execution_id"].as_str().unwrap().to_string());
                        break;
                    }
                    // Refused for now (a partition changing hands): the same key again.
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
    })
}

/// A socket client: its session, the `seq`s it saw, its task.
type Client = (String, Arc<Mutex<Vec<i64>>>, tokio::task::JoinHandle<()>);

/// Load on both Experience nodes: a socket client per session, and two submitters per node.
struct Load {
    stop_submitters: Arc<AtomicBool>,
    stop_clients: Arc<AtomicBool>,
    submitters: Vec<tokio::task::JoinHandle<()>>,
    clients: Vec<Client>,
    accepted: Arc<Mutex<Vec<String>>>,
    /// Chat turns answered on the sockets.
    answered: Arc<AtomicUsize>,
}

async fn start_load(exps: &[String], sessions_per_node: usize) -> Load {
    let http = reqwest::Client::new();
    let (stop_submitters, stop_clients) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let (mut clients, mut submitters) = (Vec::new(), Vec::new());
    const NAMES: [&str; 4] = ["e0-a", "e0-b", "e1-a", "e1-b"];
    for (n, exp) in exps.iter().enumerate() {
        let mut sessions = Vec::new();
        for _ in 0..sessions_per_node {
            sessions.push(anonymous_session(&http, exp).await);
        }
        for s in &sessions {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let task = socket_client(
                exp.clone(),
                s.clone(),
                seen.clone(),
                answered.clone(),
                stop_clients.clone(),
            );
            clients.push((s.clone(), seen, task));
        }
        for k in 0..2 {
            submitters.push(submitter(
                exp.clone(),
                sessions.clone(),
                accepted.clone(),
                stop_submitters.clone(),
                NAMES[n * 2 + k],
            ));
        }
    }
    Load {
        stop_submitters,
        stop_clients,
        submitters,
        clients,
        accepted,
        answered,
    }
}

impl Load {
    /// Stops submitting, then checks what the issue promises: every accepted intent completed
    /// exactly once, its one step completed once, and every client saw its session's whole
    /// log (its chat turns' events too), each `seq` once and in order.
    async fn stop_and_check(self, db: &TestDb, exp: &str) -> usize {
        let answered = self.answered.load(Ordering::SeqCst);
        assert!(
            answered >= self.clients.len(),
            "chat turns were answered ({answered})"
        );
        self.stop_submitters.store(true, Ordering::SeqCst);
        for s in self.submitters {
            s.await.unwrap();
        }
        let accepted = self.accepted.lock().clone();
        let http = reqwest::Client::new();
        for id in &accepted {
            let done = eventually(Duration::from_secs(60), || async {
                let r = http
                    .get(format!("{exp}/api/execution/{id}/status"))
                    .send()
                    .await
                    .ok()?;
                terminal(r.json().await.ok()?)
            })
            .await;
            assert_eq!(done["status"], "completed", "{done}");
        }
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        // Per execution: its completions and its steps' completions, counted in the log.
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT execution_id, \
               SUM(CASE WHEN event_type = 'EXECUTION_COMPLETED' THEN 1 ELSE 0 END), \
               SUM(CASE WHEN event_type = 'STEP_COMPLETED' THEN 1 ELSE 0 END) \
             FROM events WHERE execution_id IS NOT NULL GROUP BY execution_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let counted: HashMap<String, (i64, i64)> =
            rows.into_iter().map(|(id, c, s)| (id, (c, s))).collect();
        for id in &accepted {
            assert_eq!(counted.get(id), Some(&(1, 1)), "execution {id}");
        }
        // No execution beyond the accepted ones (a repeated key made none).
        let executions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM executions")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(executions as usize, accepted.len());
        // A step started again after its completion was recorded would show as a second
        // STEP_COMPLETED (above) or a STEP_STARTED after it:
        let restarted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events s JOIN events c ON c.execution_id = s.execution_id \
             WHERE c.event_type = 'STEP_COMPLETED' AND s.event_type = 'STEP_STARTED' \
               AND s.session_id = c.session_id AND s.seq > c.seq",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(restarted, 0, "a completed step ran again");
        for (session, seen, _) in &self.clients {
            let last: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = $1",
            )
            .bind(session)
            .fetch_one(&pool)
            .await
            .unwrap();
            eventually(Duration::from_secs(20), || async {
                (seen.lock().last().copied().unwrap_or(0) >= last).then_some(())
            })
            .await;
            let got = seen.lock().clone();
            assert_eq!(got, (1..=last).collect::<Vec<_>>(), "session {session}");
        }
        pool.close().await;
        self.stop_clients.store(true, Ordering::SeqCst);
        for (_, _, task) in self.clients {
            task.await.unwrap();
        }
        accepted.len()
    }
}

fn signal(child: &tokio::process::Child, sig: &str) {
    let pid = child.id().unwrap().to_string();
    let ok = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_of_a_runtime_node_under_load_loses_nothing() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let http = reqwest::Client::new();
    let (mut r, bases) = runtime_nodes(&db, &["r0", "r1", "r2"]).await;
    // Each Experience node starts with a different runtime node.
    let e0 = experience_node(&db, &bases).await;
    let e1 = experience_node(&db, &[&bases[1..], &bases[..1]].concat()).await;
    even_among(
        &http,
        &bases[0],
        &["r0", "r1", "r2"],
        Duration::from_secs(20),
    )
    .await;

    let load = start_load(&[e0.exp.clone(), e1.exp.clone()], 8).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = load.accepted.lock().len();
    let mut r1 = r.remove(1);
    r1.child.kill().await.unwrap(); // SIGKILL, mid-load
    let killed = Instant::now();
    // The survivors hold everything again (then evenly).
    eventually(Duration::from_secs(30), || async {
        let o = owners(&view(&http, &bases[0]).await?);
        (o.values().sum::<usize>() == 256 && !o.contains_key("r1")).then_some(())
    })
    .await;
    let takeover = killed.elapsed();
    eprintln!("partitions held again {takeover:?} after SIGKILL (lease {LEASE_MS} ms)");
    assert!(
        takeover <= Duration::from_millis(LEASE_MS) + TAKEOVER_BOUND,
        "takeover took {takeover:?}"
    );
    even_among(&http, &bases[0], &["r0", "r2"], Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let total = load.stop_and_check(&db, &e0.exp).await;
    eprintln!("{before} intents accepted before the kill, {total} in all");
    assert!(before > 20 && total > before, "load was applied throughout");
    drop((e0, e1, r));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_loses_its_partitions_and_its_late_writes_are_refused() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let http = reqwest::Client::new();
    let r0 = runtime_node(&db, "r0").await;
    let r1 = runtime_node(&db, "r1").await;
    let seen = even_among(&http, &r0.base, &["r0", "r1"], Duration::from_secs(20)).await;
    let epochs_before: Vec<i64> = seen["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["epoch"].as_i64().unwrap())
        .collect();
    // A session r1 holds, with a step of 3 s running there (submitted through r0).
    let session = loop {
        let s = runtime_session(&http, &r0.base, TOKEN).await;
        let p = symphainy::runtime::cluster::partition_of(&s) as usize;
        if seen["partitions"][p]["owner"] == "r1" {
            break s;
        }
    };
    let r = http
        .post(format!("{}/api/intent/submit", r0.base))
        .bearer_auth(TOKEN)
        .json(&json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "paused", "delay_ms": 3000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(Duration::from_secs(10), || async {
        let v: Value = http
            .get(format!("{}/api/execution/{id}/status", r0.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (v["status"] == "running").then_some(())
    })
    .await;

    signal(&r1.child, "-STOP");
    // Past its lease, r0 holds everything and finishes the execution (its step run again:
    // its completion was never recorded).
    even_among(&http, &r0.base, &["r0"], Duration::from_secs(20)).await;
    let done = wait_terminal(&http, &r0.base, TOKEN, &id).await;
    assert_eq!(done["status"], "completed");

    // r1 wakes: its step's late completion is refused (the execution's events stay as r0
    // wrote them), and it rejoins, holding only what it took again, at new epochs.
    signal(&r1.child, "-CONT");
    let events_then = event_types(&done);
    let after = even_among(&http, &r0.base, &["r0", "r1"], Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(4000)).await; // past r1's step's end
    let status: Value = http
        .get(format!("{}/api/execution/{id}/status", r0.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(event_types(&status), events_then, "no late write landed");
    assert_eq!(
        events_then
            .iter()
            .filter(|t| *t == "STEP_COMPLETED" || *t == "EXECUTION_COMPLETED")
            .count(),
        2
    );
    for (p, lease) in after["partitions"].as_array().unwrap().iter().enumerate() {
        if lease["owner"] == "r1" {
            assert!(
                lease["epoch"].as_i64().unwrap() >= epochs_before[p] + 2,
                "partition {p} held again by r1 without a takeover: {lease}"
            );
        }
    }
    drop((r0, r1));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_loses_nothing_and_a_new_node_takes_a_share() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let http = reqwest::Client::new();
    let (mut r, bases) = runtime_nodes(&db, &["r0", "r1", "r2"]).await;
    let e0 = experience_node(&db, &bases).await;
    let all = ["r0", "r1", "r2"];
    even_among(&http, &bases[0], &all, Duration::from_secs(20)).await;
    let load = start_load(std::slice::from_ref(&e0.exp), 6).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    for i in 0..3 {
        // SIGTERM: the node hands its partitions over before it exits; it comes back on the
        // same address (the one the Experience node knows).
        signal(&r[i].child, "-TERM");
        let status = tokio::time::timeout(Duration::from_secs(20), r[i].child.wait())
            .await
            .expect("exits after SIGTERM")
            .unwrap();
        assert!(status.success(), "{status:?}");
        let addr = bases[i].trim_start_matches("http://");
        r[i] = runtime_node_at(&db, &format!("r{i}"), addr).await;
        assert_eq!(r[i].base, bases[i]);
        even_among(&http, &bases[(i + 1) % 3], &all, Duration::from_secs(20)).await;
    }
    // A fourth node joins and takes its share without a restart of the others.
    let r3 = runtime_node(&db, "r3").await;
    even_among(
        &http,
        &r3.base,
        &["r0", "r1", "r2", "r3"],
        Duration::from_secs(20),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let total = load.stop_and_check(&db, &e0.exp).await;
    eprintln!("{total} intents accepted across the rolling restart and the join");
    assert!(total > 20, "load was applied");
    drop((e0, r, r3));
    db.cleanup().await;
}
