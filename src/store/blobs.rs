//! Blob storage, content-addressed by SHA-256. The local implementation keeps blobs under
//! `<data dir>/blobs/ab/cdef…`; writes stream through a temporary file in the same directory
//! and are renamed into place (atomic), so a blob is either complete or absent. Another
//! backend (an object store) implements the same trait.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub sha256: String,
    pub size_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the content exceeds {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("no such blob")]
    NotFound,
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
}

pub type BlobReader<'a> = Pin<Box<dyn AsyncRead + Send + 'a>>;

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `content` into the store, at most `limit` bytes (beyond it nothing is kept).
    async fn put(&self, content: BlobReader<'_>, limit: u64) -> Result<BlobInfo, BlobError>;
    /// A blocking reader (for parsers running on the blocking pool).
    fn open_blocking(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError>;
    async fn exists(&self, sha256: &str) -> bool;
    /// Removes a blob (callers first make sure nothing references it).
    async fn delete(&self, sha256: &str) -> Result<(), BlobError>;
}

pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root })
    }

    fn path_of(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        // Only ever a hex digest: a name from outside can never become a path.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BlobError::NotFound);
        }
        Ok(self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, mut content: BlobReader<'_>, limit: u64) -> Result<BlobInfo, BlobError> {
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::new_v4()));
        let result = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = content.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > limit {
                    return Err(BlobError::TooLarge { limit });
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n]).await?;
            }
            file.sync_all().await?;
            Ok(BlobInfo {
                sha256: hex::encode(hasher.finalize()),
                size_bytes: size,
            })
        }
        .await;
        match result {
            Ok(info) => {
                let dest = self.path_of(&info.sha256)?;
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                // Same content twice: the first copy stays, the second is dropped.
                if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
                    let _ = tokio::fs::remove_file(&tmp).await;
                } else {
                    tokio::fs::rename(&tmp, &dest).await?;
                }
                Ok(info)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    fn open_blocking(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError> {
        let path = self.path_of(sha256)?;
        match std::fs::File::open(path) {
            Ok(f) => Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    async fn exists(&self, sha256: &str) -> bool {
        match self.path_of(sha256) {
            Ok(p) => tokio::fs::try_exists(p).await.unwrap_or(false),
            Err(_) => false,
        }
    }

    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(sha256)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &'static [u8]) -> BlobReader<'static> {
        Box::pin(bytes)
    }

    #[tokio::test]
    async fn stores_by_content_and_refuses_oversized_content_leaving_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path()).unwrap();
        let a = store.put(reader(b"hello"), 100).await.unwrap();
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(a.size_bytes, 5);
        let again = store.put(reader(b"hello"), 100).await.unwrap();
        assert_eq!(again, a);
        let mut s = String::new();
        store
            .open_blocking(&a.sha256)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello");

        let err = store.put(reader(b"0123456789"), 4).await.unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 4 }));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0,
            "no temp file left"
        );

        assert!(matches!(
            store.open_blocking("../../etc/passwd"),
            Err(BlobError::NotFound)
        ));
        store.delete(&a.sha256).await.unwrap();
        assert!(!store.exists(&a.sha256).await);
    }
}
