//! Benchmarks, each beside its baseline measured in the same run, with the ratio:
//!
//! ```sh
//! cargo bench --bench runtime                      # all
//! cargo bench --bench runtime -- roundtrip durable # some: roundtrip breakdown actor durable
//!                                                  #   cluster parse activation restart storm
//!                                                  #   idle
//! TEST_DATABASE_URL=postgres://… cargo bench --bench runtime -- durable   # adds PostgreSQL
//! ```
//!
//! The servers run in this process on port 0 (the idle-connection figure runs the release
//! binary as a child, to measure its memory alone). BENCHMARKS.md holds the results.

/// The binary's allocator (`src/main.rs`), so that the in-process servers measure as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/it/common/mod.rs"]
#[allow(unused_macros, unused_imports, dead_code)] // the benches use a few of the shared helpers
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::ws::{connect, next, send, Ws};
use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use symphainy::runtime::contract::model::{CreateSession, IntentRequest, Scope};
use symphainy::runtime::engine::in_process::InProcessClient;
use symphainy::runtime::{EventStream, RuntimeClient};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("| benchmark | figure | baseline | ratio |");
        println!("|---|---|---|---|");
        if run("roundtrip") {
            for conns in [1, 10, 100] {
                roundtrip(conns).await;
            }
        }
        if run("breakdown") {
            breakdown().await;
        }
        if run("chat") {
            for conns in [1, 10] {
                chat(conns).await;
            }
        }
        if run("actor") {
            actor_path().await;
        }
        if run("durable") {
            for db in databases().await {
                durable(&db).await;
                db.cleanup().await;
            }
        }
        if run("cluster") {
            cluster().await;
        }
        if run("parse") {
            parse().await;
        }
        if run("activation") {
            activation(2000).await;
        }
        if run("restart") {
            restart_latency().await;
        }
        if run("storm") {
            login_storm().await;
        }
        if run("idle") {
            idle(10_000).await;
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Figures

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// CPU time (user and system) this process has used, in seconds (Linux: `/proc/self/stat`;
/// 0 elsewhere).
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; the clock
    // ticks 100 times a second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn row(name: &str, figure: String, baseline: String, ratio: f64) {
    if ratio < 0.1 {
        println!("| {name} | {figure} | {baseline} | {ratio:.3}× |");
    } else {
        println!("| {name} | {figure} | {baseline} | {ratio:.1}× |");
    }
}

// ---------------------------------------------------------------------------------------------
// The runtime client, in-process

/// A new session (no tenant); its id.
async fn new_session(client: &InProcessClient) -> String {
    client
        .create_session(CreateSession::default())
        .await
        .unwrap()
        .session_id
}

/// Submits an `echo` (answered once it is stored).
async fn submit_echo(client: &InProcessClient, session: &str, message: &str) {
    client
        .submit_intent(
            &Scope::Any,
            IntentRequest {
                intent_type: "echo".into(),
                session_id: session.to_string(),
                parameters: Some(json!({ "message": message })),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

/// Echoes on the session one after the other for [`DURABLE_FOR`], each waited for on the
/// session's events; how many completed.
async fn echoes_for(client: &InProcessClient, session: &str, message: &str) -> u64 {
    let mut events = client.subscribe(&Scope::Any, session, 0).await.unwrap();
    let mut done = 0u64;
    let end = Instant::now() + DURABLE_FOR;
    while Instant::now() < end {
        submit_echo(client, session, message).await;
        until_completed(&mut events).await;
        done += 1;
    }
    done
}

/// Reads the session's events up to the next `EXECUTION_COMPLETED`.
async fn until_completed(events: &mut EventStream) {
    while let Some(Ok(e)) = events.next().await {
        if e.event_type == "EXECUTION_COMPLETED" {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Intent round trip over the agent WebSocket vs a bare axum WebSocket echo

const ROUNDTRIP_FOR: Duration = Duration::from_secs(4);

async fn roundtrip(conns: usize) {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let ours = roundtrip_samples(&t, conns, ROUNDTRIP_FOR).await;
    t.app.shutdown().await;
    against_echo(
        ours,
        conns,
        "round trip",
        "round trip throughput",
        "intents/s",
    )
    .await;
}

/// Percentiles of `ours` beside the bare WebSocket echo's with as many clients, and the rate.
async fn against_echo(mut ours: Vec<Duration>, conns: usize, what: &str, rate: &str, unit: &str) {
    let mut base = echo_baseline(conns).await;
    let n = ours.len();
    for p in [0.5, 0.99] {
        let (a, b) = (pct(&mut ours, p), pct(&mut base, p));
        row(
            &format!("{what} p{:.0}, {conns} conn", p * 100.0),
            us(a),
            format!("{} (axum WS echo)", us(b)),
            a.as_secs_f64() / b.as_secs_f64(),
        );
    }
    println!(
        "| {rate}, {conns} conn | {:.0} {unit} | | |",
        n as f64 / ROUNDTRIP_FOR.as_secs_f64()
    );
}

/// `conns` clients, each on its own session and agent socket, each in a loop for `dur`:
/// submit an `echo` over REST, wait for its `EXECUTION_COMPLETED` on the socket.
async fn roundtrip_samples(t: &TestApp, conns: usize, dur: Duration) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (http, exp) = (t.http.clone(), t.exp.clone());
        tasks.push(tokio::spawn(async move {
            let session = anonymous_session(&http, &exp).await;
            let mut ws = connect(&exp, &format!("session_id={session}")).await;
            next(&mut ws).await.unwrap();
            let mut samples = Vec::new();
            let end = Instant::now() + dur;
            while Instant::now() < end {
                let t0 = Instant::now();
                let accepted: Value = http
                    .post(format!("{exp}/api/intent/submit"))
                    .json(&json!({"intent_type": "echo", "session_id": session,
                        "parameters": {"message": "ping"}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let id = accepted["execution_id"].clone();
                loop {
                    let m = next(&mut ws).await.unwrap();
                    if m["event_type"] == "EXECUTION_COMPLETED" && m["data"]["execution_id"] == id {
                        break;
                    }
                }
                samples.push(t0.elapsed());
            }
            samples
        }));
    }
    samples_of(tasks).await
}

/// Where one client's round trip goes: the same loop as `roundtrip` at 1 connection, timing the
/// 202 and each event's arrival on the socket from the submit's start (medians), beside the
/// parts it is made of measured alone in the same run: a JSON POST to a bare axum route over
/// the same HTTP client, and a one-row SQLite commit through sqlx on an idle file.
async fn breakdown() {
    const ROUNDS: usize = 1000;
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = anonymous_session(&t.http, &t.exp).await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();
    let mut accepted_at = Vec::new();
    let mut arrivals: Vec<(String, Vec<Duration>)> = Vec::new();
    let mut total = Vec::new();
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        let accepted: Value = t
            .http
            .post(format!("{}/api/intent/submit", t.exp))
            .json(&json!({"intent_type": "echo", "session_id": session,
                "parameters": {"message": "ping"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        accepted_at.push(t0.elapsed());
        let id = accepted["execution_id"].clone();
        let mut i = 0;
        loop {
            let m = next(&mut ws).await.unwrap();
            if m["data"]["execution_id"] != id {
                continue;
            }
            let kind = m["event_type"].as_str().unwrap_or_default().to_string();
            if arrivals.len() <= i {
                arrivals.push((kind.clone(), Vec::new()));
            }
            arrivals[i].1.push(t0.elapsed());
            i += 1;
            if kind == "EXECUTION_COMPLETED" {
                break;
            }
        }
        total.push(t0.elapsed());
    }
    // The server's own means: the event log's commits (a detached write task, from its
    // spawn to its end) and the Experience Plane's handling of the submit.
    let exposition = t
        .http
        .get(format!("{}/metrics", t.base))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    t.app.shutdown().await;
    let mean = |family: &str, filter: &str| {
        let pick = |suffix: &str| {
            exposition
                .lines()
                .filter(|l| l.starts_with(&format!("{family}_{suffix}")) && l.contains(filter))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
        };
        Duration::from_secs_f64(pick("sum") / pick("count").max(1.0))
    };
    println!(
        "| breakdown: event-log commit, server's mean | {} | | |",
        us(mean("symphainy_event_log_commit_seconds", ""))
    );
    println!(
        "| breakdown: submit handled by the Experience Plane, server's mean | {} | | |",
        us(mean(
            "symphainy_http_request_duration_seconds",
            "route=\"/api/intent/submit\""
        ))
    );
    let p50 = |v: &mut Vec<Duration>| pct(v, 0.5);
    println!(
        "| breakdown, 1 conn: round trip p50 | {} | | |",
        us(p50(&mut total))
    );
    println!(
        "| breakdown: 202 received | {} | | |",
        us(p50(&mut accepted_at))
    );
    for (kind, v) in &mut arrivals {
        println!("| breakdown: {kind} on the socket | {} | | |", us(p50(v)));
    }
    // The parts alone.
    let mut post = bare_post(ROUNDS).await;
    println!(
        "| breakdown, part: JSON POST to a bare axum route | {} | | |",
        us(p50(&mut post))
    );
    let floor_db = sqlite_db();
    let pool = raw_pool(&floor_db.url).await;
    sqlx::query("CREATE TABLE one_row (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let (mut commits, mut selects) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO one_row (id, data) VALUES ($1, $2)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind("ping")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        commits.push(t0.elapsed());
        let t0 = Instant::now();
        let _: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        selects.push(t0.elapsed());
    }
    println!(
        "| breakdown, part: sqlx SQLite commit of one row (BEGIN, INSERT, COMMIT) | {} | | |",
        us(p50(&mut commits))
    );
    println!(
        "| breakdown, part: sqlx SQLite `SELECT 1` | {} | | |",
        us(p50(&mut selects))
    );
    pool.close().await;
}

/// Round trips of a small JSON POST to a bare axum route, one client.
async fn bare_post(rounds: usize) -> Vec<Duration> {
    let app = axum::Router::new().route(
        "/post",
        axum::routing::post(|body: axum::Json<Value>| async move { axum::Json(body.0) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let t0 = Instant::now();
        let _: Value = http
            .post(format!("http://{addr}/post"))
            .json(&json!({"intent_type": "echo", "parameters": {"message": "ping"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        samples.push(t0.elapsed());
    }
    samples
}

/// A Guide chat turn over the agent socket (no language model: the built-in reasoning), from
/// the message sent to its `AGENT_RESPONSE`, with `conns` clients on their own sessions.
/// Baseline: the bare axum WebSocket echo with as many clients.
async fn chat(conns: usize) {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let ours = chat_samples(&t, conns, ROUNDTRIP_FOR).await;
    t.app.shutdown().await;
    against_echo(ours, conns, "chat turn", "chat turns", "turns/s").await;
}

async fn chat_samples(t: &TestApp, conns: usize, dur: Duration) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (http, exp) = (t.http.clone(), t.exp.clone());
        tasks.push(tokio::spawn(async move {
            let session = anonymous_session(&http, &exp).await;
            let mut ws = connect(&exp, &format!("session_id={session}")).await;
            next(&mut ws).await.unwrap();
            let conversation = format!("bench-{c}");
            let mut samples = Vec::new();
            let end = Instant::now() + dur;
            while Instant::now() < end {
                let t0 = Instant::now();
                send(
                    &mut ws,
                    json!({"type": "intent", "intent": "hello", "agent_type": "guide",
                        "metadata": {"conversation_id": conversation}}),
                )
                .await;
                loop {
                    let m = next(&mut ws).await.unwrap();
                    if m["event_type"] == "AGENT_RESPONSE"
                        && m["data"]["conversation_id"] == conversation.as_str()
                    {
                        break;
                    }
                }
                samples.push(t0.elapsed());
            }
            samples
        }));
    }
    samples_of(tasks).await
}

/// Every client task's samples, together.
async fn samples_of(tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

async fn echo_server() -> SocketAddr {
    use axum::extract::ws::{Message as AxMessage, WebSocketUpgrade};
    let app = axum::Router::new().route(
        "/ws",
        axum::routing::get(|ws: WebSocketUpgrade| async {
            ws.on_upgrade(|mut socket| async move {
                while let Some(Ok(m)) = socket.recv().await {
                    if let AxMessage::Text(_) = m {
                        if socket.send(m).await.is_err() {
                            break;
                        }
                    }
                }
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn echo_baseline(conns: usize) -> Vec<Duration> {
    let addr = echo_server().await;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        tasks.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
                .await
                .unwrap();
            let mut samples = Vec::new();
            let end = Instant::now() + ROUNDTRIP_FOR;
            while Instant::now() < end {
                let t0 = Instant::now();
                ws.send(Message::Text("ping".into())).await.unwrap();
                loop {
                    if let Some(Ok(Message::Text(_))) = ws.next().await {
                        break;
                    }
                }
                samples.push(t0.elapsed());
            }
            samples
        }));
    }
    samples_of(tasks).await
}

// ---------------------------------------------------------------------------------------------
// 2. Actor path (client → router → session → execution → event) vs the same hand-offs over
//    raw tokio channels

const ACTOR_ROUNDS: usize = 2000;

async fn actor_path() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let client = t.app.runtime.client();
    let session = new_session(&client).await;
    let mut events = client.subscribe(&Scope::Any, &session, 0).await.unwrap();
    let mut ours = Vec::with_capacity(ACTOR_ROUNDS);
    for i in 0..ACTOR_ROUNDS {
        let t0 = Instant::now();
        submit_echo(&client, &session, &i.to_string()).await;
        until_completed(&mut events).await;
        ours.push(t0.elapsed());
    }
    drop(events);
    t.app.shutdown().await;
    let mut base = channel_baseline(ACTOR_ROUNDS).await;
    for p in [0.5, 0.99] {
        let (a, b) = (pct(&mut ours, p), pct(&mut base, p));
        row(
            &format!("actor path p{:.0}", p * 100.0),
            us(a),
            format!("{} (tokio channels)", us(b)),
            a.as_secs_f64() / b.as_secs_f64(),
        );
    }
}

/// Router task → session task → a task per execution → the subscriber, with an
/// acknowledgement back to the caller before the work, as the runtime does (minus the
/// database).
async fn channel_baseline(rounds: usize) -> Vec<Duration> {
    type Submit = (u64, oneshot::Sender<()>);
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<u64>();
    let (session_tx, mut session_rx) = mpsc::unbounded_channel::<Submit>();
    let (router_tx, mut router_rx) = mpsc::unbounded_channel::<Submit>();
    tokio::spawn(async move {
        while let Some(m) = router_rx.recv().await {
            let _ = session_tx.send(m);
        }
    });
    tokio::spawn(async move {
        while let Some((id, ack)) = session_rx.recv().await {
            let _ = ack.send(());
            let events = events_tx.clone();
            tokio::spawn(async move {
                let _ = events.send(id);
            });
        }
    });
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds as u64 {
        let t0 = Instant::now();
        let (ack, acked) = oneshot::channel();
        router_tx.send((i, ack)).unwrap();
        acked.await.unwrap();
        while events_rx.recv().await != Some(i) {}
        samples.push(t0.elapsed());
    }
    samples
}

// ---------------------------------------------------------------------------------------------
// 3. Sustained durable intents per second vs plain batched inserts of the same rows

const DURABLE_FOR: Duration = Duration::from_secs(5);
/// Closed-loop submitters: each submits its next intent when its last one completed.
const SUBMITTERS: [usize; 2] = [32, 100];

async fn durable(db: &TestDb) {
    let mut figures = Vec::new();
    for submitters in SUBMITTERS {
        figures.push((submitters, durable_run(db, submitters).await));
    }
    // The rows one intent wrote, counted in the database.
    let pool = raw_pool(&db.url).await;
    let mut rows = 0i64;
    for table in [
        "executions",
        "execution_steps",
        "events",
        "artifacts",
        "idempotency_keys",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        rows += n;
    }
    let completed: u64 = figures.iter().map(|(_, (_, done))| done).sum();
    let per_intent = rows as f64 / completed as f64;
    let plain = insert_floor(&pool, db.name, 1).await;
    // The issue's floor: the rows of 64 intents in one commit (64-row inserts).
    let inserts = (64.0 * per_intent / 64.0).round().max(1.0) as usize;
    let floor = insert_floor(&pool, db.name, inserts).await;
    for (submitters, (rate, _)) in figures {
        row(
            &format!("durable intents/s, {} ({submitters} submitters)", db.name),
            format!("{rate:.0}/s ({per_intent:.1} rows each)"),
            format!(
                "{:.0}/s (batched inserts of as many rows, 64 a commit)",
                plain / per_intent
            ),
            rate / (plain / per_intent),
        );
        row(
            &format!(
                "durable intents/s, {} ({submitters} submitters) vs 64 intents a commit",
                db.name
            ),
            format!("{rate:.0}/s"),
            format!(
                "{:.0}/s ({inserts} inserts of 64 rows a commit)",
                floor / per_intent
            ),
            rate / (floor / per_intent),
        );
    }
    pool.close().await;
}

/// Intents per second completed by `submitters` closed-loop clients, and how many completed.
async fn durable_run(db: &TestDb, submitters: usize) -> (f64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let t = spawn_app(db).await;
    let client = t.app.runtime.client();
    let mut tasks = Vec::new();
    for _ in 0..submitters {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let session = new_session(&client).await;
            echoes_for(&client, &session, "durable").await
        }));
    }
    let stats = t.app.runtime.ctx.events.stats.clone();
    let (e0, c0) = (stats.events.load(Relaxed), stats.transactions.load(Relaxed));
    let busy0 = process_cpu_seconds();
    let mut completed = 0u64;
    for task in tasks {
        completed += task.await.unwrap();
    }
    let rate = completed as f64 / DURABLE_FOR.as_secs_f64();
    let cpu = process_cpu_seconds() - busy0;
    let (events, commits) = (
        stats.events.load(Relaxed) - e0,
        stats.transactions.load(Relaxed) - c0,
    );
    t.app.shutdown().await;
    // What the event log did meanwhile, and the CPU the whole process (server and its
    // in-process clients) spent per intent.
    println!(
        "| durable, {}, {submitters} submitters: event-log commits | {:.0}/s, {:.1} events each | | |",
        db.name,
        commits as f64 / DURABLE_FOR.as_secs_f64(),
        events as f64 / commits.max(1) as f64
    );
    println!(
        "| durable, {}, {submitters} submitters: process CPU per intent (clients included) | {:.0} µs ({:.2} cores busy) | | |",
        db.name,
        cpu / completed.max(1) as f64 * 1e6,
        cpu / DURABLE_FOR.as_secs_f64()
    );
    (rate, completed)
}

async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite") && !url.contains("mode=") {
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    sqlx::pool::PoolOptions::<sqlx::Any>::new()
        .max_connections(8)
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                if conn.backend_name() == "SQLite" {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .unwrap()
}

/// Rows per second written by plain sqlx: 4 writers (1 on SQLite), 64-row multi-value inserts,
/// `inserts` of them per transaction, rows as wide as an event.
async fn insert_floor(pool: &sqlx::AnyPool, backend: &str, inserts: usize) -> f64 {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, \
         seq BIGINT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await
    .unwrap();
    let writers = if backend == "sqlite" { 1 } else { 4 };
    let end = Instant::now() + DURABLE_FOR;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut written = 0u64;
            let mut seq = 0i64;
            while Instant::now() < end {
                let mut sql = String::from(
                    "INSERT INTO bench_rows (id, session_id, seq, kind, data, created_at) VALUES ",
                );
                for i in 0..64 {
                    if i > 0 {
                        sql.push(',');
                    }
                    let n = i * 6;
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6
                    ));
                }
                let mut tx = pool.begin().await.unwrap();
                for _ in 0..inserts {
                    let mut q = sqlx::query(&sql);
                    for _ in 0..64 {
                        seq += 1;
                        q = q
                            .bind(uuid::Uuid::new_v4().to_string())
                            .bind(format!("session-{w}"))
                            .bind(seq)
                            .bind("EXECUTION_COMPLETED")
                            .bind(r#"{"execution_id":"00000000-0000-0000-0000-000000000000","intent_type":"echo","message":"durable"}"#)
                            .bind(seq);
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
                tx.commit().await.unwrap();
                written += 64 * inserts as u64;
            }
            written
        }));
    }
    let mut total = 0u64;
    for task in tasks {
        total += task.await.unwrap();
    }
    total as f64 / DURABLE_FOR.as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// Cluster: durable echo throughput with 1, 2 and 3 runtime nodes on one PostgreSQL

const CLUSTER_SUBMITTERS: usize = 32;

/// The nodes run in this process (each with its own actor tree, pools and listeners); each
/// submitter uses the node that holds its session, as a load balancer routing by session
/// would. Baseline: the one-node figure of the same run.
async fn cluster() {
    let mut one = None;
    for nodes in [1, 2, 3] {
        let Some(db) = postgres_db().await else {
            println!("| cluster | skipped: TEST_DATABASE_URL is not set | | |");
            return;
        };
        let rate = cluster_run(&db, nodes).await;
        db.cleanup().await;
        let base = *one.get_or_insert(rate);
        row(
            &format!("cluster, durable intents/s, {nodes} runtime node(s), {CLUSTER_SUBMITTERS} submitters"),
            format!("{rate:.0}/s"),
            format!("{base:.0}/s (1 node)"),
            rate / base,
        );
    }
}

async fn cluster_run(db: &TestDb, nodes: usize) -> f64 {
    let config = test_config(db);
    let mut apps = Vec::new();
    for i in 0..nodes {
        let mut c = config.clone();
        c.runtime.cluster.node_id = Some(format!("n{i}"));
        c.runtime.cluster.lease = Duration::from_secs(2);
        apps.push(spawn_app_with(c, symphainy::runtime::realms::builtin()).await);
    }
    // Until the shares are even.
    let start = Instant::now();
    loop {
        let held: Vec<usize> = apps
            .iter()
            .map(|t| t.app.runtime.keeper().map_or(0, |k| k.held().len()))
            .collect();
        if held.iter().sum::<usize>() == 256
            && held.iter().max().unwrap() - held.iter().min().unwrap() <= 1
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "shares {held:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    use std::sync::atomic::Ordering::Relaxed;
    let stats: Vec<_> = apps
        .iter()
        .map(|t| t.app.runtime.ctx.events.stats.clone())
        .collect();
    let counts =
        |stats: &[std::sync::Arc<symphainy::runtime::engine::event_log::EventLogStats>]| {
            stats.iter().fold((0u64, 0u64), |(e, c), s| {
                (e + s.events.load(Relaxed), c + s.transactions.load(Relaxed))
            })
        };
    let (e0, c0) = counts(&stats);
    let busy0 = process_cpu_seconds();
    let mut tasks = Vec::new();
    for k in 0..CLUSTER_SUBMITTERS {
        let runtime = apps[k % nodes].app.runtime.clone();
        tasks.push(tokio::spawn(async move {
            let client = runtime.client();
            let session = loop {
                let s = new_session(&client).await;
                if runtime.ctx.ownership.owns(&s) {
                    break s;
                }
            };
            echoes_for(&client, &session, "cluster").await
        }));
    }
    let mut completed = 0u64;
    for task in tasks {
        completed += task.await.unwrap();
    }
    let cpu = process_cpu_seconds() - busy0;
    let (e1, c1) = counts(&stats);
    for t in apps {
        t.app.shutdown().await;
    }
    // What limits it: the commits the nodes make between them, and the CPU they use.
    println!(
        "| cluster, {nodes} node(s): event-log commits, all nodes | {:.0}/s, {:.1} events each | | |",
        (c1 - c0) as f64 / DURABLE_FOR.as_secs_f64(),
        (e1 - e0) as f64 / (c1 - c0).max(1) as f64
    );
    println!(
        "| cluster, {nodes} node(s): process CPU per intent (clients included) | {:.0} µs ({:.2} cores busy) | | |",
        cpu / completed.max(1) as f64 * 1e6,
        cpu / DURABLE_FOR.as_secs_f64()
    );
    completed as f64 / DURABLE_FOR.as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// 4. Parse throughput: a large CSV through `parse_content` vs the csv crate alone

async fn parse() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.runtime.max_upload_bytes = 1 << 30;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let path = db.data_dir().join("big.csv");
    let rows = 400_000;
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(f, "id,region,customer,amount,date,note").unwrap();
        for i in 0..rows {
            writeln!(
                f,
                "{i},region-{},customer-{},{}.{:02},2026-{:02}-{:02},note number {i}",
                i % 7,
                i % 1000,
                i % 9973,
                i % 100,
                i % 12 + 1,
                i % 28 + 1
            )
            .unwrap();
        }
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let mb = bytes as f64 / 1e6;
    // Upload (not timed), then parse (timed from submit to completion).
    let form = reqwest::multipart::Form::new()
        .text("session_id", t.anonymous().await)
        .part(
            "file",
            reqwest::multipart::Part::bytes(std::fs::read(&path).unwrap()).file_name("big.csv"),
        );
    let up: Value = t
        .http
        .post(format!("{}/api/v1/content/upload", t.exp))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let done = t.wait_terminal(up["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let session = done["session_id"].as_str().unwrap().to_string();
    let file_id = up["file_id"].as_str().unwrap().to_string();
    let t0 = Instant::now();
    let (s, b) = t
        .submit(
            json!({"intent_type": "parse_content", "session_id": session,
            "parameters": {"file_id": file_id}}),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let parsed = wait_long(&t, b["execution_id"].as_str().unwrap()).await;
    let ours = t0.elapsed();
    assert_eq!(parsed["status"], "completed", "{parsed}");
    t.app.shutdown().await;

    let t0 = Instant::now();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let mut record = csv::ByteRecord::new();
    let mut n = 0;
    while reader.read_byte_record(&mut record).unwrap() {
        n += 1;
    }
    assert_eq!(n, rows);
    let base = t0.elapsed();
    let (a, b) = (mb / ours.as_secs_f64(), mb / base.as_secs_f64());
    row(
        &format!("parse_content, {mb:.0} MB CSV ({rows} rows)"),
        format!("{a:.1} MB/s"),
        format!("{b:.1} MB/s (csv crate, reading only)"),
        a / b,
    );
    // The storage floor: the csv crate, each record as the same JSON object, plain batched
    // inserts into a table shaped like parsed_records.
    let floor = csv_into_table(&path, &db.url).await;
    let c = mb / floor.as_secs_f64();
    row(
        "parse_content vs its storage floor",
        format!("{a:.1} MB/s"),
        format!("{c:.1} MB/s (csv crate + batched inserts of the rows)"),
        a / c,
    );
}

async fn csv_into_table(path: &std::path::Path, url: &str) -> Duration {
    let pool = raw_pool(url).await;
    sqlx::query(
        "CREATE TABLE bench_parsed (parsed_file_id TEXT NOT NULL, row_idx BIGINT NOT NULL, \
         record TEXT NOT NULL, PRIMARY KEY (parsed_file_id, row_idx))",
    )
    .execute(&pool)
    .await
    .unwrap();
    let t0 = Instant::now();
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut batch: Vec<String> = Vec::with_capacity(1000);
    let mut idx = 0i64;
    let mut records = reader.records();
    loop {
        let record = records.next();
        if let Some(r) = &record {
            let r = r.as_ref().unwrap();
            let obj: serde_json::Map<String, Value> = headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                .collect();
            batch.push(Value::Object(obj).to_string());
        }
        if batch.len() == 1000 || (record.is_none() && !batch.is_empty()) {
            let mut tx = pool.begin().await.unwrap();
            for chunk in batch.chunks(500) {
                let mut sql = String::from(
                    "INSERT INTO bench_parsed (parsed_file_id, row_idx, record) VALUES ",
                );
                for i in 0..chunk.len() {
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3));
                }
                let mut q = sqlx::query(&sql);
                for rec in chunk {
                    idx += 1;
                    q = q.bind("bench-file").bind(idx).bind(rec.as_str());
                }
                q.execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
            batch.clear();
        }
        if record.is_none() {
            break;
        }
    }
    let took = t0.elapsed();
    pool.close().await;
    took
}

/// A long parse's terminal status (without its events).
async fn wait_long(t: &TestApp, execution_id: &str) -> Value {
    let within = Duration::from_secs(120);
    wait_until_terminal(&t.http, &t.base, &t.token, execution_id, within, false).await
}

// ---------------------------------------------------------------------------------------------
// 5b. Session activation and passivation rate vs bare ractor actors spawned and stopped

async fn activation(n: usize) {
    use symphainy::runtime::engine::messages::RouterMsg;
    use symphainy::runtime::engine::messages::SessionMsg;
    let db = sqlite_db();
    let mut config = test_config(&db);
    let idle = Duration::from_millis(200);
    config.runtime.session_idle = idle;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let client = t.app.runtime.client();
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        sessions.push(new_session(&client).await);
    }
    let faults = t.app.runtime.ctx.faults.clone();
    let router = t.app.runtime.ctx.router.get().unwrap();
    let names: Vec<String> = sessions.iter().map(|s| format!("session:{s}")).collect();
    let t0 = Instant::now();
    for s in &sessions {
        router
            .send_message(RouterMsg::Route {
                session_id: s.clone(),
                msg: Box::new(SessionMsg::Wake),
            })
            .unwrap();
    }
    while !names.iter().all(|n| faults.get(n).is_some()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let activated = t0.elapsed();
    while !names.iter().all(|n| faults.get(n).is_none()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // From the last session's idle deadline to the last one gone: the idle check runs every
    // idle/2, so up to that much of this is waiting for the check, not retiring.
    let passivated = t0.elapsed().saturating_sub(activated + idle);
    t.app.shutdown().await;

    struct Bare;
    impl ractor::Actor for Bare {
        type Msg = ();
        type State = ();
        type Arguments = ();
        async fn pre_start(
            &self,
            _: ractor::ActorRef<()>,
            _: (),
        ) -> Result<(), ractor::ActorProcessingErr> {
            Ok(())
        }
    }
    let t0 = Instant::now();
    let mut actors = Vec::with_capacity(n);
    for _ in 0..n {
        actors.push(ractor::Actor::spawn(None, Bare, ()).await.unwrap());
    }
    let spawned = t0.elapsed();
    let t1 = Instant::now();
    for (a, _) in &actors {
        a.stop(None);
    }
    for (_, h) in actors {
        h.await.unwrap();
    }
    let stopped = t1.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64().max(1e-6);
    row(
        &format!("session activations/s ({n} sessions, state from the store)"),
        format!("{:.0}/s", rate(activated)),
        format!("{:.0}/s (bare ractor actors spawned)", rate(spawned)),
        rate(activated) / rate(spawned),
    );
    row(
        &format!(
            "session passivation ({n}, idle {} ms, checked every {} ms)",
            idle.as_millis(),
            idle.as_millis() / 2
        ),
        format!(
            "all gone {} ms after the last idle deadline",
            passivated.as_millis()
        ),
        format!("{} ms to stop {n} bare ractor actors", stopped.as_millis()),
        passivated.as_secs_f64() / stopped.as_secs_f64().max(1e-6),
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Supervised restart latency: panic to the restarted actor registered and serving

const RESTARTS: usize = 200;

async fn restart_latency() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    // Far above the default intensity, so that the measurement never escalates.
    let lenient = symphainy::actors::RestartPolicy {
        max_restarts: 1_000_000,
        within: Duration::from_secs(1),
    };
    config.runtime.restart = lenient;
    config.runtime.root_restart = lenient;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let client = t.app.runtime.client();
    let session = new_session(&client).await;
    // Activate the session actor.
    t.run_completed(&session, "echo", json!({"message": "warm"}))
        .await;
    let faults = t.app.runtime.ctx.faults.clone();
    // The panics are on purpose: keep their reports out of the output.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (label, name) in [
        ("router".to_string(), "router".to_string()),
        ("session".to_string(), format!("session:{session}")),
    ] {
        let mut samples = Vec::with_capacity(RESTARTS);
        for _ in 0..RESTARTS {
            // The session actor goes with a restarting router: its next command starts it.
            let before = loop {
                match faults.get(&name) {
                    Some(id) => break id,
                    None => {
                        t.run_completed(&session, "echo", json!({"message": "wake"}))
                            .await;
                    }
                }
            };
            let t0 = Instant::now();
            faults.inject(&name, symphainy::actors::FaultMode::Panic);
            loop {
                match faults.get(&name) {
                    Some(now) if now != before => break,
                    Some(_) => tokio::task::yield_now().await,
                    None if label == "router" => tokio::task::yield_now().await,
                    // An idle session is not restarted eagerly: its next command starts it
                    // (the command's answer, after its durable write, is in the figure).
                    None => submit_echo(&client, &session, "next").await,
                }
            }
            samples.push(t0.elapsed());
        }
        let (p50, p99) = (pct(&mut samples, 0.5), pct(&mut samples, 0.99));
        row(
            &format!("restart {label}, p50 / p99 ({RESTARTS} panics)"),
            format!("{} / {}", us(p50), us(p99)),
            "target p99 1 ms".into(),
            p99.as_secs_f64() / 1e-3,
        );
    }
    std::panic::set_hook(hook);
    t.app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 7. Login storm: argon2 logins from many addresses at their rate limit, while 100 sockets run
//    round trips; their p99 against the same without the storm

const STORM_ADDRESSES: usize = 40;

async fn login_storm() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.trust_forwarded_for = true;
    config.experience.rate_login = "5/60".parse().unwrap();
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    // One user per address: logins are limited per address and per email.
    for a in 0..STORM_ADDRESSES {
        t.register_user(&format!("storm{a}")).await;
    }
    let mut quiet = roundtrip_samples(&t, 100, ROUNDTRIP_FOR).await;
    let storm_end = Instant::now() + ROUNDTRIP_FOR;
    let mut storm = Vec::new();
    for a in 0..STORM_ADDRESSES {
        let (http, exp) = (t.http.clone(), t.exp.clone());
        storm.push(tokio::spawn(async move {
            let mut answered = (0u32, 0u32);
            // Five attempts per address: the limit's ceiling, spread over the window.
            for _ in 0..5 {
                if Instant::now() > storm_end {
                    break;
                }
                let r = http
                    .post(format!("{exp}/api/auth/login"))
                    .header(
                        "x-forwarded-for",
                        format!("10.9.{}.{}", a / 250, a % 250 + 1),
                    )
                    .json(&json!({"email": format!("storm{a}@example.com"),
                        "password": "s3cret-passw0rd"}))
                    .send()
                    .await
                    .unwrap();
                if r.status().as_u16() == 200 {
                    answered.0 += 1;
                } else {
                    answered.1 += 1;
                }
                tokio::time::sleep(ROUNDTRIP_FOR / 6).await;
            }
            answered
        }));
    }
    let mut stormy = roundtrip_samples(&t, 100, ROUNDTRIP_FOR).await;
    let (mut ok, mut refused) = (0, 0);
    for s in storm {
        let (o, r) = s.await.unwrap();
        ok += o;
        refused += r;
    }
    t.app.shutdown().await;
    let (a, b) = (pct(&mut stormy, 0.99), pct(&mut quiet, 0.99));
    row(
        &format!("round trip p99, 100 conn, during {ok} logins ({refused} refused)"),
        us(a),
        format!("{} without the storm", us(b)),
        a.as_secs_f64() / b.as_secs_f64(),
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Idle WebSocket connections: the server's memory per connection

async fn idle(conns: usize) {
    raise_fd_limit(conns as u64 * 3 + 1024);
    let db = sqlite_db();
    let server = start_binary(
        &db,
        "bench-token",
        &[
            ("SYMPHAINY_WS_MAX_CONNECTIONS", "20000"),
            // Agent sockets hold HTTP connections too.
            ("SYMPHAINY_HTTP_MAX_CONNECTIONS", "20000"),
            ("RUST_LOG", "error"),
        ],
    )
    .await;
    let pid = server.child.id().unwrap();
    // One session per connection, as browser tabs have; created up front (not measured).
    let http = reqwest::Client::new();
    let mut sessions = Vec::with_capacity(conns + 1);
    for _ in 0..(conns + 1) / 100 + 1 {
        let mut creating = Vec::new();
        for _ in 0..100 {
            let (http, base) = (http.clone(), server.base.clone());
            creating.push(tokio::spawn(async move {
                runtime_session(&http, &base, "bench-token").await
            }));
        }
        for c in creating {
            sessions.push(c.await.unwrap());
        }
    }
    // Warm: one connection, so the first-use allocations are in the baseline.
    let mut first = connect(&server.exp, &format!("session_id={}", sessions[conns])).await;
    next(&mut first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid);
    let mut sockets: Vec<Ws> = Vec::with_capacity(conns);
    for chunk in sessions[..conns].chunks(100) {
        let mut opening = Vec::new();
        for session in chunk {
            let (exp, session) = (server.exp.clone(), session.clone());
            opening.push(tokio::spawn(async move {
                let mut ws = connect(&exp, &format!("session_id={session}")).await;
                next(&mut ws).await.unwrap();
                ws
            }));
        }
        for o in opening {
            sockets.push(o.await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    let per = (after - before) as f64 / conns as f64;
    row(
        &format!("idle agent sockets, {conns} (one session each)"),
        format!(
            "{per:.1} KiB per connection ({} MiB in all)",
            (after - before) / 1024
        ),
        format!("{} MiB with one; target 16 KiB each", before / 1024),
        per / 16.0,
    );
    drop(sockets);
    drop(first);
}

fn rss_kib(pid: u32) -> i64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn raise_fd_limit(want: u64) {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();
    let target = want.min(hard).max(soft);
    rlimit::Resource::NOFILE.set(target, hard).unwrap();
}
