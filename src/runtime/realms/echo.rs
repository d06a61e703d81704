//! `echo {message, delay_ms?}` → artifact `echo: {message}`. The diagnostic intent: it proves the
//! whole path (store, saga, events) and, with `delay_ms`, gives tests and operators an intent
//! that is still running when they look.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, Typed, TypedIntent};
use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::HandlerRegistry;

pub const MAX_DELAY_MS: u64 = 60_000;

/// The echo realm: one intent of no pillar, to try the runtime end to end.
pub struct EchoRealm;

impl Realm for EchoRealm {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        registry.register(Arc::new(Typed(Echo)));
    }
}

pub struct Echo;

/// `echo`'s parameters.
pub struct EchoParams {
    pub message: String,
    pub delay_ms: Option<u64>,
}

impl IntentParams for EchoParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let message = f.required_text("message");
        let delay_ms = f.optional_count("delay_ms", MAX_DELAY_MS);
        f.finish(|| {
            Some(EchoParams {
                message: message?,
                delay_ms,
            })
        })
    }
}

impl TypedIntent for Echo {
    type Params = EchoParams;

    fn intent_type(&self) -> &str {
        "echo"
    }

    fn description(&self) -> &str {
        "Echo a message back (checks that the platform is working end to end)."
    }

    fn steps(&self, params: Arc<EchoParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(EchoStep(params))]
    }
}

struct EchoStep(Arc<EchoParams>);

#[async_trait]
impl SagaStep for EchoStep {
    fn name(&self) -> &str {
        "echo"
    }

    async fn run(&self, _ctx: &StepContext) -> Result<StepOutput, StepError> {
        let EchoParams { message, delay_ms } = &*self.0;
        if let Some(delay) = delay_ms {
            tokio::time::sleep(Duration::from_millis(*delay)).await;
        }
        let mut artifacts = Map::new();
        artifacts.insert(
            "echo".into(),
            artifact("echo", json!({ "message": message })),
        );
        Ok(StepOutput {
            output: json!({ "message": message }),
            artifacts,
        })
    }
}
