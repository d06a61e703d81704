//! The database going away and coming back (issue 14, items 2 and 8): while it cannot serve,
//! requests are answered 503 `database_unavailable` at once and readiness says so; nothing is
//! acknowledged that was not stored; when it is back the server recovers by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of PostgreSQL that the test can cut (every connection closed, new ones
/// refused at once) and restore.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<parking_lot::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let (c, l) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                l.lock().push(link.abort_handle());
            }
        });
        Proxy { port, cut, links }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// `postgres://user@host:port/db` with the host and port replaced.
fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth_host, path) = rest.split_once('/').unwrap();
    let (auth, host) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (format!("{a}@"), h),
        None => (String::new(), auth_host),
    };
    let target = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    (format!("{scheme}://{auth}127.0.0.1:{port}/{path}"), target)
}

/// A client whose every request must be answered within `secs`: a server that waits on a dead
/// database for its pool's timeout fails this.
fn impatient(secs: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(secs))
        .build()
        .unwrap()
}

async fn get_json(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = http.get(url).send().await.expect("answered in time");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn wait_for_database(http: &reqwest::Client, base: &str, want: &str) -> Value {
    eventually(Duration::from_secs(10), || async {
        let (_, body) = get_json(http, &format!("{base}/health")).await;
        (body["database"] == want).then_some(body)
    })
    .await
}

#[tokio::test]
async fn a_postgres_outage_is_answered_503_at_once_and_the_server_recovers_by_itself() {
    let Some(db) = postgres_db().await else {
        return; // PostgreSQL only: the SQLite file cannot go away like a server.
    };
    let (url, target) = through(&db.url, 0);
    let proxy = Proxy::start(target).await;
    let (url, _) = through(&url, proxy.port);
    let mut config = test_config(&db);
    config.database_url = url;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let http = impatient(2);
    let session = t.create_session(Some("t")).await;
    let before = t.submit_echo(&session, Some("t"), "before").await;
    assert_eq!(t.wait_terminal(&before).await["status"], "completed");

    proxy.cut();
    let down = wait_for_database(&http, &t.base, "unavailable").await;
    assert_eq!(down["status"], "unhealthy", "{down}");
    let (s, _) = get_json(&http, &format!("{}/ready", t.base)).await;
    assert_eq!(s, 503);
    let (s, ready) = get_json(&http, &format!("{}/ready", t.exp)).await;
    assert_eq!(
        (s, &ready["database"]),
        (503, &json!("unavailable")),
        "{ready}"
    );
    // Work is refused at once, in the contract's shape, on both planes.
    let r = http
        .post(format!("{}/api/intent/submit", t.exp))
        .json(&json!({"intent_type": "echo", "session_id": session, "parameters": {"message": "lost?"}}))
        .send()
        .await
        .expect("answered in time");
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "database_unavailable", "{body}");
    let (s, body) = get_json(&http, &format!("{}/api/execution/{before}/status", t.exp)).await;
    assert_eq!((s, &body["error"]), (503, &json!("database_unavailable")));

    proxy.restore();
    wait_for_database(&http, &t.base, "ok").await;
    let after = t.submit_echo(&session, Some("t"), "after").await;
    assert_eq!(t.wait_terminal(&after).await["status"], "completed");
    assert_eq!(t.status(&before).await["status"], "completed");
    t.app.shutdown().await;
    db.cleanup().await;
}

/// The data directory on a 24 MiB file system of its own (a tmpfs in a private mount namespace,
/// so no privilege is needed), filled up while the server runs, then given space again.
#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_and_the_server_recovers_when_space_returns() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let token = format!("svc-{}", uuid::Uuid::new_v4());
    let mut child = tokio::process::Command::new("unshare")
        .args([
            "-rm",
            "sh",
            "-c",
            "mount -t tmpfs -o size=24m tmpfs \"$1\" && exec \"$2\" serve",
            "sh",
        ])
        .arg(&data)
        .arg(env!("CARGO_BIN_EXE_symphainy"))
        .env("SYMPHAINY_DATA_DIR", &data)
        .env("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0")
        .env("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0")
        .env("SYMPHAINY_SERVICE_TOKEN", &token)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("unshare runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("listening line in time")
        .unwrap()
        .expect("the server starts on its own file system (unshare -rm, mount tmpfs)");
    let addr = |name: &str| {
        line.split_whitespace()
            .find_map(|p| p.strip_prefix(name))
            .map(|a| format!("http://{a}"))
            .unwrap()
    };
    let (base, exp) = (addr("runtime="), addr("experience="));
    // The server's view of its data directory.
    let inside = std::path::PathBuf::from(format!("/proc/{}/root", child.id().unwrap()))
        .join(data.strip_prefix("/").unwrap());
    let http = impatient(5);
    let session = anonymous_session(&http, &exp).await;
    let submit = |message: String| {
        http.post(format!("{exp}/api/intent/submit"))
            .json(&json!({"intent_type": "echo", "session_id": session, "parameters": {"message": message}}))
            .send()
    };
    let status = |eid: String| {
        let http = http.clone();
        let exp = exp.clone();
        async move { get_json(&http, &format!("{exp}/api/execution/{eid}/status")).await }
    };
    let r = submit("before".into()).await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let before: Value = r.json().await.unwrap();
    let before = before["execution_id"].as_str().unwrap().to_string();

    // Fill the file system.
    let filler = inside.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("the data directory is reachable");
        let chunk = vec![7u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    // Writes fail from now on: every answer is either a 202 for a stored execution or a 503.
    let mut accepted = vec![before.clone()];
    let mut refused = 0;
    for i in 0..200 {
        let r = submit(format!("while full {i} {}", "x".repeat(2000)))
            .await
            .unwrap();
        match r.status().as_u16() {
            202 => accepted.push(
                r.json::<Value>().await.unwrap()["execution_id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            503 => {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"], "database_unavailable", "{body}");
                refused += 1;
            }
            other => panic!("{other}: {}", r.text().await.unwrap()),
        }
        if refused >= 5 {
            break;
        }
    }
    assert!(refused >= 5, "writes kept succeeding on a full disk");
    let down = wait_for_database(&http, &base, "read_only").await;
    assert_eq!(down["status"], "unhealthy", "{down}");
    let (s, _) = get_json(&http, &format!("{exp}/ready")).await;
    assert_eq!(s, 503);

    // Space returns: the server recovers without a restart.
    std::fs::remove_file(&filler).unwrap();
    wait_for_database(&http, &base, "ok").await;
    let r = submit("after".into()).await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let after: Value = r.json().await.unwrap();
    accepted.push(after["execution_id"].as_str().unwrap().to_string());
    // Every acknowledged intent is stored and runs to its end.
    for eid in accepted {
        eventually(Duration::from_secs(10), || async {
            let (s, body) = status(eid.clone()).await;
            assert_eq!(s, 200, "{eid}: {body}");
            (body["status"] == "completed").then_some(())
        })
        .await;
    }
    let _ = child.kill().await;
}
