//! The Experience Plane's handle on the store: the Security Guard's tables (users, tenants,
//! memberships, refresh tokens) and the database's health — and nothing of the runtime's
//! tables, which the Experience Plane reaches only through the runtime client.

use std::sync::Arc;

use super::db::Store;
use super::health::DbHealth;

#[derive(Clone)]
pub struct AuthStore {
    pub(super) store: Store,
}

impl Store {
    /// The handle the Experience Plane is given.
    pub fn auth(&self) -> AuthStore {
        AuthStore {
            store: self.clone(),
        }
    }
}

impl AuthStore {
    /// Whether the database can be read and written (as of the last probe).
    pub fn health(&self) -> &Arc<DbHealth> {
        self.store.health()
    }
}
