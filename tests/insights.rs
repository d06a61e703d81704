//! The insights realm through the API, on small datasets with hand-computed expected values.

mod common;

use common::*;
use serde_json::{json, Value};

async fn run(t: &TestApp, session: &str, intent: &str, params: Value) -> Value {
    let (s, b) = t
        .submit(json!({"intent_type": intent, "session_id": session, "parameters": params}))
        .await;
    assert_eq!(s, 202, "{intent}: {b}");
    let done = t.wait_terminal(b["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{intent}: {done}");
    done
}

#[tokio::test]
async fn analyze_structured_data_matches_hand_computed_statistics() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        let csv = "region,units,price,paid\nnorth,1,10.0,true\nsouth,2,20.0,false\nnorth,3,30.0,true\neast,4,40.0,true\nnorth,5,,true\n";
        let file = run(
            &t,
            &session,
            "ingest_file",
            json!({"filename": "sales.csv", "file_content": hex::encode(csv)}),
        )
        .await;
        let file_id = &file["artifacts"]["file"]["semantic_payload"]["file_id"];
        let parsed = run(&t, &session, "parse_content", json!({"file_id": file_id})).await;
        let parsed_id = &parsed["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"];
        let done = run(
            &t,
            &session,
            "analyze_structured_data",
            json!({"parsed_file_id": parsed_id}),
        )
        .await;
        let a = &done["artifacts"]["analysis"]["semantic_payload"];
        assert_eq!(a["record_count"], 5, "[{}]", db.name);

        // units = 1..5: mean 3; squared deviations 4+1+0+1+4 = 10, sample variance 10/4.
        let u = &a["numeric"]["units"];
        assert_eq!(
            (
                u["count"].as_u64(),
                u["min"].as_f64(),
                u["max"].as_f64(),
                u["mean"].as_f64()
            ),
            (Some(5), Some(1.0), Some(5.0), Some(3.0))
        );
        assert!((u["std"].as_f64().unwrap() - 2.5f64.sqrt()).abs() < 1e-9);
        // Quantiles by linear interpolation, h = 4q: p5 → 1 + 0.2, p25 → 2, p95 → 4 + 0.8.
        assert_eq!(
            u["quantiles"],
            json!({"p5": 1.2, "p25": 2.0, "p50": 3.0, "p75": 4.0, "p95": 4.8})
        );
        assert_eq!(u["exact_quantiles"], true);

        // price = 10, 20, 30, 40 (one empty): mean 25; squared deviations 225+25+25+225 = 500.
        let p = &a["numeric"]["price"];
        assert_eq!(
            (p["count"].as_u64(), p["mean"].as_f64()),
            (Some(4), Some(25.0))
        );
        assert!((p["std"].as_f64().unwrap() - (500.0f64 / 3.0).sqrt()).abs() < 1e-9);
        // h = 3q: p5 → 10 + 0.15·10, p25 → 10 + 0.75·10, p75 → 30 + 0.25·10, p95 → 30 + 0.85·10.
        assert_eq!(
            p["quantiles"],
            json!({"p5": 11.5, "p25": 17.5, "p50": 25.0, "p75": 32.5, "p95": 38.5})
        );

        // Top values, most frequent first, ties by value.
        assert_eq!(
            a["text"]["region"]["top_values"],
            json!([{"value": "north", "count": 3}, {"value": "east", "count": 1}, {"value": "south", "count": 1}])
        );
        assert_eq!(a["text"]["region"]["distinct"], 3);
        assert_eq!(
            a["text"]["paid"]["top_values"][0],
            json!({"value": "true", "count": 4})
        );

        // price = 10 × units on the four rows that have both: r = 1.
        assert_eq!(
            a["correlations"],
            json!([{"a": "units", "b": "price", "pearson": 1.0, "n": 4}])
        );
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn analysis_refuses_what_it_cannot_see() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let mine = t.create_session(Some("a")).await;
    let theirs = t.create_session(Some("b")).await;
    let file = run(
        &t,
        &mine,
        "ingest_file",
        json!({"filename": "x.csv", "file_content": hex::encode("v\n1\n2\n")}),
    )
    .await;
    let parsed = run(
        &t,
        &mine,
        "parse_content",
        json!({"file_id": file["artifacts"]["file"]["semantic_payload"]["file_id"]}),
    )
    .await;
    let parsed_id =
        parsed["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"].clone();
    let (_, b) = t
        .submit(json!({"intent_type": "analyze_structured_data", "session_id": theirs, "parameters": {"parsed_file_id": parsed_id}}))
        .await;
    let done = t.wait_terminal(b["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"].as_str().unwrap().contains("not found"),
        "{done}"
    );
    let (s, b) = t
        .submit(
            json!({"intent_type": "analyze_structured_data", "session_id": mine, "parameters": {}}),
        )
        .await;
    assert_error(s, &b, 422, "validation_error");
    t.app.shutdown().await;
}
