//! `parse_content {file_id, parsing_type?, parse_options?}`: parses the file's blob on the
//! blocking pool, streaming records through a bounded channel into batched inserts, so memory
//! stays bounded for files of any size. Produces a `parsed_file` artifact derived from the file.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::common::{derived_id, find, internal, small_file_bytes};
use super::parsed_file::ParsedFileDescriptor;
use super::parsing::copybook::decode::Encoding;
use super::parsing::copybook::layout::MAX_COPYBOOK_BYTES;
use super::parsing::{self, ParseError, ParseOptions, ParsingType};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

const BATCH: usize = 1000;

pub struct ParseContent;

/// `parse_content`'s parameters.
pub struct ParseParams {
    pub file_id: String,
    /// `auto` when not given.
    pub parsing_type: ParsingType,
    /// `parse_options.has_header`; `None`: decided from the content.
    pub has_header: Option<bool>,
    /// The copybook file describing the file's records: `copybook_file_id`, or
    /// `copybook_reference` as the web frontend sends it (`copybook:<tenant>:<session>:<id>`).
    pub copybook_file_id: Option<String>,
    /// `parse_options.encoding` (`ebcdic` or `ascii`) of copybook data; detected otherwise.
    pub encoding: Option<Encoding>,
}

impl IntentParams for ParseParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let file_id = f.required_str("file_id");
        let parsing_type = match p.get("parsing_type") {
            None => Some(ParsingType::Auto),
            Some(t) => {
                let t = t.as_str().and_then(ParsingType::parse);
                if t.is_none() {
                    f.error(
                        "parsing_type",
                        format!("must be one of {}", ParsingType::NAMES),
                    );
                }
                t
            }
        };
        let has_header = match p.get("parse_options").and_then(|o| o.get("has_header")) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                f.error("parse_options.has_header", "must be a boolean");
                None
            }
        };
        let copybook_file_id = match (p.get("copybook_file_id"), p.get("copybook_reference")) {
            (Some(_), _) => f.required_str("copybook_file_id"),
            (None, Some(Value::String(r))) if !r.is_empty() => {
                Some(r.rsplit(':').next().unwrap_or(r).to_string())
            }
            (None, Some(Value::Null) | None) => None,
            (None, Some(_)) => {
                f.error("copybook_reference", "must be a copybook file's reference");
                None
            }
        };
        let encoding = match p.get("parse_options").and_then(|o| o.get("encoding")) {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_str() {
                Some("ebcdic") => Some(Encoding::Ebcdic),
                Some("ascii") => Some(Encoding::Ascii),
                _ => {
                    f.error("parse_options.encoding", "must be ebcdic or ascii");
                    None
                }
            },
        };
        f.finish(|| {
            Some(ParseParams {
                file_id: file_id?,
                parsing_type: parsing_type?,
                has_header,
                copybook_file_id,
                encoding,
            })
        })
    }
}

impl TypedIntent for ParseContent {
    type Params = ParseParams;

    fn intent_type(&self) -> &str {
        "parse_content"
    }

    fn description(&self) -> &str {
        "Read a file's records and columns (CSV, TSV, JSON, JSON Lines, text, a spreadsheet, a Word document or a PDF)."
    }

    fn steps(&self, params: Arc<ParseParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Parse(params))]
    }
}

struct Parse(Arc<ParseParams>);

#[async_trait]
impl SagaStep for Parse {
    fn name(&self) -> &str {
        "parse"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &self.0;
        let file = find(ctx, &p.file_id, "file").await?;
        let requested = p.parsing_type;
        // For `auto`, the file's extension is a strong hint; the content decides otherwise.
        let requested = match requested {
            ParsingType::Auto => {
                by_extension(file.semantic_descriptor["filename"].as_str().unwrap_or(""))
            }
            other => other,
        };
        let copybook = match &p.copybook_file_id {
            Some(id) => Some(copybook_text(ctx, id).await?),
            None => None,
        };
        let options = ParseOptions {
            header: p.has_header,
            copybook,
            encoding: p.encoding,
        };
        let parsed_id = derived_id(&ctx.execution_id, "parsed_file");
        let descriptor = parse_file(ctx, &file, &parsed_id, requested, options).await?;
        let mut artifacts = Map::new();
        artifacts.insert("parsed_file".into(), artifact("parsed_file", descriptor));
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed_id}),
            artifacts,
        })
    }
}

/// Parses `file` into the parsed file `parsed_id` (derived from the file) and returns its
/// descriptor. A parse that fails leaves nothing behind.
pub async fn parse_file(
    ctx: &StepContext,
    file: &ArtifactRow,
    parsed_id: &str,
    requested: ParsingType,
    options: ParseOptions,
) -> Result<Value, StepError> {
    let parsed_id = parsed_id.to_string();
    let sha = file.blob_sha256.clone().unwrap_or_default();
    let file_bytes = file.semantic_descriptor["size_bytes"].as_u64();
    let room = crate::runtime::realms::quota::room(ctx, Some(&parsed_id)).await?;
    let store = ctx.services.store.clone();
    let reader = ctx
        .services
        .blobs
        .open_blocking(&sha)
        .map_err(|e| StepError::new(format!("the file's content is unavailable: {e}")))?;

    // The parsed file exists (as `parsing`) before its first record: a parse cancelled or
    // cut short by a crash leaves an artifact the janitor finds, never loose records.
    let started = now_micros();
    let pending = ArtifactRow {
        artifact_id: parsed_id.clone(),
        artifact_type: "parsed_file".into(),
        tenant_id: ctx.tenant_id.clone(),
        session_id: ctx.session_id.clone(),
        lifecycle_state: "parsing".into(),
        semantic_descriptor: ParsedFileDescriptor::parsing(&parsed_id, &file.artifact_id)
            .to_value(),
        parent_artifacts: vec![file.artifact_id.clone()],
        produced_by_intent: ctx.intent_type.clone(),
        produced_by_execution: ctx.execution_id.clone(),
        blob_sha256: None,
        created_at: started,
        updated_at: started,
    };
    store.insert_artifact(&pending).await.map_err(internal)?;

    let (tx, mut rx) = mpsc::channel::<Vec<String>>(4);
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let mut sink = |record: Map<String, Value>| {
            batch.push(Value::Object(record).to_string());
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                tx.blocking_send(full)
                    .map_err(|_| ParseError::new("the parse was interrupted"))?;
            }
            Ok(())
        };
        let summary = parsing::parse(reader, requested, &options, &mut sink)?;
        if !batch.is_empty() {
            tx.blocking_send(batch)
                .map_err(|_| ParseError::new("the parse was interrupted"))?;
        }
        Ok::<_, ParseError>(summary)
    });
    let mut next = 0i64;
    let mut write_error = None;
    let mut over_quota = None;
    while let Some(batch) = rx.recv().await {
        let len = batch.len() as i64;
        if (next + len) as u64 > room.records {
            // Past the storage quota: stop here (the parser stops when the channel closes).
            over_quota = Some(room.records_error((next + len) as u64));
            break;
        }
        if let Err(e) = store.insert_parsed_records(&parsed_id, next, batch).await {
            write_error = Some(e);
            break;
        }
        next += len;
        ctx.progress
            .report(
                next as u64,
                None,
                "records",
                json!({"parsed_file_id": parsed_id, "file_bytes": file_bytes}),
            )
            .await;
    }
    drop(rx);
    if let Some(e) = over_quota {
        let _ = parser.await;
        discard(&store, &parsed_id).await;
        return Err(e);
    }
    let parsed = match parser.await {
        Ok(p) => p,
        // A parser that panicked on this content: the same content would again.
        Err(e) if e.is_panic() => {
            discard(&store, &parsed_id).await;
            tracing::warn!(file_id = %file.artifact_id, "a parser panicked on a file's content");
            Err(ParseError::new(
                "the parser could not read this content (it is damaged or not what it claims)",
            ))
        }
        Err(e) => {
            discard(&store, &parsed_id).await;
            return Err(internal(e));
        }
    };
    let summary = match (parsed, write_error) {
        (_, Some(e)) => {
            discard(&store, &parsed_id).await;
            return Err(internal(e));
        }
        (Err(e), None) => {
            discard(&store, &parsed_id).await;
            let name = file.semantic_descriptor["filename"]
                .as_str()
                .unwrap_or("the file");
            return Err(StepError::new(format!(
                "cannot parse {name}: {}",
                e.message
            )));
        }
        (Ok(s), None) => s,
    };

    let descriptor = ParsedFileDescriptor {
        parsing_status: "parsed".into(),
        parsing_type: Some(summary.parsing_type.to_string()),
        record_count: Some(summary.record_count),
        columns: summary.columns,
        ..ParsedFileDescriptor::parsing(&parsed_id, &file.artifact_id)
    }
    .to_value();
    store
        .update_artifact(&parsed_id, &descriptor, "active", now_micros())
        .await
        .map_err(internal)?;
    Ok(descriptor)
}

/// The text of the copybook file `id` (at most 1 MiB).
async fn copybook_text(ctx: &StepContext, id: &str) -> Result<String, StepError> {
    let file = find(ctx, id, "file").await.map_err(|_| {
        StepError::new(format!(
            "copybook {id} not found: upload the copybook first"
        ))
    })?;
    let bytes = small_file_bytes(ctx, &file, MAX_COPYBOOK_BYTES, "copybook").await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn by_extension(filename: &str) -> ParsingType {
    let ext = filename
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" => ParsingType::Csv,
        "tsv" | "tab" => ParsingType::Tsv,
        "jsonl" | "ndjson" => ParsingType::Jsonl,
        "json" => ParsingType::Json,
        _ => ParsingType::Auto,
    }
}

/// Removes the records of a parse that did not finish.
async fn discard(store: &crate::store::ArtifactStore, parsed_id: &str) {
    if let Err(e) = store.delete_artifact_tree(parsed_id).await {
        tracing::warn!(error = %e, %parsed_id, "could not remove a failed parse's records");
    }
}
