//! Cancels racing approvals and each other (issue 14, items 1 and 7 and the lows on cancel and
//! approval answers): the status always says what happened, no answer is a 503, and the
//! server keeps every acknowledged write and keeps serving other sessions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;
use async_trait::async_trait;
use serde_json::{json, Value};
use symphainy::runtime::engine::handler::{
    FieldErrors, IntentHandler, SagaStep, StepContext, StepError, StepOutput,
};

async fn ingest(t: &TestApp, session: &str, n: usize) -> String {
    let done = t
        .run_intent(
            session,
            Some("t"),
            "ingest_file",
            json!({"filename": format!("f{n}.csv"), "file_content": hex::encode(format!("id\n{n}\n"))}),
        )
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    done["artifacts"]["file"]["semantic_payload"]["file_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn code(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// The reproduction, 200 times on each backend: a file uploaded, `delete_file`
/// submitted, then its approval and a cancel sent at the same moment. Before the fixes SQLite
/// wedged (a cancel dropped the delete inside its transaction; later writes were acknowledged
/// and lost) and PostgreSQL reported `cancelled` for a file it had deleted.
#[tokio::test]
async fn a_cancel_racing_an_approval_leaves_a_status_that_matches_what_happened() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("t")).await;
        let (mut completed, mut cancelled) = (0, 0);
        let mut acknowledged = Vec::new();
        for n in 0..200 {
            let file = ingest(&t, &session, n).await;
            let (s, b) = t
                .submit(json!({"intent_type": "delete_file", "session_id": session,
                    "tenant_id": "t", "parameters": {"file_id": file}}))
                .await;
            assert_eq!(s, 202, "{b}");
            let eid = b["execution_id"].as_str().unwrap().to_string();
            acknowledged.push(eid.clone());
            let hook = wait_for_hook(&t, &eid).await;
            let (approval_path, cancel_path) = (
                format!("/api/execution/{eid}/approval"),
                format!("/api/execution/{eid}/cancel"),
            );
            let approve = t.post(&approval_path, json!({"hook_id": hook, "approved": true}));
            let cancel = t.post(&cancel_path, json!({}));
            let ((sa, ba), (sc, bc)) = if n % 2 == 0 {
                tokio::join!(approve, cancel)
            } else {
                let (c, a) = tokio::join!(cancel, approve);
                (a, c)
            };
            let done = t.wait_terminal(&eid).await;
            let (sf, _) = t
                .post(
                    "/api/artifact/resolve",
                    json!({"artifact_id": file, "tenant_id": "t"}),
                )
                .await;
            let gone = sf == 404;
            let trial = format!(
                "[{}] trial {n}: approve {sa} {ba}, cancel {sc} {bc}, status {}",
                db.name, done["status"]
            );
            assert!(sa != 503 && sc != 503, "{trial}");
            match done["status"].as_str().unwrap() {
                "completed" => {
                    completed += 1;
                    assert!(gone, "{trial}: completed but the file is still there");
                    assert_eq!(sa, 200, "{trial}");
                    assert_eq!(sc, 409, "{trial}");
                    assert!(
                        [
                            "not_cancellable",
                            "execution_finished",
                            "not_awaiting_approval"
                        ]
                        .contains(&code(&bc)),
                        "{trial}"
                    );
                }
                "cancelled" => {
                    cancelled += 1;
                    assert!(!gone, "{trial}: cancelled but the file was deleted");
                    assert_eq!(sc, 202, "{trial}");
                    assert_eq!(sa, 409, "{trial}");
                }
                other => panic!("{trial}: {other}"),
            }
        }
        assert_eq!(completed + cancelled, 200);

        // Other sessions still progress, and every acknowledged write is readable.
        let other = t.create_session(Some("t")).await;
        let echo = t.submit_echo(&other, Some("t"), "still here").await;
        assert_eq!(t.wait_terminal(&echo).await["status"], "completed");
        for eid in &acknowledged {
            let (s, b) = t
                .get(&format!("/api/execution/{eid}/status?tenant_id=t"))
                .await;
            assert_eq!(s, 200, "[{}] {eid}: {b}", db.name);
        }
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// A step that waits until the test lets it go (a cancel drops it).
struct Held(Arc<tokio::sync::Semaphore>, Arc<AtomicUsize>);

#[async_trait]
impl SagaStep for Held {
    fn name(&self) -> &str {
        "held"
    }
    async fn run(&self, _ctx: &StepContext) -> Result<StepOutput, StepError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        let _permit = self.0.acquire().await.unwrap();
        Ok(StepOutput::default())
    }
}

struct HeldIntent(Arc<tokio::sync::Semaphore>, Arc<AtomicUsize>);

impl IntentHandler for HeldIntent {
    fn intent_type(&self) -> &str {
        "held"
    }
    fn description(&self) -> &str {
        "waits"
    }
    fn validate(&self, _p: &Value) -> Result<(), FieldErrors> {
        Ok(())
    }
    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Held(self.0.clone(), self.1.clone()))]
    }
}

/// 30 cancels of one running execution at once: one is applied, the 29 others are told the
/// execution has finished (409), none is a 503.
#[tokio::test]
async fn thirty_concurrent_cancels_are_one_success_and_twenty_nine_conflicts() {
    for db in databases().await {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut handlers = symphainy::runtime::realms::builtin();
        handlers.register(Arc::new(HeldIntent(gate.clone(), runs.clone())));
        let t = spawn_app_with(test_config(&db), handlers).await;
        let session = t.create_session(Some("t")).await;
        for round in 0..3 {
            let (_, b) = t
                .submit(json!({"intent_type": "held", "session_id": session, "tenant_id": "t"}))
                .await;
            let eid = b["execution_id"].as_str().unwrap().to_string();
            eventually(std::time::Duration::from_secs(30), || async {
                (runs.load(Ordering::SeqCst) > round).then_some(())
            })
            .await;
            let path = format!("/api/execution/{eid}/cancel");
            let answers =
                futures::future::join_all((0..30).map(|_| t.post(&path, json!({})))).await;
            let ok = answers.iter().filter(|(s, _)| *s == 202).count();
            let finished = answers
                .iter()
                .filter(|(s, b)| *s == 409 && code(b) == "execution_finished")
                .count();
            assert_eq!((ok, finished), (1, 29), "[{}] {answers:?}", db.name);
            assert_eq!(t.wait_terminal(&eid).await["status"], "cancelled");
        }
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// An approval sent again after it was applied (after a crash, from a second tab) is told so.
#[tokio::test]
async fn an_approval_sent_again_is_told_it_was_already_answered() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("t")).await;
        for approved in [true, false] {
            let file = ingest(&t, &session, 0).await;
            let (_, b) = t
                .submit(json!({"intent_type": "delete_file", "session_id": session,
                    "tenant_id": "t", "parameters": {"file_id": file}}))
                .await;
            let eid = b["execution_id"].as_str().unwrap().to_string();
            let hook = wait_for_hook(&t, &eid).await;
            let answer = json!({"hook_id": hook, "approved": approved});
            let (s, _) = t
                .post(&format!("/api/execution/{eid}/approval"), answer.clone())
                .await;
            assert_eq!(s, 200);
            t.wait_terminal(&eid).await;
            // Again, by execution and by session (the agent socket's safety_response).
            let (s, b) = t
                .post(&format!("/api/execution/{eid}/approval"), answer.clone())
                .await;
            let word = if approved { "approved" } else { "refused" };
            assert_eq!((s, code(&b)), (409, "hook_already_answered"), "{b}");
            assert!(b["message"].as_str().unwrap().contains(word), "{b}");
            let (s, b) = t
                .post(
                    &format!("/api/session/{session}/hook"),
                    json!({"hook_id": hook, "approved": approved, "tenant_id": "t"}),
                )
                .await;
            assert_eq!(
                (s, code(&b)),
                (409, "hook_already_answered"),
                "[{}] {b}",
                db.name
            );
            // Not to another tenant, nor for an unknown hook.
            let (s, _) = t
                .post(
                    &format!("/api/session/{session}/hook"),
                    json!({"hook_id": hook, "approved": true, "tenant_id": "other"}),
                )
                .await;
            assert_eq!(s, 404);
            let (s, b) = t
                .post(
                    &format!("/api/execution/{eid}/approval"),
                    json!({"hook_id": "nope", "approved": true}),
                )
                .await;
            assert_eq!(s, 409, "{b}");
        }
        t.app.shutdown().await;
        db.cleanup().await;
    }
}
