//! `/metrics` counts known work by the expected amounts. A binary of its own: the recorder is
//! process-wide, and other tests running beside this one would move the same counters.

#[allow(dead_code)] // this binary uses a few of the shared helpers
#[path = "it/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use serde_json::json;

/// One sample: its name and sorted labels, e.g. `x_total{a="1",b="2"}`.
type Samples = BTreeMap<String, f64>;

/// Parses the Prometheus text format into samples keyed by name and sorted labels.
fn parse(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let Some((key, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (name, labels) = match key.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (key, ""),
        };
        let mut pairs: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in labels.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    current.push(c);
                }
                ',' if !quoted => pairs.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        if !current.is_empty() {
            pairs.push(current);
        }
        pairs.sort();
        let key = if pairs.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", pairs.join(","))
        };
        out.insert(key, value.parse().unwrap_or(f64::NAN));
    }
    out
}

async fn scrape(t: &TestApp) -> Samples {
    let r = t
        .http
        .get(format!("{}/metrics", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    parse(&r.text().await.unwrap())
}

fn delta(before: &Samples, after: &Samples, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_by_the_expected_amounts() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.rate_login = "1/60".parse().unwrap();
    config.experience.metrics_token = Some("metrics-secret".into());
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let before = scrape(&t).await;

    // Three echoes and one intent that fails in its step, in one anonymous session.
    let s = t.anonymous().await;
    for i in 0..3 {
        let e = t.submit_echo(&s, None, &format!("hello {i}")).await;
        assert_eq!(t.wait_terminal(&e).await["status"], "completed");
    }
    let (status, accepted) = t
        .submit(json!({"intent_type": "get_pso", "session_id": s,
            "parameters": {"pso_id": "no-such-pso"}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let e = accepted["execution_id"].as_str().unwrap().to_string();
    assert_eq!(t.wait_terminal(&e).await["status"], "failed");
    // A status poll for an unknown execution: 404, counted by its route pattern.
    let r = t
        .http
        .get(format!(
            "{}/api/execution/{}/status",
            t.exp,
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Two logins from one address with a limit of one a minute: one 401, one 429.
    for expected in [401, 429] {
        let r = t
            .http
            .post(format!("{}/api/auth/login", t.exp))
            .json(&json!({"email": "nobody@example.com", "password": "whatever-it-is"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), expected);
    }

    let after = scrape(&t).await;
    let d = |key: &str| delta(&before, &after, key);
    assert_eq!(
        d(r#"symphainy_executions_started_total{intent_type="echo"}"#),
        3.0
    );
    assert_eq!(
        d(r#"symphainy_executions_finished_total{intent_type="echo",status="completed"}"#),
        3.0
    );
    assert_eq!(
        d(r#"symphainy_executions_finished_total{intent_type="get_pso",status="failed"}"#),
        1.0
    );
    assert_eq!(
        d(r#"symphainy_execution_duration_seconds_count{intent_type="echo",status="completed"}"#),
        3.0
    );
    // get_pso's one step ran once and failed.
    assert_eq!(
        d(
            r#"symphainy_step_duration_seconds_count{intent_type="get_pso",outcome="error",step="read"}"#
        ),
        1.0
    );
    // Four submits (202) on the Runtime API (the harness submits there), and one status 404
    // on the Experience Plane, each by its route pattern.
    assert_eq!(
        d(
            r#"symphainy_http_requests_total{method="POST",plane="runtime",route="/api/intent/submit",status="202"}"#
        ),
        4.0
    );
    assert_eq!(
        d(
            r#"symphainy_http_requests_total{method="GET",plane="experience",route="/api/execution/{id}/status",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        d(r#"symphainy_rate_limit_rejections_total{limit="login_by_address"}"#),
        1.0
    );
    assert!(d("symphainy_event_log_batch_size_count") >= 1.0);
    assert!(after["symphainy_sessions_active"] >= 1.0);
    assert!(d("symphainy_session_activations_total") >= 1.0);

    // An agent socket is counted while it is open.
    let (_, mut ws) = {
        let ws = common::ws::connect(&t.exp, &format!("session_id={s}")).await;
        ((), ws)
    };
    let _ = common::ws::next(&mut ws).await;
    let open = scrape(&t).await["symphainy_agent_sockets_open"];
    assert_eq!(open, 1.0);
    drop(ws);
    eventually(Duration::from_secs(10), || async {
        (scrape(&t).await["symphainy_agent_sockets_open"] == 0.0).then_some(())
    })
    .await;

    // The public listener's /metrics wants the metrics token, not the service token.
    let public = |token: Option<&'static str>| {
        let mut r = t.http.get(format!("{}/metrics", t.exp));
        if let Some(tok) = token {
            r = r.bearer_auth(tok);
        }
        r.send()
    };
    assert_eq!(public(None).await.unwrap().status().as_u16(), 401);
    let service = t.token.clone();
    let r = t
        .http
        .get(format!("{}/metrics", t.exp))
        .bearer_auth(&service)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = public(Some("metrics-secret")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("# HELP symphainy_executions_started_total"));
    t.app.shutdown().await;
}
