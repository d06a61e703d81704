//! The engine with a realm it has never heard of: none of the built-in realms, a realm of the
//! test's own that registers an intent (with its pillar), a background actor configured through
//! `RuntimeConfig::realms`, and a handle; and a brain of the test's own that answers a chat
//! turn by running that intent through its workbench. Nothing here is known to the engine.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use parking_lot::Mutex;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde_json::{json, Value};
use symphainy::actors::ChildSpec;
use symphainy::runtime::contract::agents::Pillar;
use symphainy::runtime::contract::model::{
    AgentMessage, CreateSession, IntentRequest, Scope, StatusOptions,
};
use symphainy::runtime::engine::brain::{AgentBrain, AgentReply, TurnInput, Workbench};
use symphainy::runtime::engine::handler::FieldErrors;
use symphainy::runtime::engine::realm::Realm;
use symphainy::runtime::engine::registry::{HandlerRegistry, RealmEnv};
use symphainy::runtime::{
    IntentHandler, Runtime, RuntimeClient, RuntimeConfig, RuntimeError, SagaStep, StepContext,
    StepError, StepOutput,
};
use symphainy::store::blobs::LocalBlobStore;
use symphainy::store::Store;

/// The ledger realm's settings, as a deployment would set them.
#[derive(Clone)]
struct LedgerSettings {
    currency: String,
}

/// What the ledger's background actor saw when it started: the currency of its settings.
#[derive(Clone, Default)]
struct LedgerHandle(Arc<Mutex<Option<String>>>);

struct LedgerRealm;

impl Realm for LedgerRealm {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        registry.register_in(Some(Pillar::Operations), Arc::new(Tally));
        let handle = LedgerHandle::default();
        registry.insert_handle(handle.clone());
        registry.background(
            "ledger_clerk",
            Arc::new(move |env: &RealmEnv<'_>| {
                let currency = env
                    .config
                    .realms
                    .get::<LedgerSettings>()
                    .map_or("none".to_string(), |s| s.currency.clone());
                let handle = handle.clone();
                ChildSpec::new("ledger_clerk", move |sup| {
                    let (handle, currency) = (handle.clone(), currency.clone());
                    Box::pin(async move {
                        let (actor, _) =
                            Actor::spawn_linked(None, Clerk, (handle, currency), sup).await?;
                        Ok(actor.get_cell())
                    })
                })
            }),
        );
    }
}

struct Clerk;

impl Actor for Clerk {
    type Msg = ();
    type State = ();
    type Arguments = (LedgerHandle, String);

    async fn pre_start(
        &self,
        _myself: ActorRef<()>,
        (handle, currency): (LedgerHandle, String),
    ) -> Result<(), ActorProcessingErr> {
        *handle.0.lock() = Some(currency);
        Ok(())
    }
}

/// `ledger.tally {amounts: [numbers]}`: adds them up in two steps.
struct Tally;

impl IntentHandler for Tally {
    fn intent_type(&self) -> &str {
        "ledger.tally"
    }

    fn description(&self) -> &str {
        "Add up a list of amounts."
    }

    fn validate(&self, p: &Value) -> Result<(), FieldErrors> {
        let ok = p["amounts"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_number));
        if ok {
            Ok(())
        } else {
            let mut errors = FieldErrors::new();
            errors.insert(
                "parameters.amounts".into(),
                "must be a non-empty list of numbers".into(),
            );
            Err(errors)
        }
    }

    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Sum), Arc::new(Record)]
    }

    fn produces(&self, execution_id: &str) -> Vec<(&'static str, String)> {
        vec![("ledger_id", format!("ledger-{execution_id}"))]
    }
}

struct Sum;

#[async_trait]
impl SagaStep for Sum {
    fn name(&self) -> &str {
        "sum"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let amounts = ctx.parameters["amounts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let total: f64 = amounts.iter().filter_map(Value::as_f64).sum();
        Ok(StepOutput {
            output: json!({"total": total, "count": amounts.len()}),
            ..Default::default()
        })
    }
}

struct Record;

#[async_trait]
impl SagaStep for Record {
    fn name(&self) -> &str {
        "record"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let sum = ctx
            .outputs
            .get("sum")
            .cloned()
            .ok_or_else(|| StepError::new("no sum"))?;
        let mut artifacts = serde_json::Map::new();
        artifacts.insert(
            "tally".into(),
            json!({"ledger_id": format!("ledger-{}", ctx.execution_id), "sum": sum}),
        );
        Ok(StepOutput {
            output: Value::Null,
            artifacts,
        })
    }
}

/// A brain that answers every turn by tallying the numbers in it with the first intent of the
/// operations pillar it finds on its workbench.
struct Accountant;

#[async_trait]
impl AgentBrain for Accountant {
    async fn answer(
        &self,
        turn: TurnInput<'_>,
        bench: &dyn Workbench,
        on_token: &(dyn Fn(String) + Send + Sync),
    ) -> AgentReply {
        let intent = bench
            .intents()
            .into_iter()
            .find(|i| i.pillar == Some(Pillar::Operations))
            .map(|i| i.intent_type)
            .unwrap_or_default();
        let amounts: Vec<f64> = turn
            .text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let message = match bench.run(&intent, json!({"amounts": amounts})).await {
            Ok(status) => {
                let total = &status.artifacts.unwrap_or_default()["tally"]["sum"]["total"];
                format!("{intent} says {total}")
            }
            Err(e) => format!("{intent} failed: {e}"),
        };
        on_token(message.clone());
        AgentReply {
            message,
            facts: json!({"intent": intent}),
            fields: serde_json::Map::new(),
        }
    }
}

struct Engine {
    runtime: Runtime,
    handle: LedgerHandle,
    _dir: tempfile::TempDir,
}

async fn start_engine() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("engine.db").display()
    ))
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let blobs = Arc::new(LocalBlobStore::new(dir.path().join("blobs")).unwrap());
    let mut registry = HandlerRegistry::default();
    LedgerRealm.register(&mut registry);
    let handle = registry
        .handle::<LedgerHandle>()
        .expect("the realm's handle");
    let mut config = RuntimeConfig::default();
    config.realms.insert(LedgerSettings {
        currency: "EUR".into(),
    });
    let runtime = Runtime::start(store, blobs, registry, Arc::new(Accountant), config)
        .await
        .unwrap();
    Engine {
        runtime,
        handle,
        _dir: dir,
    }
}

#[tokio::test]
async fn the_engine_runs_a_realm_it_does_not_know() {
    let engine = start_engine().await;
    let client = engine.runtime.client();
    let session = client
        .create_session(CreateSession::default())
        .await
        .unwrap();
    let submit = |parameters: Value| IntentRequest {
        intent_type: "ledger.tally".into(),
        session_id: session.session_id.clone(),
        parameters: Some(parameters),
        ..Default::default()
    };

    // Its intent runs, step after step, and announces its id at acceptance.
    let accepted = client
        .submit_intent(&Scope::Any, submit(json!({"amounts": [1.5, 2, 4]})))
        .await
        .unwrap();
    let ledger_id = format!("ledger-{}", accepted.execution_id);
    assert_eq!(accepted.produces["ledger_id"], ledger_id.as_str());
    let done = crate::common::eventually(Duration::from_secs(30), || async {
        let s = client
            .execution_status(
                &Scope::Any,
                &accepted.execution_id,
                StatusOptions::default(),
            )
            .await
            .ok()?;
        s.is_terminal().then_some(s)
    })
    .await;
    assert_eq!(done.status.as_str(), "completed", "{:?}", done.error);
    assert_eq!(
        done.steps
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["sum", "record"]
    );
    assert_eq!(
        done.artifacts.unwrap()["tally"],
        json!({"ledger_id": ledger_id, "sum": {"total": 7.5, "count": 3}})
    );

    // Its parameters are its handler's to check; the built-in realms are not there.
    let refused = client
        .submit_intent(&Scope::Any, submit(json!({"amounts": "seven"})))
        .await;
    assert_eq!(
        refused.unwrap_err(),
        RuntimeError::invalid("parameters.amounts", "must be a non-empty list of numbers")
    );
    let echo = client
        .submit_intent(
            &Scope::Any,
            IntentRequest {
                intent_type: "echo".into(),
                ..submit(json!({"message": "hi"}))
            },
        )
        .await;
    assert_eq!(
        echo.unwrap_err(),
        RuntimeError::UnknownIntent("echo".into())
    );

    // Its background actor started with the realm's own settings.
    assert_eq!(engine.handle.0.lock().as_deref(), Some("EUR"));

    // The brain given to the engine answers a chat turn through the workbench, which lists
    // the realm's intent under its pillar and runs it for the session.
    let after = client
        .last_seq(&Scope::Any, &session.session_id)
        .await
        .unwrap();
    let mut events = client
        .subscribe(&Scope::Any, &session.session_id, after)
        .await
        .unwrap();
    client
        .agent_message(
            &Scope::Any,
            AgentMessage {
                session_id: session.session_id.clone(),
                agent: "guide".into(),
                conversation_id: "c1".into(),
                text: "please add 10 and 32".into(),
                metadata: json!({}),
            },
        )
        .await
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(e)) = events.next().await {
            if e.event_type == "AGENT_RESPONSE" {
                return e.data;
            }
        }
        panic!("the event stream ended before the agent answered");
    })
    .await
    .expect("the agent answers");
    assert_eq!(response["message"], "ledger.tally says 42.0");
    assert_eq!(response["agent_type"], "guide");
    assert_eq!(response["conversation_id"], "c1");
    engine.runtime.shutdown().await;
}
