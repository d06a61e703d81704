//! Sagas through the whole runtime with handlers registered by the test: compensation in
//! reverse order, approvals, panicking steps, resuming after a restart without re-running
//! completed steps, passivation and a killed session actor.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::{json, Value};
use symphainy::runtime::engine::handler::FieldErrors;
use symphainy::runtime::engine::messages::RouterMsg;
use symphainy::runtime::{
    HandlerRegistry, IntentHandler, SagaStep, StepContext, StepError, StepOutput,
};

type Log = Arc<Mutex<Vec<String>>>;

struct Recorded {
    name: &'static str,
    log: Log,
    fail: Option<&'static str>,
    panic: bool,
}

#[async_trait]
impl SagaStep for Recorded {
    fn name(&self) -> &str {
        self.name
    }
    async fn run(&self, _ctx: &StepContext) -> Result<StepOutput, StepError> {
        self.log.lock().push(format!("run {}", self.name));
        if self.panic {
            panic!("{} exploded", self.name);
        }
        match self.fail {
            Some(msg) => Err(StepError::new(msg)),
            None => Ok(StepOutput {
                output: json!({"did": self.name}),
                ..Default::default()
            }),
        }
    }
    async fn compensate(&self, _ctx: &StepContext, output: &Value) -> Result<(), StepError> {
        self.log
            .lock()
            .push(format!("undo {} (output {})", self.name, output["did"]));
        Ok(())
    }
}

/// A handler whose steps are `Recorded`, built by a closure from the shared log.
struct TestHandler {
    intent: &'static str,
    approval: bool,
    steps: Box<dyn Fn() -> Vec<Arc<dyn SagaStep>> + Send + Sync>,
}

impl IntentHandler for TestHandler {
    fn intent_type(&self) -> &str {
        self.intent
    }
    fn description(&self) -> &str {
        "test handler"
    }
    fn validate(&self, _p: &Value) -> Result<(), FieldErrors> {
        Ok(())
    }
    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        (self.steps)()
    }
    fn approval_reason(&self, _p: &Value) -> Option<String> {
        self.approval.then(|| "it deletes things".to_string())
    }
}

fn step(name: &'static str, log: &Log) -> Arc<dyn SagaStep> {
    Arc::new(Recorded {
        name,
        log: log.clone(),
        fail: None,
        panic: false,
    })
}

fn handlers(log: &Log) -> HandlerRegistry {
    let mut r = symphainy::runtime::realms::builtin();
    let l = log.clone();
    r.register(Arc::new(TestHandler {
        intent: "three_steps_third_fails",
        approval: false,
        steps: Box::new(move || {
            vec![
                step("reserve", &l),
                step("charge", &l),
                Arc::new(Recorded {
                    name: "ship",
                    log: l.clone(),
                    fail: Some("the warehouse is on fire"),
                    panic: false,
                }),
            ]
        }),
    }));
    let l = log.clone();
    r.register(Arc::new(TestHandler {
        intent: "panics",
        approval: false,
        steps: Box::new(move || {
            vec![
                step("first", &l),
                Arc::new(Recorded {
                    name: "boom",
                    log: l.clone(),
                    fail: None,
                    panic: true,
                }),
            ]
        }),
    }));
    let l = log.clone();
    r.register(Arc::new(TestHandler {
        intent: "guarded",
        approval: true,
        steps: Box::new(move || vec![step("dangerous", &l)]),
    }));
    r
}

#[tokio::test]
async fn failed_third_step_compensates_the_first_two_in_reverse() {
    for db in databases().await {
        let log: Log = Default::default();
        let t = spawn_app_with(test_config(&db), handlers(&log)).await;
        let session = t.create_session(Some("t")).await;
        let (s, b) = t
            .submit(json!({"intent_type": "three_steps_third_fails", "session_id": session}))
            .await;
        assert_eq!(s, 202, "{b}");
        let done = t.wait_terminal(b["execution_id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "failed", "[{}] {done}", db.name);
        assert_eq!(done["error"], "the warehouse is on fire");
        assert_eq!(
            *log.lock(),
            [
                "run reserve",
                "run charge",
                "run ship",
                "undo charge (output \"charge\")",
                "undo reserve (output \"reserve\")"
            ]
        );
        let steps: Vec<(&str, &str)> = done["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            steps,
            [
                ("reserve", "compensated"),
                ("charge", "compensated"),
                ("ship", "failed")
            ]
        );
        assert_eq!(done["steps"][2]["error"], "the warehouse is on fire");
        assert_eq!(
            event_types(&done),
            [
                "EXECUTION_STARTED",
                "STEP_STARTED",
                "STEP_COMPLETED",
                "STEP_STARTED",
                "STEP_COMPLETED",
                "STEP_STARTED",
                "STEP_FAILED",
                "STEP_COMPENSATED",
                "STEP_COMPENSATED",
                "EXECUTION_FAILED"
            ]
        );
        let failed = done["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(failed["data"]["step"], "ship");
        assert_eq!(failed["data"]["error"], "the warehouse is on fire");
        assert_eq!(done["events"][7]["data"]["step"], "charge");
        assert_eq!(done["events"][8]["data"]["step"], "reserve");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_panicking_step_fails_the_execution_and_compensates() {
    let db = sqlite_db();
    let log: Log = Default::default();
    let t = spawn_app_with(test_config(&db), handlers(&log)).await;
    let session = t.create_session(None).await;
    let (_, b) = t
        .submit(json!({"intent_type": "panics", "session_id": session}))
        .await;
    let done = t.wait_terminal(b["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"], "step panicked: boom exploded");
    assert_eq!(
        *log.lock(),
        ["run first", "run boom", "undo first (output \"first\")"]
    );
    // The runtime is unharmed: the next intent runs.
    let next = t.submit_echo(&session, None, "still here").await;
    assert_eq!(t.wait_terminal(&next).await["status"], "completed");
    t.app.shutdown().await;
}

#[tokio::test]
async fn approval_gates_the_run() {
    for db in databases().await {
        let log: Log = Default::default();
        let t = spawn_app_with(test_config(&db), handlers(&log)).await;
        let session = t.create_session(Some("t")).await;

        for approve in [true, false] {
            let (_, b) = t
                .submit(json!({"intent_type": "guarded", "session_id": session}))
                .await;
            let eid = b["execution_id"].as_str().unwrap().to_string();
            let status = eventually(Duration::from_secs(10), || async {
                let status = t.status(&eid).await;
                (status["status"] == "awaiting_approval").then_some(status)
            })
            .await;
            let ran_before = if approve { 0 } else { 1 };
            assert_eq!(log.lock().len(), ran_before, "nothing runs before approval");
            let pending = &status["events"][0];
            assert_eq!(pending["event_type"], "SAFETY_APPROVAL_PENDING");
            assert_eq!(pending["data"]["reason"], "it deletes things");
            assert_eq!(pending["data"]["intent_type"], "guarded");
            let hook = pending["data"]["hook_id"].as_str().unwrap().to_string();

            let (s, b) = t
                .post(
                    &format!("/api/execution/{eid}/approval"),
                    json!({"hook_id": "wrong", "approved": true}),
                )
                .await;
            assert_error(s, &b, 404, "hook_not_found");
            let (s, b) = t
                .post(
                    &format!("/api/execution/{eid}/approval"),
                    json!({"hook_id": hook, "approved": approve, "reason": "not today"}),
                )
                .await;
            assert_eq!(s, 200, "{b}");
            let done = t.wait_terminal(&eid).await;
            if approve {
                assert_eq!(done["status"], "completed", "{done}");
                assert_eq!(*log.lock(), ["run dangerous"]);
                assert_eq!(
                    event_types(&done),
                    [
                        "SAFETY_APPROVAL_PENDING",
                        "EXECUTION_STARTED",
                        "STEP_STARTED",
                        "STEP_COMPLETED",
                        "EXECUTION_COMPLETED"
                    ]
                );
            } else {
                assert_eq!(done["status"], "cancelled", "{done}");
                assert_eq!(done["error"], "approval refused: not today");
                assert_eq!(log.lock().len(), 1, "a refused intent never runs");
                assert_eq!(
                    event_types(&done),
                    [
                        "SAFETY_APPROVAL_PENDING",
                        "SAFETY_HALTED",
                        "EXECUTION_CANCELLED"
                    ]
                );
            }
        }
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// Step 1 counts its runs; step 2 counts and then waits for the gate.
struct Gated {
    name: &'static str,
    runs: Arc<AtomicUsize>,
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

#[async_trait]
impl SagaStep for Gated {
    fn name(&self) -> &str {
        self.name
    }
    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.unwrap();
        }
        Ok(StepOutput {
            output: json!({"attempt": ctx.attempt, "saw": ctx.outputs}),
            ..Default::default()
        })
    }
}

fn gated_handlers(
    runs1: &Arc<AtomicUsize>,
    runs2: &Arc<AtomicUsize>,
    gate: &Arc<tokio::sync::Semaphore>,
) -> HandlerRegistry {
    let mut r = symphainy::runtime::realms::builtin();
    let (a, b, g) = (runs1.clone(), runs2.clone(), gate.clone());
    r.register(Arc::new(TestHandler {
        intent: "two_gated",
        approval: false,
        steps: Box::new(move || {
            vec![
                Arc::new(Gated {
                    name: "prepare",
                    runs: a.clone(),
                    gate: None,
                }) as Arc<dyn SagaStep>,
                Arc::new(Gated {
                    name: "wait",
                    runs: b.clone(),
                    gate: Some(g.clone()),
                }),
            ]
        }),
    }));
    r
}

#[tokio::test]
async fn a_restart_resumes_from_the_last_completed_step() {
    for db in databases().await {
        let (runs1, runs2) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let closed = Arc::new(tokio::sync::Semaphore::new(0));
        let config = test_config(&db);
        let t = spawn_app_with(config.clone(), gated_handlers(&runs1, &runs2, &closed)).await;
        let session = t.create_session(Some("t")).await;
        let (_, b) = t
            .submit(json!({"intent_type": "two_gated", "session_id": session}))
            .await;
        let eid = b["execution_id"].as_str().unwrap().to_string();
        // Step 2 is running.
        eventually(Duration::from_secs(10), || async {
            (runs2.load(Ordering::SeqCst) == 1).then_some(())
        })
        .await;
        t.app.shutdown().await;

        // A new process on the same database: step 1 is not run again, step 2 is.
        let open = Arc::new(tokio::sync::Semaphore::new(100));
        let t = spawn_app_with(config, gated_handlers(&runs1, &runs2, &open)).await;
        let done = t.wait_terminal(&eid).await;
        assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
        assert_eq!(
            runs1.load(Ordering::SeqCst),
            1,
            "a completed step never runs twice"
        );
        assert_eq!(runs2.load(Ordering::SeqCst), 2);
        assert_eq!(
            event_types(&done),
            [
                "EXECUTION_STARTED",
                "STEP_STARTED",
                "STEP_COMPLETED",
                "STEP_STARTED",
                "STEP_STARTED",
                "STEP_COMPLETED",
                "EXECUTION_COMPLETED"
            ]
        );
        assert_eq!(done["events"][4]["data"]["attempt"], 2);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

async fn active_sessions(t: &TestApp) -> Vec<String> {
    let router = t.app.runtime.ctx.router.get().unwrap();
    ractor::call!(router, RouterMsg::ActiveSessions).unwrap()
}

#[tokio::test]
async fn idle_sessions_passivate_and_reactivate_on_use() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.runtime.session_idle = Duration::from_millis(100);
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.create_session(None).await;
    let first = t.submit_echo(&session, None, "one").await;
    t.wait_terminal(&first).await;
    assert_eq!(active_sessions(&t).await, vec![session.clone()]);

    // The idle session is passivated.
    eventually(Duration::from_secs(10), || async {
        active_sessions(&t).await.is_empty().then_some(())
    })
    .await;
    assert!(t.app.runtime.ctx.sessions.get(&session).is_none());

    let second = t.submit_echo(&session, None, "two").await;
    let done = t.wait_terminal(&second).await;
    assert_eq!(done["status"], "completed");
    let seqs: Vec<i64> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [5, 6, 7, 8], "seq continues across activations");
    t.app.shutdown().await;
}

#[tokio::test]
async fn a_killed_session_actor_is_restarted_and_its_execution_finishes_once() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("t")).await;
        let (_, b) = t
            .submit(
                json!({"intent_type": "echo", "session_id": session, "tenant_id": "t",
                "parameters": {"message": "survive", "delay_ms": 300}}),
            )
            .await;
        let eid = b["execution_id"].as_str().unwrap().to_string();
        let actor = eventually(Duration::from_secs(10), || async {
            (t.status(&eid).await["steps"][0]["status"] == "running")
                .then(|| t.app.runtime.ctx.sessions.get(&session))
        })
        .await
        .expect("session actor active while its execution runs");
        actor.kill();

        let done = t.wait_terminal(&eid).await;
        assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
        let types = event_types(&done);
        assert_eq!(
            types.iter().filter(|t| *t == "EXECUTION_COMPLETED").count(),
            1,
            "{types:?}"
        );
        let seqs: Vec<i64> = done["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, want, "no gap, no duplicate");
        let restarted = t.app.runtime.ctx.sessions.get(&session);
        assert!(
            restarted.is_some_and(|a| a.get_id() != actor.get_id()),
            "a new session actor took over"
        );
        // The restarted session serves new work.
        let next = t.submit_echo(&session, Some("t"), "after").await;
        assert_eq!(t.wait_terminal(&next).await["status"], "completed");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_appends_share_transactions() {
    use std::sync::atomic::Ordering::Relaxed;
    use symphainy::store::NewEvent;
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let events = t.app.runtime.ctx.events.clone();
    let (e0, t0) = (
        events.stats.events.load(Relaxed),
        events.stats.transactions.load(Relaxed),
    );
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (events, session) = (events.clone(), session.clone());
        tasks.push(tokio::spawn(async move {
            let e = NewEvent {
                event_id: uuid::Uuid::new_v4().to_string(),
                session_id: session,
                event_type: "TEST".into(),
                execution_id: None,
                event_key: Some(format!("k{i}")),
                data: json!({}),
                created_at: 0,
            };
            events.append(e, None).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let committed = events.stats.events.load(Relaxed) - e0;
    let transactions = events.stats.transactions.load(Relaxed) - t0;
    assert_eq!(committed, 200);
    assert!(
        transactions < committed / 2,
        "group commit: {committed} events in {transactions} transactions"
    );
    assert_eq!(t.app.store.runtime().max_seq(&session).await.unwrap(), 200);
    t.app.shutdown().await;
}

/// Issue 14, item 3: a step that takes the server down every time it runs is not resumed
/// forever. Its fifth interruption is its last: the next start fails it with a clear error.
#[tokio::test]
async fn a_step_interrupted_five_times_is_failed_as_poison() {
    for db in databases().await {
        let (runs1, runs2) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let closed = Arc::new(tokio::sync::Semaphore::new(0));
        let config = test_config(&db);
        let mut eid = String::new();
        for round in 1..=5 {
            let t = spawn_app_with(config.clone(), gated_handlers(&runs1, &runs2, &closed)).await;
            if round == 1 {
                let session = t.create_session(Some("t")).await;
                let (_, b) = t
                    .submit(json!({"intent_type": "two_gated", "session_id": session}))
                    .await;
                eid = b["execution_id"].as_str().unwrap().to_string();
            }
            // Run `round` of step 2 is under way.
            eventually(Duration::from_secs(10), || async {
                (runs2.load(Ordering::SeqCst) == round).then_some(())
            })
            .await;
            t.app.shutdown().await;
        }
        let t = spawn_app_with(config, gated_handlers(&runs1, &runs2, &closed)).await;
        let done = t.wait_terminal(&eid).await;
        assert_eq!(done["status"], "failed", "[{}] {done}", db.name);
        assert_eq!(
            done["error"],
            "the step 'wait' was interrupted 5 times (the server stopped or crashed while it \
             ran); it is not tried again"
        );
        assert_eq!(runs2.load(Ordering::SeqCst), 5, "not run a sixth time");
        assert_eq!(runs1.load(Ordering::SeqCst), 1);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}
