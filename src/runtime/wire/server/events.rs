//! `GET /api/events?session_id=&after_seq=&tenant_id=`: the session's events as Server-Sent
//! Events (`id` = seq, `event: runtime_event`, data = the event JSON). Stored events after
//! `after_seq` (or the `Last-Event-ID` header) come first, then live ones. The stream ends when
//! the server shuts down; a client resumes from the last `id` it saw.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures::StreamExt;
use serde::Deserialize;

use super::scope::CallerScope;
use super::RuntimeApiState;
use crate::http::{ApiError, ApiQuery};

/// Seconds between keep-alive comments on an idle stream.
pub const KEEP_ALIVE_SECS: u64 = 15;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    pub session_id: String,
    #[serde(default)]
    pub after_seq: Option<i64>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[utoipa::path(
    get, path = "/api/events", tag = "events", security(("service_token" = [])), params(EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event's `seq`")),
    responses(
        (status = 200, description = "Server-sent events: the session's events from `after_seq` on, then live (id = `seq`)", content_type = "text/event-stream", body = String),
        crate::http::openapi::Refusals,
    )
)]
pub async fn stream_events(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let after = q.after_seq.or(last_event_id).unwrap_or(0);
    let stream = state
        .client
        .subscribe(&scope.or_tenant(q.tenant_id), &q.session_id, after)
        .await?;
    let mut shutdown = state.shutdown.clone();
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let sse = stream
        .take_until(stopping)
        .take_while(|item| futures::future::ready(item.is_ok()))
        .filter_map(|item| async move {
            let event = item.ok()?;
            let data = serde_json::to_string(&event).ok()?;
            Some(Ok::<Event, Infallible>(
                Event::default()
                    .id(event.seq.to_string())
                    .event("runtime_event")
                    .data(data),
            ))
        });
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(Duration::from_secs(KEEP_ALIVE_SECS))))
}
