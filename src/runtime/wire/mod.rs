//! The internal HTTP API, both ends: `server` serves any runtime client over HTTP; `client` is
//! the runtime client the Experience Plane uses to reach a Runtime Plane running apart.

pub mod client;
pub mod errors;
pub mod server;
