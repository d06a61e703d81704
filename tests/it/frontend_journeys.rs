//! The web frontend's journeys (../shared/FRONTEND-JOURNEYS.md) replayed exactly as the UI
//! sends them: its requests (no Bearer on submits and polls, `tenant_id` in the body), its
//! polling, and the fields it reads. Issue 16 grows this file journey by journey.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::common::ws::{self, connect, send, Ws};
use crate::common::*;

const UI: &str = "http://localhost:3000";

/// A registered user's upgraded session, as J1 leaves it: (session, tenant, access token).
/// The CORS preflights come first, as the browser sends them.
pub async fn signed_in(t: &TestApp) -> (String, String, String) {
    let http = &t.http;
    for (path, method, headers) in [
        ("/api/intent/submit", "POST", "content-type"),
        (
            "/api/session/x/upgrade",
            "PATCH",
            "authorization,content-type",
        ),
    ] {
        let r = http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", t.exp))
            .header("Origin", UI)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", headers)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let allowed = |h: &str| {
            r.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_ascii_lowercase())
                .unwrap_or_default()
        };
        assert_eq!(allowed("access-control-allow-origin"), UI);
        assert!(allowed("access-control-allow-methods").contains(&method.to_ascii_lowercase()));
        assert!(allowed("access-control-allow-headers").contains("authorization"));
    }
    let s = anonymous_session(http, &t.exp).await;
    let r = http
        .post(format!("{}/api/auth/register", t.exp))
        .header("Origin", UI)
        .json(&json!({"name": "Ada Lovelace",
            "email": format!("ada+{}@example.com", uuid::Uuid::new_v4().simple()),
            "password": "analytical-engine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let auth: Value = r.json().await.unwrap();
    let token = auth["access_token"].as_str().unwrap().to_string();
    let user = auth["user"]["id"].as_str().unwrap().to_string();
    let tenant = auth["user"]["tenant_id"].as_str().unwrap().to_string();
    let r = http
        .patch(format!("{}/api/session/{s}/upgrade", t.exp))
        .header("Origin", UI)
        .bearer_auth(&token)
        .json(
            &json!({"user_id": user, "tenant_id": tenant, "access_token": token,
            "metadata": {"email": "ada@example.com", "name": "Ada Lovelace"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let up: Value = r.json().await.unwrap();
    let session = up["session_id"].as_str().unwrap().to_string();
    (session, tenant, token)
}

/// SUBMIT as the UI sends it (no Authorization header); the execution id.
pub async fn submit(t: &TestApp, s: &str, tenant: &str, intent: &str, params: Value) -> String {
    let r = t
        .http
        .post(format!("{}/api/intent/submit", t.exp))
        .header("Origin", UI)
        .json(
            &json!({"intent_type": intent, "tenant_id": tenant, "session_id": s,
            "parameters": params}),
        )
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert!((200..300).contains(&status), "{intent}: {status} {body}");
    body["execution_id"].as_str().unwrap().to_string()
}

/// POLL until a terminal status, as the UI does (no header); the status must be `completed`.
pub async fn poll_completed(t: &TestApp, e: &str) -> Value {
    let url = format!("{}/api/execution/{e}/status", t.exp);
    let done = eventually(Duration::from_secs(30), || async {
        let body: Value = t.http.get(&url).send().await.ok()?.json().await.ok()?;
        matches!(
            body["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        )
        .then_some(body)
    })
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    done
}

/// J3: upload a CSV as hex, Save it, see it in the file list.
async fn j3_upload_save_and_list() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, token) = signed_in(&t).await;
    let csv = "id,region,amount\n1,north,10\n2,south,20\n";
    let e = submit(
        &t,
        &s,
        &tenant,
        "ingest_file",
        json!({"ingestion_type": "upload", "file_content": hex::encode(csv),
            "ui_name": "sales.csv", "file_type": "spreadsheet", "mime_type": "text/csv",
            "filename": "sales.csv"}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let file = &done["artifacts"]["file"]["semantic_payload"];
    let f = file["file_id"].as_str().unwrap().to_string();
    let bc = file["boundary_contract_id"].as_str().unwrap().to_string();
    assert_eq!(file["materialization_pending"], true, "{file}");

    let e = submit(
        &t,
        &s,
        &tenant,
        "save_materialization",
        json!({"file_id": f, "boundary_contract_id": bc}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let saved = &done["artifacts"]["materialization"]["semantic_payload"];
    assert_eq!(saved["success"], true, "{saved}");
    assert!(saved["materialization_id"].is_string());

    let e = submit(
        &t,
        &s,
        &tenant,
        "list_files",
        json!({"tenant_id": tenant, "session_id": s}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let files = done["artifacts"]["file_list"]["semantic_payload"]["files"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(files.len(), 1, "{files:?}");
    let item = &files[0];
    // 39 bytes: "id,region,amount\n" (17) + "1,north,10\n" (11) + "2,south,20\n" (11).
    for (field, want) in [
        ("file_id", json!(f)),
        ("file_name", json!("sales.csv")),
        ("file_type", json!("spreadsheet")),
        ("mime_type", json!("text/csv")),
        ("file_size", json!(39)),
        ("boundary_contract_id", json!(bc)),
        ("materialization_pending", json!(false)),
        ("status", json!("saved")),
    ] {
        assert_eq!(item[field], want, "{field}: {item}");
    }
    assert!(item["created_at"].is_string());

    // The dashboard, exactly as the UI asks (no credential): no tenant's artifact is listed
    // without its token, and the answer is an empty list the page renders, not an error.
    let dashboard = json!({"tenant_id": tenant, "artifact_type": "file",
        "lifecycle_state": "READY", "limit": 100, "offset": 0});
    let r = t
        .http
        .post(format!("{}/api/artifact/list", t.exp))
        .header("Origin", UI)
        .json(&dashboard)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["artifacts"], json!([]), "{listed}");
    assert_eq!(
        (&listed["total"], &listed["limit"]),
        (&json!(0), &json!(100))
    );
    assert!(listed["notice"].as_str().unwrap().contains("Bearer"));
    // With the token: the saved file, named by its schema, READY meaning saved.
    let listed = dashboard_rows(&t, &token, &dashboard).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let row = &listed[0];
    assert_eq!(row["artifact_id"], f.as_str());
    assert_eq!(row["artifact_type"], "file");
    assert_eq!(row["lifecycle_state"], "active");
    assert_eq!(row["semantic_descriptor"]["schema"], "sales.csv");
    assert!(row["created_at"].is_string() && row["updated_at"].is_string());

    // Once parsed, the item says so and names the parse.
    let e = submit(
        &t,
        &s,
        &tenant,
        "parse_content",
        json!({"file_id": f, "file_reference": format!("file:{tenant}:{s}:{f}"),
            "parse_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let pf = done["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = submit(&t, &s, &tenant, "list_files", json!({})).await;
    let done = poll_completed(&t, &e).await;
    let item = &done["artifacts"]["file_list"]["semantic_payload"]["files"][0];
    assert_eq!(
        (&item["status"], &item["parsed_file_id"]),
        (&json!("parsed"), &json!(pf))
    );

    // J10: archive the dashboard row; it leaves the dashboard.
    let e = submit(&t, &s, &tenant, "archive_file", json!({"file_id": f})).await;
    poll_completed(&t, &e).await;
    assert_eq!(
        dashboard_rows(&t, &token, &dashboard).await,
        Vec::<Value>::new()
    );
    t.app.shutdown().await;
}

/// The dashboard's `POST /api/artifact/list` with the user's token; its rows.
async fn dashboard_rows(t: &TestApp, token: &str, body: &Value) -> Vec<Value> {
    let r = t
        .http
        .post(format!("{}/api/artifact/list", t.exp))
        .header("Origin", UI)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let listed: Value = r.json().await.unwrap();
    listed["artifacts"].as_array().unwrap().clone()
}

/// An upload, as J3 steps 1 and 2 send it, saved; (file id, boundary contract id).
pub async fn upload_saved(
    t: &TestApp,
    s: &str,
    tenant: &str,
    name: &str,
    content: &[u8],
    file_type: &str,
) -> (String, String) {
    let e = submit(
        t,
        s,
        tenant,
        "ingest_file",
        json!({"ingestion_type": "upload", "file_content": hex::encode(content),
            "ui_name": name, "file_type": file_type, "mime_type": "text/csv", "filename": name}),
    )
    .await;
    let done = poll_completed(t, &e).await;
    let file = &done["artifacts"]["file"]["semantic_payload"];
    let f = file["file_id"].as_str().unwrap().to_string();
    let bc = file["boundary_contract_id"].as_str().unwrap().to_string();
    let e = submit(
        t,
        s,
        tenant,
        "save_materialization",
        json!({"file_id": f, "boundary_contract_id": bc}),
    )
    .await;
    poll_completed(t, &e).await;
    (f, bc)
}

/// A CSV uploaded, saved and parsed as the UI does it; (file id, parsed file id).
pub async fn upload_parsed(
    t: &TestApp,
    s: &str,
    tenant: &str,
    name: &str,
    csv: &[u8],
) -> (String, String) {
    let (f, _) = upload_saved(t, s, tenant, name, csv, "spreadsheet").await;
    let e = submit(t, s, tenant, "parse_content", json!({"file_id": f})).await;
    let done = poll_completed(t, &e).await;
    let pf = done["artifacts"]["parsed_file"]["parsed_file_id"]
        .as_str()
        .unwrap()
        .to_string();
    (f, pf)
}

/// J4: parse, then preview through the parsed id sent as `file_id`; a bad file's parse fails
/// with an error string.
async fn j4_parse_and_preview() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, token) = signed_in(&t).await;
    let (f, _) = upload_saved(
        &t,
        &s,
        &tenant,
        "sales.csv",
        b"id,region,amount\n1,north,10\n2,south,20\n",
        "spreadsheet",
    )
    .await;
    let e = submit(
        &t,
        &s,
        &tenant,
        "parse_content",
        json!({"file_id": f, "file_reference": format!("file:{tenant}:{s}:{f}"),
            "parse_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let pf = done["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = submit(
        &t,
        &s,
        &tenant,
        "get_parsed_file",
        json!({"file_id": pf, "file_reference": format!("parsed:{tenant}:{s}:{pf}")}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let artifacts = &done["artifacts"];
    assert!(artifacts["parsed_content"].is_object());
    let preview = &artifacts["preview"];
    assert_eq!(
        preview["rows"],
        json!([["1", "north", "10"], ["2", "south", "20"]])
    );
    assert_eq!(preview["columns"], json!(["id", "region", "amount"]));
    for (field, want) in [
        ("total_rows", 2),
        ("total_columns", 3),
        ("preview_rows", 2),
        ("preview_columns", 3),
    ] {
        assert_eq!(preview[field], want, "{field}: {preview}");
    }
    // The reload's session read hands the Insights tabs their parsed files.
    let r = t
        .http
        .get(format!("{}/api/session/{s}?tenant_id={tenant}", t.exp))
        .header("Origin", UI)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let session: Value = r.json().await.unwrap();
    assert_eq!(
        session["state"]["realm_state"]["content"]["parsedFiles"],
        json!([{"file_id": f, "parsed_file_id": pf, "parser_type": "csv",
            "ui_name": "sales.csv"}]),
        "{session}"
    );

    // The file's own id reads its latest parse too.
    let e = submit(&t, &s, &tenant, "get_parsed_file", json!({"file_id": f})).await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(done["artifacts"]["preview"]["parsed_file_id"], pf.as_str());

    // A row longer than the header: the parse fails, and says why as a string.
    let (bad, _) = upload_saved(&t, &s, &tenant, "bad.csv", b"a,b\n1,2,3\n", "spreadsheet").await;
    let e = submit(&t, &s, &tenant, "parse_content", json!({"file_id": bad})).await;
    let url = format!("{}/api/execution/{e}/status", t.exp);
    let failed = eventually(Duration::from_secs(30), || async {
        let body: Value = t.http.get(&url).send().await.ok()?.json().await.ok()?;
        (body["status"] == "failed").then_some(body)
    })
    .await;
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("bad.csv"), "{error}");
    t.app.shutdown().await;
}

/// J5: the Insights pillar on a parsed file, as the UI sends each action and reads its key.
async fn j5_insights_on_a_parsed_file() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    // 4 rows × 3 columns: one empty amount, the last row repeats the third.
    let csv = b"id,region,amount\n1,north,10\n2,south,\n3,north,30\n3,north,30\n";
    let (f, pf) = upload_parsed(&t, &s, &tenant, "quality.csv", csv).await;

    // visualize_lineage with the file's id: the file, its parse, the edge between them.
    let e = submit(&t, &s, &tenant, "visualize_lineage", json!({"file_id": f})).await;
    let done = poll_completed(&t, &e).await;
    let graph = &done["artifacts"]["lineage_visualization"]["lineage_graph"];
    let nodes = graph["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{graph}");
    assert_eq!(
        (&nodes[0]["id"], &nodes[0]["label"], &nodes[0]["type"]),
        (&json!(f), &json!("quality.csv"), &json!("file"))
    );
    assert_eq!(
        (
            &nodes[1]["id"],
            &nodes[1]["type"],
            &nodes[1]["record_count"]
        ),
        (&json!(pf), &json!("parsed_result"), &json!(4))
    );
    assert_eq!(
        graph["edges"],
        json!([{"source": f, "target": pf, "type": "parse_content"}])
    );
    // The picture: a PNG of two columns of one box (2 × 20 + 2 × 208 + 56 by 2 × 20 + 36).
    use base64::Engine;
    let image = base64::engine::general_purpose::STANDARD
        .decode(
            done["artifacts"]["lineage_visualization"]["image_base64"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (w, h) = (
        u32::from_be_bytes(image[16..20].try_into().unwrap()),
        u32::from_be_bytes(image[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (512, 76));
    if let Ok(path) = std::env::var("SYMPHAINY_SAVE_LINEAGE_PNG") {
        std::fs::write(path, &image).unwrap();
    }

    // map_relationships with the file's id, read at the top level.
    let e = submit(&t, &s, &tenant, "map_relationships", json!({"file_id": f})).await;
    let done = poll_completed(&t, &e).await;
    let graph = &done["artifacts"]["relationships"];
    let entities = graph["entities"].as_array().unwrap();
    assert!(
        entities.contains(&json!({"name": "quality.csv", "type": "dataset",
        "attributes": {"record_count": 4}})),
        "{graph}"
    );
    assert!(entities
        .iter()
        .any(|e| e["name"] == "amount" && e["type"].is_string()));
    let rels = graph["relationships"].as_array().unwrap();
    for column in ["id", "region", "amount"] {
        assert!(
            rels.contains(&json!({"source": "quality.csv", "target": column,
            "type": "has_attribute"})),
            "{column}: {graph}"
        );
    }

    let e = submit(
        &t,
        &s,
        &tenant,
        "assess_data_quality",
        json!({"parsed_file_id": pf, "source_file_id": f, "parser_type": "unknown"}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let q = &done["artifacts"]["quality_assessment"];
    // 12 cells, 1 empty: 1 − 1/12; 4 rows, 1 repeated: 1 − 1/4; no value breaks its type.
    assert_eq!(q["completeness"], 0.917, "{q}");
    assert_eq!(q["consistency"], 0.75, "{q}");
    assert_eq!(q["accuracy"], 1.0, "{q}");
    let score = q["quality_score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{q}");
    let issues = q["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{q}");
    assert_eq!(
        (
            &issues[0]["type"],
            &issues[0]["severity"],
            &issues[0]["message"]
        ),
        (
            &json!("missing_values"),
            &json!("high"),
            &json!("amount: 1 of 4 values are empty")
        )
    );
    assert_eq!(
        (&issues[1]["type"], &issues[1]["severity"]),
        (&json!("duplicate_rows"), &json!("high"))
    );

    let e = submit(
        &t,
        &s,
        &tenant,
        "analyze_structured_data",
        json!({"parsed_file_id": pf, "analysis_options":
            {"include_visualizations": true, "include_tabular_summary": true}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let a = &done["artifacts"]["structured_analysis"];
    assert!(a["summary"]["textual"]
        .as_str()
        .unwrap()
        .starts_with("4 records"));
    let said: Vec<&str> = a["insights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["description"].as_str().unwrap())
        .collect();
    // amount: 10, 30, 30 (mean 70/3); id rises with it exactly where both are there.
    for want in [
        "amount ranges from 10 to 30 (mean 23.333)",
        "75 % of region is north",
        "amount rises with id (Pearson 1, 3 records)",
    ] {
        assert!(said.contains(&want), "{want}: {said:?}");
    }

    let e = submit(
        &t,
        &s,
        &tenant,
        "interpret_data_self_discovery",
        json!({"parsed_file_id": pf, "discovery_options":
            {"include_confidence_scores": true, "include_coverage_analysis": true}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let d = &done["artifacts"]["discovery"];
    assert_eq!(d["interpretation_type"], "self_discovery");

    // Guided: the data matched against an uploaded data model (a JSON Schema). id and region
    // have the same names (1); "Total Amount" contains "amount" (0.8); "Signup Date" has no
    // column. Coverage 3 of 4; confidence (1 + 1 + 0.8) / 3.
    let model = br#"{"properties": {"ID": {"type": "integer"}, "Region": {"type": "string"},
        "Total Amount": {"type": "number"}, "Signup Date": {"type": "date"}}}"#;
    let (guide, _) = upload_saved(&t, &s, &tenant, "model.json", model, "data_model").await;
    // Parsed as the UI asks for a data model: one record per field.
    let e = submit(
        &t,
        &s,
        &tenant,
        "parse_content",
        json!({"file_id": guide, "parse_options": {"parsing_type": "data_model"},
            "parsing_type": "data_model"}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let model_parse = done["artifacts"]["parsed_file"]["parsed_file_id"].clone();
    assert_eq!(done["artifacts"]["parsed_file"]["record_count"], 4);
    let e = submit(
        &t,
        &s,
        &tenant,
        "get_parsed_file",
        json!({"file_id": model_parse}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["preview"]["columns"],
        json!(["field", "type", "required"])
    );
    assert!(done["artifacts"]["preview"]["rows"]
        .as_array()
        .unwrap()
        .contains(&json!(["Total Amount", "number", "false"])));
    let e = submit(
        &t,
        &s,
        &tenant,
        "interpret_data_guided",
        json!({"parsed_file_id": pf, "guide_id": guide, "matching_options":
            {"matching_threshold": 0.7, "include_confidence_scores": true}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let g = &done["artifacts"]["interpretation"];
    assert_eq!(g["interpretation_type"], "guided");
    assert_eq!(
        (&g["coverage_score"], &g["confidence_score"]),
        (&json!(0.75), &json!(0.933))
    );
    assert_eq!(g["missing_fields"][0]["field"], "Signup Date");
    assert_eq!(g["unmatched_data"], json!([]));
    assert!(g["relationships"].as_array().unwrap().contains(&json!(
        {"source": "amount", "target": "Total Amount", "type": "maps_to", "confidence": 0.8})));

    // Deterministic embeddings, by either of the UI's parameter names: the same fingerprint,
    // SHA-256 of the columns' "name:type" lines.
    use sha2::Digest;
    let fingerprint = hex::encode(sha2::Sha256::digest(
        b"id:integer\nregion:string\namount:integer\n",
    ));
    for (intent, params) in [
        (
            "extract_embeddings",
            json!({"parsed_file_id": pf, "parsed_file_reference": format!("parsed:{tenant}:{s}:{pf}")}),
        ),
        (
            "create_deterministic_embeddings",
            json!({"parsed_artifact_id": pf, "embedding_model": "text-embedding-ada-002",
                "chunk_strategy": "semantic"}),
        ),
    ] {
        let e = submit(&t, &s, &tenant, intent, params).await;
        let done = poll_completed(&t, &e).await;
        let emb = &done["artifacts"]["embeddings"]["semantic_payload"];
        let id = emb["embeddings_id"].as_str().unwrap();
        assert_eq!(
            emb["embedding_reference"],
            format!("embedding:{id}"),
            "{intent}"
        );
        assert_eq!(emb["schema_fingerprint"], fingerprint.as_str(), "{intent}");
        assert_eq!(emb["vector"].as_array().unwrap().len(), 64);
        assert_eq!(
            emb["columns"][1]["pattern_signature"],
            json!([{"pattern": "a+", "share": 1.0}]),
            "{intent}"
        );
    }

    // get_file_by_id: the file's record.
    let e = submit(&t, &s, &tenant, "get_file_by_id", json!({"file_id": f})).await;
    let done = poll_completed(&t, &e).await;
    let file = &done["artifacts"]["file"]["semantic_payload"];
    assert_eq!(
        (&file["file_id"], &file["file_name"]),
        (&json!(f), &json!("quality.csv"))
    );

    // The Insights file selector: `files` is a bare array naming the parse by its file.
    let e = submit(
        &t,
        &s,
        &tenant,
        "content_list_files",
        json!({"artifact_type": "parsed_content", "limit": 50, "offset": 0}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let files = done["artifacts"]["files"].as_array().unwrap();
    // The data's parse and the data model's, newest first or not: both named by their file.
    assert_eq!(files.len(), 2, "{files:?}");
    let ours = files
        .iter()
        .find(|f| f["artifact_id"] == pf.as_str())
        .unwrap();
    assert_eq!(ours["name"], "quality.csv");
    let files = [ours.clone()];
    assert_eq!(files[0]["artifact_type"], "parsed_file");
    assert!(files[0]["created_at"].is_string());
    assert_eq!(d["entities"][0]["name"], "quality.csv");
    assert!(d["relationships"]
        .as_array()
        .unwrap()
        .contains(&json!({"source": "quality.csv", "target": "region", "type": "has_attribute"})));

    // get_semantic_interpretation by the file's id: three layers and a summary.
    let e = submit(
        &t,
        &s,
        &tenant,
        "get_semantic_interpretation",
        json!({"file_id": f, "file_reference": format!("file:{tenant}:{s}:{f}")}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let i = &done["artifacts"]["interpretation"];
    assert!(
        i["summary"]
            .as_str()
            .unwrap()
            .starts_with("quality.csv: 4 records, 3 columns ("),
        "{i}"
    );
    assert_eq!(
        i["layers"]["structural"][2],
        json!({"name": "amount", "type": "integer"})
    );
    assert_eq!(i["entities"][0]["type"], "dataset");

    // map_data onto another file: ID and Amount by the same name (1), "Region Name"
    // containing "region" (0.8); the first record in the target's shape.
    let (target, _) = upload_saved(
        &t,
        &s,
        &tenant,
        "target.csv",
        b"ID,Region Name,Amount\n9,west,5\n",
        "spreadsheet",
    )
    .await;
    let e = submit(&t, &s, &tenant, "parse_content", json!({"file_id": target})).await;
    poll_completed(&t, &e).await;
    let e = submit(
        &t,
        &s,
        &tenant,
        "map_data",
        json!({"source_file_id": f,
        "target_file_id": target, "mapping_type": "schema", "quality_validation": true,
        "min_confidence": 0.5, "include_citations": true}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let m = &done["artifacts"]["mapping"]["semantic_payload"];
    let rules: Vec<(&str, &str, f64)> = m["mapping_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source_field"].as_str().unwrap(),
                r["target_field"].as_str().unwrap(),
                r["confidence"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("id", "ID", 1.0),
            ("region", "Region Name", 0.8),
            ("amount", "Amount", 1.0)
        ]
    );
    assert_eq!(
        m["mapped_data"][0],
        json!({"ID": 1, "Region Name": "north", "Amount": 10})
    );
    assert_eq!(m["quality_validation"]["records_checked"], 4);
    t.app.shutdown().await;
}

/// The UI's other upload categories, each parsed for real and previewed: a workbook, a PDF, a
/// Word document (committed fixtures, made by tests/fixtures/make_fixtures.py).
async fn documents_upload_parse_and_preview() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    let fixture = |name: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    };
    let mut parsed = std::collections::HashMap::new();
    for (name, category, parsing_type, columns, first_row) in [
        (
            "sales.xlsx",
            "spreadsheet",
            "spreadsheet",
            json!(["id", "region", "amount", "sold_on"]),
            json!(["1", "north", "10.5", "2026-01-05"]),
        ),
        (
            "report.pdf",
            "pdf",
            "pdf",
            json!(["page", "line", "text"]),
            json!(["1", "1", "Quarterly report"]),
        ),
        (
            "approval.docx",
            "document",
            "docx",
            json!(["paragraph", "style", "text"]),
            json!(["1", "Heading1", "Invoice approval"]),
        ),
    ] {
        let (f, _) = upload_saved(&t, &s, &tenant, name, &fixture(name), category).await;
        let e = submit(&t, &s, &tenant, "parse_content", json!({"file_id": f})).await;
        let done = poll_completed(&t, &e).await;
        assert_eq!(
            done["artifacts"]["parsed_file"]["parsing_type"], parsing_type,
            "{name}"
        );
        parsed.insert(
            name,
            done["artifacts"]["parsed_file"]["parsed_file_id"].clone(),
        );
        let e = submit(&t, &s, &tenant, "get_parsed_file", json!({"file_id": f})).await;
        let done = poll_completed(&t, &e).await;
        let preview = &done["artifacts"]["preview"];
        assert_eq!(preview["columns"], columns, "{name}");
        assert_eq!(preview["rows"][0], first_row, "{name}");
    }
    // The PDF's text analysed: 8 words ("12" is a number); "grew" positive, "Risks" and
    // "delays" negative: (1 − 2) / 3.
    let e = submit(
        &t,
        &s,
        &tenant,
        "analyze_unstructured_data",
        json!({"parsed_file_id": parsed["report.pdf"], "analysis_options":
            {"include_visualizations": true}, "aar_specific_analysis": false}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let a = &done["artifacts"]["unstructured_analysis"];
    assert_eq!(
        a["summary"],
        "8 words in 3 records; tone negative; 8 key terms, 0 topics, 0 entities."
    );
    assert_eq!(a["sentiment"]["score"], -0.333);
    assert!(a["insights"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["type"].is_string() && i["description"].is_string()));

    // An image is stored with its format and size, read from its content.
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, 3, 2);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[0u8; 3 * 2 * 3]).unwrap();
    }
    let e = submit(
        &t,
        &s,
        &tenant,
        "ingest_file",
        json!({"ingestion_type": "upload", "file_content": hex::encode(&png_bytes),
            "ui_name": "dot.png", "file_type": "image", "mime_type": "image/png",
            "filename": "dot.png"}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["file"]["image"],
        json!({"format": "png", "width": 3, "height": 2})
    );

    // A mainframe file in EBCDIC with its copybook, as the parser page sends them.
    let copybook = b"       01  CUSTOMER.\n           05  CUST-ID   PIC 9(3).\n           05  CUST-NAME PIC X(4).\n           05  BALANCE   PIC S9(3)V99 COMP-3.\n";
    let (cb, _) = upload_saved(&t, &s, &tenant, "customer.cpy", copybook, "binary").await;
    // "007" "ADA " -123.45, then "042" "BOB " +0.5: 10-byte records, worked out by hand.
    let data = [
        0xF0, 0xF0, 0xF7, 0xC1, 0xC4, 0xC1, 0x40, 0x12, 0x34, 0x5D, 0xF0, 0xF4, 0xF2, 0xC2, 0xD6,
        0xC2, 0x40, 0x00, 0x05, 0x0C,
    ];
    let (bin, _) = upload_saved(&t, &s, &tenant, "customers.bin", &data, "binary").await;
    let e = submit(
        &t,
        &s,
        &tenant,
        "parse_content",
        json!({"file_id": bin, "file_reference": format!("file:{tenant}:{s}:{bin}"),
            "parse_options": {}, "copybook_reference": format!("copybook:{tenant}:{s}:{cb}")}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(done["artifacts"]["parsed_file"]["parsing_type"], "copybook");
    let e = submit(&t, &s, &tenant, "get_parsed_file", json!({"file_id": bin})).await;
    let done = poll_completed(&t, &e).await;
    let preview = &done["artifacts"]["preview"];
    assert_eq!(
        preview["columns"],
        json!(["CUST-ID", "CUST-NAME", "BALANCE"])
    );
    assert_eq!(
        preview["rows"],
        json!([["7", "ADA", "-123.45"], ["42", "BOB", "0.5"]])
    );

    // Inline content is staged as an upload only for an intent that takes one: any other
    // intent gets its parameters as sent.
    let e = submit(
        &t,
        &s,
        &tenant,
        "echo",
        json!({"message": "kept", "file_content": "00ff"}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(done["status"], "completed");
    t.app.shutdown().await;
}

/// The Content page's composed journeys: upload-and-save in one execution, then parse.
async fn composed_journeys() {
    use base64::Engine;
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    let content = base64::engine::general_purpose::STANDARD.encode("a,b\n1,2\n3,4\n");
    let e = submit(
        &t,
        &s,
        &tenant,
        "compose_journey",
        json!({"journey_id": "file_upload_materialization", "journey_params": {
            "file_content": content, "file_name": "pairs.csv", "content_type": "text/csv",
            "file_type": "spreadsheet", "auto_save": true}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let file = &done["artifacts"]["file"]["semantic_payload"];
    let a = file["artifact_id"].as_str().unwrap().to_string();
    assert!(file["boundary_contract_id"].is_string());
    assert_eq!(
        done["artifacts"]["materialization"]["semantic_payload"]["success"],
        true
    );
    let e = submit(
        &t,
        &s,
        &tenant,
        "compose_journey",
        json!({"journey_id": "file_parsing", "journey_params": {"artifact_id": a, "auto_save": true}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let pf = done["artifacts"]["parsed_content"]["semantic_payload"]["parsed_artifact_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = submit(&t, &s, &tenant, "get_parsed_file", json!({"file_id": pf})).await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["preview"]["rows"],
        json!([["1", "2"], ["3", "4"]])
    );
    // Content that is not staged as an upload (a journey's base64) is held to the JSON limit
    // (64 KiB in tests), though the submit route takes larger bodies for inline files.
    let big = base64::engine::general_purpose::STANDARD.encode(vec![b'a'; 100 * 1024]);
    let r = t
        .http
        .post(format!("{}/api/intent/submit", t.exp))
        .json(
            &json!({"intent_type": "compose_journey", "tenant_id": tenant, "session_id": s,
            "parameters": {"journey_id": "file_upload_materialization", "journey_params": {
                "file_content": big, "file_name": "big.csv", "auto_save": false}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large", "{body}");

    // An unknown journey is refused before anything runs, naming the field.
    let r = t
        .http
        .post(format!("{}/api/intent/submit", t.exp))
        .json(
            &json!({"intent_type": "compose_journey", "tenant_id": tenant, "session_id": s,
            "parameters": {"journey_id": "moon_landing", "journey_params": {}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["fields"]["parameters.journey_id"].is_string(),
        "{body}"
    );
    t.app.shutdown().await;
}

/// The Insights liaison runs the new intents from chat: a document's tone, a file's lineage.
async fn insights_liaison_reads_documents_and_lineage() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, token) = signed_in(&t).await;
    let pdf = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.pdf"),
    )
    .unwrap();
    let (f, _) = upload_saved(&t, &s, &tenant, "report.pdf", &pdf, "pdf").await;
    let e = submit(&t, &s, &tenant, "parse_content", json!({"file_id": f})).await;
    poll_completed(&t, &e).await;
    let mut ws = connect(&t.exp, &format!("access_token={token}&session_id={s}")).await;
    let ask = |text: &str| {
        json!({"type": "intent", "intent": text, "session_id": "liaison_insights_1",
            "agent_type": "liaison", "metadata": {"pillar": "InsightsLiaisonAgent",
            "conversation_id": "liaison_insights_1"}})
    };
    send(&mut ws, ask("What is the tone of report.pdf?")).await;
    let r = agent_response(&mut ws).await;
    let said = r["data"]["message"].as_str().unwrap();
    assert!(
        said.starts_with("report.pdf reads negative (score -0.333)"),
        "{said}"
    );
    assert!(said.contains("Key terms: "), "{said}");
    send(&mut ws, ask("Show me the lineage of report.pdf")).await;
    let r = agent_response(&mut ws).await;
    let said = r["data"]["message"].as_str().unwrap();
    assert!(
        said.starts_with("From report.pdf: report.pdf (parsed) (parsed_result)"),
        "{said}"
    );
    t.app.shutdown().await;
}

/// J1 steps 4–5 and J2: a reload reads the session (Active: tenant and user), an unknown id
/// is 404; a wrong password is 401 with a readable `detail`, the right one signs in.
async fn j1_reload_and_j2_login() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, token) = signed_in(&t).await;
    let get = |id: String| {
        t.http
            .get(format!("{}/api/session/{id}?tenant_id={tenant}", t.exp))
            .header("Origin", UI)
            .bearer_auth(&token)
            .send()
    };
    let r = get(s.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["tenant_id"].is_string() && body["user_id"].is_string(),
        "{body}"
    );
    assert!(body["state"]["realm_state"].is_object(), "{body}");
    assert_eq!(
        get("no-such-session".into())
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    let me: Value = t
        .http
        .get(format!("{}/api/auth/me", t.exp))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let email = me["user"]["email"].as_str().unwrap().to_string();
    let login = |password: &str| {
        t.http
            .post(format!("{}/api/auth/login", t.exp))
            .header("Origin", UI)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let r = login("wrong-password").await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "invalid email or password");
    let r = login("analytical-engine").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let auth: Value = r.json().await.unwrap();
    assert!(auth["access_token"].is_string() && auth["user"]["id"].is_string());
    t.app.shutdown().await;
}

/// Every Content and Insights intent of the frontend is known and validated: sent with no
/// parameters, each is refused with 422 naming a field, never `unknown_intent`.
async fn every_frontend_intent_is_known_and_validated() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    for (intent, field) in [
        ("ingest_file", "parameters.filename"),
        ("save_materialization", "parameters.file_id"),
        ("parse_content", "parameters.file_id"),
        ("get_parsed_file", "parameters.parsed_file_id"),
        ("get_file_by_id", "parameters.file_id"),
        ("archive_file", "parameters.file_id"),
        ("delete_file", "parameters.file_id"),
        ("extract_embeddings", "parameters.parsed_file_id"),
        (
            "create_deterministic_embeddings",
            "parameters.parsed_file_id",
        ),
        ("get_semantic_interpretation", "parameters.file_id"),
        ("compose_journey", "parameters.journey_id"),
        ("visualize_lineage", "parameters.file_id"),
        ("assess_data_quality", "parameters.parsed_file_id"),
        ("interpret_data_self_discovery", "parameters.parsed_file_id"),
        ("interpret_data_guided", "parameters.guide_id"),
        ("analyze_structured_data", "parameters.parsed_file_id"),
        ("analyze_unstructured_data", "parameters.parsed_file_id"),
        ("map_relationships", "parameters.parsed_file_ids"),
        ("map_data", "parameters.source_file_id"),
        ("create_blueprint", "parameters.workflow_id"),
        ("create_solution", "parameters.solution_source"),
        ("export_artifact", "parameters.artifact_type"),
        ("process_permit", "parameters.permit_file_id"),
        ("get_pso", "parameters.pso_id"),
        ("analyze_user_intent", "parameters.message"),
        ("send_message_to_pillar_agent", "parameters.message"),
        ("get_pillar_conversation_history", "parameters.pillar"),
        ("transition_artifact_lifecycle", "parameters.artifact_id"),
    ] {
        let r = t
            .http
            .post(format!("{}/api/intent/submit", t.exp))
            .json(
                &json!({"intent_type": intent, "tenant_id": tenant, "session_id": s,
                "parameters": {}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422, "{intent}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "validation_error", "{intent}: {body}");
        assert!(body["fields"][field].is_string(), "{intent}: {body}");
    }
    // list_files and content_list_files need no parameter: they answer.
    for intent in ["list_files", "content_list_files"] {
        let e = submit(&t, &s, &tenant, intent, json!({})).await;
        poll_completed(&t, &e).await;
    }
    t.app.shutdown().await;
}

/// Every one of the 45 intent types FRONTEND.md §1 lists is known to the server: sent with
/// no parameters, each is accepted or refused for its parameters, never `unknown_intent`.
async fn all_45_frontend_intents_are_known() {
    const INTENTS: [&str; 45] = [
        "analyze_coexistence",
        "analyze_structured_data",
        "analyze_unstructured_data",
        "analyze_user_intent",
        "archive_file",
        "assess_data_quality",
        "compose_journey",
        "content_list_files",
        "create_blueprint",
        "create_deterministic_embeddings",
        "create_poc",
        "create_solution",
        "create_workflow",
        "delete_file",
        "export_artifact",
        "extract_embeddings",
        "generate_roadmap",
        "generate_sop",
        "get_conversation_history",
        "get_file_by_id",
        "get_journey_guidance",
        "get_parsed_file",
        "get_pillar_conversation_history",
        "get_pso",
        "get_semantic_interpretation",
        "get_session_details",
        "get_session_state",
        "ingest_file",
        "interpret_data_guided",
        "interpret_data_self_discovery",
        "list_files",
        "map_data",
        "map_relationships",
        "optimize_coexistence_with_content",
        "optimize_process",
        "parse_content",
        "process_operations_conversation",
        "process_operations_query",
        "process_permit",
        "process_wizard_conversation",
        "save_materialization",
        "send_message_to_pillar_agent",
        "synthesize_outcome",
        "transition_artifact_lifecycle",
        "visualize_lineage",
    ];
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    for intent in INTENTS {
        let r = t
            .http
            .post(format!("{}/api/intent/submit", t.exp))
            .json(
                &json!({"intent_type": intent, "tenant_id": tenant, "session_id": s,
                "parameters": {}}),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert!(
            status == 202 || (status == 422 && body["error"] == "validation_error"),
            "{intent}: {status} {body}"
        );
    }
    t.app.shutdown().await;
}

/// J6 steps 1–2 (issue 17, first part): an SOP uploaded as the Journey page lists it becomes
/// a workflow the graph renders; a BPMN file becomes an SOP.
async fn j6_workflow_from_an_sop_and_an_sop_from_a_workflow() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, token) = signed_in(&t).await;
    let sop = b"# Invoice approval\nRole: Accounts payable clerk\n1. The clerk receives the invoice.\n2. If the amount exceeds 500 EUR, the manager approves it.\n3. Pay the invoice.\n";
    let (fs, _) = upload_saved(&t, &s, &tenant, "invoice_sop.md", sop, "sop_workflow").await;
    let e = submit(
        &t,
        &s,
        &tenant,
        "create_workflow",
        json!({"sop_id": fs, "workflow_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let w = &done["artifacts"]["workflow"];
    assert!(w["workflow_id"].is_string());
    let nodes: Vec<(&str, &str)> = w["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        nodes,
        [
            ("start", "Start"),
            ("step_1", "The clerk receives the invoice"),
            ("gateway_2", "the amount exceeds 500 EUR?"),
            ("step_2", "the manager approves it"),
            ("step_3", "Pay the invoice"),
            ("end", "End")
        ]
    );
    assert_eq!(
        w["nodes"][4]["metadata"]["responsible_role"],
        "Accounts payable clerk"
    );
    assert!(w["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["from"] == e["source"] && e["to"] == e["target"]));
    assert!(w["bpmn_xml"]
        .as_str()
        .unwrap()
        .contains("<bpmn:exclusiveGateway id=\"gateway_2\""));
    assert!(w["mermaid"].as_str().unwrap().starts_with("flowchart TD"));

    // generate_sop from a BPMN file uploaded in the workflow slot.
    let bpmn = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leave.bpmn"),
    )
    .unwrap();
    let (fw, _) = upload_saved(&t, &s, &tenant, "leave.bpmn", &bpmn, "sop_workflow").await;
    let e = submit(
        &t,
        &s,
        &tenant,
        "generate_sop",
        json!({"workflow_id": fw, "sop_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let sop = &done["artifacts"]["sop"];
    assert!(sop["sop_id"].is_string());
    assert_eq!(
        sop["content"],
        "# Leave request\n\nRole: Employee\n1. Submit the request\nRole: Manager\n2. If More than 5 days, Approve the request\nRole: HR\n3. Record the leave\n"
    );
    // Step 3: coexistence. Step 1 receives (AI-suitable), step 2 is a decision (hybrid),
    // step 3 pays (AI-suitable): (2 + ½) ÷ 3.
    let e = submit(
        &t,
        &s,
        &tenant,
        "analyze_coexistence",
        json!({"sop_id": fs, "workflow_id": fw, "analysis_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let a = &done["artifacts"]["coexistence_analysis"];
    assert!(a["analysis_id"].is_string());
    let kinds: Vec<&str> = a["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["classification"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ai_suitable", "hybrid", "ai_suitable"]);
    assert_eq!(a["metrics"]["automation_share"], 0.833);
    let types: Vec<&str> = a["opportunities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"sop_optimization") && types.contains(&"workflow_optimization"));
    assert!(a["opportunities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["description"].is_string()));
    assert!(a["blueprint"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("Invoice approval: 3 steps"));

    // Step 4: optimize with the SOP text and the workflow object the page holds.
    let e = submit(
        &t,
        &s,
        &tenant,
        "optimize_coexistence_with_content",
        json!({"sop_content": sop["content"], "workflow_content": w.clone()}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let o = &done["artifacts"]["optimized_coexistence"];
    assert!(o["optimized_sop"]
        .as_str()
        .unwrap()
        .contains("(done by Symphainy)"));
    assert!(
        o["optimized_workflow"]["nodes"].is_array() && o["optimized_workflow"]["edges"].is_array()
    );
    assert!(o["blueprint"]["summary"].is_string());
    assert!(o["blueprint"]["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.is_string()));

    // Step 5: the blueprint, from the page's default components.
    let e = submit(
        &t,
        &s,
        &tenant,
        "create_blueprint",
        json!({"blueprint_data": {
        "name": "Coexistence Blueprint", "description": "Generated coexistence blueprint",
        "components": [{"id": "main", "type": "coexistence", "name": "Coexistence Analysis"}]},
        "blueprint_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let b = &done["artifacts"]["blueprint"];
    assert!(b["blueprint_id"].is_string());
    assert_eq!(b["metrics"]["efficiency_gain"], 0.833);
    assert_eq!(
        b["successMetrics"][0],
        "83 % of the work done or prepared by Symphainy"
    );

    // optimize_process lists the same recommendations with impact and effort.
    let e = submit(
        &t,
        &s,
        &tenant,
        "optimize_process",
        json!({"workflow_id": fs, "optimization_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let op = &done["artifacts"]["optimized_process"];
    assert_eq!(op["optimizations"].as_array().unwrap().len(), 3);
    assert!(op["process_id"].is_string());

    // The operations liaison (the Journey page's pillar value) runs the same from chat.
    let mut ws = connect(&t.exp, &format!("access_token={token}&session_id={s}")).await;
    let ask = |text: &str| {
        json!({"type": "intent", "intent": text, "session_id": "liaison_journey_1",
            "agent_type": "liaison", "metadata": {"pillar": "journey",
            "conversation_id": "liaison_journey_1"}})
    };
    send(&mut ws, ask("Where can AI help in invoice_sop.md?")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.starts_with("In invoice_sop.md, Symphainy can do 2 of 3 steps, 1 are hybrid"),
        "{said}"
    );
    assert!(said.contains("83 % of the work"), "{said}");
    send(&mut ws, ask("Turn invoice_sop.md into a workflow please")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.starts_with("I turned invoice_sop.md into a workflow of 3 steps and 1 decision: The clerk receives the invoice (clerk); the manager approves it (manager); Pay the invoice (Accounts payable clerk)."),
        "{said}"
    );

    send(&mut ws, ask("Please write an SOP from leave.bpmn")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.starts_with("Here is the SOP written from leave.bpmn:\n# Leave request\n"),
        "{said}"
    );
    send(&mut ws, ask("How can we optimize invoice_sop.md?")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(said.starts_with("For invoice_sop.md, the first optimizations: Let Symphainy do step 1: The clerk receives the invoice (impact high, effort low)"), "{said}");
    send(&mut ws, ask("Build the blueprint")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.starts_with("Blueprint ready: Invoice approval: 3 steps"),
        "{said}"
    );
    send(&mut ws, ask("First, the clerk opens the mail.")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.starts_with("Added 1 step. The draft has 1 step"),
        "{said}"
    );
    send(&mut ws, ask("Publish it")).await;
    let said = agent_response(&mut ws).await["data"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        said,
        "Published \"Procedure\" as an SOP and a workflow of 1 steps."
    );

    // Both results are in the lineage of their files.
    let e = submit(&t, &s, &tenant, "visualize_lineage", json!({"file_id": fs})).await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["lineage_visualization"]["lineage_graph"]["edges"][0]["type"],
        "create_workflow"
    );
    t.app.shutdown().await;
}

/// J6 step 3 with the optional language model configured (issue 17): the model judges only
/// the steps no word rule decides, and words the blueprint's summary; every count follows its
/// judgement. A model that fails leaves the rule-based analysis.
async fn j6_coexistence_with_a_language_model() {
    use crate::common::fake_model::fake_model;
    let sop = b"# Visit\nRole: Nurse\n1. The nurse greets the patient.\n2. The nurse enters the readings.\n3. The nurse tidies the room.\n";
    let worded = "The Visit process has 3 steps: 1 suited to Symphainy, 1 hybrid and 1 for people, with 0 hand-offs.";
    for failing in [false, true] {
        let (url, seen) = fake_model(move |body| {
            if failing {
                return None;
            }
            let system = body["messages"][0]["content"].as_str().unwrap_or("");
            Some(if system.starts_with("You classify") {
                vec![
                    "[{\"step_number\": 1, \"classification\": \"human_focused\", ".into(),
                    "\"reason\": \"greeting needs a person\"}, {\"step_number\": 3, ".into(),
                    "\"classification\": \"hybrid\", \"reason\": \"a checklist helps\"}]".into(),
                ]
            } else {
                vec![worded.into()]
            })
        })
        .await;
        let db = sqlite_db();
        let mut config = test_config(&db);
        config.llm = Some(symphainy::agents::llm::LlmSettings {
            url,
            model: "test-model".into(),
            api_key: None,
        });
        let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
        let (s, tenant, _) = signed_in(&t).await;
        let (fs, _) = upload_saved(&t, &s, &tenant, "visit.md", sop, "sop_workflow").await;
        let e = submit(
            &t,
            &s,
            &tenant,
            "analyze_coexistence",
            json!({"sop_id": fs, "workflow_id": fs, "analysis_options": {}}),
        )
        .await;
        let done = poll_completed(&t, &e).await;
        let a = &done["artifacts"]["coexistence_analysis"];
        let tasks: Vec<(&str, &str)> = a["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["classification"].as_str().unwrap(),
                    t["decided_by"].as_str().unwrap(),
                )
            })
            .collect();
        let plain = "Visit: 3 steps, 1 suited to Symphainy, 0 hybrid, 2 for people; 0 hand-offs.";
        if failing {
            // Steps 1 and 3 have no telling word: human-focused by the rules; (1 + 0) ÷ 3.
            assert_eq!(
                tasks,
                [
                    ("human_focused", "rules"),
                    ("ai_suitable", "rules"),
                    ("human_focused", "rules")
                ]
            );
            assert_eq!(a["tasks"][0]["reason"], json!(["no data-handling word"]));
            assert_eq!(a["metrics"]["automation_share"], 0.333);
            assert_eq!(a["blueprint"]["summary"], plain);
            assert_eq!(a["blueprint"]["summary_worded_by"], "rules");
        } else {
            assert_eq!(
                tasks,
                [
                    ("human_focused", "language_model"),
                    ("ai_suitable", "rules"),
                    ("hybrid", "language_model")
                ]
            );
            assert_eq!(
                a["tasks"][0]["reason"],
                json!(["language model: greeting needs a person"])
            );
            assert_eq!(a["counts"]["judged_by_model"], 2);
            assert_eq!(a["counts"]["hybrid"], 1);
            // (1 + ½ × 1) ÷ 3.
            assert_eq!(a["metrics"]["automation_share"], 0.5);
            assert_eq!(a["blueprint"]["summary"], worded);
            assert_eq!(
                a["blueprint"]["plain_summary"],
                "Visit: 3 steps, 1 suited to Symphainy, 1 hybrid, 1 for people; 0 hand-offs."
            );
            assert_eq!(a["blueprint"]["summary_worded_by"], "language_model");
            // The model was asked about steps 1 and 3 only.
            let asked = seen
                .lock()
                .iter()
                .map(|r| {
                    r["body"]["messages"][1]["content"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                })
                .find(|p| p.starts_with("Procedure: Visit"))
                .unwrap();
            assert!(asked.contains("step_number 1 (role: nurse): The nurse greets the patient."));
            assert!(asked.contains("step_number 3 (role: nurse): The nurse tidies the room."));
            assert!(!asked.contains("step_number 2"));
        }
        t.app.shutdown().await;
    }
}

/// J7: the workflow-builder wizard over five turns, the server restarted after the third,
/// then publish: an SOP and its workflow, usable by the rest of the pillar.
async fn j7_the_wizard_survives_a_restart_and_publishes() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    let wizard = "wizard-session-k3j9x2m1q";
    let turn = |t: &TestApp, message: &'static str| {
        let (s, tenant) = (s.clone(), tenant.clone());
        let http = t.http.clone();
        let exp = t.exp.clone();
        async move {
            let r = http
                .post(format!("{exp}/api/intent/submit"))
                .json(
                    &json!({"intent_type": "process_wizard_conversation", "tenant_id": tenant,
                    "session_id": s, "parameters": {"message": message, "session_id": wizard,
                    "context": {"agent_type": "WorkflowBuilderWizardAgent"}}}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 202);
            let e: Value = r.json().await.unwrap();
            e["execution_id"].as_str().unwrap().to_string()
        }
    };
    let replies = [
        (
            "We approve vendor invoices in three steps.",
            "Noted: \"We approve vendor invoices in three steps\"",
        ),
        (
            "Role: Accounts payable clerk. First, the clerk receives the invoice.",
            "Added 1 step. The draft has 1 step",
        ),
        (
            "Then if the amount exceeds 500 EUR, the manager approves it.",
            "Added 1 step. The draft has 2 steps",
        ),
    ];
    for (message, reply) in replies {
        let e = turn(&t, message).await;
        let done = poll_completed(&t, &e).await;
        let r = &done["artifacts"]["wizard_response"];
        assert!(
            r["agent_response"].as_str().unwrap().starts_with(reply),
            "{r}"
        );
    }
    // The server goes down and comes back: the draft is where it was.
    t.app.shutdown().await;
    let t = spawn_app(&db).await;
    let e = turn(&t, "Finally, the clerk pays the invoice.").await;
    let done = poll_completed(&t, &e).await;
    let r = &done["artifacts"]["wizard_response"];
    assert!(
        r["agent_response"]
            .as_str()
            .unwrap()
            .starts_with("Added 1 step. The draft has 3 steps"),
        "{r}"
    );
    let e = turn(&t, "4. File the receipt").await;
    let done = poll_completed(&t, &e).await;
    let draft = done["artifacts"]["wizard_response"]["draft_sop"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        draft,
        "# We approve vendor invoices in three steps\n\n1. The clerk receives the invoice.\n2. If the amount exceeds 500 EUR, the manager approves it.\n3. The clerk pays the invoice.\nRole: Accounts payable clerk\n4. File the receipt\n"
    );
    // Publish: the SOP and its workflow, artifacts of the session.
    let r = t
        .http
        .post(format!("{}/api/intent/submit", t.exp))
        .json(
            &json!({"intent_type": "process_operations_query", "tenant_id": tenant,
            "session_id": s, "parameters": {"query": "publish_workflow_and_sop",
            "session_id": wizard, "context": {"agent_type": "WorkflowBuilderWizardAgent"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let e: Value = r.json().await.unwrap();
    let done = poll_completed(&t, e["execution_id"].as_str().unwrap()).await;
    let q = &done["artifacts"]["query_response"];
    assert_eq!(q["sop"]["content"], draft.as_str());
    assert_eq!(q["workflow"]["nodes"].as_array().unwrap().len(), 7);
    // Questions about the session's procedures are answered from them.
    let e = submit(
        &t,
        &s,
        &tenant,
        "process_operations_conversation",
        json!({"message": "Who does what?", "conversation_id": "ops_1", "context": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["conversation_response"]["semantic_payload"]["message"],
        "Who does what: Accounts payable clerk: We approve vendor invoices in three steps 4; clerk: We approve vendor invoices in three steps 1, We approve vendor invoices in three steps 3; manager: We approve vendor invoices in three steps 2."
    );
    // The published workflow feeds the rest of the pillar.
    let e = submit(
        &t,
        &s,
        &tenant,
        "analyze_coexistence",
        json!({"workflow_id": q["workflow"]["workflow_id"]}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["coexistence_analysis"]["counts"]["total"],
        4
    );
    t.app.shutdown().await;
}

/// The next AGENT_RESPONSE on `ws`, skipping other frames.
async fn agent_response(ws: &mut Ws) -> Value {
    loop {
        let m = ws::next(ws).await.expect("the socket stays open");
        if m["event_type"] == "AGENT_RESPONSE" {
            return m;
        }
    }
}

/// No AGENT_RESPONSE arrives on `ws` for a while (the UI would show it in that panel).
async fn no_agent_response(ws: &mut Ws, why: &str) {
    let quiet = tokio::time::timeout(Duration::from_millis(1500), async {
        loop {
            match ws::next(ws).await {
                Ok(m) if m["event_type"] == "AGENT_RESPONSE" => return m,
                Ok(_) => continue,
                Err(e) => panic!("the socket closed: {e:?}"),
            }
        }
    })
    .await;
    if let Ok(m) = quiet {
        panic!("{why}: {m}");
    }
}

/// J9: the Guide panel and the Liaison panel on one session, each hearing only its own
/// replies, with the pillar values the UI's pages send and conversation ids echoed unchanged.
async fn j9_guide_and_liaison_panels() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, _, token) = signed_in(&t).await;
    let query = format!("access_token={token}&session_id={s}");
    // The frontend's `/ws` (no identity, nothing sent): accepted, and silent.
    let (mut plain, _) =
        tokio_tungstenite::connect_async(format!("{}/ws", t.exp.replace("http://", "ws://")))
            .await
            .expect("/ws upgrades");
    send(&mut plain, json!({"hello": "anyone?"})).await;
    let mut guide = connect(&t.exp, &query).await;
    let mut liaison = connect(&t.exp, &query).await;
    // The idle socket GuideAgentProvider opens.
    let mut idle = connect(&t.exp, &query).await;

    let conv = "guide_1764500000000_abcdefghi";
    send(
        &mut guide,
        json!({"type": "intent", "intent": "what can you do?", "session_id": conv,
            "agent_type": "guide", "metadata": {"conversation_id": conv}}),
    )
    .await;
    let r = agent_response(&mut guide).await;
    assert_eq!(r["type"], "runtime_event");
    assert_eq!(r["data"]["agent_type"], "guide", "{r}");
    assert_eq!(r["data"]["conversation_id"], conv, "{r}");
    assert!(!r["data"]["message"].as_str().unwrap_or_default().is_empty());

    for (pillar, agent) in [
        ("ContentLiaisonAgent", "liaison.content"),
        ("InsightsLiaisonAgent", "liaison.insights"),
        ("journey", "liaison.operations"),
        ("BusinessOutcomesLiaisonAgent", "liaison.outcomes"),
    ] {
        let conv = format!("liaison_{pillar}_1764500000000_abcdefghi");
        send(
            &mut liaison,
            json!({"type": "intent", "intent": "what can you do here?", "session_id": conv,
                "agent_type": "liaison", "metadata": {"pillar": pillar, "conversation_id": conv}}),
        )
        .await;
        let r = agent_response(&mut liaison).await;
        assert_eq!(r["data"]["agent_type"], "liaison", "{pillar}: {r}");
        assert_eq!(r["data"]["conversation_id"], conv.as_str(), "{pillar}: {r}");
        assert_eq!(
            r["data"]["agent_id"],
            format!("{agent}:{s}").as_str(),
            "{pillar}: {r}"
        );
    }
    no_agent_response(&mut guide, "the Guide panel heard a liaison's reply").await;
    no_agent_response(&mut idle, "the idle socket heard a reply").await;
    let said = tokio::time::timeout(Duration::from_millis(200), plain.next()).await;
    assert!(said.is_err(), "/ws said something: {said:?}");
    no_agent_response(
        &mut liaison,
        "the Liaison panel heard more than its replies",
    )
    .await;

    // A socket that opts in hears every conversation; a replay still has everything.
    let mut all = connect(&t.exp, &format!("{query}&conversations=all")).await;
    send(
        &mut guide,
        json!({"type": "intent", "intent": "and now?", "session_id": conv,
            "agent_type": "guide", "metadata": {"conversation_id": conv}}),
    )
    .await;
    assert_eq!(
        agent_response(&mut all).await["data"]["conversation_id"],
        conv
    );
    assert_eq!(
        agent_response(&mut guide).await["data"]["conversation_id"],
        conv
    );
    let mut replay = connect(&t.exp, &format!("{query}&after_seq=0")).await;
    let mut replies = 0;
    while replies < 6 {
        agent_response(&mut replay).await;
        replies += 1;
    }
    t.app.shutdown().await;
}

/// Polls until terminal; the final status, whatever it is.
async fn poll_end(t: &TestApp, e: &str) -> Value {
    let url = format!("{}/api/execution/{e}/status", t.exp);
    eventually(std::time::Duration::from_secs(30), || async {
        let body: Value = t.http.get(&url).send().await.ok()?.json().await.ok()?;
        matches!(body["status"].as_str(), Some("completed" | "failed")).then_some(body)
    })
    .await
}

fn png_size(b64: &str) -> (u32, u32) {
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    )
}

/// The weeks of a recommendation's effort (1 / 2 / 4).
fn weeks(effort: &str) -> u64 {
    match effort {
        "low" => 1,
        "medium" => 2,
        _ => 4,
    }
}

/// J8, Business Outcomes (FRONTEND-JOURNEYS.md), after J5 and J6 in the same session:
/// synthesis, roadmap, POC, the outcome blueprint, a solution and the three exports, with
/// the fields the UI reads and values worked out from the session's own artifacts by the
/// rules in docs/outcomes-pillar.md; the download links open without a token and refuse a
/// changed or expired link; another tenant cannot export this session's outcomes.
async fn j8_business_outcomes() {
    let db = sqlite_db();
    let config = test_config(&db);
    let secret = config.experience.jwt_secret.expose_secret().to_string();
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let (s, tenant, session_token) = signed_in(&t).await;

    // J5: a file with no amount at all and a repeated row, parsed and assessed: two issues.
    let csv = b"id,region,amount\n1,north,\n2,south,\n3,north,\n3,north,\n";
    let (_, pf) = upload_parsed(&t, &s, &tenant, "quality.csv", csv).await;
    let e = submit(
        &t,
        &s,
        &tenant,
        "assess_data_quality",
        json!({"parsed_file_id": pf}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let score = done["artifacts"]["quality_assessment"]["quality_score"]
        .as_f64()
        .unwrap();
    assert!(
        score < 0.9,
        "the file must be under the quality target: {score}"
    );

    // J6: an SOP, its workflow, its coexistence analysis.
    let sop = b"# Invoice approval\nRole: Accounts payable clerk\n1. The clerk receives the invoice.\n2. If the amount exceeds 500 EUR, the manager approves it.\n3. Pay the invoice in the ledger.\n";
    let (fs, _) = upload_saved(&t, &s, &tenant, "invoice_sop.md", sop, "sop_workflow").await;
    let e = submit(&t, &s, &tenant, "create_workflow", json!({"sop_id": fs})).await;
    let workflow = poll_completed(&t, &e).await["artifacts"]["workflow"].clone();
    let e = submit(
        &t,
        &s,
        &tenant,
        "analyze_coexistence",
        json!({"sop_id": fs, "workflow_id": fs, "analysis_options": {}}),
    )
    .await;
    let analysis = poll_completed(&t, &e).await["artifacts"]["coexistence_analysis"].clone();
    // receives (AI), a decision (hybrid), pays (AI): one recommendation per step.
    assert_eq!(analysis["counts"]["ai_suitable"], 2);
    assert_eq!(analysis["counts"]["hybrid"], 1);
    let recommendations = analysis["recommendations"].as_array().unwrap().clone();
    assert_eq!(recommendations.len(), 3);

    // 1. synthesize_outcome: counts from the session.
    let e = submit(
        &t,
        &s,
        &tenant,
        "synthesize_outcome",
        json!({"synthesis_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let syn = done["artifacts"]["synthesis_summary"].clone();
    let overall = syn["overall_synthesis"].as_str().unwrap().to_string();
    assert_eq!(syn["content_summary"]["files"], 2);
    assert_eq!(syn["content_summary"]["parsed_files"], 1);
    assert_eq!(syn["content_summary"]["records"], 4);
    assert_eq!(syn["insights_summary"]["quality_assessments"], 1);
    assert_eq!(syn["insights_summary"]["issues"], 2);
    assert_eq!(syn["insights_summary"]["average_quality_score"], score);
    assert_eq!(syn["journey_summary"]["workflows"], 1);
    assert_eq!(syn["journey_summary"]["coexistence_analyses"], 1);
    assert_eq!(
        syn["realm_visuals"]["content_visual"]["visual_type"],
        "data_mash_tutorial"
    );
    assert_eq!(
        syn["realm_visuals"]["content_visual"]["primary_visual"]["stages"][1],
        json!({"id": "parse", "name": "Parse", "count": 1, "status": "done"})
    );
    assert!(overall.contains("2 files"), "{overall}");

    // 2. generate_roadmap: Data readiness (1 week), then the recommendations by priority.
    let e = submit(
        &t,
        &s,
        &tenant,
        "generate_roadmap",
        json!({"description": overall, "synthesis": syn}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let roadmap = done["artifacts"]["roadmap"].clone();
    assert!(roadmap["semantic_payload"].is_object());
    let roadmap_id = roadmap["roadmap_id"].as_str().unwrap().to_string();
    let mut expected: Vec<(String, Vec<String>, u64)> = vec![(
        "Data readiness".into(),
        vec![format!(
            "Raise the quality of quality.csv from {score:.2} to at least 0.90 (2 issues to resolve)"
        )],
        1,
    )];
    let mut groups: BTreeMap<u8, (Vec<String>, u64)> = BTreeMap::new();
    for r in &recommendations {
        let group = match r["priority"].as_u64().unwrap() {
            1 | 2 => 0,
            3 => 1,
            _ => 2,
        };
        let g = groups.entry(group).or_default();
        g.0.push(r["recommendation"].as_str().unwrap().to_string());
        g.1 += weeks(r["effort"].as_str().unwrap());
    }
    for (group, (items, w)) in groups {
        let name = ["Quick wins", "Core automation", "Assisted steps"][group as usize];
        expected.push((name.into(), items, w));
    }
    let phases = roadmap["roadmap"]["phases"].as_array().unwrap();
    let got: Vec<(String, Vec<String>, u64)> = phases
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["milestones"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap().to_string())
                    .collect(),
                p["duration_weeks"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let total: u64 = expected.iter().map(|(_, _, w)| w).sum();
    let timeline = &roadmap["roadmap"]["timeline"];
    assert_eq!(timeline["total_weeks"], total);
    let day = |k: &str| {
        chrono::NaiveDate::parse_from_str(timeline[k].as_str().unwrap(), "%Y-%m-%d").unwrap()
    };
    assert_eq!(
        (day("end_date") - day("start_date")).num_days(),
        7 * total as i64
    );

    // 3. create_poc: the readiness item and the first automation phase.
    let e = submit(
        &t,
        &s,
        &tenant,
        "create_poc",
        json!({"description": overall, "synthesis": syn}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let poc = &done["artifacts"]["poc"];
    assert!(poc["semantic_payload"].is_object());
    let objectives: Vec<&str> = poc["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["description"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = vec![expected[0].1[0].as_str()];
    want.extend(expected[1].1.iter().map(String::as_str));
    assert_eq!(objectives, want);
    assert_eq!(
        poc["estimated_duration_weeks"].as_u64().unwrap(),
        1 + expected[1].2
    );
    assert!(poc["success_criteria"]
        .as_array()
        .unwrap()
        .contains(&json!(format!(
            "quality.csv scores at least 0.90 on data quality (now {score:.2})"
        ))));
    assert!(poc["timeline"]["start_date"].is_string() && poc["resources"].is_array());

    // 4. create_blueprint, the outcomes form: the SOP's file id.
    let e = submit(
        &t,
        &s,
        &tenant,
        "create_blueprint",
        json!({"workflow_id": fs, "description": format!("Blueprint for workflow {fs}")}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let b = done["artifacts"]["blueprint"]["semantic_payload"].clone();
    let blueprint_id = b["blueprint_id"].as_str().unwrap().to_string();
    // A column per distance from Start: start | step 1 | the gateway | step 2 and step 3 (the
    // gateway's "no" reaches step 3 directly) | end: 5 columns, 2 rows at most
    // (2 × 20 + 5 × 208 + 4 × 56 wide, 2 × 20 + 2 × 36 + 20 high); the same optimized.
    assert_eq!(
        png_size(
            b["current_state"]["workflow_chart"]["image_base64"]
                .as_str()
                .unwrap()
        ),
        (1304, 132)
    );
    assert_eq!(
        png_size(
            b["coexistence_state"]["workflow_chart"]["image_base64"]
                .as_str()
                .unwrap()
        ),
        (1304, 132)
    );
    assert!(!b["roadmap"]["phases"].as_array().unwrap().is_empty());
    let rows = b["responsibility_matrix"]["responsibilities"]
        .as_array()
        .unwrap();
    let manager = workflow["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "step_2")
        .unwrap()["metadata"]["responsible_role"]
        .clone();
    assert_eq!(
        rows[0],
        json!({"step": "1. The clerk receives the invoice", "step_number": 1,
            "classification": "ai_suitable", "human": [],
            "ai_symphainy": ["does: The clerk receives the invoice"], "external_systems": []})
    );
    assert_eq!(rows[1]["human"], json!([manager]));
    assert_eq!(rows[1]["classification"], "hybrid");
    assert_eq!(rows[2]["external_systems"], json!(["Ledger"]));

    // create_solution from the roadmap: the session's saved files and workflow, bound.
    let e = submit(
        &t,
        &s,
        &tenant,
        "create_solution",
        json!({"solution_source": "roadmap", "source_id": roadmap_id, "source_data": {},
            "solution_options": {}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let sol = &done["artifacts"]["platform_solution"];
    assert!(sol["solution_id"].is_string());
    let bindings = sol["domain_bindings"].as_array().unwrap();
    let names: Vec<(&str, &str, &str)> = bindings
        .iter()
        .map(|b| {
            (
                b["domain"].as_str().unwrap(),
                b["system_name"].as_str().unwrap(),
                b["adapter_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("content", "quality.csv", "spreadsheet"),
            ("content", "invoice_sop.md", "sop_workflow"),
            ("operations", "Invoice approval", "bpmn")
        ]
    );

    // The outcomes liaison (the page's BusinessOutcomesLiaisonAgent) runs the roadmap from
    // chat and summarises it: the same phases, weeks from the same rules.
    let token = &session_token;
    let mut ws = connect(&t.exp, &format!("access_token={token}&session_id={s}")).await;
    send(
        &mut ws,
        json!({"type": "intent", "intent": "what would the roadmap look like?",
            "session_id": "liaison_outcomes_1", "agent_type": "liaison",
            "metadata": {"pillar": "BusinessOutcomesLiaisonAgent",
                "conversation_id": "liaison_outcomes_1"}}),
    )
    .await;
    let said = agent_response(&mut ws).await;
    let message = said["data"]["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with(&format!("A roadmap of {total} weeks from ")),
        "{message}"
    );
    assert!(message.contains("1. Data readiness (1 week)"), "{message}");
    drop(ws);

    // 5. export_artifact: JSON, YAML, DOCX, each opened with no Authorization header.
    let mut urls = Vec::new();
    for (kind, id, format) in [
        ("roadmap", roadmap_id.as_str(), "json"),
        ("roadmap", roadmap_id.as_str(), "yaml"),
        ("blueprint", blueprint_id.as_str(), "docx"),
    ] {
        let e = submit(
            &t,
            &s,
            &tenant,
            "export_artifact",
            json!({"artifact_type": kind, "artifact_id": id, "export_format": format}),
        )
        .await;
        let done = poll_completed(&t, &e).await;
        let export = &done["artifacts"]["export"];
        let url = export["download_url"].as_str().unwrap().to_string();
        assert!(
            url.starts_with(&format!("{}/api/download/", t.exp)),
            "{url}"
        );
        assert!(export["filename"]
            .as_str()
            .unwrap()
            .ends_with(&format!(".{format}")));
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body = r.bytes().await.unwrap().to_vec();
        match format {
            "json" => {
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["roadmap_id"], roadmap_id);
                assert_eq!(v["roadmap"]["timeline"]["total_weeks"], total);
            }
            "yaml" => {
                let text = String::from_utf8(body).unwrap();
                assert!(
                    text.contains(&format!("roadmap_id: {roadmap_id}")),
                    "{text}"
                );
            }
            _ => {
                let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
                let mut xml = String::new();
                zip.by_name("word/document.xml")
                    .unwrap()
                    .read_to_string(&mut xml)
                    .unwrap();
                // Well-formed XML, with the headings.
                let mut reader = quick_xml::Reader::from_str(&xml);
                loop {
                    match reader.read_event().unwrap() {
                        quick_xml::events::Event::Eof => break,
                        _ => continue,
                    }
                }
                assert!(xml.contains("Blueprint: Invoice approval"));
                // In reading order: today, with Symphainy, the plan, who does what.
                let at: Vec<usize> = [
                    "Current state",
                    "Coexistence state",
                    "Roadmap",
                    "Responsibility matrix",
                ]
                .iter()
                .map(|h| xml.find(&format!(">{h}<")).unwrap_or_else(|| panic!("{h}")))
                .collect();
                assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
                assert!(xml.contains("w:val=\"Heading1\""));
                // The two charts are in the document.
                let media = zip
                    .file_names()
                    .filter(|n| n.starts_with("word/media/") && n.ends_with(".png"))
                    .count();
                assert_eq!(media, 2);
            }
        }
        urls.push(url);
    }

    // A changed link, an expired one: refused.
    let tampered = format!("{}x", urls[0]);
    let r = reqwest::get(&tampered).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_download_link");
    let export_id = {
        let token = urls[0].rsplit('/').next().unwrap();
        symphainy::security::download_tokens::DownloadKeys::new(&secret)
            .verify(token)
            .unwrap()
    };
    let expired = symphainy::security::download_tokens::DownloadKeys::new(&secret)
        .issue(
            &export_id.sub,
            &export_id.sid,
            Some(&export_id.tid),
            chrono::Utc::now().timestamp() - 1,
        )
        .unwrap();
    let r = reqwest::get(format!("{}/api/download/{expired}", t.exp))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "the download link has expired");

    // Another tenant cannot export this session's roadmap.
    let (s2, tenant2, _) = signed_in(&t).await;
    let e = submit(
        &t,
        &s2,
        &tenant2,
        "export_artifact",
        json!({"artifact_type": "roadmap", "artifact_id": roadmap_id, "export_format": "json"}),
    )
    .await;
    let done = poll_end(&t, &e).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["error"],
        format!("roadmap {roadmap_id} not found"),
        "{done}"
    );
    t.app.shutdown().await;
}

crate::both_wirings!(
    j3_upload_save_and_list,
    j4_parse_and_preview,
    j5_insights_on_a_parsed_file,
    documents_upload_parse_and_preview,
    composed_journeys,
    j1_reload_and_j2_login,
    j6_workflow_from_an_sop_and_an_sop_from_a_workflow,
    j6_coexistence_with_a_language_model,
    j7_the_wizard_survives_a_restart_and_publishes,
    every_frontend_intent_is_known_and_validated,
    all_45_frontend_intents_are_known,
    insights_liaison_reads_documents_and_lineage,
    j9_guide_and_liaison_panels,
    j8_business_outcomes
);
