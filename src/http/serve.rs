//! Serving a router on a listener until a shutdown signal, with graceful draining: our own
//! accept loop over hyper's HTTP/1 connections, so that the edge's limits hold (`EdgeLimits`):
//! a cap on open connections (over it: 503 and close), header, idle and body timeouts, and
//! `TCP_NODELAY` on every socket (small answers go out at once, not after a delayed ACK).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, StatusCode};
use http_body::Body as HttpBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::body_deadline::DeadlineBody;
use super::conn_clock::{ConnClock, Expired};
use super::edge_io::{at_capacity_answer, EdgeIo};
use super::limits::EdgeLimits;

/// Refusals that wait a little for the client's request; past this many at once a connection
/// over the cap is answered without waiting.
const MAX_REFUSALS: usize = 32;
/// How long a refusal waits for the request to arrive.
const REQUEST_WAIT: Duration = Duration::from_millis(50);
/// How long a refusal may take in all (to see the client go after the answer).
const REFUSAL_TIME: Duration = Duration::from_millis(250);

pub fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: EdgeLimits,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(accept_loop(listener, router, limits, shutdown))
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    limits: EdgeLimits,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let seats = Arc::new(Semaphore::new(
        limits.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let connections = TaskTracker::new();
    let mut stop = shutdown.clone();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to be freed.
                tracing::warn!(error = %e, "accept failed; retrying in a second");
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        match seats.clone().try_acquire_owned() {
            Ok(seat) => {
                let clock = Arc::new(ConnClock::default());
                let io = EdgeIo::new(stream, clock.clone(), seat);
                connections.spawn(connection(
                    io,
                    remote,
                    clock,
                    router.clone(),
                    limits.clone(),
                    shutdown.clone(),
                ));
            }
            Err(_) => match refusals.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(REFUSAL_TIME, refuse(stream)).await;
                        drop(permit);
                    });
                }
                Err(_) => refuse_now(&stream),
            },
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Answers 503 `server_at_capacity` and closes, once the request has come (closing with unread
/// input would reset the connection and lose the answer), and lets the client go first.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REQUEST_WAIT, stream.readable()).await;
    refuse_now(&stream);
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 1024];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// Reads what the client has sent so far and writes the 503, without waiting.
fn refuse_now(stream: &TcpStream) {
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match stream.try_read(&mut sink) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = stream.try_write(&at_capacity_answer());
}

async fn connection(
    io: EdgeIo,
    remote: SocketAddr,
    clock: Arc<ConnClock>,
    router: axum::Router,
    limits: EdgeLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = {
        let clock = clock.clone();
        let limits = limits.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let in_flight = clock.begin();
            let (parts, body) = req.into_parts();
            let (body, body_read) = DeadlineBody::new(body, limits.clone());
            let mut req = Request::from_parts(parts, Body::new(body));
            req.extensions_mut().insert(ConnectInfo(remote));
            let answer = router.clone().oneshot(req);
            async move {
                let mut response = answer.await.unwrap_or_else(|e: Infallible| match e {});
                // Answered before its body was read (a refusal): the rest of the body cannot be
                // told from the next request, so the connection closes — and says so.
                if !body_read.load(Ordering::Relaxed)
                    && response.status() != StatusCode::SWITCHING_PROTOCOLS
                {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                // The request is in flight until its answer's body is done with.
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(Guarded {
                        body,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    // The connection's clock keeps the header timeout (hyper's would also run while idle).
    http.timer(TokioTimer::new()).header_read_timeout(None);
    let conn = http
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let deadline = clock.deadline(limits.header_timeout, limits.idle_timeout);
        let wait = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = shutdown.wait_for(|s| *s), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = clock.changed() => {}
            _ = wait => match clock.expired(limits.header_timeout, limits.idle_timeout) {
                Some(Expired::Header) => return,
                Some(Expired::Idle) if !closing => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
                Some(Expired::Idle) => return,
                None => {}
            },
        }
    }
}

/// A response body that keeps its request in flight until it is dropped.
struct Guarded {
    body: Body,
    _in_flight: super::conn_clock::InFlight,
}

impl HttpBody for Guarded {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
