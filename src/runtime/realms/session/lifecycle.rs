//! `transition_artifact_lifecycle {artifact_id, artifact_type?, current_state?, target_state,
//! reason?}`: an artifact moved between lifecycle states, only along the allowed transitions:
//! active → archived, archived → active, draft → active, draft → archived, active → draft.
//! States are read as the frontend names them too (`READY`/`SAVED` = active, `PENDING` =
//! pending_materialization). A file waiting for its Save goes through `save_materialization`,
//! and deletion through `delete_file` (which asks for approval): neither is a transition here.
//! The move is conditional on the state read (a concurrent change wins, and the intent says
//! so); `artifact_type` and `current_state`, when given, must be the artifact's.

use serde_json::{json, Value};

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::engine::params::Fields;
use crate::runtime::realms::content::common::{find_visible, internal};
use crate::store::time::{now_micros, to_rfc3339};

pub const ALLOWED: &[(&str, &str)] = &[
    ("active", "archived"),
    ("archived", "active"),
    ("draft", "active"),
    ("draft", "archived"),
    ("active", "draft"),
];

/// A lifecycle state as the server stores it.
pub fn normalise(s: &str) -> Option<&'static str> {
    Some(match s.to_ascii_lowercase().as_str() {
        "active" | "ready" | "saved" => "active",
        "archived" => "archived",
        "draft" => "draft",
        "pending" | "pending_materialization" => "pending_materialization",
        "deleted" => "deleted",
        _ => return None,
    })
}

pub struct Transition {
    artifact_id: String,
    artifact_type: Option<String>,
    current_state: Option<&'static str>,
    target_state: &'static str,
    reason: Option<String>,
}

impl Transition {
    pub fn decode(f: &mut Fields<'_>) -> Option<Transition> {
        let artifact_id = f.required_str("artifact_id");
        let state = |f: &mut Fields<'_>, name: &str, required: bool| match f.get(name) {
            None if required => {
                f.error(name, "is required");
                None
            }
            None => None,
            Some(v) => match v.as_str().and_then(normalise) {
                Some(s) => Some(s),
                None => {
                    f.error(
                        name,
                        "must be active, archived, draft, pending_materialization or deleted",
                    );
                    None
                }
            },
        };
        let current_state = state(f, "current_state", false);
        let target_state = state(f, "target_state", true);
        let text = |f: &Fields<'_>, name: &str| {
            f.get(name)
                .and_then(Value::as_str)
                .map(|s| s.chars().take(1_000).collect::<String>())
        };
        Some(Transition {
            artifact_id: artifact_id?,
            artifact_type: text(f, "artifact_type").filter(|t| !t.is_empty()),
            current_state,
            target_state: target_state?,
            reason: text(f, "reason"),
        })
    }
}

pub async fn transition(ctx: &StepContext, t: &Transition) -> Result<Value, StepError> {
    let a = find_visible(ctx, &t.artifact_id)
        .await?
        .ok_or_else(|| StepError::new(format!("artifact {} not found", t.artifact_id)))?;
    if let Some(kind) = &t.artifact_type {
        if *kind != a.artifact_type {
            return Err(StepError::new(format!(
                "{} is a {}, not a {kind}",
                a.artifact_id, a.artifact_type
            )));
        }
    }
    let from = a.lifecycle_state.as_str();
    // Already there: answered as done when nothing contradicts it, and always on a re-run of
    // this step after a crash (its first run's move is what it finds).
    if from == t.target_state && (ctx.attempt > 1 || t.current_state.is_none_or(|c| c == from)) {
        return Ok(
            json!({"artifact_id": a.artifact_id, "artifact_type": a.artifact_type,
            "from_state": from, "to_state": from, "reason": t.reason, "changed": false,
            "transitioned_at": to_rfc3339(a.updated_at)}),
        );
    }
    if let Some(current) = t.current_state {
        if current != from {
            return Err(StepError::new(format!(
                "{} is {from}, not {current}",
                a.artifact_id
            )));
        }
    }
    if !ALLOWED.contains(&(from, t.target_state)) {
        let allowed: Vec<&str> = ALLOWED
            .iter()
            .filter(|(f, _)| *f == from)
            .map(|(_, to)| *to)
            .collect();
        return Err(StepError::new(format!(
            "{from} → {} is not an allowed transition; from {from}: {}",
            t.target_state,
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        )));
    }
    let at = now_micros();
    let moved = ctx
        .services
        .store
        .set_lifecycle_if(&a.artifact_id, from, t.target_state, at)
        .await
        .map_err(internal)?;
    if !moved {
        return Err(StepError::new(format!(
            "{} changed while it was being moved: read it again",
            a.artifact_id
        )));
    }
    Ok(
        json!({"artifact_id": a.artifact_id, "artifact_type": a.artifact_type,
        "from_state": from, "to_state": t.target_state, "reason": t.reason, "changed": true,
        "transitioned_at": to_rfc3339(at)}),
    )
}
