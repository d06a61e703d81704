//! The runtime client over HTTP: the Runtime Plane's internal API, for an Experience Plane in a
//! process of its own. Same interface and same errors as the in-process client; a runtime that
//! cannot be reached is `Unavailable` (503 `runtime_unavailable` to the frontend).
//!
//! It may know several runtime nodes (a cluster): it talks to one, and moves to the next when
//! that one cannot be connected to. A request that never left is sent to the next node; one
//! that may have arrived is never sent twice.

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
    /// The runtime nodes it knows; `current` is the one it talks to.
    bases: Vec<Url>,
    current: std::sync::atomic::AtomicUsize,
    /// Outages logged once each.
    availability: Availability,
    token: SecretString,
    /// Calls, bounded by `CALL_TIMEOUT`.
    calls: reqwest::Client,
    /// Event streams and blob uploads: as long as they need.
    streams: reqwest::Client,
}

impl HttpRuntimeClient {
    /// A client of the Runtime Plane at `base_url` (e.g. `http://runtime:8000`), or at any of
    /// a comma-separated list of them (a cluster's nodes).
    pub fn new(base_url: &str, token: &SecretString) -> anyhow::Result<Self> {
        let mut bases = Vec::new();
        for one in base_url.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let base = Url::parse(one)
                .map_err(|e| anyhow::anyhow!("SYMPHAINY_RUNTIME_URL '{one}': {e}"))?;
            if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
                anyhow::bail!("SYMPHAINY_RUNTIME_URL must be http:// or https:// URLs");
            }
            bases.push(base);
        }
        if bases.is_empty() {
            anyhow::bail!("SYMPHAINY_RUNTIME_URL is empty");
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
                bases,
                current: Default::default(),
                availability: Availability::default(),
                token: token.clone(),
                calls,
                streams,
            }),
        })
    }

    fn base(&self) -> &Url {
        let bases = &self.inner.bases;
        &bases[self
            .inner
            .current
            .load(std::sync::atomic::Ordering::Relaxed)
            % bases.len()]
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base().clone();
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

    /// Moves to the next node (the current one did not answer in time).
    pub(crate) fn skip_node(&self) {
        let n = self.inner.bases.len();
        if n > 1 {
            use std::sync::atomic::Ordering::Relaxed;
            let _ = self
                .inner
                .current
                .fetch_update(Relaxed, Relaxed, |c| Some((c + 1) % n));
        }
    }

    /// The request `request` as it would go to the node after the one it was made for, and
    /// the two nodes' positions (`None` with a single node, or a body that cannot be sent twice:
    /// a stream).
    fn for_next_node(
        &self,
        request: &reqwest::Request,
    ) -> Option<(reqwest::Request, usize, usize)> {
        let bases = &self.inner.bases;
        if bases.len() < 2 {
            return None;
        }
        let url = request.url().as_str();
        let from = bases.iter().position(|b| {
            let base = b.as_str().trim_end_matches('/');
            url.strip_prefix(base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        })?;
        let to = (from + 1) % bases.len();
        let rest = &url[bases[from].as_str().trim_end_matches('/').len()..];
        let mut next = request.try_clone()?;
        *next.url_mut() = Url::parse(&format!(
            "{}{rest}",
            bases[to].as_str().trim_end_matches('/')
        ))
        .ok()?;
        Some((next, from, to))
    }

    /// Sends the request (to the next node while one cannot be connected to, each node once);
    /// a success answer as it is, anything else as its `RuntimeError`.
    async fn answer(&self, request: RequestBuilder) -> Result<reqwest::Response, RuntimeError> {
        let availability = &self.inner.availability;
        let (http, built) = request.build_split();
        let mut request = built.map_err(crate::runtime::wire::errors::unreachable)?;
        let mut left = self.inner.bases.len();
        let response = loop {
            left -= 1;
            let next = if left > 0 {
                self.for_next_node(&request)
            } else {
                None
            };
            match http.execute(request).await {
                Ok(r) => break r,
                Err(e) => {
                    let e = crate::runtime::wire::errors::unreachable(e);
                    match next {
                        Some((next, from, to))
                            if crate::runtime::wire::errors::never_delivered(&e) =>
                        {
                            // This client talks to the next node from now on.
                            use std::sync::atomic::Ordering::Relaxed;
                            let _ = self
                                .inner
                                .current
                                .compare_exchange(from, to, Relaxed, Relaxed);
                            tracing::warn!(error = %e, to = %next.url().origin().ascii_serialization(), "runtime node not reached; trying the next");
                            request = next;
                        }
                        _ => {
                            availability.failed(&e.to_string());
                            return Err(e);
                        }
                    }
                }
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

    /// The node it talks to answers healthy; if not, the first of the others that does
    /// becomes the one it talks to.
    async fn ready(&self) -> bool {
        let bases = &self.inner.bases;
        let current = self
            .inner
            .current
            .load(std::sync::atomic::Ordering::Relaxed);
        for i in 0..bases.len() {
            let at = (current + i) % bases.len();
            let mut url = bases[at].clone();
            if let Ok(mut path) = url.path_segments_mut() {
                path.pop_if_empty().push("health");
            }
            let request = self.inner.calls.get(url).timeout(HEALTH_TIMEOUT);
            if matches!(request.send().await, Ok(r) if r.status().is_success()) {
                self.inner
                    .current
                    .store(at, std::sync::atomic::Ordering::Relaxed);
                return true;
            }
        }
        false
    }
}
