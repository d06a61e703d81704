//! Agent kinds and pillars, with the contract's tolerant spellings. They cross the seam (a
//! chat turn names its agent) and realms declare the pillar their intents belong to.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pillar {
    Content,
    Insights,
    Operations,
    BusinessOutcomes,
}

impl Pillar {
    pub const ALL: [Pillar; 4] = [
        Pillar::Content,
        Pillar::Insights,
        Pillar::Operations,
        Pillar::BusinessOutcomes,
    ];

    /// `content`, `insights`, `operations` (also `journey`), `business_outcomes` (also
    /// `outcomes`); surfaces like `content_pillar` too, and the web frontend's agent names
    /// (`ContentLiaisonAgent`, `InsightsLiaisonAgent`, `BusinessOutcomesLiaisonAgent`, and
    /// `WorkflowBuilderWizardAgent` for operations).
    pub fn parse(s: &str) -> Option<Pillar> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_suffix("_pillar").unwrap_or(&s);
        let s = s
            .strip_suffix("liaisonagent")
            .or_else(|| s.strip_suffix("agent"))
            .unwrap_or(s);
        Some(match s {
            "content" => Pillar::Content,
            "insights" => Pillar::Insights,
            "operations" | "journey" | "workflowbuilderwizard" => Pillar::Operations,
            "business_outcomes" | "outcomes" | "businessoutcomes" => Pillar::BusinessOutcomes,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Pillar::Content => "content",
            Pillar::Insights => "insights",
            Pillar::Operations => "operations",
            Pillar::BusinessOutcomes => "business_outcomes",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pillar::Content => "Content",
            Pillar::Insights => "Insights",
            Pillar::Operations => "Operations",
            Pillar::BusinessOutcomes => "Business Outcomes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentKind {
    Guide,
    Liaison(Pillar),
}

impl AgentKind {
    /// `guide`, `liaison.content`, `liaison.insights`, `liaison.operations`, `liaison.outcomes`.
    pub fn id(self) -> &'static str {
        match self {
            AgentKind::Guide => "guide",
            AgentKind::Liaison(Pillar::Content) => "liaison.content",
            AgentKind::Liaison(Pillar::Insights) => "liaison.insights",
            AgentKind::Liaison(Pillar::Operations) => "liaison.operations",
            AgentKind::Liaison(Pillar::BusinessOutcomes) => "liaison.outcomes",
        }
    }

    pub fn parse_id(s: &str) -> Option<AgentKind> {
        match s {
            "guide" => Some(AgentKind::Guide),
            other => other
                .strip_prefix("liaison.")
                .and_then(Pillar::parse)
                .map(AgentKind::Liaison),
        }
    }

    /// `agent_type` as the frontend knows it.
    pub fn agent_type(self) -> &'static str {
        match self {
            AgentKind::Guide => "guide",
            AgentKind::Liaison(_) => "liaison",
        }
    }

    pub fn pillar(self) -> Option<Pillar> {
        match self {
            AgentKind::Guide => None,
            AgentKind::Liaison(p) => Some(p),
        }
    }
}
