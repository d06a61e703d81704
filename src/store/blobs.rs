//! Blob storage, content-addressed by SHA-256. The local implementation keeps blobs under
//! `<data dir>/blobs/ab/cdef…`; writes stream through a temporary file in the same directory
//! and are renamed into place (atomic), so a blob is either complete or absent. Another
//! backend (an object store) implements the same trait.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::SystemTime;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BlobInfo {
    pub sha256: String,
    pub size_bytes: u64,
    /// Set when this `put` created the blob (it was not there before): its modification time
    /// in µs, so that `discard` can tell that no one stored the same content since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_micros: Option<i64>,
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
    /// Storing content that is already there refreshes its timestamp, so a collection never
    /// removes content someone has just stored.
    async fn put(&self, content: BlobReader<'_>, limit: u64) -> Result<BlobInfo, BlobError>;
    /// A blocking reader (for parsers running on the blocking pool).
    fn open_blocking(&self, sha256: &str) -> Result<Box<dyn Read + Send>, BlobError>;
    async fn exists(&self, sha256: &str) -> bool;
    /// Blobs last stored before `before` (candidates for collection).
    async fn stored_before(&self, before: SystemTime) -> Result<Vec<String>, BlobError>;
    /// Removes a blob if it was last stored before `before` — checked again under the store's
    /// write gate, so a concurrent `put` of the same content wins. The caller has made sure
    /// nothing references it.
    async fn collect(&self, sha256: &str, before: SystemTime) -> Result<bool, BlobError>;
    /// Removes a blob that `put` just created for an upload that was then refused — unless the
    /// same content was stored again since (its time changed): then someone else needs it.
    async fn discard(&self, blob: &BlobInfo) -> Result<bool, BlobError>;
    /// Removes temporary files of writes that died before `before` (crash, dropped request).
    async fn sweep_temporary(&self, before: SystemTime) -> Result<usize, BlobError>;
}

pub struct LocalBlobStore {
    root: PathBuf,
    /// `put` holds it shared, `collect` exclusively: a blob is never removed mid-`put`.
    gate: tokio::sync::RwLock<()>,
}

/// Removes a temporary file when dropped, unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl LocalBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self {
            root,
            gate: tokio::sync::RwLock::new(()),
        })
    }

    fn path_of(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        // Only ever a hex digest: a name from outside can never become a path.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BlobError::NotFound);
        }
        Ok(self.root.join(&sha256[..2]).join(&sha256[2..]))
    }
}

fn micros(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, mut content: BlobReader<'_>, limit: u64) -> Result<BlobInfo, BlobError> {
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::new_v4()));
        let mut guard = TempGuard(Some(tmp.clone()));
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
        drop(file);
        let mut info = BlobInfo {
            sha256: hex::encode(hasher.finalize()),
            size_bytes: size,
            created_at_micros: None,
        };
        let dest = self.path_of(&info.sha256)?;
        let _shared = self.gate.read().await;
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
            // Same content again: keep the first copy, but mark it as just stored.
            let dest2 = dest.clone();
            tokio::task::spawn_blocking(move || {
                std::fs::File::options()
                    .write(true)
                    .open(&dest2)
                    .and_then(|f| f.set_modified(SystemTime::now()))
            })
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        } else {
            // The time of this write (the rename keeps it), not of the blob afterwards: a
            // concurrent `put` of the same content may have marked it stored again already.
            let created = modified(&tmp).map(micros);
            tokio::fs::rename(&tmp, &dest).await?;
            guard.0 = None;
            info.created_at_micros = created;
        }
        Ok(info)
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

    async fn stored_before(&self, before: SystemTime) -> Result<Vec<String>, BlobError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for dir in std::fs::read_dir(&root)? {
                let dir = dir?;
                let prefix = dir.file_name().to_string_lossy().to_string();
                if prefix.len() != 2 || !dir.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(dir.path())? {
                    let f = f?;
                    if modified(&f.path()).is_some_and(|m| m < before) {
                        out.push(format!("{prefix}{}", f.file_name().to_string_lossy()));
                    }
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }

    async fn collect(&self, sha256: &str, before: SystemTime) -> Result<bool, BlobError> {
        let path = self.path_of(sha256)?;
        let _exclusive = self.gate.write().await;
        if modified(&path).is_none_or(|m| m >= before) {
            return Ok(false);
        }
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn discard(&self, blob: &BlobInfo) -> Result<bool, BlobError> {
        let Some(created) = blob.created_at_micros else {
            return Ok(false);
        };
        let path = self.path_of(&blob.sha256)?;
        let _exclusive = self.gate.write().await;
        if modified(&path).map(micros) != Some(created) {
            return Ok(false);
        }
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn sweep_temporary(&self, before: SystemTime) -> Result<usize, BlobError> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        while let Some(e) = entries.next_entry().await? {
            if modified(&e.path()).is_some_and(|m| m < before)
                && tokio::fs::remove_file(e.path()).await.is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
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
        assert!(a.created_at_micros.is_some(), "this put created it");
        let again = store.put(reader(b"hello"), 100).await.unwrap();
        assert_eq!((&again.sha256, again.size_bytes), (&a.sha256, 5));
        assert_eq!(again.created_at_micros, None, "already there");
        // Stored again since: a discard of the first put keeps it.
        assert!(!store.discard(&a).await.unwrap());
        assert!(store.exists(&a.sha256).await);
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
        // Collection: not a blob stored after the cutoff, yes one stored before.
        let before_put = SystemTime::now() - std::time::Duration::from_secs(60);
        assert!(!store.collect(&a.sha256, before_put).await.unwrap());
        let later = SystemTime::now() + std::time::Duration::from_secs(1);
        assert_eq!(
            store.stored_before(later).await.unwrap(),
            vec![a.sha256.clone()]
        );
        assert!(store.collect(&a.sha256, later).await.unwrap());
        assert!(!store.exists(&a.sha256).await);
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path()).unwrap();
        // A reader that never ends: the put is dropped mid-write.
        let (_tx, rx) = tokio::io::duplex(16);
        let put = store.put(Box::pin(rx), 1 << 20);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(50), put).await;
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn content_stored_again_after_the_cutoff_is_not_collected() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path()).unwrap();
        let a = store.put(Box::pin(&b"same"[..]), 100).await.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let cutoff = SystemTime::now();
        let candidates = store.stored_before(cutoff).await.unwrap();
        assert_eq!(candidates, vec![a.sha256.clone()]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Someone uploads the same content between the listing and the collection.
        store.put(Box::pin(&b"same"[..]), 100).await.unwrap();
        assert!(!store.collect(&a.sha256, cutoff).await.unwrap());
        assert!(store.exists(&a.sha256).await);
    }
}
