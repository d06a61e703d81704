//! The janitor: a supervised actor that, every `janitor_interval`, removes files never
//! materialized within `unmaterialized_ttl` (with what was derived from them and blobs nothing
//! else references) and uploads that were never ingested. The sweep runs in a task; the actor
//! only schedules it, so its mailbox never waits on the database.

use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::runtime::handler::Services;
use crate::store::time::now_micros;

/// Uploads are ingested right after they arrive; older ones were abandoned.
const UPLOAD_TTL: Duration = Duration::from_secs(3600);

pub enum JanitorMsg {
    Tick,
    /// Sweep now and answer how many files were removed (operators and tests).
    SweepNow(RpcReplyPort<Result<usize, String>>),
    SweepDone,
}

pub struct Janitor;

pub struct JanitorArgs {
    pub services: Services,
    pub ttl: Duration,
    pub interval: Duration,
}

pub struct JanitorState {
    args: JanitorArgs,
    sweeping: bool,
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
        myself.send_after(args.interval, || JanitorMsg::Tick);
        Ok(JanitorState {
            args,
            sweeping: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            JanitorMsg::Tick => {
                myself.send_after(state.args.interval, || JanitorMsg::Tick);
                if !state.sweeping {
                    state.sweeping = true;
                    spawn_sweep(&myself, state, None);
                }
            }
            JanitorMsg::SweepNow(reply) => {
                state.sweeping = true;
                spawn_sweep(&myself, state, Some(reply));
            }
            JanitorMsg::SweepDone => state.sweeping = false,
        }
        Ok(())
    }
}

fn spawn_sweep(
    myself: &ActorRef<JanitorMsg>,
    state: &JanitorState,
    reply: Option<RpcReplyPort<Result<usize, String>>>,
) {
    let services = state.args.services.clone();
    let ttl = state.args.ttl;
    let me = myself.clone();
    tokio::spawn(async move {
        let result = sweep(&services, ttl).await.map_err(|e| e.to_string());
        match &result {
            Ok(n) if *n > 0 => tracing::info!(removed = n, "janitor removed unmaterialized files"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "janitor sweep failed"),
        }
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
        let _ = me.send_message(JanitorMsg::SweepDone);
    });
}

async fn sweep(s: &Services, ttl: Duration) -> anyhow::Result<usize> {
    let now = now_micros();
    let mut removed = 0;
    loop {
        let stale = s
            .store
            .stale_pending_files(now - ttl.as_micros() as i64, 100)
            .await?;
        if stale.is_empty() {
            break;
        }
        for file in stale {
            for sha in s.store.delete_artifact_tree(&file.artifact_id).await? {
                s.blobs.delete(&sha).await?;
            }
            removed += 1;
        }
    }
    for sha in s
        .store
        .prune_uploads(now - UPLOAD_TTL.as_micros() as i64)
        .await?
    {
        s.blobs.delete(&sha).await?;
    }
    Ok(removed)
}
