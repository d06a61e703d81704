//! Typed intent parameters. A handler declares its parameters as a type that decodes itself
//! from the intent's JSON ([`IntentParams`]) — every field error at once, in the contract's
//! `parameters.<field>` form — and implements [`TypedIntent`] over it. [`Typed`] makes it an
//! [`IntentHandler`]: parameters are decoded at submit (a failure is the 422 with `fields`,
//! nothing stored) and once per run of the execution, and its steps are built from the decoded
//! value, so no step reads the raw JSON again.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::handler::{FieldErrors, IntentHandler, SagaStep, StepContext, StepError, StepOutput};

/// An intent's parameters as a type.
pub trait IntentParams: Sized + Send + Sync + 'static {
    /// The parameters, or every field that is wrong (`parameters.<field>` → why).
    fn decode(parameters: &Value) -> Result<Self, FieldErrors>;
}

/// An intent handler over typed parameters (wrap it in [`Typed`] to register it).
pub trait TypedIntent: Send + Sync + 'static {
    type Params: IntentParams;

    fn intent_type(&self) -> &str;
    /// One sentence for people (the Guide lists the registered intents with it).
    fn description(&self) -> &str;
    /// The saga's steps for these parameters, in order (the same list every time).
    fn steps(&self, params: Arc<Self::Params>) -> Vec<Arc<dyn SagaStep>>;
    /// Ids of what an execution will produce, known at acceptance (see `IntentHandler`).
    fn produces(&self, _execution_id: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// `Some(reason)` when the intent must wait for a human approval before it runs.
    fn approval_reason(&self, _params: &Self::Params) -> Option<String> {
        None
    }
    /// Whether the intent consumes an uploaded blob (see `IntentHandler`).
    fn takes_upload(&self) -> bool {
        false
    }
}

/// A [`TypedIntent`] as an [`IntentHandler`].
pub struct Typed<T>(pub T);

impl<T: TypedIntent> IntentHandler for Typed<T> {
    fn intent_type(&self) -> &str {
        self.0.intent_type()
    }

    fn description(&self) -> &str {
        self.0.description()
    }

    fn validate(&self, parameters: &Value) -> Result<(), FieldErrors> {
        T::Params::decode(parameters).map(|_| ())
    }

    fn steps(&self, parameters: &Value) -> Vec<Arc<dyn SagaStep>> {
        self.plan(parameters).0
    }

    fn produces(&self, execution_id: &str) -> Vec<(&'static str, String)> {
        self.0.produces(execution_id)
    }

    fn takes_upload(&self) -> bool {
        self.0.takes_upload()
    }

    fn approval_reason(&self, parameters: &Value) -> Option<String> {
        self.plan(parameters).1
    }

    fn plan(&self, parameters: &Value) -> (Vec<Arc<dyn SagaStep>>, Option<String>) {
        match T::Params::decode(parameters) {
            Ok(params) => {
                let approval = self.0.approval_reason(&params);
                (self.0.steps(Arc::new(params)), approval)
            }
            Err(fields) => (vec![undecodable::<T::Params>(fields)], None),
        }
    }
}

/// The one step of an execution whose stored parameters no longer decode (accepted by an
/// older version): it fails saying which, instead of running on a guess.
fn undecodable<P: Send + Sync + 'static>(fields: FieldErrors) -> Arc<dyn SagaStep> {
    Arc::new(Undecodable::<P>(fields, PhantomData))
}

struct Undecodable<P>(FieldErrors, PhantomData<fn() -> P>);

#[async_trait]
impl<P: Send + Sync + 'static> SagaStep for Undecodable<P> {
    fn name(&self) -> &str {
        "parameters"
    }

    async fn run(&self, _ctx: &StepContext) -> Result<StepOutput, StepError> {
        let fields: Vec<String> = self.0.iter().map(|(f, why)| format!("{f} {why}")).collect();
        Err(StepError::new(format!(
            "the stored parameters are not valid: {}",
            fields.join("; ")
        )))
    }
}

/// Reads an intent's parameters field by field, collecting every error (for
/// [`IntentParams::decode`]).
pub struct Fields<'a> {
    parameters: &'a Value,
    errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(parameters: &'a Value) -> Self {
        Self {
            parameters,
            errors: FieldErrors::new(),
        }
    }

    /// The field's value, if present and not null.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.parameters.get(name).filter(|v| !v.is_null())
    }

    /// Records that `parameters.<name>` is wrong, and why.
    pub fn error(&mut self, name: &str, why: impl Into<String>) {
        self.errors
            .entry(format!("parameters.{name}"))
            .or_insert_with(|| why.into());
    }

    /// A required non-empty string.
    pub fn required_str(&mut self, name: &str) -> Option<String> {
        match self.parameters.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) | None => {
                self.error(name, "is required");
                None
            }
            Some(_) => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    /// A required string, which may be empty.
    pub fn required_text(&mut self, name: &str) -> Option<String> {
        match self.parameters.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            None => {
                self.error(name, "is required");
                None
            }
            Some(_) => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    /// An optional whole number from 0 to `max`.
    pub fn optional_count(&mut self, name: &str, max: u64) -> Option<u64> {
        let v = self.get(name)?;
        match v.as_u64() {
            Some(n) if n <= max => Some(n),
            _ => {
                self.error(name, format!("must be an integer from 0 to {max}"));
                None
            }
        }
    }

    /// The decoded parameters when no field was wrong, else every error.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        build().ok_or_else(|| {
            let mut errors = FieldErrors::new();
            errors.insert("parameters".into(), "are not valid".into());
            errors
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Greeting {
        name: String,
        times: Option<u64>,
    }

    impl IntentParams for Greeting {
        fn decode(p: &Value) -> Result<Self, FieldErrors> {
            let mut f = Fields::new(p);
            let name = f.required_str("name");
            let times = f.optional_count("times", 3);
            f.finish(|| Some(Greeting { name: name?, times }))
        }
    }

    #[test]
    fn every_field_error_at_once_or_the_value() {
        let errors = Greeting::decode(&json!({"name": 7, "times": 9}))
            .err()
            .unwrap();
        assert_eq!(
            errors.into_iter().collect::<Vec<_>>(),
            [
                (
                    "parameters.name".to_string(),
                    "must be a string".to_string()
                ),
                (
                    "parameters.times".to_string(),
                    "must be an integer from 0 to 3".to_string()
                ),
            ]
        );
        let errors = Greeting::decode(&json!({})).err().unwrap();
        assert_eq!(errors["parameters.name"], "is required");
        let g = Greeting::decode(&json!({"name": "Ada", "times": 2})).unwrap();
        assert_eq!((g.name.as_str(), g.times), ("Ada", Some(2)));
    }
}
