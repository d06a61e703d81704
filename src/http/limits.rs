//! Limits every listener enforces at the edge, before a request reaches a handler: how many
//! connections may be open at once, and how long a client may take to send a request's
//! headers, its body, or the next request on a kept-alive connection.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeLimits {
    /// Connections open at once on one listener, upgraded WebSockets included; more are
    /// answered 503 `server_at_capacity` and closed.
    pub max_connections: usize,
    /// From a request's first byte to the end of its headers.
    pub header_timeout: Duration,
    /// A kept-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// A request body may take this long, plus one second per `body_min_rate` bytes received
    /// (408 `request_timeout` after that).
    pub body_timeout: Duration,
    /// Bytes per second a body must average beyond `body_timeout`.
    pub body_min_rate: u64,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            body_min_rate: 1024,
        }
    }
}

impl EdgeLimits {
    /// The time a body of `received` bytes may have taken so far.
    pub fn body_allowance(&self, received: u64) -> Duration {
        let rate = self.body_min_rate.max(1);
        self.body_timeout + Duration::from_secs_f64(received as f64 / rate as f64)
    }
}

/// The default connection cap of each listener: a third of the file descriptors the process
/// may open (its soft `RLIMIT_NOFILE`) after a reserve for the database, files and refusals,
/// so that both planes together never run the process out of descriptors.
pub fn default_max_connections() -> usize {
    let soft = rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map(|(soft, _)| soft)
        .unwrap_or(1024);
    connections_for_descriptors(soft)
}

fn connections_for_descriptors(soft: u64) -> usize {
    let usable = soft.saturating_sub(128) / 3;
    usable.clamp(8, 16_384) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_descriptors_to_spare() {
        assert_eq!(connections_for_descriptors(512), 128);
        assert_eq!(connections_for_descriptors(1024), 298);
        assert_eq!(connections_for_descriptors(64), 8);
        assert_eq!(connections_for_descriptors(u64::MAX), 16_384);
    }

    #[test]
    fn slow_bodies_get_time_in_proportion_to_their_size() {
        let limits = EdgeLimits::default();
        assert_eq!(limits.body_allowance(0), Duration::from_secs(30));
        assert_eq!(limits.body_allowance(10 * 1024), Duration::from_secs(40));
    }
}
