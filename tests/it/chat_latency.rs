//! A chat turn is not held back by Nagle's algorithm meeting delayed ACKs: every socket on the
//! path (the agent socket, and in the split wiring the Experience Plane's calls to the
//! runtime) sends small writes at once. A turn that met the kernel's delayed-ACK timer would
//! take at least 40 ms (a fixed kernel timer, not noise); the median of several turns over
//! loopback must stay far below it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::ws;
use crate::common::*;

async fn median_turn() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.anonymous().await;
    let mut socket = ws::connect(&t.exp, &format!("session_id={session}")).await;
    ws::until(&mut socket, "CONNECTION_ESTABLISHED").await;
    let mut took = Vec::new();
    for i in 0..12 {
        let start = Instant::now();
        ws::send(
            &mut socket,
            json!({"type": "intent", "intent": format!("hello {i}"), "agent_type": "guide",
                "metadata": {"conversation_id": "latency"}}),
        )
        .await;
        let events = ws::until(&mut socket, "AGENT_RESPONSE").await;
        took.push(start.elapsed());
        let answer = events.last().unwrap();
        assert_eq!(answer["data"]["conversation_id"], "latency", "{answer}");
    }
    // The first turns warm the session and its agent up.
    let mut rest = took.split_off(2);
    rest.sort();
    let median = rest[rest.len() / 2];
    assert!(
        median < Duration::from_millis(25),
        "median chat turn {median:?} (all: {took:?} then {rest:?}): a delayed ACK is on the path"
    );
    t.app.shutdown().await;
    db.cleanup().await;
}

crate::both_wirings!(median_turn);
