//! What the registry says of a registered intent (the Guide lists them; liaisons run their
//! pillar's; realms' steps read them through the desk).

use crate::runtime::contract::agents::Pillar;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IntentInfo {
    pub intent_type: String,
    pub description: String,
    /// The pillar whose liaison serves it (`None`: no pillar, such as `echo`).
    pub pillar: Option<Pillar>,
}
