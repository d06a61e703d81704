//! Progress of long steps (issue 19): a parse of 50,000 rows writes `EXECUTION_PROGRESS`
//! events with increasing counts (the interval set to zero here, so every batch reports; the
//! server's default is one a second), the last at the whole count; an analysis over the parse
//! reports its pages against the known total.

use serde_json::{json, Value};

use crate::common::*;

fn progress_of(status: &Value) -> Vec<Value> {
    status["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "EXECUTION_PROGRESS")
        .map(|e| e["data"].clone())
        .collect()
}

#[tokio::test]
async fn long_steps_report_progress_with_increasing_counts() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.runtime.progress_interval = std::time::Duration::ZERO;
    config.max_body_bytes = 4 << 20;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let s = t.create_session(None).await;
    let mut csv = String::from("id,value\n");
    for i in 1..=50_000 {
        csv.push_str(&format!("{i},{}\n", i % 97));
    }
    let (st, acc) = t
        .submit(json!({"intent_type": "ingest_file", "session_id": s,
            "parameters": {"filename": "big.csv", "file_content": hex::encode(&csv)}}))
        .await;
    assert_eq!(st, 202, "{acc}");
    let file = acc["produces"]["file_id"].as_str().unwrap().to_string();
    t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    let (_, acc) = t
        .submit(json!({"intent_type": "parse_content", "session_id": s,
            "parameters": {"file_id": file}}))
        .await;
    let done = t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let reports = progress_of(&done);
    let counts: Vec<u64> = reports
        .iter()
        .map(|p| p["done"].as_u64().unwrap())
        .collect();
    // Batches of 1,000 records: 1,000, 2,000, … 50,000.
    assert_eq!(counts, (1..=50).map(|i| i * 1000).collect::<Vec<u64>>());
    assert!(reports.iter().all(|p| p["unit"] == "records"
        && p["step"] == "parse"
        && p["file_bytes"] == csv.len() as u64));
    // The status carries the latest.
    assert_eq!(done["progress"]["done"], 50_000);
    let parsed = done["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"]
        .as_str()
        .unwrap()
        .to_string();

    // An analysis reads the records in pages and reports against the known total.
    let (_, acc) = t
        .submit(
            json!({"intent_type": "assess_data_quality", "session_id": s,
            "parameters": {"parsed_file_id": parsed}}),
        )
        .await;
    let done = t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let reports = progress_of(&done);
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|p| p["total"] == 50_000));
    let counts: Vec<u64> = reports
        .iter()
        .map(|p| p["done"].as_u64().unwrap())
        .collect();
    // Two passes over the records (pages of 1,000 for two columns), each up to the total.
    let pass: Vec<u64> = (1..=50).map(|i| i * 1000).collect();
    assert_eq!(counts, [pass.clone(), pass].concat());
    t.app.shutdown().await;
}
