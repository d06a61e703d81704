//! The in-process runtime client: messages to the RuntimeRouter actor, reads from the store.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use ractor::RpcReplyPort;
use tokio_stream::wrappers::ReceiverStream;

use super::artifact_registry::artifact_record;
use crate::runtime::contract::agents::AgentKind;
use crate::runtime::contract::client::{EventStream, RuntimeClient};
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::listing::{
    page_of, record_cursor, scope_tenant, ExecutionPage, ExecutionQuery, ExecutionSummary,
    RecordPage, RecordQuery, SessionPage, SessionQuery,
};
use crate::runtime::contract::model::{
    AgentAccepted, AgentMessage, ApprovalDecision, ArtifactContent, ArtifactList,
    ArtifactListRequest, CreateSession, ExecutionStatus, IntentAccepted, IntentRequest,
    RuntimeEvent, Scope, Session, StatusOptions, SubmitWithUpload, UpgradeSession,
    MAX_ARTIFACT_CONTENT_BYTES,
};
use crate::runtime::engine::context::RuntimeCtx;
use crate::runtime::engine::messages::{
    object_or_empty, AgentTurn, ExecutionCmd, RouterMsg, SessionMsg,
};
use crate::store::artifacts::{ArtifactFilter, Owner, UploadRow};
use crate::store::blobs::{BlobError, BlobInfo, BlobReader};
use crate::store::listing::Cursor;
use crate::store::time::now_micros;
use crate::store::{ExecutionRow, SessionRow};

const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct InProcessClient {
    ctx: RuntimeCtx,
}

impl InProcessClient {
    pub fn new(ctx: RuntimeCtx) -> Self {
        Self { ctx }
    }

    /// Sends a command to a session through the router and waits for its answer. A command
    /// dropped unanswered (its actor died before handling it) was not acted upon: retried.
    async fn ask_session<T: Send + 'static>(
        &self,
        session_id: &str,
        build: impl Fn(RpcReplyPort<Result<T, RuntimeError>>) -> SessionMsg,
    ) -> Result<T, RuntimeError> {
        for _ in 0..3 {
            let router = self
                .ctx
                .router
                .get()
                .ok_or_else(|| RuntimeError::Unavailable("router not started".into()))?;
            let (tx, rx) = ractor::concurrency::oneshot();
            let msg = RouterMsg::Route {
                session_id: session_id.to_string(),
                msg: Box::new(build(tx.into())),
            };
            if router.send_message(msg).is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match tokio::time::timeout(CALL_TIMEOUT, rx).await {
                Ok(Ok(answer)) => return answer,
                Ok(Err(_dropped)) => continue,
                Err(_) => {
                    tracing::warn!(%session_id, "runtime call timed out");
                    return Err(RuntimeError::Unavailable("runtime call timed out".into()));
                }
            }
        }
        tracing::warn!(%session_id, "session actor unavailable");
        Err(RuntimeError::Unavailable(
            "session actor unavailable".into(),
        ))
    }

    async fn visible_session(
        &self,
        scope: &Scope,
        session_id: &str,
    ) -> Result<SessionRow, RuntimeError> {
        match self.ctx.store.get_session(session_id).await? {
            Some(s) if scope.permits(s.tenant_id.as_deref()) => Ok(s),
            _ => Err(RuntimeError::not_found("session")),
        }
    }

    async fn visible_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
    ) -> Result<ExecutionRow, RuntimeError> {
        match self.ctx.store.get_execution(execution_id).await? {
            Some(e) if scope.permits(e.tenant_id.as_deref()) => Ok(e),
            _ => Err(RuntimeError::not_found("execution")),
        }
    }

    async fn ask_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
        build: impl Fn(RpcReplyPort<Result<(), RuntimeError>>) -> ExecutionCmd,
    ) -> Result<(), RuntimeError> {
        let exec = self.visible_execution(scope, execution_id).await?;
        if exec.is_terminal() {
            return Err(finished());
        }
        let answer = self
            .ask_session(&exec.session_id, |reply| SessionMsg::Execution {
                execution_id: execution_id.to_string(),
                cmd: build(reply),
            })
            .await;
        match answer {
            // The command met the execution's actor as it stopped (dropped unanswered): if the
            // execution ended meanwhile, that is the answer.
            Err(RuntimeError::Unavailable(why)) => {
                match self.ctx.store.get_execution(execution_id).await? {
                    Some(e) if e.is_terminal() => Err(finished()),
                    _ => Err(RuntimeError::Unavailable(why)),
                }
            }
            other => other,
        }
    }

    /// An approval for a hook that was already answered: 409 saying so, rather than "not found".
    async fn already_answered(
        &self,
        scope: &Scope,
        hook_id: &str,
        belongs: impl Fn(&ExecutionRow) -> bool,
    ) -> Result<RuntimeError, RuntimeError> {
        Ok(match self.ctx.store.answered_hook(hook_id).await? {
            Some((e, decision)) if scope.permits(e.tenant_id.as_deref()) && belongs(&e) => {
                RuntimeError::conflict(
                    "hook_already_answered",
                    format!("this approval was already answered ({decision})"),
                )
            }
            _ => RuntimeError::not_found("hook"),
        })
    }
}

fn finished() -> RuntimeError {
    RuntimeError::conflict("execution_finished", "the execution has already finished")
}

pub(crate) fn validate_id(field: &str, id: &str) -> Result<(), RuntimeError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::invalid(
            field,
            "must be 1 to 128 letters, digits, '-', '_' or '.'",
        ))
    }
}

#[async_trait]
impl RuntimeClient for InProcessClient {
    async fn create_session(&self, req: CreateSession) -> Result<Session, RuntimeError> {
        if let Some(id) = &req.session_id {
            validate_id("session_id", id)?;
        }
        let metadata = object_or_empty("metadata", req.metadata)?;
        if req.user_id.is_some() && req.tenant_id.is_none() {
            return Err(RuntimeError::invalid(
                "tenant_id",
                "is required when user_id is given",
            ));
        }
        let now = now_micros();
        let row = SessionRow {
            session_id: req
                .session_id
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            tenant_id: req.tenant_id.filter(|t| !t.is_empty()),
            user_id: req.user_id.filter(|u| !u.is_empty()),
            status: "active".into(),
            metadata,
            created_at: now,
            updated_at: now,
            superseded_by: None,
            succeeds: None,
        };
        if !self.ctx.store.insert_session(&row).await? {
            return Err(RuntimeError::conflict(
                "session_exists",
                "a session with this id already exists",
            ));
        }
        tracing::info!(
            session_id = %row.session_id,
            tenant_id = row.tenant_id.as_deref().unwrap_or("-"),
            "session created"
        );
        Ok(Session::from(row))
    }

    async fn get_session(&self, scope: &Scope, session_id: &str) -> Result<Session, RuntimeError> {
        Ok(Session::from(
            self.visible_session(scope, session_id).await?,
        ))
    }

    async fn upgrade_session(
        &self,
        scope: &Scope,
        session_id: &str,
        req: UpgradeSession,
    ) -> Result<Session, RuntimeError> {
        validate_id("user_id", &req.user_id)?;
        validate_id("tenant_id", &req.tenant_id)?;
        object_or_empty("metadata", req.metadata.clone())?;
        self.visible_session(scope, session_id).await?;
        let scope = scope.clone();
        self.ask_session(session_id, |reply| SessionMsg::Upgrade {
            scope: scope.clone(),
            req: req.clone(),
            reply,
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(session_id = %req.session_id, intent_type = %req.intent_type))]
    async fn submit_intent(
        &self,
        scope: &Scope,
        req: IntentRequest,
    ) -> Result<IntentAccepted, RuntimeError> {
        if req.intent_type.is_empty() {
            return Err(RuntimeError::invalid("intent_type", "is required"));
        }
        if req.session_id.is_empty() {
            return Err(RuntimeError::invalid("session_id", "is required"));
        }
        let Some(handler) = self.ctx.handlers.get(&req.intent_type) else {
            return Err(RuntimeError::UnknownIntent(req.intent_type));
        };
        // Validation happens here, before the session actor: a slow or panicking validator
        // must not block or crash the session.
        let parameters = object_or_empty("parameters", req.parameters.clone())?;
        object_or_empty("metadata", req.metadata.clone())?;
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handler.validate(&parameters)
        }));
        match checked {
            Ok(Ok(())) => {}
            Ok(Err(fields)) => return Err(RuntimeError::Invalid(fields)),
            Err(_) => {
                return Err(RuntimeError::Internal(format!(
                    "the validator of '{}' panicked",
                    req.intent_type
                )))
            }
        }
        let mut req = req;
        req.request_id = req
            .request_id
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(200).collect());
        let session_id = req.session_id.clone();
        let scope = scope.clone();
        let accepted = self
            .ask_session(&session_id, |reply| SessionMsg::Submit {
                scope: scope.clone(),
                req: req.clone(),
                reply,
            })
            .await?;
        tracing::info!(
            execution_id = %accepted.execution_id,
            request_id = req.request_id.as_deref().unwrap_or("-"),
            "execution accepted"
        );
        Ok(accepted)
    }

    async fn execution_status(
        &self,
        scope: &Scope,
        execution_id: &str,
        opts: StatusOptions,
    ) -> Result<ExecutionStatus, RuntimeError> {
        let exec = self.visible_execution(scope, execution_id).await?;
        let steps = self.ctx.store.get_steps(execution_id).await?;
        let running = exec.status == crate::store::ExecutionState::Running;
        let events = if opts.include_events {
            Some(self.ctx.store.events_of_execution(execution_id).await?)
        } else {
            None
        };
        let mut status = ExecutionStatus::build(exec, steps, events, opts.include_artifacts);
        // Without the events, a running execution's latest progress is read on its own.
        if !opts.include_events && running {
            status.progress = self
                .ctx
                .store
                .latest_event_of_execution(
                    execution_id,
                    crate::runtime::contract::event_type::EventType::ExecutionProgress.as_str(),
                )
                .await?
                .map(|e| e.data);
        }
        Ok(status)
    }

    async fn cancel_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
    ) -> Result<(), RuntimeError> {
        self.ask_execution(scope, execution_id, ExecutionCmd::Cancel)
            .await
    }

    async fn decide_approval(
        &self,
        scope: &Scope,
        execution_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), RuntimeError> {
        // A hook no execution waits on any more may be one this execution already answered.
        if self
            .ctx
            .store
            .execution_by_hook(&decision.hook_id)
            .await?
            .is_none()
        {
            let answered = self
                .already_answered(scope, &decision.hook_id, |e| e.execution_id == execution_id)
                .await?;
            if let RuntimeError::Conflict { .. } = answered {
                return Err(answered);
            }
        }
        self.ask_execution(scope, execution_id, |reply| ExecutionCmd::Approve {
            hook_id: decision.hook_id.clone(),
            approved: decision.approved,
            reason: decision.reason.clone(),
            reply,
        })
        .await
    }

    async fn subscribe(
        &self,
        scope: &Scope,
        session_id: &str,
        after_seq: i64,
    ) -> Result<EventStream, RuntimeError> {
        self.visible_session(scope, session_id).await?;
        let rx = self
            .ctx
            .events
            .subscribe(session_id.to_string(), after_seq.max(0));
        Ok(Box::pin(ReceiverStream::new(rx).map(|r| {
            r.map(|e| RuntimeEvent::from(Arc::unwrap_or_clone(e)))
        })))
    }

    async fn put_blob(
        &self,
        content: BlobReader<'_>,
        limit: u64,
    ) -> Result<BlobInfo, RuntimeError> {
        self.ctx
            .services
            .blobs
            .put(content, limit)
            .await
            .map_err(|e| match e {
                BlobError::TooLarge { limit } => RuntimeError::TooLarge(limit),
                other => RuntimeError::Internal(other.to_string()),
            })
    }

    async fn discard_blob(&self, blob: &BlobInfo) -> Result<(), RuntimeError> {
        // Content a file or an upload already references stays, whoever stored it.
        if self
            .ctx
            .services
            .store
            .blob_references(&blob.sha256)
            .await?
            > 0
        {
            return Ok(());
        }
        self.ctx
            .services
            .blobs
            .discard(blob)
            .await
            .map(|_| ())
            .map_err(|e| RuntimeError::Internal(e.to_string()))
    }

    async fn submit_with_upload(
        &self,
        scope: &Scope,
        req: SubmitWithUpload,
    ) -> Result<IntentAccepted, RuntimeError> {
        let session_id = req.intent.session_id.clone();
        self.visible_session(scope, &session_id).await?;
        if !self.ctx.services.blobs.exists(&req.sha256).await {
            return Err(RuntimeError::invalid(
                "file",
                "the uploaded content is missing",
            ));
        }
        let upload_id = uuid::Uuid::new_v4().to_string();
        let mut intent = req.intent;
        let mut parameters = match intent.parameters.take() {
            Some(serde_json::Value::Object(map)) => map,
            None | Some(serde_json::Value::Null) => Default::default(),
            Some(_) => return Err(RuntimeError::invalid("parameters", "must be an object")),
        };
        parameters.insert("upload_id".into(), upload_id.clone().into());
        let parameters = serde_json::Value::Object(parameters);
        // Validate before recording anything: a refused upload leaves no upload row.
        let Some(handler) = self.ctx.handlers.get(&intent.intent_type) else {
            return Err(RuntimeError::UnknownIntent(intent.intent_type));
        };
        if !handler.takes_upload() {
            return Err(RuntimeError::invalid(
                "intent_type",
                format!("'{}' does not take an upload", intent.intent_type),
            ));
        }
        handler
            .validate(&parameters)
            .map_err(|fields| RuntimeError::Invalid(fields).top_level_fields())?;
        intent.parameters = Some(parameters);
        self.ctx
            .services
            .store
            .insert_upload(&UploadRow {
                upload_id: upload_id.clone(),
                session_id,
                blob_sha256: req.sha256.clone(),
                size_bytes: req.size_bytes as i64,
                created_at: now_micros(),
            })
            .await?;
        let keyed = intent.idempotency_key.is_some();
        let accepted = match self.submit_intent(scope, intent).await {
            Ok(a) => a,
            Err(e) => {
                self.ctx.services.store.delete_upload(&upload_id).await?;
                return Err(e);
            }
        };
        if keyed {
            // A repeated key answers the first upload's execution: this upload row is not its.
            let first = self.ctx.store.get_execution(&accepted.execution_id).await?;
            if first.is_some_and(|e| e.parameters["upload_id"] != upload_id.as_str()) {
                self.ctx.services.store.delete_upload(&upload_id).await?;
            }
        }
        Ok(accepted)
    }

    async fn resolve_artifact(
        &self,
        scope: &Scope,
        artifact_id: &str,
        artifact_type: Option<&str>,
    ) -> Result<serde_json::Value, RuntimeError> {
        let store = &self.ctx.services.store;
        match store.artifact(artifact_id).await? {
            Some(a)
                if a.lifecycle_state != "deleted"
                    && scope.permits(a.tenant_id.as_deref())
                    && artifact_type.is_none_or(|t| t == a.artifact_type) =>
            {
                Ok(artifact_record(store, &a).await?)
            }
            _ => Err(RuntimeError::not_found("artifact")),
        }
    }

    async fn artifact_content(
        &self,
        scope: &Scope,
        session_id: &str,
        artifact_id: &str,
    ) -> Result<ArtifactContent, RuntimeError> {
        let store = &self.ctx.services.store;
        let a = match store.artifact(artifact_id).await? {
            Some(a)
                if a.lifecycle_state != "deleted"
                    && a.session_id == session_id
                    && scope.permits(a.tenant_id.as_deref()) =>
            {
                a
            }
            _ => return Err(RuntimeError::not_found("artifact")),
        };
        let Some(sha) = a.blob_sha256.clone() else {
            return Err(RuntimeError::not_found("artifact content"));
        };
        let blobs = self.ctx.services.blobs.clone();
        let bytes = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut out = Vec::new();
            blobs
                .open_blocking(&sha)?
                .take(MAX_ARTIFACT_CONTENT_BYTES + 1)
                .read_to_end(&mut out)?;
            Ok::<_, BlobError>(out)
        })
        .await
        .map_err(|e| RuntimeError::Internal(e.to_string()))?
        .map_err(|e| match e {
            BlobError::NotFound => RuntimeError::not_found("artifact content"),
            other => RuntimeError::Internal(other.to_string()),
        })?;
        if bytes.len() as u64 > MAX_ARTIFACT_CONTENT_BYTES {
            return Err(RuntimeError::Internal(format!(
                "artifact {artifact_id} holds more than {MAX_ARTIFACT_CONTENT_BYTES} bytes"
            )));
        }
        let d = &a.semantic_descriptor;
        Ok(ArtifactContent {
            artifact_id: a.artifact_id.clone(),
            artifact_type: a.artifact_type.clone(),
            tenant_id: a.tenant_id.clone(),
            filename: d["filename"].as_str().unwrap_or(artifact_id).to_string(),
            mime_type: d["mime_type"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_string(),
            bytes,
        })
    }

    async fn list_executions(
        &self,
        scope: &Scope,
        query: ExecutionQuery,
    ) -> Result<ExecutionPage, RuntimeError> {
        let (mut filter, cursor, limit) = query.parse()?;
        scope_tenant(scope, &mut filter.tenant_id)?;
        let rows = self
            .ctx
            .store
            .list_executions(&filter, cursor.as_ref(), limit + 1)
            .await?;
        let (rows, next_cursor) = page_of(rows, limit, |r| Cursor {
            created_at: r.created_at,
            id: r.execution_id.clone(),
        });
        Ok(ExecutionPage {
            executions: rows.into_iter().map(ExecutionSummary::from).collect(),
            next_cursor,
        })
    }

    async fn list_sessions(
        &self,
        scope: &Scope,
        query: SessionQuery,
    ) -> Result<SessionPage, RuntimeError> {
        let (mut filter, cursor, limit) = query.parse()?;
        scope_tenant(scope, &mut filter.tenant_id)?;
        let rows = self
            .ctx
            .store
            .list_sessions(&filter, cursor.as_ref(), limit + 1)
            .await?;
        let (rows, next_cursor) = page_of(rows, limit, |r| Cursor {
            created_at: r.created_at,
            id: r.session_id.clone(),
        });
        Ok(SessionPage {
            sessions: rows.into_iter().map(Session::from).collect(),
            next_cursor,
        })
    }

    async fn parsed_records(
        &self,
        scope: &Scope,
        parsed_file_id: &str,
        query: RecordQuery,
    ) -> Result<RecordPage, RuntimeError> {
        let (offset, limit) = query.parse()?;
        let store = &self.ctx.services.store;
        let parsed = match store.artifact(parsed_file_id).await? {
            Some(a)
                if a.artifact_type == "parsed_file"
                    && a.lifecycle_state != "deleted"
                    && scope.permits(a.tenant_id.as_deref()) =>
            {
                a
            }
            _ => return Err(RuntimeError::not_found("parsed_file")),
        };
        if parsed.lifecycle_state != "active" {
            return Err(RuntimeError::conflict(
                "not_ready",
                format!(
                    "parsed file {parsed_file_id} is {}; its records can be read once the parse \
                     has finished",
                    parsed.lifecycle_state
                ),
            ));
        }
        let mut records = store
            .parsed_records(parsed_file_id, offset, limit + 1)
            .await?;
        let more = records.len() as i64 > limit;
        records.truncate(limit as usize);
        Ok(RecordPage {
            parsed_file_id: parsed.artifact_id,
            next_cursor: more.then(|| record_cursor(offset + limit)),
            records,
            offset,
            record_count: parsed.semantic_descriptor["record_count"].as_u64(),
        })
    }

    async fn retry_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
        request_id: Option<String>,
    ) -> Result<IntentAccepted, RuntimeError> {
        let first = self.visible_execution(scope, execution_id).await?;
        if !first.status.is_terminal() {
            return Err(RuntimeError::conflict(
                "not_finished",
                format!(
                    "execution {execution_id} is {}; retry it once it has finished",
                    first.status.as_str()
                ),
            ));
        }
        self.submit_intent(
            scope,
            IntentRequest {
                intent_type: first.intent_type.clone(),
                session_id: first.session_id.clone(),
                tenant_id: first.tenant_id.clone(),
                solution_id: Some(first.solution_id.clone()),
                parameters: Some(first.parameters.clone()),
                metadata: Some(first.metadata.clone()),
                intent_id: None,
                idempotency_key: None,
                request_id,
                traceparent: None,
                retry_of: Some(execution_id.to_string()),
            },
        )
        .await
    }

    async fn list_artifacts(
        &self,
        scope: &Scope,
        req: ArtifactListRequest,
    ) -> Result<ArtifactList, RuntimeError> {
        let owner = match (&req.tenant_id, &req.session_id) {
            (Some(t), _) if !t.is_empty() => {
                if !scope.permits(Some(t)) {
                    return Err(RuntimeError::not_found("tenant"));
                }
                Owner::Tenant(t.clone())
            }
            (_, Some(s)) if !s.is_empty() => {
                let session = self.visible_session(scope, s).await?;
                match session.tenant_id {
                    Some(t) => Owner::Tenant(t),
                    None => Owner::Session(session.session_id),
                }
            }
            _ => {
                return Err(RuntimeError::invalid(
                    "tenant_id",
                    "tenant_id or session_id is required",
                ))
            }
        };
        let limit = req.limit.unwrap_or(100);
        let offset = req.offset.unwrap_or(0);
        if !(1..=1000).contains(&limit) {
            return Err(RuntimeError::invalid("limit", "must be from 1 to 1000"));
        }
        if offset < 0 {
            return Err(RuntimeError::invalid("offset", "must not be negative"));
        }
        let filter = ArtifactFilter {
            artifact_type: req.artifact_type,
            lifecycle_state: req.lifecycle_state,
            limit,
            offset,
        };
        let (rows, total) = self
            .ctx
            .services
            .store
            .list_artifacts(&owner, &filter)
            .await?;
        let mut artifacts = Vec::with_capacity(rows.len());
        for a in &rows {
            artifacts.push(artifact_record(&self.ctx.services.store, a).await?);
        }
        Ok(ArtifactList {
            artifacts,
            total,
            limit,
            offset,
        })
    }

    async fn cluster(
        &self,
    ) -> Result<crate::runtime::contract::cluster::ClusterView, RuntimeError> {
        super::cluster_view::view(&self.ctx).await
    }

    async fn last_seq(&self, scope: &Scope, session_id: &str) -> Result<i64, RuntimeError> {
        self.visible_session(scope, session_id).await?;
        Ok(self.ctx.store.max_seq(session_id).await?)
    }

    async fn decide_hook(
        &self,
        scope: &Scope,
        session_id: &str,
        decision: ApprovalDecision,
    ) -> Result<String, RuntimeError> {
        let execution_id = match self.ctx.store.execution_by_hook(&decision.hook_id).await? {
            Some(e) if e.session_id == session_id && scope.permits(e.tenant_id.as_deref()) => {
                e.execution_id
            }
            _ => {
                return Err(self
                    .already_answered(scope, &decision.hook_id, |e| e.session_id == session_id)
                    .await?)
            }
        };
        self.decide_approval(scope, &execution_id, decision).await?;
        Ok(execution_id)
    }

    async fn agent_message(
        &self,
        scope: &Scope,
        msg: AgentMessage,
    ) -> Result<AgentAccepted, RuntimeError> {
        let session = self.visible_session(scope, &msg.session_id).await?;
        self.ctx
            .intake
            .admit_turn(&session.session_id, session.tenant_id.as_deref())?;
        let proposed = AgentKind::parse_id(&msg.agent)
            .ok_or_else(|| RuntimeError::invalid("agent", "is not a known agent"))?;
        if msg.conversation_id.is_empty() || msg.conversation_id.len() > 255 {
            return Err(RuntimeError::invalid(
                "conversation_id",
                "must be 1 to 255 characters",
            ));
        }
        // Sticky routing: a conversation stays with the agent that started it.
        let owner = self
            .ctx
            .store
            .conversation_owner(
                &msg.session_id,
                &msg.conversation_id,
                proposed.id(),
                now_micros(),
            )
            .await?;
        let kind = AgentKind::parse_id(&owner).unwrap_or(proposed);
        let turn = AgentTurn {
            // Time-ordered: the turn's events' keys start with it (the dedupe index).
            turn_id: crate::store::ids::ordered_id(),
            conversation_id: msg.conversation_id.clone(),
            text: msg.text,
            metadata: msg.metadata,
        };
        let accepted = AgentAccepted {
            turn_id: turn.turn_id.clone(),
            conversation_id: msg.conversation_id,
            agent: kind.id().to_string(),
        };
        let router = self
            .ctx
            .router
            .get()
            .ok_or_else(|| RuntimeError::Unavailable("router not started".into()))?;
        router
            .send_message(RouterMsg::Route {
                session_id: msg.session_id,
                msg: Box::new(SessionMsg::Agent { kind, turn }),
            })
            .map_err(|_| RuntimeError::Unavailable("router stopped".into()))?;
        Ok(accepted)
    }

    async fn ready(&self) -> bool {
        self.ctx.router.get().is_some()
            && self.ctx.store.health().state() == crate::store::health::DbState::Up
    }
}
