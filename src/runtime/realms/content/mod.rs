//! The content realm: files in (upload, ingest), their lifecycle (materialize, archive,
//! delete), parsing and the artifact registry.

pub mod common;
pub mod files;
pub mod ingest;
pub mod janitor;
pub mod parse_intent;
pub mod parsing;
pub mod query;

use std::sync::Arc;

use crate::runtime::engine::handler::HandlerRegistry;

pub fn register(registry: &mut HandlerRegistry) {
    registry.register(Arc::new(ingest::Ingest::ingest_file()));
    registry.register(Arc::new(ingest::Ingest::content_upload()));
    registry.register(Arc::new(files::FileIntent::save_materialization()));
    registry.register(Arc::new(files::FileIntent::archive_file()));
    registry.register(Arc::new(files::FileIntent::delete_file()));
    registry.register(Arc::new(parse_intent::ParseContent));
    registry.register(Arc::new(query::Query::get_parsed_file()));
    registry.register(Arc::new(query::Query::list_files()));
    registry.register(Arc::new(query::Query::list_artifacts()));
    registry.register(Arc::new(query::Query::retrieve_artifact_metadata()));
}
