//! A chat turn is not held back by Nagle's algorithm meeting delayed ACKs: every socket on the
//! path (the agent socket, and in the split wiring the Experience Plane's calls to the
//! runtime) sends small writes at once. A turn that met the kernel's delayed-ACK timer would
//! take at least 40 ms (a fixed kernel timer, not noise), every time: the fastest of several
//! turns over loopback must stay below it, however busy the machine.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::ws;
use crate::common::*;

async fn the_fastest_turn_meets_no_delayed_ack() {
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
    let fastest = *took.iter().min().unwrap();
    assert!(
        fastest < Duration::from_millis(35),
        "fastest chat turn {fastest:?} (all: {took:?}): a delayed ACK is on the path"
    );
    t.app.shutdown().await;
    db.cleanup().await;
}

crate::both_wirings!(the_fastest_turn_meets_no_delayed_ack);
