//! 1,000 concurrent agent sockets, each doing a round trip with its Guide (an `intent`
//! message answered by `AGENT_STARTED` and `AGENT_RESPONSE`).

use std::time::{Duration, Instant};

use crate::common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const CONNECTIONS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_each_complete_a_round_trip() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let mut sessions = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        sessions.push(t.anonymous().await);
    }
    let ws_base = t.exp.replace("http://", "ws://");
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for (i, session) in sessions.into_iter().enumerate() {
        let url = format!("{ws_base}/api/runtime/agent?session_id={session}");
        tasks.push(tokio::spawn(async move {
            let mut attempt = 0;
            let (mut ws, _) = loop {
                match tokio_tungstenite::connect_async(&url).await {
                    Ok(c) => break c,
                    Err(e) if attempt < 20 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                        let _ = e;
                    }
                    Err(e) => panic!("connect {i}: {e}"),
                }
            };
            let conversation = format!("load-{i}");
            let mut sent = false;
            let mut seen = Vec::new();
            loop {
                let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
                    .await
                    .expect("in time")
                    .expect("open")
                    .expect("valid");
                let Message::Text(text) = msg else { continue };
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["event_type"] == "CONNECTION_ESTABLISHED" && !sent {
                    sent = true;
                    let turn = json!({"type": "intent", "intent": "hello", "agent_type": "guide",
                        "metadata": {"conversation_id": conversation}});
                    ws.send(Message::Text(turn.to_string().into()))
                        .await
                        .unwrap();
                    continue;
                }
                seen.push(v["event_type"].as_str().unwrap_or_default().to_string());
                if v["event_type"] == "AGENT_RESPONSE" {
                    assert_eq!(v["data"]["conversation_id"], json!(conversation));
                    break;
                }
                if v["event_type"] == "AGENT_FAILED" || v["type"] == "error" {
                    panic!("connection {i}: {v}");
                }
            }
            let _ = ws.close(None).await;
            seen
        }));
    }
    for task in tasks {
        let seen = task.await.unwrap();
        assert_eq!(seen, ["AGENT_STARTED", "AGENT_RESPONSE"]);
    }
    println!(
        "{CONNECTIONS} concurrent agent round trips in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    t.app.shutdown().await;
}
