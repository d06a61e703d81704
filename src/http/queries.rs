//! Query strings both planes accept.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub include_artifacts: Option<bool>,
    #[serde(default)]
    pub include_events: Option<bool>,
}
