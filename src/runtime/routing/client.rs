//! [`RoutingClient`]: the runtime client of a cluster node (both its Experience Plane and its
//! Runtime API use it). A command for a session (submit, upgrade, cancel, approval, retry,
//! safety answer, agent turn) runs here when this node holds the session's partition, and is
//! forwarded otherwise to the holder's `/node` routes, which run it there and never forward
//! again. Reads (statuses, lists, artifacts, event streams) are served here from the shared
//! database, wherever the session lives.
//!
//! While a partition has no holder (a hand-over, a dead node's lease running out) a command
//! waits for one, within a bound; a forward that could not even connect is sent again to the
//! holder the leases name then. A forward that may have arrived is never sent twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use secrecy::SecretString;

use super::owners::Owners;
use crate::runtime::cluster::{ownership, partition_of, Ownership};
use crate::runtime::contract::client::{EventStream, RuntimeClient};
use crate::runtime::contract::cluster::ClusterView;
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::listing::{
    ExecutionPage, ExecutionQuery, RecordPage, RecordQuery, SessionPage, SessionQuery,
};
use crate::runtime::contract::model::{
    AgentAccepted, AgentMessage, ApprovalDecision, ArtifactContent, ArtifactList,
    ArtifactListRequest, CreateSession, ExecutionStatus, IntentAccepted, IntentRequest, Scope,
    Session, StatusOptions, SubmitWithUpload, UpgradeSession,
};
use crate::runtime::wire::client::HttpRuntimeClient;
use crate::runtime::wire::errors::never_delivered;
use crate::runtime::wire::server::NODE_PREFIX;
use crate::store::blobs::{BlobInfo, BlobReader};
use crate::store::RuntimeStore;

/// Clients of other nodes kept at most (one per address seen).
const MAX_PEERS: usize = 64;

/// The pause before asking the leases again.
const RETRY: Duration = Duration::from_millis(100);

pub struct RoutingClient {
    local: Arc<dyn RuntimeClient>,
    ownership: Arc<Ownership>,
    owners: Owners,
    /// Clients of the other nodes, by address.
    peers: DashMap<String, HttpRuntimeClient>,
    token: SecretString,
    /// How long a command waits for its session's partition to have a reachable holder.
    wait: Duration,
}

enum Place {
    Here,
    There(HttpRuntimeClient),
}

/// Runs `$call` (an expression of the client `$c`) where the session `$session` lives,
/// placing it again when it could not be delivered.
macro_rules! routed {
    ($self:ident, $session:expr, |$c:ident| $call:expr) => {{
        let deadline = Instant::now() + $self.wait;
        loop {
            let outcome = match $self.place($session, deadline).await? {
                Place::Here => {
                    let $c: &dyn RuntimeClient = &*$self.local;
                    $call.await
                }
                Place::There(peer) => {
                    let $c: &dyn RuntimeClient = &peer;
                    $call.await
                }
            };
            match outcome {
                Err(e) if undelivered(&e) && Instant::now() < deadline => {
                    tracing::debug!(error = %e, "placing the command again");
                    $self.owners.forget();
                    tokio::time::sleep(RETRY).await;
                }
                other => break other,
            }
        }
    }};
}

/// Nothing of the command ran: it can be placed again.
fn undelivered(e: &RuntimeError) -> bool {
    never_delivered(e) || ownership::is_moved(e)
}

impl RoutingClient {
    pub fn new(
        local: Arc<dyn RuntimeClient>,
        ownership: Arc<Ownership>,
        store: RuntimeStore,
        token: SecretString,
        wait: Duration,
    ) -> RoutingClient {
        RoutingClient {
            local,
            ownership,
            owners: Owners::new(store),
            peers: DashMap::new(),
            token,
            wait,
        }
    }

    /// Where the session's commands run now: here, or at the node holding its partition.
    async fn place(&self, session_id: &str, deadline: Instant) -> Result<Place, RuntimeError> {
        let partition = partition_of(session_id);
        loop {
            if self.ownership.owns(session_id) {
                return Ok(Place::Here);
            }
            match self.owners.of(partition).await? {
                Some((node, address)) if Some(node.as_str()) != self.ownership.node_id() => {
                    return Ok(Place::There(self.peer(&address)?));
                }
                // No holder (a hand-over), or this node's own lease not confirmed here yet.
                _ => {}
            }
            if Instant::now() >= deadline {
                return Err(RuntimeError::Unavailable(format!(
                    "no runtime node holds partition {partition} now"
                )));
            }
            tokio::time::sleep(RETRY).await;
            self.owners.forget();
        }
    }

    fn peer(&self, address: &str) -> Result<HttpRuntimeClient, RuntimeError> {
        if let Some(peer) = self.peers.get(address) {
            return Ok(peer.clone());
        }
        let base = format!("{}{NODE_PREFIX}", address.trim_end_matches('/'));
        let peer = HttpRuntimeClient::new(&base, &self.token)
            .map_err(|e| RuntimeError::Internal(format!("a node's address '{address}': {e}")))?;
        // Nodes restarted on new addresses leave clients behind: kept few.
        if self.peers.len() >= MAX_PEERS {
            self.peers.clear();
        }
        self.peers.insert(address.to_string(), peer.clone());
        Ok(peer)
    }

    /// The session of an execution the scope may see (404 otherwise).
    async fn session_of(&self, scope: &Scope, execution_id: &str) -> Result<String, RuntimeError> {
        let opts = StatusOptions {
            include_artifacts: false,
            include_events: false,
        };
        Ok(self
            .local
            .execution_status(scope, execution_id, opts)
            .await?
            .session_id)
    }
}

#[async_trait]
impl RuntimeClient for RoutingClient {
    async fn create_session(&self, req: CreateSession) -> Result<Session, RuntimeError> {
        self.local.create_session(req).await
    }

    async fn get_session(&self, scope: &Scope, session_id: &str) -> Result<Session, RuntimeError> {
        self.local.get_session(scope, session_id).await
    }

    async fn upgrade_session(
        &self,
        scope: &Scope,
        session_id: &str,
        req: UpgradeSession,
    ) -> Result<Session, RuntimeError> {
        routed!(self, session_id, |c| c.upgrade_session(
            scope,
            session_id,
            req.clone()
        ))
    }

    async fn submit_intent(
        &self,
        scope: &Scope,
        req: IntentRequest,
    ) -> Result<IntentAccepted, RuntimeError> {
        let session_id = req.session_id.clone();
        routed!(self, &session_id, |c| c.submit_intent(scope, req.clone()))
    }

    async fn execution_status(
        &self,
        scope: &Scope,
        execution_id: &str,
        opts: StatusOptions,
    ) -> Result<ExecutionStatus, RuntimeError> {
        self.local.execution_status(scope, execution_id, opts).await
    }

    async fn cancel_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
    ) -> Result<(), RuntimeError> {
        let session_id = self.session_of(scope, execution_id).await?;
        routed!(self, &session_id, |c| c
            .cancel_execution(scope, execution_id))
    }

    async fn decide_approval(
        &self,
        scope: &Scope,
        execution_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), RuntimeError> {
        let session_id = self.session_of(scope, execution_id).await?;
        routed!(self, &session_id, |c| c.decide_approval(
            scope,
            execution_id,
            decision.clone()
        ))
    }

    async fn subscribe(
        &self,
        scope: &Scope,
        session_id: &str,
        after_seq: i64,
    ) -> Result<EventStream, RuntimeError> {
        // Served here: the store has every event, and the holder's commits are announced to
        // every node (`cluster::announce`).
        self.local.subscribe(scope, session_id, after_seq).await
    }

    async fn put_blob(
        &self,
        content: BlobReader<'_>,
        limit: u64,
    ) -> Result<BlobInfo, RuntimeError> {
        self.local.put_blob(content, limit).await
    }

    async fn discard_blob(&self, blob: &BlobInfo) -> Result<(), RuntimeError> {
        self.local.discard_blob(blob).await
    }

    async fn submit_with_upload(
        &self,
        scope: &Scope,
        req: SubmitWithUpload,
    ) -> Result<IntentAccepted, RuntimeError> {
        let session_id = req.intent.session_id.clone();
        routed!(self, &session_id, |c| c
            .submit_with_upload(scope, req.clone()))
    }

    async fn resolve_artifact(
        &self,
        scope: &Scope,
        artifact_id: &str,
        artifact_type: Option<&str>,
    ) -> Result<serde_json::Value, RuntimeError> {
        self.local
            .resolve_artifact(scope, artifact_id, artifact_type)
            .await
    }

    async fn list_artifacts(
        &self,
        scope: &Scope,
        req: ArtifactListRequest,
    ) -> Result<ArtifactList, RuntimeError> {
        self.local.list_artifacts(scope, req).await
    }

    async fn artifact_content(
        &self,
        scope: &Scope,
        session_id: &str,
        artifact_id: &str,
    ) -> Result<ArtifactContent, RuntimeError> {
        self.local
            .artifact_content(scope, session_id, artifact_id)
            .await
    }

    async fn list_executions(
        &self,
        scope: &Scope,
        query: ExecutionQuery,
    ) -> Result<ExecutionPage, RuntimeError> {
        self.local.list_executions(scope, query).await
    }

    async fn list_sessions(
        &self,
        scope: &Scope,
        query: SessionQuery,
    ) -> Result<SessionPage, RuntimeError> {
        self.local.list_sessions(scope, query).await
    }

    async fn retry_execution(
        &self,
        scope: &Scope,
        execution_id: &str,
        request_id: Option<String>,
    ) -> Result<IntentAccepted, RuntimeError> {
        let session_id = self.session_of(scope, execution_id).await?;
        routed!(self, &session_id, |c| c.retry_execution(
            scope,
            execution_id,
            request_id.clone()
        ))
    }

    async fn parsed_records(
        &self,
        scope: &Scope,
        parsed_file_id: &str,
        query: RecordQuery,
    ) -> Result<RecordPage, RuntimeError> {
        self.local
            .parsed_records(scope, parsed_file_id, query)
            .await
    }

    async fn last_seq(&self, scope: &Scope, session_id: &str) -> Result<i64, RuntimeError> {
        self.local.last_seq(scope, session_id).await
    }

    async fn decide_hook(
        &self,
        scope: &Scope,
        session_id: &str,
        decision: ApprovalDecision,
    ) -> Result<String, RuntimeError> {
        routed!(self, session_id, |c| c.decide_hook(
            scope,
            session_id,
            decision.clone()
        ))
    }

    async fn agent_message(
        &self,
        scope: &Scope,
        msg: AgentMessage,
    ) -> Result<AgentAccepted, RuntimeError> {
        let session_id = msg.session_id.clone();
        routed!(self, &session_id, |c| c.agent_message(scope, msg.clone()))
    }

    async fn ready(&self) -> bool {
        self.local.ready().await
    }

    async fn cluster(&self) -> Result<ClusterView, RuntimeError> {
        self.local.cluster().await
    }
}
