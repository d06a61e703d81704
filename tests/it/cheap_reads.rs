//! Reads that create no execution and no event (issue 19): a parsed file's records in cursor
//! pages, and an artifact by id, on the Runtime API and on the Experience Plane.

use serde_json::{json, Value};

use crate::common::*;

/// A saved CSV of `rows` rows (`id,double`) parsed in `session`: the parsed file's id.
async fn parsed_csv(t: &TestApp, session: &str, tenant: Option<&str>, rows: usize) -> String {
    let mut csv = String::from("id,double\n");
    for i in 1..=rows {
        csv.push_str(&format!("{i},{}\n", i * 2));
    }
    let (s, acc) = t
        .submit(
            json!({"intent_type": "ingest_file", "session_id": session, "tenant_id": tenant,
            "parameters": {"filename": "rows.csv", "file_content": hex::encode(csv)}}),
        )
        .await;
    assert_eq!(s, 202, "{acc}");
    let file = acc["produces"]["file_id"].as_str().unwrap().to_string();
    t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    let (_, acc) = t
        .submit(
            json!({"intent_type": "save_materialization", "session_id": session,
            "tenant_id": tenant, "parameters": {"file_id": file}}),
        )
        .await;
    t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    let (_, acc) = t
        .submit(
            json!({"intent_type": "parse_content", "session_id": session,
            "tenant_id": tenant, "parameters": {"file_id": file}}),
        )
        .await;
    let done = t.wait_terminal(acc["execution_id"].as_str().unwrap()).await;
    done["artifacts"]["parsed_file"]["semantic_payload"]["parsed_file_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn activity(t: &TestApp, session: &str) -> (usize, i64) {
    let (_, page) = t
        .get(&format!("/api/executions?session_id={session}&limit=500"))
        .await;
    let (_, seq) = t.get(&format!("/api/session/{session}/last-seq")).await;
    (
        page["executions"].as_array().unwrap().len(),
        seq["last_seq"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn records_and_artifacts_are_read_without_an_execution() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let anon = t.create_session(None).await;
    let parsed = parsed_csv(&t, &anon, None, 250).await;
    let before = activity(&t, &anon).await;

    // 250 records in pages of 100: 100, 100, 50, in file order.
    let mut pages = Vec::new();
    let mut url = format!("/api/parsed-files/{parsed}/records?limit=100");
    loop {
        let (s, page) = t.get(&url).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["record_count"], 250);
        pages.push(page.clone());
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/parsed-files/{parsed}/records?limit=100&cursor={c}"),
            None => break,
        }
    }
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["records"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(
        pages
            .iter()
            .map(|p| p["offset"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [0, 100, 200]
    );
    let id = |r: &Value| r["id"].to_string().trim_matches('"').to_string();
    assert_eq!(id(&pages[0]["records"][0]), "1");
    assert_eq!(id(&pages[1]["records"][0]), "101");
    assert_eq!(id(&pages[2]["records"][49]), "250");
    assert_eq!(
        pages[2]["records"][49]["double"]
            .to_string()
            .trim_matches('"'),
        "500"
    );

    // The artifact itself, by GET.
    let (s, record) = t.get(&format!("/api/artifacts/{parsed}")).await;
    assert_eq!(s, 200);
    assert_eq!(record["artifact_type"], "parsed_file");

    // None of it ran an execution or stored an event.
    assert_eq!(activity(&t, &anon).await, before);

    // Bad and unknown: named fields, 404s.
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=zzz", "cursor"),
    ] {
        let (s, body) = t
            .get(&format!("/api/parsed-files/{parsed}/records?{q}"))
            .await;
        assert_error(s, &body, 422, "validation_error");
        assert!(body["fields"][field].is_string(), "{q}: {body}");
    }
    let (s, body) = t.get("/api/parsed-files/no-such-parse/records").await;
    assert_error(s, &body, 404, "parsed_file_not_found");

    // The Experience Plane: an anonymous session's parse reads without a token; a tenant's
    // parse does not, nor with another tenant's token.
    let r: Value = t
        .http
        .get(format!(
            "{}/api/parsed-files/{parsed}/records?limit=2",
            t.exp
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["records"].as_array().unwrap().len(), 2, "{r}");
    let owned = t.create_session(Some("tenant-r")).await;
    let theirs = parsed_csv(&t, &owned, Some("tenant-r"), 3).await;
    let r = t
        .http
        .get(format!("{}/api/parsed-files/{theirs}/records", t.exp))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error(
        status,
        &r.json().await.unwrap(),
        404,
        "parsed_file_not_found",
    );
    let r = t
        .http
        .get(format!("{}/api/artifacts/{theirs}", t.exp))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error(status, &r.json().await.unwrap(), 404, "artifact_not_found");
    t.app.shutdown().await;
}
