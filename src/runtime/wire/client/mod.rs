//! The runtime client over HTTP: the Runtime Plane's internal API, for an Experience Plane in a
//! process of its own. Same interface and same errors as the in-process client; a runtime that
//! cannot be reached is `Unavailable` (503 `runtime_unavailable` to the frontend).

pub mod availability;
mod blob_body;
mod events;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::runtime::contract::client::{EventStream, RuntimeClient};
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::listing::{
    ExecutionPage, ExecutionQuery, RecordPage, RecordQuery, SessionPage, SessionQuery,
};
use crate::runtime::contract::model::{
    AgentAccepted, AgentMessage, ApprovalDecision, ArtifactContent, ArtifactList,
    ArtifactListRequest, CreateSession, ExecutionStatus, IntentAccepted, IntentRequest, Scope,
    Session, StatusOptions, SubmitWithUpload, UpgradeSession,
};
use crate::runtime::wire::client::availability::Availability;
use crate::runtime::wire::server::scope::{header_value, SCOPE_HEADER};
use crate::store::blobs::{BlobInfo, BlobReader};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A call (not a stream) that takes longer is answered `Unavailable`.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Health and readiness answer within a second, this check included.
const HEALTH_TIMEOUT: Duration = Duration::from_millis(800);
/// Pooled connections are let go well before the runtime's idle timeout would close them
/// (`SYMPHAINY_HTTP_IDLE_TIMEOUT_SECS`, 60 s by default), so a call never races that close.
const POOL_IDLE: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct HttpRuntimeClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    /// Outages logged once each.
    availability: Availability,
    token: SecretString,
    /// Calls, bounded by `CALL_TIMEOUT`.
    calls: reqwest::Client,
    /// Event streams and blob uploads: as long as they need.
    streams: reqwest::Client,
}

impl HttpRuntimeClient {
    /// A client of the Runtime Plane at `base_url` (e.g. `http://runtime:8000`).
    pub fn new(base_url: &str, token: &SecretString) -> anyhow::Result<Self> {
        let base = Url::parse(base_url.trim())
            .map_err(|e| anyhow::anyhow!("SYMPHAINY_RUNTIME_URL '{base_url}': {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            anyhow::bail!("SYMPHAINY_RUNTIME_URL must be an http:// or https:// URL");
        }
        if token.expose_secret().is_empty() {
            anyhow::bail!("the service token is empty");
        }
        // Small requests and answers go out at once (no Nagle waiting for a delayed ACK).
        let calls = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE)
            .build()?;
        let streams = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_keepalive(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                base,
                availability: Availability::default(),
                token: token.clone(),
                calls,
                streams,
            }),
        })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn build(
        &self,
        http: &reqwest::Client,
        method: Method,
        segments: &[&str],
        scope: &Scope,
    ) -> RequestBuilder {
        http.request(method, self.url(segments))
            .bearer_auth(self.inner.token.expose_secret())
            .header(SCOPE_HEADER, header_value(scope))
    }

    fn request(&self, method: Method, segments: &[&str], scope: &Scope) -> RequestBuilder {
        self.build(&self.inner.calls, method, segments, scope)
    }

    fn streaming(&self, method: Method, segments: &[&str], scope: &Scope) -> RequestBuilder {
        self.build(&self.inner.streams, method, segments, scope)
    }

    /// Sends the request; a success answer as it is, anything else as its `RuntimeError`.
    async fn answer(&self, request: RequestBuilder) -> Result<reqwest::Response, RuntimeError> {
        let availability = &self.inner.availability;
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let e = crate::runtime::wire::errors::unreachable(e);
                availability.failed(&e.to_string());
                return Err(e);
            }
        };
        let status = response.status();
        if status.is_success() {
            availability.answered();
            return Ok(response);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let e = crate::runtime::wire::errors::from_answer(status, &body);
        match &e {
            RuntimeError::Unavailable(why) => availability.failed(why),
            _ => availability.answered(),
        }
        Err(e)
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, RuntimeError> {
        let response = self.answer(request).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(crate::runtime::wire::errors::unreachable)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            RuntimeError::Internal(format!("the runtime's answer does not parse: {e}"))
        })
    }
}

#[async_trait]
impl RuntimeClient for HttpRuntimeClient {
    async fn create_session(&self, req: CreateSession) -> Result<Session, RuntimeError> {
        let request = self.request(Method::POST, &["api", "session", "create"], &Scope::Any);
        self.call(request.json(&req)).await
    }

    async fn get_session(&self, scope: &Scope, session_id: &str) -> Result<Session, RuntimeError> {
        self.call(self.request(Method::GET, &["api", "session", session_id], scope))
            .await
    }

    async fn upgrade_session(
        &self,
        scope: &Scope,
        session_id: &str,
        req: UpgradeSession,
    ) -> Result<Session, RuntimeError> {
        let path = ["api", "session", session_id, "upgrade"];
        self.call(self.request(Method::PATCH, &path, scope).json(&req))
            .await
    }

    async fn submit_intent(
        &self,
        scope: &Scope,
        req: IntentRequest,
    ) -> Result<IntentAccepted, RuntimeError> {
        let request = self.request(Method::POST, &["api", "intent", "submit"], scope);
        self.call(request.json(&req)).await
    }

    async fn execution_status(
        &self,
        scope: &Scope,
        execution_id: &str,
        opts: StatusOptions,
    ) -> Result<ExecutionStatus, RuntimeError> {
        let path = ["api", "execution", execution_id, "status"];
        let request = self.request(Method::GET, &path, scope).query(&[
            ("include_artifacts", opts.include_artifacts),
            ("include_events", opts.include_events),
        ]);
        self.call(request).await
    }

    async fn cancel_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
    ) -> Result<(), RuntimeError> {
        let path = ["api", "execution", execution_id, "cancel"];
        self.call::<Value>(self.request(Method::POST, &path, scope))
            .await
            .map(drop)
    }

    async fn decide_approval(
        &self,
        scope: &Scope,
        execution_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), RuntimeError> {
        let path = ["api", "execution", execution_id, "approval"];
        self.call::<Value>(self.request(Method::POST, &path, scope).json(&decision))
            .await
            .map(drop)
    }

    async fn subscribe(
        &self,
        scope: &Scope,
        session_id: &str,
        after_seq: i64,
    ) -> Result<EventStream, RuntimeError> {
        events::subscribe(
            self.clone(),
            scope.clone(),
            session_id.to_string(),
            after_seq.max(0),
        )
        .await
    }

    async fn put_blob(
        &self,
        content: BlobReader<'_>,
        limit: u64,
    ) -> Result<BlobInfo, RuntimeError> {
        let (tx, body) = blob_body::channel();
        let request = self
            .streaming(Method::POST, &["api", "blobs"], &Scope::Any)
            .query(&[("limit", limit)])
            .body(body);
        let (pumped, answer) = tokio::join!(
            blob_body::pump(content, limit, tx),
            self.call::<BlobInfo>(request)
        );
        // The reader's verdict first: past the limit, the aborted request's error says less.
        pumped?;
        answer.map_err(|e| match e {
            RuntimeError::TooLarge(_) => RuntimeError::TooLarge(limit),
            other => other,
        })
    }

    async fn discard_blob(&self, blob: &BlobInfo) -> Result<(), RuntimeError> {
        let request = self
            .request(Method::POST, &["api", "blobs", "discard"], &Scope::Any)
            .json(blob);
        self.call::<serde_json::Value>(request).await.map(|_| ())
    }

    async fn submit_with_upload(
        &self,
        scope: &Scope,
        req: SubmitWithUpload,
    ) -> Result<IntentAccepted, RuntimeError> {
        let request = self.request(Method::POST, &["api", "uploads", "submit"], scope);
        self.call(request.json(&req)).await
    }

    async fn resolve_artifact(
        &self,
        scope: &Scope,
        artifact_id: &str,
        artifact_type: Option<&str>,
    ) -> Result<Value, RuntimeError> {
        let request = self.request(Method::POST, &["api", "artifact", "resolve"], scope);
        let body = json!({"artifact_id": artifact_id, "artifact_type": artifact_type});
        self.call(request.json(&body)).await
    }

    async fn artifact_content(
        &self,
        scope: &Scope,
        session_id: &str,
        artifact_id: &str,
    ) -> Result<ArtifactContent, RuntimeError> {
        let request = self.request(Method::POST, &["api", "artifact", "content"], scope);
        let body = json!({"artifact_id": artifact_id, "session_id": session_id});
        self.call(request.json(&body)).await
    }

    async fn list_executions(
        &self,
        scope: &Scope,
        query: ExecutionQuery,
    ) -> Result<ExecutionPage, RuntimeError> {
        let request = self.request(Method::GET, &["api", "executions"], scope);
        self.call(request.query(&query)).await
    }

    async fn list_sessions(
        &self,
        scope: &Scope,
        query: SessionQuery,
    ) -> Result<SessionPage, RuntimeError> {
        let request = self.request(Method::GET, &["api", "sessions"], scope);
        self.call(request.query(&query)).await
    }

    async fn parsed_records(
        &self,
        scope: &Scope,
        parsed_file_id: &str,
        query: RecordQuery,
    ) -> Result<RecordPage, RuntimeError> {
        let path = ["api", "parsed-files", parsed_file_id, "records"];
        self.call(self.request(Method::GET, &path, scope).query(&query))
            .await
    }

    async fn retry_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
        request_id: Option<String>,
    ) -> Result<IntentAccepted, RuntimeError> {
        let path = ["api", "execution", execution_id, "retry"];
        let mut request = self.request(Method::POST, &path, scope);
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        self.call(request).await
    }

    async fn list_artifacts(
        &self,
        scope: &Scope,
        req: ArtifactListRequest,
    ) -> Result<ArtifactList, RuntimeError> {
        let request = self.request(Method::POST, &["api", "artifact", "list"], scope);
        self.call(request.json(&req)).await
    }

    async fn cluster(
        &self,
    ) -> Result<crate::runtime::contract::cluster::ClusterView, RuntimeError> {
        self.call(self.request(Method::GET, &["api", "cluster"], &Scope::Any))
            .await
    }

    async fn last_seq(&self, scope: &Scope, session_id: &str) -> Result<i64, RuntimeError> {
        let path = ["api", "session", session_id, "last-seq"];
        let answer: Value = self.call(self.request(Method::GET, &path, scope)).await?;
        answer["last_seq"]
            .as_i64()
            .ok_or_else(|| RuntimeError::Internal("last-seq answer without last_seq".into()))
    }

    async fn decide_hook(
        &self,
        scope: &Scope,
        session_id: &str,
        decision: ApprovalDecision,
    ) -> Result<String, RuntimeError> {
        let path = ["api", "session", session_id, "hook"];
        let answer: Value = self
            .call(self.request(Method::POST, &path, scope).json(&decision))
            .await?;
        answer["execution_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| RuntimeError::Internal("hook answer without execution_id".into()))
    }

    async fn agent_message(
        &self,
        scope: &Scope,
        msg: AgentMessage,
    ) -> Result<AgentAccepted, RuntimeError> {
        let request = self.request(Method::POST, &["api", "agent", "message"], scope);
        self.call(request.json(&msg)).await
    }

    async fn ready(&self) -> bool {
        let request = self
            .inner
            .calls
            .get(self.url(&["health"]))
            .timeout(HEALTH_TIMEOUT);
        matches!(request.send().await, Ok(r) if r.status().is_success())
    }
}
