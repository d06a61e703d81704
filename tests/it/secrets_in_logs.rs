//! Passwords, tokens and keys never reach the logs, even at debug level.

use crate::common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn passwords_and_tokens_never_appear_in_logs() {
    let db = sqlite_db();
    let service_token = "service-token-that-must-not-leak";
    let jwt_secret = "jwt-secret-that-must-not-leak-0123456789";
    let server = start_binary(
        &db,
        service_token,
        &[
            ("RUST_LOG", "debug"),
            ("SYMPHAINY_JWT_SECRET", jwt_secret),
            ("SYMPHAINY_LOG_FORMAT", "json"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let password = "Correct-Horse-Battery-Staple-42";
    let post = |path: &str, body: Value, token: Option<String>| {
        let mut req = http.post(format!("{}{path}", server.exp)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let reg: Value = post(
        "/api/auth/register",
        json!({"name": "Log", "email": "log@example.com", "password": password}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let login: Value = post(
        "/api/auth/login",
        json!({"email": "log@example.com", "password": password}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let wrong = post(
        "/api/auth/login",
        json!({"email": "log@example.com", "password": "Wrong-Password-Also-Secret"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let refreshed: Value = post(
        "/api/auth/refresh",
        json!({"refresh_token": login["refresh_token"]}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let access = refreshed["access_token"].as_str().unwrap().to_string();
    let r = post("/api/intent/submit", json!({"intent_type": "echo", "session_id": login["session_id"], "parameters": {"message": "hi"}}), Some(access.clone()))
        .await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let r = http
        .get(format!(
            "{}/api/session/{}",
            server.base,
            login["session_id"].as_str().unwrap()
        ))
        .bearer_auth(service_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Let the logs flush.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let log = server.log.lock().clone();
    assert!(
        log.contains("user registered"),
        "debug logs were captured: {} bytes",
        log.len()
    );
    let secrets = [
        password.to_string(),
        "Wrong-Password-Also-Secret".to_string(),
        service_token.to_string(),
        jwt_secret.to_string(),
        reg["access_token"].as_str().unwrap().to_string(),
        reg["refresh_token"].as_str().unwrap().to_string(),
        login["access_token"].as_str().unwrap().to_string(),
        login["refresh_token"].as_str().unwrap().to_string(),
        refreshed["refresh_token"].as_str().unwrap().to_string(),
        access,
    ];
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a secret leaked into the logs"
        );
    }
}
