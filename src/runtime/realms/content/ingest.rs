//! `ingest_file` and `content.upload`: store the content as a blob, then register the file
//! artifact (`pending_materialization`). Content comes as hex (`file_content`), base64
//! (`file_content_base64`, or `file_data` for `content.upload`), or — from the upload route —
//! as an `upload_id` the same session made.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::common::{clean_filename, derived_id, file_payload, guess_mime, internal};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

pub struct Ingest {
    intent: &'static str,
}

impl Ingest {
    pub fn ingest_file() -> Self {
        Self {
            intent: "ingest_file",
        }
    }

    pub fn content_upload() -> Self {
        Self {
            intent: "content.upload",
        }
    }
}

const SOURCES: [&str; 4] = [
    "file_content",
    "file_content_base64",
    "file_data",
    "upload_id",
];

enum Source {
    Bytes(Vec<u8>),
    Upload(String),
}

/// Decodes the parameters' content. `Err((field, problem))` for bad input.
fn source(p: &Value) -> Result<Source, (String, String)> {
    let given: Vec<&str> = SOURCES
        .iter()
        .copied()
        .filter(|k| p.get(k).is_some())
        .collect();
    let [field] = given[..] else {
        let problem = if given.is_empty() {
            "is required (or file_content_base64, file_data, upload_id)"
        } else {
            "give exactly one of file_content, file_content_base64, file_data, upload_id"
        };
        return Err(("parameters.file_content".into(), problem.into()));
    };
    let text = p[field].as_str().ok_or_else(|| {
        (
            format!("parameters.{field}"),
            "must be a string".to_string(),
        )
    })?;
    let bad = |what: &str| (format!("parameters.{field}"), what.to_string());
    match field {
        "upload_id" => Ok(Source::Upload(text.to_string())),
        "file_content" => hex::decode(text.trim())
            .map(Source::Bytes)
            .map_err(|_| bad("must be hexadecimal")),
        _ => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(Source::Bytes)
            .map_err(|_| bad("must be base64")),
    }
}

/// `ingest_file`'s (and `content.upload`'s) parameters: the content, decoded once.
pub struct IngestParams {
    source: Source,
    /// As the client named it (a display name only); `file` when not given.
    pub filename: String,
    pub ui_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_type: Option<Value>,
    pub ingestion_type: Option<Value>,
}

impl IntentParams for IngestParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let from_upload = p.get("upload_id").is_some();
        let mut filename = None;
        if !from_upload || p.get("filename").is_some() {
            filename = f.required_str("filename");
            if filename.as_ref().is_some_and(|n| n.chars().count() > 1024) {
                f.error("filename", "must be at most 1024 characters");
            }
        }
        let source = match source(p) {
            Ok(s) => Some(s),
            Err((field, problem)) => {
                f.error(field.trim_start_matches("parameters."), problem);
                None
            }
        };
        let text = |name: &str| p.get(name).and_then(Value::as_str).map(str::to_string);
        f.finish(|| {
            Some(IngestParams {
                source: source?,
                filename: filename.unwrap_or_else(|| "file".into()),
                ui_name: text("ui_name"),
                mime_type: text("mime_type"),
                file_type: p.get("file_type").cloned(),
                ingestion_type: p.get("ingestion_type").cloned(),
            })
        })
    }
}

impl TypedIntent for Ingest {
    type Params = IngestParams;

    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        "Bring a file into the platform (stored, then waiting to be saved)."
    }

    fn produces(&self, execution_id: &str) -> Vec<(&'static str, String)> {
        vec![("file_id", derived_id(execution_id, "file"))]
    }

    fn takes_upload(&self) -> bool {
        true
    }

    fn steps(&self, params: Arc<IngestParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![
            Arc::new(StoreContent(params.clone())),
            Arc::new(RegisterFile(params)),
        ]
    }
}

struct StoreContent(Arc<IngestParams>);

#[async_trait]
impl SagaStep for StoreContent {
    fn name(&self) -> &str {
        "store_content"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let s = &ctx.services;
        let (sha256, size, from_upload) = match &self.0.source {
            Source::Upload(id) => {
                let up = s
                    .store
                    .upload(id, &ctx.session_id)
                    .await
                    .map_err(internal)?
                    .ok_or_else(|| StepError::new(format!("upload {id} not found")))?;
                (up.blob_sha256, up.size_bytes as u64, true)
            }
            Source::Bytes(bytes) => {
                let info = s
                    .blobs
                    .put(
                        Box::pin(std::io::Cursor::new(bytes.as_slice())),
                        s.max_upload_bytes,
                    )
                    .await
                    .map_err(|e| StepError::new(e.to_string()))?;
                (info.sha256, info.size_bytes, false)
            }
        };
        Ok(StepOutput {
            output: json!({"sha256": sha256, "size_bytes": size, "from_upload": from_upload}),
            artifacts: Map::new(),
        })
    }
    // No compensation: content nothing references is collected by the janitor.
}

struct RegisterFile(Arc<IngestParams>);

#[async_trait]
impl SagaStep for RegisterFile {
    fn name(&self) -> &str {
        "register_file"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &self.0;
        let stored = ctx
            .outputs
            .get("store_content")
            .cloned()
            .unwrap_or(Value::Null);
        let sha256 = stored["sha256"].as_str().unwrap_or_default().to_string();
        let size = stored["size_bytes"].as_u64().unwrap_or(0);
        let filename = clean_filename(&p.filename);
        let ui_name = p
            .ui_name
            .as_deref()
            .map(clean_filename)
            .unwrap_or_else(|| filename.clone());
        // A generic type from the client says nothing: the extension says more.
        let mime = p
            .mime_type
            .as_deref()
            .filter(|m| !m.is_empty() && *m != "application/octet-stream")
            .map(str::to_string)
            .unwrap_or_else(|| guess_mime(&filename).to_string());
        let file_id = derived_id(&ctx.execution_id, "file");
        let image = image_metadata(ctx, &sha256).await;
        // A re-run after a crash finds its own file already counted: only a new one is checked.
        let registered = ctx
            .services
            .store
            .artifact(&file_id)
            .await
            .map_err(internal)?;
        if registered.is_none() {
            let room = crate::runtime::realms::quota::room(ctx, None).await?;
            if size > room.bytes {
                return Err(room.bytes_error(size));
            }
        }
        let now = now_micros();
        let row = ArtifactRow {
            artifact_id: file_id.clone(),
            artifact_type: "file".into(),
            tenant_id: ctx.tenant_id.clone(),
            session_id: ctx.session_id.clone(),
            lifecycle_state: "pending_materialization".into(),
            semantic_descriptor: json!({
                "file_id": file_id,
                "filename": filename,
                "ui_name": ui_name,
                // The web frontend's dashboard names a row by its `schema`.
                "schema": ui_name,
                "size_bytes": size,
                "sha256": sha256,
                "mime_type": mime,
                "file_type": p.file_type.clone().unwrap_or(Value::Null),
                "ingestion_type": p.ingestion_type.clone().unwrap_or_else(|| json!("upload")),
                "boundary_contract_id": derived_id(&ctx.execution_id, "boundary_contract"),
                "file_reference": format!("blob:sha256:{sha256}"),
                "image": image,
            }),
            parent_artifacts: Vec::new(),
            produced_by_intent: ctx.intent_type.clone(),
            produced_by_execution: ctx.execution_id.clone(),
            blob_sha256: Some(sha256),
            created_at: now,
            updated_at: now,
        };
        ctx.services
            .store
            .insert_artifact(&row)
            .await
            .map_err(internal)?;
        let mut artifacts = Map::new();
        artifacts.insert("file".into(), artifact("file", file_payload(&row)));
        Ok(StepOutput {
            output: json!({"file_id": file_id}),
            artifacts,
        })
    }

    async fn compensate(&self, ctx: &StepContext, output: &Value) -> Result<(), StepError> {
        let Some(file_id) = output["file_id"].as_str() else {
            return Ok(());
        };
        super::files::remove_tree(ctx, file_id).await
    }
}

/// Bytes of a file's head read to recognise an image and its size.
const IMAGE_HEAD: u64 = 64 * 1024;

/// An image's format and size, read from the head of its content (`null` for anything else):
/// the "image" upload category stores the picture with what it is.
async fn image_metadata(ctx: &StepContext, sha256: &str) -> Value {
    let blobs = ctx.services.blobs.clone();
    let sha = sha256.to_string();
    let head = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut head = Vec::new();
        let reader = blobs.open_blocking(&sha).ok()?;
        reader.take(IMAGE_HEAD).read_to_end(&mut head).ok()?;
        Some(head)
    })
    .await
    .ok()
    .flatten();
    let Some(head) = head else {
        return Value::Null;
    };
    match (imagesize::image_type(&head), imagesize::blob_size(&head)) {
        (Ok(kind), Ok(size)) => json!({
            "format": format!("{kind:?}").to_lowercase(),
            "width": size.width,
            "height": size.height,
        }),
        _ => Value::Null,
    }
}
