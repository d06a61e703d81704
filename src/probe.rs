//! `symphainy healthcheck`: a minimal HTTP/1.0 probe of a health endpoint, so container images
//! need no curl. Exit status 0 when the endpoint answers 200 within the timeout. Every failure
//! names the URL probed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a probe found: an HTTP answer, or no answer at all.
#[derive(Debug)]
pub enum Probed {
    /// The endpoint answered with this status code (`"200"`, `"503"`, …).
    Answered(String),
    /// Nothing answered: the reason (connection refused, timeout, …), with the URL.
    Unreachable(anyhow::Error),
}

/// Exit-status semantics: `Ok` when `url` answers 200 within `timeout`.
pub async fn probe(url: &str, timeout: Duration) -> anyhow::Result<()> {
    match probe_status(url, timeout).await {
        Probed::Answered(code) if code == "200" => Ok(()),
        Probed::Answered(code) => Err(anyhow::anyhow!("{url} answered {code}")),
        Probed::Unreachable(e) => Err(e),
    }
}

/// GETs `url` (http:// only) and reads its status code.
pub async fn probe_status(url: &str, timeout: Duration) -> Probed {
    let Some(rest) = url.strip_prefix("http://") else {
        return Probed::Unreachable(anyhow::anyhow!(
            "cannot probe {url}: only http:// URLs can be probed"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let check = async {
        let mut stream = TcpStream::connect(authority).await?;
        let request =
            format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        let status_line = String::from_utf8_lossy(&head[..n]);
        Ok::<_, std::io::Error>(
            status_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string(),
        )
    };
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(code)) => Probed::Answered(code),
        Ok(Err(e)) => Probed::Unreachable(anyhow::anyhow!("cannot reach {url}: {e}")),
        Err(_) => Probed::Unreachable(anyhow::anyhow!("{url} did not answer within {timeout:?}")),
    }
}
