//! The seam between the planes: everything the Experience Plane may ask of the Runtime.
//! Implemented in-process (messages to the router) and, for split deployments, over HTTP.

use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;

use super::error::RuntimeError;
use super::model::{
    ApprovalDecision, CreateSession, ExecutionStatus, IntentAccepted, IntentRequest, RuntimeEvent,
    Scope, Session, StatusOptions, UpgradeSession,
};

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
    /// True when the runtime can take work (its database answers).
    async fn ready(&self) -> bool;
}
