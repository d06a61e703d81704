//! The real binary, killed with SIGKILL right after bursts of accepted intents and started
//! again: every accepted intent reaches `completed` exactly once, and each session's log has no
//! gap and no duplicate.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};

async fn burst(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sessions: &[String],
    n: usize,
) -> Vec<String> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (http, base, token) = (http.clone(), base.to_string(), token.to_string());
        let session = sessions[i % sessions.len()].clone();
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/intent/submit"))
                .bearer_auth(token)
                .json(&json!({"intent_type": "echo", "session_id": session,
                    "parameters": {"message": format!("m{i}"), "delay_ms": (i * 37) % 250}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 202);
            let v: Value = r.json().await.unwrap();
            v["execution_id"].as_str().unwrap().to_string()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids
}

async fn submit_slow(http: &reqwest::Client, base: &str, token: &str, session: &str) -> String {
    let r = http
        .post(format!("{base}/api/intent/submit"))
        .bearer_auth(token)
        .json(&json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "anchor", "delay_ms": 1500}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let v: Value = r.json().await.unwrap();
    v["execution_id"].as_str().unwrap().to_string()
}

async fn wait_running(http: &reqwest::Client, base: &str, token: &str, id: &str) {
    eventually(Duration::from_secs(10), || async {
        let r = http
            .get(format!("{base}/api/execution/{id}/status"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        (v["steps"][0]["status"] == "running").then_some(())
    })
    .await
}

#[tokio::test]
async fn sigkill_after_bursts_loses_nothing_and_doubles_nothing() {
    for db in databases().await {
        let token = "crash-test-token";
        let http = reqwest::Client::new();
        let mut server = start_binary(&db, token, &[]).await;
        let mut sessions = Vec::new();
        for _ in 0..4 {
            let r = http
                .post(format!("{}/api/session/create", server.base))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            sessions.push(v["session_id"].as_str().unwrap().to_string());
        }

        let mut accepted = Vec::new();
        for _round in 0..2 {
            // An anchor intent that is surely mid-step when the kill lands.
            let anchor = submit_slow(&http, &server.base, token, &sessions[0]).await;
            accepted.extend(burst(&http, &server.base, token, &sessions, 40).await);
            wait_running(&http, &server.base, token, &anchor).await;
            accepted.push(anchor);
            server.child.kill().await.unwrap(); // SIGKILL
            server = start_binary(&db, token, &[]).await;
        }

        let mut by_session: HashMap<String, Vec<i64>> = HashMap::new();
        let mut resumed = 0;
        for id in &accepted {
            let done = wait_terminal(&http, &server.base, token, id).await;
            assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
            let types = event_types(&done);
            for once in ["EXECUTION_STARTED", "STEP_COMPLETED", "EXECUTION_COMPLETED"] {
                assert_eq!(
                    types.iter().filter(|t| *t == once).count(),
                    1,
                    "[{}] {once} exactly once: {types:?}",
                    db.name
                );
            }
            if types.iter().filter(|t| *t == "STEP_STARTED").count() > 1 {
                resumed += 1;
            }
            let seqs = by_session
                .entry(done["session_id"].as_str().unwrap().to_string())
                .or_default();
            for e in done["events"].as_array().unwrap() {
                seqs.push(e["seq"].as_i64().unwrap());
            }
        }
        assert!(
            resumed > 0,
            "[{}] the kills interrupted running steps that were then resumed",
            db.name
        );
        eprintln!(
            "[{}] {} intents, {resumed} resumed after SIGKILL",
            db.name,
            accepted.len()
        );
        for (session, mut seqs) in by_session {
            seqs.sort();
            let want: Vec<i64> = (1..=seqs.len() as i64).collect();
            assert_eq!(
                seqs, want,
                "[{}] session {session}: no gap, no duplicate",
                db.name
            );
        }
        server.child.kill().await.unwrap();
        db.cleanup().await;
    }
}
