//! What a session has done across the pillars, read from its artifacts (one listing, at most
//! [`MAX_ARTIFACTS`] of them, newest kept): its files and parses, the insights findings
//! about them, its mashes, SOPs, workflows and coexistence analyses, and the outcomes made so
//! far. Every synthesis, plan and proposal of this realm starts here, so each of their
//! figures can be traced to an artifact.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::content::common::{file_name, internal, owner};
use crate::store::artifacts::ArtifactRow;

/// The most artifacts a session's work is read from.
pub const MAX_ARTIFACTS: i64 = 2_000;

/// The session's artifacts by type, oldest first.
pub struct SessionWork {
    by_type: BTreeMap<String, Vec<ArtifactRow>>,
}

impl SessionWork {
    /// Reads the session's live artifacts.
    pub async fn read(ctx: &StepContext) -> Result<Self, StepError> {
        let rows = ctx
            .services
            .store
            .session_artifacts(&owner(ctx), &ctx.session_id, MAX_ARTIFACTS)
            .await
            .map_err(internal)?;
        let mut by_type: BTreeMap<String, Vec<ArtifactRow>> = BTreeMap::new();
        for a in rows.into_iter().filter(|a| a.lifecycle_state != "archived") {
            by_type.entry(a.artifact_type.clone()).or_default().push(a);
        }
        for v in by_type.values_mut() {
            v.sort_by(|a, b| (a.created_at, &a.artifact_id).cmp(&(b.created_at, &b.artifact_id)));
        }
        Ok(SessionWork { by_type })
    }

    /// The session's artifacts of one type, oldest first.
    pub fn of(&self, artifact_type: &str) -> &[ArtifactRow] {
        self.by_type
            .get(artifact_type)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The newest artifact of a type.
    pub fn latest(&self, artifact_type: &str) -> Option<&ArtifactRow> {
        self.of(artifact_type).last()
    }

    /// A file's or parse's name, from the session's files (else its id).
    pub fn name_of(&self, id: &str) -> String {
        let find = |t: &str| self.of(t).iter().find(|a| a.artifact_id == id);
        if let Some(f) = find("file") {
            return file_name(&f.semantic_descriptor).unwrap_or(id).to_string();
        }
        if let Some(p) = find("parsed_file") {
            if let Some(file_id) = p.semantic_descriptor["file_id"].as_str() {
                return self.name_of(file_id);
            }
        }
        id.to_string()
    }

    /// How many artifacts of each type.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.by_type
            .iter()
            .map(|(t, v)| (t.clone(), v.len()))
            .collect()
    }

    /// The ids of every artifact of these types (an outcome's parents).
    pub fn ids_of(&self, types: &[&str]) -> Vec<String> {
        types
            .iter()
            .flat_map(|t| self.of(t).iter().map(|a| a.artifact_id.clone()))
            .collect()
    }
}

/// A number field of a descriptor.
pub fn num(d: &Value, key: &str) -> Option<f64> {
    d.get(key).and_then(Value::as_f64)
}
