//! `echo {message, delay_ms?}` → artifact `echo: {message}`. The diagnostic intent: it proves the
//! whole path (store, saga, events) and, with `delay_ms`, gives tests and operators an intent
//! that is still running when they look.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::runtime::engine::handler::{
    artifact, FieldErrors, IntentHandler, SagaStep, StepContext, StepError, StepOutput,
};
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
        registry.register(Arc::new(Echo));
    }
}

pub struct Echo;

impl IntentHandler for Echo {
    fn intent_type(&self) -> &str {
        "echo"
    }

    fn description(&self) -> &str {
        "Echo a message back (checks that the platform is working end to end)."
    }

    fn validate(&self, p: &Value) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match p.get("message") {
            Some(Value::String(_)) => {}
            Some(_) => {
                errors.insert("parameters.message".into(), "must be a string".into());
            }
            None => {
                errors.insert("parameters.message".into(), "is required".into());
            }
        }
        if let Some(d) = p.get("delay_ms") {
            if d.as_u64().is_none_or(|d| d > MAX_DELAY_MS) {
                errors.insert(
                    "parameters.delay_ms".into(),
                    format!("must be an integer from 0 to {MAX_DELAY_MS}"),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(EchoStep)]
    }
}

struct EchoStep;

#[async_trait]
impl SagaStep for EchoStep {
    fn name(&self) -> &str {
        "echo"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let message = ctx
            .parameters
            .get("message")
            .and_then(Value::as_str)
            .ok_or_else(|| StepError::new("parameters.message is required"))?;
        if let Some(delay) = ctx.parameters.get("delay_ms").and_then(Value::as_u64) {
            tokio::time::sleep(Duration::from_millis(delay.min(MAX_DELAY_MS))).await;
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
