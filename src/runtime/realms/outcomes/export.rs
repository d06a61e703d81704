//! `export_artifact {artifact_type, artifact_id, export_format}`: one of the session's
//! outcomes (or an SOP, workflow or analysis) as a document — JSON (pretty), YAML, or DOCX
//! (`docx.rs`). The document is stored (content-addressed, as uploads are) and registered as
//! an `export` artifact, a child of what it exports, naming its bytes. The payload gives its
//! id, file name, format, type and size; the Experience Plane adds the `download_url`
//! (absolute, signed, expiring) when it shows the execution, since only it knows its public
//! address.

use serde_json::{json, Value};

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::content::common::{derived_id, find_visible, internal};
use crate::runtime::realms::derived::{register_derived, Derived};

/// What may be exported.
pub const EXPORTABLE: &[&str] = &[
    "roadmap",
    "poc",
    "blueprint",
    "solution",
    "synthesis",
    "sop",
    "workflow",
    "coexistence_analysis",
    "pso",
];

/// The formats, with their extension and MIME type.
pub const FORMATS: &[(&str, &str, &str)] = &[
    ("json", "json", "application/json"),
    ("yaml", "yaml", "application/yaml"),
    (
        "docx",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
];

/// The largest document an export may make.
const MAX_EXPORT_BYTES: u64 = 16 * 1024 * 1024;

fn title(kind: &str, d: &Value) -> String {
    let name = d["title"]
        .as_str()
        .or(d["name"].as_str())
        .or(d["description"].as_str())
        .unwrap_or("");
    let kind = match kind {
        "poc" => "Proof of concept".to_string(),
        other => {
            let t = other.replace('_', " ");
            let mut c = t.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    if name.is_empty() {
        kind
    } else {
        format!("{kind}: {name}")
    }
}

/// Renders, stores and registers the export; answers its payload.
pub async fn export(
    ctx: &StepContext,
    kind: &str,
    id: &str,
    format: &str,
) -> Result<Value, StepError> {
    let source = match find_visible(ctx, id).await? {
        Some(a) if a.artifact_type == kind => a,
        Some(a) => {
            return Err(StepError::new(format!(
                "{id} is a {}, not a {kind}",
                a.artifact_type
            )))
        }
        _ => return Err(StepError::new(format!("{kind} {id} not found"))),
    };
    let (_, ext, mime) = FORMATS
        .iter()
        .find(|(f, _, _)| *f == format)
        .copied()
        .ok_or_else(|| StepError::new(format!("unknown export format {format}")))?;
    let payload = source.semantic_descriptor.clone();
    let heading = title(kind, &payload);
    let format_owned = format.to_string();
    let bytes = tokio::task::spawn_blocking(move || match format_owned.as_str() {
        "json" => serde_json::to_vec_pretty(&payload).map_err(|e| e.to_string()),
        "yaml" => serde_yaml_ng::to_string(&payload)
            .map(String::into_bytes)
            .map_err(|e| e.to_string()),
        _ => super::docx::document(&heading, &payload),
    })
    .await
    .map_err(internal)?
    .map_err(|e| StepError::new(format!("cannot write the {format} document: {e}")))?;
    let size = bytes.len() as u64;
    if size > MAX_EXPORT_BYTES {
        return Err(StepError::new(format!(
            "the {format} document would be {size} bytes, more than {MAX_EXPORT_BYTES}"
        )));
    }
    // An export's document counts against the storage quota as a file does.
    let export_id = derived_id(&ctx.execution_id, "export");
    let room = crate::runtime::realms::quota::room(ctx, Some(&export_id)).await?;
    if size > room.bytes {
        return Err(room.bytes_error(size));
    }
    let blob = ctx
        .services
        .blobs
        .put(Box::pin(std::io::Cursor::new(bytes)), MAX_EXPORT_BYTES)
        .await
        .map_err(internal)?;
    let short: String = source.artifact_id.chars().take(8).collect();
    let filename = format!("{kind}-{short}.{ext}");
    let descriptor = json!({"export_id": export_id, "artifact_id": source.artifact_id,
        "artifact_type": kind, "filename": filename, "format": format, "mime_type": mime,
        "size_bytes": size, "sha256": blob.sha256});
    let mut d = Derived::new(
        &export_id,
        "export",
        vec![source.artifact_id.clone()],
        descriptor.clone(),
    );
    d.blob_sha256 = Some(blob.sha256.clone());
    register_derived(ctx, d).await?;
    Ok(descriptor)
}
