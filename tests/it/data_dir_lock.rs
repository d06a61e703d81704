//! One process per data directory: a second `serve`, `runtime` or `migrate` on a directory a
//! server holds exits non-zero naming the holder's pid; the lock goes with the holder, after a
//! SIGKILL as after a graceful stop. `experience` (which uses the directory only for the shared
//! secrets) may run beside the runtime on it.

use crate::common::cli::{dead_port, run_binary};
use crate::common::*;

const TOKEN: &str = "data-dir-lock-token";

/// The environment `start_binary` gives the server, for a command run to its end.
fn same_dir_env(db: &TestDb) -> Vec<(&'static str, String)> {
    vec![
        ("SYMPHAINY_DATA_DIR", db.data_dir().display().to_string()),
        ("DATABASE_URL", db.url.clone()),
        ("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0".into()),
        ("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0".into()),
        ("SYMPHAINY_SERVICE_TOKEN", TOKEN.into()),
    ]
}

fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn a_second_process_on_one_data_directory_is_refused_naming_the_holder() {
    let db = sqlite_db();
    let env = same_dir_env(&db);
    let mut first = start_binary(&db, TOKEN, &[]).await;
    let pid = first.child.id().expect("running");
    let record = std::fs::read_to_string(db.data_dir().join("LOCK")).unwrap();
    assert!(
        record.starts_with(&format!("pid={pid}\nstarted=")),
        "{record}"
    );
    assert!(record.ends_with("\ncommand=serve\n"), "{record}");

    let expected = format!(
        "error: the data directory {} (SYMPHAINY_DATA_DIR) is in use by another symphainy \
         process (pid {pid}, started ",
        db.data_dir().display()
    );
    // The holder's host name (in a container, its pid alone is ambiguous), then its command.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let holder_tail = format!(", host {}, `serve`); only one process", host.trim());
    for command in ["serve", "runtime", "migrate"] {
        let ran = run_binary(&[command], &as_refs(&env)).await;
        assert_eq!(ran.code, Some(1), "{command}: {ran}");
        assert!(ran.stderr.contains(&expected), "{command}: {ran}");
        assert!(ran.stderr.contains(&holder_tail), "{command}: {ran}");
        assert_eq!(ran.stdout, "", "{command} never listened: {ran}");
    }

    // The Experience Plane alone does not take the lock: it may share the directory.
    let runtime_url = format!("http://127.0.0.1:{}", dead_port());
    let mut experience = start_plane(
        &db,
        TOKEN,
        "experience",
        &[("SYMPHAINY_RUNTIME_URL", runtime_url.as_str())],
    )
    .await;
    assert!(!experience.exp.is_empty());
    experience.child.kill().await.unwrap();

    // SIGKILL: the kernel releases the lock with the process.
    first.child.kill().await.unwrap();
    let mut second = start_binary(&db, TOKEN, &[]).await;
    let second_pid = second.child.id().expect("running");
    let record = std::fs::read_to_string(db.data_dir().join("LOCK")).unwrap();
    assert!(
        record.starts_with(&format!("pid={second_pid}\n")),
        "{record}"
    );

    // A graceful stop (SIGTERM) releases it too; `migrate` then runs.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &second_pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = second.child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", second.final_log().await);
    let ran = run_binary(&["migrate"], &as_refs(&env)).await;
    assert_eq!(ran.code, Some(0), "{ran}");
    assert_eq!(ran.stdout, "migrations applied\n", "{ran}");
    let third = start_binary(&db, TOKEN, &[]).await;
    assert!(!third.base.is_empty());
}

#[tokio::test]
async fn two_data_directories_cannot_share_one_sqlite_file() {
    let db = sqlite_db();
    let elsewhere = tempfile::tempdir().unwrap();
    let shared = format!("sqlite://{}/shared.db", elsewhere.path().display());
    let first = start_binary(&db, TOKEN, &[("DATABASE_URL", shared.as_str())]).await;
    let pid = first.child.id().expect("running");

    let other_dir = tempfile::tempdir().unwrap();
    let ran = run_binary(
        &["serve"],
        &[
            (
                "SYMPHAINY_DATA_DIR",
                &other_dir.path().display().to_string(),
            ),
            ("DATABASE_URL", &shared),
            ("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0"),
            ("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0"),
            ("SYMPHAINY_SERVICE_TOKEN", TOKEN),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert!(
        ran.stderr.contains(&format!(
            "error: the directory {} of the SQLite database (DATABASE_URL) is in use by another \
             symphainy process (pid {pid}, started ",
            elsewhere.path().display()
        )),
        "{ran}"
    );
    assert_eq!(ran.stdout, "", "{ran}");
}
