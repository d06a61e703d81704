//! The real binary under load — 50 agent WebSocket clients and REST submitters — killed with
//! SIGKILL three times at random moments and started again. Every accepted intent reaches a
//! terminal state exactly once, and every client, reconnecting with `after_seq`, receives each
//! event of its session exactly once, in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::*;
use futures::StreamExt;
use parking_lot::{Mutex, RwLock};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "process-crash-token";
const CLIENTS: usize = 50;

/// Where the server listens now (it moves to new ports on every restart).
#[derive(Clone, Default)]
struct Addr(Arc<RwLock<(String, String)>>);

impl Addr {
    fn set(&self, b: &Binary) {
        *self.0.write() = (b.base.clone(), b.exp.clone());
    }
    fn base(&self) -> String {
        self.0.read().0.clone()
    }
    fn exp(&self) -> String {
        self.0.read().1.clone()
    }
}

/// A pseudo-random number below `n` (from the clock; printed for the record).
fn random_below(n: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos.wrapping_mul(6364136223846793005) >> 17) % n
}

/// A client of one session: connects, reads events, and after any disconnect reconnects with
/// `after_seq` = the last `seq` it saw. Every `seq` received is recorded.
fn client(
    addr: Addr,
    session: String,
    seen: Arc<Mutex<Vec<i64>>>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut connections = 0;
        while !stop.load(Ordering::SeqCst) {
            let last = seen.lock().last().copied().unwrap_or(0);
            let url = format!(
                "{}/api/runtime/agent?session_id={session}&after_seq={last}",
                addr.exp().replace("http://", "ws://")
            );
            let Ok(Ok((mut ws, _))) = tokio::time::timeout(
                Duration::from_secs(2),
                tokio_tungstenite::connect_async(url),
            )
            .await
            else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            connections += 1;
            loop {
                let next = tokio::time::timeout(Duration::from_millis(200), ws.next()).await;
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match next {
                    Err(_) => continue,
                    Ok(Some(Ok(Message::Text(t)))) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        if let Some(seq) = v["seq"].as_i64() {
                            seen.lock().push(seq);
                        }
                    }
                    Ok(Some(Ok(_))) => continue,
                    Ok(Some(Err(_)) | None) => break,
                }
            }
        }
        connections
    })
}

/// Submits echoes round-robin over the sessions; the accepted execution ids.
fn submitter(
    addr: Addr,
    sessions: Vec<String>,
    accepted: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    offset: usize,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let mut i = offset;
        while !stop.load(Ordering::SeqCst) {
            i += 1;
            let r = http
                .post(format!("{}/api/intent/submit", addr.base()))
                .bearer_auth(TOKEN)
                .json(
                    &json!({"intent_type": "echo", "session_id": sessions[i % sessions.len()],
                    "parameters": {"message": format!("m{i}"), "delay_ms": (i * 13) % 120}}),
                )
                .send()
                .await;
            match r {
                Ok(r) if r.status().as_u16() == 202 => {
                    let v: Value = r.json().await.unwrap();
                    accepted
                        .lock()
                        .push(v["execution_id"].as_str().unwrap().to_string());
                }
                // The server is down (or going down): not accepted, try again shortly.
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
}

#[tokio::test]
async fn sigkill_under_load_loses_nothing_and_clients_resume_every_event() {
    for db in databases().await {
        let addr = Addr::default();
        let mut server = start_binary(&db, TOKEN, &[]).await;
        addr.set(&server);
        let http = reqwest::Client::new();
        let mut sessions = Vec::new();
        for _ in 0..CLIENTS {
            sessions.push(runtime_session(&http, &server.base, TOKEN).await);
        }
        let stop_clients = Arc::new(AtomicBool::new(false));
        let stop_submitters = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for s in &sessions {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let task = client(addr.clone(), s.clone(), seen.clone(), stop_clients.clone());
            clients.push((s.clone(), seen, task));
        }
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let submitters: Vec<_> = (0..4)
            .map(|k| {
                submitter(
                    addr.clone(),
                    sessions.clone(),
                    accepted.clone(),
                    stop_submitters.clone(),
                    k * 1_000_000,
                )
            })
            .collect();

        let mut kills = Vec::new();
        for _ in 0..3 {
            let wait = 400 + random_below(1200);
            kills.push(wait);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            server.child.kill().await.unwrap(); // SIGKILL
            server = start_binary(&db, TOKEN, &[]).await;
            addr.set(&server);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop_submitters.store(true, Ordering::SeqCst);
        for s in submitters {
            s.await.unwrap();
        }
        let accepted = accepted.lock().clone();
        eprintln!(
            "[{}] {} intents accepted; SIGKILL after {kills:?} ms",
            db.name,
            accepted.len()
        );
        assert!(accepted.len() > 50, "[{}] load was applied", db.name);
        for id in &accepted {
            let done = wait_terminal(&http, &server.base, TOKEN, id).await;
            assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
            let types = event_types(&done);
            assert_eq!(
                types.iter().filter(|t| *t == "EXECUTION_COMPLETED").count(),
                1,
                "[{}] {types:?}",
                db.name
            );
        }
        // Every client catches up with its session's log: each seq once, in order.
        let store = symphainy::store::Store::connect(&db.url).await.unwrap();
        for (session, seen, _) in &clients {
            let last = store.runtime().max_seq(session).await.unwrap();
            eventually(Duration::from_secs(10), || async {
                (seen.lock().last().copied().unwrap_or(0) >= last).then_some(())
            })
            .await;
            let got = seen.lock().clone();
            let want: Vec<i64> = (1..=last).collect();
            assert_eq!(got, want, "[{}] session {session}", db.name);
        }
        store.close().await;
        stop_clients.store(true, Ordering::SeqCst);
        let mut reconnects = 0;
        for (_, _, task) in clients {
            reconnects += task.await.unwrap();
        }
        assert!(
            reconnects >= CLIENTS * 4,
            "[{}] every client reconnected after each kill ({reconnects} connections)",
            db.name
        );
        server.child.kill().await.unwrap();
        db.cleanup().await;
    }
}
