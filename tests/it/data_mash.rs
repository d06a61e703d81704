//! The data mash as the frontend uses it: two uploads, `POST /api/v1/content/data-mash/create`,
//! the result read from the execution's status; its phases, lineage, forced failure with
//! compensation, validation and tenant isolation. Expected rows are worked out by hand below.

use crate::common::*;
use serde_json::{json, Value};
use symphainy::store::artifacts::ArtifactRow;

const SALES: &str = "order_id,customer_id,amount,city\n101,1,10.5,\n102,2,20.25,Paris\n103,1,30.0,Oslo\n104,5,50.5,\n";
const CUSTOMERS: &str = "id,name,city\n1,Ann,Oslo\n2,Bob,Rome\n3,Cy,Lima\n";

/// Uploads `content` as `name` through the Experience Plane; the file id, once ingested.
async fn upload(t: &TestApp, token: &str, session: &str, name: &str, content: &str) -> String {
    let part = reqwest::multipart::Part::bytes(content.as_bytes().to_vec())
        .file_name(name.to_string())
        .mime_str("text/csv")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("session_id", session.to_string())
        .part("file", part);
    let r = t
        .http
        .post(format!("{}/api/v1/content/upload", t.exp))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let body: Value = r.json().await.unwrap();
    let done = t
        .wait_terminal(body["execution_id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    body["file_id"].as_str().unwrap().to_string()
}

/// `POST` on the Experience Plane with a bearer token.
async fn exp_post(t: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}{path}", t.exp))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// The execution's status from the Experience Plane, polled until it ends.
async fn exp_wait(t: &TestApp, token: &str, execution_id: &str) -> Value {
    eventually(std::time::Duration::from_secs(20), || async {
        let r = t
            .http
            .get(format!("{}/api/execution/{execution_id}/status", t.exp))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        terminal(r.json().await.unwrap())
    })
    .await
}

/// The tenant's artifact types, sorted (from the artifact list route).
async fn artifact_types(t: &TestApp, token: &str) -> Vec<String> {
    let (s, list) = exp_post(t, "/api/artifact/list", token, json!({"limit": 1000})).await;
    assert_eq!(s, 200, "{list}");
    let mut types: Vec<String> = list["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["artifact_type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    types
}

fn steps_completed(status: &Value) -> Vec<String> {
    status["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "STEP_COMPLETED")
        .map(|e| e["data"]["step"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn two_uploads_mash_into_the_expected_joined_rows() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let user = t.register_user("mia").await;
        let token = user["access_token"].as_str().unwrap();
        let session = user["session_id"].as_str().unwrap();
        let sales = upload(&t, token, session, "sales.csv", SALES).await;
        let customers = upload(&t, token, session, "customers.csv", CUSTOMERS).await;

        for path in [
            "/api/v1/content/data-mash/create",
            "/v1/content/data-mash/create",
        ] {
            let (s, accepted) = exp_post(
                &t,
                path,
                token,
                json!({"content_refs": [sales, customers], "session_id": session}),
            )
            .await;
            assert_eq!(s, 202, "{path}: {accepted}");
            assert_eq!(accepted["success"], true);
            assert_eq!(accepted["status"], "accepted");
            let exec = accepted["execution_id"].as_str().unwrap();
            let done = exp_wait(&t, token, exec).await;
            assert_eq!(done["status"], "completed", "[{}] {done}", db.name);
            assert_eq!(
                steps_completed(&done),
                [
                    "data_quality",
                    "semantic_interpretation",
                    "semantic_mapping",
                    "registered"
                ]
            );
            let mash = &done["artifacts"]["mash"]["semantic_payload"];
            assert_eq!(mash["mash_id"], accepted["mash_id"]);
            assert_eq!(mash["status"], "registered");
            assert_eq!(mash["name"], "sales + customers");

            // The key: order_id and customer_id both overlap customers.id; customer_id also names
            // customers, so it wins (see docs/insights.md for the scoring rule).
            assert_eq!(mash["join"]["kind"], "outer");
            assert_eq!(
                mash["join"]["keys"],
                json!([{"source": "sales", "source_index": 0, "column": "customer_id"},
                    {"source": "customers", "source_index": 1, "column": "id"}])
            );
            // Unified columns: the key, sales' other columns, then customers' name (its city
            // merges with sales' city).
            let model = &mash["canonical_model"];
            let names: Vec<&str> = model["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["customer_id", "order_id", "amount", "city", "name"]);
            assert_eq!(
                model["columns"][3]["sources"],
                json!([{"source": "sales", "source_index": 0, "column": "city"},
                    {"source": "customers", "source_index": 1, "column": "city"}])
            );

            // Outer join, sales first: customer 1 twice (Ann, city Oslo — the empty sales city
            // takes the customer's), customer 2 (Paris kept over Rome: one value conflict),
            // customer 5 unmatched, then customer 3 who bought nothing.
            let parsed_id = mash["parsed_file_id"].as_str().unwrap();
            assert_eq!(mash["record_count"], 5);
            let rows = t
                .run_intent(
                    session,
                    user["tenant_id"].as_str(),
                    "get_parsed_file",
                    json!({"parsed_file_id": parsed_id}),
                )
                .await;
            let records = &rows["artifacts"]["parsed_file"]["semantic_payload"]["records"];
            assert_eq!(
                records,
                &json!([
                    {"customer_id": 1, "order_id": 101, "amount": 10.5, "city": "Oslo", "name": "Ann"},
                    {"customer_id": 2, "order_id": 102, "amount": 20.25, "city": "Paris", "name": "Bob"},
                    {"customer_id": 1, "order_id": 103, "amount": 30.0, "city": "Oslo", "name": "Ann"},
                    {"customer_id": 5, "order_id": 104, "amount": 50.5, "city": null, "name": null},
                    {"customer_id": 3, "order_id": null, "amount": null, "city": "Lima", "name": "Cy"},
                ])
            );
            let conflicts = mash["conflicts"].as_array().unwrap();
            assert_eq!(conflicts.len(), 1, "{conflicts:?}");
            assert_eq!(conflicts[0]["kind"], "value");
            assert_eq!(conflicts[0]["column"], "city");
            assert_eq!(conflicts[0]["count"], 1);
            // 3 of 4 sales rows found their customer; 2 of 3 customers were matched.
            let sources = mash["sources"].as_array().unwrap();
            assert_eq!(
                (
                    &sources[0]["matched_records"],
                    &sources[1]["matched_records"]
                ),
                (&json!(3), &json!(2))
            );
            // Both files are clean: no empty cells but sales' two missing cities (2 of 16 cells:
            // 100 − 40·2/16 = 95) and none in customers.
            assert_eq!(sources[0]["quality_score"], 95.0);
            assert_eq!(sources[1]["quality_score"], 100.0);

            // Lineage: the combined parsed file and the mash derive from both sources' parses.
            let (s, record) = exp_post(
                &t,
                "/api/artifact/resolve",
                token,
                json!({"artifact_id": parsed_id}),
            )
            .await;
            assert_eq!(s, 200, "{record}");
            let parents = record["parent_artifacts"].as_array().unwrap();
            assert_eq!(parents.len(), 2);
            assert_eq!(parents[0], sources[0]["parsed_file_id"]);
            assert_eq!(parents[1], sources[1]["parsed_file_id"]);
            assert_eq!(record["produced_by"]["intent_type"], "data_mash.create");
            let (s, record) = exp_post(
                &t,
                "/api/artifact/resolve",
                token,
                json!({"artifact_id": accepted["mash_id"], "artifact_type": "mash"}),
            )
            .await;
            assert_eq!(s, 200, "{record}");
            assert_eq!(record["semantic_descriptor"]["parsed_file_id"], parsed_id);
        }
        // The first mash parsed the files; the second reused those parses.
        let types = artifact_types(&t, token).await;
        let count = |k: &str| types.iter().filter(|t| *t == k).count();
        assert_eq!(
            (
                count("file"),
                count("parsed_file"),
                count("mash"),
                count("quality_report"),
                count("interpretation"),
                count("canonical_model")
            ),
            (2, 2 + 2, 2, 4, 4, 2),
            "{types:?}"
        );
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failure_in_semantic_mapping_leaves_no_artifact_of_the_earlier_phases() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let user = t.register_user("noor").await;
        let token = user["access_token"].as_str().unwrap();
        let session = user["session_id"].as_str().unwrap();
        // No shared values and no matching names: nothing to join on.
        let a = upload(&t, token, session, "a.csv", "x,y\n1,2\n3,4\n").await;
        let b = upload(&t, token, session, "b.csv", "p,q\n10,20\n30,40\n").await;
        let (s, accepted) = exp_post(
            &t,
            "/api/v1/content/data-mash/create",
            token,
            json!({"content_refs": [a, b], "session_id": session}),
        )
        .await;
        assert_eq!(s, 202, "{accepted}");
        let done = exp_wait(&t, token, accepted["execution_id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "failed", "{done}");
        let error = done["error"].as_str().unwrap();
        assert!(
            error.contains("no column of a shares values with a column of b"),
            "{error}"
        );
        let failed: Vec<&Value> = done["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "STEP_FAILED")
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["data"]["step"], "semantic_mapping");
        let compensated: Vec<&str> = done["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "STEP_COMPENSATED")
            .map(|e| e["data"]["step"].as_str().unwrap())
            .collect();
        assert_eq!(compensated, ["semantic_interpretation", "data_quality"]);
        // Only the two files remain: the parses, reports and interpretations made on the way
        // are gone, and the janitor finds nothing left behind.
        assert_eq!(artifact_types(&t, token).await, ["file", "file"]);
        assert_eq!(sweep(&t).await.abandoned, 0);
        // Had a crash cut a phase short before it could clean up, the janitor would remove
        // what it left: an artifact of a failed execution.
        let exec = accepted["execution_id"].as_str().unwrap();
        t.app
            .store
            .artifacts()
            .insert_artifact(&ArtifactRow {
                artifact_id: "left-behind".into(),
                artifact_type: "quality_report".into(),
                tenant_id: user["tenant_id"].as_str().map(str::to_string),
                session_id: session.to_string(),
                lifecycle_state: "active".into(),
                semantic_descriptor: json!({}),
                parent_artifacts: vec![],
                produced_by_intent: "data_mash.create".into(),
                produced_by_execution: exec.to_string(),
                blob_sha256: None,
                created_at: 1,
                updated_at: 1,
            })
            .await
            .unwrap();
        assert_eq!(artifact_types(&t, token).await.len(), 3);
        assert_eq!(sweep(&t).await.abandoned, 1);
        assert_eq!(artifact_types(&t, token).await, ["file", "file"]);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn options_join_keys_inner_join_and_parsed_refs() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let parse = |name: &'static str, csv: &'static str| {
        let (t, session) = (&t, session.clone());
        async move {
            let f = t
                .run_completed(
                    &session,
                    "ingest_file",
                    json!({"filename": name, "file_content": hex::encode(csv)}),
                )
                .await;
            let p = t
                .run_completed(
                    &session,
                    "parse_content",
                    json!({"file_id": f["artifacts"]["file"]["semantic_payload"]["file_id"]}),
                )
                .await;
            p["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let sales = parse("sales.csv", SALES).await;
    let customers = parse("customers.csv", CUSTOMERS).await;
    // The key named, inner join: customer 5 (no such customer) and customer 3 (no order) drop.
    let done = t
        .run_intent(
            &session,
            None,
            "data_mash.create",
            json!({"content_refs": [sales, customers],
                "options": {"join": "inner", "join_keys": ["customer_id", "id"], "name": "Orders"}}),
        )
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    let mash = &done["artifacts"]["mash"]["semantic_payload"];
    assert_eq!(mash["name"], "Orders");
    assert_eq!(mash["join"]["kind"], "inner");
    // Inner: customer 5 and customer 3 drop out; three rows remain.
    assert_eq!(mash["record_count"], 3);
    let rows = t
        .run_completed(
            &session,
            "get_parsed_file",
            json!({"parsed_file_id": mash["parsed_file_id"]}),
        )
        .await;
    let ids: Vec<i64> = rows["artifacts"]["parsed_file"]["semantic_payload"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["order_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [101, 102, 103]);
    // The given parses were used as they were: no new parse.
    assert_eq!(mash["sources"][0]["parsed_file_id"], json!(sales));
    assert_eq!(mash["sources"][1]["parsed_file_id"], json!(customers));

    // A key column that does not exist fails the mapping phase with its name.
    let done = t
        .run_intent(
            &session,
            None,
            "data_mash.create",
            json!({"content_refs": [sales, customers], "options": {"join_keys": ["customer_id", "cid"]}}),
        )
        .await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["error"],
        "options.join_keys names 'cid', which customers does not have"
    );
    // A quality floor stops the mash in its first phase (sales scores 95).
    let done = t
        .run_intent(
            &session,
            None,
            "data_mash.create",
            json!({"content_refs": [sales, customers], "options": {"min_quality_score": 99}}),
        )
        .await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["error"],
        "sales.csv scores 95 for quality, below the minimum of 99"
    );
    t.app.shutdown().await;
}

#[tokio::test]
async fn bad_requests_change_nothing_and_tenants_stay_apart() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let alice = t.register_user("alice").await;
    let bob = t.register_user("bob").await;
    let (ta, tb) = (
        alice["access_token"].as_str().unwrap(),
        bob["access_token"].as_str().unwrap(),
    );
    let (sa, sb) = (
        alice["session_id"].as_str().unwrap(),
        bob["session_id"].as_str().unwrap(),
    );
    let f1 = upload(&t, ta, sa, "sales.csv", SALES).await;
    let f2 = upload(&t, ta, sa, "customers.csv", CUSTOMERS).await;
    let path = "/api/v1/content/data-mash/create";
    for (body, field) in [
        (json!({"session_id": sa}), "content_refs"),
        (
            json!({"session_id": sa, "content_refs": [f1]}),
            "content_refs",
        ),
        (
            json!({"session_id": sa, "content_refs": [f1, f1]}),
            "content_refs",
        ),
        (
            json!({"session_id": sa, "content_refs": "x"}),
            "content_refs",
        ),
        (
            json!({"session_id": sa, "content_refs": [f1, f2], "options": {"join": "cross"}}),
            "options.join",
        ),
        (
            json!({"session_id": sa, "content_refs": [f1, f2], "options": {"join_keys": ["a"]}}),
            "options.join_keys",
        ),
        (json!({"content_refs": [f1, f2]}), "session_id"),
    ] {
        let (s, b) = exp_post(&t, path, ta, body.clone()).await;
        assert_error(s, &b, 422, "validation_error");
        assert!(b["fields"].get(field).is_some(), "{body} → {b}");
    }
    let r = t
        .http
        .post(format!("{}{path}", t.exp))
        .bearer_auth(ta)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(artifact_types(&t, ta).await, ["file", "file"]);

    // Bob cannot mash in Alice's session, and Alice's file ids are unknown in his.
    let (s, b) = exp_post(
        &t,
        path,
        tb,
        json!({"session_id": sa, "content_refs": [f1, f2]}),
    )
    .await;
    assert_error(s, &b, 404, "session_not_found");
    let (s, accepted) = exp_post(
        &t,
        path,
        tb,
        json!({"session_id": sb, "content_refs": [f1, f2]}),
    )
    .await;
    assert_eq!(s, 202);
    let done = exp_wait(&t, tb, accepted["execution_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"], format!("content ref {f1} not found"));
    assert_eq!(artifact_types(&t, tb).await, Vec::<String>::new());
    assert_eq!(artifact_types(&t, ta).await, ["file", "file"]);
    t.app.shutdown().await;
}

#[tokio::test]
async fn deleting_one_source_keeps_the_mash_built_on_several() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let mut files = Vec::new();
    for (name, csv) in [("sales.csv", SALES), ("customers.csv", CUSTOMERS)] {
        let f = t
            .run_completed(
                &session,
                "ingest_file",
                json!({"filename": name, "file_content": hex::encode(csv)}),
            )
            .await;
        files.push(f["artifacts"]["file"]["semantic_payload"]["file_id"].clone());
    }
    let done = t
        .run_completed(&session, "data_mash.create", json!({"content_refs": files}))
        .await;
    let mash = &done["artifacts"]["mash"]["semantic_payload"];
    let (_, b) = t
        .submit(json!({"intent_type": "delete_file", "session_id": session,
            "parameters": {"file_id": files[0]}}))
        .await;
    let eid = b["execution_id"].as_str().unwrap().to_string();
    decide(&t, &eid, true).await;
    assert_eq!(t.wait_terminal(&eid).await["status"], "completed");
    // Gone: sales.csv, its parse, its quality report and interpretation. Kept: customers.csv
    // with its own, and what derives from both (the canonical model, the combined data, the
    // mash), whose lineage still names the deleted parse.
    let listed = t
        .run_completed(&session, "list_artifacts", json!({"limit": 100}))
        .await;
    let items = listed["artifacts"]["files"]["semantic_payload"]["items"]
        .as_array()
        .unwrap()
        .clone();
    let mut types: Vec<&str> = items
        .iter()
        .map(|a| a["artifact_type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "canonical_model",
            "file",
            "interpretation",
            "mash",
            "parsed_file",
            "parsed_file",
            "quality_report"
        ]
    );
    let rows = t
        .run_completed(
            &session,
            "get_parsed_file",
            json!({"parsed_file_id": mash["parsed_file_id"]}),
        )
        .await;
    assert_eq!(
        rows["artifacts"]["parsed_file"]["semantic_payload"]["records"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    t.app.shutdown().await;
}

/// Ingests `csv` as `name` in the session; the file id.
async fn ingest(t: &TestApp, session: &str, name: &str, csv: &str) -> String {
    let f = t
        .run_completed(
            session,
            "ingest_file",
            json!({"filename": name, "file_content": hex::encode(csv)}),
        )
        .await;
    f["artifacts"]["file"]["semantic_payload"]["file_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_join_that_fans_out_past_the_cap_fails_and_writes_nothing() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    // Two files of 1,000 records sharing one key value: every pair joins, 1,000,000 records.
    let rows = |column: &str| {
        let mut csv = format!("key,{column}\n");
        for i in 1..=1000 {
            csv += &format!("7,{i}\n");
        }
        csv
    };
    let a = ingest(&t, &session, "a.csv", &rows("left")).await;
    let b = ingest(&t, &session, "b.csv", &rows("right")).await;
    let done = t
        .run_intent(
            &session,
            None,
            "data_mash.create",
            json!({"content_refs": [a, b]}),
        )
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    // The cap: the larger of 10,000 and 4 × the 2,000 input records.
    assert_eq!(
        done["error"],
        "the join would write 1000000 records, over the mash's cap of 10000 (the larger of \
         10000 and 4 × its inputs' 2000 records: a.csv 1000, b.csv 1000); key value \"7\" \
         (column key) alone gives 1000000 records: 1000 in a.csv × 1000 in b.csv. Check the \
         key, or set options.max_records (at most 5000000)"
    );
    let events = done["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&str> {
        events
            .iter()
            .filter(|e| e["event_type"] == kind)
            .map(|e| e["data"]["step"].as_str().unwrap())
            .collect()
    };
    assert_eq!(of("STEP_FAILED"), ["registered"]);
    assert_eq!(
        of("STEP_COMPENSATED"),
        [
            "semantic_mapping",
            "semantic_interpretation",
            "data_quality"
        ]
    );
    // No combined record was written, and only the two files remain.
    let dataset = symphainy::runtime::realms::content::common::derived_id(
        done["execution_id"].as_str().unwrap(),
        "mash:dataset",
    );
    assert!(t
        .app
        .store
        .artifacts()
        .parsed_records(&dataset, 0, 10)
        .await
        .unwrap()
        .is_empty());
    let listed = t
        .run_completed(&session, "list_artifacts", json!({"limit": 100}))
        .await;
    let types: Vec<&str> = listed["artifacts"]["files"]["semantic_payload"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["artifact_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["file", "file"]);
    t.app.shutdown().await;
}

#[tokio::test]
async fn options_max_records_lowers_the_cap_to_the_record() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let sales = ingest(&t, &session, "sales.csv", SALES).await;
    let customers = ingest(&t, &session, "customers.csv", CUSTOMERS).await;
    // The outer join of SALES and CUSTOMERS writes 5 records (see the first test).
    let mash = |max: u64| {
        let (t, session) = (&t, session.clone());
        let refs = json!([sales, customers]);
        async move {
            t.run_intent(
                &session,
                None,
                "data_mash.create",
                json!({"content_refs": refs, "options": {"max_records": max}}),
            )
            .await
        }
    };
    let done = mash(4).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(
        done["error"],
        "the join would write 5 records, over the mash's cap of 4 (options.max_records); key \
         value \"1\" (column customer_id) alone gives 2 records: 2 in sales.csv × 1 in \
         customers.csv. Check the key, or set options.max_records (at most 5000000)"
    );
    let done = mash(5).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["artifacts"]["mash"]["semantic_payload"]["record_count"],
        5
    );
    // Above the hard ceiling, or not a positive whole number: refused at submit.
    for bad in [json!(5_000_001), json!(0), json!("many")] {
        let (s, b) = t
            .submit(json!({"intent_type": "data_mash.create", "session_id": session,
                "parameters": {"content_refs": [sales, customers], "options": {"max_records": bad}}}))
            .await;
        assert_error(s, &b, 422, "validation_error");
        assert!(
            b["fields"].get("parameters.options.max_records").is_some(),
            "{b}"
        );
    }
    t.app.shutdown().await;
}

#[tokio::test]
async fn sources_wider_than_the_column_cap_fail_in_the_first_phase() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    // Two files of 600 columns: 1,200 in all, over the cap of 1,000.
    let header: Vec<String> = (0..600).map(|c| format!("c{c:03}")).collect();
    let row: Vec<String> = (0..600).map(|c| c.to_string()).collect();
    let csv = format!("{}\n{}\n", header.join(","), row.join(","));
    let a = ingest(&t, &session, "wide0.csv", &csv).await;
    let b = ingest(&t, &session, "wide1.csv", &csv).await;
    let done = t
        .run_intent(
            &session,
            None,
            "data_mash.create",
            json!({"content_refs": [a, b]}),
        )
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(
        done["error"],
        "a mash combines at most 1000 columns in all (got 1200: wide0.csv 600, wide1.csv 600)"
    );
    let failed: Vec<&Value> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "STEP_FAILED")
        .collect();
    assert_eq!(failed[0]["data"]["step"], "data_quality");
    // The parses made on the way are removed: only the two files remain.
    let listed = t
        .run_completed(&session, "list_artifacts", json!({"limit": 100}))
        .await;
    assert_eq!(
        listed["artifacts"]["files"]["semantic_payload"]["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    t.app.shutdown().await;
}

#[tokio::test]
async fn the_key_search_compares_the_anchor_with_each_source_only() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let sales = ingest(&t, &session, "sales.csv", SALES).await;
    let customers = ingest(&t, &session, "customers.csv", CUSTOMERS).await;
    let tiers = ingest(&t, &session, "tiers.csv", "id,tier\n1,gold\n2,silver\n").await;
    let done = t
        .run_completed(
            &session,
            "data_mash.create",
            json!({"content_refs": [sales, customers, tiers]}),
        )
        .await;
    let join = &done["artifacts"]["mash"]["semantic_payload"]["canonical_model"]["join"];
    // sales' 4 columns against customers' 3 and tiers' 2: 12 + 8 pairs; customers and tiers
    // are not compared with each other (their 6 pairs could not change the key).
    assert_eq!(join["pairs_compared"], 20);
    // customer_id ~ tiers.id: {1, 2, 5} and {1, 2}, overlap 2/2 = 1, name 0.5, tiers.id a
    // candidate key: 1 + 0.25 + 0.25 = 1.5.
    assert_eq!(
        join["keys"],
        json!([{"source": "sales", "source_index": 0, "column": "customer_id"},
            {"source": "customers", "source_index": 1, "column": "id"},
            {"source": "tiers", "source_index": 2, "column": "id"}])
    );
    assert_eq!(join["evidence"][1]["score"], 1.5);
    t.app.shutdown().await;
}

#[tokio::test]
async fn sample_records_stay_within_their_size() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    // Three records of about 7 KB each: the first two fit the samples' 16 KiB, the third not.
    let note = "x".repeat(7000);
    let notes = format!("id,note\n1,{note}\n2,{note}\n3,{note}\n");
    let a = ingest(&t, &session, "notes.csv", &notes).await;
    let b = ingest(&t, &session, "ids.csv", "id,v\n1,a\n2,b\n3,c\n").await;
    let done = t
        .run_completed(
            &session,
            "data_mash.create",
            json!({"content_refs": [a, b]}),
        )
        .await;
    let mash = &done["artifacts"]["mash"]["semantic_payload"];
    assert_eq!(mash["record_count"], 3);
    assert_eq!(mash["sample_records"].as_array().unwrap().len(), 2);
    assert_eq!(mash["sample_truncated"], true);
    assert_eq!(mash["sample_records"][1]["id"], 2);
    t.app.shutdown().await;
}
