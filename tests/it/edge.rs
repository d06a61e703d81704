//! The limits every listener enforces at the edge (`EdgeLimits`), over real sockets on both
//! planes: the connection cap (503 in the contract's shape, upgraded sockets counted), the
//! header, idle and body timeouts, and TCP_NODELAY on every accepted socket. Timeouts are set
//! short here so that each test takes a fraction of a second.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::raw::{addr, parse_answer, read_to_close};
use crate::common::*;
use serde_json::{json, Value};
use symphainy::http::limits::EdgeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough never to fire in a test unless the test is about it.
const NEVER: Duration = Duration::from_secs(600);
/// Generous bound for "the server acts on a short timeout" (not a timing assertion: a hang
/// fails instead of blocking the suite).
const WITHIN: Duration = Duration::from_secs(10);

fn limits(max_connections: usize) -> EdgeLimits {
    EdgeLimits {
        max_connections,
        header_timeout: NEVER,
        idle_timeout: NEVER,
        body_timeout: NEVER,
        body_min_rate: 1024,
    }
}

async fn app_with(edge: EdgeLimits) -> (TestDb, TestApp) {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.edge = edge;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    (db, t)
}

/// One request on a new connection that asks to be closed after it.
async fn raw_request(base: &str, head: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr(base)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    parse_answer(&read_to_close(&mut stream).await)
}

const HEALTH: &str = "GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_answered_503_and_closed_on_both_planes() {
    let (_db, t) = app_with(limits(2)).await;
    for base in [t.exp.clone(), t.base.clone()] {
        // Two silent connections take both seats (accepted in order, before the third).
        let first = TcpStream::connect(addr(&base)).await.unwrap();
        let _second = TcpStream::connect(addr(&base)).await.unwrap();
        let (status, body) = raw_request(&base, HEALTH).await;
        assert_error(status, &body, 503, "server_at_capacity");
        // A seat freed is a seat for the next client.
        drop(first);
        let body = eventually(WITHIN, || async {
            let (status, body) = raw_request(&base, HEALTH).await;
            if status == 200 {
                return Some(body);
            }
            assert_error(status, &body, 503, "server_at_capacity");
            None
        })
        .await;
        assert_eq!(body["status"], "healthy");
    }
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_stream_holds_a_seat_under_the_cap() {
    let (_db, t) = app_with(limits(2)).await;
    // Set up through the Runtime Plane: no connection to the Experience Plane but the test's.
    let session = t.create_session(None).await;
    let (s, r) = t
        .submit(json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "slow", "delay_ms": 30000}}))
        .await;
    assert_eq!(s, 202, "{r}");
    let url = format!(
        "{}/api/execution/{}/stream",
        t.exp.replace("http://", "ws://"),
        r["execution_id"].as_str().unwrap()
    );
    let (mut status_ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    use futures::StreamExt;
    let first = status_ws.next().await.unwrap().unwrap();
    assert!(first.is_text(), "{first:?}");
    // The upgraded stream keeps its seat: with one more connection the plane is full.
    let _silent = TcpStream::connect(addr(&t.exp)).await.unwrap();
    let (status, body) = raw_request(&t.exp, HEALTH).await;
    assert_error(status, &body, 503, "server_at_capacity");
    drop(status_ws);
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_headers_are_cut_at_the_header_timeout() {
    let (_db, t) = app_with(EdgeLimits {
        header_timeout: Duration::from_millis(300),
        ..limits(100)
    })
    .await;
    for base in [t.exp.clone(), t.base.clone()] {
        let mut stream = TcpStream::connect(addr(&base)).await.unwrap();
        let (mut rd, mut wr) = stream.split();
        // A byte every 20 ms, never finishing the headers (the idle timeout is far away).
        let trickle = async {
            wr.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
            loop {
                if wr.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let closed = async {
            let mut buf = [0u8; 1024];
            let n = rd.read(&mut buf).await.unwrap_or(0);
            assert_eq!(n, 0, "no answer expected to unfinished headers");
        };
        tokio::time::timeout(WITHIN, async {
            tokio::select! {
                _ = trickle => {}
                _ = closed => {}
            }
        })
        .await
        .expect("the server cuts trickled headers");
    }
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_at_the_idle_timeout() {
    let (_db, t) = app_with(EdgeLimits {
        idle_timeout: Duration::from_millis(300),
        ..limits(100)
    })
    .await;
    for base in [t.exp.clone(), t.base.clone()] {
        // Silent from the start.
        let mut silent = TcpStream::connect(addr(&base)).await.unwrap();
        assert_eq!(read_to_close(&mut silent).await, "");
        // Kept alive after a request, then silent.
        let mut kept = TcpStream::connect(addr(&base)).await.unwrap();
        kept.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let (status, body) = parse_answer(&read_to_close(&mut kept).await);
        assert_eq!((status, &body["status"]), (200, &json!("healthy")));
    }
    t.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_gets_408_in_the_contract_shape() {
    let (_db, t) = app_with(EdgeLimits {
        body_timeout: Duration::from_millis(300),
        body_min_rate: 1024,
        ..limits(100)
    })
    .await;
    let token = t.token.clone();
    let json = "content-type: application/json\r\n";
    let form = "content-type: multipart/form-data; boundary=XYZ\r\n";
    let file_part = "--XYZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\ncontent-type: text/csv\r\n\r\na,b\r\n";
    for (base, path, headers, start) in [
        (
            t.exp.clone(),
            "/api/session/create-anonymous".to_string(),
            json.to_string(),
            "{",
        ),
        (
            t.base.clone(),
            "/api/session/create".to_string(),
            format!("authorization: Bearer {token}\r\n{json}"),
            "{",
        ),
        // An upload, streamed to the blob store as it comes (both planes' upload paths).
        (
            t.exp.clone(),
            "/api/v1/content/upload".to_string(),
            form.to_string(),
            file_part,
        ),
        (
            t.base.clone(),
            "/api/blobs?limit=1000000".to_string(),
            format!("authorization: Bearer {token}\r\ncontent-type: application/octet-stream\r\n"),
            "a,b\n",
        ),
    ] {
        let mut stream = TcpStream::connect(addr(&base)).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\n{headers}content-length: 10000\r\n\r\n{start}"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let (mut rd, mut wr) = stream.split();
        // A byte every 20 ms: far under the minimum rate.
        let trickle = async {
            loop {
                if wr.write_all(b" ").await.is_err() {
                    return std::future::pending::<()>().await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let answer = async {
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => return String::from_utf8_lossy(&out).into_owned(),
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
        };
        let raw = tokio::time::timeout(WITHIN, async {
            tokio::select! {
                _ = trickle => unreachable!(),
                raw = answer => raw,
            }
        })
        .await
        .expect("the server answers a trickled body");
        let (status, body) = parse_answer(&raw);
        assert_error(status, &body, 408, "request_timeout");
        assert!(raw.contains("connection: close"), "{path}: {raw}");
    }
    t.app.shutdown().await;
}

/// TCP_NODELAY of the server's end of the connection from `client` to `server`, found among
/// this process's descriptors (the server runs in the test process).
fn server_side_nodelay(server: SocketAddr, client: SocketAddr) -> Option<bool> {
    use std::os::fd::BorrowedFd;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: the descriptor is only inspected, while this process holds it open (a
        // descriptor closed meanwhile fails the calls below, which is fine).
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        let (Ok(local), Ok(peer)) = (sock.local_addr(), sock.peer_addr()) else {
            continue;
        };
        if local.as_socket() == Some(server) && peer.as_socket() == Some(client) {
            return sock.tcp_nodelay().ok();
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_sockets_have_tcp_nodelay_on_both_planes() {
    let (_db, t) = app_with(limits(100)).await;
    for base in [t.exp.clone(), t.base.clone()] {
        let server = addr(&base);
        let mut stream = TcpStream::connect(server).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        // Answered: the server holds its end.
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        let client = stream.local_addr().unwrap();
        assert_eq!(server_side_nodelay(server, client), Some(true), "{base}");
    }
    t.app.shutdown().await;
}

/// Reads the status stream until it closes; the close frame's code and reason.
async fn stream_close(ws: &mut crate::common::ws::Ws) -> (u16, String) {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let msg = tokio::time::timeout(WITHIN, ws.next())
            .await
            .expect("the stream closes in time");
        match msg {
            Some(Ok(Message::Close(Some(f)))) => return (u16::from(f.code), f.reason.to_string()),
            Some(Ok(_)) => continue,
            other => panic!("the stream ended without a close frame: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_execution_stream_is_closed_at_the_idle_timeout() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.ws_idle = Duration::from_millis(400);
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.create_session(None).await;
    let (s, r) = t
        .submit(json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "slow", "delay_ms": 2000}}))
        .await;
    assert_eq!(s, 202, "{r}");
    let url = format!(
        "{}/api/execution/{}/stream",
        t.exp.replace("http://", "ws://"),
        r["execution_id"].as_str().unwrap()
    );
    // A client that reads answers the server's pings: it is never idle, and sees the end.
    let (mut reading, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    // A client that reads nothing (so answers no ping) is closed as idle.
    let (mut silent, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (code, reason) = stream_close(&mut reading).await;
    assert_eq!((code, reason.as_str()), (1000, "execution finished"));
    let (code, reason) = stream_close(&mut silent).await;
    assert_eq!((code, reason.as_str()), (1000, "Idle timeout"));
    t.app.shutdown().await;
}

/// The binary's `serve` under a file-descriptor limit of `nofile` (as `ulimit -n` sets it);
/// its Runtime and Experience base URLs.
async fn serve_with_fd_limit(db: &TestDb, nofile: u32) -> (tokio::process::Child, String, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" serve"))
        .arg(env!("CARGO_BIN_EXE_symphainy"))
        .env("SYMPHAINY_DATA_DIR", db.data_dir())
        .env("DATABASE_URL", &db.url)
        .env("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0")
        .env("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0")
        .env("SYMPHAINY_SERVICE_TOKEN", "fd-limit-token")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WITHIN * 3, lines.next_line())
        .await
        .expect("the listening line in time")
        .unwrap()
        .expect("a listening line");
    let url = |name: &str| {
        line.split_whitespace()
            .find_map(|p| p.strip_prefix(name))
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    (child, url("runtime="), url("experience="))
}

/// The incident: with 512 descriptors, 560 silent sockets on the public plane used to stop
/// both planes. With the default cap (a third of the descriptors after a reserve), the public
/// plane answers 503 at once and the internal one goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_cannot_exhaust_the_descriptors_of_both_planes() {
    let db = sqlite_db();
    let (mut child, base, exp) = serve_with_fd_limit(&db, 512).await;
    let mut silent = Vec::new();
    for _ in 0..560 {
        silent.push(Some(TcpStream::connect(addr(&exp)).await.unwrap()));
    }
    // The plane keeps 128 of them (a third of 512 after 128 spare) and refuses the others.
    let kept = eventually(WITHIN, || {
        for slot in silent.iter_mut() {
            let refused = slot.as_ref().is_some_and(|s| {
                let mut buf = [0u8; 512];
                !matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            });
            if refused {
                *slot = None;
            }
        }
        let kept = silent.iter().flatten().count();
        std::future::ready((kept <= 128).then_some(kept))
    })
    .await;
    assert_eq!(kept, 128);
    let (status, body) = raw_request(&exp, HEALTH).await;
    assert_error(status, &body, 503, "server_at_capacity");
    let (status, body) = raw_request(&base, HEALTH).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("healthy")),
        "{body}"
    );
    // The silent ones gone, the public plane serves again.
    drop(silent);
    eventually(WITHIN, || async {
        (raw_request(&exp, HEALTH).await.0 == 200).then_some(())
    })
    .await;
    child.kill().await.unwrap();
}

/// An agent socket whose client stops reading (its buffers full of events) but keeps sending,
/// so that it is never idle, used to hold its connection, and so its seat, for ever once it
/// was told to go (1013): the close could not be written. The writer lets it go after
/// `SYMPHAINY_WS_IDLE_SECS` without progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_socket_that_reads_nothing_gives_up_its_seat() {
    use futures::{SinkExt, StreamExt};
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.edge = limits(1);
    config.experience.ws_idle = Duration::from_millis(500);
    config.experience.ws_outbound_queue = 32;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    // Set up through the Runtime Plane: the socket is the Experience Plane's only connection.
    let session = t.create_session(None).await;
    // A small receive buffer (the kernel would grow it to tens of MB otherwise).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let stream = socket.connect(addr(&t.exp)).await.unwrap();
    let url = format!(
        "{}/api/runtime/agent?session_id={session}",
        t.exp.replace("http://", "ws://")
    );
    let (ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let (mut to_server, from_server) = ws.split();
    // Pings every 100 ms: never idle; nothing is read.
    let pinger = tokio::spawn(async move {
        let ping = tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "ping"}).to_string().into(),
        );
        while to_server.send(ping.clone()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // ~9 MB of events: more than the socket buffers hold.
    let pad = "x".repeat(60_000);
    for i in 0..150 {
        let e = symphainy::store::NewEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            session_id: session.clone(),
            event_type: "TEST".into(),
            execution_id: None,
            event_key: Some(format!("fill-{i}")),
            data: json!({"pad": pad}),
            created_at: 0,
        };
        t.app.runtime.ctx.events.append(e, None).await.unwrap();
    }
    // The seat comes free while the client still holds its end.
    eventually(WITHIN, || async {
        let (status, body) = raw_request(&t.exp, HEALTH).await;
        if status == 200 {
            return Some(());
        }
        assert_error(status, &body, 503, "server_at_capacity");
        None
    })
    .await;
    pinger.abort();
    drop(from_server);
    t.app.shutdown().await;
}
