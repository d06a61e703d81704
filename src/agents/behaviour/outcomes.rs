//! The business outcomes liaison: the pillar's intents from chat, summarised from their
//! results — a synthesis of the session's work ("summary", "synthesis", "overview"), a roadmap
//! ("roadmap", "plan"), a proof of concept ("poc", "pilot", "proof"), the blueprint of the SOP
//! the user names or the session's latest ("blueprint"), and a solution registered from a new
//! roadmap ("solution"). Anything else: what the pillar can do.

use serde_json::{json, Value};

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::intent_info::IntentInfo;

use super::liaison::pillar_liaison;
use super::operations::sop_file;
use super::{payload, pillar_intents, Reply};

fn phases_text(phases: &Value) -> String {
    phases
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}. {} ({})",
                p["phase"],
                p["name"].as_str().unwrap_or("?"),
                p["duration"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) async fn outcomes_liaison(
    bench: &dyn Workbench,
    u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    let has = |ws: &[&str]| u.words.iter().any(|w| ws.contains(&w.as_str()));
    let wants_solution = has(&["solution"]);
    let wants_roadmap = has(&["roadmap", "plan", "phases"]);
    let wants_poc = has(&["poc", "pilot", "proof"]);
    let wants_blueprint = has(&["blueprint"]);
    let wants_synthesis = has(&[
        "summary",
        "synthesis",
        "synthesize",
        "synthesise",
        "overview",
    ]);
    if !(wants_solution || wants_roadmap || wants_poc || wants_blueprint || wants_synthesis) {
        return pillar_liaison(Pillar::BusinessOutcomes, u, intents);
    }
    let result = async {
        if wants_solution || wants_roadmap {
            let done = bench.run("generate_roadmap", json!({})).await?;
            let r = payload(&done, "roadmap")?;
            let timeline = &r["roadmap"]["timeline"];
            let mut message = format!(
                "A roadmap of {} from {} to {}: {}.",
                timeline["total_duration"].as_str().unwrap_or("?"),
                timeline["start_date"].as_str().unwrap_or("?"),
                timeline["end_date"].as_str().unwrap_or("?"),
                phases_text(&r["roadmap"]["phases"])
            );
            let mut facts =
                json!({"roadmap_id": r["roadmap_id"], "execution_ids": [done.execution_id]});
            if wants_solution {
                let made = bench
                    .run(
                        "create_solution",
                        json!({"solution_source": "roadmap", "source_id": r["roadmap_id"]}),
                    )
                    .await?;
                let s = payload(&made, "platform_solution")?;
                message.push_str(&format!(
                    " I registered it as a solution binding {} systems.",
                    s["domain_bindings"].as_array().map_or(0, Vec::len)
                ));
                facts["solution_id"] = s["solution_id"].clone();
            }
            return Ok((message, facts));
        }
        if wants_poc {
            let done = bench.run("create_poc", json!({})).await?;
            let p = payload(&done, "poc")?;
            let objectives: Vec<&str> = p["objectives"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["description"].as_str())
                .collect();
            return Ok((
                format!(
                    "A proof of concept over {}: {}. Success means: {}.",
                    p["timeline"]["duration"].as_str().unwrap_or("?"),
                    objectives.join("; "),
                    p["success_criteria"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                json!({"poc_id": p["poc_id"], "execution_ids": [done.execution_id]}),
            ));
        }
        if wants_blueprint {
            let (id, name) = sop_file(bench, &u).await?;
            let done = bench
                .run("create_blueprint", json!({"workflow_id": id}))
                .await?;
            let b = payload(&done, "blueprint")?;
            return Ok((
                format!(
                    "The blueprint of {name}: {} {} Phases: {}.",
                    b["current_state"]["description"].as_str().unwrap_or(""),
                    b["coexistence_state"]["description"].as_str().unwrap_or(""),
                    phases_text(&b["roadmap"]["phases"])
                ),
                json!({"blueprint_id": b["blueprint_id"], "execution_ids": [done.execution_id]}),
            ));
        }
        let done = bench.run("synthesize_outcome", json!({})).await?;
        let s = payload(&done, "synthesis_summary")?;
        Ok((
            s["overall_synthesis"].as_str().unwrap_or("").to_string(),
            json!({"synthesis_id": s["synthesis_id"], "execution_ids": [done.execution_id]}),
        ))
    }
    .await;
    let (message, facts) =
        result.unwrap_or_else(|e: String| (format!("That did not work: {e}"), json!({"error": e})));
    Reply {
        draft: Draft { message, facts },
        suggested_actions: pillar_intents(Pillar::BusinessOutcomes, intents)
            .into_iter()
            .map(|i| i.intent_type)
            .collect(),
        understanding: u,
    }
}
