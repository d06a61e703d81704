//! The content realm: files in (upload, ingest), their lifecycle (materialize, archive,
//! delete), parsing and the artifact registry.

pub mod common;
pub mod document_text;
pub mod files;
pub mod ingest;
pub mod janitor;
pub mod journey;
pub mod lineage;
pub mod parse_intent;
pub mod parsed_file;
pub mod parsing;
pub mod query;

use std::sync::Arc;
use std::time::Duration;

use ractor::Actor;

use crate::actors::{ChildSpec, Slot};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::params::Typed;
use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::{HandlerRegistry, RealmEnv};
use janitor::{Janitor, JanitorArgs, JanitorMsg};

/// The content realm's settings (in `RuntimeConfig::realms`; these defaults otherwise).
#[derive(Debug, Clone)]
pub struct ContentSettings {
    /// A file never materialized is removed this long after its ingestion.
    pub unmaterialized_ttl: Duration,
    /// How often the janitor sweeps.
    pub janitor_interval: Duration,
    /// Unreferenced blobs are collected once they have not been stored for this long (the
    /// time an upload has to be referenced by its file).
    pub blob_grace: Duration,
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self {
            unmaterialized_ttl: Duration::from_secs(24 * 3600),
            janitor_interval: Duration::from_secs(60),
            blob_grace: Duration::from_secs(3600),
        }
    }
}

/// The janitor of a running runtime, left in its registry as a handle (operators, tests).
#[derive(Clone, Default)]
pub struct JanitorHandle(pub Slot<JanitorMsg>);

pub struct ContentRealm;

impl Realm for ContentRealm {
    fn name(&self) -> &'static str {
        "content"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        let content = Some(Pillar::Content);
        registry.register_in(content, Arc::new(Typed(ingest::Ingest::ingest_file())));
        registry.register_in(content, Arc::new(Typed(ingest::Ingest::content_upload())));
        registry.register_in(
            content,
            Arc::new(Typed(files::FileIntent::save_materialization())),
        );
        registry.register_in(content, Arc::new(Typed(files::FileIntent::archive_file())));
        registry.register_in(content, Arc::new(Typed(files::FileIntent::delete_file())));
        registry.register_in(
            content,
            Arc::new(Typed(files::FileIntent::get_file_by_id())),
        );
        registry.register_in(content, Arc::new(Typed(parse_intent::ParseContent)));
        registry.register_in(content, Arc::new(Typed(lineage::VisualizeLineage)));
        registry.register_in(content, Arc::new(Typed(journey::ComposeJourney)));
        registry.register_in(content, Arc::new(Typed(query::Query::get_parsed_file())));
        registry.register_in(content, Arc::new(Typed(query::Query::list_files())));
        registry.register_in(content, Arc::new(Typed(query::Query::list_artifacts())));
        registry.register_in(content, Arc::new(Typed(query::Query::content_list_files())));
        registry.register_in(
            content,
            Arc::new(Typed(query::Query::retrieve_artifact_metadata())),
        );
        let handle = JanitorHandle::default();
        registry.insert_handle(handle.clone());
        registry.background("janitor", Arc::new(move |env| janitor_spec(env, &handle)));
    }
}

fn janitor_spec(env: &RealmEnv<'_>, handle: &JanitorHandle) -> ChildSpec {
    let settings = env
        .config
        .realms
        .get::<ContentSettings>()
        .cloned()
        .unwrap_or_default();
    let (services, faults, slot) = (env.services.clone(), env.faults.clone(), handle.0.clone());
    ChildSpec::new("janitor", move |sup| {
        let args = JanitorArgs {
            services: services.clone(),
            ttl: settings.unmaterialized_ttl,
            interval: settings.janitor_interval,
            blob_grace: settings.blob_grace,
            faults: faults.clone(),
        };
        let slot = slot.clone();
        Box::pin(async move {
            let (actor, _) = Actor::spawn_linked(None, Janitor, args, sup).await?;
            slot.set(actor.clone());
            Ok(actor.get_cell())
        })
    })
}
