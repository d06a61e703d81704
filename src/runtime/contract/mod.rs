//! The seam between the planes: the runtime client trait and what crosses it.

pub mod agents;
pub mod client;
pub mod cluster;
pub mod error;
pub mod event_type;
pub mod listing;
pub mod model;
