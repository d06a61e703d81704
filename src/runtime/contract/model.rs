//! The Runtime's request and response shapes, as the contract names their JSON fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::event_type::EventType;
use crate::store::time::to_rfc3339;
use crate::store::{EventRow, ExecutionRow, ExecutionState, SessionRow, StepRow, StepState};

/// Which tenant a caller acts for. `Any` is the capability case: the caller holds the id and
/// may touch it whatever its tenant. `Tenant(t)` sees only what belongs to `t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Any,
    Tenant(String),
}

impl Scope {
    pub fn from_tenant(tenant_id: Option<String>) -> Self {
        match tenant_id {
            Some(t) if !t.is_empty() => Scope::Tenant(t),
            _ => Scope::Any,
        }
    }

    pub fn permits(&self, owner_tenant: Option<&str>) -> bool {
        match self {
            Scope::Any => true,
            Scope::Tenant(t) => owner_tenant == Some(t.as_str()),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CreateSession {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct UpgradeSession {
    pub user_id: String,
    pub tenant_id: String,
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub is_anonymous: bool,
    pub status: String,
    pub metadata: Value,
    pub created_at: String,
    pub updated_at: String,
    /// The owner's new id, once this (formerly anonymous) session was upgraded: this id then
    /// needs the owner's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            is_anonymous: r.user_id.is_none(),
            session_id: r.session_id,
            tenant_id: r.tenant_id,
            user_id: r.user_id,
            status: r.status,
            metadata: r.metadata,
            created_at: to_rfc3339(r.created_at),
            updated_at: to_rfc3339(r.updated_at),
            superseded_by: r.superseded_by,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionCreated {
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: String,
}

impl From<&Session> for SessionCreated {
    fn from(s: &Session) -> Self {
        SessionCreated {
            session_id: s.session_id.clone(),
            tenant_id: s.tenant_id.clone(),
            user_id: s.user_id.clone(),
            created_at: s.created_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct IntentRequest {
    pub intent_type: String,
    pub session_id: String,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub solution_id: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub intent_id: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The request that submits it (the Experience Plane's `x-request-id`), kept with the
    /// execution and shown in its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The submitting request's W3C trace context (when traces are exported): the execution's
    /// run continues that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The execution this one retries: set by the runtime's retry only (never read from a
    /// client's JSON), and stored as `metadata.retry_of`, which a client's metadata cannot set.
    #[serde(skip)]
    pub retry_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentAccepted {
    pub execution_id: String,
    pub intent_id: String,
    pub status: String,
    pub created_at: String,
    /// Ids of what the execution will produce, known at acceptance (an ingest's `file_id`, a
    /// mash's `mash_id`): by name, as its handler announces them.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub produces: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepStatus {
    pub name: String,
    pub status: StepState,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub error: Option<String>,
    /// How many times it has been started (a retried or resumed step counts each run).
    #[serde(default)]
    pub attempts: i64,
}

impl From<StepRow> for StepStatus {
    fn from(s: StepRow) -> Self {
        StepStatus {
            name: s.name,
            status: s.status,
            started_at: s.started_at.map(to_rfc3339),
            completed_at: s.completed_at.map(to_rfc3339),
            error: s.error,
            attempts: s.attempts,
        }
    }
}

/// One event of a session's log, as every consumer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuntimeEvent {
    pub event_id: String,
    pub session_id: String,
    pub seq: i64,
    pub event_type: String,
    pub execution_id: Option<String>,
    pub timestamp: String,
    pub data: Value,
}

impl RuntimeEvent {
    /// Its type, if it is one of the engine's own (a newer peer may send others).
    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }
}

impl From<EventRow> for RuntimeEvent {
    fn from(e: EventRow) -> Self {
        RuntimeEvent {
            event_id: e.event_id,
            session_id: e.session_id,
            seq: e.seq,
            event_type: e.event_type,
            execution_id: e.execution_id,
            timestamp: to_rfc3339(e.created_at),
            data: e.data,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionStatus {
    pub execution_id: String,
    pub intent_id: String,
    pub intent_type: String,
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub status: ExecutionState,
    pub created_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub error: Option<String>,
    pub steps: Vec<StepStatus>,
    pub artifacts: Option<Map<String, Value>>,
    pub events: Option<Vec<RuntimeEvent>>,
    /// The request that submitted it, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The latest progress a long step reported (`EXECUTION_PROGRESS` data), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Value>,
    /// The intent's parameters, as stored.
    #[serde(default)]
    pub parameters: Value,
    /// The approval it waits on, while `awaiting_approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<PendingHook>,
    /// The execution this one retries, if it is a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
}

/// A safety hook waiting for a person's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingHook {
    pub hook_id: String,
    /// Why it needs approval.
    pub reason: Option<String>,
}

impl PendingHook {
    /// The hook an execution waits on, while it is `awaiting_approval`.
    pub fn of(e: &ExecutionRow) -> Option<Self> {
        match (&e.status, &e.hook_id) {
            (ExecutionState::AwaitingApproval, Some(hook_id)) => Some(PendingHook {
                hook_id: hook_id.clone(),
                reason: e.hook_reason.clone(),
            }),
            _ => None,
        }
    }
}

impl ExecutionStatus {
    pub fn build(
        e: ExecutionRow,
        steps: Vec<StepRow>,
        events: Option<Vec<EventRow>>,
        include_artifacts: bool,
    ) -> Self {
        let hook = PendingHook::of(&e);
        let artifacts = if include_artifacts {
            Some(match e.artifacts {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            })
        } else {
            None
        };
        ExecutionStatus {
            retry_of: e.metadata["retry_of"].as_str().map(String::from),
            parameters: e.parameters,
            hook,
            execution_id: e.execution_id,
            intent_id: e.intent_id,
            intent_type: e.intent_type,
            session_id: e.session_id,
            tenant_id: e.tenant_id,
            status: e.status,
            created_at: to_rfc3339(e.created_at),
            started_at: e.started_at.map(to_rfc3339),
            completed_at: e.completed_at.map(to_rfc3339),
            error: e.error,
            steps: steps.into_iter().map(StepStatus::from).collect(),
            artifacts,
            progress: events.as_ref().and_then(|v| {
                v.iter()
                    .rev()
                    .find(|ev| ev.event_type == "EXECUTION_PROGRESS")
                    .map(|ev| ev.data.clone())
            }),
            events: events.map(|v| v.into_iter().map(RuntimeEvent::from).collect()),
            request_id: e.request_id,
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusOptions {
    pub include_artifacts: bool,
    pub include_events: bool,
}

impl Default for StatusOptions {
    fn default() -> Self {
        Self {
            include_artifacts: true,
            include_events: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ApprovalDecision {
    pub hook_id: String,
    pub approved: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// An intent that consumes an uploaded blob: the runtime records the upload (so the blob is
/// referenced until the intent has used it), adds its `upload_id` to the intent's parameters
/// and submits it. Validated first: a refused intent leaves no upload recorded.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SubmitWithUpload {
    pub sha256: String,
    pub size_bytes: u64,
    pub intent: IntentRequest,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MashAccepted {
    pub success: bool,
    pub mash_id: String,
    pub execution_id: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadAccepted {
    pub success: bool,
    pub execution_id: String,
    pub file_id: String,
    pub file_reference: String,
    pub status: String,
}

/// Whose artifacts to list: a tenant's, or an anonymous session's.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ArtifactListRequest {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub lifecycle_state: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ArtifactList {
    pub artifacts: Vec<Value>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The stored document of an artifact (an export), as a download serves it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ArtifactContent {
    pub artifact_id: String,
    pub artifact_type: String,
    /// Its owner's tenant (`None`: an anonymous session's).
    pub tenant_id: Option<String>,
    pub filename: String,
    pub mime_type: String,
    /// The document, base64 over the wire.
    #[serde(with = "base64_bytes")]
    #[schema(value_type = String, format = Byte)]
    pub bytes: Vec<u8>,
}

/// The largest artifact content served, in bytes.
pub const MAX_ARTIFACT_CONTENT_BYTES: u64 = 32 * 1024 * 1024;

mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// A chat turn for one of the session's agents.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AgentMessage {
    pub session_id: String,
    /// `guide`, `liaison.content`, ... (the conversation's owner wins if it has one).
    pub agent: String,
    pub conversation_id: String,
    pub text: String,
    #[serde(default)]
    pub metadata: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AgentAccepted {
    pub turn_id: String,
    pub conversation_id: String,
    pub agent: String,
}
