//! Storage quotas, checked by the steps that make a session keep more: a file's bytes when it
//! is registered, records before and while they are written. Over a quota the step fails with
//! a sentence naming the quota, what is kept and what was asked; nothing of it stays.

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::store::usage::{kept, Usage};

/// What this execution's session (and its tenant) may still keep.
pub struct Room {
    pub bytes: u64,
    pub records: u64,
    /// Whose quota is the tighter one, for the error: "this session" or "this tenant".
    bytes_owner: &'static str,
    records_owner: &'static str,
    quota_bytes: u64,
    quota_records: u64,
}

/// `own`: the artifact this step writes, when it may already exist (a step re-run after a
/// crash that came after its work): what it keeps is not counted against it twice.
pub async fn room(ctx: &StepContext, own: Option<&str>) -> Result<Room, StepError> {
    let q = ctx.services.quotas;
    let store = &ctx.services.store;
    let storage = |e: crate::store::StoreError| {
        tracing::error!(error = %e.chain(), "usage query failed");
        StepError::new("a storage error occurred; the step can be retried")
    };
    let mine = match own {
        Some(id) => match store.artifact(id).await.map_err(storage)? {
            Some(a) => kept(&a.artifact_type, &a.semantic_descriptor),
            None => (0, 0),
        },
        None => (0, 0),
    };
    let less_mine = |u: Usage| Usage {
        bytes: u.bytes.saturating_sub(mine.0 as u64),
        records: u.records.saturating_sub(mine.1 as u64),
    };
    let session = less_mine(
        store
            .usage_of_session(&ctx.session_id)
            .await
            .map_err(storage)?,
    );
    let tenant = match &ctx.tenant_id {
        Some(t) => Some(less_mine(store.usage_of_tenant(t).await.map_err(storage)?)),
        None => None,
    };
    let left = |quota: u64, used: u64| quota.saturating_sub(used);
    let mut room = Room {
        bytes: left(q.session_bytes, session.bytes),
        records: left(q.session_records, session.records),
        bytes_owner: "this session",
        records_owner: "this session",
        quota_bytes: q.session_bytes,
        quota_records: q.session_records,
    };
    if let Some(Usage { bytes, records }) = tenant {
        if left(q.tenant_bytes, bytes) < room.bytes {
            room.bytes = left(q.tenant_bytes, bytes);
            room.bytes_owner = "this tenant";
            room.quota_bytes = q.tenant_bytes;
        }
        if left(q.tenant_records, records) < room.records {
            room.records = left(q.tenant_records, records);
            room.records_owner = "this tenant";
            room.quota_records = q.tenant_records;
        }
    }
    Ok(room)
}

impl Room {
    pub fn bytes_error(&self, wanted: u64) -> StepError {
        StepError::new(format!(
            "storage quota exceeded: {} may keep {} bytes of files and has room for {} more; \
             this file is {wanted} bytes",
            self.bytes_owner, self.quota_bytes, self.bytes
        ))
    }

    pub fn records_error(&self, wanted: u64) -> StepError {
        StepError::new(format!(
            "storage quota exceeded: {} may keep {} records and has room for {} more; this \
             needs at least {wanted}",
            self.records_owner, self.quota_records, self.records
        ))
    }
}
