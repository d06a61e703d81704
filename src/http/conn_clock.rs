//! What one HTTP connection is doing, for its timeouts: serving requests (no deadline), waiting
//! for the next request (the idle timeout), or receiving a request's headers (the header
//! timeout, from its first byte). Its I/O reports bytes read, its service reports requests begun
//! and ended (an `InFlight` guard lives as long as the response body).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// A request's headers did not arrive in time.
    Header,
    /// No request came in time.
    Idle,
}

pub struct ConnClock {
    state: Mutex<State>,
    changed: Notify,
}

struct State {
    in_flight: usize,
    idle_since: Instant,
    request_began: Option<Instant>,
}

impl Default for ConnClock {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Instant::now(),
                request_began: None,
            }),
            changed: Notify::new(),
        }
    }
}

impl ConnClock {
    /// Bytes arrived: between requests, the first of them starts the header timeout.
    pub fn bytes_read(&self) {
        let mut s = self.state.lock();
        if s.in_flight == 0 && s.request_began.is_none() {
            s.request_began = Some(Instant::now());
            drop(s);
            self.changed.notify_one();
        }
    }

    /// A request reached the service; it is in flight until the guard is dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        let mut s = self.state.lock();
        s.in_flight += 1;
        s.request_began = None;
        InFlight(self.clone())
    }

    /// Whether a request is being served.
    pub fn busy(&self) -> bool {
        self.state.lock().in_flight > 0
    }

    /// When the connection's current wait ends, if it is waiting.
    pub fn deadline(&self, header: Duration, idle: Duration) -> Option<Instant> {
        let s = self.state.lock();
        if s.in_flight > 0 {
            return None;
        }
        Some(match s.request_began {
            Some(began) => began + header,
            None => s.idle_since + idle,
        })
    }

    /// Which wait has run out by now, if one has.
    pub fn expired(&self, header: Duration, idle: Duration) -> Option<Expired> {
        let deadline = self.deadline(header, idle)?;
        if Instant::now() < deadline {
            return None;
        }
        Some(match self.state.lock().request_began {
            Some(_) => Expired::Header,
            None => Expired::Idle,
        })
    }

    /// Resolves when the deadline may have moved earlier (a request's first byte arrived, or
    /// the last request ended).
    pub async fn changed(&self) {
        self.changed.notified().await
    }
}

/// A request in flight; dropping it (with the response body) ends it.
pub struct InFlight(Arc<ConnClock>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.state.lock();
        s.in_flight -= 1;
        if s.in_flight == 0 {
            s.idle_since = Instant::now();
            drop(s);
            self.0.changed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Duration = Duration::from_secs(10);
    const I: Duration = Duration::from_secs(60);

    #[test]
    fn waits_are_idle_then_header_then_none_while_serving() {
        let before = Instant::now();
        let clock = Arc::new(ConnClock::default());
        let idle_deadline = clock.deadline(H, I).unwrap();
        assert!(idle_deadline >= before + I && idle_deadline <= Instant::now() + I);
        // The first byte of a request: the (shorter) header wait.
        clock.bytes_read();
        let header_deadline = clock.deadline(H, I).unwrap();
        assert!(header_deadline <= Instant::now() + H);
        let guard = clock.begin();
        assert_eq!(clock.deadline(H, I), None);
        // Body bytes do not start a header wait.
        clock.bytes_read();
        assert_eq!(clock.deadline(H, I), None);
        assert_eq!(clock.expired(Duration::ZERO, Duration::ZERO), None);
        drop(guard);
        assert_eq!(clock.expired(H, I), None);
        assert_eq!(
            clock.expired(Duration::ZERO, Duration::ZERO),
            Some(Expired::Idle)
        );
        clock.bytes_read();
        assert_eq!(
            clock.expired(Duration::ZERO, Duration::ZERO),
            Some(Expired::Header)
        );
    }
}
