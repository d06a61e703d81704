//! The insights realm: statistics and analysis over parsed files (more intents follow:
//! quality, interpretation, relationships, data mash).

pub mod analyze;
pub mod interpret;
pub mod over_parsed;
pub mod quality;
pub mod relationships;
pub mod stats;
