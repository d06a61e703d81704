//! The Security Guard: users, tenants, roles, password hashing, access and refresh tokens,
//! and the shared secrets of the deployment.

pub mod download_tokens;
pub mod guard;
pub mod inputs;
pub mod password;
pub mod rate;
pub mod roles;
pub mod secrets;
pub mod tokens;

pub use guard::{AuthError, Identity, SecurityGuard, TokenPair};
