//! What the content intents share: who may see an artifact, stable ids for re-run steps, file
//! names as display names only, the file payload.

use backon::{ExponentialBuilder, Retryable};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::store::artifacts::{ArtifactRow, Owner};
use crate::store::time::to_rfc3339;

/// An id derived from the execution (unguessable, as the execution id is) so that a step
/// re-run after a crash produces the same artifact instead of a second one.
pub fn derived_id(execution_id: &str, label: &str) -> String {
    let digest = Sha256::digest(format!("{execution_id}:{label}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Shaped as a UUID v4 (version and variant bits set), like every other id we hand out.
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The owner whose artifacts this execution may see: its tenant, or its anonymous session.
pub fn owner(ctx: &StepContext) -> Owner {
    match &ctx.tenant_id {
        Some(t) => Owner::Tenant(t.clone()),
        None => Owner::Session(ctx.session_id.clone()),
    }
}

pub fn visible(ctx: &StepContext, a: &ArtifactRow) -> bool {
    a.lifecycle_state != "deleted"
        && match owner(ctx) {
            Owner::Tenant(t) => a.tenant_id.as_deref() == Some(t.as_str()),
            Owner::Session(s) => a.tenant_id.is_none() && a.session_id == s,
        }
}

/// The artifact, if it exists, is visible to this execution and of this type. A file whose
/// ingest this session has started but not finished (an intent sent right after an upload's
/// 202) is waited for, at most [`INGEST_WAIT`].
pub async fn find(
    ctx: &StepContext,
    id: &str,
    artifact_type: &str,
) -> Result<ArtifactRow, StepError> {
    let what = artifact_type.replace('_', " ");
    match find_visible(ctx, id).await? {
        Some(a) if a.artifact_type == artifact_type => Ok(a),
        _ => Err(StepError::new(format!("{what} {id} not found"))),
    }
}

/// The artifact of any type, if it exists and is visible to this execution; an id no artifact
/// has yet is waited for while an unfinished ingest of this session will produce it.
pub async fn find_visible(ctx: &StepContext, id: &str) -> Result<Option<ArtifactRow>, StepError> {
    let store = &ctx.services.store;
    let first = store.artifact(id).await.map_err(internal)?;
    let found = match first {
        Some(a) => Some(a),
        None => {
            wait_for_ingest(ctx, id).await?;
            // Look once more, whatever was found: the ingest may have finished between the
            // first look and the search for it.
            store.artifact(id).await.map_err(internal)?
        }
    };
    Ok(found.filter(|a| visible(ctx, a)))
}

/// How long a step waits for the ingest of a file it names to finish.
pub const INGEST_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Looks again after 20 ms, then less and less often (at most every 500 ms).
const INGEST_POLL: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(std::time::Duration::from_millis(20))
    .with_max_delay(std::time::Duration::from_millis(500))
    .without_max_times();

/// An ingest not finished yet (looked at again), or the store's failure (not retried).
enum Ingest {
    Running,
    Failed(StepError),
}

/// Waits for the unfinished execution of this session that will produce file `id` (its id is
/// derived from that execution's), if there is one.
async fn wait_for_ingest(ctx: &StepContext, id: &str) -> Result<(), StepError> {
    let store = &ctx.services.store;
    let unfinished = store
        .unfinished_executions(&ctx.session_id)
        .await
        .map_err(internal)?;
    let Some(ingest) = unfinished
        .into_iter()
        .find(|e| *e != ctx.execution_id && derived_id(e, "file") == id)
    else {
        return Ok(());
    };
    let finished = || async {
        match store.get_execution(&ingest).await {
            Ok(Some(e)) if !e.is_terminal() => Err(Ingest::Running),
            Ok(_) => Ok(()),
            Err(e) => Err(Ingest::Failed(internal(e))),
        }
    };
    let waited = finished
        .retry(INGEST_POLL)
        .when(|e| matches!(e, Ingest::Running));
    match tokio::time::timeout(INGEST_WAIT, waited).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Ingest::Failed(e))) => Err(e),
        Ok(Err(Ingest::Running)) | Err(_) => Err(StepError::new(format!(
            "file {id} is still being ingested after {} s; try again when its upload has \
             finished",
            INGEST_WAIT.as_secs()
        ))),
    }
}

/// The parsed file `id`, or the latest completed parse of file `id`.
pub async fn parsed_or_latest(ctx: &StepContext, id: &str) -> Result<ArtifactRow, StepError> {
    parsed_of(ctx, find_visible(ctx, id).await?, id).await
}

/// [`parsed_or_latest`] for an artifact already read (`id` is what the caller named).
pub async fn parsed_of(
    ctx: &StepContext,
    found: Option<ArtifactRow>,
    id: &str,
) -> Result<ArtifactRow, StepError> {
    match found {
        Some(a) if a.artifact_type == "parsed_file" => Ok(a),
        Some(a) if a.artifact_type == "file" => ctx
            .services
            .store
            .children_of(&a.artifact_id, Some("parsed_file"))
            .await
            .map_err(internal)?
            .into_iter()
            .rev()
            .find(|p| p.lifecycle_state == "active")
            .ok_or_else(|| {
                StepError::new(format!("file {id} has not been parsed yet: parse it first"))
            }),
        _ => Err(StepError::new(format!("parsed file {id} not found"))),
    }
}

/// A file's name as people see it: the name given in the UI, else the uploaded file's.
pub fn file_name(descriptor: &Value) -> Option<&str> {
    descriptor["ui_name"]
        .as_str()
        .or(descriptor["filename"].as_str())
}

/// What a person calls an artifact: a file's name; a parse's file's name; else its id.
pub async fn display_name(ctx: &StepContext, a: &ArtifactRow) -> Result<String, StepError> {
    let name_of = |d: &Value| file_name(d).map(str::to_string);
    if let Some(n) = name_of(&a.semantic_descriptor) {
        return Ok(n);
    }
    if let Some(file_id) = a.semantic_descriptor["file_id"].as_str() {
        let file = ctx
            .services
            .store
            .artifact(file_id)
            .await
            .map_err(internal)?;
        if let Some(n) = file.and_then(|f| name_of(&f.semantic_descriptor)) {
            return Ok(n);
        }
    }
    Ok(a.artifact_id.clone())
}

/// The whole content of a small file (a copybook, a data model): at most `cap` bytes, read
/// on the blocking pool; `what` names it in errors.
pub async fn small_file_bytes(
    ctx: &StepContext,
    file: &ArtifactRow,
    cap: usize,
    what: &str,
) -> Result<Vec<u8>, StepError> {
    use std::io::Read;
    let sha = file.blob_sha256.clone().unwrap_or_default();
    let blobs = ctx.services.blobs.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let reader = blobs.open_blocking(&sha).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        reader
            .take(cap as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(bytes)
    })
    .await
    .map_err(internal)?
    .map_err(|e| StepError::new(format!("the {what}'s content is unavailable: {e}")))?;
    if bytes.len() > cap {
        return Err(StepError::new(format!(
            "the {what} is longer than {} KiB",
            cap / 1024
        )));
    }
    Ok(bytes)
}

pub fn internal(e: impl std::fmt::Display) -> StepError {
    tracing::error!(error = %e, "content realm storage error");
    StepError::new("a storage error occurred; the step can be retried")
}

/// A client-given file name as a display name: its last path component, without control
/// characters, at most 255 characters. It never becomes a path on disk.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().trim_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_string()
    } else {
        cleaned.to_string()
    }
}

pub fn guess_mime(filename: &str) -> &'static str {
    let ext = filename
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" => "text/csv",
        "tsv" | "tab" => "text/tab-separated-values",
        "json" => "application/json",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "txt" | "log" | "md" => "text/plain",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// The `file` artifact payload of the contract.
pub fn file_payload(a: &ArtifactRow) -> Value {
    let d = &a.semantic_descriptor;
    let name = file_name(d).unwrap_or("file");
    json!({
        "file_id": a.artifact_id,
        "artifact_id": a.artifact_id,
        "file_reference": d["file_reference"],
        "boundary_contract_id": d["boundary_contract_id"],
        "filename": d["filename"],
        "ui_name": d["ui_name"],
        "size_bytes": d["size_bytes"],
        "sha256": d["sha256"],
        "mime_type": d["mime_type"],
        "lifecycle_state": a.lifecycle_state,
        // The web frontend's names (FRONTEND.md §1 Content, §4.4): Save is offered while the
        // file waits for its materialization.
        "materialization_pending": a.lifecycle_state == "pending_materialization",
        "file_name": name,
        "name": name,
        "file_type": d["file_type"],
        "file_size": d["size_bytes"],
        // An image's format and size (the "image" upload category); null otherwise.
        "image": d["image"],
        "created_at": to_rfc3339(a.created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_display_names_only() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            clean_filename("C:\\\\Users\\\\x\\\\report.csv"),
            "report.csv"
        );
        assert_eq!(clean_filename(".."), "file");
        assert_eq!(clean_filename("a\u{0}b\nc.csv"), "abc.csv");
        assert_eq!(clean_filename(""), "file");
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id("e1", "file"), derived_id("e1", "file"));
        assert_ne!(derived_id("e1", "file"), derived_id("e1", "parsed"));
        let id = uuid::Uuid::parse_str(&derived_id("e1", "file")).unwrap();
        assert_eq!(id.get_version_num(), 4);
    }
}
