//! Query strings both planes accept.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct TenantQuery {
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub include_artifacts: Option<bool>,
    #[serde(default)]
    pub include_events: Option<bool>,
}
