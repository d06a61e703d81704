//! Progress of a long step, as the session's stream shows it: a step reports what it has done
//! (records, bytes; the total when known) as often as it likes, and at most one
//! `EXECUTION_PROGRESS` event per interval (`RuntimeConfig::progress_interval`, 1 s by
//! default) is written for the execution; the first report is written at once. The latest is
//! also in the execution's status (`progress`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::{json, Value};

/// Where progress goes (the engine writes it as an event of the execution).
#[async_trait]
pub trait ProgressSink: Send + Sync {
    async fn emit(&self, data: Value);
}

/// A step's progress reporter (a no-op outside an execution).
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn ProgressSink>>,
    every: Duration,
    last: Arc<Mutex<Option<Instant>>>,
}

impl Progress {
    pub fn new(sink: Arc<dyn ProgressSink>, every: Duration) -> Self {
        Progress {
            sink: Some(sink),
            every,
            last: Arc::default(),
        }
    }

    /// Reports `done` of `total` (when known) `unit`s (`records`, `bytes`); `extra` fields are
    /// added to the event. Written only if the last one is at least the interval old.
    pub async fn report(&self, done: u64, total: Option<u64>, unit: &str, extra: Value) {
        let Some(sink) = &self.sink else {
            return;
        };
        {
            let mut last = self.last.lock();
            let now = Instant::now();
            if last.is_some_and(|at| now.duration_since(at) < self.every) {
                return;
            }
            *last = Some(now);
        }
        let mut data = json!({"done": done, "total": total, "unit": unit});
        if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                d.entry(k.clone()).or_insert(v.clone());
            }
        }
        sink.emit(data).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Kept(Mutex<Vec<Value>>);

    #[async_trait]
    impl ProgressSink for Kept {
        async fn emit(&self, data: Value) {
            self.0.lock().push(data);
        }
    }

    #[tokio::test]
    async fn at_most_one_report_per_interval_the_first_at_once() {
        let kept = Arc::new(Kept(Mutex::new(Vec::new())));
        let p = Progress::new(kept.clone(), Duration::from_secs(3600));
        p.report(10, Some(100), "records", json!({"file": "f"}))
            .await;
        p.report(20, Some(100), "records", json!({})).await;
        p.report(30, Some(100), "records", json!({})).await;
        assert_eq!(
            *kept.0.lock(),
            [json!({"done": 10, "total": 100, "unit": "records", "file": "f"})]
        );
        // Outside an execution: nothing, and no panic.
        Progress::default()
            .report(1, None, "records", json!({}))
            .await;
    }
}
