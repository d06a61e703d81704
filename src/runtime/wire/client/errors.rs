//! The runtime API's error answers turned back into `RuntimeError`, so the Experience Plane
//! answers a client exactly as it would in-process.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::Value;

use crate::runtime::contract::error::CONFLICT_CODES;
use crate::runtime::RuntimeError;

/// What `{what}_not_found` may name.
const NOT_FOUND: [&str; 5] = ["session", "execution", "artifact", "hook", "tenant"];

/// A transport failure: the runtime could not be reached or did not answer in time.
pub fn unreachable(e: reqwest::Error) -> RuntimeError {
    RuntimeError::Unavailable(format!("runtime unreachable: {e}"))
}

/// The error a non-success answer stands for.
pub fn from_answer(status: StatusCode, body: &Value) -> RuntimeError {
    let code = body["error"].as_str().unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default().to_string();
    match status.as_u16() {
        404 if code.ends_with("_not_found") => {
            let what = code.trim_end_matches("_not_found");
            RuntimeError::NotFound(known(what, &NOT_FOUND).unwrap_or("resource"))
        }
        409 => RuntimeError::Conflict {
            code: known(code, &CONFLICT_CODES).unwrap_or("conflict"),
            message,
        },
        429 => RuntimeError::RateLimited {
            message: message.to_string(),
            limit: body["limit"].as_u64().unwrap_or(0) as u32,
            window_secs: body["window"].as_u64().unwrap_or(0),
            retry_after_secs: body["retry_after"].as_u64().unwrap_or(1),
        },
        503 if code == "database_unavailable" => {
            RuntimeError::DatabaseUnavailable(format!("the runtime answered: {message}"))
        }
        422 if code == "unknown_intent" => RuntimeError::UnknownIntent(
            message
                .split('\'')
                .nth(1)
                .unwrap_or(message.as_str())
                .to_string(),
        ),
        400 | 422 => RuntimeError::Invalid(fields(body, &message)),
        // The limit is the caller's: it sets it on the error it returns.
        413 => RuntimeError::TooLarge(0),
        503 => RuntimeError::Unavailable(format!("runtime: {message}")),
        401 | 403 => RuntimeError::Internal(
            "the runtime refused the service token (SYMPHAINY_SERVICE_TOKEN differs)".into(),
        ),
        _ => RuntimeError::Internal(format!("the runtime answered {status}: {code} {message}")),
    }
}

fn known(name: &str, names: &[&'static str]) -> Option<&'static str> {
    names.iter().copied().find(|n| *n == name)
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
            RuntimeError::NotFound("session")
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
                json!({"error": "unknown_intent", "message": "unknown intent type 'nope'"})
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
        assert!(matches!(e(401, json!({})), RuntimeError::Internal(_)));
        assert!(matches!(e(500, json!({})), RuntimeError::Internal(_)));
    }
}
