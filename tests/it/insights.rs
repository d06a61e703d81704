//! The insights realm through the API, on small datasets with hand-computed expected values.

use crate::common::*;
use serde_json::{json, Value};

/// Ingests `csv` as `name` and parses it; the parsed file's descriptor.
async fn parsed_file(t: &TestApp, session: &str, name: &str, csv: &str) -> Value {
    let file = t
        .run_completed(
            session,
            "ingest_file",
            json!({"filename": name, "file_content": hex::encode(csv)}),
        )
        .await;
    let file_id = &file["artifacts"]["file"]["semantic_payload"]["file_id"];
    let parsed = t
        .run_completed(session, "parse_content", json!({"file_id": file_id}))
        .await;
    parsed["artifacts"]["parsed_file"]["semantic_payload"].clone()
}

#[tokio::test]
async fn analyze_structured_data_matches_hand_computed_statistics() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        let csv = "region,units,price,paid\nnorth,1,10.0,true\nsouth,2,20.0,false\nnorth,3,30.0,true\neast,4,40.0,true\nnorth,5,,true\n";
        let parsed = parsed_file(&t, &session, "sales.csv", csv).await;
        let parsed_id = &parsed["parsed_file_id"];
        let done = t
            .run_completed(
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
    let parsed = parsed_file(&t, &mine, "x.csv", "v\n1\n2\n").await;
    let parsed_id = parsed["parsed_file_id"].clone();
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

#[tokio::test]
async fn assess_data_quality_matches_hand_computed_findings() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        // 11 rows: one empty city, one non-number amount, one duplicated row, two outliers.
        let csv = "id,amount,city\n1,10,Paris\n2,12,Paris\n3,11,\n4,13,Lyon\n5,10,Paris\n6,12,Paris\n7,11,Lyon\n8,13,Paris\n9,100,Paris\n9,100,Paris\n10,x,Lyon\n";
        let parsed = parsed_file(&t, &session, "q.csv", csv).await;
        let p = &parsed;
        assert_eq!(
            p["columns"][1]["type"], "integer",
            "10 of 11 amounts are integers"
        );
        let done = t
            .run_completed(
                &session,
                "assess_data_quality",
                json!({"parsed_file_id": p["parsed_file_id"]}),
            )
            .await;
        let q = &done["artifacts"]["quality_report"]["semantic_payload"];
        assert_eq!(q["record_count"], 11, "[{}]", db.name);
        assert_eq!(q["duplicate_rows"], 1);

        let city = &q["columns"]["city"];
        assert_eq!(
            (city["null_count"].as_u64(), city["distinct_count"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(
            city["null_ratio"].as_f64().unwrap(),
            super_round(1.0 / 11.0)
        );

        let amount = &q["columns"]["amount"];
        assert_eq!(amount["type_breaks"], 1);
        assert_eq!(amount["type_break_examples"], json!(["x"]));
        // Amounts sorted: 10 10 11 11 12 12 13 13 100 100; Q1 (h = 2.25) = 11, Q3 (h = 6.75) = 13,
        // IQR 2, bounds [8, 16]: the two 100s are outliers.
        let o = &amount["outliers"];
        assert_eq!(
            (o["q1"].as_f64(), o["q3"].as_f64()),
            (Some(11.0), Some(13.0))
        );
        assert_eq!(
            (o["lower_bound"].as_f64(), o["upper_bound"].as_f64()),
            (Some(8.0), Some(16.0))
        );
        assert_eq!(o["count"], 2);
        // ids 1..9, 9, 10: Q1 = 3.5, Q3 = 8.5, bounds [-4, 16]: none.
        assert_eq!(q["columns"]["id"]["outliers"]["count"], 0);

        // The score follows its stated rule: 33 cells, 1 null, 1 break; 1 duplicate of 11 rows;
        // 2 outliers among 21 numeric cells (11 ids + 10 amounts).
        let expected: f64 = 100.0 - 40.0 / 33.0 - 30.0 / 33.0 - 20.0 / 11.0 - 10.0 * 2.0 / 21.0;
        assert_eq!(
            q["score"].as_f64().unwrap(),
            (expected * 10.0).round() / 10.0
        );
        assert!(q["score_rule"].as_str().unwrap().starts_with("score = 100"));
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

fn super_round(x: f64) -> f64 {
    (x * 1e10).round() / 1e10
}

#[tokio::test]
async fn interpretation_finds_semantic_types_and_candidate_keys() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let csv = "customer_id,email,phone,signup,plan,amount,notes\n\
        1,a@example.com,+1 555 123 4567,2024-01-01,free,$10.00,Short\n\
        2,b@example.com,555-123-4568,2024-01-02,pro,$20.50,A much longer note about the customer and what they need\n\
        3,c@example.com,(555) 123-4569,2024-01-03,free,$5.25,Ok\n\
        4,d@example.com,5551234570,2024-01-04,free,$7.00,\n";
    let parsed = parsed_file(&t, &session, "c.csv", csv).await;
    let parsed_id = &parsed["parsed_file_id"];
    let done = t
        .run_completed(
            &session,
            "interpret_data_self_discovery",
            json!({"parsed_file_id": parsed_id}),
        )
        .await;
    let i = &done["artifacts"]["interpretation"]["semantic_payload"];
    let kind = |c: &str| {
        i["columns"][c]["semantic_type"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(kind("customer_id"), "identifier");
    assert_eq!(kind("email"), "email");
    assert_eq!(kind("phone"), "phone");
    assert_eq!(kind("signup"), "date");
    // plan: 2 distinct values over 4 rows; confidence 1 - 2/4.
    assert_eq!(kind("plan"), "category");
    assert_eq!(i["columns"]["plan"]["confidence"], 0.5);
    assert_eq!(kind("amount"), "currency");
    assert_eq!(i["columns"]["email"]["confidence"], 1.0);
    assert_eq!(
        i["columns"]["email"]["evidence"][0],
        "4 of 4 values look like email values"
    );
    // Unique and never empty: the identifier first, then the contact columns, then the rest;
    // plan repeats and notes has an empty cell, so neither is a key.
    let keys: Vec<&str> = i["candidate_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["customer_id", "email", "phone", "amount", "signup"]);
    t.app.shutdown().await;
}

#[tokio::test]
async fn map_relationships_finds_the_shared_key_with_its_overlap() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        let parse = |name: &'static str, csv: &'static str| {
            let (t, session) = (&t, session.clone());
            async move {
                let parsed = parsed_file(t, &session, name, csv).await;
                parsed["parsed_file_id"].as_str().unwrap().to_string()
            }
        };
        let customers = parse(
            "customers.csv",
            "customer_id,name\n1,Ada\n2,Bo\n3,Cy\n4,Di\n",
        )
        .await;
        let orders = parse(
            "orders.csv",
            "order_id,customer_id,amount\n101,1,10\n102,2,20\n103,2,30\n104,3,40\n105,5,50\n",
        )
        .await;
        let done = t
            .run_completed(
                &session,
                "map_relationships",
                json!({"parsed_file_ids": [customers, orders]}),
            )
            .await;
        let m = &done["artifacts"]["relationship_map"]["semantic_payload"];
        // customer ids {1,2,3,4} and {1,2,3,5}: 3 shared of 4 on each side; nothing else overlaps.
        assert_eq!(
            m["candidates"],
            json!([{
                "left": {"parsed_file_id": customers, "column": "customer_id"},
                "right": {"parsed_file_id": orders, "column": "customer_id"},
                "name_similarity": 1.0, "shared_values": 3, "overlap_ratio": 0.75,
                "left_coverage": 0.75, "right_coverage": 0.75
            }]),
            "[{}]",
            db.name
        );
        let (s, b) = t
            .submit(json!({"intent_type": "map_relationships", "session_id": session, "parameters": {"parsed_file_ids": [customers]}}))
            .await;
        assert_error(s, &b, 422, "validation_error");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

/// `files` CSVs of `rows` rows and `columns` columns, every column holding 1..=rows, each
/// ingested and parsed; their parsed file ids.
async fn wide_files(
    t: &TestApp,
    session: &str,
    files: usize,
    rows: usize,
    columns: usize,
) -> Vec<String> {
    let header: Vec<String> = (0..columns).map(|c| format!("c{c:03}")).collect();
    let mut csv = header.join(",") + "\n";
    for r in 1..=rows {
        csv += &vec![r.to_string(); columns].join(",");
        csv += "\n";
    }
    let mut ids = Vec::new();
    for f in 0..files {
        let parsed = parsed_file(t, session, &format!("wide{f}.csv"), &csv).await;
        ids.push(parsed["parsed_file_id"].as_str().unwrap().to_string());
    }
    ids
}

/// The relationship map of `ids`, and the length of its JSON.
async fn relationship_map(t: &TestApp, session: &str, ids: &[String]) -> (Value, usize) {
    let done = t
        .run_completed(
            session,
            "map_relationships",
            json!({"parsed_file_ids": ids}),
        )
        .await;
    let m = done["artifacts"]["relationship_map"]["semantic_payload"].clone();
    let size = m.to_string().len();
    (m, size)
}

#[tokio::test]
async fn map_relationships_keeps_the_best_candidates_within_its_caps() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    // Ten files of 30 identical columns holding 1..20: every one of the 45 file pairs × 30 × 30
    // column pairs overlaps fully — 40,500 candidates, about 12 MB of JSON before the caps.
    let ids = wide_files(&t, &session, 10, 20, 30).await;
    let (m, size) = relationship_map(&t, &session, &ids).await;
    let list = m["candidates"].as_array().unwrap();
    assert!(size < 256 * 1024, "{size} bytes");
    assert_eq!(list.len(), 200, "at most the 200 best are listed");
    assert_eq!(m["candidates_found"], 40_500);
    assert_eq!(m["truncated"], true);
    assert_eq!(m["limits"]["max_candidates"], 200);
    // Best first: full overlap and the same name; ties in the order compared (file 0 with
    // file 1, column by column), so the first is c000 of file 0 with c000 of file 1.
    assert_eq!(
        list[0],
        json!({
            "left": {"parsed_file_id": ids[0], "column": "c000"},
            "right": {"parsed_file_id": ids[1], "column": "c000"},
            "name_similarity": 1.0, "shared_values": 20, "overlap_ratio": 1.0,
            "left_coverage": 1.0, "right_coverage": 1.0
        })
    );
    assert!(list
        .iter()
        .all(|c| c["overlap_ratio"] == 1.0 && c["name_similarity"] == 1.0));
    t.app.shutdown().await;
}

#[tokio::test]
async fn map_relationships_on_ten_files_of_300_columns_stays_small() {
    let db = sqlite_db();
    // Each file's body is about 240 KB as hex: above the tests' usual 64 KiB.
    let mut config = test_config(&db);
    config.max_body_bytes = 1024 * 1024;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.create_session(None).await;
    // The case: ten CSVs of 100 rows and 300 columns (about 1 MB in all).
    let ids = wide_files(&t, &session, 10, 100, 300).await;
    let (m, size) = relationship_map(&t, &session, &ids).await;
    assert!(size < 256 * 1024, "{size} bytes");
    assert!(m["candidates"].as_array().unwrap().len() <= 200);
    assert_eq!(m["truncated"], true);
    // Only the first 100 columns of each file are compared: 45 × 100 × 100 pairs, all full.
    assert_eq!(m["candidates_found"], 450_000);
    assert_eq!(m["columns_compared"], json!(vec![100; 10]));
    assert_eq!(m["columns_total"], json!(vec![300; 10]));
    t.app.shutdown().await;
}

#[tokio::test]
async fn long_examples_are_clipped_in_the_quality_report() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    // Nineteen integers and one 1,000-character text: an integer column with one type break,
    // shown as its first 200 characters and an ellipsis.
    let mut csv = String::from("n\n");
    for i in 1..=19 {
        csv += &format!("{i}\n");
    }
    csv += &"x".repeat(1000);
    csv += "\n";
    let parsed = parsed_file(&t, &session, "n.csv", &csv).await;
    let done = t
        .run_completed(
            &session,
            "assess_data_quality",
            json!({"parsed_file_id": parsed["parsed_file_id"]}),
        )
        .await;
    let n = &done["artifacts"]["quality_report"]["semantic_payload"]["columns"]["n"];
    assert_eq!(n["type_breaks"], 1);
    assert_eq!(
        n["type_break_examples"],
        json!([format!("{}…", "x".repeat(200))])
    );
    t.app.shutdown().await;
}

#[tokio::test]
async fn a_wide_file_is_read_whole_in_smaller_pages() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    config.max_body_bytes = 4 * 1024 * 1024;
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.create_session(None).await;
    // 1,000 records of 260 columns: pages of 250,000 / 260 = 961 records, so two pages.
    let ids = wide_files(&t, &session, 1, 1000, 260).await;
    let done = t
        .run_completed(
            &session,
            "interpret_data_self_discovery",
            json!({"parsed_file_id": ids[0]}),
        )
        .await;
    let i = &done["artifacts"]["interpretation"]["semantic_payload"];
    assert_eq!(i["record_count"], 1000);
    // Every column holds 1..1000, present and distinct: all 260 are candidate keys.
    assert_eq!(i["candidate_keys"].as_array().unwrap().len(), 260);
    t.app.shutdown().await;
}

#[tokio::test]
async fn analyses_look_at_the_first_1000_columns_and_say_so() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    // Two records of 1,001 columns: the last is left out of each analysis, and said to be.
    let ids = wide_files(&t, &session, 1, 2, 1001).await;
    let note = json!({"columns_total": 1001, "columns_analyzed": 1000, "truncated": true,
        "max_columns": 1000});
    for (intent, key) in [
        ("analyze_structured_data", "analysis"),
        ("assess_data_quality", "quality_report"),
        ("interpret_data_self_discovery", "interpretation"),
    ] {
        let done = t
            .run_completed(&session, intent, json!({"parsed_file_id": ids[0]}))
            .await;
        let a = &done["artifacts"][key]["semantic_payload"];
        assert_eq!(a["analyzed_columns"], note, "{intent}");
        let per_column = if key == "analysis" {
            &a["numeric"]
        } else {
            &a["columns"]
        };
        let per_column = per_column.as_object().unwrap();
        assert_eq!(per_column.len(), 1000, "{intent}");
        assert!(per_column.contains_key("c999") && !per_column.contains_key("c1000"));
    }
    t.app.shutdown().await;
}
