//! Intake limits (issue 14, item 4): one session, or one tenant, cannot flood the runtime with
//! intents or agent turns. Over a limit: 429 `rate_limit_exceeded` with the wait, nothing
//! stored; on the agent socket, an error frame per refused turn. Both runtime clients.

use crate::common::ws::{connect, next, send};
use crate::common::*;
use serde_json::{json, Value};

fn limited(db: &TestDb, intents: &str, turns: &str, tenant: &str) -> symphainy::config::Config {
    let mut config = test_config(db);
    config.runtime.intake.intents_per_session = intents.parse().unwrap();
    config.runtime.intake.turns_per_session = turns.parse().unwrap();
    config.runtime.intake.per_tenant = tenant.parse().unwrap();
    config
}

async fn submit_echo(t: &TestApp, session: &str, n: usize) -> reqwest::Response {
    t.http
        .post(format!("{}/api/intent/submit", t.exp))
        .json(&json!({"intent_type": "echo", "session_id": session, "parameters": {"message": format!("m{n}")}}))
        .send()
        .await
        .unwrap()
}

async fn last_seq(t: &TestApp, session: &str) -> i64 {
    t.app.store.runtime().max_seq(session).await.unwrap()
}

async fn intents_per_session_and_per_tenant() {
    let db = sqlite_db();
    let t = spawn_app_with(
        limited(&db, "5/60", "30/60", "8/60"),
        symphainy::runtime::realms::builtin(),
    )
    .await;
    let session = t.anonymous().await;
    let mut last = String::new();
    for n in 0..5 {
        let r = submit_echo(&t, &session, n).await;
        assert_eq!(r.status().as_u16(), 202);
        last = r.json::<Value>().await.unwrap()["execution_id"]
            .as_str()
            .unwrap()
            .to_string();
    }
    t.wait_terminal(&last).await;
    let stored = last_seq(&t, &session).await;
    assert_eq!(stored, 5 * 4, "five echoes, four events each");
    let r = submit_echo(&t, &session, 5).await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&retry), "one more every 12 s: {retry}");
    assert_eq!(r.headers()["x-ratelimit-limit"], "5");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "rate_limit_exceeded", "{body}");
    assert_eq!(
        (body["limit"].clone(), body["window"].clone()),
        (json!(5), json!(60))
    );
    assert_eq!(
        body["message"].as_str().unwrap(),
        format!("too many intents for this session (at most 5 per 60 s); retry in {retry} seconds")
    );
    assert_eq!(
        last_seq(&t, &session).await,
        stored,
        "a refused intent stores nothing"
    );

    // Per tenant: two sessions of one user share 8.
    let user = t.register_user("Ada").await;
    let (token, tenant) = (
        user["access_token"].as_str().unwrap().to_string(),
        user["tenant_id"].as_str().unwrap().to_string(),
    );
    let mut accepted = 0;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let s: Value = t
            .http
            .post(format!("{}/api/session/create", t.exp))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let s = s["session_id"].as_str().unwrap().to_string();
        for n in 0..5 {
            let r = t
                .http
                .post(format!("{}/api/intent/submit", t.exp))
                .bearer_auth(&token)
                .json(&json!({"intent_type": "echo", "session_id": s, "tenant_id": tenant, "parameters": {"message": format!("{n}")}}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            answers.push(status);
            if status == 202 {
                accepted += 1;
            } else {
                let body: Value = r.json().await.unwrap();
                assert!(
                    body["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("too many requests for this tenant"),
                    "{body}"
                );
            }
        }
    }
    assert_eq!(accepted, 8, "{answers:?}");
    assert_eq!(answers, [202, 202, 202, 202, 202, 202, 202, 202, 429, 429]);
    t.app.shutdown().await;
}

/// The flood: one socket sends 100 chat turns at once; 10 are taken, 90 refused.
async fn a_chat_flood_is_cut_at_the_turn_limit() {
    let db = sqlite_db();
    let t = spawn_app_with(
        limited(&db, "1000/60", "10/60", "10000/60"),
        symphainy::runtime::realms::builtin(),
    )
    .await;
    let session = t.anonymous().await;
    let mut ws = connect(&t.exp, &format!("session_id={session}")).await;
    next(&mut ws).await.unwrap(); // CONNECTION_ESTABLISHED
    for n in 0..100 {
        send(
            &mut ws,
            json!({"type": "intent", "intent": format!("hello {n}"), "agent_type": "guide"}),
        )
        .await;
    }
    let (mut refused, mut answered) = (0, 0);
    while refused < 90 || answered < 10 {
        let m = next(&mut ws).await.expect("socket open");
        if m["type"] == "error" {
            assert_eq!(m["error"], "rate_limit_exceeded", "{m}");
            refused += 1;
        } else if m["event_type"] == "AGENT_RESPONSE" {
            answered += 1;
        }
    }
    assert_eq!((refused, answered), (90, 10));
    t.app.shutdown().await;
}

crate::both_wirings!(
    intents_per_session_and_per_tenant,
    a_chat_flood_is_cut_at_the_turn_limit
);

fn payload_of<'a>(done: &'a Value, key: &str) -> &'a Value {
    &done["artifacts"][key]["semantic_payload"]
}

async fn ingest(t: &TestApp, session: &str, name: &str, content: &str) -> Value {
    t.run_intent(
        session,
        Some("t"),
        "ingest_file",
        json!({"filename": name, "file_content": hex::encode(content)}),
    )
    .await
}

/// Storage quotas (issue 14, item 4): files' bytes and parsed records per session and per
/// tenant. A step that would go past one fails saying so, and keeps nothing of its own.
#[tokio::test]
async fn storage_quotas_per_session_and_per_tenant() {
    for db in databases().await {
        let mut config = test_config(&db);
        config.runtime.quotas = symphainy::store::usage::StorageQuotas {
            session_bytes: 100,
            session_records: 5,
            tenant_bytes: 150,
            tenant_records: 8,
        };
        let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
        let one = t.create_session(Some("t")).await;
        // 11 bytes and 4 records; 50 bytes and 1 record: the session keeps 61 bytes, 5 records.
        let a = ingest(&t, &one, "a.csv", "id\n1\n2\n3\n4\n").await;
        let b = ingest(&t, &one, "b.csv", &format!("id\n{}\n", "x".repeat(46))).await;
        assert_eq!(payload_of(&b, "file")["size_bytes"], 50, "[{}]", db.name);
        for f in [&a, &b] {
            let file_id = payload_of(f, "file")["file_id"].clone();
            let done = t
                .run_intent(
                    &one,
                    Some("t"),
                    "parse_content",
                    json!({"file_id": file_id}),
                )
                .await;
            assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
            // A report about the records keeps none of them: not counted.
            let parsed = payload_of(&done, "parsed_file")["parsed_file_id"].clone();
            let report = t
                .run_intent(
                    &one,
                    Some("t"),
                    "assess_data_quality",
                    json!({"parsed_file_id": parsed}),
                )
                .await;
            assert_eq!(report["status"], "completed", "[{}] {report}", db.name);
            let stored = report["artifacts"].to_string();
            assert!(
                stored.contains("record_count"),
                "the report mentions a record count"
            );
        }
        let used = t
            .app
            .store
            .artifacts()
            .usage_of_session(&one)
            .await
            .unwrap();
        assert_eq!((used.bytes, used.records), (61, 5), "[{}]", db.name);
        // Another 50 bytes: 111 > 100.
        let c = ingest(&t, &one, "c.csv", &format!("id\n{}\n", "y".repeat(46))).await;
        assert_eq!(c["status"], "failed", "[{}] {c}", db.name);
        assert_eq!(
            c["error"],
            "storage quota exceeded: this session may keep 100 bytes of files and has room \
             for 39 more; this file is 50 bytes"
        );
        // A second session of the tenant: its own bytes fit, but the tenant has room for 3
        // records only (8 - 5), and this file has 4.
        let two = t.create_session(Some("t")).await;
        let d = ingest(&t, &two, "d.csv", "id\n5\n6\n7\n8\n").await;
        assert_eq!(d["status"], "completed", "[{}] {d}", db.name);
        let file_id = payload_of(&d, "file")["file_id"].clone();
        let parsed = t
            .run_intent(
                &two,
                Some("t"),
                "parse_content",
                json!({"file_id": file_id}),
            )
            .await;
        assert_eq!(parsed["status"], "failed", "[{}] {parsed}", db.name);
        assert_eq!(
            parsed["error"],
            "storage quota exceeded: this tenant may keep 8 records and has room for 3 more; \
             this needs at least 4"
        );
        let used = t
            .app
            .store
            .artifacts()
            .usage_of_session(&two)
            .await
            .unwrap();
        assert_eq!(
            (used.bytes, used.records),
            (11, 0),
            "[{}] nothing of the parse is kept",
            db.name
        );
        let tenant = t.app.store.artifacts().usage_of_tenant("t").await.unwrap();
        assert_eq!((tenant.bytes, tenant.records), (72, 5), "[{}]", db.name);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}
