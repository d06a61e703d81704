//! `create_solution {solution_source, source_id}`: a platform solution registered from one
//! of the session's outcomes (a roadmap, a POC or a blueprint). Its domain bindings are what
//! the solution would connect, read from the session: each saved file (content, its upload
//! category as adapter), each workflow (operations, BPMN), and each external system the
//! source blueprint's steps name (integration). Its phases are the source's.

use serde_json::{json, Value};

use super::session_work::SessionWork;
use crate::runtime::realms::content::common::file_name;
use crate::store::artifacts::ArtifactRow;

pub fn solution(work: &SessionWork, source: &ArtifactRow, kind: &str, id: &str) -> Value {
    let d = &source.semantic_descriptor;
    let mut bindings: Vec<Value> = work
        .of("file")
        .iter()
        .filter(|f| f.lifecycle_state == "active")
        .map(|f| {
            json!({"domain": "content",
            "system_name": file_name(&f.semantic_descriptor).unwrap_or(&f.artifact_id),
            "adapter_type": f.semantic_descriptor["file_type"].as_str().unwrap_or("file"),
            "artifact_id": f.artifact_id})
        })
        .collect();
    for w in work.of("workflow") {
        bindings.push(json!({"domain": "operations",
            "system_name": w.semantic_descriptor["name"].as_str().unwrap_or(&w.artifact_id),
            "adapter_type": "bpmn", "artifact_id": w.artifact_id}));
    }
    let mut systems: Vec<&str> = d["responsibility_matrix"]["responsibilities"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["external_systems"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    systems.sort();
    systems.dedup();
    for s in systems {
        bindings.push(json!({"domain": "integration", "system_name": s,
            "adapter_type": "external_system"}));
    }
    let phases = if d["roadmap"]["phases"].is_array() {
        d["roadmap"]["phases"].clone()
    } else {
        d["phases"].clone()
    };
    let name = d["title"]
        .as_str()
        .or(d["description"].as_str())
        .unwrap_or(kind);
    json!({
        "solution_id": id,
        "name": format!("Solution from the {kind}: {name}"),
        "status": "registered",
        "source": {"type": kind, "id": source.artifact_id},
        "domain_bindings": bindings,
        "phases": phases,
    })
}
