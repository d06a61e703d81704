//! Streaming blob content to the runtime as a request body, at most `limit` bytes. The reader
//! is borrowed, so the body is fed from this task through a small channel while the request is
//! in flight. Past the limit the body ends just over it (the runtime refuses it, keeping
//! nothing); a failing reader aborts the body.

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::runtime::RuntimeError;
use crate::store::blobs::BlobReader;

const CHUNK: usize = 64 * 1024;

pub type Chunk = Result<Bytes, std::io::Error>;

/// A body for the request and the sender feeding it.
pub fn channel() -> (mpsc::Sender<Chunk>, reqwest::Body) {
    let (tx, rx) = mpsc::channel(4);
    (tx, reqwest::Body::wrap_stream(ReceiverStream::new(rx)))
}

/// Copies `content` into the body. Ends the body cleanly at the end of `content`; aborts it on
/// a read failure or past `limit`.
pub async fn pump(
    mut content: BlobReader<'_>,
    limit: u64,
    tx: mpsc::Sender<Chunk>,
) -> Result<(), RuntimeError> {
    let mut total: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match content.read(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other("reader failed"))).await;
                return Err(RuntimeError::Internal(format!("reading the content: {e}")));
            }
        };
        if n == 0 {
            return Ok(());
        }
        total += n as u64;
        if total > limit {
            // The chunk that crosses the limit goes too: the runtime refuses it (413) and
            // removes what it wrote before answering, so nothing is left when this returns.
            let _ = tx.send(Ok(Bytes::copy_from_slice(&buf[..n]))).await;
            return Err(RuntimeError::TooLarge(limit));
        }
        if tx
            .send(Ok(Bytes::copy_from_slice(&buf[..n])))
            .await
            .is_err()
        {
            // The request ended early: its answer says why.
            return Ok(());
        }
    }
}
