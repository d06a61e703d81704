//! Parses a generated CSV of 1,000,000 rows through `parse_content` and measures the peak heap
//! growth with a counting allocator: it must stay far below the file's size (streaming parse,
//! bounded channel, batched inserts). The figures are printed. The count covers the Rust heap;
//! SQLite's page cache is allocated by its own C allocator and is bounded by its `cache_size`
//! (2 MiB per connection by default), whatever the file's size.

#[allow(dead_code)] // this binary uses a few of the shared helpers
#[path = "it/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ROWS: usize = 1_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_row_csv_parses_in_bounded_memory() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(Some("big")).await;

    // Write the file straight into blob storage's upload path: ingest it through the API in
    // hex would need it in memory, which is what this test must not do.
    let path = db.data_dir().join("big.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(f, "id,customer,amount,day,paid").unwrap();
        for i in 0..ROWS {
            writeln!(
                f,
                "{i},customer_{},{}.{:02},2024-{:02}-{:02},{}",
                i % 5000,
                i % 997,
                i % 100,
                i % 12 + 1,
                i % 28 + 1,
                i % 2 == 0
            )
            .unwrap();
        }
    }
    let file_size = std::fs::metadata(&path).unwrap().len() as usize;
    let file = tokio::fs::File::open(&path).await.unwrap();
    let client = t.app.runtime.client();
    use symphainy::runtime::RuntimeClient;
    let blob = client.put_blob(Box::pin(file), u64::MAX).await.unwrap();
    let accepted = client
        .submit_with_upload(
            &symphainy::runtime::contract::model::Scope::Any,
            symphainy::runtime::contract::model::SubmitWithUpload {
                sha256: blob.sha256,
                size_bytes: blob.size_bytes,
                intent: symphainy::runtime::contract::model::IntentRequest {
                    intent_type: "ingest_file".into(),
                    session_id: session.clone(),
                    parameters: Some(serde_json::json!({"filename": "big.csv"})),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap();
    t.wait_terminal(&accepted.execution_id).await;

    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let started = Instant::now();
    let (s, b) = t
        .submit(
            json!({"intent_type": "parse_content", "session_id": session, "tenant_id": "big",
            "parameters": {"file_id": accepted.produces["file_id"]}}),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let done = wait_until_terminal(
        &t.http,
        &t.base,
        &t.token,
        b["execution_id"].as_str().unwrap(),
        Duration::from_secs(300),
        false,
    )
    .await;
    let elapsed = started.elapsed();
    let peak_growth = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);

    assert_eq!(done["status"], "completed", "{done}");
    let parsed = &done["artifacts"]["parsed_file"]["semantic_payload"];
    assert_eq!(parsed["record_count"], ROWS);
    assert_eq!(parsed["columns"][2]["type"], "float");
    assert_eq!(parsed["columns"][3]["type"], "date");
    assert_eq!(parsed["columns"][4]["type"], "boolean");
    println!(
        "parsed {ROWS} rows ({:.1} MB) in {:.1} s; peak heap growth {:.1} MB ({:.1}% of the file)",
        file_size as f64 / 1e6,
        elapsed.as_secs_f64(),
        peak_growth as f64 / 1e6,
        100.0 * peak_growth as f64 / file_size as f64
    );
    assert!(
        peak_growth * 4 < file_size,
        "peak heap growth {peak_growth} bytes is not far below the file's {file_size} bytes"
    );
    // The last page reads back without re-parsing.
    let (s, b) = t
        .submit(json!({"intent_type": "get_parsed_file", "session_id": session, "tenant_id": "big",
            "parameters": {"parsed_file_id": parsed["parsed_file_id"], "offset": ROWS - 1, "limit": 10}}))
        .await;
    assert_eq!(s, 202);
    let page = t.wait_terminal(b["execution_id"].as_str().unwrap()).await;
    let records = &page["artifacts"]["parsed_file"]["semantic_payload"]["records"];
    assert_eq!(records.as_array().unwrap().len(), 1);
    assert_eq!(records[0]["id"], ROWS - 1);
    t.app.shutdown().await;
}
