//! The insights realm: statistics, quality, interpretation and relationships of parsed files,
//! and the data mash that combines several of them.

pub mod analyze;
pub mod budget;
pub mod clip;
pub mod interpret;
pub mod key_values;
pub mod mash;
pub mod over_parsed;
pub mod quality;
pub mod relationships;
pub mod stats;
pub mod topk;
