//! Permits, as the Insights page's permit section sends them: a two-page PDF permit
//! (`tests/fixtures/permit.pdf`, made by `make_fixtures.py`) read into its PSO, each of its six
//! obligations worked out by hand from the text and the rules in
//! `insights/permits/extract.rs`; the obligations mapped to an emissions log's columns; the
//! PSO read back with `get_pso`, and refused to another tenant.

use serde_json::{json, Value};

use crate::common::*;
use crate::frontend_journeys::{poll_completed, signed_in, submit, upload_saved};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// The fields of an obligation the test checks.
fn summary(o: &Value) -> Value {
    json!({"type": o["obligation_type"], "action": o["action"], "condition": o["condition"],
        "deadline": o["deadline"], "frequency": o["frequency"], "metric": o["metric"],
        "threshold": o["threshold"], "unit": o["unit"], "citation": o["citation"],
        "confidence": o["confidence"], "page": o["source_location"]["page"]})
}

async fn a_permit_becomes_obligations_mapped_to_a_system() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let (s, tenant, _) = signed_in(&t).await;
    let (permit, _) =
        upload_saved(&t, &s, &tenant, "permit.pdf", &fixture("permit.pdf"), "pdf").await;
    let log = b"date,voc_emissions_tons,opacity_percent\n2026-01-31,1.9,12\n2026-02-28,2.1,15\n";
    let (csv, _) = upload_saved(&t, &s, &tenant, "emissions.csv", log, "spreadsheet").await;
    let e = submit(&t, &s, &tenant, "parse_content", json!({"file_id": csv})).await;
    poll_completed(&t, &e).await;

    let e = submit(
        &t,
        &s,
        &tenant,
        "process_permit",
        json!({"permit_file_id": permit,
            "target_systems": [{"system": "Emissions log", "target_file_id": csv},
                {"system": "Old ledger", "target_file_id": "no-such-file"}],
            "processing_options": {"include_citations": true, "validation_level": "moderate"}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    let r = &done["artifacts"]["permit_processing"]["semantic_payload"];
    assert_eq!(r["permit_id"], "AQ-2026-0147");
    assert_eq!(r["permit_type"], "Air Quality Operating Permit");
    assert_eq!(r["obligations_count"], 6);
    assert_eq!(r["validation_result"]["valid"], true, "{r}");
    assert_eq!(
        r["report"]["obligations_by_type"],
        json!({"limit": 2, "monitoring": 1, "recordkeeping": 1, "reporting": 2})
    );
    // VOC emissions → voc_emissions_tons, Oven exhaust opacity → opacity_percent.
    assert_eq!(r["mapping_results"][0]["success"], true);
    assert_eq!(r["mapping_results"][0]["mapped"], 2);
    assert_eq!(
        r["mapping_results"][1],
        json!({"system": "Old ledger", "success": false, "output_file_id": null,
            "error": "file no-such-file not found"})
    );

    let pso_id = r["pso_id"].as_str().unwrap().to_string();
    let e = submit(&t, &s, &tenant, "get_pso", json!({"pso_id": pso_id})).await;
    let done = poll_completed(&t, &e).await;
    let pso = &done["artifacts"]["pso"]["semantic_payload"];
    assert_eq!(pso["issuing_authority"], "Riverside County Air District");
    assert_eq!(pso["jurisdiction"], "Riverside County, California");
    assert_eq!(
        pso["effective_period"],
        json!({"start": "2026-01-01", "end": "2030-12-31"})
    );
    assert_eq!(
        pso["covered_entities"],
        json!(["Northside Bakery Ltd.", "Northside Bakery, 12 Mill Road"])
    );
    assert_eq!(pso["legal_citations"], json!(["40 CFR 60.7"]));
    assert_eq!(pso["source_provenance"]["page_numbers"], json!([1, 2]));
    let got: Vec<Value> = pso["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .map(summary)
        .collect();
    let want = [
        // 0.6 + a frequency (per year) + a threshold + a clause: 0.9.
        json!({"type": "limit", "action": "not exceed 25 tons of VOC emissions per year",
            "condition": null, "deadline": null, "frequency": "annual", "metric": "VOC emissions",
            "threshold": 25.0, "unit": "tons", "citation": "§ 1.1", "confidence": 0.9, "page": 1}),
        json!({"type": "limit", "action": "not exceed 20 percent", "condition": null,
            "deadline": null, "frequency": null, "metric": "Oven exhaust opacity",
            "threshold": 20.0, "unit": "percent", "citation": "§ 1.2", "confidence": 0.8,
            "page": 1}),
        json!({"type": "monitoring", "action": "monitor oven temperature continuously",
            "condition": null, "deadline": null, "frequency": "continuous", "metric": null,
            "threshold": null, "unit": null, "citation": "§ 2.1", "confidence": 0.8, "page": 2}),
        // Its sentence runs over two lines.
        json!({"type": "reporting", "action": "submit a quarterly emissions report",
            "condition": null, "deadline": "no later than 30 days after the end of each quarter",
            "frequency": "quarterly", "metric": null, "threshold": null, "unit": null,
            "citation": "§ 2.2", "confidence": 0.8, "page": 2}),
        json!({"type": "reporting", "action": "notify the District",
            "condition": "a malfunction occurs", "deadline": "within 24 hours",
            "frequency": null, "metric": null, "threshold": null, "unit": null,
            "citation": "§ 2.3", "confidence": 0.8, "page": 2}),
        json!({"type": "recordkeeping", "action": "be kept for 5 years", "condition": null,
            "deadline": null, "frequency": null, "metric": null, "threshold": null,
            "unit": null, "citation": "§ 3.2; 40 CFR 60.7", "confidence": 0.7, "page": 2}),
    ];
    assert_eq!(got, want);

    // Strict validation wants a deadline or frequency on each: 1.2 and 3.2 have neither.
    let e = submit(
        &t,
        &s,
        &tenant,
        "process_permit",
        json!({"permit_file_id": permit,
            "processing_options": {"validation_level": "strict"}}),
    )
    .await;
    let done = poll_completed(&t, &e).await;
    assert_eq!(
        done["artifacts"]["permit_processing"]["validation_result"],
        json!({"valid": false, "level": "strict",
            "issues": ["OBL-002 has no deadline or frequency", "OBL-006 has no deadline or frequency"]})
    );

    // Another tenant's get_pso: not found.
    let (s2, tenant2, _) = signed_in(&t).await;
    let e = submit(&t, &s2, &tenant2, "get_pso", json!({"pso_id": pso_id})).await;
    let url = format!("{}/api/execution/{e}/status", t.exp);
    let done: Value = eventually(std::time::Duration::from_secs(30), || async {
        let b: Value = t.http.get(&url).send().await.ok()?.json().await.ok()?;
        matches!(b["status"].as_str(), Some("failed" | "completed")).then_some(b)
    })
    .await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"], format!("pso {pso_id} not found"));
    t.app.shutdown().await;
}

crate::both_wirings!(a_permit_becomes_obligations_mapped_to_a_system);
