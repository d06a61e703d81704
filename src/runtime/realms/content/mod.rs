//! The content realm: files in (upload, ingest), their lifecycle (materialize, archive,
//! delete), parsing and the artifact registry.

pub mod parsing;
