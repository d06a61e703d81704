//! The Runtime Plane's internal HTTP API over real sockets, on SQLite and (when configured)
//! PostgreSQL.

use crate::common::*;
use futures::StreamExt;
use serde_json::{json, Value};

#[tokio::test]
async fn echo_round_trip_with_idempotency_key() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("tenant-a")).await;
        let req = json!({"intent_type": "echo", "session_id": session, "tenant_id": "tenant-a",
            "parameters": {"message": "hello runtime"}, "idempotency_key": "key-1"});
        let (status, first) = t.submit(req.clone()).await;
        assert_eq!(status, 202, "[{}] {first}", db.name);
        assert_eq!(first["status"], "accepted");
        let eid = first["execution_id"].as_str().unwrap().to_string();

        let done = t.wait_terminal(&eid).await;
        assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
        assert_eq!(done["intent_type"], "echo");
        assert_eq!(done["session_id"], json!(session));
        assert_eq!(done["tenant_id"], "tenant-a");
        assert_eq!(
            done["artifacts"]["echo"]["semantic_payload"]["message"],
            "hello runtime"
        );
        assert_eq!(done["artifacts"]["echo"]["result_type"], "echo");
        assert_eq!(done["steps"][0]["name"], "echo");
        assert_eq!(done["steps"][0]["status"], "completed");
        assert!(done["completed_at"].is_string() && done["started_at"].is_string());
        assert_eq!(
            event_types(&done),
            [
                "EXECUTION_STARTED",
                "STEP_STARTED",
                "STEP_COMPLETED",
                "EXECUTION_COMPLETED"
            ]
        );
        let seqs: Vec<i64> = done["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4]);

        // The same key again: the same execution, nothing new runs.
        let (status, again) = t.submit(req.clone()).await;
        assert_eq!(status, 202);
        assert_eq!(again["execution_id"], first["execution_id"]);
        assert_eq!(again["intent_id"], first["intent_id"]);
        // The key as a header works the same way.
        let mut by_header = req.clone();
        by_header.as_object_mut().unwrap().remove("idempotency_key");
        let r = t
            .http
            .post(t.url("/api/intent/submit"))
            .bearer_auth(&t.token)
            .header("Idempotency-Key", "key-1")
            .json(&by_header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["execution_id"], first["execution_id"]);

        let after = t.status(&eid).await;
        assert_eq!(event_types(&after).len(), 4, "no second run was recorded");
        // The session log holds exactly one execution's events.
        let events = collect_events(&t, &session, 0, 4).await;
        assert_eq!(events.len(), 4);

        // Without artifacts and events.
        let (_, slim) = t
            .get(&format!(
                "/api/execution/{eid}/status?include_artifacts=false&include_events=false"
            ))
            .await;
        assert_eq!(slim["artifacts"], Value::Null);
        assert_eq!(slim["events"], Value::Null);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// Reads `n` events from the SSE stream of a session.
async fn collect_events(t: &TestApp, session: &str, after: i64, n: usize) -> Vec<Value> {
    let resp = t
        .http
        .get(t.url(&format!(
            "/api/events?session_id={session}&after_seq={after}"
        )))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let mut stream = eventsource_stream::EventStream::new(resp.bytes_stream());
    let mut out = Vec::new();
    while out.len() < n {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(20), stream.next())
            .await
            .expect("event arrives")
            .expect("stream open")
            .expect("valid SSE");
        assert_eq!(ev.event, "runtime_event");
        let v: Value = serde_json::from_str(&ev.data).unwrap();
        assert_eq!(ev.id, v["seq"].to_string());
        out.push(v);
    }
    out
}

#[tokio::test]
async fn event_stream_replays_then_goes_live_without_gaps() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        let first = t.submit_echo(&session, None, "one").await;
        t.wait_terminal(&first).await;

        // Subscribe from seq 2: two stored events, then live ones from new executions.
        let reader = {
            let http = t.http.clone();
            let url = t.url(&format!("/api/events?session_id={session}&after_seq=2"));
            let token = t.token.clone();
            tokio::spawn(async move {
                let resp = http.get(url).bearer_auth(token).send().await.unwrap();
                let mut stream = eventsource_stream::EventStream::new(resp.bytes_stream());
                let mut seqs = Vec::new();
                let mut completed = 0;
                while completed < 4 {
                    let ev =
                        tokio::time::timeout(std::time::Duration::from_secs(20), stream.next())
                            .await
                            .unwrap()
                            .unwrap()
                            .unwrap();
                    let v: Value = serde_json::from_str(&ev.data).unwrap();
                    seqs.push(v["seq"].as_i64().unwrap());
                    if v["event_type"] == "EXECUTION_COMPLETED" {
                        completed += 1;
                    }
                }
                seqs
            })
        };
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(t.submit_echo(&session, None, &format!("live {i}")).await);
        }
        for id in &ids {
            t.wait_terminal(id).await;
        }
        let seqs = reader.await.unwrap();
        let want: Vec<i64> = (3..=16).collect();
        assert_eq!(
            seqs, want,
            "[{}] stored then live, in order, no gap, no duplicate",
            db.name
        );
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_input_gets_the_error_shape_and_changes_nothing() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("tenant-a")).await;
        let other = t.create_session(Some("tenant-b")).await;
        let foreign_exec = t.submit_echo(&other, Some("tenant-b"), "theirs").await;
        t.wait_terminal(&foreign_exec).await;

        // Malformed JSON: 400.
        let r = t
            .http
            .post(t.url("/api/intent/submit"))
            .bearer_auth(&t.token)
            .header("content-type", "application/json")
            .body("{\"intent_type\": \"echo\",")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_error(status, &r.json().await.unwrap(), 400, "malformed_json");

        // Wrong types and missing fields: 422 with fields.
        let (s, b) = t
            .submit(json!({"intent_type": 5, "session_id": session}))
            .await;
        assert_error(s, &b, 422, "validation_error");
        assert!(b["fields"]["intent_type"].is_string(), "{b}");
        let (s, b) = t.submit(json!({"session_id": session})).await;
        assert_error(s, &b, 422, "validation_error");
        assert!(
            b["fields"].as_object().unwrap().contains_key("intent_type"),
            "{b}"
        );
        let (s, b) = t
            .submit(
                json!({"intent_type": "echo", "session_id": session, "tenant_id": "tenant-a",
                "parameters": "not an object"}),
            )
            .await;
        assert_error(s, &b, 422, "validation_error");
        assert!(b["fields"]["parameters"].is_string(), "{b}");
        let (s, b) = t
            .submit(
                json!({"intent_type": "echo", "session_id": session, "tenant_id": "tenant-a",
                "parameters": {}}),
            )
            .await;
        assert_error(s, &b, 422, "validation_error");
        assert_eq!(b["fields"]["parameters.message"], "is required", "{b}");

        // Unknown intent: 422 unknown_intent.
        let (s, b) = t
            .submit(json!({"intent_type": "launch_rockets", "session_id": session}))
            .await;
        assert_error(s, &b, 422, "unknown_intent");
        // Unknown session: 404.
        let (s, b) = t
            .submit(
                json!({"intent_type": "echo", "session_id": "no-such-session",
                "parameters": {"message": "x"}}),
            )
            .await;
        assert_error(s, &b, 404, "session_not_found");
        let (s, b) = t.get("/api/session/no-such-session").await;
        assert_error(s, &b, 404, "session_not_found");
        let (s, b) = t.get("/api/execution/no-such-execution/status").await;
        assert_error(s, &b, 404, "execution_not_found");

        // Another tenant's ids: 404 for reads and writes, indistinguishable from unknown.
        let (s, b) = t
            .get(&format!("/api/session/{other}?tenant_id=tenant-a"))
            .await;
        assert_error(s, &b, 404, "session_not_found");
        let (s, b) = t
            .submit(
                json!({"intent_type": "echo", "session_id": other, "tenant_id": "tenant-a",
                "parameters": {"message": "x"}}),
            )
            .await;
        assert_error(s, &b, 404, "session_not_found");
        let (s, b) = t
            .get(&format!(
                "/api/execution/{foreign_exec}/status?tenant_id=tenant-a"
            ))
            .await;
        assert_error(s, &b, 404, "execution_not_found");
        let (s, b) = t
            .post(
                &format!("/api/execution/{foreign_exec}/cancel?tenant_id=tenant-a"),
                json!({}),
            )
            .await;
        assert_error(s, &b, 404, "execution_not_found");
        let (s, b) = t
            .post(
                &format!("/api/session/{other}/upgrade?tenant_id=tenant-a"),
                json!({"user_id": "u1", "tenant_id": "tenant-a"}),
            )
            .await;
        assert_eq!(s, 405, "upgrade is PATCH: {b}");
        let r = t
            .http
            .patch(t.url(&format!("/api/session/{other}/upgrade?tenant_id=tenant-a")))
            .bearer_auth(&t.token)
            .json(&json!({"user_id": "u1", "tenant_id": "tenant-a"}))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert_error(s, &r.json().await.unwrap(), 404, "session_not_found");
        let r = t
            .http
            .get(t.url(&format!(
                "/api/events?session_id={other}&tenant_id=tenant-a"
            )))
            .bearer_auth(&t.token)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert_error(s, &r.json().await.unwrap(), 404, "session_not_found");

        // Missing or wrong service token: 401 with WWW-Authenticate.
        for auth in [None, Some("wrong-token")] {
            let mut req = t.http.post(t.url("/api/intent/submit")).json(
                &json!({"intent_type": "echo", "session_id": session, "parameters": {"message": "x"}}),
            );
            if let Some(a) = auth {
                req = req.bearer_auth(a);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.headers()["www-authenticate"], "Bearer");
            let s = r.status().as_u16();
            assert_error(s, &r.json().await.unwrap(), 401, "unauthorized");
        }
        // Unknown route: 404 in the same shape.
        let (s, b) = t.get("/api/nothing-here").await;
        assert_error(s, &b, 404, "not_found");

        // Nothing above changed anything: both sessions' logs are as they were.
        let mine = t.submit_echo(&session, Some("tenant-a"), "valid").await;
        let done = t.wait_terminal(&mine).await;
        assert_eq!(
            done["events"][0]["seq"], 1,
            "no earlier event in this session: {done}"
        );
        let theirs = t.status(&foreign_exec).await;
        assert_eq!(theirs["status"], "completed");
        assert_eq!(event_types(&theirs).len(), 4);
        let (_, s) = t.get(&format!("/api/session/{other}")).await;
        assert_eq!(
            s["user_id"],
            Value::Null,
            "the other tenant's session was not upgraded"
        );
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn sessions_create_read_and_upgrade() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let (s, created) = t
            .post(
                "/api/session/create",
                json!({"metadata": {"source": "web"}}),
            )
            .await;
        assert_eq!(s, 201, "{created}");
        let id = created["session_id"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        assert_eq!(created["tenant_id"], Value::Null);
        let (s, session) = t.get(&format!("/api/session/{id}")).await;
        assert_eq!(s, 200);
        assert_eq!(session["is_anonymous"], true);
        assert_eq!(session["status"], "active");
        assert_eq!(session["metadata"], json!({"source": "web"}));

        let r = t
            .http
            .patch(t.url(&format!("/api/session/{id}/upgrade")))
            .bearer_auth(&t.token)
            .json(
                &json!({"user_id": "user-1", "tenant_id": "tenant-1", "metadata": {"plan": "pro"}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let up: Value = r.json().await.unwrap();
        assert_eq!(up["user_id"], "user-1");
        assert_eq!(up["tenant_id"], "tenant-1");
        let (_, session) = t
            .get(&format!("/api/session/{id}?tenant_id=tenant-1"))
            .await;
        assert_eq!(session["is_anonymous"], false);
        assert_eq!(session["metadata"], json!({"source": "web", "plan": "pro"}));
        // Now it belongs to tenant-1: invisible to tenant-2, and cannot be re-bound.
        let (s, _) = t
            .get(&format!("/api/session/{id}?tenant_id=tenant-2"))
            .await;
        assert_eq!(s, 404);
        let r = t
            .http
            .patch(t.url(&format!("/api/session/{id}/upgrade")))
            .bearer_auth(&t.token)
            .json(&json!({"user_id": "user-2", "tenant_id": "tenant-2"}))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert_error(s, &r.json().await.unwrap(), 409, "session_already_bound");

        // A chosen id, then the same id again: 409.
        let (s, _) = t
            .post(
                "/api/session/create",
                json!({"session_id": "chosen-id-1", "tenant_id": "t"}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, b) = t
            .post(
                "/api/session/create",
                json!({"session_id": "chosen-id-1", "tenant_id": "t"}),
            )
            .await;
        assert_error(s, &b, 409, "session_exists");
        let (s, b) = t
            .post(
                "/api/session/create",
                json!({"session_id": "../../etc/passwd"}),
            )
            .await;
        assert_error(s, &b, 422, "validation_error");
        let (s, health) = t.get("/health").await;
        assert_eq!(s, 200);
        assert_eq!(health["status"], "healthy");
        assert_eq!(health["service"], "runtime");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn cancelling_a_running_execution() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("t")).await;
        let (s, b) = t
            .submit(
                json!({"intent_type": "echo", "session_id": session, "tenant_id": "t",
                "parameters": {"message": "slow", "delay_ms": 30000}}),
            )
            .await;
        assert_eq!(s, 202, "{b}");
        let eid = b["execution_id"].as_str().unwrap().to_string();
        // Wait until the step is running, then cancel.
        eventually(std::time::Duration::from_secs(10), || async {
            (t.status(&eid).await["steps"][0]["status"] == "running").then_some(())
        })
        .await;
        let (s, b) = t
            .post(
                &format!("/api/execution/{eid}/cancel?tenant_id=t"),
                json!({}),
            )
            .await;
        assert_eq!(s, 202, "{b}");
        let done = t.wait_terminal(&eid).await;
        assert_eq!(done["status"], "cancelled", "{done}");
        assert_eq!(
            event_types(&done),
            [
                "EXECUTION_STARTED",
                "STEP_STARTED",
                "STEP_FAILED",
                "EXECUTION_CANCELLED"
            ]
        );
        let (s, b) = t
            .post(&format!("/api/execution/{eid}/cancel"), json!({}))
            .await;
        assert_error(s, &b, 409, "execution_finished");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// An upload can only be handed to an intent that takes one: anything else is refused before
/// an upload is recorded (so no blob stays referenced by an intent that never reads it).
#[tokio::test]
async fn only_an_intent_that_takes_an_upload_is_submitted_with_one() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let r = t
        .http
        .post(t.url("/api/blobs?limit=1000"))
        .bearer_auth(&t.token)
        .body("id\n1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let blob: Value = r.json().await.unwrap();
    let submit = |intent_type: &str, parameters: Value| {
        json!({"sha256": blob["sha256"], "size_bytes": blob["size_bytes"],
            "intent": {"intent_type": intent_type, "session_id": session,
                "parameters": parameters}})
    };
    let (s, refused) = t
        .post(
            "/api/uploads/submit",
            submit("echo", json!({"message": "hi"})),
        )
        .await;
    assert_eq!(s, 422, "{refused}");
    assert_eq!(
        refused["fields"]["intent_type"],
        "'echo' does not take an upload"
    );
    let (s, accepted) = t
        .post(
            "/api/uploads/submit",
            submit("ingest_file", json!({"filename": "a.csv"})),
        )
        .await;
    assert_eq!(s, 202, "{accepted}");
    let done = t
        .wait_terminal(accepted["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["artifacts"]["file"]["semantic_payload"]["file_id"],
        accepted["produces"]["file_id"]
    );
    t.app.shutdown().await;
}
