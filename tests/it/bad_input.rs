//! Bad input at scale (proptest): arbitrary and mutated client messages on the agent
//! WebSocket and arbitrary REST bodies on every JSON route. No panic escapes, every answer is
//! in the contract's shape, the socket stays open and the server keeps serving.

use std::time::Duration;

use crate::common::*;
use futures::{SinkExt, StreamExt};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use tokio_tungstenite::tungstenite::Message;

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The messages the frontend sends, as templates to mutate.
fn templates() -> Vec<Value> {
    vec![
        json!({"type": "intent", "intent": "hello", "session_id": "c1", "agent_type": "guide",
            "metadata": {"conversation_id": "c1", "pillar": "content"}}),
        json!({"type": "agent.message", "payload": {"text": "list my files",
            "context": {"surface": "content_pillar", "conversation_id": "c2"}}}),
        json!({"type": "safety_response", "hook_id": "h", "response_type": "approval",
            "approved": true}),
        json!({"type": "resume", "after_seq": 0}),
        json!({"type": "cancel", "execution_id": "e"}),
        json!({"type": "ping"}),
    ]
}

/// A template with one field replaced by an arbitrary value, or removed.
fn mutated() -> impl Strategy<Value = Value> {
    (
        0..templates().len(),
        any_json(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(t, value, which, remove)| {
            let mut msg = templates()[t].clone();
            let obj = msg.as_object_mut().unwrap();
            let keys: Vec<String> = obj.keys().cloned().collect();
            let key = which.get(&keys).clone();
            if remove {
                obj.remove(&key);
            } else {
                obj.insert(key, value);
            }
            msg
        })
}

/// A text frame: arbitrary text, arbitrary JSON, or a mutated real message.
fn frame() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        any_json().prop_map(|v| v.to_string()),
        mutated().prop_map(|v| v.to_string()),
        mutated().prop_map(|v| v.to_string()),
    ]
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads until the pong that answers our ping; every message on the way must be well formed.
async fn drain_until_pong(ws: &mut Ws) -> Result<(), String> {
    ws.send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .map_err(|e| format!("send: {e}"))?;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .map_err(|_| "no pong in time".to_string())?;
        let text = match next {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(f))) => return Err(format!("the socket closed: {f:?}")),
            Some(Ok(_)) => continue,
            other => return Err(format!("the socket ended: {other:?}")),
        };
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
        match v["type"].as_str() {
            Some("pong") => return Ok(()),
            Some("runtime_event") => {
                if !v["event_type"].is_string() || !v["data"].is_object() {
                    return Err(format!("a malformed event: {v}"));
                }
            }
            Some("error") => {
                if !v["error"].is_string() || !v["message"].is_string() {
                    return Err(format!("a malformed error: {v}"));
                }
            }
            _ => return Err(format!("an unexpected message: {v}")),
        }
    }
}

#[test]
fn arbitrary_socket_messages_get_answers_in_the_contract_shape() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = sqlite_db();
    let t = rt.block_on(spawn_app(&db));
    let session = rt.block_on(t.create_session(None));
    let url = format!(
        "{}/api/runtime/agent?session_id={session}",
        t.exp.replace("http://", "ws://")
    );
    let ws = tokio::sync::Mutex::new(rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.next().await.unwrap().unwrap();
        ws
    }));
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 64,
        ..RunnerConfig::default()
    });
    runner
        .run(&prop::collection::vec(frame(), 1..8), |frames| {
            rt.block_on(async {
                let mut ws = ws.lock().await;
                for f in &frames {
                    ws.send(Message::Text(f.clone().into()))
                        .await
                        .map_err(|e| TestCaseError::fail(format!("send: {e}")))?;
                }
                drain_until_pong(&mut ws)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{e} after {frames:?}")))
            })
        })
        .unwrap();
    rt.block_on(async {
        let (s, b) = t.get("/health").await;
        assert_eq!(s, 200, "{b}");
        t.app.shutdown().await;
    });
}

/// The JSON routes of both planes, with the token each expects.
fn routes(t: &TestApp) -> Vec<(String, Option<String>)> {
    let exp = |p: &str| (format!("{}{p}", t.exp), None);
    let rt = |p: &str| (format!("{}{p}", t.base), Some(t.token.clone()));
    vec![
        exp("/api/auth/register"),
        exp("/api/auth/login"),
        exp("/api/auth/refresh"),
        exp("/api/session/create-anonymous"),
        exp("/api/session/create"),
        exp("/api/intent/submit"),
        exp("/api/artifact/resolve"),
        exp("/api/artifact/list"),
        exp("/api/v1/content/data-mash/create"),
        rt("/api/session/create"),
        rt("/api/intent/submit"),
        rt("/api/artifact/resolve"),
        rt("/api/artifact/list"),
    ]
}

#[test]
fn arbitrary_rest_bodies_get_answers_in_the_contract_shape() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = sqlite_db();
    let t = rt.block_on(spawn_app(&db));
    let session = rt.block_on(t.create_session(None));
    let routes = routes(&t);
    let body = prop_oneof![
        ".{0,200}",
        any_json().prop_map(|v| v.to_string()),
        // Real-looking bodies with arbitrary values in the expected fields.
        (any_json(), any_json(), any_json()).prop_map(move |(a, b, c)| {
            json!({"intent_type": a, "session_id": b, "parameters": c, "email": "x@example.com",
                "content_refs": [b], "artifact_id": a, "password": c})
            .to_string()
        }),
        (any_json(), any_json()).prop_map({
            let session = session.clone();
            move |(p, o)| {
                json!({"intent_type": "data_mash.create", "session_id": session,
                    "parameters": {"content_refs": p, "options": o}, "content_refs": p,
                    "options": o})
                .to_string()
            }
        }),
    ];
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 96,
        ..RunnerConfig::default()
    });
    runner
        .run(&(0..routes.len(), body), |(r, body)| {
            let (url, token) = &routes[r];
            rt.block_on(async {
                let mut req = t
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(tok) = token {
                    req = req.bearer_auth(tok);
                }
                let resp = req.send().await.map_err(|e| {
                    TestCaseError::fail(format!("{url}: no answer ({e}) to {body}"))
                })?;
                let status = resp.status().as_u16();
                let v: Value = resp.json().await.map_err(|e| {
                    TestCaseError::fail(format!("{url}: {status} without JSON ({e}) to {body}"))
                })?;
                prop_assert!(status < 500, "{url}: {status} {v} to {body}");
                if status >= 400 {
                    prop_assert_eq!(&v["success"], &json!(false), "{} {}", url, v);
                    prop_assert!(v["error"].is_string(), "{url}: {v}");
                    prop_assert!(
                        v["message"].as_str().is_some_and(|m| !m.is_empty()),
                        "{url}: {v}"
                    );
                }
                Ok(())
            })
        })
        .unwrap();
    rt.block_on(async {
        // Still serving.
        let eid = t.submit_echo(&session, None, "still here").await;
        assert_eq!(t.wait_terminal(&eid).await["status"], "completed");
        t.app.shutdown().await;
    });
}

// ---- The agent socket's edges: close codes, floods, resume from the future, long replays ----

use crate::common::ws::{connect, next, until};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;

/// A socket on a new anonymous session, its CONNECTION_ESTABLISHED read.
async fn agent_socket(t: &TestApp) -> (String, Ws) {
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap();
    (session, ws)
}

fn raw_text_frame(payload: &[u8]) -> Message {
    Message::Frame(Frame::message(
        payload.to_vec(),
        OpCode::Data(Data::Text),
        true,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_socket_closes_with_the_code_for_what_was_wrong() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    // Invalid UTF-8 in a text message: 1007.
    let (_, mut ws) = agent_socket(&t).await;
    ws.send(raw_text_frame(b"{\"type\":\"ping\",\"x\":\"\xff\xfe\"}"))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await.unwrap_err().0, 1007);
    // A protocol violation (a reserved bit set): 1002.
    let (_, mut ws) = agent_socket(&t).await;
    let mut frame = Frame::message(
        br#"{"type":"ping"}"#.to_vec(),
        OpCode::Data(Data::Text),
        true,
    );
    frame.header_mut().rsv1 = true;
    ws.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap_err().0, 1002);
    // Over 64 KiB, at every size: 1009 (and exactly 64 KiB is fine).
    let (_, mut ws) = agent_socket(&t).await;
    let at_limit = format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(64 * 1024 - 24)
    );
    assert_eq!(at_limit.len(), 64 * 1024);
    ws.send(Message::Text(at_limit.into())).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
    for size in [64 * 1024 + 1, 1024 * 1024 + 1, 3 * 1024 * 1024] {
        let (_, mut ws) = agent_socket(&t).await;
        let big = format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(size));
        match ws.send(Message::Text(big.into())).await {
            Ok(()) => assert_eq!(next(&mut ws).await.unwrap_err().0, 1009, "{size} bytes"),
            // The server refuses after reading the header and closes with input unread, so a
            // client still writing megabytes may be reset before it reads the 1009.
            Err(tokio_tungstenite::tungstenite::Error::Io(e)) => {
                assert!(size > 128 * 1024, "{size} bytes: {e}");
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    ),
                    "{size} bytes: {e}"
                );
            }
            Err(e) => panic!("{size} bytes: {e}"),
        }
    }
    // The server is still there for a well-sized message.
    let (_, mut ws) = agent_socket(&t).await;
    ws.send(Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_pings_and_bad_messages_is_answered_in_full() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.ws_outbound_queue = 8;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let (_, mut ws) = agent_socket(&t).await;
    const N: usize = 3000;
    // Sent without reading a thing: the answers pile up faster than the queue holds.
    for i in 0..N {
        let text = if i % 2 == 0 {
            json!({"type": "ping"}).to_string()
        } else {
            "{not json".to_string()
        };
        ws.feed(Message::Text(text.into())).await.unwrap();
    }
    ws.send(Message::Text(json!({"type": "the_end"}).to_string().into()))
        .await
        .unwrap();
    let (mut pongs, mut errors) = (0, 0);
    loop {
        let m = next(&mut ws).await.expect("the socket stays open");
        match (m["type"].as_str(), m["error"].as_str()) {
            (Some("pong"), _) => pongs += 1,
            (Some("error"), Some("invalid_json")) => errors += 1,
            (Some("error"), Some("unknown_message_type")) => break,
            _ => panic!("unexpected {m}"),
        }
    }
    assert_eq!((pongs, errors), (N / 2, N / 2));
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_from_the_future_is_clamped_and_live_events_still_come() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (_, mut ws) = agent_socket(&t).await;
    crate::common::ws::send(
        &mut ws,
        json!({"type": "resume", "after_seq": 9_000_000_000_000_000_000i64}),
    )
    .await;
    crate::common::ws::send(
        &mut ws,
        json!({"type": "intent", "intent": "hello", "agent_type": "guide"}),
    )
    .await;
    let events = until(&mut ws, "AGENT_RESPONSE").await;
    assert_eq!(events[0]["event_type"], "AGENT_STARTED", "{events:?}");
    assert_eq!(events[0]["seq"], 1, "{events:?}");
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_a_long_history_replays_it_all_at_the_readers_pace() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    // A history fifty times the queue.
    config.experience.ws_outbound_queue = 4;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.anonymous().await;
    const N: i64 = 200;
    for i in 0..N {
        let e = symphainy::store::NewEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            session_id: session.clone(),
            event_type: "TEST".into(),
            execution_id: None,
            event_key: Some(format!("history-{i}")),
            data: json!({"i": i}),
            created_at: 0,
        };
        t.app.runtime.ctx.events.append(e, None).await.unwrap();
    }
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    assert_eq!(next(&mut ws).await.unwrap()["data"]["last_seq"], N);
    crate::common::ws::send(&mut ws, json!({"type": "resume", "after_seq": 0})).await;
    for seq in 1..=N {
        let m = next(&mut ws).await.expect("the replay is not cut short");
        assert_eq!(m["seq"], seq, "{m}");
    }
    // And on a new connection from the URL.
    let mut ws = connect(&t.exp, &format!("session_id={session}&after_seq=0")).await;
    next(&mut ws).await.unwrap();
    for seq in 1..=N {
        let m = next(&mut ws).await.expect("the replay is not cut short");
        assert_eq!(m["seq"], seq, "{m}");
    }
    t.app.shutdown().await;
}

// ---- HTTP edges: hyper's own refusals, Authorization headers, early refusals, names ----

use crate::common::raw::{exchange, header, parse_answer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_the_server_cannot_parse_get_the_contract_shape() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let many_headers: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    let too_many = format!("GET /health HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n");
    for base in [&t.exp, &t.base] {
        let raw = exchange(base, too_many.as_bytes()).await;
        let (status, body) = parse_answer(&raw);
        assert_error(status, &body, 431, "headers_too_large");
        assert_eq!(header(&raw, "content-type"), Some("application/json"));
        let raw = exchange(base, b"GET /health HTTP/1.1\r\nbad header line\r\n\r\n").await;
        let (status, body) = parse_answer(&raw);
        assert_error(status, &body, 400, "malformed_request");
    }
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_authorization_header_is_refused_even_where_no_token_is_needed() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let routes = [
        ("/api/session/create-anonymous", json!({})),
        (
            "/api/auth/register",
            json!({"name": "Eve", "email": "eve@example.com", "password": "s3cret-passw0rd"}),
        ),
        (
            "/api/auth/login",
            json!({"email": "eve@example.com", "password": "s3cret-passw0rd"}),
        ),
        ("/api/auth/refresh", json!({"refresh_token": "x"})),
    ];
    for header in ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"] {
        for (path, body) in &routes {
            let r = t
                .http
                .post(format!("{}{path}", t.exp))
                .header("authorization", header)
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["www-authenticate"], "Bearer");
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            assert_error(status, &body, 401, "invalid_token");
        }
    }
    // Nothing was done: the email is still free.
    let r = t
        .http
        .post(format!("{}/api/auth/register", t.exp))
        .json(&routes[1].1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_refusal_says_the_connection_closes() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let body = r#"{"tenant_id":"acme"}"#;
    // Refused before its body is read: the connection cannot be reused, and the answer says so.
    let request = format!(
        "POST /api/session/create HTTP/1.1\r\nhost: x\r\nauthorization: Bearer wrong\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let raw = exchange(&t.base, request.as_bytes()).await;
    let (status, answer) = parse_answer(&raw);
    assert_error(status, &answer, 401, "unauthorized");
    assert_eq!(header(&raw, "connection"), Some("close"), "{raw}");
    // A request that was read in full keeps its connection.
    let request = format!(
        "POST /api/session/create HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        t.token,
        body.len()
    );
    let raw = exchange(&t.base, request.as_bytes()).await;
    assert_eq!(header(&raw, "connection"), None, "{raw}");
    assert_eq!(raw.matches("HTTP/1.1 ").count(), 2, "{raw}");
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_bidirectional_controls_are_refused() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    for (i, name) in [
        "Ada\u{202E}gnp.exe",
        "\u{2067}Ada",
        "Ada\u{200F}",
        "A\u{061C}da",
    ]
    .iter()
    .enumerate()
    {
        let r = t
            .http
            .post(format!("{}/api/auth/register", t.exp))
            .json(&json!({"name": name, "email": format!("bidi{i}@example.com"), "password": "s3cret-passw0rd"}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_error(status, &body, 422, "validation_error");
        assert_eq!(
            body["fields"]["name"], "must not contain bidirectional control characters",
            "{name:?}"
        );
    }
    t.app.shutdown().await;
}
