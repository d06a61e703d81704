//! How much a session or a tenant keeps stored — files' bytes and parsed records — and the
//! quotas on it. Each artifact carries what it keeps (`stored_bytes`, `stored_records`, taken
//! from its descriptor's `size_bytes` and `record_count` when it is written), so the usage of
//! an owner is one indexed sum.

use serde_json::Value;
use sqlx::Row;

use super::artifact_store::ArtifactStore;
use super::error::StoreError;

/// The most a session, and a tenant, may keep stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageQuotas {
    pub session_bytes: u64,
    pub session_records: u64,
    pub tenant_bytes: u64,
    pub tenant_records: u64,
}

impl Default for StorageQuotas {
    fn default() -> Self {
        Self {
            session_bytes: 1 << 30,
            session_records: 10_000_000,
            tenant_bytes: 10 << 30,
            tenant_records: 100_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub records: u64,
}

/// What an artifact with this descriptor keeps stored: `(bytes, records)`. Only a file's (and
/// an export's) bytes and a parsed file's records are stored data; other artifacts (a quality
/// report, a mash's summary) only mention counts.
pub fn kept(artifact_type: &str, descriptor: &Value) -> (i64, i64) {
    let n = |key: &str| descriptor[key].as_i64().unwrap_or(0).max(0);
    match artifact_type {
        // A file's bytes, and an export's document (both kept in blob storage).
        "file" | "export" => (n("size_bytes"), 0),
        "parsed_file" => (0, n("record_count")),
        _ => (0, 0),
    }
}

impl ArtifactStore {
    pub async fn usage_of_session(&self, session_id: &str) -> Result<Usage, StoreError> {
        self.usage_where("session_id", session_id)
            .await
            .map_err(StoreError::from)
    }

    pub async fn usage_of_tenant(&self, tenant_id: &str) -> Result<Usage, StoreError> {
        self.usage_where("tenant_id", tenant_id)
            .await
            .map_err(StoreError::from)
    }

    async fn usage_where(&self, column: &str, value: &str) -> Result<Usage, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT CAST(COALESCE(SUM(stored_bytes), 0) AS BIGINT) AS b, \
             CAST(COALESCE(SUM(stored_records), 0) AS BIGINT) AS r \
             FROM artifacts WHERE {column} = $1"
        ))
        .bind(value)
        .fetch_one(&self.store.pool)
        .await?;
        let (b, r): (i64, i64) = (row.try_get("b")?, row.try_get("r")?);
        Ok(Usage {
            bytes: b.max(0) as u64,
            records: r.max(0) as u64,
        })
    }
}
