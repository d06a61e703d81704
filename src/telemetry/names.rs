//! Every metric the server records: its name, and (in `describe`) what it counts. Names follow
//! Prometheus conventions: `_total` for counters, `_seconds` for durations.

/// Executions accepted and started for the first time, by `intent_type`.
pub const EXECUTIONS_STARTED: &str = "symphainy_executions_started_total";
/// Executions resumed after a restart or takeover, by `intent_type`.
pub const EXECUTIONS_RESUMED: &str = "symphainy_executions_resumed_total";
/// Executions that ended, by `intent_type` and `status` (completed, failed, cancelled).
pub const EXECUTIONS_FINISHED: &str = "symphainy_executions_finished_total";
/// How long an execution took from acceptance to its end, by `intent_type` and `status`.
pub const EXECUTION_SECONDS: &str = "symphainy_execution_duration_seconds";
/// How long one run of a step took, by `intent_type`, `step` and `outcome` (ok, error, cancelled).
pub const STEP_SECONDS: &str = "symphainy_step_duration_seconds";
/// Events committed per event-log batch.
pub const EVENT_BATCH_SIZE: &str = "symphainy_event_log_batch_size";
/// How long an event-log batch took to commit.
pub const EVENT_COMMIT_SECONDS: &str = "symphainy_event_log_commit_seconds";
/// Session actors alive now.
pub const SESSIONS_ACTIVE: &str = "symphainy_sessions_active";
/// Session actors started (a session activated from the store).
pub const SESSION_ACTIVATIONS: &str = "symphainy_session_activations_total";
/// Session actors stopped after being idle.
pub const SESSION_PASSIVATIONS: &str = "symphainy_session_passivations_total";
/// Children restarted by a supervisor, by `kind` (router, session, execution, agent, …).
pub const ACTOR_RESTARTS: &str = "symphainy_actor_restarts_total";
/// HTTP requests answered, by `plane`, `route` (the matched pattern), `method` and `status`.
pub const HTTP_REQUESTS: &str = "symphainy_http_requests_total";
/// How long an HTTP request took, by `plane` and `route`.
pub const HTTP_SECONDS: &str = "symphainy_http_request_duration_seconds";
/// Agent WebSockets open now.
pub const AGENT_SOCKETS: &str = "symphainy_agent_sockets_open";
/// Live subscribers to sessions' event streams now.
pub const EVENT_SUBSCRIBERS: &str = "symphainy_event_subscribers";
/// Requests refused by a rate or intake limit, by `limit`.
pub const RATE_LIMITED: &str = "symphainy_rate_limit_rejections_total";
/// Password hashes waiting for or running on the blocking pool now.
pub const LOGIN_HASHES_QUEUED: &str = "symphainy_login_hashes_queued";

/// Partitions this cluster node holds now (PostgreSQL; a single SQLite node reports none).
pub const CLUSTER_PARTITIONS_HELD: &str = "symphainy_cluster_partitions_held";
/// Partitions that changed hands at this node, by `change`: taken, lost (taken over by
/// another node), handed (given back to even the shares).
pub const CLUSTER_PARTITION_CHANGES: &str = "symphainy_cluster_partition_changes_total";

/// Registers each metric's help text with the recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        EXECUTIONS_STARTED,
        "Executions started for the first time, by intent type."
    );
    describe_counter!(
        EXECUTIONS_RESUMED,
        "Executions resumed after a restart, by intent type."
    );
    describe_counter!(
        EXECUTIONS_FINISHED,
        "Executions ended, by intent type and status."
    );
    describe_histogram!(
        EXECUTION_SECONDS,
        Unit::Seconds,
        "Execution time from acceptance to end."
    );
    describe_histogram!(
        STEP_SECONDS,
        Unit::Seconds,
        "Duration of one run of a saga step."
    );
    describe_histogram!(
        EVENT_BATCH_SIZE,
        Unit::Count,
        "Events committed per event-log batch."
    );
    describe_histogram!(
        EVENT_COMMIT_SECONDS,
        Unit::Seconds,
        "Event-log batch commit time."
    );
    describe_gauge!(SESSIONS_ACTIVE, "Session actors alive.");
    describe_counter!(SESSION_ACTIVATIONS, "Session actors activated.");
    describe_counter!(
        SESSION_PASSIVATIONS,
        "Session actors passivated after being idle."
    );
    describe_counter!(ACTOR_RESTARTS, "Supervised children restarted, by kind.");
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests, by plane, route, method and status."
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "HTTP request duration, by plane and route."
    );
    describe_gauge!(AGENT_SOCKETS, "Agent WebSockets open.");
    describe_gauge!(EVENT_SUBSCRIBERS, "Live event-stream subscribers.");
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by a rate or intake limit, by limit."
    );
    describe_gauge!(LOGIN_HASHES_QUEUED, "Password hashes queued or running.");
    describe_gauge!(
        CLUSTER_PARTITIONS_HELD,
        "Session partitions this cluster node holds."
    );
    describe_counter!(
        CLUSTER_PARTITION_CHANGES,
        "Partitions taken, lost or handed over by this node."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&str; 19] = [
        EXECUTIONS_STARTED,
        EXECUTIONS_RESUMED,
        EXECUTIONS_FINISHED,
        EXECUTION_SECONDS,
        STEP_SECONDS,
        EVENT_BATCH_SIZE,
        EVENT_COMMIT_SECONDS,
        SESSIONS_ACTIVE,
        SESSION_ACTIVATIONS,
        SESSION_PASSIVATIONS,
        ACTOR_RESTARTS,
        HTTP_REQUESTS,
        HTTP_SECONDS,
        AGENT_SOCKETS,
        EVENT_SUBSCRIBERS,
        RATE_LIMITED,
        LOGIN_HASHES_QUEUED,
        CLUSTER_PARTITIONS_HELD,
        CLUSTER_PARTITION_CHANGES,
    ];

    /// Every `symphainy_…` name in a text, histogram suffixes taken off.
    fn named(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("symphainy_") {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|b| ALL.contains(b)))
                .unwrap_or(name);
            out.push(base.to_string());
            rest = &tail[end..];
        }
        out
    }

    #[test]
    fn the_dashboard_and_the_docs_name_only_real_metrics() {
        let dashboard = include_str!("../../docs/grafana-dashboard.json");
        let docs = include_str!("../../docs/operations.md");
        let on_dashboard = named(dashboard);
        for name in on_dashboard.iter().chain(named(docs).iter()) {
            assert!(ALL.contains(&name.as_str()), "{name} is not a metric");
        }
        // And every metric is on the dashboard.
        for name in ALL {
            assert!(
                on_dashboard.iter().any(|n| n == name),
                "{name} is not shown"
            );
        }
    }
}
