//! The frontend's agent-manager and session intents (FRONTEND.md §1 "Session /
//! conversation", "Other"), sent as the UI's managers send them, with values worked out by
//! hand from what the test did in the session.

use serde_json::{json, Value};

use crate::common::*;
use crate::frontend_journeys::{poll_completed, signed_in, submit, upload_saved};

/// Submits and waits for the end; the final status, whatever it is.
async fn run(t: &TestApp, s: &str, tenant: &str, intent: &str, params: Value) -> Value {
    let e = submit(t, s, tenant, intent, params).await;
    let url = format!("{}/api/execution/{e}/status", t.exp);
    eventually(std::time::Duration::from_secs(60), || async {
        let b: Value = t.http.get(&url).send().await.ok()?.json().await.ok()?;
        matches!(b["status"].as_str(), Some("failed" | "completed")).then_some(b)
    })
    .await
}

async fn conversations_guidance_state_and_lifecycle() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    let (f, _) = upload_saved(&t, &s, &tenant, "notes.txt", b"hello", "document").await;

    // A real turn with the content liaison, then its history.
    let e = submit(
        &t,
        &s,
        &tenant,
        "send_message_to_pillar_agent",
        json!({"message": "what can you do here?", "pillar": "content", "context": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let reply = done["artifacts"]["agent_response"]["semantic_payload"].clone();
    let said = reply["content"].as_str().unwrap().to_string();
    assert!(!said.is_empty());
    assert_eq!(reply["conversation_id"], format!("liaison_content_{s}"));
    assert_eq!(reply["pillar"], "content");

    let e = submit(
        &t,
        &s,
        &tenant,
        "get_pillar_conversation_history",
        json!({"session_id": s, "pillar": "ContentLiaisonAgent"}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let h = &done["artifacts"]["conversation_history"]["semantic_payload"];
    assert_eq!(h["pillar"], "content");
    let turns: Vec<(&str, &str)> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        turns,
        [
            ("user", "what can you do here?"),
            ("assistant", said.as_str())
        ]
    );
    // No Guide conversation yet.
    let e = submit(
        &t,
        &s,
        &tenant,
        "get_conversation_history",
        json!({"session_id": s}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["conversation_history"]["semantic_payload"],
        json!([])
    );

    // The agents' scorer: "quality" and "data" name the insights pillar's assess intent.
    let e = submit(
        &t,
        &s,
        &tenant,
        "analyze_user_intent",
        json!({"message": "assess the data quality of my file", "context": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let a = &done["artifacts"]["intent_analysis"];
    assert_eq!(a["intent_type"], "assess_data_quality");
    assert_eq!(a["suggested_pillar"], "insights");
    assert_eq!(a["suggested_actions"][0], "assess_data_quality");

    // One file uploaded and saved: 2 of 9 steps; the goal is about operations, so its steps
    // come first, then the next content step.
    let e = submit(
        &t,
        &s,
        &tenant,
        "get_journey_guidance",
        json!({"user_goal": "turn my SOP into a workflow", "context": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let g = &done["artifacts"]["journey_guidance"];
    assert_eq!(g["progress"]["done"], 2);
    assert_eq!(g["progress"]["share"], 0.222);
    let next: Vec<&str> = g["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["intent"].as_str().unwrap())
        .collect();
    assert_eq!(
        next,
        ["create_workflow", "analyze_coexistence", "parse_content"]
    );

    // So far: ingest, save, the agent message, two histories, the analysis, the guidance,
    // and this one (running while it counts).
    let e = submit(
        &t,
        &s,
        &tenant,
        "get_session_details",
        json!({"session_id": s}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let d = &done["artifacts"]["session_details"];
    assert_eq!(d["session_id"], s);
    assert_eq!(d["tenant_id"], tenant);
    assert_eq!(d["is_anonymous"], false);
    // The file, and the materialization its Save made.
    assert_eq!(d["artifacts"], json!({"file": 1, "materialization": 1}));
    assert_eq!(
        d["executions"],
        json!({"total": 8, "by_status": {"completed": 7, "running": 1}})
    );
    assert_eq!(d["conversations"], 1);

    let e = submit(
        &t,
        &s,
        &tenant,
        "get_session_state",
        json!({"session_id": s}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let st = &done["artifacts"]["session_state"];
    let content = &st["orchestrator_states"]["content"];
    assert_eq!(
        (&content["status"], &content["completed"]),
        (&json!("idle"), &json!(2))
    );
    assert_eq!(content["last_intent"], "save_materialization");
    assert_eq!(
        st["orchestrator_states"]["insights"]["status"],
        "not_started"
    );
    assert_eq!(st["session_state"]["executions"], 9);

    // Lifecycle: active → archived; archived → draft is not allowed; a stale current_state
    // is refused; archived → active.
    let moved = run(
        &t,
        &s,
        &tenant,
        "transition_artifact_lifecycle",
        json!({"artifact_id": f, "artifact_type": "file", "current_state": "READY",
            "target_state": "archived", "reason": "done with it"}),
    )
    .await;
    assert_eq!(moved["status"], "completed", "{moved}");
    let l = &moved["artifacts"]["artifact_lifecycle"];
    assert_eq!(
        (&l["from_state"], &l["to_state"]),
        (&json!("active"), &json!("archived"))
    );
    let refused = run(
        &t,
        &s,
        &tenant,
        "transition_artifact_lifecycle",
        json!({"artifact_id": f, "target_state": "draft"}),
    )
    .await;
    assert_eq!(
        refused["error"],
        "archived → draft is not an allowed transition; from archived: active"
    );
    let stale = run(
        &t,
        &s,
        &tenant,
        "transition_artifact_lifecycle",
        json!({"artifact_id": f, "current_state": "active", "target_state": "archived"}),
    )
    .await;
    assert_eq!(stale["error"], format!("{f} is archived, not active"));
    let back = run(
        &t,
        &s,
        &tenant,
        "transition_artifact_lifecycle",
        json!({"artifact_id": f, "target_state": "active"}),
    )
    .await;
    assert_eq!(back["status"], "completed", "{back}");

    // Another session's id, and another tenant's artifact: refused.
    let other = run(
        &t,
        &s,
        &tenant,
        "get_session_details",
        json!({"session_id": "someone-else"}),
    )
    .await;
    assert_eq!(
        other["error"],
        "session_id names another session: these intents read the session they run in"
    );
    let (s2, tenant2, _) = signed_in(&t).await;
    let theirs = run(
        &t,
        &s2,
        &tenant2,
        "transition_artifact_lifecycle",
        json!({"artifact_id": f, "target_state": "archived"}),
    )
    .await;
    assert_eq!(theirs["error"], format!("artifact {f} not found"));
    t.app.shutdown().await;
}

crate::both_wirings!(conversations_guidance_state_and_lifecycle);
