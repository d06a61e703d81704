//! The artifact registry (files, parsed files, materializations) with lineage, uploads waiting
//! for ingestion, and parsed records.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::artifact_store::ArtifactStore;
use super::error::StoreError;
use super::usage::kept;

#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactRow {
    pub artifact_id: String,
    pub artifact_type: String,
    pub tenant_id: Option<String>,
    pub session_id: String,
    pub lifecycle_state: String,
    pub semantic_descriptor: Value,
    pub parent_artifacts: Vec<String>,
    pub produced_by_intent: String,
    pub produced_by_execution: String,
    pub blob_sha256: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "artifact_id, artifact_type, tenant_id, session_id, lifecycle_state, \
    semantic_descriptor, parent_artifacts, produced_by_intent, produced_by_execution, \
    blob_sha256, created_at, updated_at";

impl ArtifactRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let text: String = row.try_get("semantic_descriptor")?;
        let parents: String = row.try_get("parent_artifacts")?;
        let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
        Ok(Self {
            artifact_id: row.try_get("artifact_id")?,
            artifact_type: row.try_get("artifact_type")?,
            tenant_id: row.try_get("tenant_id")?,
            session_id: row.try_get("session_id")?,
            lifecycle_state: row.try_get("lifecycle_state")?,
            semantic_descriptor: serde_json::from_str(&text).map_err(decode)?,
            parent_artifacts: serde_json::from_str(&parents).map_err(decode)?,
            produced_by_intent: row.try_get("produced_by_intent")?,
            produced_by_execution: row.try_get("produced_by_execution")?,
            blob_sha256: row.try_get("blob_sha256")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// Whose artifacts: a tenant's, or (for an anonymous session) the session's own.
#[derive(Debug, Clone)]
pub enum Owner {
    Tenant(String),
    Session(String),
}

#[derive(Debug, Clone, Default)]
pub struct ArtifactFilter {
    pub artifact_type: Option<String>,
    pub lifecycle_state: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UploadRow {
    pub upload_id: String,
    pub session_id: String,
    pub blob_sha256: String,
    pub size_bytes: i64,
    pub created_at: i64,
}

impl ArtifactStore {
    pub async fn insert_upload(&self, u: &UploadRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO uploads (upload_id, session_id, blob_sha256, size_bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&u.upload_id)
        .bind(&u.session_id)
        .bind(&u.blob_sha256)
        .bind(u.size_bytes)
        .bind(u.created_at)
        .execute(&self.store.writer)
        .await?;
        Ok(())
    }

    /// The upload, only for the session that made it.
    pub async fn upload(
        &self,
        upload_id: &str,
        session_id: &str,
    ) -> Result<Option<UploadRow>, StoreError> {
        let row = sqlx::query(
            "SELECT upload_id, session_id, blob_sha256, size_bytes, created_at FROM uploads \
             WHERE upload_id = $1 AND session_id = $2",
        )
        .bind(upload_id)
        .bind(session_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.map(|r| {
            Ok(UploadRow {
                upload_id: r.try_get("upload_id")?,
                session_id: r.try_get("session_id")?,
                blob_sha256: r.try_get("blob_sha256")?,
                size_bytes: r.try_get("size_bytes")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// Inserts an artifact (idempotent on its id: a re-run step finds it already there).
    pub async fn insert_artifact(&self, a: &ArtifactRow) -> Result<(), StoreError> {
        let a = a.clone();
        self.store
            .detached(move |w| async move {
                let a = &a;
                let mut tx = w.begin().await?;
                let (bytes, records) = kept(&a.artifact_type, &a.semantic_descriptor);
                let inserted = sqlx::query(&format!(
                    "INSERT INTO artifacts ({COLUMNS}, stored_bytes, stored_records) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (artifact_id) DO NOTHING"
                ))
                .bind(&a.artifact_id)
                .bind(&a.artifact_type)
                .bind(&a.tenant_id)
                .bind(&a.session_id)
                .bind(&a.lifecycle_state)
                .bind(a.semantic_descriptor.to_string())
                .bind(serde_json::to_string(&a.parent_artifacts).unwrap_or_else(|_| "[]".into()))
                .bind(&a.produced_by_intent)
                .bind(&a.produced_by_execution)
                .bind(&a.blob_sha256)
                .bind(a.created_at)
                .bind(a.updated_at)
                .bind(bytes)
                .bind(records)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 1 {
                    for parent in &a.parent_artifacts {
                        sqlx::query(
                            "INSERT INTO artifact_parents (artifact_id, parent_id) VALUES ($1, $2)",
                        )
                        .bind(&a.artifact_id)
                        .bind(parent)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                crate::failpoint!(crate::failpoints::ARTIFACT_BEFORE_COMMIT);
                tx.commit().await
            })
            .await
    }

    pub async fn artifact(&self, artifact_id: &str) -> Result<Option<ArtifactRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE artifact_id = $1"
        ))
        .bind(artifact_id)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(ArtifactRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    /// Artifacts derived from `parent_id` (optionally of one type).
    pub async fn children_of(
        &self,
        parent_id: &str,
        artifact_type: Option<&str>,
    ) -> Result<Vec<ArtifactRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE artifact_id IN \
             (SELECT artifact_id FROM artifact_parents WHERE parent_id = $1) \
             AND ($2 IS NULL OR artifact_type = $2) ORDER BY created_at, artifact_id"
        ))
        .bind(parent_id)
        .bind(artifact_type)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(ArtifactRow::from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn list_artifacts(
        &self,
        owner: &Owner,
        filter: &ArtifactFilter,
    ) -> Result<(Vec<ArtifactRow>, i64), StoreError> {
        let (owner_clause, owner_value) = match owner {
            Owner::Tenant(t) => ("tenant_id = $1", t),
            Owner::Session(s) => ("tenant_id IS NULL AND session_id = $1", s),
        };
        let filters =
            "AND ($2 IS NULL OR artifact_type = $2) AND ($3 IS NULL OR lifecycle_state = $3) \
             AND lifecycle_state <> 'deleted'";
        let total: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM artifacts WHERE {owner_clause} {filters}"
        ))
        .bind(owner_value)
        .bind(&filter.artifact_type)
        .bind(&filter.lifecycle_state)
        .fetch_one(&self.store.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE {owner_clause} {filters} \
             ORDER BY created_at DESC, artifact_id LIMIT $4 OFFSET $5"
        ))
        .bind(owner_value)
        .bind(&filter.artifact_type)
        .bind(&filter.lifecycle_state)
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(&self.store.pool)
        .await?;
        let items = rows
            .iter()
            .map(ArtifactRow::from_row)
            .collect::<Result<_, _>>()?;
        Ok((items, total))
    }

    /// One session's live artifacts (not deleted) that `owner` may see, newest first, at most
    /// `limit` of them.
    pub async fn session_artifacts(
        &self,
        owner: &Owner,
        session_id: &str,
        limit: i64,
    ) -> Result<Vec<ArtifactRow>, StoreError> {
        let owner_clause = match owner {
            Owner::Tenant(_) => "tenant_id = $1",
            Owner::Session(_) => "tenant_id IS NULL AND session_id = $1",
        };
        let owner_value = match owner {
            Owner::Tenant(t) | Owner::Session(t) => t,
        };
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE session_id = $2 AND {owner_clause} \
             AND lifecycle_state <> 'deleted' ORDER BY created_at DESC, artifact_id LIMIT $3"
        ))
        .bind(owner_value)
        .bind(session_id)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows
            .iter()
            .map(ArtifactRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Moves an artifact from `from` to `to`, only if it is still in `from`; false otherwise.
    pub async fn set_lifecycle_if(
        &self,
        artifact_id: &str,
        from: &str,
        to: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE artifacts SET lifecycle_state = $3, updated_at = $4 \
             WHERE artifact_id = $1 AND lifecycle_state = $2",
        )
        .bind(artifact_id)
        .bind(from)
        .bind(to)
        .bind(at)
        .execute(&self.store.writer)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn set_lifecycle(
        &self,
        artifact_id: &str,
        state: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE artifacts SET lifecycle_state = $2, updated_at = $3 WHERE artifact_id = $1",
        )
        .bind(artifact_id)
        .bind(state)
        .bind(at)
        .execute(&self.store.writer)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Removes an artifact, everything derived from it, and their parsed records. Blobs are
    /// left to the janitor's collection (see `BlobStore::collect`).
    pub async fn delete_artifact_tree(&self, artifact_id: &str) -> Result<bool, StoreError> {
        self.delete_artifact_tree_if(artifact_id, None).await
    }

    /// As `delete_artifact_tree`, but only if the artifact is still in `state` and older than
    /// `before` — checked in the same transaction (the janitor must not remove a file that was
    /// materialized after it looked).
    pub async fn delete_artifact_tree_if(
        &self,
        artifact_id: &str,
        still: Option<(&str, i64)>,
    ) -> Result<bool, StoreError> {
        let artifact_id = artifact_id.to_string();
        let still = still.map(|(state, before)| (state.to_string(), before));
        self.store
            .detached(move |w| async move {
                let artifact_id = artifact_id.as_str();
                let mut tx = w.begin().await?;
                let root = sqlx::query(
                    "SELECT lifecycle_state, created_at FROM artifacts WHERE artifact_id = $1",
                )
                .bind(artifact_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(root) = root else {
                    tx.rollback().await?;
                    return Ok::<_, StoreError>(false);
                };
                if let Some((state, before)) = still {
                    let current: String = root.try_get("lifecycle_state")?;
                    let created: i64 = root.try_get("created_at")?;
                    if current != state || created >= before {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
                // The tree: the root, and every descendant all of whose parents are in the tree. A
                // child with another surviving parent (a data mash over several files) stays; its
                // `parent_artifacts` still names the removed parent as history.
                let mut ids = vec![artifact_id.to_string()];
                let mut i = 0;
                while i < ids.len() {
                    // Each child of this node with every one of its parents, in one query.
                    let rows = sqlx::query(
                        "SELECT c.artifact_id, p.parent_id FROM artifact_parents c \
                 JOIN artifact_parents p ON p.artifact_id = c.artifact_id \
                 WHERE c.parent_id = $1 ORDER BY c.artifact_id",
                    )
                    .bind(&ids[i])
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut children: Vec<(String, bool)> = Vec::new();
                    for r in rows {
                        let child: String = r.try_get("artifact_id")?;
                        let parent: String = r.try_get("parent_id")?;
                        let in_tree = ids.contains(&parent);
                        match children.last_mut() {
                            Some((last, orphaned)) if *last == child => *orphaned &= in_tree,
                            _ => children.push((child, in_tree)),
                        }
                    }
                    for (child, orphaned) in children {
                        if orphaned && !ids.contains(&child) {
                            ids.push(child);
                        }
                    }
                    i += 1;
                }
                for id in ids.iter().rev() {
                    sqlx::query("DELETE FROM parsed_records WHERE parsed_file_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "DELETE FROM artifact_parents WHERE artifact_id = $1 OR parent_id = $1",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM artifacts WHERE artifact_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            })
            .await
    }

    /// Replaces an artifact's descriptor and lifecycle state (e.g. a parse that finished).
    pub async fn update_artifact(
        &self,
        artifact_id: &str,
        descriptor: &Value,
        state: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        // Counted as a file's or a parsed file's (see `usage::kept`), by the row's own type.
        let (bytes, _) = kept("file", descriptor);
        let (_, records) = kept("parsed_file", descriptor);
        sqlx::query(
            "UPDATE artifacts SET semantic_descriptor = $2, lifecycle_state = $3, updated_at = $4, \
             stored_bytes = CASE WHEN artifact_type = 'file' THEN $5 ELSE 0 END, \
             stored_records = CASE WHEN artifact_type = 'parsed_file' THEN $6 ELSE 0 END \
             WHERE artifact_id = $1",
        )
        .bind(artifact_id)
        .bind(descriptor.to_string())
        .bind(state)
        .bind(at)
        .bind(bytes)
        .bind(records)
        .execute(&self.store.writer)
        .await?;
        Ok(())
    }

    /// Artifacts of a type still in `state` since before `before` (stuck work).
    pub async fn artifacts_stuck(
        &self,
        artifact_type: &str,
        state: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT artifact_id FROM artifacts WHERE artifact_type = $1 AND lifecycle_state = $2 \
             AND updated_at < $3 ORDER BY updated_at LIMIT $4",
        )
        .bind(artifact_type)
        .bind(state)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("artifact_id"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Artifacts produced by executions that ended failed or cancelled: a saga that did not
    /// complete must leave nothing (its steps clean up after themselves and compensation undoes
    /// completed steps; this finds what a crash or a cancel in mid-step left behind).
    pub async fn abandoned_artifacts(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            // From the few executions that ended badly (a partial index) to their artifacts
            // (by producer), not from every artifact.
            "SELECT artifact_id FROM artifacts WHERE produced_by_execution IN \
             (SELECT execution_id FROM executions WHERE status IN ('failed', 'cancelled')) \
             ORDER BY created_at LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("artifact_id"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn delete_upload(&self, upload_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM uploads WHERE upload_id = $1")
            .bind(upload_id)
            .execute(&self.store.writer)
            .await?;
        Ok(())
    }

    /// How many artifacts and uploads reference a blob (0: it may be deleted).
    pub async fn blob_references(&self, sha256: &str) -> Result<i64, StoreError> {
        sqlx::query(
            "SELECT (SELECT COUNT(*) FROM artifacts WHERE blob_sha256 = $1) + \
             (SELECT COUNT(*) FROM uploads WHERE blob_sha256 = $1) AS n",
        )
        .bind(sha256)
        .fetch_one(&self.store.pool)
        .await?
        .try_get("n")
        .map_err(StoreError::from)
    }

    /// Files still `pending_materialization` created before `before`.
    pub async fn stale_pending_files(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<ArtifactRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE artifact_type = 'file' \
             AND lifecycle_state = 'pending_materialization' AND created_at < $1 \
             ORDER BY created_at LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(ArtifactRow::from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Removes uploads older than `before` (ingested or abandoned); their blobs are left to
    /// collection.
    pub async fn prune_uploads(&self, before: i64) -> Result<u64, StoreError> {
        let res = sqlx::query("DELETE FROM uploads WHERE created_at < $1")
            .bind(before)
            .execute(&self.store.writer)
            .await?;
        Ok(res.rows_affected())
    }

    /// Stores a page of parsed records (idempotent: a re-run parse overwrites nothing twice).
    pub async fn insert_parsed_records(
        &self,
        parsed_file_id: &str,
        first_idx: i64,
        records: Vec<String>,
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let parsed_file_id = parsed_file_id.to_string();
        self.store
            .detached(move |w| async move {
                let (parsed_file_id, records) = (parsed_file_id.as_str(), records.as_slice());
                let mut tx = w.begin().await?;
                // Multi-row inserts, well under both backends' bind-parameter limits.
                for (chunk_no, chunk) in records.chunks(500).enumerate() {
                    let mut sql = String::from(
                        "INSERT INTO parsed_records (parsed_file_id, row_idx, record) VALUES ",
                    );
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        let b = i * 3;
                        sql.push_str(&format!("(${}, ${}, ${})", b + 1, b + 2, b + 3));
                    }
                    sql.push_str(" ON CONFLICT (parsed_file_id, row_idx) DO NOTHING");
                    let mut q = sqlx::query(&sql);
                    for (i, rec) in chunk.iter().enumerate() {
                        let idx = first_idx + (chunk_no * 500 + i) as i64;
                        q = q.bind(parsed_file_id).bind(idx).bind(rec.as_str());
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await
            })
            .await
    }

    pub async fn parsed_records(
        &self,
        parsed_file_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT record FROM parsed_records WHERE parsed_file_id = $1 AND row_idx >= $2 \
             ORDER BY row_idx LIMIT $3",
        )
        .bind(parsed_file_id)
        .bind(offset)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("record")?;
                serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
