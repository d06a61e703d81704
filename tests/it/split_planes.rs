//! Runtime and Experience as separate processes (`symphainy runtime`, `symphainy experience`):
//! the Experience Plane starts before its runtime and answers 503 until it comes; a runtime
//! killed in the middle of a chat and an execution comes back while WebSocket clients stay
//! connected and see every event once; two Experience Planes (each with its own HTTP runtime
//! client, as separate processes have) serve one runtime.

use std::time::Duration;

use crate::common::ws::*;
use crate::common::*;
use serde_json::{json, Value};
use symphainy::app::ExperienceApp;

const TOKEN: &str = "split-planes-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_runtime(db: &TestDb, port: u16) -> Binary {
    let addr = format!("127.0.0.1:{port}");
    start_plane(
        db,
        TOKEN,
        "runtime",
        &[("SYMPHAINY_RUNTIME_ADDR", addr.as_str())],
    )
    .await
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = http.post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The Experience Plane's view of its runtime (`/health` always answers 200).
async fn runtime_seen(http: &reqwest::Client, exp: &str) -> String {
    let r = http.get(format!("{exp}/health")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["service"], "experience");
    body["runtime"].as_str().unwrap().to_string()
}

/// `(livez, readyz)` status codes of a plane.
async fn probes(http: &reqwest::Client, base: &str) -> (u16, u16) {
    let code = |path: &'static str| async move {
        http.get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    (code("/livez").await, code("/readyz").await)
}

async fn wait_runtime_seen(http: &reqwest::Client, exp: &str) {
    eventually(Duration::from_secs(20), || async {
        (runtime_seen(http, exp).await == "ok").then_some(())
    })
    .await
}

fn chat(session: &str, text: &str) -> Value {
    json!({"type": "intent", "intent": text, "session_id": session, "agent_type": "guide",
        "metadata": {"conversation_id": "conv-split"}})
}

/// Reads the socket until every wanted event type has been seen (in any order); all read.
async fn read_until_all(ws: &mut Ws, wanted: &[&str], into: &mut Vec<Value>) {
    let mut left: Vec<&str> = wanted.to_vec();
    while !left.is_empty() {
        let m = next(ws).await.expect("the socket stays open");
        if let Some(t) = m["event_type"].as_str() {
            left.retain(|w| *w != t);
        }
        into.push(m);
    }
}

fn seqs(messages: &[Value]) -> Vec<i64> {
    messages.iter().filter_map(|m| m["seq"].as_i64()).collect()
}

#[tokio::test]
async fn the_runtime_restarts_under_a_live_experience_and_nothing_is_lost() {
    for db in databases().await {
        let why = db.name;
        let http = reqwest::Client::new();
        let port = free_port();
        let runtime_url = format!("http://127.0.0.1:{port}");
        // The Experience Plane first, on a database no runtime has migrated yet, its runtime
        // not there: it applies no migration, serves health, and refuses work with 503.
        let exp_bin = start_plane(
            &db,
            TOKEN,
            "experience",
            &[("SYMPHAINY_RUNTIME_URL", runtime_url.as_str())],
        )
        .await;
        let exp = exp_bin.exp.clone();
        assert!(
            exp_bin.base.is_empty(),
            "{why}: the experience runs no runtime"
        );
        assert_eq!(runtime_seen(&http, &exp).await, "unavailable", "{why}");
        // Alive, not ready.
        assert_eq!(probes(&http, &exp).await, (200, 503), "{why}");
        let ready: Value = http
            .get(format!("{exp}/ready"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["database"], "unavailable", "{why}: {ready}");
        assert!(
            ready["database_error"]
                .as_str()
                .unwrap()
                .contains("lacks migrations [2, 3, 10]"),
            "{why}: {ready}"
        );
        let (s, b) = post(
            &http,
            format!("{exp}/api/session/create-anonymous"),
            json!({}),
        )
        .await;
        assert_error(s, &b, 503, "database_unavailable");

        let mut runtime = start_runtime(&db, port).await;
        assert_eq!(runtime.base, runtime_url);
        // The runtime comes and migrates: the experience recovers by itself (runtime seen,
        // schema checked again within a probe period).
        eventually(Duration::from_secs(20), || async {
            let r = http.get(format!("{exp}/ready")).send().await.unwrap();
            (r.status() == 200).then_some(())
        })
        .await;
        let (s, b) = post(
            &http,
            format!("{exp}/api/session/create-anonymous"),
            json!({}),
        )
        .await;
        assert_eq!(s, 201, "{why}: {b}");
        let session = b["session_id"].as_str().unwrap().to_string();
        let mut ws = connect(&exp, &format!("session_id={session}")).await;
        let hello = next(&mut ws).await.unwrap();
        assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED", "{why}");
        let mut seen = Vec::new();
        send(&mut ws, chat(&session, "Hello! What can you do?")).await;
        read_until_all(&mut ws, &["AGENT_RESPONSE"], &mut seen).await;

        // A slow execution is running when the runtime is killed.
        let (s, b) = post(
            &http,
            format!("{exp}/api/intent/submit"),
            json!({"intent_type": "echo", "session_id": session,
                "parameters": {"message": "across the restart", "delay_ms": 1500}}),
        )
        .await;
        assert_eq!(s, 202, "{why}: {b}");
        let execution = b["execution_id"].as_str().unwrap().to_string();
        read_until_all(&mut ws, &["STEP_STARTED"], &mut seen).await;
        runtime.child.kill().await.unwrap();
        let _ = runtime.child.wait().await;

        // Down: health still answers, work is 503, the socket stays open; alive, not ready.
        assert_eq!(runtime_seen(&http, &exp).await, "unavailable", "{why}");
        assert_eq!(probes(&http, &exp).await, (200, 503), "{why}");
        let (s, b) = post(
            &http,
            format!("{exp}/api/intent/submit"),
            json!({"intent_type": "echo", "session_id": session, "parameters": {"message": "x"}}),
        )
        .await;
        assert_error(s, &b, 503, "runtime_unavailable");
        let r = http
            .get(format!("{exp}/api/execution/{execution}/status"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503, "{why}");

        // Back: the execution resumes and finishes, the chat goes on over the same socket.
        let runtime = start_runtime(&db, port).await;
        wait_runtime_seen(&http, &exp).await;
        assert_eq!(probes(&http, &exp).await, (200, 200), "{why}");
        assert_eq!(probes(&http, &runtime.base).await, (200, 200), "{why}");
        send(&mut ws, chat(&session, "And what about my files?")).await;
        read_until_all(
            &mut ws,
            &["EXECUTION_COMPLETED", "AGENT_RESPONSE"],
            &mut seen,
        )
        .await;
        let completed: Vec<&Value> = seen
            .iter()
            .filter(|m| m["event_type"] == "EXECUTION_COMPLETED")
            .collect();
        assert_eq!(completed.len(), 1, "{why}");
        assert_eq!(completed[0]["data"]["execution_id"], json!(execution));
        let responses = seen
            .iter()
            .filter(|m| m["event_type"] == "AGENT_RESPONSE")
            .count();
        assert_eq!(responses, 2, "{why}: both turns answered");

        // Every event once, in order, and exactly the stored log.
        let got = seqs(&seen);
        let want: Vec<i64> = (1..=got.len() as i64).collect();
        assert_eq!(got, want, "{why}: no gap, no duplicate");
        let store = symphainy::store::Store::connect(&db.url).await.unwrap();
        let stored: Vec<i64> = store
            .runtime()
            .events_after(&session, 0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        store.close().await;
        assert_eq!(got, stored, "{why}: the socket saw the whole log");
        drop(ws);
        drop(exp_bin);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn two_experience_planes_serve_one_runtime() {
    let db = sqlite_db();
    let t = WIRING.scope(Wiring::Http, spawn_app(&db)).await;
    let mut config = test_config(&db);
    config.service_token = t.token.clone().into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second = ExperienceApp::start(&config, &t.base, listener)
        .await
        .expect("a second experience");
    let (a, b) = (t.exp.clone(), format!("http://{}", second.addr));

    let (s, body) = post(
        &t.http,
        format!("{a}/api/session/create-anonymous"),
        json!({}),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let session = body["session_id"].as_str().unwrap().to_string();
    let mut on_a = connect(&a, &format!("session_id={session}")).await;
    // B asks to hear every conversation: an agent's live events otherwise go only to the
    // sockets of its conversation (the web frontend shows all it hears in one panel).
    let mut on_b = connect(&b, &format!("session_id={session}&conversations=all")).await;
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(
            next(ws).await.unwrap()["event_type"],
            "CONNECTION_ESTABLISHED"
        );
    }
    // A chat through A and an intent through B's REST: both clients see both.
    send(&mut on_a, chat(&session, "Hello! What can you do?")).await;
    let (s, body) = post(
        &t.http,
        format!("{b}/api/intent/submit"),
        json!({"intent_type": "echo", "session_id": session, "parameters": {"message": "via b"}}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    let mut seen_a = Vec::new();
    let mut seen_b = Vec::new();
    let wanted = ["AGENT_RESPONSE", "EXECUTION_COMPLETED"];
    read_until_all(&mut on_a, &wanted, &mut seen_a).await;
    read_until_all(&mut on_b, &wanted, &mut seen_b).await;
    let ids = |v: &[Value]| -> Vec<(i64, String)> {
        v.iter()
            .filter_map(|m| Some((m["seq"].as_i64()?, m["event_id"].as_str()?.to_string())))
            .collect()
    };
    assert_eq!(ids(&seen_a), ids(&seen_b), "the same events on either");
    let got = seqs(&seen_a);
    assert_eq!(got, (1..=got.len() as i64).collect::<Vec<_>>());
    drop((on_a, on_b));
    second.shutdown().await;
    t.app.shutdown().await;
}

/// A request id given to the Experience Plane crosses to the runtime in another process: the
/// runtime logs it with the execution's lifecycle, and the execution's status shows it.
#[tokio::test]
async fn a_request_id_crosses_the_planes() {
    let db = sqlite_db();
    let http = reqwest::Client::new();
    let runtime = start_plane(
        &db,
        TOKEN,
        "runtime",
        &[("RUST_LOG", "info"), ("SYMPHAINY_LOG_FORMAT", "json")],
    )
    .await;
    let exp = start_plane(
        &db,
        TOKEN,
        "experience",
        &[("SYMPHAINY_RUNTIME_URL", runtime.base.as_str())],
    )
    .await;
    wait_runtime_seen(&http, &exp.exp).await;
    let (_, b) = post(
        &http,
        format!("{}/api/session/create-anonymous", exp.exp),
        json!({}),
    )
    .await;
    let session = b["session_id"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{}/api/intent/submit", exp.exp))
        .header("x-request-id", "req-trace-42")
        .json(&json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "traced"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-trace-42");
    let accepted: Value = r.json().await.unwrap();
    let e = accepted["execution_id"].as_str().unwrap().to_string();
    let status: Value = eventually(Duration::from_secs(20), || async {
        let s: Value = http
            .get(format!("{}/api/execution/{e}/status", exp.exp))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (s["status"] == "completed").then_some(s)
    })
    .await;
    assert_eq!(status["request_id"], "req-trace-42");
    // The runtime's own log lines for this execution carry the id, as plain text.
    let lines: Vec<Value> = eventually(Duration::from_secs(10), || async {
        let log = runtime.log.lock().clone();
        let mine: Vec<Value> = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["fields"]["execution_id"] == e.as_str())
            .collect();
        mine.iter()
            .any(|l| l["fields"]["message"] == "execution finished")
            .then_some(mine)
    })
    .await;
    let accepted_line = lines
        .iter()
        .find(|l| l["fields"]["message"] == "execution accepted")
        .expect("an accepted line");
    assert_eq!(accepted_line["fields"]["request_id"], "req-trace-42");
    let finished = lines
        .iter()
        .find(|l| l["fields"]["message"] == "execution finished")
        .unwrap();
    assert_eq!(finished["span"]["request_id"], "req-trace-42", "{finished}");
    assert_eq!(finished["fields"]["status"], "completed");
}
