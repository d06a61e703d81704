//! The janitor: a supervised actor that, every `janitor_interval`, removes files never
//! materialized within `unmaterialized_ttl` (with what was derived from them), parses stuck in
//! `parsing` (a crash or cancel mid-parse), artifacts of executions that failed or were
//! cancelled (what a crash or a cancel mid-step left), uploads that were never ingested, temporary files of
//! writes that died, and — after `blob_grace` — blobs nothing references. All blob deletion
//! happens here, never inline, so a concurrent upload of the same content can never lose it.
//! The sweep runs in a task; sweeps never overlap.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::runtime::engine::handler::Services;
use crate::store::time::now_micros;

/// Uploads are ingested right after they arrive; older ones were abandoned.
const UPLOAD_TTL: Duration = Duration::from_secs(3600);
/// A parse that has not progressed for this long died (its records are removed).
const STUCK_PARSE: Duration = Duration::from_secs(3600);

pub enum JanitorMsg {
    Tick,
    /// Sweep now and answer what was removed (operators and tests).
    SweepNow(RpcReplyPort<Result<Swept, String>>),
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub stuck_parses: usize,
    /// Artifacts left by executions that failed or were cancelled.
    pub abandoned: usize,
    pub blobs: usize,
    pub temporary: usize,
}

pub struct Janitor;

pub struct JanitorArgs {
    pub services: Services,
    pub ttl: Duration,
    pub interval: Duration,
    pub blob_grace: Duration,
    pub faults: crate::actors::FaultTargets,
}

pub struct JanitorState {
    args: JanitorArgs,
    one_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

impl Actor for Janitor {
    type Msg = JanitorMsg;
    type State = JanitorState;
    type Arguments = JanitorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: JanitorArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(args.faults, "janitor".into(), myself, JanitorMsg::Panic);
        myself.send_after(args.interval, || JanitorMsg::Tick);
        Ok(JanitorState {
            args,
            one_at_a_time: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let reply = match msg {
            #[cfg(feature = "fault-injection")]
            JanitorMsg::Panic => panic!("fault injected into the janitor"),
            JanitorMsg::Tick => {
                myself.send_after(state.args.interval, || JanitorMsg::Tick);
                // A sweep still running: skip this tick.
                if state.one_at_a_time.try_lock().is_err() {
                    return Ok(());
                }
                None
            }
            JanitorMsg::SweepNow(reply) => Some(reply),
        };
        let services = state.args.services.clone();
        let (ttl, grace) = (state.args.ttl, state.args.blob_grace);
        let lock = state.one_at_a_time.clone();
        tokio::spawn(async move {
            let _one = lock.lock().await;
            let result = sweep(&services, ttl, grace)
                .await
                .map_err(|e| e.to_string());
            match &result {
                Ok(s) if *s != Swept::default() => tracing::info!(?s, "janitor sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "janitor sweep failed"),
            }
            if let Some(reply) = reply {
                let _ = reply.send(result);
            }
        });
        Ok(())
    }
}

async fn sweep(s: &Services, ttl: Duration, grace: Duration) -> anyhow::Result<Swept> {
    let now = now_micros();
    let mut swept = Swept::default();
    let cutoff = now - ttl.as_micros() as i64;
    loop {
        let stale = s.store.stale_pending_files(cutoff, 100).await?;
        if stale.is_empty() {
            break;
        }
        let mut progressed = false;
        for file in stale {
            // Only if still pending: a file materialized meanwhile stays.
            if s.store
                .delete_artifact_tree_if(
                    &file.artifact_id,
                    Some(("pending_materialization", cutoff)),
                )
                .await?
            {
                swept.files += 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let stuck_before = now - STUCK_PARSE.as_micros() as i64;
    for id in s
        .store
        .artifacts_stuck("parsed_file", "parsing", stuck_before, 100)
        .await?
    {
        if s.store.delete_artifact_tree(&id).await? {
            swept.stuck_parses += 1;
        }
    }
    for id in s.store.abandoned_artifacts(100).await? {
        if s.store.delete_artifact_tree(&id).await? {
            swept.abandoned += 1;
        }
    }
    s.store
        .prune_uploads(now - UPLOAD_TTL.as_micros() as i64)
        .await?;
    let before = SystemTime::now() - grace;
    swept.temporary = s.blobs.sweep_temporary(before).await?;
    for sha in s.blobs.stored_before(before).await? {
        if s.store.blob_references(&sha).await? == 0 && s.blobs.collect(&sha, before).await? {
            swept.blobs += 1;
        }
    }
    Ok(swept)
}
