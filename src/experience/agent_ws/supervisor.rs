//! ConnectionSupervisor: the parent of every WsConnectionActor, and the connection cap. A
//! connection is never restarted (its socket is gone with it): the client reconnects and
//! resumes. A `Seat` is held for the life of a connection and frees its place when dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

/// A place under the connection cap.
pub struct Seat(Arc<AtomicUsize>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
pub struct Seats {
    taken: Arc<AtomicUsize>,
    max: usize,
}

impl Seats {
    pub fn new(max: usize) -> Self {
        Self {
            taken: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// Connections open now.
    pub fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }

    /// A seat, or `None` at capacity.
    pub fn take(&self) -> Option<Seat> {
        let before = self.taken.fetch_add(1, Ordering::SeqCst);
        if before >= self.max {
            self.taken.fetch_sub(1, Ordering::SeqCst);
            None
        } else {
            Some(Seat(self.taken.clone()))
        }
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
