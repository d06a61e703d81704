//! The Experience Plane's handle on the store: the Security Guard's tables (users, tenants,
//! memberships, refresh tokens and their families) and the database's health — and nothing of
//! the runtime's tables, which the Experience Plane reaches only through the runtime client.
//!
//! The `experience` process applies no migration: the Runtime Plane (or `symphainy migrate`)
//! owns the schema. It checks that the migrations it uses ([`AUTH_MIGRATIONS`]) are applied,
//! and until they are its database health is down with the reason, so it answers 503
//! `database_unavailable` and recovers by itself once the runtime has migrated.

use std::sync::Arc;

use super::db::Store;
use super::health::DbHealth;

/// The migrations that create or change what the Experience Plane reads and writes: the
/// security tables (0002), refresh-token families (0003) and the health probe's row (0010).
/// A test keeps this list true: any migration naming one of these tables must be in it.
pub const AUTH_MIGRATIONS: &[i64] = &[2, 3, 10];

/// The tables behind [`AUTH_MIGRATIONS`].
pub const AUTH_TABLES: &[&str] = &[
    "tenants",
    "users",
    "memberships",
    "refresh_tokens",
    "refresh_families",
    "health_probe",
];

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

#[cfg(test)]
mod tests {
    use super::{AUTH_MIGRATIONS, AUTH_TABLES};

    /// Every migration that creates, alters or indexes one of the Experience Plane's tables is
    /// one it checks for; a new one left out of the list fails here.
    #[test]
    fn the_list_names_every_migration_of_the_experience_tables() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut touching = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let version: i64 = name.split('_').next().unwrap().parse().unwrap();
            let sql = std::fs::read_to_string(&path).unwrap().to_lowercase();
            let code: String = sql
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            let names_one = AUTH_TABLES.iter().any(|t| {
                [" table ", " on "].iter().any(|k| {
                    code.contains(&format!("{k}{t} ")) || code.contains(&format!("{k}{t}("))
                })
            });
            if names_one {
                touching.push(version);
            }
        }
        touching.sort();
        assert_eq!(touching, AUTH_MIGRATIONS);
    }
}
