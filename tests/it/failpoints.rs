//! The real binary crashed (abort) at each failpoint of the write paths in the middle of real
//! work, then started again: every accepted intent completes, each step is recorded once, each
//! ingested file is one artifact, and each session's `seq` has no gap and no duplicate.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use symphainy::failpoints;

const TOKEN: &str = "failpoint-token";

async fn post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Option<Value> {
    let r = http
        .post(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

/// Submits ingests and echoes on both sessions at once; the ids of those accepted (202) before
/// the process died.
async fn work(http: &reqwest::Client, base: &str, sessions: &[String]) -> Vec<(String, usize)> {
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (http, base, session) = (http.clone(), base.to_string(), sessions[i % 2].clone());
        tasks.push(tokio::spawn(async move {
            let (intent, params, steps) = if i % 2 == 0 {
                let csv = format!("id,value\n{i},{}\n", i * 10);
                (
                    "ingest_file",
                    json!({"filename": format!("f{i}.csv"), "file_content": hex::encode(csv)}),
                    2,
                )
            } else {
                (
                    "echo",
                    json!({"message": format!("e{i}"), "delay_ms": 20}),
                    1,
                )
            };
            let accepted = post(
                &http,
                &base,
                "/api/intent/submit",
                json!({"intent_type": intent, "session_id": session, "parameters": params}),
            )
            .await?;
            Some((accepted["execution_id"].as_str()?.to_string(), steps))
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            ids.push(id);
        }
    }
    ids
}

#[tokio::test]
async fn a_crash_at_each_failpoint_loses_and_doubles_nothing() {
    for db in databases().await {
        for point in failpoints::ALL {
            let why = format!("[{}] {point}", db.name);
            let http = reqwest::Client::new();
            // Fires on the fifth pass (the third for artifacts, which are fewer).
            let nth = if point == failpoints::ARTIFACT_BEFORE_COMMIT {
                2
            } else {
                4
            };
            let spec = format!("{point}={nth}*off->return");
            let mut server = start_binary(&db, TOKEN, &[("FAILPOINTS", spec.as_str())]).await;
            let mut sessions = Vec::new();
            for _ in 0..2 {
                let s = post(&http, &server.base, "/api/session/create", json!({}))
                    .await
                    .expect("a session");
                sessions.push(s["session_id"].as_str().unwrap().to_string());
            }
            let mut accepted = work(&http, &server.base, &sessions).await;
            // More work until the point fires and the process is gone. On a loaded machine the
            // executions lag far behind the 202s: past a few hundred accepted, stop submitting
            // and give the backlog time to reach the point.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
            let exit = loop {
                if let Ok(Some(status)) = server.child.try_wait() {
                    break status;
                }
                if tokio::time::Instant::now() > deadline {
                    let log = server.log.lock().clone();
                    let tail = &log[log.len().saturating_sub(4000)..];
                    panic!(
                        "{why}: the failpoint never fired ({} accepted); log ends:\n{tail}",
                        accepted.len()
                    );
                }
                if accepted.len() < 300 {
                    accepted.extend(work(&http, &server.base, &sessions).await);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            assert!(!exit.success(), "{why}: the process crashed ({exit})");
            let log = server.final_log().await;
            assert!(log.contains(&format!("failpoint {point}")), "{why}: {log}");

            let server = start_binary(&db, TOKEN, &[]).await;
            for (id, _) in &accepted {
                let done = wait_terminal(&http, &server.base, TOKEN, id).await;
                assert_eq!(done["status"], "completed", "{why}: {done}");
            }
            // Some intents were stored but their 202 never left the crashed process: they ran
            // too. Read the whole log of each session once nothing is left unfinished.
            let store = symphainy::store::Store::connect(&db.url).await.unwrap();
            eventually(Duration::from_secs(20), || async {
                store
                    .runtime()
                    .sessions_with_unfinished_executions()
                    .await
                    .unwrap()
                    .is_empty()
                    .then_some(())
            })
            .await;
            for session in &sessions {
                let events = store
                    .runtime()
                    .events_after(session, 0, 100_000)
                    .await
                    .unwrap();
                let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
                let want: Vec<i64> = (1..=seqs.len() as i64).collect();
                assert_eq!(seqs, want, "{why}: session {session}: no gap, no duplicate");
                let mut by_execution: HashMap<String, Vec<&symphainy::store::EventRow>> =
                    HashMap::new();
                for e in &events {
                    if let Some(x) = &e.execution_id {
                        by_execution.entry(x.clone()).or_default().push(e);
                    }
                }
                for (x, events) in by_execution {
                    let count = |ty: &str| events.iter().filter(|e| e.event_type == ty).count();
                    assert_eq!(count("EXECUTION_COMPLETED"), 1, "{why}: {x} completed once");
                    let mut recorded: Vec<i64> = events
                        .iter()
                        .filter(|e| e.event_type == "STEP_COMPLETED")
                        .map(|e| e.data["step_index"].as_i64().unwrap())
                        .collect();
                    let n = recorded.len();
                    recorded.sort();
                    recorded.dedup();
                    assert_eq!(recorded.len(), n, "{why}: {x}: each step recorded once");
                    let intent = events[0].data["intent_type"].as_str().unwrap_or_default();
                    let steps = if intent == "ingest_file" { 2 } else { 1 };
                    assert_eq!(n, steps, "{why}: {x} ({intent}) recorded all its steps");
                }
            }
            store.close().await;
            // One file artifact per ingest that ran (accepted or not), no more.
            let store = symphainy::store::Store::connect(&db.url).await.unwrap();
            let mut ingests = 0;
            for session in &sessions {
                let events = store
                    .runtime()
                    .events_after(session, 0, 100_000)
                    .await
                    .unwrap();
                ingests += events
                    .iter()
                    .filter(|e| {
                        e.event_type == "EXECUTION_COMPLETED"
                            && e.data["intent_type"] == "ingest_file"
                    })
                    .count();
            }
            store.close().await;
            let mut files = 0;
            for session in &sessions {
                let listed = post(
                    &http,
                    &server.base,
                    "/api/artifact/list",
                    json!({"session_id": session, "artifact_type": "file", "limit": 1000}),
                )
                .await
                .expect("a listing");
                files += listed["total"].as_i64().unwrap();
            }
            assert_eq!(files as usize, ingests, "{why}: one artifact per ingest");
            let mut server = server;
            server.child.kill().await.unwrap();
        }
        db.cleanup().await;
    }
}
