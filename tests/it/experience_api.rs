//! The Experience Plane's REST surface as the frontend uses it, over real sockets.

use std::time::Duration;

use crate::common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use symphainy::config::Config;

struct Exp {
    t: TestApp,
}

impl Exp {
    async fn start(config: Config) -> Exp {
        Exp {
            t: spawn_app_with(config, symphainy::runtime::realms::builtin()).await,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let url = format!("{}{}", self.t.exp, path);
        let mut req = match method {
            "GET" => self.t.http.get(url),
            "PATCH" => self.t.http.patch(url),
            _ => self.t.http.post(url),
        };
        if let Some(tok) = token {
            req = req.bearer_auth(tok);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.json().await.unwrap_or(Value::Null), headers)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let (s, b, _) = self.call("POST", path, token, Some(body)).await;
        (s, b)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let (s, b, _) = self.call("GET", path, token, None).await;
        (s, b)
    }

    async fn register(&self, name: &str, email: &str) -> Value {
        let (s, b) = self
            .post(
                "/api/auth/register",
                None,
                json!({"name": name, "email": email, "password": "s3cret-passw0rd"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b
    }

    async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        self.post(
            "/api/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    async fn wait_terminal(&self, execution_id: &str, token: Option<&str>) -> Value {
        eventually(Duration::from_secs(20), || async {
            let (s, b) = self
                .get(&format!("/api/execution/{execution_id}/status"), token)
                .await;
            assert_eq!(s, 200, "{b}");
            terminal(b)
        })
        .await
    }
}

fn assert_auth_response(b: &Value, email: &str) {
    assert_eq!(b["success"], true, "{b}");
    assert_eq!(b["token_type"], "bearer");
    assert_eq!(b["expires_in"], 900);
    for f in [
        "access_token",
        "refresh_token",
        "session_id",
        "user_id",
        "tenant_id",
        "message",
    ] {
        assert!(b[f].as_str().is_some_and(|v| !v.is_empty()), "{f} in {b}");
    }
    assert_eq!(b["roles"], json!(["owner"]));
    assert_eq!(
        b["permissions"],
        json!(["read", "write", "admin", "delete"])
    );
    let u = &b["user"];
    assert_eq!(u["id"], b["user_id"]);
    assert_eq!(u["user_id"], b["user_id"]);
    assert_eq!(u["tenant_id"], b["tenant_id"]);
    assert_eq!(u["email"], email);
    assert_eq!(u["roles"], b["roles"]);
    assert_eq!(u["permissions"], b["permissions"]);
}

async fn the_frontend_flow_from_anonymous_to_logout() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let (s, h) = e.get("/health", None).await;
    assert_eq!(
        (s, h["status"].as_str(), h["service"].as_str()),
        (200, Some("healthy"), Some("experience"))
    );

    // Anonymous: session, echo and status with no Authorization header.
    let (s, anon) = e
        .post(
            "/api/session/create-anonymous",
            None,
            json!({"metadata": {"src": "landing"}}),
        )
        .await;
    assert_eq!(s, 201, "{anon}");
    assert_eq!(anon["tenant_id"], Value::Null);
    assert_eq!(anon["user_id"], Value::Null);
    let sid = anon["session_id"].as_str().unwrap().to_string();
    let (s, acc) = e
        .post(
            "/api/intent/submit",
            None,
            json!({"intent_type": "echo", "session_id": sid, "parameters": {"message": "hi"}}),
        )
        .await;
    assert_eq!(s, 202, "{acc}");
    assert_eq!(acc["status"], "accepted");
    let done = e
        .wait_terminal(acc["execution_id"].as_str().unwrap(), None)
        .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["artifacts"]["echo"]["semantic_payload"]["message"],
        "hi"
    );
    // An empty body works for create-anonymous too.
    let r =
        e.t.http
            .post(format!("{}/api/session/create-anonymous", e.t.exp))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status().as_u16(), 201);

    // Register, then log in.
    let reg = e.register("Ada Lovelace", "Ada@Example.com ").await;
    assert_auth_response(&reg, "ada@example.com");
    let (s, login) = e.login("ada@example.com", "s3cret-passw0rd").await;
    assert_eq!(s, 200, "{login}");
    assert_auth_response(&login, "ada@example.com");
    assert_eq!(login["user_id"], reg["user_id"]);
    assert_ne!(
        login["session_id"], reg["session_id"],
        "login opens a new session"
    );
    let access = login["access_token"].as_str().unwrap().to_string();
    let tenant = login["tenant_id"].as_str().unwrap().to_string();

    // Upgrade the anonymous session to the user.
    let (s, up, _) = e
        .call(
            "PATCH",
            &format!("/api/session/{sid}/upgrade"),
            Some(&access),
            Some(json!({"metadata": {"plan": "free"}})),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    let next = up["session_id"].as_str().unwrap().to_string();
    assert_ne!(next, sid, "the owner continues under a new id");
    assert_eq!(up["user_id"], login["user_id"]);
    assert_eq!(up["tenant_id"], json!(tenant));
    // The old id with the owner's token (a reload): the session the owner continues in.
    let (s, session) = e.get(&format!("/api/session/{sid}"), Some(&access)).await;
    assert_eq!(s, 200, "{session}");
    assert_eq!(session["session_id"], json!(next));
    assert_eq!(session["is_anonymous"], false);
    assert_eq!(
        session["metadata"],
        json!({"src": "landing", "plan": "free"})
    );

    // me.
    let (s, me) = e.get("/api/auth/me", Some(&access)).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["success"], true);
    assert_eq!(me["user"]["id"], login["user_id"]);
    assert_eq!(me["user"]["name"], "Ada Lovelace");

    // Refresh rotates the pair.
    let (s, refreshed) = e
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": login["refresh_token"], "session_id": sid}),
        )
        .await;
    assert_eq!(s, 200, "{refreshed}");
    assert_auth_response(&refreshed, "ada@example.com");
    assert_ne!(refreshed["refresh_token"], login["refresh_token"]);
    assert_eq!(refreshed["session_id"], json!(sid));

    // Logout revokes the family: the newest refresh token no longer works.
    let new_access = refreshed["access_token"].as_str().unwrap();
    let (s, out) = e
        .post(
            "/api/auth/logout",
            Some(new_access),
            json!({"refresh_token": refreshed["refresh_token"]}),
        )
        .await;
    assert_eq!((s, out["success"].as_bool()), (200, Some(true)), "{out}");
    let (s, b) = e
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": refreshed["refresh_token"]}),
        )
        .await;
    assert_error(s, &b, 401, "invalid_token");
    e.t.app.shutdown().await;
}

async fn registration_and_login_errors() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    e.register("Grace", "grace@example.com").await;
    let (s, b) = e
        .post("/api/auth/register", None, json!({"name": "Grace 2", "email": " GRACE@example.com", "password": "another-passw0rd"}))
        .await;
    assert_error(s, &b, 409, "email_already_registered");

    let (s, b) = e
        .post(
            "/api/auth/register",
            None,
            json!({"name": "X", "email": "not-an-email", "password": "short"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_error");
    assert_eq!(b["fields"]["email"], "must be a valid email address");
    assert_eq!(b["fields"]["password"], "must be at least 8 characters");
    let (s, b) = e
        .post(
            "/api/auth/register",
            None,
            json!({"name": "", "email": "n@example.com", "password": "long enough"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_error");
    assert_eq!(b["fields"]["name"], "is required");
    let (s, b) = e.post("/api/auth/register", None, json!({"name": 5})).await;
    assert_error(s, &b, 422, "validation_error");
    assert!(b["fields"]["name"].is_string(), "{b}");

    // Wrong password and unknown email: the same 401, byte for byte.
    let r1 =
        e.t.http
            .post(format!("{}/api/auth/login", e.t.exp))
            .json(&json!({"email": "grace@example.com", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
    let r2 =
        e.t.http
            .post(format!("{}/api/auth/login", e.t.exp))
            .json(&json!({"email": "nobody@example.com", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (401, 401));
    assert_eq!(r1.headers()["www-authenticate"], "Bearer");
    let (b1, b2) = (r1.text().await.unwrap(), r2.text().await.unwrap());
    assert_eq!(b1, b2);
    assert_error(
        401,
        &serde_json::from_str(&b1).unwrap(),
        401,
        "invalid_credentials",
    );

    // Malformed JSON: 400.
    let r =
        e.t.http
            .post(format!("{}/api/auth/login", e.t.exp))
            .header("content-type", "application/json")
            .body("{\"email\":")
            .send()
            .await
            .unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().await.unwrap(), 400, "malformed_json");
    e.t.app.shutdown().await;
}

async fn tampered_expired_and_foreign_tokens_are_401() {
    let db = sqlite_db();
    let config = test_config(&db);
    let secret = secrecy::ExposeSecret::expose_secret(&config.experience.jwt_secret).to_string();
    let e = Exp::start(config).await;
    let reg = e.register("Tok", "tok@example.com").await;
    let access = reg["access_token"].as_str().unwrap();
    let (s, _) = e.get("/api/auth/me", Some(access)).await;
    assert_eq!(s, 200);

    // Tamper with the middle of the signature (its last character may only carry padding bits).
    let mut tampered: Vec<char> = access.chars().collect();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let keys = symphainy::security::tokens::JwtKeys::new(&secret, Duration::from_secs(900));
    let mut claims = keys.verify(access).unwrap();
    claims.iat -= 600;
    claims.exp = claims.iat + 300; // expired five minutes ago, well past the leeway
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let foreign =
        symphainy::security::tokens::JwtKeys::new("other-secret", Duration::from_secs(900))
            .issue(
                reg["user_id"].as_str().unwrap(),
                reg["tenant_id"].as_str().unwrap(),
                &["owner".into()],
            )
            .unwrap();
    for bad in [
        tampered.as_str(),
        expired.as_str(),
        foreign.as_str(),
        "garbage",
    ] {
        let (s, b, h) = e.call("GET", "/api/auth/me", Some(bad), None).await;
        assert_error(s, &b, 401, "invalid_token");
        assert_eq!(h["www-authenticate"], "Bearer");
        // A bad token is never treated as anonymous.
        let (s, b) = e
            .post("/api/session/create-anonymous", None, json!({}))
            .await;
        assert_eq!(s, 201, "{b}");
        let sid = b["session_id"].as_str().unwrap();
        let (s, b) = e
            .post(
                "/api/intent/submit",
                Some(bad),
                json!({"intent_type": "echo", "session_id": sid, "parameters": {"message": "x"}}),
            )
            .await;
        assert_error(s, &b, 401, "invalid_token");
    }
    let (s, b) = e.get("/api/auth/me", None).await;
    assert_error(s, &b, 401, "unauthorized");
    e.t.app.shutdown().await;
}

async fn reusing_a_refresh_token_revokes_its_family() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let reg = e.register("Reuse", "reuse@example.com").await;
    let first = reg["refresh_token"].clone();
    let (s, second) = e
        .post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await;
    assert_eq!(s, 200, "{second}");
    // The first token again: reuse. Refused, and the family (with `second`'s token) is revoked.
    let (s, b) = e
        .post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await;
    assert_error(s, &b, 401, "invalid_token");
    let (s, b) = e
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_error(s, &b, 401, "invalid_token");
    // Another family (a separate login) is unaffected.
    let (_, login) = e.login("reuse@example.com", "s3cret-passw0rd").await;
    let (s, _) = e
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = e
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": "never-issued"}),
        )
        .await;
    assert_error(s, &b, 401, "invalid_token");
    e.t.app.shutdown().await;
}

async fn another_tenants_ids_are_404_for_reads_and_writes() {
    for db in databases().await {
        let e = Exp::start(test_config(&db)).await;
        let a = e.register("A", "a@example.com").await;
        let b = e.register("B", "b@example.com").await;
        let (ta, tb) = (
            a["access_token"].as_str().unwrap(),
            b["access_token"].as_str().unwrap(),
        );
        let b_session = b["session_id"].as_str().unwrap();
        let (s, acc) = e
            .post("/api/intent/submit", Some(tb), json!({"intent_type": "echo", "session_id": b_session, "parameters": {"message": "b's"}}))
            .await;
        assert_eq!(s, 202, "{acc}");
        let b_exec = acc["execution_id"].as_str().unwrap();
        e.wait_terminal(b_exec, Some(tb)).await;

        let (s, body) = e.get(&format!("/api/session/{b_session}"), Some(ta)).await;
        assert_error(s, &body, 404, "session_not_found");
        let (s, body) = e
            .get(&format!("/api/execution/{b_exec}/status"), Some(ta))
            .await;
        assert_error(s, &body, 404, "execution_not_found");
        let (s, body) = e
            .post("/api/intent/submit", Some(ta), json!({"intent_type": "echo", "session_id": b_session, "parameters": {"message": "a's"}}))
            .await;
        assert_error(s, &body, 404, "session_not_found");
        let (s, body, _) = e
            .call(
                "PATCH",
                &format!("/api/session/{b_session}/upgrade"),
                Some(ta),
                Some(json!({})),
            )
            .await;
        assert_error(s, &body, 404, "session_not_found");
        // Naming another tenant explicitly does not help either.
        let (s, body) = e
            .get(
                &format!(
                    "/api/session/{b_session}?tenant_id={}",
                    b["tenant_id"].as_str().unwrap()
                ),
                Some(ta),
            )
            .await;
        assert_error(s, &body, 404, "session_not_found");
        // Unknown ids answer the same.
        let (s, body) = e.get("/api/session/does-not-exist", Some(ta)).await;
        assert_error(s, &body, 404, "session_not_found");
        // B's execution is untouched: one run, completed.
        let (_, st) = e
            .get(&format!("/api/execution/{b_exec}/status"), Some(tb))
            .await;
        assert_eq!(st["status"], "completed");
        assert_eq!(event_types(&st).len(), 4, "[{}]", db.name);
        e.t.app.shutdown().await;
        db.cleanup().await;
    }
}

async fn upgrade_refuses_contradicting_ids() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let reg = e.register("Up", "up@example.com").await;
    let access = reg["access_token"].as_str().unwrap();
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let sid = anon["session_id"].as_str().unwrap();
    let (s, b, _) = e
        .call(
            "PATCH",
            &format!("/api/session/{sid}/upgrade"),
            Some(access),
            Some(json!({"user_id": "someone-else"})),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b, _) = e
        .call(
            "PATCH",
            &format!("/api/session/{sid}/upgrade"),
            None,
            Some(json!({})),
        )
        .await;
    assert_error(s, &b, 401, "unauthorized");
    // The token may also come in the body.
    let (s, b, _) = e
        .call(
            "PATCH",
            &format!("/api/session/{sid}/upgrade"),
            None,
            Some(json!({"access_token": access, "user_id": reg["user_id"]})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["user_id"], reg["user_id"]);
    // Session create with credentials in the body.
    let (s, b) = e
        .post(
            "/api/session/create",
            None,
            json!({"credentials": {"email": "up@example.com", "password": "s3cret-passw0rd"}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["user_id"], reg["user_id"]);
    let (s, b) = e.post("/api/session/create", Some(access), json!({})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = e.post("/api/session/create", None, json!({})).await;
    assert_error(s, &b, 401, "unauthorized");
    e.t.app.shutdown().await;
}

async fn login_and_register_are_rate_limited() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.rate_login = "5/60".parse().unwrap();
    config.experience.rate_register = "3/300".parse().unwrap();
    let e = Exp::start(config).await;
    for i in 0..5 {
        let (s, _) = e
            .login("nobody@example.com", &format!("wrong-{i}-password"))
            .await;
        assert_eq!(s, 401);
    }
    let (s, b, h) = e
        .call(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"email": "nobody@example.com", "password": "whatever-else"})),
        )
        .await;
    assert_error(s, &b, 429, "rate_limit_exceeded");
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(b["retry_after"], retry);
    assert_eq!(h["x-ratelimit-limit"], "5");
    assert_eq!(h["x-ratelimit-window"], "60");

    for i in 0..3 {
        let (s, b) = e
            .post("/api/auth/register", None, json!({"name": "R", "email": format!("r{i}@example.com"), "password": "long enough pw"}))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b, h) = e
        .call(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"name": "R", "email": "r9@example.com", "password": "long enough pw"})),
        )
        .await;
    assert_error(s, &b, 429, "rate_limit_exceeded");
    assert_eq!(h["x-ratelimit-limit"], "3");
    assert_eq!(h["x-ratelimit-window"], "300");
    e.t.app.shutdown().await;
}

async fn strict_mode_requires_a_token_for_user_sessions() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.auth_strict = true;
    let e = Exp::start(config).await;
    let reg = e.register("Strict", "strict@example.com").await;
    let (sid, access) = (
        reg["session_id"].as_str().unwrap(),
        reg["access_token"].as_str().unwrap(),
    );
    let intent = json!({"intent_type": "echo", "session_id": sid, "parameters": {"message": "x"}});
    let (s, b) = e.post("/api/intent/submit", None, intent.clone()).await;
    assert_error(s, &b, 401, "unauthorized");
    let (s, b) = e.get(&format!("/api/session/{sid}"), None).await;
    assert_error(s, &b, 401, "unauthorized");
    let (s, acc) = e.post("/api/intent/submit", Some(access), intent).await;
    assert_eq!(s, 202, "{acc}");
    let exec = acc["execution_id"].as_str().unwrap();
    let (s, b) = e.get(&format!("/api/execution/{exec}/status"), None).await;
    assert_error(s, &b, 401, "unauthorized");
    e.wait_terminal(exec, Some(access)).await;
    // The same rule on the agent socket.
    let mut ws = crate::common::ws::connect(&e.t.exp, &format!("session_id={sid}")).await;
    assert_eq!(
        crate::common::ws::next(&mut ws).await.unwrap()["message"],
        "Access token required"
    );
    assert_eq!(
        crate::common::ws::next(&mut ws).await.unwrap_err(),
        (1008, "Access token required".to_string())
    );
    // Anonymous sessions still work without a token.
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let (s, b) = e
        .post("/api/intent/submit", None, json!({"intent_type": "echo", "session_id": anon["session_id"], "parameters": {"message": "x"}}))
        .await;
    assert_eq!(s, 202, "{b}");
    e.t.app.shutdown().await;
}

async fn execution_stream_pushes_each_change_then_closes_1000() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let (s, acc) = e
        .post("/api/intent/submit", None, json!({"intent_type": "echo", "session_id": anon["session_id"], "parameters": {"message": "stream me", "delay_ms": 300}}))
        .await;
    assert_eq!(s, 202);
    let exec = acc["execution_id"].as_str().unwrap();
    let url = format!(
        "{}/api/execution/{exec}/stream",
        e.t.exp.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut statuses = Vec::new();
    let close_code = loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match msg {
            tokio_tungstenite::tungstenite::Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                statuses.push(v["status"].as_str().unwrap().to_string());
            }
            tokio_tungstenite::tungstenite::Message::Close(frame) => {
                break frame.map(|f| u16::from(f.code));
            }
            _ => {}
        }
    };
    assert_eq!(close_code, Some(1000));
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("completed"),
        "{statuses:?}"
    );
    assert!(statuses.len() >= 2, "a status per change: {statuses:?}");
    let _ = ws.close(None).await;

    // Unknown execution: refused before the upgrade.
    let url = format!(
        "{}/api/execution/nope/stream",
        e.t.exp.replace("http://", "ws://")
    );
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    e.t.app.shutdown().await;
}

async fn http_hygiene_request_ids_cors_and_unknown_routes() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let r =
        e.t.http
            .get(format!("{}/health", e.t.exp))
            .header("x-request-id", "req-42")
            .send()
            .await
            .unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-42");
    let r =
        e.t.http
            .get(format!("{}/health", e.t.exp))
            .send()
            .await
            .unwrap();
    assert!(uuid::Uuid::parse_str(r.headers()["x-request-id"].to_str().unwrap()).is_ok());

    let r =
        e.t.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/intent/submit", e.t.exp),
            )
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let r =
        e.t.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/intent/submit", e.t.exp),
            )
            .header("origin", "http://evil.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());

    let (s, b) = e.get("/api/nope", None).await;
    assert_error(s, &b, 404, "not_found");
    let (s, b, _) = e
        .call("PATCH", "/api/auth/login", None, Some(json!({})))
        .await;
    assert_error(s, &b, 405, "method_not_allowed");
    let big = "x".repeat(100 * 1024);
    let (s, b) = e
        .post(
            "/api/auth/login",
            None,
            json!({"email": big, "password": "p"}),
        )
        .await;
    assert_error(s, &b, 413, "payload_too_large");
    let (s, b) = e
        .post(
            "/api/intent/submit",
            None,
            json!({"intent_type": "echo", "session_id": "", "parameters": {"message": "x"}}),
        )
        .await;
    assert_error(s, &b, 422, "validation_error");
    e.t.app.shutdown().await;
}

async fn a_refresh_reuse_race_leaves_no_working_token() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    e.register("Race", "race@example.com").await;
    for _ in 0..8 {
        let (_, login) = e.login("race@example.com", "s3cret-passw0rd").await;
        let token = login["refresh_token"].clone();
        let (a, b) = tokio::join!(
            e.post("/api/auth/refresh", None, json!({"refresh_token": token})),
            e.post("/api/auth/refresh", None, json!({"refresh_token": token})),
        );
        for (s, body) in [a, b] {
            if s == 200 {
                // The winner's successor belongs to a family the loser revoked (if it lost),
                // or it is the only one (if the other request came late): either way, once
                // both are done, reuse must have left no usable token behind.
                let (s2, _) = e
                    .post(
                        "/api/auth/refresh",
                        None,
                        json!({"refresh_token": body["refresh_token"]}),
                    )
                    .await;
                assert_eq!(s2, 401, "a successor survived the reuse of its parent");
            } else {
                assert_error(s, &body, 401, "invalid_token");
            }
        }
    }
    e.t.app.shutdown().await;
}

/// Issue 14, item 9: session fixation in the default mode. An attacker creates an anonymous
/// session and gets a victim to upgrade it; the attacker, still without a token, can then
/// neither read the session, nor submit in it, nor list the victim tenant's files, nor open
/// its agent socket. The victim goes on under the new id the upgrade answered, without a token
/// as the web frontend does, and a reload with the old id and the token finds that session.
async fn an_upgrade_leaves_the_anonymous_id_no_power_over_the_user() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let fixed = anon["session_id"].as_str().unwrap().to_string();
    // Before the upgrade the attacker runs an execution and keeps a socket open.
    let (_, before) = e
        .post(
            "/api/intent/submit",
            None,
            json!({"intent_type": "echo", "session_id": fixed, "parameters": {"message": "mine"}}),
        )
        .await;
    let before = before["execution_id"].as_str().unwrap().to_string();
    e.wait_terminal(&before, None).await;
    let mut planted = crate::common::ws::connect(&e.t.exp, &format!("session_id={fixed}")).await;
    assert_eq!(
        crate::common::ws::next(&mut planted).await.unwrap()["event_type"],
        "CONNECTION_ESTABLISHED"
    );
    let reg = e.register("Victim", "victim@example.com").await;
    let (token, tenant) = (
        reg["access_token"].as_str().unwrap().to_string(),
        reg["tenant_id"].as_str().unwrap().to_string(),
    );
    let (s, up, _) = e
        .call(
            "PATCH",
            &format!("/api/session/{fixed}/upgrade"),
            Some(&token),
            Some(json!({"user_id": reg["user_id"], "tenant_id": tenant, "access_token": token})),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    let mine = up["session_id"].as_str().unwrap().to_string();
    assert_ne!(mine, fixed);
    assert_eq!(
        (&up["user_id"], &up["tenant_id"]),
        (&reg["user_id"], &json!(tenant))
    );
    // The victim, as the frontend: no token on submits and polls.
    let (s, acc) = e
        .post(
            "/api/intent/submit",
            None,
            json!({"intent_type": "ingest_file", "session_id": mine, "tenant_id": tenant,
                "parameters": {"filename": "secret.csv", "file_content": hex::encode("a\n1\n")}}),
        )
        .await;
    assert_eq!(s, 202, "{acc}");
    let done = e
        .wait_terminal(acc["execution_id"].as_str().unwrap(), None)
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    // The attacker, with the fixed id and no token: 404 everywhere.
    let (s, b) = e.get(&format!("/api/session/{fixed}"), None).await;
    assert_error(s, &b, 404, "session_not_found");
    let (s, b) = e
        .get(&format!("/api/session/{fixed}?tenant_id={tenant}"), None)
        .await;
    assert_error(s, &b, 404, "session_not_found");
    for intent in ["list_files", "echo"] {
        let (s, b) = e
            .post(
                "/api/intent/submit",
                None,
                json!({"intent_type": intent, "session_id": fixed, "tenant_id": tenant,
                    "parameters": {"message": "x"}}),
            )
            .await;
        assert_error(s, &b, 404, "session_not_found");
    }
    let form = reqwest::multipart::Form::new()
        .text("session_id", fixed.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"a\n".to_vec()).file_name("x.csv"),
        );
    let r =
        e.t.http
            .post(format!("{}/api/v1/content/upload", e.t.exp))
            .multipart(form)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let mut ws = crate::common::ws::connect(&e.t.exp, &format!("session_id={fixed}")).await;
    let first = crate::common::ws::next(&mut ws).await.unwrap();
    assert_eq!(first["type"], "error", "{first}");
    assert_eq!(crate::common::ws::next(&mut ws).await.unwrap_err().0, 1008);
    // Nor through the socket opened before the upgrade, nor by an execution id of then.
    crate::common::ws::send(
        &mut planted,
        json!({"type": "intent", "intent": "list my files", "agent_type": "guide"}),
    )
    .await;
    let refused = crate::common::ws::next(&mut planted).await.unwrap();
    assert_eq!(refused["error"], "session_not_found", "{refused}");
    let (s, b) = e
        .get(&format!("/api/execution/{before}/status"), None)
        .await;
    assert_error(s, &b, 404, "execution_not_found");
    // The victim's reload: the old id with the token answers the session they continue in.
    let (s, b) = e
        .get(
            &format!("/api/session/{fixed}?tenant_id={tenant}"),
            Some(&token),
        )
        .await;
    assert_eq!((s, &b["session_id"]), (200, &json!(mine)), "{b}");
    // The same rule on the agent socket as on REST: the new id alone is enough, as is the token.
    for query in [
        format!("session_id={mine}"),
        format!("session_id={fixed}&access_token={token}"),
    ] {
        let mut ws = crate::common::ws::connect(&e.t.exp, &query).await;
        let hello = crate::common::ws::next(&mut ws).await.unwrap();
        assert_eq!(
            hello["event_type"], "CONNECTION_ESTABLISHED",
            "{query}: {hello}"
        );
    }
    e.t.app.shutdown().await;
}

/// A key used while anonymous still counts in the session the upgrade hands its owner: the
/// retry answers the first execution and runs nothing.
async fn an_idempotency_key_used_before_an_upgrade_counts_after_it() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let sid = anon["session_id"].as_str().unwrap().to_string();
    let intent = |session: &str| {
        json!({"intent_type": "echo", "session_id": session, "idempotency_key": "k-1",
            "parameters": {"message": "once"}})
    };
    let (s, first) = e.post("/api/intent/submit", None, intent(&sid)).await;
    assert_eq!(s, 202, "{first}");
    let reg = e.register("Owner", "owner2@example.com").await;
    let token = reg["access_token"].as_str().unwrap();
    let (s, up, _) = e
        .call(
            "PATCH",
            &format!("/api/session/{sid}/upgrade"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{up}");
    let next = up["session_id"].as_str().unwrap().to_string();
    assert_ne!(next, sid);
    let (s, again) = e.post("/api/intent/submit", None, intent(&next)).await;
    assert_eq!(s, 202, "{again}");
    assert_eq!(
        again["execution_id"], first["execution_id"],
        "the first execution, not a second"
    );
    e.t.app.shutdown().await;
}

async fn executions_from_before_an_upgrade_follow_the_session() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.auth_strict = true;
    let e = Exp::start(config).await;
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let sid = anon["session_id"].as_str().unwrap().to_string();
    let (_, acc) = e
        .post(
            "/api/intent/submit",
            None,
            json!({"intent_type": "echo", "session_id": sid, "parameters": {"message": "before"}}),
        )
        .await;
    let exec = acc["execution_id"].as_str().unwrap().to_string();
    e.wait_terminal(&exec, None).await;
    let reg = e.register("Owner", "owner@example.com").await;
    let access = reg["access_token"].as_str().unwrap();
    // No body at all: every upgrade field is optional.
    let r =
        e.t.http
            .patch(format!("{}/api/session/{sid}/upgrade", e.t.exp))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // The owner sees the earlier execution; without a token (strict mode) nobody does.
    let (s, st) = e
        .get(&format!("/api/execution/{exec}/status"), Some(access))
        .await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["tenant_id"], reg["tenant_id"]);
    let (s, b) = e.get(&format!("/api/execution/{exec}/status"), None).await;
    assert_error(s, &b, 401, "unauthorized");
    e.t.app.shutdown().await;
}

async fn the_forwarded_address_is_the_one_the_proxy_wrote() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.experience.trust_forwarded_for = true;
    config.experience.rate_login = "2/60".parse().unwrap();
    let e = Exp::start(config).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let r =
            e.t.http
                .post(format!("{}/api/auth/login", e.t.exp))
                // A client-chosen line first, then the proxy's own line.
                .header("x-forwarded-for", format!("10.0.0.{i}"))
                .header("x-forwarded-for", "203.0.113.7")
                .json(&json!({"email": format!("u{i}@example.com"), "password": "whatever-pass"}))
                .send()
                .await
                .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
    e.t.app.shutdown().await;
}

async fn odd_authorization_headers_and_reused_keys_are_refused() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let sid = anon["session_id"].as_str().unwrap();
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"] {
        let r =
            e.t.http
                .get(format!("{}/api/session/{sid}", e.t.exp))
                .header("authorization", header)
                .send()
                .await
                .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{header}");
    }
    // An idempotency key of another session of the tenant does not reveal its execution.
    let reg = e.register("Keys", "keys@example.com").await;
    let access = reg["access_token"].as_str().unwrap();
    let (_, other) = e.post("/api/session/create", Some(access), json!({})).await;
    let first = json!({"intent_type": "echo", "session_id": reg["session_id"], "parameters": {"message": "a"}, "idempotency_key": "k"});
    let (s, _) = e.post("/api/intent/submit", Some(access), first).await;
    assert_eq!(s, 202);
    let second = json!({"intent_type": "echo", "session_id": other["session_id"], "parameters": {"message": "a"}, "idempotency_key": "k"});
    let (s, b) = e.post("/api/intent/submit", Some(access), second).await;
    assert_error(s, &b, 409, "idempotency_key_reused");
    // Malformed paths and missing upgrade headers answer in the contract's shape.
    let (s, b) = e.get("/api/session/%FF%FE", None).await;
    assert_error(s, &b, 400, "malformed_request");
    let (s, b) = e.get("/api/execution/some-id/stream", None).await;
    assert_error(s, &b, 400, "malformed_request");
    e.t.app.shutdown().await;
}

async fn the_status_stream_closes_1001_when_the_server_stops() {
    let db = sqlite_db();
    let e = Exp::start(test_config(&db)).await;
    let (_, anon) = e
        .post("/api/session/create-anonymous", None, json!({}))
        .await;
    let (_, acc) = e
        .post("/api/intent/submit", None, json!({"intent_type": "echo", "session_id": anon["session_id"], "parameters": {"message": "slow", "delay_ms": 30000}}))
        .await;
    let exec = acc["execution_id"].as_str().unwrap();
    let url = format!(
        "{}/api/execution/{exec}/stream",
        e.t.exp.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.is_text());
    let stopper = tokio::spawn(async move { e.t.app.shutdown().await });
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(f))) => {
                break f.map(|f| u16::from(f.code))
            }
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(code, Some(1001));
    stopper.await.unwrap();
}

crate::both_wirings!(
    the_frontend_flow_from_anonymous_to_logout,
    registration_and_login_errors,
    tampered_expired_and_foreign_tokens_are_401,
    reusing_a_refresh_token_revokes_its_family,
    another_tenants_ids_are_404_for_reads_and_writes,
    upgrade_refuses_contradicting_ids,
    login_and_register_are_rate_limited,
    strict_mode_requires_a_token_for_user_sessions,
    execution_stream_pushes_each_change_then_closes_1000,
    http_hygiene_request_ids_cors_and_unknown_routes,
    a_refresh_reuse_race_leaves_no_working_token,
    executions_from_before_an_upgrade_follow_the_session,
    an_upgrade_leaves_the_anonymous_id_no_power_over_the_user,
    an_idempotency_key_used_before_an_upgrade_counts_after_it,
    the_forwarded_address_is_the_one_the_proxy_wrote,
    odd_authorization_headers_and_reused_keys_are_refused,
    the_status_stream_closes_1001_when_the_server_stops,
);
