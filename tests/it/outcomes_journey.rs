//! J8, Business Outcomes (FRONTEND-JOURNEYS.md), after J5 and J6 in the same session:
//! synthesis, roadmap, POC, the outcome blueprint, a solution and the three exports, with
//! the fields the UI reads and values worked out from the session's own artifacts by the
//! rules in docs/outcomes-pillar.md; the download links open without a token and refuse a
//! changed or expired link; another tenant cannot export this session's outcomes.

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::common::*;
use crate::frontend_journeys::{
    agent_response, poll_completed, send, signed_in, submit, upload_saved,
};

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

async fn j8_business_outcomes() {
    let db = sqlite_db();
    let config = test_config(&db);
    let secret = config.experience.jwt_secret.expose_secret().to_string();
    let t = spawn_app_with(config, symphainy::runtime::realms::builtin()).await;
    let (s, tenant, session_token) = signed_in(&t).await;

    // J5: a file with no amount at all and a repeated row, parsed and assessed: two issues.
    let csv = b"id,region,amount\n1,north,\n2,south,\n3,north,\n3,north,\n";
    let (f, _) = upload_saved(&t, &s, &tenant, "quality.csv", csv, "spreadsheet").await;
    let e = submit(&t, &s, &tenant, "parse_content", json!({"file_id": f})).await;
    let done = poll_completed(&t, &e).await;
    let pf = done["artifacts"]["parsed_file"]["parsed_file_id"]
        .as_str()
        .unwrap()
        .to_string();
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
    let mut ws =
        crate::common::ws::connect(&t.exp, &format!("access_token={token}&session_id={s}")).await;
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
                for heading in [
                    "Current state",
                    "Coexistence state",
                    "Responsibility matrix",
                ] {
                    assert!(xml.contains(heading), "{heading}");
                }
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

crate::both_wirings!(j8_business_outcomes);
