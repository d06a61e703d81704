//! One accepted connection's socket as the HTTP server sees it: it holds the connection's seat
//! under the cap (upgraded WebSockets keep it until they close), tells the connection's clock
//! when bytes arrive, and rewrites the bare answers hyper sends by itself for requests it cannot
//! parse (400, 414, 431 with an empty body) into the contract's error shape.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use super::conn_clock::ConnClock;

pub struct EdgeIo {
    stream: TcpStream,
    clock: Arc<ConnClock>,
    _seat: OwnedSemaphorePermit,
    /// A rewritten answer still being written, and how much of it is written.
    rewritten: Option<(Vec<u8>, usize)>,
}

impl EdgeIo {
    pub fn new(stream: TcpStream, clock: Arc<ConnClock>, seat: OwnedSemaphorePermit) -> Self {
        Self {
            stream,
            clock,
            _seat: seat,
            rewritten: None,
        }
    }

    fn poll_rewritten(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = self.rewritten.as_mut() {
            if *written == bytes.len() {
                self.rewritten = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for EdgeIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.clock.bytes_read();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for EdgeIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_rewritten(cx))?;
        if !this.clock.busy() {
            if let Some(answer) = contract_answer(buf) {
                this.rewritten = Some((answer, 0));
                // Written as far as it goes now; flush and shutdown finish it.
                let _ = this.poll_rewritten(cx)?;
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_rewritten(cx))?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_rewritten(cx))?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

/// hyper's own answer to a request it could not parse is a bare head: a 4xx status line, no
/// `content-type`, nothing after the blank line. The same answer in the contract's shape.
fn contract_answer(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written).ok()?;
    let status = head.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    if !head.ends_with("\r\n\r\n") || head.to_ascii_lowercase().contains("\r\ncontent-type:") {
        return None;
    }
    let (reason, code, message) = match status {
        "400" => (
            "Bad Request",
            "malformed_request",
            "the request could not be parsed",
        ),
        "414" => (
            "URI Too Long",
            "uri_too_long",
            "the request target is too long",
        ),
        "431" => (
            "Request Header Fields Too Large",
            "headers_too_large",
            "the request headers are too large",
        ),
        _ => return None,
    };
    let body =
        json!({"success": false, "error": code, "message": message, "detail": message}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// The answer to a connection over the cap, written before it is closed.
pub fn at_capacity_answer() -> Vec<u8> {
    let message = "the server is at its connection limit; try again shortly";
    let body = json!({"success": false, "error": "server_at_capacity", "message": message, "detail": message})
        .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_hypers_bare_error_heads() {
        let bare =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = String::from_utf8(contract_answer(bare).unwrap()).unwrap();
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        let body: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["error"], "headers_too_large");
        // An application's answer (it has a content type and a body) is left alone.
        let app = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert!(contract_answer(app).is_none());
        assert!(contract_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
