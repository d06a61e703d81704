//! Test harness: a real server on port 0 over a fresh database (an SQLite file in a temp dir,
//! and a fresh PostgreSQL database when `TEST_DATABASE_URL` is set), talked to over real sockets.

pub mod cli;
pub mod fake_model;
pub mod raw;
pub mod ws;

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};
use std::time::Duration as StdDuration;

use symphainy::app::{App, ExperienceApp, Listeners};
use symphainy::config::Config;
use symphainy::experience::settings::ExperienceSettings;
use symphainy::runtime::realms::content::{ContentSettings, JanitorHandle};
use symphainy::runtime::{HandlerRegistry, RuntimeConfig};
use tokio::net::TcpListener;

pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Drops the PostgreSQL database (the SQLite file goes with the temp dir).
    pub async fn cleanup(self) {
        if let Some((admin, db)) = &self.pg {
            if let Ok(mut conn) = PgConnection::connect(admin).await {
                let _ = conn
                    .execute(format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)").as_str())
                    .await;
            }
        }
    }
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    TestDb {
        name: "sqlite",
        url,
        dir,
        pg: None,
    }
}

/// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset. When it is set
/// and the server cannot be reached, this panics: such tests must fail loudly, not skip.
pub async fn postgres_db() -> Option<TestDb> {
    let admin = std::env::var("TEST_DATABASE_URL").ok()?;
    let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {e}")
    });
    let name = format!("symphainy_t_{}", uuid::Uuid::new_v4().simple());
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create test database");
    let base = admin.split('?').next().unwrap();
    let base = &base[..base
        .rfind('/')
        .expect("TEST_DATABASE_URL has a database path")];
    Some(TestDb {
        name: "postgres",
        url: format!("{base}/{name}"),
        dir: tempfile::tempdir().unwrap(),
        pg: Some((admin, name)),
    })
}

/// Every backend under test: SQLite always, PostgreSQL when configured.
pub async fn databases() -> Vec<TestDb> {
    let mut v = vec![sqlite_db()];
    if let Some(pg) = postgres_db().await {
        v.push(pg);
    }
    v
}

pub fn test_config(db: &TestDb) -> Config {
    // Sweeps run when a test asks (SweepNow), and collect unreferenced blobs at once.
    let mut realms = http::Extensions::new();
    realms.insert(ContentSettings {
        janitor_interval: StdDuration::from_secs(3600),
        blob_grace: StdDuration::ZERO,
        ..ContentSettings::default()
    });
    Config {
        data_dir: db.data_dir(),
        database_url: db.url.clone(),
        // `SYMPHAINY_DURABILITY` chooses it for a run (the benchmarks measure both).
        durability: std::env::var("SYMPHAINY_DURABILITY").ok().map(|d| {
            symphainy::store::durability::Durability::parse(&d).expect("SYMPHAINY_DURABILITY")
        }),
        http_addr: "127.0.0.1:0".into(),
        runtime_addr: "127.0.0.1:0".into(),
        service_token: format!("svc-{}", uuid::Uuid::new_v4()).into(),
        runtime: RuntimeConfig {
            realms,
            // Generous intake limits: tests/limits.rs sets its own.
            intake: symphainy::runtime::engine::intake_limits::IntakeRates {
                intents_per_session: "100000/10".parse().unwrap(),
                turns_per_session: "100000/10".parse().unwrap(),
                per_tenant: "1000000/10".parse().unwrap(),
            },
            ..RuntimeConfig::default()
        },
        llm: None,
        max_body_bytes: 64 * 1024,
        experience: ExperienceSettings {
            jwt_secret: format!("jwt-{}", uuid::Uuid::new_v4()).into(),
            access_ttl: StdDuration::from_secs(900),
            refresh_ttl: StdDuration::from_secs(3600),
            auth_strict: false,
            // Generous limits: the rate-limit tests set their own.
            rate_login: "1000/60".parse().unwrap(),
            rate_register: "1000/60".parse().unwrap(),
            cors_origins: vec!["http://localhost:3000".into()],
            trust_forwarded_for: false,
            max_upload_bytes: 100 * 1024 * 1024,
            max_inline_upload_bytes:
                symphainy::experience::settings::DEFAULT_MAX_INLINE_UPLOAD_BYTES,
            max_body_bytes: 64 * 1024,
            ws_max_connections: 2000,
            ws_idle: StdDuration::from_secs(300),
            ws_outbound_queue: 256,
            public_url: None,
            download_ttl: StdDuration::from_secs(900),
            metrics_token: None,
        },
        // Far from every test's load; the edge tests set their own.
        edge: symphainy::http::limits::EdgeLimits {
            max_connections: 100_000,
            ..Default::default()
        },
    }
}

/// How the Experience Plane reaches the runtime in a test: in-process (as `serve`), or over
/// HTTP to the Runtime Plane's internal API (as `experience` beside `runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wiring {
    InProcess,
    Http,
}

tokio::task_local! {
    /// The wiring `spawn_app*` builds (in-process when unset).
    pub static WIRING: Wiring;
}

pub fn wiring() -> Wiring {
    WIRING.try_with(|w| *w).unwrap_or(Wiring::InProcess)
}

/// Runs each named test (an `async fn()` of the calling file) twice, in modules `in_process`
/// and `over_http`: one suite, both runtime client implementations.
#[macro_export]
macro_rules! both_wirings {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::WIRING
                        .scope($crate::common::Wiring::InProcess, super::$name())
                        .await
                }
            )*
        }
        mod over_http {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::WIRING
                        .scope($crate::common::Wiring::Http, super::$name())
                        .await
                }
            )*
        }
    };
}

/// The running planes: the runtime (with the Experience Plane in-process, or beside it as its
/// own server over HTTP). Derefs to the runtime's `App`.
pub struct Planes {
    pub app: App,
    pub experience: Option<ExperienceApp>,
}

impl std::ops::Deref for Planes {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl Planes {
    /// Stops the Experience Plane, then the runtime (as an operator would).
    pub async fn shutdown(self) {
        if let Some(e) = self.experience {
            e.shutdown().await;
        }
        self.app.shutdown().await;
    }
}

pub struct TestApp {
    pub app: Planes,
    /// The Runtime Plane's base URL.
    pub base: String,
    /// The Experience Plane's base URL.
    pub exp: String,
    pub token: String,
    pub http: reqwest::Client,
}

pub async fn spawn_app_with(config: Config, handlers: HandlerRegistry) -> TestApp {
    let wiring = wiring();
    let listeners = Listeners {
        runtime: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        experience: match wiring {
            Wiring::InProcess => Some(TcpListener::bind("127.0.0.1:0").await.unwrap()),
            Wiring::Http => None,
        },
    };
    let app = App::start(&config, handlers, listeners)
        .await
        .expect("app starts");
    let base = format!("http://{}", app.runtime_addr);
    let experience = match wiring {
        Wiring::InProcess => None,
        Wiring::Http => {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            Some(
                ExperienceApp::start(&config, &base, listener)
                    .await
                    .expect("experience starts"),
            )
        }
    };
    let exp = match &experience {
        Some(e) => format!("http://{}", e.addr),
        None => format!("http://{}", app.experience_addr.unwrap()),
    };
    TestApp {
        base,
        exp,
        token: config.service_token.expose_secret().to_string(),
        app: Planes { app, experience },
        http: reqwest::Client::new(),
    }
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(test_config(db), symphainy::runtime::realms::builtin()).await
}

/// A new anonymous session on the Experience Plane at `exp` (an http:// base); its id.
pub async fn anonymous_session(http: &reqwest::Client, exp: &str) -> String {
    session_id_of(http.post(format!("{exp}/api/session/create-anonymous"))).await
}

/// A new session (no tenant) through the Runtime Plane's API at `base`; its id.
pub async fn runtime_session(http: &reqwest::Client, base: &str, token: &str) -> String {
    let request = http
        .post(format!("{base}/api/session/create"))
        .bearer_auth(token)
        .json(&json!({}));
    session_id_of(request).await
}

async fn session_id_of(request: reqwest::RequestBuilder) -> String {
    let v: Value = request.send().await.unwrap().json().await.unwrap();
    v["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no session_id in {v}"))
        .to_string()
}

impl TestApp {
    /// A new anonymous session on this app's Experience Plane.
    pub async fn anonymous(&self) -> String {
        anonymous_session(&self.http, &self.exp).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn create_session(&self, tenant: Option<&str>) -> String {
        let (status, body) = self
            .post("/api/session/create", json!({ "tenant_id": tenant }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["session_id"].as_str().unwrap().to_string()
    }

    pub async fn submit(&self, body: Value) -> (u16, Value) {
        self.post("/api/intent/submit", body).await
    }

    pub async fn submit_echo(&self, session: &str, tenant: Option<&str>, message: &str) -> String {
        let (status, body) = self
            .submit(
                json!({"intent_type": "echo", "session_id": session, "tenant_id": tenant,
                "parameters": {"message": message}}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["execution_id"].as_str().unwrap().to_string()
    }

    /// Registers `name` (email `<name>@example.com`) on the Experience Plane; the AuthResponse.
    pub async fn register_user(&self, name: &str) -> Value {
        let r = self
            .http
            .post(format!("{}/api/auth/register", self.exp))
            .json(&json!({"name": name, "email": format!("{name}@example.com"), "password": "s3cret-passw0rd"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        r.json().await.unwrap()
    }

    /// Submits an intent (expecting 202) and waits for its end; the final status.
    pub async fn run_intent(
        &self,
        session: &str,
        tenant: Option<&str>,
        intent: &str,
        params: Value,
    ) -> Value {
        let (s, b) = self
            .submit(json!({"intent_type": intent, "session_id": session, "tenant_id": tenant, "parameters": params}))
            .await;
        assert_eq!(s, 202, "{intent}: {b}");
        self.wait_terminal(b["execution_id"].as_str().unwrap())
            .await
    }

    /// As `run_intent` without a tenant, and the execution must complete.
    pub async fn run_completed(&self, session: &str, intent: &str, params: Value) -> Value {
        let done = self.run_intent(session, None, intent, params).await;
        assert_eq!(done["status"], "completed", "{intent}: {done}");
        done
    }

    pub async fn status(&self, execution_id: &str) -> Value {
        let (status, body) = self
            .get(&format!("/api/execution/{execution_id}/status"))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls until the execution is terminal (gives up after 30 s: a hang is a failure).
    pub async fn wait_terminal(&self, execution_id: &str) -> Value {
        wait_terminal(&self.http, &self.base, &self.token, execution_id).await
    }
}

pub async fn wait_terminal(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    execution_id: &str,
) -> Value {
    wait_until_terminal(
        http,
        base,
        token,
        execution_id,
        Duration::from_secs(30),
        true,
    )
    .await
}

/// Polls the execution's status until it is terminal, for at most `within`; `with_events`:
/// whether the answer carries the execution's events.
pub async fn wait_until_terminal(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    execution_id: &str,
    within: Duration,
    with_events: bool,
) -> Value {
    eventually(within, || async {
        let r = http
            .get(format!(
                "{base}/api/execution/{execution_id}/status?include_events={with_events}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .ok()?;
        if r.status().as_u16() != 200 {
            return None;
        }
        terminal(r.json().await.unwrap())
    })
    .await
}

/// The status body if its execution has ended (completed, failed or cancelled).
pub fn terminal(status: Value) -> Option<Value> {
    matches!(
        status["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
    .then_some(status)
}

/// Event types of a status body's `events`, in order.
pub fn event_types(status: &Value) -> Vec<String> {
    status["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts the body is the contract's error shape with this status code and error code.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["error"], json!(want_code), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["detail"], body["message"], "{body}");
}

/// The real `symphainy serve` binary on port 0, with its stderr collected.
pub struct Binary {
    pub child: tokio::process::Child,
    /// Runtime Plane base URL.
    pub base: String,
    /// Experience Plane base URL.
    pub exp: String,
    pub log: std::sync::Arc<parking_lot::Mutex<String>>,
    /// The task that copies stderr into `log`; it ends when the process's stderr closes.
    log_reader: Option<tokio::task::JoinHandle<()>>,
}

impl Binary {
    /// The whole of stderr once the process has exited: what it wrote last may still be in
    /// the pipe when `try_wait` reports the exit.
    pub async fn final_log(&mut self) -> String {
        if let Some(reader) = self.log_reader.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
        }
        self.log.lock().clone()
    }
}

pub async fn start_binary(db: &TestDb, token: &str, env: &[(&str, &str)]) -> Binary {
    start_plane(db, token, "serve", env).await
}

/// The binary's `serve`, `runtime` or `experience` command; a plane it does not run has an
/// empty base URL.
pub async fn start_plane(db: &TestDb, token: &str, command: &str, env: &[(&str, &str)]) -> Binary {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_symphainy"));
    cmd.arg(command)
        .env("SYMPHAINY_DATA_DIR", db.data_dir())
        .env("DATABASE_URL", &db.url)
        .env("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0")
        .env("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0")
        .env("SYMPHAINY_SERVICE_TOKEN", token)
        .env("SYMPHAINY_RATE_LIMIT_LOGIN", "1000/60")
        .env("SYMPHAINY_RATE_LIMIT_REGISTER", "1000/60")
        .env("SYMPHAINY_INTENT_RATE_SESSION", "100000/10")
        .env("SYMPHAINY_TURN_RATE_SESSION", "100000/10")
        .env("SYMPHAINY_INTAKE_RATE_TENANT", "1000000/10")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let log = std::sync::Arc::new(parking_lot::Mutex::new(String::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    let log_reader = tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("listening line in time")
        .unwrap()
        .unwrap_or_else(|| panic!("no listening line; stderr: {}", log.lock()));
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|p| p.strip_prefix(name))
            .map(|a| format!("http://{a}"))
    };
    let runs = |plane: &str| command == "serve" || command == plane;
    // Each plane the command runs must be in the line; one it does not run has no URL.
    let url = |name: &str, plane: &str| match (field(name), runs(plane)) {
        (Some(url), true) => url,
        (None, false) => String::new(),
        (found, _) => panic!("{command}: {name} {found:?} in {line}"),
    };
    Binary {
        base: url("runtime=", "runtime"),
        exp: url("experience=", "experience"),
        child,
        log,
        log_reader: Some(log_reader),
    }
}

/// Runs a janitor sweep now and returns what it removed.
pub async fn sweep(t: &TestApp) -> symphainy::runtime::realms::content::janitor::Swept {
    let janitor = t
        .app
        .runtime
        .ctx
        .handlers
        .handle::<JanitorHandle>()
        .and_then(|h| h.0.get())
        .expect("janitor running");
    ractor::call!(
        janitor,
        symphainy::runtime::realms::content::janitor::JanitorMsg::SweepNow
    )
    .expect("janitor answers")
    .expect("sweep succeeds")
}

/// Files under the blob store: stored blobs and any temporary file left by a write.
pub fn stored_blob_files(db: &TestDb) -> usize {
    let Ok(dirs) = std::fs::read_dir(db.data_dir().join("blobs")) else {
        return 0;
    };
    dirs.filter_map(|d| d.ok())
        .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
        .sum()
}

/// Waits until `check` answers `Some` and returns it: asks again after 10 ms, then less and
/// less often (at most every 200 ms), for at most `budget` — past it, the test fails. Every
/// test that waits for something to happen waits through this.
pub async fn eventually<T, F, Fut>(budget: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + budget;
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still not so after {budget:?}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Waits for the execution to await approval; its hook id.
pub async fn wait_for_hook(t: &TestApp, eid: &str) -> String {
    eventually(Duration::from_secs(10), || async {
        let st = t.status(eid).await;
        (st["status"] == "awaiting_approval").then(|| {
            st["events"][0]["data"]["hook_id"]
                .as_str()
                .expect("the hook's id")
                .to_string()
        })
    })
    .await
}

/// Waits for the execution's approval hook and answers it (expecting 200).
pub async fn decide(t: &TestApp, eid: &str, approved: bool) {
    let hook = wait_for_hook(t, eid).await;
    let (s, b) = t
        .post(
            &format!("/api/execution/{eid}/approval"),
            json!({"hook_id": hook, "approved": approved, "reason": "no"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

/// Appends a batch through the store, keeping the caller's batch and cache as the event log
/// does (the store takes both and hands them back).
pub async fn append_events(
    store: &symphainy::store::Store,
    items: &[(symphainy::store::NewEvent, Option<symphainy::store::Effect>)],
    cache: &mut std::collections::HashMap<String, i64>,
) -> Result<Vec<symphainy::store::AppendOutcome>, symphainy::store::StoreError> {
    let appended = store
        .runtime()
        .append_events(None, Vec::new(), items.to_vec(), std::mem::take(cache))
        .await;
    *cache = appended.last_seq;
    appended.result
}

/// The content realm's settings in a test's configuration.
pub fn content_settings(config: &mut Config) -> &mut ContentSettings {
    if config.runtime.realms.get::<ContentSettings>().is_none() {
        config.runtime.realms.insert(ContentSettings::default());
    }
    config
        .runtime
        .realms
        .get_mut::<ContentSettings>()
        .expect("just inserted")
}
