//! Acting on executions from the public API (the console's buttons): cancel, retry and answer
//! an approval, each scoped like the status — the token's tenant only, and without a token
//! only an anonymous session's executions. The status carries what the console shows: the
//! parameters, the pending hook with its reason, each step's attempts, the retried execution.

use serde_json::{json, Value};

use crate::common::*;

async fn call(
    t: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = t.http.request(method, format!("{}{path}", t.exp));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn submit(
    t: &TestApp,
    token: Option<&str>,
    session: &str,
    intent: &str,
    params: Value,
) -> Value {
    let (s, body) = call(
        t,
        reqwest::Method::POST,
        "/api/intent/submit",
        token,
        Some(json!({"intent_type": intent, "session_id": session, "parameters": params})),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    body
}

async fn status_when(t: &TestApp, token: Option<&str>, eid: &str, want: &'static str) -> Value {
    eventually(std::time::Duration::from_secs(20), || async {
        let (_, st) = call(
            t,
            reqwest::Method::GET,
            &format!("/api/execution/{eid}/status"),
            token,
            None,
        )
        .await;
        (st["status"] == want).then_some(st)
    })
    .await
}

async fn ingest(t: &TestApp, token: &str, session: &str, name: &str) -> String {
    let acc = submit(
        t,
        Some(token),
        session,
        "ingest_file",
        json!({"filename": name, "file_content": hex::encode("id,v\n1,2\n")}),
    )
    .await;
    status_when(
        t,
        Some(token),
        acc["execution_id"].as_str().unwrap(),
        "completed",
    )
    .await;
    acc["produces"]["file_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn cancel_retry_and_approval_are_scoped_like_the_status() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let ada = t.register_user("ada-actions").await;
        let bob = t.register_user("bob-actions").await;
        let (a, b) = (
            ada["access_token"].as_str().unwrap(),
            bob["access_token"].as_str().unwrap(),
        );
        let session = ada["session_id"].as_str().unwrap();
        let post = reqwest::Method::POST;

        // A deletion waits for approval: the status names the hook, its reason, the parameters.
        let file = ingest(&t, a, session, "one.csv").await;
        let del = submit(
            &t,
            Some(a),
            session,
            "delete_file",
            json!({"file_id": file}),
        )
        .await;
        let eid = del["execution_id"].as_str().unwrap();
        let st = status_when(&t, Some(a), eid, "awaiting_approval").await;
        assert_eq!(st["parameters"]["file_id"], file.as_str());
        let hook = st["hook"]["hook_id"].as_str().unwrap().to_string();
        assert_eq!(
            st["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["event_type"] == "SAFETY_APPROVAL_PENDING")
                .unwrap()["data"]["hook_id"],
            hook.as_str()
        );
        assert!(
            st["hook"]["reason"].as_str().unwrap().contains("delet"),
            "{st}"
        );
        // The list of what waits shows the hook too (the console's Approvals page).
        let (_, waiting) = call(
            &t,
            reqwest::Method::GET,
            "/api/executions?status=awaiting_approval",
            Some(a),
            None,
        )
        .await;
        let waiting = waiting["executions"].as_array().unwrap();
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        assert_eq!(waiting[0]["execution_id"], eid);
        assert_eq!(waiting[0]["hook"], st["hook"]);
        let decide = json!({"hook_id": hook, "approved": true});
        let path = format!("/api/execution/{eid}/approval");
        // Another tenant: 404; no token on a user's execution: 401. Nothing is decided.
        let (s, body) = call(&t, post.clone(), &path, Some(b), Some(decide.clone())).await;
        assert_error(s, &body, 404, "execution_not_found");
        let (s, body) = call(&t, post.clone(), &path, None, Some(decide.clone())).await;
        assert_error(s, &body, 401, "unauthorized");
        let (s, body) = call(
            &t,
            post.clone(),
            &format!("/api/execution/{eid}/cancel"),
            Some(b),
            None,
        )
        .await;
        assert_error(s, &body, 404, "execution_not_found");
        let st = status_when(&t, Some(a), eid, "awaiting_approval").await;
        assert_eq!(st["hook"]["hook_id"], hook.as_str());
        // The owner approves: it runs, and the file is gone.
        let (s, body) = call(&t, post.clone(), &path, Some(a), Some(decide)).await;
        assert_eq!((s, &body["execution_id"]), (200, &json!(eid)), "{body}");
        let st = status_when(&t, Some(a), eid, "completed").await;
        assert!(
            st.get("hook").is_none(),
            "a decided hook is not pending: {st}"
        );
        let (_, list) = call(
            &t,
            post.clone(),
            "/api/artifact/list",
            Some(a),
            Some(json!({"session_id": session, "artifact_type": "file"})),
        )
        .await;
        assert!(
            !list["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["artifact_id"] == file.as_str()),
            "{list}"
        );

        // Cancel: a waiting deletion is cancelled by its owner; a finished one cannot be.
        let file2 = ingest(&t, a, session, "two.csv").await;
        let del2 = submit(
            &t,
            Some(a),
            session,
            "delete_file",
            json!({"file_id": file2}),
        )
        .await;
        let eid2 = del2["execution_id"].as_str().unwrap();
        status_when(&t, Some(a), eid2, "awaiting_approval").await;
        let (s, body) = call(
            &t,
            post.clone(),
            &format!("/api/execution/{eid2}/cancel"),
            Some(a),
            None,
        )
        .await;
        assert_eq!((s, &body["status"]), (202, &json!("cancelling")), "{body}");
        status_when(&t, Some(a), eid2, "cancelled").await;
        let (s, body) = call(
            &t,
            post.clone(),
            &format!("/api/execution/{eid}/cancel"),
            Some(a),
            None,
        )
        .await;
        assert_eq!(s, 409, "{body}");

        // Retry: a new execution of the same intent, linked to the first; steps count attempts.
        let echo = submit(&t, Some(a), session, "echo", json!({"message": "again"})).await;
        let first = echo["execution_id"].as_str().unwrap();
        let done = status_when(&t, Some(a), first, "completed").await;
        assert_eq!(done["steps"][0]["attempts"], 1);
        assert!(done.get("retry_of").is_none());
        let (s, body) = call(
            &t,
            post.clone(),
            &format!("/api/execution/{first}/retry"),
            Some(b),
            None,
        )
        .await;
        assert_error(s, &body, 404, "execution_not_found");
        let (s, body) = call(
            &t,
            post.clone(),
            &format!("/api/execution/{first}/retry"),
            Some(a),
            None,
        )
        .await;
        assert_eq!(s, 202, "{body}");
        let second = body["execution_id"].as_str().unwrap();
        assert_ne!(second, first);
        let again = status_when(&t, Some(a), second, "completed").await;
        assert_eq!(again["retry_of"], first);
        assert_eq!(again["parameters"]["message"], "again");
        assert_eq!(
            again["artifacts"]["echo"]["semantic_payload"]["message"],
            "again"
        );

        // An anonymous session's id is its capability: it retries without a token.
        let anon = t.anonymous().await;
        let echo = submit(&t, None, &anon, "echo", json!({"message": "anon"})).await;
        let aid = echo["execution_id"].as_str().unwrap();
        status_when(&t, None, aid, "completed").await;
        let (s, body) = call(
            &t,
            post.clone(),
            &format!("/api/execution/{aid}/retry"),
            None,
            None,
        )
        .await;
        assert_eq!(s, 202, "{body}");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}
