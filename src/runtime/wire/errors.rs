//! The error table of the wire, both ways: a `RuntimeError` as an HTTP answer (the runtime
//! API and the Experience Plane answer with it) and an answer of the runtime API back into the
//! `RuntimeError` that made it (the HTTP runtime client), so the Experience Plane answers a
//! client exactly as it would in-process. A test sends every kind of error through both.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::http::error::ApiError;

use crate::runtime::RuntimeError;

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(what) => ApiError::not_found(&what),
            RuntimeError::UnknownIntent(t) => {
                let mut fields = BTreeMap::new();
                fields.insert(
                    "intent_type".to_string(),
                    format!("'{t}' is not a known intent type"),
                );
                let mut extra = serde_json::Map::new();
                extra.insert("intent_type".into(), Value::String(t.clone()));
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "unknown_intent".into(),
                    message: format!("unknown intent type '{t}'"),
                    fields: Some(fields),
                    retry: None,
                    extra: Some(Box::new(extra)),
                }
            }
            RuntimeError::Invalid(fields) => ApiError::validation(fields),
            RuntimeError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, &code, message)
            }
            RuntimeError::TooLarge(limit) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the file exceeds the limit of {limit} bytes"),
            ),
            RuntimeError::Unavailable(why) => {
                // Expected during a runtime restart: the runtime client logs each outage once.
                tracing::debug!(%why, "runtime unavailable");
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "runtime_unavailable",
                    "the runtime is unavailable; try again shortly",
                );
                // A cluster node refusing a session it does not hold (nothing ran): the
                // forwarding node places the command again.
                if why.starts_with(crate::store::cluster::MOVED) {
                    let mut extra = serde_json::Map::new();
                    extra.insert("moved".into(), Value::Bool(true));
                    e.extra = Some(Box::new(extra));
                }
                e
            }
            RuntimeError::RateLimited {
                message,
                limit,
                window_secs,
                retry_after_secs,
            } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                message,
            )
            .with_retry(
                retry_after_secs,
                &[
                    ("x-ratelimit-limit", limit.to_string()),
                    ("x-ratelimit-window", window_secs.to_string()),
                ],
            ),
            RuntimeError::DatabaseUnavailable(why) => {
                tracing::warn!(%why, "database unavailable");
                ApiError::database_unavailable()
            }
            RuntimeError::Internal(why) => {
                tracing::error!(%why, "internal error");
                ApiError::internal()
            }
        }
    }
}

/// A transport failure: the runtime could not be reached or did not answer in time.
pub fn unreachable(e: reqwest::Error) -> RuntimeError {
    if e.is_connect() {
        RuntimeError::Unavailable(format!("{NOT_CONNECTED}: {e}"))
    } else {
        RuntimeError::Unavailable(format!("runtime unreachable: {e}"))
    }
}

/// How an `Unavailable` begins when no connection could be made: the request never left, so
/// sending it elsewhere cannot run it twice.
const NOT_CONNECTED: &str = "runtime not connected";

/// True when the request was certainly not delivered (no connection was made).
pub fn never_delivered(e: &RuntimeError) -> bool {
    matches!(e, RuntimeError::Unavailable(why) if why.starts_with(NOT_CONNECTED))
}

/// The error a non-success answer stands for.
pub fn from_answer(status: reqwest::StatusCode, body: &Value) -> RuntimeError {
    let code = body["error"].as_str().unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default().to_string();
    match status.as_u16() {
        404 if code.ends_with("_not_found") => {
            let what = code.trim_end_matches("_not_found");
            RuntimeError::not_found(what.to_string())
        }
        409 => RuntimeError::conflict(
            if code.is_empty() { "conflict" } else { code }.to_string(),
            message,
        ),
        429 => RuntimeError::RateLimited {
            message: message.to_string(),
            limit: body["limit"].as_u64().unwrap_or(0) as u32,
            window_secs: body["window"].as_u64().unwrap_or(0),
            retry_after_secs: body["retry_after"].as_u64().unwrap_or(1),
        },
        503 if code == "database_unavailable" => {
            RuntimeError::DatabaseUnavailable(format!("the runtime answered: {message}"))
        }
        422 if code == "unknown_intent" => {
            RuntimeError::UnknownIntent(body["intent_type"].as_str().unwrap_or_default().into())
        }
        400 | 422 => RuntimeError::Invalid(fields(body, &message)),
        // The limit is the caller's: it sets it on the error it returns.
        413 => RuntimeError::TooLarge(0),
        503 if body["moved"] == true => {
            RuntimeError::Unavailable(crate::store::cluster::MOVED.to_string())
        }
        503 => RuntimeError::Unavailable(format!("runtime: {message}")),
        401 | 403 => RuntimeError::Internal(
            "the runtime refused the service token (SYMPHAINY_SERVICE_TOKEN differs)".into(),
        ),
        _ => RuntimeError::Internal(format!("the runtime answered {status}: {code} {message}")),
    }
}

fn fields(body: &Value, message: &str) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> = body["fields"]
        .as_object()
        .map(|f| {
            f.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        fields.insert("request".into(), message.to_string());
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_map_back_to_the_errors_that_made_them() {
        let e = |s: u16, b: Value| from_answer(StatusCode::from_u16(s).unwrap(), &b);
        assert_eq!(
            e(
                404,
                json!({"error": "session_not_found", "message": "session not found"})
            ),
            RuntimeError::not_found("session")
        );
        assert_eq!(
            e(
                409,
                json!({"error": "execution_finished", "message": "done"})
            ),
            RuntimeError::conflict("execution_finished", "done")
        );
        assert_eq!(
            e(
                422,
                json!({"error": "unknown_intent", "message": "unknown intent type 'nope'",
                    "intent_type": "nope"})
            ),
            RuntimeError::UnknownIntent("nope".into())
        );
        assert_eq!(
            e(
                422,
                json!({"error": "validation_error", "message": "m", "fields": {"limit": "must be from 1 to 1000"}})
            ),
            RuntimeError::invalid("limit", "must be from 1 to 1000")
        );
        assert!(matches!(
            e(503, json!({"error": "runtime_unavailable"})),
            RuntimeError::Unavailable(_)
        ));
        // A cluster node's refusal of a session it does not hold reads back as one.
        let moved = e(503, json!({"error": "runtime_unavailable", "moved": true}));
        assert!(
            crate::runtime::cluster::ownership::is_moved(&moved),
            "{moved:?}"
        );
        assert!(!crate::runtime::cluster::ownership::is_moved(&e(
            503,
            json!({"error": "runtime_unavailable"})
        )));
        assert!(matches!(e(401, json!({})), RuntimeError::Internal(_)));
        assert!(matches!(e(500, json!({})), RuntimeError::Internal(_)));
    }

    /// Each kind of error, answered over HTTP and read back by the HTTP client, is the error it
    /// was (what the split planes rely on to answer as the all-in-one server does).
    #[tokio::test]
    async fn every_error_survives_the_wire() {
        use axum::response::IntoResponse;
        let errors = [
            RuntimeError::not_found("execution"),
            RuntimeError::UnknownIntent("nope".into()),
            RuntimeError::invalid("parameters.file_id", "is required"),
            RuntimeError::conflict("not_cancellable", "a deletion cannot be cancelled"),
            RuntimeError::RateLimited {
                message: "too many intents".into(),
                limit: 100,
                window_secs: 10,
                retry_after_secs: 3,
            },
            RuntimeError::DatabaseUnavailable("x".into()),
            RuntimeError::Unavailable("x".into()),
            RuntimeError::Unavailable(crate::store::cluster::MOVED.into()),
        ];
        for error in errors {
            let response = ApiError::from(error.clone()).into_response();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            let back = from_answer(status, &body);
            let moved = crate::runtime::cluster::ownership::is_moved;
            assert_eq!(moved(&error), moved(&back), "{body}");
            match (&error, &back) {
                // Why the database or the runtime is down stays in this process's log.
                (RuntimeError::DatabaseUnavailable(_), RuntimeError::DatabaseUnavailable(_))
                | (RuntimeError::Unavailable(_), RuntimeError::Unavailable(_)) => {}
                _ => assert_eq!(back, error, "{body}"),
            }
        }
    }
}
