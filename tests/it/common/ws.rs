//! A real WebSocket client for the agent socket: connect, read the next JSON message (pings
//! skipped, a close as its code), read until an event type, send.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/api/runtime/agent?{query}` on the Experience Plane at `exp` (an http:// base).
pub async fn connect(exp: &str, query: &str) -> Ws {
    let url = format!(
        "{}/api/runtime/agent?{query}",
        exp.replace("http://", "ws://")
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade")
        .0
}

/// The next JSON message (pings skipped); `Err(close code)` when the server closes.
pub async fn next(ws: &mut Ws) -> Result<Value, (u16, String)> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message in time");
        match msg {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(f))) => {
                return Err(f
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new())))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("socket error: {e}"),
            None => return Err((1006, String::new())),
        }
    }
}

/// Reads messages until an event of this type arrives; returns all events read.
pub async fn until(ws: &mut Ws, event_type: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let m = next(ws).await.expect("socket open");
        let done = m["event_type"] == event_type;
        seen.push(m);
        if done {
            return seen;
        }
    }
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}
