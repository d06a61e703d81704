//! Raw HTTP/1.1 over a TCP socket, for what an HTTP client library will not send or hides:
//! malformed requests, silent or trickling clients, the exact headers of an answer.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The socket address of an `http://host:port` base URL.
pub fn addr(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

/// Everything the server sends until it closes the connection (10 s at most: a hang panics).
pub async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection in time");
    String::from_utf8_lossy(&out).into_owned()
}

/// Status code and JSON body (`Null` when not JSON) of a raw HTTP/1.1 answer.
pub fn parse_answer(raw: &str) -> (u16, Value) {
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {raw:?}"));
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The value of header `name` (lower-case) in a raw answer.
pub fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Sends `request` on a new connection; the whole answer, read until the server closes.
pub async fn exchange(base: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr(base)).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_to_close(&mut stream).await
}
