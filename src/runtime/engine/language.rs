//! The optional language model, as realms see it: one question, one bounded answer. Realms'
//! engines decide everything they can by their own rules; the model words results and judges
//! what no rule decides, when one is configured (`SYMPHAINY_LLM_*`). A model that is absent,
//! slow or wrong leaves the deterministic result: it is never required.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// A model that answers a prompt under instructions.
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// The answer's text, at most `max_bytes` long (longer is an error).
    async fn complete(
        &self,
        instructions: &str,
        prompt: &str,
        max_bytes: usize,
    ) -> Result<String, String>;
}

/// The language model realms may use, if one is configured.
#[derive(Clone, Default)]
pub struct Language(Option<Arc<dyn LanguageModel>>);

/// How long a realm's step waits for the model before it keeps its own result.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

impl Language {
    pub fn new(model: Arc<dyn LanguageModel>) -> Self {
        Language(Some(model))
    }

    pub fn none() -> Self {
        Language(None)
    }

    pub fn is_configured(&self) -> bool {
        self.0.is_some()
    }

    /// The model's answer, or why there is none (no model, a failure, too slow). Each
    /// failure is logged once here, so callers simply keep their own result.
    pub async fn answer(
        &self,
        instructions: &str,
        prompt: &str,
        max_bytes: usize,
    ) -> Result<String, String> {
        let model = self.0.as_ref().ok_or("no language model is configured")?;
        let outcome = tokio::time::timeout(
            ANSWER_TIMEOUT,
            model.complete(instructions, prompt, max_bytes),
        )
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the model did not answer within {} s",
                ANSWER_TIMEOUT.as_secs()
            ))
        });
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "language model unavailable; keeping the rule-based result");
        }
        outcome
    }
}

impl std::fmt::Debug for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Language(configured)"
        } else {
            "Language(none)"
        })
    }
}
