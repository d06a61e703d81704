//! Visibility (issue 19): listing executions and sessions with filters and cursor pages on
//! the Runtime API, the same lists scoped to the caller on the Experience Plane, and retry —
//! on each database backend.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::*;

/// Every page of a listing, following `next_cursor`; the items of each page.
async fn pages(t: &TestApp, path: &str, key: &str) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_string(),
        };
        let (s, body) = t.get(&url).await;
        assert_eq!(s, 200, "{url}: {body}");
        out.push(body[key].as_array().unwrap().clone());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
        assert!(out.len() < 50, "no end of pages");
    }
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn executions_and_sessions_are_listed_filtered_paged_and_scoped() {
    for db in databases().await {
        let why = db.name;
        let t = spawn_app(&db).await;
        // Tenant A: five echoes and one failing intent in one session; tenant B: two echoes;
        // an anonymous session: one echo.
        let sa = t.create_session(Some("tenant-a")).await;
        let sb = t.create_session(Some("tenant-b")).await;
        let sc = t.create_session(None).await;
        let mut a_ids = Vec::new();
        for i in 0..5 {
            let e = t.submit_echo(&sa, Some("tenant-a"), &format!("a{i}")).await;
            t.wait_terminal(&e).await;
            a_ids.push(e);
        }
        let (s, acc) = t
            .submit(
                json!({"intent_type": "get_pso", "session_id": sa, "tenant_id": "tenant-a",
                "parameters": {"pso_id": "missing"}}),
            )
            .await;
        assert_eq!(s, 202, "{why}: {acc}");
        let failed = acc["execution_id"].as_str().unwrap().to_string();
        assert_eq!(t.wait_terminal(&failed).await["status"], "failed");
        a_ids.push(failed.clone());
        for i in 0..2 {
            let e = t.submit_echo(&sb, Some("tenant-b"), &format!("b{i}")).await;
            t.wait_terminal(&e).await;
        }
        let c_echo = t.submit_echo(&sc, None, "c").await;
        t.wait_terminal(&c_echo).await;

        // Tenant A in pages of two: three pages, newest first, every execution once.
        let got = pages(
            &t,
            "/api/executions?tenant_id=tenant-a&limit=2",
            "executions",
        )
        .await;
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            [2, 2, 2],
            "{why}"
        );
        let all: Vec<Value> = got.into_iter().flatten().collect();
        let mut newest_first = a_ids.clone();
        newest_first.reverse();
        assert_eq!(ids(&all, "execution_id"), newest_first, "{why}");
        assert!(all
            .iter()
            .all(|e| e["tenant_id"] == "tenant-a" && e["session_id"] == sa));

        // Filters: status, intent type with session, time range.
        let (_, body) = t
            .get("/api/executions?tenant_id=tenant-a&status=failed")
            .await;
        assert_eq!(
            ids(body["executions"].as_array().unwrap(), "execution_id"),
            std::slice::from_ref(&failed)
        );
        assert_eq!(body["executions"][0]["error"], "pso missing not found");
        let (_, body) = t
            .get(&format!("/api/executions?session_id={sa}&intent_type=echo"))
            .await;
        assert_eq!(body["executions"].as_array().unwrap().len(), 5, "{why}");
        // Since the fourth of A's executions (created at or after it): the last three.
        let since = all[2]["created_at"].as_str().unwrap().replace('+', "%2B");
        let (_, body) = t
            .get(&format!("/api/executions?tenant_id=tenant-a&since={since}"))
            .await;
        assert_eq!(
            ids(body["executions"].as_array().unwrap(), "execution_id"),
            newest_first[..3].to_vec(),
            "{why}"
        );
        let (_, body) = t
            .get(&format!("/api/executions?tenant_id=tenant-a&until={since}"))
            .await;
        assert_eq!(
            ids(body["executions"].as_array().unwrap(), "execution_id"),
            newest_first[3..].to_vec(),
            "{why}"
        );
        // Bad queries: the field, named.
        for (q, field) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("cursor=not-ours!", "cursor"),
            ("status=finished", "status"),
            ("since=yesterday", "since"),
        ] {
            let (s, body) = t.get(&format!("/api/executions?{q}")).await;
            assert_error(s, &body, 422, "validation_error");
            assert!(body["fields"][field].is_string(), "{q}: {body}");
        }

        // Sessions: tenant B has one; all three sessions when unfiltered (newest first).
        let (_, body) = t.get("/api/sessions?tenant_id=tenant-b").await;
        assert_eq!(
            ids(body["sessions"].as_array().unwrap(), "session_id"),
            std::slice::from_ref(&sb)
        );
        let (_, body) = t.get("/api/sessions?limit=500").await;
        let listed: BTreeSet<String> = ids(body["sessions"].as_array().unwrap(), "session_id")
            .into_iter()
            .collect();
        assert!([&sa, &sb, &sc].iter().all(|s| listed.contains(*s)), "{why}");

        // Retry: another tenant's execution is 404 (nothing retried); a new execution of the
        // failed one, linked to it; a running one: 409.
        let (s, body) = t
            .post(
                &format!("/api/execution/{failed}/retry?tenant_id=tenant-b"),
                json!({}),
            )
            .await;
        assert_error(s, &body, 404, "execution_not_found");
        let r = t
            .http
            .post(t.url(&format!("/api/execution/{failed}/retry")))
            .bearer_auth(&t.token)
            .header("x-request-id", "retry-req-1")
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        let retried: Value = r.json().await.unwrap();
        assert_eq!(s, 202, "{why}: {retried}");
        let again = retried["execution_id"].as_str().unwrap().to_string();
        assert_ne!(again, failed);
        assert_eq!(t.wait_terminal(&again).await["status"], "failed");
        let (_, body) = t.get("/api/executions?tenant_id=tenant-a&limit=1").await;
        assert_eq!(body["executions"][0]["execution_id"], again);
        assert_eq!(body["executions"][0]["retry_of"], failed);
        // The retry is the retrying request's: its id is kept with the new execution.
        assert_eq!(body["executions"][0]["request_id"], "retry-req-1");
        let (s, acc) = t
            .submit(
                json!({"intent_type": "echo", "session_id": sa, "tenant_id": "tenant-a",
                "parameters": {"message": "slow", "delay_ms": 3000},
                "metadata": {"retry_of": "forged", "note": "kept"}}),
            )
            .await;
        assert_eq!(s, 202);
        let slow = acc["execution_id"].as_str().unwrap().to_string();
        let (s, body) = t
            .post(&format!("/api/execution/{slow}/retry"), json!({}))
            .await;
        assert_error(s, &body, 409, "not_finished");
        t.wait_terminal(&slow).await;
        // A client's metadata cannot claim to be a retry.
        let (_, body) = t.get("/api/executions?tenant_id=tenant-a&limit=1").await;
        assert_eq!(body["executions"][0]["execution_id"], slow);
        assert!(body["executions"][0].get("retry_of").is_none(), "{body}");

        // The Experience Plane: an anonymous caller names their session and sees only it.
        let http = &t.http;
        let r: Value = http
            .get(format!(
                "{}/api/executions?session_id={sc}&tenant_id=tenant-a",
                t.exp
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            ids(r["executions"].as_array().unwrap(), "execution_id"),
            std::slice::from_ref(&c_echo)
        );
        let r = http
            .get(format!("{}/api/executions", t.exp))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_error(status, &r.json().await.unwrap(), 422, "validation_error");
        let r: Value = http
            .get(format!("{}/api/sessions?session_id={sc}", t.exp))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            ids(r["sessions"].as_array().unwrap(), "session_id"),
            std::slice::from_ref(&sc)
        );

        // A user sees their own tenant's executions and sessions; another tenant is 404.
        let r: Value = http
            .post(format!("{}/api/auth/register", t.exp))
            .json(&json!({"name": "Grace", "email": format!("g{}@example.com", uuid::Uuid::new_v4().simple()),
                "password": "compilers-rule"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (token, tenant, mine) = (
            r["access_token"].as_str().unwrap().to_string(),
            r["tenant_id"].as_str().unwrap().to_string(),
            r["session_id"].as_str().unwrap().to_string(),
        );
        let (s, acc) = t
            .submit(
                json!({"intent_type": "echo", "session_id": mine, "tenant_id": tenant,
                "parameters": {"message": "mine"}}),
            )
            .await;
        assert_eq!(s, 202);
        let my_echo = acc["execution_id"].as_str().unwrap().to_string();
        t.wait_terminal(&my_echo).await;
        let r: Value = http
            .get(format!("{}/api/executions", t.exp))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            ids(r["executions"].as_array().unwrap(), "execution_id"),
            [my_echo]
        );
        let r: Value = http
            .get(format!("{}/api/sessions", t.exp))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ids(r["sessions"].as_array().unwrap(), "session_id"), [mine]);
        let r = http
            .get(format!("{}/api/executions?tenant_id=tenant-a", t.exp))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_error(status, &r.json().await.unwrap(), 404, "tenant_not_found");
        t.app.shutdown().await;
    }
}
