//! Agents over the real agent WebSocket: the Guide answering the frontend's exact message,
//! recommending and handing off with context, the content liaison running real intents whose
//! events arrive before its answer, sticky routing, and an agent restarted mid-conversation.

use std::time::Duration;

use crate::common::fake_model::fake_model;
use crate::common::ws::{connect, Ws};
use crate::common::*;
use futures::SinkExt;
use serde_json::{json, Value};
use symphainy::runtime::engine::messages::AgentMsg;
use tokio_tungstenite::tungstenite::Message;

async fn open(t: &TestApp) -> (Ws, String) {
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    let hello = next(&mut ws).await;
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    (ws, session)
}

/// The next JSON message; the socket must stay open.
async fn next(ws: &mut Ws) -> Value {
    crate::common::ws::next(ws)
        .await
        .expect("the socket stays open")
}

/// Messages up to and including the next AGENT_RESPONSE (or AGENT_FAILED).
async fn turn(ws: &mut Ws, msg: Value) -> Vec<Value> {
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let m = next(ws).await;
        let end = matches!(
            m["event_type"].as_str(),
            Some("AGENT_RESPONSE" | "AGENT_FAILED")
        ) || m["type"] == "error";
        seen.push(m);
        if end {
            return seen;
        }
    }
}

/// Ingests a file over REST and reads its execution's events off the socket.
async fn ingest(t: &TestApp, ws: &mut Ws, session: &str, name: &str, content: &str) {
    let done = t
        .run_completed(
            session,
            "ingest_file",
            json!({"filename": name, "file_content": hex::encode(content)}),
        )
        .await;
    assert_eq!(done["status"], "completed");
    loop {
        if next(ws).await["event_type"] == "EXECUTION_COMPLETED" {
            break;
        }
    }
}

fn types(ms: &[Value]) -> Vec<String> {
    ms.iter()
        .map(|m| m["event_type"].as_str().unwrap_or("error").to_string())
        .collect()
}

/// An insights-pillar chat message, as the frontend sends it.
fn insights(text: &str, conversation: &str) -> Value {
    json!({"type": "agent.message", "payload": {"text": text,
        "context": {"surface": "insights_pillar", "conversation_id": conversation}}})
}

/// The intents whose executions completed, in order.
fn completed_intents(ms: &[Value]) -> Vec<&str> {
    ms.iter()
        .filter(|m| m["event_type"] == "EXECUTION_COMPLETED")
        .map(|m| m["data"]["intent_type"].as_str().unwrap())
        .collect()
}

/// The text of the turn's last message (its answer).
fn answer(ms: &[Value]) -> String {
    ms.last().unwrap()["data"]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn the_guide_answers_the_frontends_exact_message() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (mut ws, session) = open(&t).await;
    let msgs = turn(
        &mut ws,
        json!({"type": "intent", "intent": "Hello! What can you do?", "session_id": session,
        "agent_type": "guide", "metadata": {"conversation_id": "conv-1", "pillar": null}}),
    )
    .await;
    assert_eq!(types(&msgs), ["AGENT_STARTED", "AGENT_RESPONSE"]);
    let started = &msgs[0]["data"];
    assert_eq!(
        (
            started["agent_type"].as_str(),
            started["conversation_id"].as_str()
        ),
        (Some("guide"), Some("conv-1"))
    );
    let r = &msgs[1]["data"];
    assert_eq!(r["message"], r["content"]);
    assert_eq!(r["agent_type"], "guide");
    assert_eq!(r["conversation_id"], "conv-1");
    assert_eq!(r["agent_id"], started["agent_id"]);
    assert!(r["intent"]
        .as_object()
        .unwrap()
        .contains_key("primary_intent"));
    assert_eq!(r["intent"]["target_domain"], Value::Null);
    assert_eq!(r["intent"]["confidence"], 0.0);
    assert!(r["reasoning"].is_string());
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("Welcome to Symphainy."),
        "{r}"
    );
    // Capabilities come from the registered intents.
    let caps: Vec<&str> = r["data"]["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["intent_type"].as_str().unwrap())
        .collect();
    assert!(
        caps.contains(&"parse_content") && caps.contains(&"echo"),
        "{caps:?}"
    );
    assert!(r["message"].as_str().unwrap().contains("parse_content"));
    for m in &msgs {
        assert!(m["seq"].as_i64().is_some() && m["event_id"].is_string());
    }

    // Pillar work: a recommendation and a hand-off to the liaison, with the reasons.
    let msgs = turn(
        &mut ws,
        json!({"type": "intent", "intent": "How clean is my data, any outliers?",
        "agent_type": "guide", "metadata": {"conversation_id": "conv-1"}}),
    )
    .await;
    let r = &msgs.last().unwrap()["data"];
    assert_eq!(r["intent"]["target_domain"], "insights");
    assert!(
        r["reasoning"].as_str().unwrap().contains("'outliers'"),
        "{}",
        r["reasoning"]
    );
    assert_eq!(r["data"]["routing"]["pillar"], "insights");
    assert_eq!(r["data"]["routing"]["agent_type"], "liaison");
    // Context: "yes" takes the earlier recommendation.
    let msgs = turn(
        &mut ws,
        json!({"type": "intent", "intent": "yes", "agent_type": "guide",
        "metadata": {"conversation_id": "conv-1"}}),
    )
    .await;
    let r = &msgs.last().unwrap()["data"];
    assert_eq!(r["data"]["routing"]["pillar"], "insights", "{r}");
    assert!(
        r["reasoning"].as_str().unwrap().contains("agreed"),
        "{}",
        r["reasoning"]
    );
    t.app.shutdown().await;
}

async fn the_content_liaison_runs_real_intents_before_answering() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let (mut ws, session) = open(&t).await;
        ingest(
            &t,
            &mut ws,
            &session,
            "sales.csv",
            "region,total\nnorth,10\nsouth,\n",
        )
        .await;
        let msgs = turn(
            &mut ws,
            json!({"type": "agent.message", "payload": {"text": "Please parse sales.csv",
            "context": {"surface": "content_pillar", "conversation_id": "work-1"}}}),
        )
        .await;
        let kinds = types(&msgs);
        assert_eq!(
            kinds.first().map(String::as_str),
            Some("AGENT_STARTED"),
            "[{}] {kinds:?}",
            db.name
        );
        assert_eq!(kinds.last().map(String::as_str), Some("AGENT_RESPONSE"));
        let completed: Vec<&Value> = msgs
            .iter()
            .filter(|m| m["event_type"] == "EXECUTION_COMPLETED")
            .collect();
        let ran: Vec<&str> = completed
            .iter()
            .map(|m| m["data"]["intent_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            ran,
            ["list_files", "parse_content"],
            "the executions' events come before the answer"
        );
        let r = &msgs.last().unwrap()["data"];
        assert_eq!(
            (r["agent_type"].as_str(), r["pillar"].as_str()),
            (Some("liaison"), Some("content"))
        );
        let text = r["message"].as_str().unwrap();
        assert_eq!(
            text,
            "sales.csv has 2 records as csv; columns: region (string), total (integer, 1 empty)."
        );
        assert_eq!(r["data"]["parsed_file"]["record_count"], 2);
        assert_eq!(r["intent"]["primary_intent"], "parse_content");
        // Describing it again uses the stored parse (no new parse_content run).
        let msgs = turn(
            &mut ws,
            json!({"type": "agent.message", "payload": {"text": "describe sales.csv columns",
            "context": {"surface": "content_pillar", "conversation_id": "work-1"}}}),
        )
        .await;
        let ran = completed_intents(&msgs);
        assert_eq!(ran, ["list_files", "list_artifacts"]);
        assert_eq!(msgs.last().unwrap()["data"]["message"], text);
        let msgs = turn(
            &mut ws,
            json!({"type": "agent.message", "payload": {"text": "list my files",
            "context": {"surface": "content_pillar", "conversation_id": "work-1"}}}),
        )
        .await;
        let answer = msgs.last().unwrap()["data"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            answer.starts_with("You have 1 file: sales.csv (pending_materialization"),
            "{answer}"
        );
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

async fn conversations_are_sticky_and_survive_an_agent_restart() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (mut ws, session) = open(&t).await;
    let first = turn(
        &mut ws,
        json!({"type": "intent", "intent": "hi", "agent_type": "guide",
        "metadata": {"conversation_id": "sticky"}}),
    )
    .await;
    assert!(first.last().unwrap()["data"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Welcome to Symphainy."));
    // The same conversation named with a pillar stays with its agent (the guide).
    let msgs = turn(
        &mut ws,
        json!({"type": "intent", "intent": "hello again", "agent_type": "liaison",
        "pillar": "content", "metadata": {"conversation_id": "sticky"}}),
    )
    .await;
    assert_eq!(msgs.last().unwrap()["data"]["agent_type"], "guide");

    // Kill the guide actor; its supervisor restarts it and the conversation continues.
    let session_actor = t
        .app
        .runtime
        .ctx
        .sessions
        .get(&session)
        .expect("active session");
    let guide = session_actor
        .get_children()
        .into_iter()
        .find(|c| c.is_message_type_of::<AgentMsg>() == Some(true))
        .expect("an agent child");
    guide.kill();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let msgs = turn(
        &mut ws,
        json!({"type": "intent", "intent": "good morning", "agent_type": "guide",
        "metadata": {"conversation_id": "sticky"}}),
    )
    .await;
    let r = &msgs.last().unwrap()["data"];
    assert!(
        r["message"].as_str().unwrap().starts_with("Welcome back."),
        "the history was kept: {r}"
    );
    let restarted = session_actor
        .get_children()
        .into_iter()
        .find(|c| c.is_message_type_of::<AgentMsg>() == Some(true))
        .expect("a restarted agent");
    assert_ne!(restarted.get_id(), guide.get_id());

    // The outcomes liaison runs the roadmap; an empty session has nothing to plan from, and
    // the reply says so, suggesting the pillar's registered intents.
    let msgs = turn(
        &mut ws,
        json!({"type": "intent", "intent": "build a roadmap", "agent_type": "liaison",
        "pillar": "outcomes", "metadata": {"conversation_id": "plans"}}),
    )
    .await;
    let r = &msgs.last().unwrap()["data"];
    assert_eq!(r["pillar"], "business_outcomes");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("That did not work: nothing to plan from yet"),
        "{r}"
    );
    assert_eq!(
        r["suggested_actions"],
        json!([
            "create_blueprint",
            "create_poc",
            "create_solution",
            "export_artifact",
            "generate_roadmap",
            "synthesize_outcome"
        ]),
        "{r}"
    );
    // A chat message without text is an error; the socket stays usable.
    let msgs = turn(&mut ws, json!({"type": "intent", "agent_type": "guide"})).await;
    assert_eq!(msgs.last().unwrap()["error"], "invalid_message");
    t.app.shutdown().await;
}

async fn a_chat_completions_model_streams_agent_tokens() {
    for fail in [false, true] {
        let db = sqlite_db();
        let (url, seen) =
            fake_model(move |_| (!fail).then(|| vec!["Hello".into(), " there".into(), "!".into()]))
                .await;
        let mut config = test_config(&db);
        config.llm = Some(symphainy::agents::llm::LlmSettings {
            url,
            model: "test-model".into(),
            api_key: Some("sk-test-key".into()),
        });
        let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
        let (mut ws, _) = open(&t).await;
        let msgs = turn(
            &mut ws,
            json!({"type": "intent", "intent": "hello", "agent_type": "guide",
            "metadata": {"conversation_id": "m1"}}),
        )
        .await;
        let r = &msgs.last().unwrap()["data"];
        if fail {
            // The model failed: the plain draft answers.
            assert_eq!(types(&msgs), ["AGENT_STARTED", "AGENT_RESPONSE"]);
            assert!(r["message"]
                .as_str()
                .unwrap()
                .starts_with("Welcome to Symphainy."));
        } else {
            assert_eq!(
                types(&msgs),
                [
                    "AGENT_STARTED",
                    "AGENT_TOKEN",
                    "AGENT_TOKEN",
                    "AGENT_TOKEN",
                    "AGENT_RESPONSE"
                ]
            );
            let tokens: Vec<&str> = msgs[1..4]
                .iter()
                .map(|m| m["data"]["token"].as_str().unwrap())
                .collect();
            assert_eq!(tokens, ["Hello", " there", "!"]);
            assert_eq!(r["message"], "Hello there!");
            assert_eq!(r["content"], "Hello there!");
            assert_eq!(r["backend"], "llm");
            // Routing and reasoning stay the offline scorer's.
            assert_eq!(r["intent"]["confidence"], 0.0);
        }
        let requests = seen.lock().clone();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0]["auth"], "Bearer sk-test-key");
        assert_eq!(requests[0]["body"]["model"], "test-model");
        assert_eq!(requests[0]["body"]["stream"], true);
        let last = requests[0]["body"]["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            last.contains("Welcome to Symphainy."),
            "the draft is what the model phrases: {last}"
        );
        t.app.shutdown().await;
    }
}

async fn the_insights_liaison_assesses_and_analyzes_a_named_file() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (mut ws, session) = open(&t).await;
    let csv = "id,amount,city\n1,10,Paris\n2,12,Paris\n3,11,\n4,13,Lyon\n5,10,Paris\n6,12,Paris\n7,11,Lyon\n8,13,Paris\n9,100,Paris\n9,100,Paris\n10,x,Lyon\n";
    ingest(&t, &mut ws, &session, "q.csv", csv).await;
    let msgs = turn(&mut ws, insights("How clean is q.csv?", "ins")).await;
    let ran = completed_intents(&msgs);
    assert_eq!(
        ran,
        [
            "list_files",
            "list_artifacts",
            "parse_content",
            "assess_data_quality"
        ]
    );
    let r = &msgs.last().unwrap()["data"];
    assert_eq!(r["pillar"], "insights");
    let text = r["message"].as_str().unwrap();
    assert!(
        text.starts_with("q.csv scores 95.1 out of 100 for quality:"),
        "{text}"
    );
    assert!(
        text.contains("amount has 1 value that breaks its type")
            && text.contains("amount has 2 outliers")
            && text.contains("city has 1 empty")
            && text.contains("1 duplicate row"),
        "{text}"
    );
    // Analysis reuses the parse.
    let msgs = turn(&mut ws, insights("analyze q.csv", "ins")).await;
    let ran = completed_intents(&msgs);
    assert_eq!(
        ran,
        ["list_files", "list_artifacts", "analyze_structured_data"]
    );
    let text = answer(&msgs);
    assert!(text.starts_with("q.csv (11 records):"), "{text}");
    assert!(text.contains("city: most often Paris (7×)"), "{text}");
    t.app.shutdown().await;
}

async fn the_insights_liaison_combines_two_named_files() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (mut ws, session) = open(&t).await;
    ingest(
        &t,
        &mut ws,
        &session,
        "sales.csv",
        "order_id,customer_id,amount\n101,1,10\n102,2,20\n103,1,30\n",
    )
    .await;
    ingest(
        &t,
        &mut ws,
        &session,
        "customers.csv",
        "id,name\n1,Ann\n2,Bob\n3,Cy\n",
    )
    .await;
    let msgs = turn(&mut ws, insights("Combine sales and customers", "mash")).await;
    // The mash's own events (four phases) arrive before the answer.
    let steps: Vec<&str> = msgs
        .iter()
        .filter(|m| {
            m["event_type"] == "STEP_COMPLETED" && m["data"]["intent_type"] == "data_mash.create"
        })
        .map(|m| m["data"]["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "data_quality",
            "semantic_interpretation",
            "semantic_mapping",
            "registered"
        ]
    );
    let r = &msgs.last().unwrap()["data"];
    assert_eq!(r["pillar"], "insights");
    let text = r["message"].as_str().unwrap();
    // Outer join: 3 sales rows (customers 1, 2, 1) and customer 3, who bought nothing.
    assert!(
        text.starts_with(
            "I combined sales.csv and customers.csv on sales.customer_id = customers.id (outer join): 4 records with columns customer_id, order_id, amount, name."
        ),
        "{text}"
    );
    assert!(
        text.contains("3 of 3 sales records matched; 2 of 3 customers records matched"),
        "{text}"
    );
    assert!(
        text.contains("Quality scores: sales 100, customers 100. No conflicts."),
        "{text}"
    );
    // Amounts are amounts, even when each is different.
    let columns = &r["data"]["mash"]["canonical_model"]["columns"];
    assert_eq!(columns[2]["name"], "amount");
    assert_eq!(columns[2]["semantic_type"], "currency");
    let mash_id = r["data"]["mash"]["mash_id"].as_str();
    assert!(mash_id.is_some(), "{r}");
    // Naming one file is not enough: the liaison asks, listing what there is.
    let msgs = turn(&mut ws, insights("merge sales please", "mash")).await;
    let text = answer(&msgs);
    assert!(
        text.contains("name at least two of your files to combine")
            && text.contains("customers.csv"),
        "{text}"
    );
    t.app.shutdown().await;
}

crate::both_wirings!(
    the_guide_answers_the_frontends_exact_message,
    the_content_liaison_runs_real_intents_before_answering,
    conversations_are_sticky_and_survive_an_agent_restart,
    a_chat_completions_model_streams_agent_tokens,
    the_insights_liaison_assesses_and_analyzes_a_named_file,
    the_insights_liaison_combines_two_named_files,
);
