//! The seam between the planes: everything the Experience Plane may ask of the Runtime.
//! Implemented in-process (messages to the router) and, for split deployments, over HTTP.

use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;

use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::listing::{
    ExecutionPage, ExecutionQuery, RecordPage, RecordQuery, SessionPage, SessionQuery,
};
use crate::runtime::contract::model::{
    AgentAccepted, AgentMessage, ApprovalDecision, ArtifactContent, ArtifactList,
    ArtifactListRequest, CreateSession, ExecutionStatus, IntentAccepted, IntentRequest,
    RuntimeEvent, Scope, Session, StatusOptions, SubmitWithUpload, UpgradeSession,
};
use crate::store::blobs::{BlobInfo, BlobReader};

pub type EventStream = Pin<Box<dyn Stream<Item = Result<RuntimeEvent, RuntimeError>> + Send>>;

#[async_trait]
pub trait RuntimeClient: Send + Sync {
    async fn create_session(&self, req: CreateSession) -> Result<Session, RuntimeError>;
    async fn get_session(&self, scope: &Scope, session_id: &str) -> Result<Session, RuntimeError>;
    async fn upgrade_session(
        &self,
        scope: &Scope,
        session_id: &str,
        req: UpgradeSession,
    ) -> Result<Session, RuntimeError>;
    /// Returns only after the intent is durably stored.
    async fn submit_intent(
        &self,
        scope: &Scope,
        req: IntentRequest,
    ) -> Result<IntentAccepted, RuntimeError>;
    async fn execution_status(
        &self,
        scope: &Scope,
        execution_id: &str,
        opts: StatusOptions,
    ) -> Result<ExecutionStatus, RuntimeError>;
    async fn cancel_execution(&self, scope: &Scope, execution_id: &str)
        -> Result<(), RuntimeError>;
    async fn decide_approval(
        &self,
        scope: &Scope,
        execution_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), RuntimeError>;
    /// The session's events with `seq > after_seq`: stored ones, then live ones, in order.
    async fn subscribe(
        &self,
        scope: &Scope,
        session_id: &str,
        after_seq: i64,
    ) -> Result<EventStream, RuntimeError>;
    /// Streams content into blob storage, at most `limit` bytes (`TooLarge` beyond, with
    /// nothing kept). Blobs are content-addressed.
    async fn put_blob(&self, content: BlobReader<'_>, limit: u64)
        -> Result<BlobInfo, RuntimeError>;
    /// Removes the blob `put_blob` just created for an upload that was refused (kept if the
    /// same content was stored again since).
    async fn discard_blob(&self, blob: &BlobInfo) -> Result<(), RuntimeError>;
    /// Records an uploaded blob for the intent's session and submits the intent, the upload's
    /// id added to its parameters as `upload_id` (see [`SubmitWithUpload`]).
    async fn submit_with_upload(
        &self,
        scope: &Scope,
        req: SubmitWithUpload,
    ) -> Result<IntentAccepted, RuntimeError>;
    /// An artifact's ArtifactRecord (404 when unknown, deleted, or not the scope's).
    async fn resolve_artifact(
        &self,
        scope: &Scope,
        artifact_id: &str,
        artifact_type: Option<&str>,
    ) -> Result<serde_json::Value, RuntimeError>;
    /// A tenant's artifacts (`tenant_id`), or a session's owner's (`session_id`).
    async fn list_artifacts(
        &self,
        scope: &Scope,
        req: ArtifactListRequest,
    ) -> Result<ArtifactList, RuntimeError>;
    /// The stored document of an artifact of `session_id` that the scope may see (404 when
    /// unknown, deleted, another's, or holding no document), at most
    /// [`MAX_ARTIFACT_CONTENT_BYTES`](crate::runtime::contract::model::MAX_ARTIFACT_CONTENT_BYTES).
    async fn artifact_content(
        &self,
        scope: &Scope,
        session_id: &str,
        artifact_id: &str,
    ) -> Result<ArtifactContent, RuntimeError>;
    /// A page of executions the scope may see, newest first.
    async fn list_executions(
        &self,
        scope: &Scope,
        query: ExecutionQuery,
    ) -> Result<ExecutionPage, RuntimeError>;
    /// A page of sessions the scope may see, newest first.
    async fn list_sessions(
        &self,
        scope: &Scope,
        query: SessionQuery,
    ) -> Result<SessionPage, RuntimeError>;
    /// A new execution of a finished one's intent (same session, parameters and metadata),
    /// linked to it by `metadata.retry_of`, submitted by the request `request_id` (kept with
    /// it as a submit's is). 409 while the first has not finished.
    async fn retry_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
        request_id: Option<String>,
    ) -> Result<IntentAccepted, RuntimeError>;
    /// A page of a parsed file's records, read directly (no execution, no event).
    async fn parsed_records(
        &self,
        scope: &Scope,
        parsed_file_id: &str,
        query: RecordQuery,
    ) -> Result<RecordPage, RuntimeError>;
    /// The session's latest event `seq` (0 when none).
    async fn last_seq(&self, scope: &Scope, session_id: &str) -> Result<i64, RuntimeError>;
    /// Answers a safety hook by its id, for an execution of `session_id` only.
    async fn decide_hook(
        &self,
        scope: &Scope,
        session_id: &str,
        decision: ApprovalDecision,
    ) -> Result<String, RuntimeError>;
    /// Hands a chat turn to the session's agent (the conversation's owner, if it has one).
    /// Answers once accepted; the agent's events follow in the session's log.
    async fn agent_message(
        &self,
        scope: &Scope,
        msg: AgentMessage,
    ) -> Result<AgentAccepted, RuntimeError>;
    /// True when the runtime can take work (its database answers).
    async fn ready(&self) -> bool;
    /// The cluster's nodes and partition leases, as the answering node sees them.
    async fn cluster(&self)
        -> Result<crate::runtime::contract::cluster::ClusterView, RuntimeError>;
}
