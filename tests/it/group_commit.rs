//! Issue 21: an intent's intake rides the event log's group commit. Keyless submits are stored
//! by the event log's transactions (with other intents' events, and with their own start),
//! each answered 202 only once its row is committed; submits with an idempotency key keep their own transaction (the key
//! is checked and recorded with the row). How much the sharing saves is measured, not
//! asserted: BENCHMARKS.md.

use std::sync::atomic::Ordering::Relaxed;

use serde_json::json;

use crate::common::*;

/// A one-step echo's events, in order, once each.
const ECHO_EVENTS: [&str; 4] = [
    "EXECUTION_STARTED",
    "STEP_STARTED",
    "STEP_COMPLETED",
    "EXECUTION_COMPLETED",
];

#[tokio::test]
async fn keyless_intake_is_committed_by_the_event_log() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let stats = t.app.runtime.ctx.events.stats.clone();
        let mut sessions = Vec::new();
        for _ in 0..40 {
            sessions.push(t.create_session(None).await);
        }
        let i0 = stats.intakes.load(Relaxed);
        let mut tasks = Vec::new();
        for (n, session) in sessions.iter().enumerate() {
            let (http, url, token, session) = (
                t.http.clone(),
                t.url("/api/intent/submit"),
                t.token.clone(),
                session.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut body = json!({"intent_type": "echo", "session_id": session,
                    "parameters": {"message": format!("m{n}")}});
                // Every eighth with a key: its own transaction.
                if n % 8 == 0 {
                    body["idempotency_key"] = json!(format!("key-{n}"));
                }
                let resp = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 202);
                let v: serde_json::Value = resp.json().await.unwrap();
                v["execution_id"].as_str().unwrap().to_string()
            }));
        }
        let mut ids = Vec::new();
        for task in tasks {
            let id = task.await.unwrap();
            // A 202 means stored: the row is there as soon as the answer is.
            let row = t.app.store.runtime().get_execution(&id).await.unwrap();
            assert!(
                row.is_some(),
                "[{}] {id} answered 202 but not stored",
                db.name
            );
            ids.push(id);
        }
        assert_eq!(
            stats.intakes.load(Relaxed) - i0,
            35,
            "[{}] the 35 keyless intents went through the event log",
            db.name
        );
        for id in &ids {
            let done = t.wait_terminal(id).await;
            assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
            let types = event_types(&done);
            assert_eq!(types, ECHO_EVENTS, "[{}] once each", db.name);
        }
        // A key used again still answers the first execution (its own path, unchanged).
        let (s, again) = t
            .submit(json!({"intent_type": "echo", "session_id": sessions[8],
                "idempotency_key": "key-8", "parameters": {"message": "other"}}))
            .await;
        assert_eq!(s, 202);
        assert_eq!(again["execution_id"], ids[8].as_str());
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// An intent that starts at once is stored together with its start: `EXECUTION_STARTED` and
/// its first `STEP_STARTED` commit with its row, so a one-step intent takes two commits (its
/// intake and start, its end) where it took three.
#[tokio::test]
async fn an_intent_is_stored_with_its_start() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let why = db.name;
        let stats = t.app.runtime.ctx.events.stats.clone();
        let session = t.create_session(None).await;
        let (tx0, ev0) = (stats.transactions.load(Relaxed), stats.events.load(Relaxed));
        let (s, accepted) = t
            .submit(json!({"intent_type": "echo", "session_id": session,
                "parameters": {"message": "hello"}}))
            .await;
        assert_eq!(s, 202, "[{why}] {accepted}");
        let id = accepted["execution_id"].as_str().unwrap();
        // Stored as started: the step has begun (or already ended), never `pending`.
        let row = t
            .app
            .store
            .runtime()
            .get_execution(id)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(row.status.as_str(), "pending", "[{why}]");
        assert!(row.started_at.is_some(), "[{why}]");
        let steps = t.app.store.runtime().get_steps(id).await.unwrap();
        assert_eq!(steps.len(), 1, "[{why}] {steps:?}");
        assert_eq!((steps[0].idx, steps[0].attempts), (0, 1), "[{why}]");
        let done = t.wait_terminal(id).await;
        assert_eq!(done["status"], "completed", "[{why}] {done}");
        assert_eq!(event_types(&done), ECHO_EVENTS, "[{why}]");
        assert_eq!(done["events"][1]["data"]["attempt"], 1, "[{why}] {done}");
        // Two commits: intake with start (2 events), completion with end (2 events). (The
        // counters move just after a commit is visible: read them until they have.)
        let counted = || {
            (
                stats.transactions.load(Relaxed) - tx0,
                stats.events.load(Relaxed) - ev0,
            )
        };
        eventually(std::time::Duration::from_secs(5), || async {
            (counted().1 >= 4).then_some(())
        })
        .await;
        assert_eq!(counted(), (2, 4), "[{why}]");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}
