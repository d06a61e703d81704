//! Read-only content intents: `get_parsed_file` (paged records), `list_files` /
//! `list_artifacts`, `retrieve_artifact_metadata`.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::{display_name, file_payload, find_visible, internal, owner, parsed_or_latest};
use super::parsed_file::ParsedFileDescriptor;
use crate::runtime::engine::artifact_registry::artifact_record;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::store::artifacts::ArtifactFilter;
use crate::store::artifacts::ArtifactRow;
use crate::store::time::to_rfc3339;

pub const MAX_PAGE: u64 = 1000;

/// A read-only content intent over its parameters type `P`.
pub struct Query<P> {
    intent: &'static str,
    description: &'static str,
    _params: PhantomData<fn() -> P>,
}

impl<P> Query<P> {
    const fn new(intent: &'static str, description: &'static str) -> Self {
        Self {
            intent,
            description,
            _params: PhantomData,
        }
    }
}

impl Query<ParsedPage> {
    pub fn get_parsed_file() -> Self {
        Self::new("get_parsed_file", "Read a page of a parsed file's records.")
    }
}

impl Query<ArtifactRef> {
    pub fn retrieve_artifact_metadata() -> Self {
        Self::new(
            "retrieve_artifact_metadata",
            "Show an artifact's record: lineage, lifecycle, description.",
        )
    }
}

impl Query<ArtifactList> {
    pub fn list_files() -> Self {
        Self::new("list_files", "List your files.")
    }

    pub fn content_list_files() -> Self {
        Self::new(
            "content_list_files",
            "List your parsed files (or other artifacts) by name, for picking one.",
        )
    }

    pub fn list_artifacts() -> Self {
        Self::new(
            "list_artifacts",
            "List your artifacts (files, parsed files, materializations).",
        )
    }
}

/// `limit` (at most [`MAX_PAGE`], 100 when not given) and `offset`, as every query takes them.
#[derive(Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    fn decode(f: &mut Fields<'_>) -> Page {
        let limit = f.optional_count("limit", MAX_PAGE).unwrap_or(100) as i64;
        let offset = f.optional_count("offset", i64::MAX as u64).unwrap_or(0) as i64;
        Page { limit, offset }
    }
}

/// `get_parsed_file`'s parameters.
pub struct ParsedPage {
    pub parsed_file_id: String,
    pub page: Page,
}

/// `retrieve_artifact_metadata`'s parameters.
pub struct ArtifactRef {
    pub artifact_id: String,
    pub page: Page,
}

/// `list_files`' and `list_artifacts`' parameters.
pub struct ArtifactList {
    pub artifact_type: Option<String>,
    pub lifecycle_state: Option<String>,
    pub page: Page,
}

impl IntentParams for ParsedPage {
    /// `parsed_file_id`; or, as the web frontend sends it, `file_id` holding a parsed file's
    /// id (or a file's, whose latest parse is read).
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let id = if p.get("parsed_file_id").is_none() && p.get("file_id").is_some() {
            f.required_str("file_id")
        } else {
            f.required_str("parsed_file_id")
        };
        let page = Page::decode(&mut f);
        f.finish(|| {
            Some(ParsedPage {
                parsed_file_id: id?,
                page,
            })
        })
    }
}

impl IntentParams for ArtifactRef {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let id = f.required_str("artifact_id");
        let page = Page::decode(&mut f);
        f.finish(|| {
            Some(ArtifactRef {
                artifact_id: id?,
                page,
            })
        })
    }
}

impl IntentParams for ArtifactList {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let text = |f: &mut Fields<'_>, name: &str| match p.get(name) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                f.error(name, "must be a string");
                None
            }
        };
        let artifact_type = text(&mut f, "artifact_type");
        let lifecycle_state = text(&mut f, "lifecycle_state");
        let page = Page::decode(&mut f);
        f.finish(|| {
            Some(ArtifactList {
                artifact_type,
                lifecycle_state,
                page,
            })
        })
    }
}

/// What a query reads.
pub enum What {
    ParsedPage(String),
    Artifact(String),
    List {
        artifact_type: Option<String>,
        lifecycle_state: Option<String>,
        view: ListView,
    },
}

/// How a list is answered besides our own `files` artifact (`{items, total, limit, offset}`).
#[derive(Clone, Copy, PartialEq)]
pub enum ListView {
    /// Only that.
    Plain,
    /// `list_files`: also the web frontend's `file_list` (`{files, count, total}`).
    FileList,
    /// `content_list_files`: `files` is the web frontend's bare array of
    /// `{artifact_id, name, artifact_type, created_at}` instead.
    BareFiles,
}

/// How a query's parameters say what to read.
pub trait QueryParams: IntentParams {
    fn what(&self, intent: &str) -> (What, Page);
}

impl QueryParams for ParsedPage {
    fn what(&self, _intent: &str) -> (What, Page) {
        (What::ParsedPage(self.parsed_file_id.clone()), self.page)
    }
}

impl QueryParams for ArtifactRef {
    fn what(&self, _intent: &str) -> (What, Page) {
        (What::Artifact(self.artifact_id.clone()), self.page)
    }
}

impl QueryParams for ArtifactList {
    fn what(&self, intent: &str) -> (What, Page) {
        // `list_files` lists files, whatever else it is given; the frontend calls parsed files
        // `parsed_content`.
        let artifact_type = match (intent, self.artifact_type.as_deref()) {
            ("list_files", _) => Some("file".to_string()),
            (_, Some("parsed_content")) => Some("parsed_file".to_string()),
            (_, other) => other.map(str::to_string),
        };
        let view = match intent {
            "list_files" => ListView::FileList,
            "content_list_files" => ListView::BareFiles,
            _ => ListView::Plain,
        };
        let what = What::List {
            artifact_type,
            lifecycle_state: self.lifecycle_state.clone(),
            view,
        };
        (what, self.page)
    }
}

impl<P: QueryParams> TypedIntent for Query<P> {
    type Params = P;

    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        self.description
    }

    fn steps(&self, params: Arc<P>) -> Vec<Arc<dyn SagaStep>> {
        let (what, page) = params.what(self.intent);
        vec![Arc::new(QueryStep { what, page })]
    }
}

struct QueryStep {
    what: What,
    page: Page,
}

#[async_trait]
impl SagaStep for QueryStep {
    fn name(&self) -> &str {
        "read"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let store = &ctx.services.store;
        let Page { limit, offset } = self.page;
        let mut extra: Vec<(&str, Value)> = Vec::new();
        let (key, payload) = match &self.what {
            What::ParsedPage(id) => {
                let parsed = parsed_or_latest(ctx, id).await?;
                let records = store
                    .parsed_records(&parsed.artifact_id, offset, limit)
                    .await
                    .map_err(internal)?;
                let table = preview(&parsed, &records);
                extra.push(("parsed_content", table.clone()));
                extra.push(("preview", table));
                let mut payload = parsed.semantic_descriptor.clone();
                payload["records"] = Value::Array(records);
                payload["offset"] = json!(offset);
                payload["limit"] = json!(limit);
                ("parsed_file", payload)
            }
            What::Artifact(id) => {
                let Some(a) = find_visible(ctx, id).await? else {
                    return Err(StepError::new(format!("artifact {id} not found")));
                };
                (
                    "artifact",
                    artifact_record(store, &a).await.map_err(internal)?,
                )
            }
            What::List {
                artifact_type,
                lifecycle_state,
                view,
            } => {
                let filter = ArtifactFilter {
                    artifact_type: artifact_type.clone(),
                    lifecycle_state: lifecycle_state.clone(),
                    limit,
                    offset,
                };
                let (rows, total) = store
                    .list_artifacts(&owner(ctx), &filter)
                    .await
                    .map_err(internal)?;
                let mut items = Vec::with_capacity(rows.len());
                for a in &rows {
                    items.push(artifact_record(store, a).await.map_err(internal)?);
                }
                if *view == ListView::FileList {
                    let mut files = Vec::with_capacity(rows.len());
                    for a in &rows {
                        files.push(file_list_item(ctx, a).await?);
                    }
                    extra.push((
                        "file_list",
                        json!({"files": files, "count": files.len(), "total": total}),
                    ));
                }
                if *view == ListView::BareFiles {
                    let mut files = Vec::with_capacity(rows.len());
                    for a in &rows {
                        files.push(json!({"artifact_id": a.artifact_id,
                            "name": display_name(ctx, a).await?,
                            "artifact_type": a.artifact_type,
                            "created_at": to_rfc3339(a.created_at)}));
                    }
                    let mut artifacts = Map::new();
                    artifacts.insert("files".into(), Value::Array(files));
                    artifacts.insert(
                        "listing".into(),
                        artifact(
                            "listing",
                            json!({"total": total, "limit": limit, "offset": offset}),
                        ),
                    );
                    return Ok(StepOutput {
                        output: json!({}),
                        artifacts,
                    });
                }
                (
                    "files",
                    json!({"items": items, "total": total, "limit": limit, "offset": offset}),
                )
            }
        };
        let mut artifacts = Map::new();
        for (key, payload) in extra {
            artifacts.insert(key.into(), artifact(key, payload));
        }
        artifacts.insert(key.into(), artifact(key, payload));
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}

/// One file as the web frontend's file list reads it (FRONTEND.md §4.4): the file's own
/// fields, and `status: "parsed"` with the `parsed_file_id` of its latest parse once parsed.
async fn file_list_item(ctx: &StepContext, file: &ArtifactRow) -> Result<Value, StepError> {
    let mut item = file_payload(file);
    let parses = ctx
        .services
        .store
        .children_of(&file.artifact_id, Some("parsed_file"))
        .await
        .map_err(internal)?;
    let latest = parses.iter().rev().find(|p| p.lifecycle_state == "active");
    item["status"] = json!(match (latest, file.lifecycle_state.as_str()) {
        (Some(_), _) => "parsed",
        (None, "pending_materialization") => "pending",
        (None, "active") => "saved",
        (None, other) => other,
    });
    if let Some(p) = latest {
        item["parsed_file_id"] = json!(p.artifact_id);
    }
    Ok(item)
}

/// A page of records as the web frontend's table shows it (FRONTEND.md §2 Preview): column
/// names as strings, each row as its cells' text in column order (an empty cell is "").
pub fn preview(parsed: &ArtifactRow, records: &[Value]) -> Value {
    let d = ParsedFileDescriptor::read(&parsed.semantic_descriptor);
    let columns: Vec<String> = d
        .as_ref()
        .map(|d| d.columns.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let cell = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| columns.iter().map(|c| cell(r.get(c))).collect())
        .collect();
    json!({
        "parsed_file_id": parsed.artifact_id,
        "file_id": d.as_ref().and_then(|d| d.file_id.clone()),
        "parsing_type": d.as_ref().and_then(|d| d.parsing_type.clone()),
        "columns": columns,
        "rows": rows,
        "total_rows": d.as_ref().and_then(|d| d.record_count).unwrap_or(0),
        "total_columns": columns.len(),
        "preview_rows": rows.len(),
        "preview_columns": columns.len(),
    })
}
