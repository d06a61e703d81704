//! A runtime outage under an Experience Plane that reaches it over HTTP (as `symphainy
//! experience` does): every request meanwhile is an expected 503 `runtime_unavailable`, and the
//! log says so once per outage, at WARN — not once per request, and never at ERROR.

#[allow(dead_code)] // this binary uses a few of the shared helpers
#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use parking_lot::Mutex;
use serde_json::{json, Value};
use symphainy::app::{App, ExperienceApp, Listeners};
use tokio::net::TcpListener;

/// Everything the process logs, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn since(&self, mark: usize) -> String {
        String::from_utf8_lossy(&self.0.lock()[mark..]).into_owned()
    }
    fn len(&self) -> usize {
        self.0.lock().len()
    }
}

async fn create_anonymous(http: &reqwest::Client, exp: &str) -> (u16, Value) {
    let r = http
        .post(format!("{exp}/api/session/create-anonymous"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn start_runtime(config: &symphainy::config::Config, listener: TcpListener) -> App {
    let listeners = Listeners {
        runtime: listener,
        experience: None,
    };
    App::start(config, symphainy::runtime::realms::builtin(), listeners)
        .await
        .expect("the runtime starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_outage_is_logged_once_at_warn_not_per_request() {
    let log = Captured::default();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(log.clone())
        .init();
    let db = sqlite_db();
    let config = test_config(&db);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let runtime_addr = listener.local_addr().unwrap();
    let mut runtime = start_runtime(&config, listener).await;
    let experience = ExperienceApp::start(
        &config,
        &format!("http://{runtime_addr}"),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let exp = format!("http://{}", experience.addr);
    let http = reqwest::Client::new();
    assert_eq!(create_anonymous(&http, &exp).await.0, 201);

    let mark = log.len();
    for outage in 0..2 {
        runtime.shutdown().await;
        for _ in 0..20 {
            let (s, b) = create_anonymous(&http, &exp).await;
            assert_error(s, &b, 503, "runtime_unavailable");
        }
        // The runtime comes back on the same address.
        let listener = TcpListener::bind(runtime_addr).await.unwrap();
        runtime = start_runtime(&config, listener).await;
        let (s, b) = create_anonymous(&http, &exp).await;
        assert_eq!(s, 201, "after outage {outage}: {b}");
    }
    let logged = log.since(mark);
    let lines = |level: &str, text: &str| {
        logged
            .lines()
            .filter(|l| l.contains(level) && l.contains(text))
            .count()
    };
    assert_eq!(lines(" ERROR ", ""), 0, "{logged}");
    assert_eq!(lines(" WARN ", "runtime unavailable"), 2, "{logged}");
    assert_eq!(lines(" INFO ", "runtime available again"), 2, "{logged}");
    experience.shutdown().await;
    runtime.shutdown().await;
}
