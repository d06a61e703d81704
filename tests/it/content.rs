//! The content realm through the API: ingest, parse, read records, materialize, list, resolve,
//! archive, delete (after approval), the janitor, and tenant isolation.

use std::time::Duration;

use crate::common::*;
use base64::Engine;
use serde_json::{json, Value};

fn payload<'a>(done: &'a Value, key: &str) -> &'a Value {
    &done["artifacts"][key]["semantic_payload"]
}

async fn ingest(
    t: &TestApp,
    session: &str,
    tenant: Option<&str>,
    name: &str,
    content: &[u8],
) -> Value {
    let done = t
        .run_intent(
            session,
            tenant,
            "ingest_file",
            json!({"filename": name, "file_content": hex::encode(content)}),
        )
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    payload(&done, "file").clone()
}

#[tokio::test]
async fn ingest_parse_read_materialize_list_and_resolve() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(Some("acme")).await;
        let csv = b"id,name,amount\n1,\"Smith, Ada\",10.5\n2,Bob,\n3,\"multi\nline\",7\n";
        let file = ingest(&t, &session, Some("acme"), "../../etc/sales.csv", csv).await;
        assert_eq!(
            file["filename"], "sales.csv",
            "[{}] the path is dropped",
            db.name
        );
        assert_eq!(file["lifecycle_state"], "pending_materialization");
        assert_eq!(file["size_bytes"], csv.len());
        assert_eq!(file["mime_type"], "text/csv");
        assert_eq!(file["file_id"], file["artifact_id"]);
        assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
        let file_id = file["file_id"].as_str().unwrap().to_string();
        // Nothing was written under the client's name.
        assert!(!db.data_dir().join("etc").exists());

        let parsed_done = t
            .run_intent(
                &session,
                Some("acme"),
                "parse_content",
                json!({"file_id": file_id}),
            )
            .await;
        assert_eq!(parsed_done["status"], "completed", "{parsed_done}");
        let parsed = payload(&parsed_done, "parsed_file");
        assert_eq!(parsed["parsing_type"], "csv");
        assert_eq!(parsed["record_count"], 3);
        assert_eq!(parsed["file_id"], json!(file_id));
        assert_eq!(
            parsed["columns"][2],
            json!({"name": "amount", "type": "float", "null_count": 1})
        );
        let parsed_id = parsed["parsed_file_id"].as_str().unwrap().to_string();

        let page = t
            .run_intent(
                &session,
                Some("acme"),
                "get_parsed_file",
                json!({"parsed_file_id": parsed_id, "offset": 1, "limit": 5}),
            )
            .await;
        let records = &payload(&page, "parsed_file")["records"];
        assert_eq!(records.as_array().unwrap().len(), 2);
        assert_eq!(records[0], json!({"id": 2, "name": "Bob", "amount": null}));
        assert_eq!(records[1]["name"], "multi\nline");

        let m = t
            .run_intent(
                &session,
                Some("acme"),
                "save_materialization",
                json!({"file_id": file_id}),
            )
            .await;
        let mat = payload(&m, "materialization");
        assert_eq!(mat["lifecycle_state"], "active");
        assert_eq!(mat["file_id"], json!(file_id));

        let listed = t
            .run_intent(&session, Some("acme"), "list_files", json!({}))
            .await;
        let files = payload(&listed, "files");
        assert_eq!(files["total"], 1);
        let record = &files["items"][0];
        assert_eq!(record["artifact_id"], json!(file_id));
        assert_eq!(record["lifecycle_state"], "active");
        assert_eq!(
            record["materializations"][0]["materialization_id"],
            mat["materialization_id"]
        );
        assert_eq!(record["produced_by"]["intent_type"], "ingest_file");
        let all = t
            .run_intent(&session, Some("acme"), "list_artifacts", json!({}))
            .await;
        assert_eq!(
            payload(&all, "files")["total"],
            3,
            "file, parsed file, materialization"
        );

        let meta = t
            .run_intent(
                &session,
                Some("acme"),
                "retrieve_artifact_metadata",
                json!({"artifact_id": parsed_id}),
            )
            .await;
        let a = payload(&meta, "artifact");
        assert_eq!(a["artifact_type"], "parsed_file");
        assert_eq!(a["parent_artifacts"], json!([file_id]));
        assert_eq!(a["produced_by"]["intent_type"], "parse_content");
        assert_eq!(a["tenant_id"], "acme");

        let archived = t
            .run_intent(
                &session,
                Some("acme"),
                "archive_file",
                json!({"file_id": file_id}),
            )
            .await;
        assert_eq!(payload(&archived, "file")["lifecycle_state"], "archived");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_files_fail_with_clear_errors() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let ragged = ingest(&t, &session, None, "ragged.csv", b"a,b,c\n1,2,3\n4,5\n").await;
    let done = t
        .run_intent(
            &session,
            None,
            "parse_content",
            json!({"file_id": ragged["file_id"]}),
        )
        .await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["error"],
        "cannot parse ragged.csv: line 3: expected 3 fields, found 2"
    );

    let binary = ingest(
        &t,
        &session,
        None,
        "image.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    )
    .await;
    let done = t
        .run_intent(
            &session,
            None,
            "parse_content",
            json!({"file_id": binary["file_id"]}),
        )
        .await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().unwrap().contains("binary"), "{done}");

    let empty = ingest(&t, &session, None, "empty.csv", b"").await;
    let done = t
        .run_intent(
            &session,
            None,
            "parse_content",
            json!({"file_id": empty["file_id"]}),
        )
        .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(payload(&done, "parsed_file")["record_count"], 0);

    let b64 = base64::engine::general_purpose::STANDARD.encode(b"{\"a\":1}\n{\"a\":2}\n");
    let up = t
        .run_intent(
            &session,
            None,
            "content.upload",
            json!({"filename": "x.jsonl", "file_data": b64}),
        )
        .await;
    let parsed = t
        .run_intent(
            &session,
            None,
            "parse_content",
            json!({"file_id": payload(&up, "file")["file_id"]}),
        )
        .await;
    assert_eq!(payload(&parsed, "parsed_file")["parsing_type"], "jsonl");

    // Invalid parameters are refused before anything is stored.
    let (s, b) = t
        .submit(json!({"intent_type": "ingest_file", "session_id": session,
            "parameters": {"filename": "x", "file_content": "zz-not-hex"}}))
        .await;
    assert_error(s, &b, 422, "validation_error");
    assert_eq!(
        b["fields"]["parameters.file_content"],
        "must be hexadecimal"
    );
    let (s, b) = t
        .submit(
            json!({"intent_type": "parse_content", "session_id": session,
            "parameters": {"file_id": "f", "parsing_type": "xml"}}),
        )
        .await;
    assert_error(s, &b, 422, "validation_error");
    t.app.shutdown().await;
}

#[tokio::test]
async fn another_tenant_cannot_use_a_file() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let mine = t.create_session(Some("tenant-a")).await;
        let theirs = t.create_session(Some("tenant-b")).await;
        let file = ingest(&t, &mine, Some("tenant-a"), "secret.csv", b"a\n1\n").await;
        let id = file["file_id"].clone();
        for (intent, params) in [
            ("parse_content", json!({"file_id": id})),
            ("save_materialization", json!({"file_id": id})),
            ("archive_file", json!({"file_id": id})),
            ("retrieve_artifact_metadata", json!({"artifact_id": id})),
        ] {
            let done = t
                .run_intent(&theirs, Some("tenant-b"), intent, params)
                .await;
            assert_eq!(done["status"], "failed", "[{}] {intent}: {done}", db.name);
            assert!(
                done["error"].as_str().unwrap().contains("not found"),
                "{done}"
            );
        }
        let listed = t
            .run_intent(&theirs, Some("tenant-b"), "list_files", json!({}))
            .await;
        assert_eq!(payload(&listed, "files")["total"], 0);
        // Deleting someone else's file fails too (after the approval that any delete needs).
        let (_, b) = t
            .submit(
                json!({"intent_type": "delete_file", "session_id": theirs, "tenant_id": "tenant-b",
                "parameters": {"file_id": id}}),
            )
            .await;
        let eid = b["execution_id"].as_str().unwrap().to_string();
        decide(&t, &eid, true).await;
        assert_eq!(t.wait_terminal(&eid).await["status"], "failed");
        // Still there for its owner.
        let listed = t
            .run_intent(&mine, Some("tenant-a"), "list_files", json!({}))
            .await;
        assert_eq!(payload(&listed, "files")["total"], 1);
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn delete_needs_approval_and_a_refusal_keeps_the_file() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(Some("t")).await;
    let file = ingest(&t, &session, Some("t"), "keep.txt", b"hello\nworld\n").await;
    let parsed = t
        .run_intent(
            &session,
            Some("t"),
            "parse_content",
            json!({"file_id": file["file_id"]}),
        )
        .await;
    assert_eq!(parsed["status"], "completed");
    assert_eq!(stored_blob_files(&db), 1);

    for approve in [false, true] {
        let (_, b) = t
            .submit(
                json!({"intent_type": "delete_file", "session_id": session, "tenant_id": "t",
                "parameters": {"file_id": file["file_id"]}}),
            )
            .await;
        let eid = b["execution_id"].as_str().unwrap().to_string();
        decide(&t, &eid, approve).await;
        let done = t.wait_terminal(&eid).await;
        let listed = t
            .run_intent(&session, Some("t"), "list_artifacts", json!({}))
            .await;
        if approve {
            assert_eq!(done["status"], "completed", "{done}");
            assert_eq!(
                payload(&done, "file"),
                &json!({"file_id": file["file_id"], "deleted": true})
            );
            assert_eq!(
                payload(&listed, "files")["total"],
                0,
                "file and parsed file gone"
            );
            assert_eq!(
                sweep(&t).await.blobs,
                1,
                "the unreferenced blob is collected"
            );
            assert_eq!(stored_blob_files(&db), 0);
        } else {
            assert_eq!(done["status"], "cancelled");
            assert_eq!(
                payload(&listed, "files")["total"],
                2,
                "a refusal leaves everything"
            );
            assert_eq!(
                sweep(&t).await.blobs,
                0,
                "a referenced blob is never collected"
            );
            assert_eq!(stored_blob_files(&db), 1);
        }
    }
    t.app.shutdown().await;
}

#[tokio::test]
async fn the_janitor_removes_files_never_materialized() {
    let db = sqlite_db();
    let mut config = test_config(&db);
    content_settings(&mut config).unmaterialized_ttl = Duration::from_millis(200);
    content_settings(&mut config).janitor_interval = Duration::from_secs(3600);
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let session = t.create_session(None).await;
    let kept = ingest(&t, &session, None, "kept.csv", b"a\n1\n").await;
    t.run_intent(
        &session,
        None,
        "save_materialization",
        json!({"file_id": kept["file_id"]}),
    )
    .await;
    let dropped = ingest(&t, &session, None, "dropped.csv", b"b\n2\n").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let swept = sweep(&t).await;
    assert_eq!((swept.files, swept.blobs), (1, 1));
    let listed = t.run_intent(&session, None, "list_files", json!({})).await;
    let items = &payload(&listed, "files")["items"];
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["artifact_id"], kept["file_id"]);
    assert_ne!(items[0]["artifact_id"], dropped["file_id"]);
    assert_eq!(stored_blob_files(&db), 1, "the dropped file's blob is gone");
    t.app.shutdown().await;
}

#[tokio::test]
async fn an_upgraded_session_keeps_its_files() {
    for db in databases().await {
        let t = spawn_app(&db).await;
        let session = t.create_session(None).await;
        let file = ingest(&t, &session, None, "before.csv", b"a\n1\n").await;
        let r = t
            .http
            .patch(t.url(&format!("/api/session/{session}/upgrade")))
            .bearer_auth(&t.token)
            .json(&json!({"user_id": "u1", "tenant_id": "t1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let listed = t
            .run_intent(&session, Some("t1"), "list_files", json!({}))
            .await;
        assert_eq!(payload(&listed, "files")["total"], 1, "[{}]", db.name);
        let parsed = t
            .run_intent(
                &session,
                Some("t1"),
                "parse_content",
                json!({"file_id": file["file_id"]}),
            )
            .await;
        assert_eq!(parsed["status"], "completed", "{parsed}");
        t.app.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_janitor_spares_a_file_materialized_after_it_looked() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let session = t.create_session(None).await;
    let file = ingest(&t, &session, None, "late.csv", b"a\n1\n").await;
    let id = file["file_id"].as_str().unwrap();
    t.run_intent(
        &session,
        None,
        "save_materialization",
        json!({"file_id": id}),
    )
    .await;
    // The janitor's guarded delete re-checks the state in its own transaction.
    let far_future = symphainy::store::time::now_micros() + 1_000_000_000;
    let removed = t
        .app
        .store
        .artifacts()
        .delete_artifact_tree_if(id, Some(("pending_materialization", far_future)))
        .await
        .unwrap();
    assert!(!removed, "an active file is not removed");
    let listed = t.run_intent(&session, None, "list_files", json!({})).await;
    assert_eq!(payload(&listed, "files")["total"], 1);
    t.app.shutdown().await;
}
