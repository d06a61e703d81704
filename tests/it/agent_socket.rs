//! The agent WebSocket's connection layer with a real client: handshake and refusals, the
//! first message, live events with `seq`, protocol errors, frame limit, resume after a
//! disconnect, cancel, safety responses, the connection cap.

use std::time::Duration;

use crate::common::ws::*;
use crate::common::*;
use futures::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

async fn submit(t: &TestApp, session: &str, intent: &str, params: Value) -> String {
    let r = t
        .http
        .post(format!("{}/api/intent/submit", t.exp))
        .json(&json!({"intent_type": intent, "session_id": session, "parameters": params}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    r.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn connection_established_then_the_sessions_events_with_seq() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    let hello = next(&mut ws).await.unwrap();
    assert_eq!(hello["type"], "runtime_event");
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    assert_eq!(hello["data"]["session_id"], json!(session));
    assert_eq!(hello["data"]["protocol_version"], 1);
    assert_eq!(hello["data"]["last_seq"], 0);
    assert_eq!(hello["data"]["user_id"], Value::Null);
    assert!(
        hello.get("seq").is_none(),
        "the greeting is not part of the session's log"
    );

    let exec = submit(&t, &session, "echo", json!({"message": "hi"})).await;
    let events = until(&mut ws, "EXECUTION_COMPLETED").await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "EXECUTION_STARTED",
            "STEP_STARTED",
            "STEP_COMPLETED",
            "EXECUTION_COMPLETED"
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    for e in &events {
        assert!(e["event_id"].as_str().is_some_and(|id| !id.is_empty()));
        assert_eq!(e["data"]["execution_id"], json!(exec));
    }

    // Protocol errors are answered and the socket stays usable.
    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["error"], "invalid_json");
    send(&mut ws, json!({"type": "moonwalk"})).await;
    let e = next(&mut ws).await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["error"].as_str()),
        (Some("error"), Some("unknown_message_type"))
    );
    send(&mut ws, json!({"type": "resume", "after_seq": "x"})).await;
    assert_eq!(next(&mut ws).await.unwrap()["error"], "invalid_message");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
    t.app.shutdown().await;
}

async fn refusals_are_one_error_then_close_1008() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let reg = t.register_user("w").await;
    let user_session = reg["session_id"].as_str().unwrap();
    let token = reg["access_token"].as_str().unwrap();
    for (query, reason) in [
        (
            format!("access_token=garbage&session_id={user_session}"),
            "Invalid access token",
        ),
        ("session_id=no-such-session".to_string(), "Unknown session"),
        ("".to_string(), "Access token required"),
    ] {
        let mut ws = connect(&t.exp, &query).await;
        let first = next(&mut ws).await.expect("an error message first");
        assert_eq!(first["type"], "error", "{query}");
        assert_eq!(first["message"], reason);
        assert_eq!(
            next(&mut ws).await.unwrap_err(),
            (1008, reason.to_string()),
            "{query}"
        );
    }
    // As on the REST routes, the bare id of a user's session is its capability (not in strict
    // mode: tests/experience_api.rs).
    let mut ws = connect(&t.exp, &format!("session_id={user_session}")).await;
    assert_eq!(
        next(&mut ws).await.unwrap()["event_type"],
        "CONNECTION_ESTABLISHED"
    );
    // The old parameter name carries the token too.
    let mut ws = connect(
        &t.exp,
        &format!("session_token={token}&session_id={user_session}"),
    )
    .await;
    let hello = next(&mut ws).await.unwrap();
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    assert_eq!(hello["data"]["user_id"], reg["user_id"]);
    assert_eq!(hello["data"]["tenant_id"], reg["tenant_id"]);
    // Another tenant's token cannot open this session.
    let other = t.register_user("x").await;
    let mut ws = connect(
        &t.exp,
        &format!(
            "access_token={}&session_id={user_session}",
            other["access_token"].as_str().unwrap()
        ),
    )
    .await;
    next(&mut ws).await.unwrap();
    assert_eq!(
        next(&mut ws).await.unwrap_err(),
        (1008, "Unknown session".to_string())
    );
    t.app.shutdown().await;
}

async fn an_oversize_frame_is_closed_1009() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();
    let big = json!({"type": "ping", "pad": "x".repeat(70 * 1024)});
    send(&mut ws, big).await;
    assert_eq!(next(&mut ws).await.unwrap_err().0, 1009);
    t.app.shutdown().await;
}

async fn resume_after_a_disconnect_loses_nothing() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.anonymous().await;
        let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
        next(&mut ws).await.unwrap();
        submit(&t, &session, "echo", json!({"message": "one"})).await;
        let first = until(&mut ws, "EXECUTION_COMPLETED").await;
        let seen = first.last().unwrap()["seq"].as_i64().unwrap();
        ws.close(None).await.unwrap();
        drop(ws);

        // Work happens while nobody listens.
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(
                submit(
                    &t,
                    &session,
                    "echo",
                    json!({"message": format!("away {i}")}),
                )
                .await,
            );
        }
        for id in &ids {
            t.wait_terminal(id).await;
        }
        let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
        let hello = next(&mut ws).await.unwrap();
        assert_eq!(hello["data"]["last_seq"], seen + 12, "[{}]", db.name);
        send(&mut ws, json!({"type": "resume", "after_seq": seen})).await;
        let mut seqs = Vec::new();
        let mut completed = 0;
        while completed < 3 {
            let e = next(&mut ws).await.unwrap();
            seqs.push(e["seq"].as_i64().unwrap());
            if e["event_type"] == "EXECUTION_COMPLETED" {
                completed += 1;
            }
        }
        // ... and then live, continuing the same sequence.
        submit(&t, &session, "echo", json!({"message": "live"})).await;
        for e in until(&mut ws, "EXECUTION_COMPLETED").await {
            seqs.push(e["seq"].as_i64().unwrap());
        }
        let want: Vec<i64> = (seen + 1..=seen + 16).collect();
        assert_eq!(
            seqs, want,
            "[{}] contiguous, nothing lost, nothing twice",
            db.name
        );
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

async fn cancel_and_safety_responses_over_the_socket() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();

    let slow = submit(
        &t,
        &session,
        "echo",
        json!({"message": "slow", "delay_ms": 30000}),
    )
    .await;
    until(&mut ws, "STEP_STARTED").await;
    send(&mut ws, json!({"type": "cancel", "execution_id": slow})).await;
    let ended = until(&mut ws, "EXECUTION_CANCELLED").await;
    assert_eq!(ended.last().unwrap()["data"]["execution_id"], json!(slow));

    // A gated intent: delete_file waits for a safety response.
    let ingest = submit(
        &t,
        &session,
        "ingest_file",
        json!({"filename": "a.txt", "file_content": hex::encode("hello")}),
    )
    .await;
    let file_id =
        t.wait_terminal(&ingest).await["artifacts"]["file"]["semantic_payload"]["file_id"].clone();
    until(&mut ws, "EXECUTION_COMPLETED").await;
    // Another session's socket cannot answer this session's hooks.
    let other = t.anonymous().await;
    let mut intruder = connect(&t.exp, &format!("session_id={other}")).await;
    next(&mut intruder).await.unwrap();
    for approve in [false, true] {
        let exec = submit(&t, &session, "delete_file", json!({"file_id": file_id})).await;
        let pending = until(&mut ws, "SAFETY_APPROVAL_PENDING").await;
        let hook = pending.last().unwrap()["data"]["hook_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(pending.last().unwrap()["data"]["execution_id"], json!(exec));
        send(&mut intruder, json!({"type": "safety_response", "hook_id": hook, "response_type": "approval", "approved": true})).await;
        assert_eq!(
            next(&mut intruder).await.unwrap()["error"],
            "hook_not_found"
        );
        send(
            &mut ws,
            json!({"type": "safety_response", "hook_id": hook, "response_type": "approval",
            "approved": approve, "rejection_reason": "not now"}),
        )
        .await;
        if approve {
            let done = until(&mut ws, "EXECUTION_COMPLETED").await;
            assert_eq!(
                done.last().unwrap()["data"]["artifacts"]["file"]["semantic_payload"]["deleted"],
                true
            );
        } else {
            let events = until(&mut ws, "EXECUTION_CANCELLED").await;
            let types: Vec<&str> = events
                .iter()
                .map(|e| e["event_type"].as_str().unwrap())
                .collect();
            assert_eq!(types, ["SAFETY_HALTED", "EXECUTION_CANCELLED"]);
            assert_eq!(t.status(&exec).await["error"], "approval refused: not now");
        }
    }
    t.app.shutdown().await;
}

async fn the_connection_cap_refuses_with_1013_and_frees_seats() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.ws_max_connections = 2;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.anonymous().await;
    let mut a = connect(&t.exp, &format!("session_id={session}")).await;
    let mut b = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut a).await.unwrap();
    next(&mut b).await.unwrap();
    let mut c = connect(&t.exp, &format!("session_id={session}")).await;
    assert_eq!(next(&mut c).await.unwrap()["error"], "server_at_capacity");
    assert_eq!(
        next(&mut c).await.unwrap_err(),
        (1013, "Server at capacity".to_string())
    );
    a.close(None).await.unwrap();
    drop(a);
    // A closed connection frees its seat.
    eventually(Duration::from_secs(10), || async {
        let mut d = connect(&t.exp, &format!("session_id={session}")).await;
        (next(&mut d).await.unwrap()["event_type"] == "CONNECTION_ESTABLISHED").then_some(())
    })
    .await;
    t.app.shutdown().await;
}

async fn sockets_close_1001_when_the_server_stops() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();
    let stopper = tokio::spawn(async move { t.app.shutdown().await });
    // An "interrupted" notice may come first as the runtime stops; then the close.
    let code = loop {
        match next(&mut ws).await {
            Ok(m) => assert_eq!(m["error"], "stream_interrupted", "{m}"),
            Err((code, _)) => break code,
        }
    };
    assert_eq!(code, 1001);
    stopper.await.unwrap();
}

async fn an_idle_socket_is_closed_1000() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.ws_idle = Duration::from_millis(500);
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();
    assert_eq!(
        next(&mut ws).await.unwrap_err(),
        (1000, "Idle timeout".to_string())
    );
    t.app.shutdown().await;
}

async fn a_client_that_stops_reading_is_closed_1013_and_can_resume() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.ws_outbound_queue = 4;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();
    // The client reads nothing while ~24 MB of events arrive: more than the socket buffers hold.
    let events = t.app.runtime.ctx.events.clone();
    let pad = "x".repeat(2000);
    let mut appends = Vec::new();
    for i in 0..12_000 {
        let (events, session, pad) = (events.clone(), session.clone(), pad.clone());
        appends.push(tokio::spawn(async move {
            let e = symphainy::store::NewEvent {
                event_id: uuid::Uuid::new_v4().to_string(),
                session_id: session,
                event_type: "TEST".into(),
                execution_id: None,
                event_key: Some(format!("fill-{i}")),
                data: json!({"pad": pad}),
                created_at: 0,
            };
            events.append(e, None).await.unwrap();
        }));
    }
    for a in appends {
        a.await.unwrap();
    }
    // Now read: what was buffered, then the close that says the client was too slow.
    let mut received = 0;
    let code = loop {
        match next(&mut ws).await {
            Ok(_) => received += 1,
            Err((code, _)) => break code,
        }
    };
    assert_eq!(code, 1013, "after {received} events");
    assert!(
        received < 12_000,
        "the connection was cut short ({received} events)"
    );
    // Its events are stored: a new connection resumes and gets every one of them.
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    let hello = next(&mut ws).await.unwrap();
    assert_eq!(hello["data"]["last_seq"], 12_000);
    t.app.shutdown().await;
}

crate::both_wirings!(
    connection_established_then_the_sessions_events_with_seq,
    refusals_are_one_error_then_close_1008,
    an_oversize_frame_is_closed_1009,
    resume_after_a_disconnect_loses_nothing,
    cancel_and_safety_responses_over_the_socket,
    the_connection_cap_refuses_with_1013_and_frees_seats,
    sockets_close_1001_when_the_server_stops,
    an_idle_socket_is_closed_1000,
    a_client_that_stops_reading_is_closed_1013_and_can_resume,
);
