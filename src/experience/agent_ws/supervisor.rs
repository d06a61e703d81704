//! ConnectionSupervisor: the parent of every WsConnectionActor, and the connection cap. A
//! connection is never restarted (its socket is gone with it): the client reconnects and
//! resumes. A `Seat` is held for the life of a connection and frees its place when dropped.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A place under the connection cap, given back when dropped.
pub type Seat = OwnedSemaphorePermit;

/// The connection cap: one permit per connection.
#[derive(Clone)]
pub struct Seats {
    free: Arc<Semaphore>,
    max: usize,
}

impl Seats {
    pub fn new(max: usize) -> Self {
        let max = max.min(Semaphore::MAX_PERMITS);
        Self {
            free: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// Connections open now.
    pub fn taken(&self) -> usize {
        self.max - self.free.available_permits()
    }

    /// A seat, or `None` at capacity.
    pub fn take(&self) -> Option<Seat> {
        self.free.clone().try_acquire_owned().ok()
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
