//! Traces to an OpenTelemetry collector (issue 19): the binary, with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` naming a local stand-in collector (OTLP over HTTP, JSON),
//! exports the spans of a request and of the execution it submitted, each with the request id.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::common::*;

/// Every span the collector received: (name, attributes as key → string value), with its
/// trace id as the last attribute (`trace_id`).
fn spans(bodies: &[Value]) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for body in bodies {
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    let mut attrs: Vec<(String, String)> = span["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let v = &a["value"];
                            let text = v["stringValue"]
                                .as_str()
                                .map(String::from)
                                .unwrap_or_else(|| v.to_string());
                            (a["key"].as_str().unwrap_or("").to_string(), text)
                        })
                        .collect();
                    attrs.push((
                        "trace_id".into(),
                        span["traceId"].as_str().unwrap_or("").to_lowercase(),
                    ));
                    out.push((span["name"].as_str().unwrap_or("").to_string(), attrs));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn spans_reach_an_otlp_collector_with_the_request_id() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().push(v);
                }
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await.unwrap() });

    let db = sqlite_db();
    let server = start_plane(
        &db,
        "otlp-token",
        "serve",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("RUST_LOG", "info"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let s: Value = http
        .post(format!("{}/api/session/create-anonymous", server.exp))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("{}/api/intent/submit", server.exp))
        .header("x-request-id", "req-otlp-7")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(
            &json!({"intent_type": "echo", "session_id": s["session_id"],
            "parameters": {"message": "traced"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let found = eventually(Duration::from_secs(20), || async {
        let all = spans(&received.lock());
        let has = |name: &str| {
            all.iter().any(|(n, attrs)| {
                n == name
                    && attrs
                        .iter()
                        .any(|(k, v)| k == "request_id" && v == "req-otlp-7")
            })
        };
        (has("http") && has("execution")).then_some(all)
    })
    .await;
    // The request's span continues the caller's trace (its W3C traceparent), and so does the
    // execution's run.
    let run = eventually(Duration::from_secs(20), || async {
        spans(&received.lock()).into_iter().find(|(n, attrs)| {
            n == "run"
                && attrs
                    .iter()
                    .any(|(k, v)| k == "request_id" && v == "req-otlp-7")
        })
    })
    .await;
    assert!(
        run.1
            .contains(&("trace_id".into(), "4bf92f3577b34da6a3ce929d0e0e4736".into())),
        "{run:?}"
    );
    let http_span = found
        .iter()
        .find(|(n, attrs)| {
            n == "http"
                && attrs
                    .iter()
                    .any(|(k, v)| k == "request_id" && v == "req-otlp-7")
        })
        .unwrap();
    assert!(
        http_span
            .1
            .contains(&("trace_id".into(), "4bf92f3577b34da6a3ce929d0e0e4736".into())),
        "{http_span:?}"
    );
}
