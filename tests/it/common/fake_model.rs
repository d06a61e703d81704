//! A local stand-in for an OpenAI-compatible chat-completions service, on port 0: each request
//! is logged (its Authorization header and body) and answered by the test's closure, streamed
//! as server-sent events in the pieces it returns; `None` answers 500.

use std::sync::Arc;

use axum::response::IntoResponse;
use parking_lot::Mutex;
use serde_json::{json, Value};

pub type Seen = Arc<Mutex<Vec<Value>>>;

/// The model's base URL (`http://…/v1`) and the log of what it was sent.
pub async fn fake_model<F>(answer: F) -> (String, Seen)
where
    F: Fn(&Value) -> Option<Vec<String>> + Send + Sync + 'static,
{
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let (log, answer) = (log.clone(), answer.clone());
                async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                    log.lock().push(json!({"auth": auth, "body": body}));
                    let Some(pieces) = answer(&body) else {
                        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom")
                            .into_response();
                    };
                    let mut sse: String = pieces
                        .iter()
                        .map(|p| {
                            format!(
                                "data: {}\n\n",
                                json!({"choices": [{"delta": {"content": p}}]})
                            )
                        })
                        .collect();
                    sse.push_str("data: [DONE]\n\n");
                    ([("content-type", "text/event-stream")], sse).into_response()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}
