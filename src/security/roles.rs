//! Roles within a tenant and the permissions each grants.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Role::Owner => &["read", "write", "admin", "delete"],
            Role::Admin => &["read", "write", "admin"],
            Role::Member => &["read", "write"],
            Role::Viewer => &["read"],
        }
    }
}

/// The union of the roles' permissions, in a stable order.
pub fn permissions_of(roles: &[Role]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in ["read", "write", "admin", "delete"] {
        if roles.iter().any(|r| r.permissions().contains(&p)) {
            out.push(p.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_permissions_follow_the_contract() {
        assert_eq!(
            permissions_of(&[Role::Owner]),
            ["read", "write", "admin", "delete"]
        );
        assert_eq!(permissions_of(&[Role::Admin]), ["read", "write", "admin"]);
        assert_eq!(permissions_of(&[Role::Member]), ["read", "write"]);
        assert_eq!(permissions_of(&[Role::Viewer]), ["read"]);
        assert_eq!(Role::parse("owner"), Some(Role::Owner));
        assert_eq!(Role::parse("root"), None);
    }
}
