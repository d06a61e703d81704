//! The operator's command line (`symphainy executions …`, `symphainy sessions …`), run as the
//! real binary against a running server's Runtime API: tables and JSON, events, cancel,
//! approve, retry, and each subcommand's help listing only its own flags.

use serde_json::{json, Value};

use crate::common::cli::run_binary;
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_shows_follows_cancels_approves_and_retries() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let env = [
        ("SYMPHAINY_RUNTIME_URL", t.base.as_str()),
        ("SYMPHAINY_SERVICE_TOKEN", t.token.as_str()),
    ];
    let cli = |args: &'static [&'static str]| run_binary(args, &env);
    let s = t.create_session(Some("tenant-cli")).await;
    let echo = t.submit_echo(&s, Some("tenant-cli"), "hello").await;
    t.wait_terminal(&echo).await;

    // A table by default, JSON with --json.
    let ran = cli(&["executions", "list", "--tenant", "tenant-cli"]).await;
    assert_eq!(ran.code, Some(0), "{ran}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(
        lines[0].starts_with("EXECUTION") && lines[0].contains("STATUS"),
        "{ran}"
    );
    assert!(
        lines[1].starts_with(&echo) && lines[1].contains("completed"),
        "{ran}"
    );
    let ran = cli(&["executions", "list", "--tenant", "tenant-cli", "--json"]).await;
    let page: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(page["executions"][0]["execution_id"], echo);
    assert_eq!(page["executions"][0]["intent_type"], "echo");

    // show, and the events of a finished execution.
    let ran = run_binary(&["executions", "show", &echo], &env).await;
    assert_eq!(ran.code, Some(0), "{ran}");
    assert!(ran.stdout.contains("status     completed"), "{ran}");
    assert!(ran.stdout.contains("artifacts: echo"), "{ran}");
    let ran = run_binary(&["executions", "events", &echo], &env).await;
    let kinds: Vec<&str> = ran
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        kinds,
        [
            "EXECUTION_STARTED",
            "STEP_STARTED",
            "STEP_COMPLETED",
            "EXECUTION_COMPLETED"
        ],
        "{ran}"
    );

    // --follow on a slow execution prints until its end.
    let (_, acc) = t
        .submit(
            json!({"intent_type": "echo", "session_id": s, "tenant_id": "tenant-cli",
            "parameters": {"message": "slow", "delay_ms": 1500}}),
        )
        .await;
    let slow = acc["execution_id"].as_str().unwrap().to_string();
    let ran = run_binary(&["executions", "events", &slow, "--follow", "--json"], &env).await;
    assert_eq!(ran.code, Some(0), "{ran}");
    let last: Value = serde_json::from_str(ran.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event_type"], "EXECUTION_COMPLETED", "{ran}");

    // cancel a slow one; retry it; the retry is linked.
    let (_, acc) = t
        .submit(
            json!({"intent_type": "echo", "session_id": s, "tenant_id": "tenant-cli",
            "parameters": {"message": "to cancel", "delay_ms": 5000}}),
        )
        .await;
    let doomed = acc["execution_id"].as_str().unwrap().to_string();
    eventually(std::time::Duration::from_secs(10), || async {
        let (_, st) = t.get(&format!("/api/execution/{doomed}/status")).await;
        (st["status"] == "running").then_some(())
    })
    .await;
    let ran = run_binary(&["executions", "cancel", &doomed], &env).await;
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (Some(0), format!("cancelling {doomed}\n").as_str())
    );
    assert_eq!(t.wait_terminal(&doomed).await["status"], "cancelled");
    let ran = run_binary(&["executions", "retry", &doomed, "--json"], &env).await;
    assert_eq!(ran.code, Some(0), "{ran}");
    let again: Value = serde_json::from_str(&ran.stdout).unwrap();
    let again = again["execution_id"].as_str().unwrap().to_string();
    let ran = run_binary(&["executions", "list", "--limit", "1", "--json"], &env).await;
    let page: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(page["executions"][0]["retry_of"], doomed, "{ran}");
    assert_eq!(page["executions"][0]["execution_id"], again);
    run_binary(&["executions", "cancel", &again], &env).await;

    // approve: a file's deletion waits for approval; approving lets it finish.
    let (_, acc) = t
        .submit(
            json!({"intent_type": "ingest_file", "session_id": s, "tenant_id": "tenant-cli",
            "parameters": {"filename": "a.txt", "file_content": hex::encode("x")}}),
        )
        .await;
    let file = acc["produces"]["file_id"].as_str().unwrap().to_string();
    t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    let (_, acc) = t
        .submit(
            json!({"intent_type": "delete_file", "session_id": s, "tenant_id": "tenant-cli",
            "parameters": {"file_id": file}}),
        )
        .await;
    let deletion = acc["execution_id"].as_str().unwrap().to_string();
    eventually(std::time::Duration::from_secs(10), || async {
        let (_, st) = t.get(&format!("/api/execution/{deletion}/status")).await;
        (st["status"] == "awaiting_approval").then_some(())
    })
    .await;
    let ran = run_binary(&["executions", "approve", &echo], &env).await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr,
        format!("error: execution {echo} is completed, not awaiting approval\n")
    );
    let ran = run_binary(&["executions", "approve", &deletion], &env).await;
    assert_eq!(ran.stdout, format!("approved {deletion}\n"), "{ran}");
    assert_eq!(t.wait_terminal(&deletion).await["status"], "completed");

    // sessions list and show.
    let ran = cli(&["sessions", "list", "--tenant", "tenant-cli", "--json"]).await;
    let page: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(page["sessions"][0]["session_id"], s);
    let ran = run_binary(&["sessions", "show", &s], &env).await;
    assert!(
        ran.stdout
            .starts_with(&format!("session  {s}\ntenant   tenant-cli\n")),
        "{ran}"
    );

    // A wrong token: the API's refusal, as an error line.
    let ran = run_binary(
        &["executions", "list"],
        &[
            ("SYMPHAINY_RUNTIME_URL", t.base.as_str()),
            ("SYMPHAINY_SERVICE_TOKEN", "wrong"),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr,
        "error: the runtime refused the service token (SYMPHAINY_SERVICE_TOKEN differs)\n",
        "{ran}"
    );

    // Each subcommand's help lists only its own flags.
    let help = cli(&["executions", "list", "--help"]).await.stdout;
    assert!(
        help.contains("--status") && !help.contains("--follow"),
        "{help}"
    );
    let help = cli(&["executions", "events", "--help"]).await.stdout;
    assert!(
        help.contains("--follow") && !help.contains("--status"),
        "{help}"
    );
    let help = cli(&["sessions", "list", "--help"]).await.stdout;
    assert!(
        help.contains("--user") && !help.contains("--intent"),
        "{help}"
    );
    t.app.shutdown().await;
}
