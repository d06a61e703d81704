//! The agent WebSocket's messages: what clients send (with the contract's tolerant forms) and
//! the envelopes the server sends.

use serde_json::{json, Value};

use crate::runtime::contract::model::RuntimeEvent;
use crate::store::time::{now_micros, to_rfc3339};

pub const PROTOCOL_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq)]
pub enum ClientMsg {
    /// `intent` or `agent.message`: a chat turn for an agent (handled by the agents layer).
    Chat(Value),
    SafetyResponse {
        hook_id: String,
        approved: bool,
        reason: Option<String>,
    },
    Resume {
        after_seq: i64,
    },
    Cancel {
        execution_id: String,
    },
    Ping,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolError {
    pub code: &'static str,
    pub message: String,
}

impl ProtocolError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "invalid_message",
            message: message.into(),
        }
    }
}

pub fn parse(text: &str) -> Result<ClientMsg, ProtocolError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ProtocolError {
        code: "invalid_json",
        message: format!("the message is not valid JSON ({e})"),
    })?;
    let Some(kind) = v.get("type").and_then(Value::as_str) else {
        return Err(ProtocolError::invalid("a message needs a string \"type\""));
    };
    let text_field = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ProtocolError::invalid(format!("\"{name}\" is required")))
    };
    match kind {
        "intent" | "agent.message" => Ok(ClientMsg::Chat(v)),
        "safety_response" => {
            let hook_id = text_field("hook_id")?;
            let approved = match (
                v.get("approved"),
                v.get("response_type").and_then(Value::as_str),
            ) {
                (Some(Value::Bool(b)), _) => *b,
                (None, Some("approval")) => true,
                _ => return Err(ProtocolError::invalid("\"approved\" must be a boolean")),
            };
            let reason = v
                .get("rejection_reason")
                .and_then(Value::as_str)
                .map(str::to_string);
            Ok(ClientMsg::SafetyResponse {
                hook_id,
                approved,
                reason,
            })
        }
        "resume" => match v.get("after_seq").and_then(Value::as_i64) {
            Some(n) if n >= 0 => Ok(ClientMsg::Resume { after_seq: n }),
            _ => Err(ProtocolError::invalid(
                "\"after_seq\" must be a non-negative integer",
            )),
        },
        "cancel" => Ok(ClientMsg::Cancel {
            execution_id: text_field("execution_id")?,
        }),
        "ping" => Ok(ClientMsg::Ping),
        other => Err(ProtocolError {
            code: "unknown_message_type",
            message: format!("unknown message type \"{other}\""),
        }),
    }
}

pub fn error(code: &str, message: &str) -> String {
    json!({"type": "error", "error": code, "message": message, "timestamp": to_rfc3339(now_micros())})
        .to_string()
}

pub fn pong() -> String {
    json!({"type": "pong", "timestamp": to_rfc3339(now_micros())}).to_string()
}

/// `CONNECTION_ESTABLISHED`: belongs to the connection, not to the session's log (no `seq`).
pub fn established(
    connection_id: &str,
    session_id: &str,
    user_id: Option<&str>,
    tenant_id: Option<&str>,
    last_seq: i64,
) -> String {
    json!({
        "type": "runtime_event",
        "event_type": "CONNECTION_ESTABLISHED",
        "data": {
            "connection_id": connection_id,
            "session_id": session_id,
            "user_id": user_id,
            "tenant_id": tenant_id,
            "protocol_version": PROTOCOL_VERSION,
            "last_seq": last_seq,
        },
        "timestamp": to_rfc3339(now_micros()),
    })
    .to_string()
}

/// A session event in the contract's envelope.
pub fn event(e: &RuntimeEvent) -> String {
    json!({
        "type": "runtime_event",
        "event_type": e.event_type,
        "data": e.data,
        "timestamp": e.timestamp,
        "seq": e.seq,
        "event_id": e.event_id,
    })
    .to_string()
}

/// A second frame some events need: the web frontend shows only `AGENT_RESPONSE` and
/// `EXECUTION_FAILED` frames, so an `AGENT_FAILED` is followed by an `EXECUTION_FAILED` frame
/// carrying its error as `data.error` and `data.message`, marked `agent_failure: true`, with
/// no `seq` (it is not an event of the log, which keeps the `AGENT_FAILED`).
pub fn compat_frame(e: &RuntimeEvent) -> Option<String> {
    if e.event_type != "AGENT_FAILED" {
        return None;
    }
    let error = e.data["error"]
        .as_str()
        .unwrap_or("the agent could not answer");
    Some(
        json!({
            "type": "runtime_event",
            "event_type": "EXECUTION_FAILED",
            "data": {"error": error, "message": error, "agent_failure": true,
                "agent_id": e.data["agent_id"], "conversation_id": e.data["conversation_id"]},
            "timestamp": e.timestamp,
        })
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_failure_is_also_told_as_the_frontend_reads_failures() {
        let failed = RuntimeEvent {
            event_id: "e1".into(),
            session_id: "s".into(),
            seq: 7,
            event_type: "AGENT_FAILED".into(),
            execution_id: None,
            timestamp: "2026-11-30T12:00:00Z".into(),
            data: json!({"agent_id": "guide:s", "conversation_id": "c", "error": "model down"}),
        };
        let frame: Value = serde_json::from_str(&compat_frame(&failed).unwrap()).unwrap();
        assert_eq!(frame["event_type"], "EXECUTION_FAILED");
        assert_eq!(
            (&frame["data"]["error"], &frame["data"]["message"]),
            (&json!("model down"), &json!("model down"))
        );
        assert_eq!(frame["data"]["conversation_id"], "c");
        assert!(frame.get("seq").is_none());
        let ok = RuntimeEvent {
            event_type: "AGENT_RESPONSE".into(),
            ..failed
        };
        assert!(compat_frame(&ok).is_none());
    }

    #[test]
    fn parses_the_contract_messages_and_their_tolerant_forms() {
        assert_eq!(parse(r#"{"type":"ping"}"#), Ok(ClientMsg::Ping));
        assert_eq!(
            parse(r#"{"type":"resume","after_seq":7}"#),
            Ok(ClientMsg::Resume { after_seq: 7 })
        );
        assert_eq!(
            parse(r#"{"type":"cancel","execution_id":"e1"}"#),
            Ok(ClientMsg::Cancel {
                execution_id: "e1".into()
            })
        );
        assert_eq!(
            parse(
                r#"{"type":"safety_response","hook_id":"h","response_type":"approval","approved":false,"rejection_reason":"no"}"#
            ),
            Ok(ClientMsg::SafetyResponse {
                hook_id: "h".into(),
                approved: false,
                reason: Some("no".into())
            })
        );
        assert!(matches!(
            parse(r#"{"type":"intent","intent":"hi"}"#),
            Ok(ClientMsg::Chat(_))
        ));
        assert!(matches!(
            parse(r#"{"type":"agent.message","payload":{"text":"hi"}}"#),
            Ok(ClientMsg::Chat(_))
        ));
        assert_eq!(parse("{oops").unwrap_err().code, "invalid_json");
        assert_eq!(
            parse(r#"{"type":"dance"}"#).unwrap_err().code,
            "unknown_message_type"
        );
        assert_eq!(
            parse(r#"{"type":"resume","after_seq":-1}"#)
                .unwrap_err()
                .code,
            "invalid_message"
        );
        assert_eq!(
            parse(r#"{"kind":"ping"}"#).unwrap_err().code,
            "invalid_message"
        );
    }
}
