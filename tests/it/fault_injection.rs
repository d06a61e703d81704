//! Actor-level fault injection on a live server, through `POST /api/debug/fault` (the test
//! suite builds with the `fault-injection` feature). For each actor kind, panic it and kill it
//! in the middle of real work, and check what docs/reliability.md promises: it is restarted,
//! in-flight executions finish with every step completed exactly once, the session's `seq`
//! has no gap and no duplicate, and another session is served throughout. Then the restart
//! intensity: past it, a supervisor escalates instead of looping, up to the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::ws::Ws;
use crate::common::*;
use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde_json::{json, Value};
use symphainy::actors::RestartPolicy;
use symphainy::runtime::engine::handler::FieldErrors;
use symphainy::runtime::{IntentHandler, SagaStep, StepContext, StepError, StepOutput};
use tokio_tungstenite::tungstenite::Message;

/// How many times each `(execution, step)` ran.
type Runs = Arc<Mutex<HashMap<(String, String), usize>>>;

struct Counted {
    name: &'static str,
    delay: Duration,
    runs: Runs,
}

#[async_trait]
impl SagaStep for Counted {
    fn name(&self) -> &str {
        self.name
    }
    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        *self
            .runs
            .lock()
            .entry((ctx.execution_id.clone(), self.name.to_string()))
            .or_default() += 1;
        tokio::time::sleep(self.delay).await;
        Ok(StepOutput {
            output: json!({"step": self.name}),
            ..Default::default()
        })
    }
}

/// `counted`: three steps, the middle one slow enough to be crashed in.
struct CountedIntent(Runs);

impl IntentHandler for CountedIntent {
    fn intent_type(&self) -> &str {
        "counted"
    }
    fn description(&self) -> &str {
        "three counted steps"
    }
    fn validate(&self, _p: &Value) -> Result<(), FieldErrors> {
        Ok(())
    }
    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        let step = |name, ms| -> Arc<dyn SagaStep> {
            Arc::new(Counted {
                name,
                delay: Duration::from_millis(ms),
                runs: self.0.clone(),
            })
        };
        vec![step("one", 0), step("slow", 400), step("three", 0)]
    }
}

async fn app(db: &TestDb, runs: &Runs, policy: Option<(RestartPolicy, RestartPolicy)>) -> TestApp {
    let mut handlers = symphainy::runtime::realms::builtin();
    handlers.register(Arc::new(CountedIntent(runs.clone())));
    let mut config = test_config(db);
    if let Some((restart, root)) = policy {
        config.runtime.restart = restart;
        config.runtime.root_restart = root;
    }
    spawn_app_with(config, handlers).await
}

async fn fault(t: &TestApp, target: &str, id: &str, mode: &str) -> (u16, Value) {
    t.post(
        "/api/debug/fault",
        json!({"target": target, "id": id, "mode": mode}),
    )
    .await
}

/// The actor registered under `name` once it is running and is not `old`.
async fn restarted(t: &TestApp, name: &str, old: &str) -> String {
    eventually(Duration::from_secs(10), || async {
        let id = t.app.runtime.ctx.faults.get(name)?.to_string();
        (id != old).then_some(id)
    })
    .await
}

/// Submits `counted` and waits until its slow step is running.
async fn counted_in_flight(t: &TestApp, session: &str) -> String {
    let (s, b) = t
        .submit(json!({"intent_type": "counted", "session_id": session}))
        .await;
    assert_eq!(s, 202, "{b}");
    let eid = b["execution_id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(10), || async {
        (t.status(&eid).await["steps"][1]["status"] == "running").then_some(())
    })
    .await;
    eid
}

/// The execution finished once, each step completed once, and the steps that were not
/// interrupted ran once (the interrupted one may have run again: at-least-once work,
/// exactly-once completion).
async fn finished_exactly_once(t: &TestApp, runs: &Runs, eid: &str, why: &str) {
    let done = t.wait_terminal(eid).await;
    assert_eq!(done["status"], "completed", "{why}: {done}");
    let types = event_types(&done);
    let count = |ty: &str| types.iter().filter(|t| *t == ty).count();
    assert_eq!(count("EXECUTION_COMPLETED"), 1, "{why}: {types:?}");
    assert_eq!(count("STEP_COMPLETED"), 3, "{why}: {types:?}");
    let runs = runs.lock();
    let ran = |step: &str| runs.get(&(eid.to_string(), step.to_string())).copied();
    assert_eq!(ran("one"), Some(1), "{why}");
    assert!(
        matches!(ran("slow"), Some(1 | 2)),
        "{why}: {:?}",
        ran("slow")
    );
    assert_eq!(ran("three"), Some(1), "{why}");
}

/// Every event of the session, in `seq` order: 1, 2, ... with no gap and no duplicate.
async fn seq_is_contiguous(t: &TestApp, session: &str, why: &str) {
    let events = t
        .app
        .store
        .runtime()
        .events_after(session, 0, 10_000)
        .await
        .unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let want: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, want, "{why}");
}

/// Another session submitting echoes until stopped; how many it ran, all completed.
fn bystander(t: &TestApp, session: String) -> (Arc<AtomicBool>, tokio::task::JoinHandle<usize>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (http, base, token, flag) = (
        t.http.clone(),
        t.base.clone(),
        t.token.clone(),
        stop.clone(),
    );
    let task = tokio::spawn(async move {
        let mut served = 0;
        while !flag.load(Ordering::SeqCst) {
            let r = http
                .post(format!("{base}/api/intent/submit"))
                .bearer_auth(&token)
                .json(&json!({"intent_type": "echo", "session_id": session,
                    "parameters": {"message": format!("bystander {served}")}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 202, "the bystander was refused");
            let b: Value = r.json().await.unwrap();
            let done =
                wait_terminal(&http, &base, &token, b["execution_id"].as_str().unwrap()).await;
            assert_eq!(done["status"], "completed", "the bystander's echo: {done}");
            served += 1;
        }
        served
    });
    (stop, task)
}

#[tokio::test]
async fn each_runtime_actor_restarts_mid_execution_and_the_work_finishes_once() {
    for db in databases().await {
        let runs: Runs = Default::default();
        // Ten faults in a few seconds: more than the default intensity allows (which the last
        // test exercises), so this one allows more.
        let many = RestartPolicy {
            max_restarts: 50,
            within: Duration::from_secs(60),
        };
        let t = app(&db, &runs, Some((many, many))).await;
        let other = t.create_session(None).await;
        let (stop, bystander) = bystander(&t, other);
        for target in ["execution", "session", "router", "event_log", "janitor"] {
            for mode in ["panic", "kill"] {
                let why = format!("[{}] {mode} the {target}", db.name);
                let session = t.create_session(None).await;
                let eid = counted_in_flight(&t, &session).await;
                let (name, id) = match target {
                    "execution" => (format!("execution:{eid}"), eid.clone()),
                    "session" => (format!("session:{session}"), session.clone()),
                    singleton => (singleton.to_string(), String::new()),
                };
                let (s, b) = fault(&t, target, &id, mode).await;
                assert_eq!(s, 200, "{why}: {b}");
                assert_eq!(b["success"], true);
                let old = b["actor_id"].as_str().unwrap().to_string();
                if target != "execution" && target != "session" {
                    restarted(&t, &name, &old).await;
                }
                finished_exactly_once(&t, &runs, &eid, &why).await;
                seq_is_contiguous(&t, &session, &why).await;
                if target == "janitor" {
                    // The restarted janitor sweeps.
                    sweep(&t).await;
                }
                // The session serves new work after the fault.
                let next = t.submit_echo(&session, None, "after").await;
                assert_eq!(t.wait_terminal(&next).await["status"], "completed", "{why}");
                seq_is_contiguous(&t, &session, &why).await;
            }
        }
        stop.store(true, Ordering::SeqCst);
        let served = bystander
            .await
            .expect("the bystander session was served throughout");
        assert!(served > 0);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_execution_actor_is_restarted_by_its_session() {
    let db = sqlite_db();
    let runs: Runs = Default::default();
    let t = app(&db, &runs, None).await;
    let session = t.create_session(None).await;
    let eid = counted_in_flight(&t, &session).await;
    let (s, b) = fault(&t, "execution", &eid, "kill").await;
    assert_eq!(s, 200, "{b}");
    // A new execution actor took over (it may already have finished, which unregisters it).
    let done = t.wait_terminal(&eid).await;
    assert_eq!(done["status"], "completed");
    let events = t
        .app
        .store
        .runtime()
        .events_after(&session, 0, 1000)
        .await
        .unwrap();
    let started = events
        .iter()
        .filter(|e| e.event_type == "STEP_STARTED" && e.data["step"] == "slow")
        .count();
    assert_eq!(
        started, 2,
        "the interrupted step was started again by the new actor"
    );
    t.app.shutdown().await;
}

#[tokio::test]
async fn unknown_targets_are_refused_in_the_error_shape() {
    let db = sqlite_db();
    let runs: Runs = Default::default();
    let t = app(&db, &runs, None).await;
    let (s, b) = fault(&t, "session", "no-such-session", "panic").await;
    assert_error(s, &b, 404, "actor_not_found");
    let (s, b) = fault(&t, "database", "", "panic").await;
    assert_error(s, &b, 422, "validation_error");
    assert!(b["fields"]["target"].is_string(), "{b}");
    let (s, b) = fault(&t, "router", "", "explode").await;
    assert_error(s, &b, 422, "validation_error");
    let (s, b) = fault(&t, "execution", "", "kill").await;
    assert_error(s, &b, 422, "validation_error");
    assert!(b["fields"]["id"].is_string(), "{b}");
    // The service token is required.
    let r = t
        .http
        .post(t.url("/api/debug/fault"))
        .json(&json!({"target": "router", "mode": "panic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Nothing was crashed by any of that.
    let session = t.create_session(None).await;
    let eid = t.submit_echo(&session, None, "still here").await;
    assert_eq!(t.wait_terminal(&eid).await["status"], "completed");
    t.app.shutdown().await;
}

async fn connect(t: &TestApp, session: &str) -> (Ws, Value) {
    let mut ws = crate::common::ws::connect(&t.exp, &format!("session_id={session}")).await;
    let hello = next_json(&mut ws).await.expect("hello");
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    (ws, hello)
}

/// The next JSON message, or `None` once the server closed the socket (with its close code).
async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("in time")
        {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(frame))) => {
                let code: u16 = frame.map(|f| f.code.into()).unwrap_or(0);
                assert_eq!(code, 1011, "a crashed connection closes with 1011");
                return None;
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn a_crashed_connection_resumes_with_no_gap_and_no_duplicate() {
    for mode in ["panic", "kill"] {
        let db = sqlite_db();
        let runs: Runs = Default::default();
        let t = app(&db, &runs, None).await;
        let session = t.anonymous().await;
        let (mut ws, hello) = connect(&t, &session).await;
        assert_eq!(hello["data"]["last_seq"], 0);
        let connection = hello["data"]["connection_id"].as_str().unwrap().to_string();
        let eid = counted_in_flight(&t, &session).await;
        // Read what has arrived, crash the connection, and read on until it closes.
        let mut seen: Vec<i64> = Vec::new();
        let first = next_json(&mut ws).await.unwrap();
        seen.push(first["seq"].as_i64().unwrap());
        let (s, b) = fault(&t, "connection", &connection, mode).await;
        assert_eq!(s, 200, "{b}");
        while let Some(m) = next_json(&mut ws).await {
            seen.push(m["seq"].as_i64().unwrap());
        }
        // Reconnect, resuming after the last seq seen.
        let last = *seen.last().unwrap();
        let (mut ws, _) = connect(&t, &format!("{session}&after_seq={last}")).await;
        loop {
            let m = next_json(&mut ws).await.expect("the resumed stream");
            if let Some(seq) = m["seq"].as_i64() {
                seen.push(seq);
            }
            if m["event_type"] == "EXECUTION_COMPLETED" {
                break;
            }
        }
        let want: Vec<i64> = (1..=seen.len() as i64).collect();
        assert_eq!(seen, want, "{mode}: every event once, in order");
        finished_exactly_once(&t, &runs, &eid, mode).await;
        t.app.shutdown().await;
    }
}

/// The text of the next AGENT_RESPONSE.
async fn agent_reply(ws: &mut Ws) -> String {
    loop {
        let m = next_json(ws).await.expect("a reply");
        if m["event_type"] == "AGENT_RESPONSE" {
            return m["data"]["message"].as_str().unwrap().to_string();
        }
    }
}

#[tokio::test]
async fn a_crashed_agent_keeps_its_conversation() {
    for mode in ["panic", "kill"] {
        let db = sqlite_db();
        let runs: Runs = Default::default();
        let t = app(&db, &runs, None).await;
        let session = t.create_session(None).await;
        let (mut ws, _) = connect(&t, &session).await;
        let turn = |text: &'static str| {
            json!({"type": "intent", "intent": text, "agent_type": "guide",
                "metadata": {"conversation_id": "c"}})
            .to_string()
        };
        ws.send(Message::Text(turn("hi").into())).await.unwrap();
        assert!(agent_reply(&mut ws)
            .await
            .starts_with("Welcome to Symphainy."));
        let name = format!("agent:{session}:guide");
        let (s, b) = fault(&t, "agent", &format!("{session}:guide"), mode).await;
        assert_eq!(s, 200, "{b}");
        let old = b["actor_id"].as_str().unwrap().to_string();
        restarted(&t, &name, &old).await;
        ws.send(Message::Text(turn("good morning").into()))
            .await
            .unwrap();
        let text = agent_reply(&mut ws).await;
        assert!(
            text.starts_with("Welcome back."),
            "{mode}: the history was kept: {text}"
        );
        seq_is_contiguous(&t, &session, mode).await;
        t.app.shutdown().await;
    }
}

#[tokio::test]
async fn past_the_restart_intensity_supervisors_escalate_up_to_the_process() {
    let db = sqlite_db();
    let runs: Runs = Default::default();
    let within = Duration::from_secs(60);
    let t = app(
        &db,
        &runs,
        Some((
            RestartPolicy {
                max_restarts: 2,
                within,
            },
            RestartPolicy {
                max_restarts: 1,
                within,
            },
        )),
    )
    .await;
    let session = t.create_session(None).await;
    let router = t.app.runtime.ctx.faults.get("router").unwrap().to_string();
    // The router restarts the session twice...
    for _ in 0..2 {
        let eid = t.submit_echo(&session, None, "wake").await;
        t.wait_terminal(&eid).await;
        let (s, b) = fault(&t, "session", &session, "panic").await;
        assert_eq!(s, 200, "{b}");
        restarted(
            &t,
            &format!("session:{session}"),
            b["actor_id"].as_str().unwrap(),
        )
        .await;
    }
    assert_eq!(
        t.app.runtime.ctx.faults.get("router").unwrap().to_string(),
        router,
        "within its intensity the router itself is untouched"
    );
    // ...the third failure within the window makes it fail itself; the root restarts it.
    let (s, _) = fault(&t, "session", &session, "panic").await;
    assert_eq!(s, 200);
    let router2 = restarted(&t, "router", &router).await;
    // The new router serves the session again (activated afresh from the store).
    let eid = t.submit_echo(&session, None, "after the escalation").await;
    assert_eq!(t.wait_terminal(&eid).await["status"], "completed");
    seq_is_contiguous(&t, &session, "after the router's restart").await;
    // One more router failure exceeds the root's intensity: the actor tree stops, and with it
    // the process (`serve` exits non-zero when `App::failed` resolves).
    let (s, _) = fault(&t, "router", "", "panic").await;
    assert_eq!(s, 200);
    tokio::time::timeout(Duration::from_secs(10), t.app.failed())
        .await
        .expect("the root supervisor escalated");
    assert!(t
        .app
        .runtime
        .ctx
        .faults
        .get("router")
        .is_none_or(|id| id.to_string() == router2));
    t.app.shutdown().await;
}

#[tokio::test]
async fn an_agent_crashed_mid_turn_answers_it_and_the_next_in_order() {
    for mode in ["panic", "kill"] {
        let db = sqlite_db();
        let runs: Runs = Default::default();
        let t = app(&db, &runs, None).await;
        let session = t.create_session(None).await;
        for (name, csv) in [
            ("sales.csv", "order_id,customer_id\n101,1\n102,2\n"),
            ("customers.csv", "id,name\n1,Ann\n2,Bob\n"),
        ] {
            t.run_completed(
                &session,
                "ingest_file",
                json!({"filename": name, "file_content": hex::encode(csv)}),
            )
            .await;
        }
        let (mut ws, _) = connect(&t, &session).await;
        let chat = |text: &str| {
            Message::Text(
                json!({"type": "agent.message", "payload": {"text": text,
                    "context": {"surface": "insights_pillar", "conversation_id": "c"}}})
                .to_string()
                .into(),
            )
        };
        // Two turns queued at once; the agent is crashed while answering the first.
        ws.send(chat("combine sales and customers")).await.unwrap();
        ws.send(chat("how clean is sales.csv?")).await.unwrap();
        let name = format!("agent:{session}:liaison.insights");
        let mut answers = Vec::new();
        let mut crashed = None;
        while answers.len() < 2 {
            let m = next_json(&mut ws).await.expect("the socket stays open");
            if m["event_type"] == "AGENT_STARTED" && crashed.is_none() {
                let (s, b) = fault(&t, "agent", &format!("{session}:liaison.insights"), mode).await;
                assert_eq!(s, 200, "{b}");
                crashed = Some(b["actor_id"].as_str().unwrap().to_string());
            }
            assert_ne!(m["event_type"], "AGENT_FAILED", "{mode}: {m}");
            if m["event_type"] == "AGENT_RESPONSE" {
                answers.push(m["data"]["message"].as_str().unwrap().to_string());
            }
        }
        assert!(
            answers[0].starts_with("I combined sales.csv and customers.csv"),
            "{mode}: {answers:?}"
        );
        assert!(
            answers[1].starts_with("sales.csv scores"),
            "{mode}: {answers:?}"
        );
        restarted(&t, &name, crashed.as_deref().unwrap()).await;
        seq_is_contiguous(&t, &session, mode).await;
        t.app.shutdown().await;
    }
}
