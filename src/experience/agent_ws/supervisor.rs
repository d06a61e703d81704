//! ConnectionSupervisor: the parent of every WsConnectionActor, and the connection cap. A
//! connection is never restarted (its socket is gone with it): the client reconnects and
//! resumes. A `Seat` is held for the life of a connection and frees its place when dropped.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::task_tracker::TaskTrackerToken;
use tokio_util::task::TaskTracker;

/// A place under the connection cap, given back when dropped; until then the connection is
/// one that shutdown waits for.
pub struct Seat {
    _permit: OwnedSemaphorePermit,
    _open: TaskTrackerToken,
    /// This socket in the open-sockets gauge while it lives.
    _gauge: crate::telemetry::metrics::Held,
}

/// The connection cap (one permit per connection), and the connections open.
#[derive(Clone)]
pub struct Seats {
    free: Arc<Semaphore>,
    open: TaskTracker,
}

impl Seats {
    pub fn new(max: usize) -> Self {
        Self {
            free: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
            open: TaskTracker::new(),
        }
    }

    /// A seat, or `None` at capacity.
    pub fn take(&self) -> Option<Seat> {
        let permit = self.free.clone().try_acquire_owned().ok()?;
        Some(Seat {
            _permit: permit,
            _open: self.open.token(),
            _gauge: crate::telemetry::metrics::Held::new(crate::telemetry::names::AGENT_SOCKETS),
        })
    }

    /// Resolves once every connection has ended (for shutdown: no wait when none is open).
    pub async fn all_ended(&self) {
        self.open.close();
        self.open.wait().await;
    }
}

pub struct ConnectionSupervisor;

impl Actor for ConnectionSupervisor {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        evt: SupervisionEvent,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(cell, err) = evt {
            // Its socket was closed (1011) by its writer; the client resumes on reconnect.
            tracing::warn!(actor = ?cell.get_id(), error = %err, "connection actor failed");
        }
        Ok(())
    }
}
