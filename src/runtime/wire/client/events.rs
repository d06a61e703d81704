//! A session's events from the runtime's `GET /api/events` (Server-Sent Events), as one stream
//! that outlives the connection: when it drops (the runtime restarts, the network breaks, no
//! keep-alive for a while) it reconnects with backoff from the last `seq` it delivered, so the
//! consumer sees every event once and in order. It ends only when the consumer drops it or the
//! session is no longer visible.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::HttpRuntimeClient;
use crate::runtime::contract::model::{RuntimeEvent, Scope};
use crate::runtime::wire::server::events::KEEP_ALIVE_SECS;
use crate::runtime::{EventStream, RuntimeError};

/// Three missed keep-alives without a byte mean a dead connection.
const SILENCE: Duration = Duration::from_secs(3 * KEEP_ALIVE_SECS);
/// How long a stream's opening may take.
const OPEN_WITHIN: Duration = Duration::from_secs(5);
/// The pause before the first try to reconnect (the runtime may be restarting).
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// Then tries twice as far apart each time (from 200 ms), at most 2 s apart, for as long as
/// it takes.
const RECONNECT: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(200))
    .with_max_delay(Duration::from_secs(2))
    .without_max_times();

pub async fn subscribe(
    client: HttpRuntimeClient,
    scope: Scope,
    session_id: String,
    after_seq: i64,
) -> Result<EventStream, RuntimeError> {
    // The first connection is made here, so an unknown session or a runtime that is down is
    // the caller's error now, as in-process.
    let first = open(&client, &scope, &session_id, after_seq).await?;
    let (tx, rx) = mpsc::channel(256);
    let span = tracing::info_span!("runtime_events", session_id = %session_id);
    tokio::spawn(tracing::Instrument::instrument(
        follow(client, scope, session_id, after_seq, first, tx),
        span,
    ));
    Ok(Box::pin(ReceiverStream::new(rx)))
}

async fn open(
    client: &HttpRuntimeClient,
    scope: &Scope,
    session_id: &str,
    after_seq: i64,
) -> Result<reqwest::Response, RuntimeError> {
    let request = client
        .streaming(reqwest::Method::GET, &["api", "events"], scope)
        .query(&[
            ("session_id", session_id),
            ("after_seq", &after_seq.to_string()),
        ]);
    // A node that accepts the connection but does not answer (paused, overloaded): the stream
    // is opened at the next node instead (reading a stream twice runs nothing twice).
    match tokio::time::timeout(OPEN_WITHIN, client.answer(request)).await {
        Ok(answer) => answer,
        Err(_) => {
            client.skip_node();
            Err(RuntimeError::Unavailable(
                "the runtime did not answer the event stream's opening in time".into(),
            ))
        }
    }
}

async fn follow(
    client: HttpRuntimeClient,
    scope: Scope,
    session_id: String,
    mut last: i64,
    mut response: reqwest::Response,
    tx: mpsc::Sender<Result<RuntimeEvent, RuntimeError>>,
) {
    loop {
        let mut events = response.bytes_stream().eventsource();
        loop {
            let next = tokio::select! {
                _ = tx.closed() => return,
                next = tokio::time::timeout(SILENCE, events.next()) => next,
            };
            let event = match next {
                Ok(Some(Ok(event))) => event,
                Ok(Some(Err(e))) => {
                    tracing::warn!(error = %e, last_seq = last, "event stream broke");
                    break;
                }
                Ok(None) => {
                    tracing::info!(last_seq = last, "event stream ended");
                    break;
                }
                Err(_) => {
                    tracing::warn!(last_seq = last, "event stream silent; reconnecting");
                    break;
                }
            };
            if event.event != "runtime_event" {
                continue;
            }
            match serde_json::from_str::<RuntimeEvent>(&event.data) {
                // Replays after a reconnect may repeat what was delivered: skipped.
                Ok(e) if e.seq > last => {
                    last = e.seq;
                    if tx.send(Ok(e)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "an event the runtime sent does not parse"),
            }
        }
        response = match reconnect(&client, &scope, &session_id, last, &tx).await {
            Some(r) => r,
            None => return,
        };
        tracing::info!(last_seq = last, "event stream resumed");
    }
}

/// Retries with backoff until the stream opens again; `None` when the consumer left or the
/// session is gone (the consumer is told why).
async fn reconnect(
    client: &HttpRuntimeClient,
    scope: &Scope,
    session_id: &str,
    last: i64,
    tx: &mpsc::Sender<Result<RuntimeEvent, RuntimeError>>,
) -> Option<reqwest::Response> {
    let mut first = true;
    let reopen = async {
        tokio::time::sleep(FIRST_RETRY).await;
        (|| open(client, scope, session_id, last))
            .retry(RECONNECT)
            .when(|e| outage(e).is_some())
            .notify(|e, _| {
                let why = outage(e).unwrap_or_default();
                if std::mem::take(&mut first) {
                    tracing::warn!(%why, "cannot reopen the event stream; retrying");
                } else {
                    tracing::debug!(%why, "runtime not back yet");
                }
            })
            .await
    };
    let reopened = tokio::select! {
        _ = tx.closed() => return None,
        reopened = reopen => reopened,
    };
    match reopened {
        Ok(response) => Some(response),
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            None
        }
    }
}

/// Why the runtime cannot be reached, when that is the error (worth retrying).
fn outage(e: &RuntimeError) -> Option<&str> {
    match e {
        RuntimeError::Unavailable(why) | RuntimeError::Internal(why) => Some(why),
        _ => None,
    }
}
