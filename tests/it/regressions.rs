//! Regression tests for races found in review: each failed before its fix.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use async_trait::async_trait;
use serde_json::{json, Value};
use symphainy::runtime::contract::model::{Scope, UpgradeSession};
use symphainy::runtime::engine::handler::FieldErrors;
use symphainy::runtime::{
    IntentHandler, RuntimeClient, RuntimeError, SagaStep, StepContext, StepError, StepOutput,
};
use symphainy::store::{AppendOutcome, Effect, NewEvent};

struct Noop;

#[async_trait]
impl SagaStep for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    async fn run(&self, _c: &StepContext) -> Result<StepOutput, StepError> {
        Ok(StepOutput::default())
    }
}

struct Guarded;

impl IntentHandler for Guarded {
    fn intent_type(&self) -> &str {
        "guarded"
    }
    fn description(&self) -> &str {
        "needs approval"
    }
    fn validate(&self, _p: &Value) -> Result<(), FieldErrors> {
        Ok(())
    }
    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Noop)]
    }
    fn approval_reason(&self, _p: &Value) -> Option<String> {
        Some("review first".into())
    }
}

/// A stale driver whose event already exists must be told `Fenced`, not `Duplicate` (which it
/// would take as success and carry on with the next steps).
#[tokio::test]
async fn a_duplicate_event_from_a_stale_epoch_is_fenced() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let eid = t.submit_echo(&session, None, "x").await;
    t.wait_terminal(&eid).await;
    let store = &t.app.store;
    let stale = store
        .runtime()
        .claim_execution(&eid, None)
        .await
        .unwrap()
        .unwrap();
    let newer = store
        .runtime()
        .claim_execution(&eid, None)
        .await
        .unwrap()
        .unwrap();
    let event = |key: &str| NewEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        session_id: session.clone(),
        event_type: "STEP_COMPLETED".into(),
        execution_id: Some(eid.clone()),
        event_key: Some(format!("{eid}:{key}")),
        data: json!({}),
        created_at: 1,
    };
    let effect = |epoch| Effect::StepCompleted {
        execution_id: eid.clone(),
        epoch,
        idx: 0,
        output: json!({}),
        artifacts: None,
    };
    let mut cache = Default::default();
    let out = append_events(
        store,
        &[(event("step:0:completed"), Some(effect(stale)))],
        &mut cache,
    )
    .await
    .unwrap();
    assert!(matches!(out[0], AppendOutcome::Fenced), "{:?}", out[0]);
    let out = append_events(
        store,
        &[(event("step:0:completed"), Some(effect(newer)))],
        &mut cache,
    )
    .await
    .unwrap();
    assert!(
        matches!(out[0], AppendOutcome::Duplicate(_)),
        "{:?}",
        out[0]
    );
    t.app.shutdown().await;
}

/// An approval sent while a restarted session has not yet resumed its executions is queued
/// and applied, not refused as "finished".
#[tokio::test]
async fn an_approval_right_after_a_session_restart_is_applied() {
    let db = sqlite_db();
    let mut handlers = symphainy::runtime::realms::builtin();
    handlers.register(Arc::new(Guarded));
    let t = spawn_app_with(test_config(&db), handlers).await;
    let session = t.create_session(Some("t")).await;
    let (_, b) = t
        .submit(json!({"intent_type": "guarded", "session_id": session}))
        .await;
    let eid = b["execution_id"].as_str().unwrap().to_string();
    let hook = wait_for_hook(&t, &eid).await;
    t.app.runtime.ctx.sessions.get(&session).unwrap().kill();
    let (s, b) = t
        .post(
            &format!("/api/execution/{eid}/approval"),
            json!({"hook_id": hook, "approved": true}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(t.wait_terminal(&eid).await["status"], "completed");
    t.app.shutdown().await;
}

/// An intent accepted while the session actor that admitted it dies is still started (by the
/// session's next incarnation).
#[tokio::test]
async fn an_accepted_intent_starts_even_if_its_session_actor_died() {
    use sqlx::{Connection, Executor};
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let first = t.submit_echo(&session, None, "warm").await;
    t.wait_terminal(&first).await;

    // Hold SQLite's write lock so the submit's INSERT waits.
    let mut lock = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    lock.execute("BEGIN IMMEDIATE").await.unwrap();
    let client = t.app.runtime.client();
    let s2 = session.clone();
    let submit = tokio::spawn(async move {
        let req = serde_json::from_value(
            json!({"intent_type": "echo", "session_id": s2, "parameters": {"message": "kept"}}),
        )
        .unwrap();
        client.submit_intent(&Scope::Any, req).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let old = t.app.runtime.ctx.sessions.get(&session).unwrap();
    old.kill();
    // The session's next incarnation is up.
    eventually(Duration::from_secs(10), || async {
        t.app
            .runtime
            .ctx
            .sessions
            .get(&session)
            .is_some_and(|a| a.get_id() != old.get_id())
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.execute("ROLLBACK").await.unwrap();
    let accepted = submit.await.unwrap().expect("202 accepted");
    let done = t.wait_terminal(&accepted.execution_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    t.app.shutdown().await;
}

/// Two concurrent upgrades of one anonymous session to different users: exactly one wins.
#[tokio::test]
async fn concurrent_upgrades_to_different_users_one_wins() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        let c = t.app.runtime.client();
        let up = |u: &str, tn: &str| UpgradeSession {
            user_id: u.into(),
            tenant_id: tn.into(),
            metadata: None,
        };
        let (a, b) = tokio::join!(
            c.upgrade_session(&Scope::Any, &session, up("alice", "ta")),
            c.upgrade_session(&Scope::Any, &session, up("mallory", "tm")),
        );
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "[{}] {a:?} / {b:?}", db.name);
        let loser = if a.is_ok() { b } else { a };
        assert!(
            matches!(
                &loser,
                Err(RuntimeError::Conflict { code, .. }) if code == "session_already_bound"
            ),
            "{loser:?}"
        );
        // The stored owner is the winner's, and repeating the winner's upgrade is harmless.
        let stored = c.get_session(&Scope::Any, &session).await.unwrap();
        let (winner, tenant) = match stored.user_id.as_deref() {
            Some("alice") => ("alice", "ta"),
            _ => ("mallory", "tm"),
        };
        assert_eq!(stored.tenant_id.as_deref(), Some(tenant));
        c.upgrade_session(&Scope::Any, &session, up(winner, tenant))
            .await
            .unwrap();
        t.app.shutdown().await;
        db.cleanup().await;
    }
}
