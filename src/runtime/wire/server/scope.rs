//! The caller's scope on the internal API. A runtime client in another process names it in the
//! `x-symphainy-scope` header (`*`: any tenant; else one tenant id), so a request means exactly
//! what it means in-process. Without the header the request's `tenant_id` decides, as the
//! contract's internal API describes.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderValue;

use crate::runtime::contract::model::Scope;

pub const SCOPE_HEADER: &str = "x-symphainy-scope";

/// The header value that says `scope`.
pub fn header_value(scope: &Scope) -> HeaderValue {
    let text = match scope {
        Scope::Any => "*",
        Scope::Tenant(t) => t.as_str(),
    };
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The scope from the header, if the caller sent one.
pub struct CallerScope(Option<Scope>);

impl CallerScope {
    /// The header's scope, else the one `tenant_id` gives.
    pub fn or_tenant(self, tenant_id: Option<String>) -> Scope {
        self.0.unwrap_or_else(|| Scope::from_tenant(tenant_id))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallerScope {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let scope = parts
            .headers
            .get(SCOPE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| match v {
                "*" => Scope::Any,
                // A malformed tenant matches no session: the caller sees 404, never more.
                t => Scope::Tenant(t.to_string()),
            });
        Ok(CallerScope(scope))
    }
}
