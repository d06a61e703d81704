//! What each agent does with a message. The Guide welcomes, explains what the platform can do
//! (from the registered intents), recommends a pillar and hands off to its liaison. Liaisons
//! do the work: they turn requests into real intents through the `Workbench` and report.

use serde_json::{json, Value};

use super::offline::understand;
use super::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::{AgentKind, Pillar};
use crate::runtime::contract::model::ExecutionStatus;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::registry::IntentInfo;
use crate::runtime::realms::insights::quality_report::QualityReport;
use crate::store::conversations::Turn;
use crate::store::ExecutionState;

pub struct Reply {
    pub draft: Draft,
    pub understanding: Understanding,
    pub suggested_actions: Vec<String>,
}

pub async fn respond(
    kind: AgentKind,
    text: &str,
    history: &[Turn],
    bench: &dyn Workbench,
) -> Reply {
    let intents = bench.intents();
    let understanding = understand(text, &intents);
    match kind {
        AgentKind::Guide => guide(text, history, bench, understanding, &intents),
        AgentKind::Liaison(Pillar::Content) => {
            content_liaison(bench, understanding, &intents).await
        }
        AgentKind::Liaison(Pillar::Insights) => {
            insights_liaison(bench, understanding, &intents).await
        }
        AgentKind::Liaison(p) => pillar_liaison(p, understanding, &intents),
    }
}

fn pillar_intents(p: Pillar, intents: &[IntentInfo]) -> Vec<IntentInfo> {
    intents
        .iter()
        .filter(|i| i.pillar == Some(p))
        .cloned()
        .collect()
}

fn is_affirmative(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    matches!(
        t.as_str(),
        "yes"
            | "y"
            | "ok"
            | "okay"
            | "sure"
            | "yes please"
            | "go ahead"
            | "let's do it"
            | "please do"
    )
}

fn guide(
    text: &str,
    history: &[Turn],
    bench: &dyn Workbench,
    mut u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    // Context: "yes" after a recommendation takes it.
    let recommended = history
        .iter()
        .rev()
        .find(|t| t.role == "agent")
        .and_then(|t| t.data["recommended_pillar"].as_str())
        .and_then(Pillar::parse);
    if u.target_domain.is_none() && is_affirmative(text) {
        if let Some(p) = recommended {
            u.target_domain = Some(p);
            u.confidence = 1.0;
            u.reasoning = format!(
                "you agreed to my earlier recommendation of the {} pillar",
                p.title()
            );
        }
    }
    match u.target_domain {
        Some(p) => {
            let theirs = pillar_intents(p, intents);
            let can = if theirs.is_empty() {
                "it has no intents on this server yet, but can explain what is planned".to_string()
            } else {
                theirs
                    .iter()
                    .map(|i| {
                        format!(
                            "{} ({})",
                            i.intent_type,
                            i.description.trim_end_matches('.')
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let liaison = AgentKind::Liaison(p);
            let message = format!(
                "This is {} work ({}). I'm handing you to the {} liaison, who can: {}.",
                p.title(),
                u.reasoning,
                p.title(),
                can
            );
            Reply {
                draft: Draft {
                    message,
                    facts: json!({
                        "recommended_pillar": p.as_str(),
                        "routing": {
                            "pillar": p.as_str(),
                            "agent_type": liaison.agent_type(),
                            "agent_id": liaison.id(),
                            "conversation_id": format!("{}_{}", liaison.id(), bench.session_id()),
                        },
                    }),
                },
                suggested_actions: theirs.iter().map(|i| i.intent_type.clone()).collect(),
                understanding: u,
            }
        }
        None => {
            let greeting = if history.iter().any(|t| t.role == "agent") {
                "Welcome back."
            } else {
                "Welcome to Symphainy."
            };
            let mut lines = Vec::new();
            for p in Pillar::ALL {
                let theirs = pillar_intents(p, intents);
                let what = if theirs.is_empty() {
                    "nothing yet on this server".to_string()
                } else {
                    theirs
                        .iter()
                        .map(|i| i.intent_type.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                lines.push(format!("{}: {what}", p.title()));
            }
            let message = format!(
                "{greeting} Here is what the platform can do, by pillar — {}. Tell me what you want to achieve and I'll point you to the right place.",
                lines.join("; ")
            );
            Reply {
                draft: Draft {
                    message,
                    facts: json!({"capabilities": intents.iter().map(|i| json!({"intent_type": i.intent_type, "description": i.description})).collect::<Vec<_>>()}),
                },
                suggested_actions: vec!["upload a file".into(), "list my files".into()],
                understanding: u,
            }
        }
    }
}

fn pillar_liaison(p: Pillar, u: Understanding, intents: &[IntentInfo]) -> Reply {
    let theirs = pillar_intents(p, intents);
    let message = if theirs.is_empty() {
        format!(
            "The {} pillar has no intents registered on this server yet, so I cannot run anything for it. The Guide can show you what is available now.",
            p.title()
        )
    } else {
        format!(
            "For {} I can run: {}. Tell me which, and on what.",
            p.title(),
            theirs
                .iter()
                .map(|i| format!(
                    "{} ({})",
                    i.intent_type,
                    i.description.trim_end_matches('.')
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    Reply {
        draft: Draft {
            message,
            facts: json!({"intents": theirs.iter().map(|i| &i.intent_type).collect::<Vec<_>>()}),
        },
        suggested_actions: theirs.into_iter().map(|i| i.intent_type).collect(),
        understanding: u,
    }
}

/// A word that names a file (`sales.csv`).
fn named_file(u: &Understanding) -> Option<String> {
    u.words
        .iter()
        .find(|w| w.contains('.') && !w.starts_with('.') && !w.ends_with('.'))
        .cloned()
}

async fn content_liaison(bench: &dyn Workbench, u: Understanding, intents: &[IntentInfo]) -> Reply {
    let has = |ws: &[&str]| u.words.iter().any(|w| ws.contains(&w.as_str()));
    let file = named_file(&u);
    let wants_parse = has(&["parse", "parsing", "read", "load"]);
    let wants_describe = has(&[
        "describe",
        "columns",
        "column",
        "schema",
        "summary",
        "summarize",
        "counts",
    ]);
    let wants_list = has(&["list", "files", "uploaded", "have"]);
    let result = if let (Some(name), true) = (&file, wants_parse || wants_describe) {
        describe_file(bench, name, wants_parse)
            .await
            .map(|(m, facts)| (m.as_str().unwrap_or_default().to_string(), facts))
    } else if wants_parse || wants_describe {
        list_files(bench)
            .await
            .map(|(msg, facts)| (format!("Which file? {msg}"), facts))
    } else if wants_list {
        list_files(bench).await
    } else {
        Ok((
            format!(
                "I can list your files, parse a file (say \"parse sales.csv\") and describe a parsed file's columns and counts. Content intents: {}.",
                pillar_intents(Pillar::Content, intents).iter().map(|i| i.intent_type.as_str()).collect::<Vec<_>>().join(", ")
            ),
            json!({}),
        ))
    };
    let (message, facts) =
        result.unwrap_or_else(|e| (format!("That did not work: {e}"), json!({"error": e})));
    Reply {
        draft: Draft { message, facts },
        suggested_actions: vec![
            "list my files".into(),
            "parse <file name>".into(),
            "describe <file name>".into(),
        ],
        understanding: u,
    }
}

async fn list_files(bench: &dyn Workbench) -> Result<(String, Value), String> {
    let (execution_id, items, total) = session_files(bench, 100).await?;
    Ok((
        files_message(&items, total),
        json!({"files": items, "total": total, "execution_ids": [execution_id]}),
    ))
}

/// The session's files (at most `limit`) and how many there are, with the `list_files`
/// execution that listed them.
async fn session_files(
    bench: &dyn Workbench,
    limit: i64,
) -> Result<(String, Vec<Value>, i64), String> {
    let done = bench.run("list_files", json!({ "limit": limit })).await?;
    let files = payload(&done, "files")?;
    let items = files["items"].as_array().cloned().unwrap_or_default();
    let total = files["total"].as_i64().unwrap_or(0);
    Ok((done.execution_id, items, total))
}

/// "You have N files: a.csv (active, 10 bytes), …" (the first 100 named).
fn files_message(items: &[Value], total: i64) -> String {
    if items.is_empty() {
        return "You have no files yet. Upload one and I can parse it.".to_string();
    }
    let names: Vec<String> = items
        .iter()
        .take(100)
        .map(|a| {
            format!(
                "{} ({}, {} bytes)",
                a["semantic_descriptor"]["filename"].as_str().unwrap_or("?"),
                a["lifecycle_state"].as_str().unwrap_or("?"),
                a["semantic_descriptor"]["size_bytes"]
            )
        })
        .collect();
    format!(
        "You have {total} file{}: {}.",
        if total == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// A file artifact's names: its file name and its display name.
fn file_names(file: &Value) -> impl Iterator<Item = &str> {
    let d = &file["semantic_descriptor"];
    [d["filename"].as_str(), d["ui_name"].as_str()]
        .into_iter()
        .flatten()
}

/// The named file's latest parse (parsing it when asked to, or when it has none yet), with the
/// executions that ran on the way.
async fn parsed_for(
    bench: &dyn Workbench,
    name: &str,
    parse_now: bool,
) -> Result<(Value, Vec<String>), String> {
    let (listed_by, items, _) = session_files(bench, 1000).await?;
    let Some(file) = items
        .iter()
        .find(|a| file_names(a).any(|n| n.eq_ignore_ascii_case(name)))
    else {
        return Err(format!("I found no file named {name}"));
    };
    let file_id = file["artifact_id"].as_str().unwrap_or_default().to_string();
    let mut executions = vec![listed_by];
    if !parse_now {
        let known = bench
            .run(
                "list_artifacts",
                json!({"artifact_type": "parsed_file", "lifecycle_state": "active", "limit": 1000}),
            )
            .await?;
        executions.push(known.execution_id.clone());
        let found = payload(&known, "files")?["items"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|p| p["semantic_descriptor"]["file_id"] == json!(file_id))
                    .cloned()
            })
            .map(|p| p["semantic_descriptor"].clone());
        if let Some(parsed) = found {
            return Ok((parsed, executions));
        }
    }
    let done = bench
        .run("parse_content", json!({"file_id": file_id}))
        .await?;
    executions.push(done.execution_id.clone());
    if done.status != ExecutionState::Completed {
        return Err(done
            .error
            .unwrap_or_else(|| "the parse did not complete".into()));
    }
    Ok((payload(&done, "parsed_file")?.clone(), executions))
}

/// Parses the named file (when asked, or when it has no parse yet) and describes the result.
async fn describe_file(
    bench: &dyn Workbench,
    name: &str,
    parse_now: bool,
) -> Result<(Value, Value), String> {
    let (parsed, executions) = parsed_for(bench, name, parse_now).await?;
    let columns: Vec<String> = parsed["columns"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let nulls = c["null_count"].as_i64().unwrap_or(0);
                    let extra = if nulls > 0 {
                        format!(", {nulls} empty")
                    } else {
                        String::new()
                    };
                    format!(
                        "{} ({}{extra})",
                        c["name"].as_str().unwrap_or("?"),
                        c["type"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let message = format!(
        "{name} has {} records as {}; columns: {}.",
        parsed["record_count"],
        parsed["parsing_type"].as_str().unwrap_or("?"),
        columns.join(", ")
    );
    let file_id = parsed["file_id"].clone();
    Ok((
        json!(message),
        json!({"parsed_file": parsed, "file_id": file_id, "execution_ids": executions}),
    ))
}

/// The insights liaison: data quality or analysis of a named file, with real intents.
async fn insights_liaison(
    bench: &dyn Workbench,
    u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    let has = |ws: &[&str]| u.words.iter().any(|w| ws.contains(&w.as_str()));
    let wants_quality = has(&[
        "clean",
        "cleanliness",
        "quality",
        "outlier",
        "outliers",
        "duplicate",
        "duplicates",
        "missing",
        "empty",
        "issues",
        "errors",
    ]);
    let wants_combine = has(&["combine", "merge", "mash", "join", "blend", "unify"]);
    let result = match named_file(&u) {
        _ if wants_combine => combine_files(bench, &u.words).await,
        None => list_files(bench)
            .await
            .map(|(msg, facts)| (format!("Which file should I look at? {msg}"), facts)),
        Some(name) => {
            async {
                let (parsed, mut executions) = parsed_for(bench, &name, false).await?;
                let parsed_id = parsed["parsed_file_id"].clone();
                if wants_quality {
                    let done = bench
                        .run("assess_data_quality", json!({"parsed_file_id": parsed_id}))
                        .await?;
                    executions.push(done.execution_id.clone());
                    let q = payload(&done, "quality_report")?.clone();
                    let report: QualityReport = serde_json::from_value(q.clone())
                        .map_err(|e| format!("the quality report could not be read: {e}"))?;
                    Ok((
                        quality_summary(&name, &report),
                        json!({"quality_report": q, "execution_ids": executions}),
                    ))
                } else {
                    let done = bench
                        .run(
                            "analyze_structured_data",
                            json!({"parsed_file_id": parsed_id}),
                        )
                        .await?;
                    executions.push(done.execution_id.clone());
                    let a = payload(&done, "analysis")?.clone();
                    Ok((
                        analysis_summary(&name, &a),
                        json!({"analysis": a, "execution_ids": executions}),
                    ))
                }
            }
            .await
        }
    };
    let (message, facts) =
        result.unwrap_or_else(|e: String| (format!("That did not work: {e}"), json!({"error": e})));
    Reply {
        draft: Draft { message, facts },
        suggested_actions: pillar_intents(Pillar::Insights, intents)
            .into_iter()
            .map(|i| i.intent_type)
            .collect(),
        understanding: u,
    }
}

/// The files the words name (by file name or by name without its extension), in the order
/// they are named; then a data mash over them.
async fn combine_files(bench: &dyn Workbench, words: &[String]) -> Result<(String, Value), String> {
    let (listed_by, items, total) = session_files(bench, 1000).await?;
    let mut named: Vec<(String, String)> = Vec::new();
    for w in words {
        let found = items.iter().find(|a| {
            file_names(a).any(|n| {
                let n = n.to_lowercase();
                let stem = n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s);
                n == *w || stem == w
            })
        });
        if let Some(a) = found {
            let id = a["artifact_id"].as_str().unwrap_or_default().to_string();
            if !named.iter().any(|(i, _)| *i == id) {
                let name = a["semantic_descriptor"]["filename"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                named.push((id, name));
            }
        }
    }
    if named.len() < 2 {
        let files = files_message(&items, total);
        return Err(format!(
            "name at least two of your files to combine (\"combine sales and customers\"). {files}"
        ));
    }
    let refs: Vec<&String> = named.iter().map(|(id, _)| id).collect();
    let done = bench
        .run("data_mash.create", json!({"content_refs": refs}))
        .await?;
    let mash = payload(&done, "mash")?.clone();
    Ok((
        mash_summary(&mash),
        json!({"mash": mash, "execution_ids": [listed_by, done.execution_id]}),
    ))
}

fn mash_summary(m: &Value) -> String {
    let sources = m["sources"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = sources
        .iter()
        .map(|s| {
            s["filename"]
                .as_str()
                .or(s["label"].as_str())
                .unwrap_or("?")
        })
        .collect();
    let keys: Vec<String> = m["join"]["keys"]
        .as_array()
        .map(|ks| {
            ks.iter()
                .map(|k| {
                    format!(
                        "{}.{}",
                        k["source"].as_str().unwrap_or("?"),
                        k["column"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let columns: Vec<&str> = m["columns"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let matched: Vec<String> = sources
        .iter()
        .map(|s| {
            format!(
                "{} of {} {} records matched",
                s["matched_records"],
                s["record_count"],
                s["label"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let quality: Vec<String> = sources
        .iter()
        .map(|s| {
            let score = s["quality_score"].as_f64().unwrap_or(0.0);
            format!("{} {score}", s["label"].as_str().unwrap_or("?"))
        })
        .collect();
    let conflicts: Vec<String> = m["conflicts"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| match c["kind"].as_str() {
                    Some("value") => format!(
                        "{} differs for {} record{} (the first file's value is kept)",
                        c["column"].as_str().unwrap_or("?"),
                        c["count"],
                        if c["count"] == json!(1) { "" } else { "s" }
                    ),
                    _ => c["detail"].as_str().unwrap_or("?").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "I combined {} on {} ({} join): {} records with columns {}. {}. Quality scores: {}. {} The combined data is parsed file {}.",
        names.join(" and "),
        keys.join(" = "),
        m["join"]["kind"].as_str().unwrap_or("outer"),
        m["record_count"],
        columns.join(", "),
        matched.join("; "),
        quality.join(", "),
        if conflicts.is_empty() {
            "No conflicts.".to_string()
        } else {
            format!("Conflicts: {}.", conflicts.join("; "))
        },
        m["parsed_file_id"].as_str().unwrap_or("?"),
    )
}

fn quality_summary(name: &str, q: &QualityReport) -> String {
    let mut findings = Vec::new();
    for (col, c) in &q.columns {
        let (nulls, breaks) = (c.null_count, c.type_breaks);
        let outliers = c.outliers.as_ref().map_or(0, |o| o.count);
        if nulls > 0 {
            findings.push(format!("{col} has {nulls} empty"));
        }
        if breaks > 0 {
            findings.push(if breaks == 1 {
                format!("{col} has 1 value that breaks its type")
            } else {
                format!("{col} has {breaks} values that break its type")
            });
        }
        if outliers > 0 {
            findings.push(format!(
                "{col} has {outliers} outlier{}",
                if outliers == 1 { "" } else { "s" }
            ));
        }
    }
    let dups = q.duplicate_rows;
    if dups > 0 {
        findings.push(format!(
            "{dups} duplicate row{}",
            if dups == 1 { "" } else { "s" }
        ));
    }
    let findings = if findings.is_empty() {
        "no issues found".to_string()
    } else {
        findings.join("; ")
    };
    format!(
        "{name} scores {} out of 100 for quality: {findings}.",
        json!(q.score)
    )
}

fn analysis_summary(name: &str, a: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(nums) = a["numeric"].as_object() {
        for (col, s) in nums {
            parts.push(format!(
                "{col}: mean {}, from {} to {}",
                s["mean"], s["min"], s["max"]
            ));
        }
    }
    if let Some(texts) = a["text"].as_object() {
        for (col, s) in texts {
            if let Some(top) = s["top_values"].get(0) {
                parts.push(format!(
                    "{col}: most often {} ({}×)",
                    top["value"].as_str().unwrap_or("?"),
                    top["count"]
                ));
            }
        }
    }
    if let Some(c) = a["correlations"].as_array().and_then(|cs| {
        cs.iter().max_by(|x, y| {
            let (ax, ay) = (
                x["pearson"].as_f64().unwrap_or(0.0).abs(),
                y["pearson"].as_f64().unwrap_or(0.0).abs(),
            );
            ax.total_cmp(&ay)
        })
    }) {
        parts.push(format!(
            "strongest correlation {} ~ {} (r = {})",
            c["a"].as_str().unwrap_or("?"),
            c["b"].as_str().unwrap_or("?"),
            c["pearson"]
        ));
    }
    format!(
        "{name} ({} records): {}.",
        a["record_count"],
        parts.join("; ")
    )
}

fn payload<'a>(done: &'a ExecutionStatus, key: &str) -> Result<&'a Value, String> {
    if done.status != ExecutionState::Completed {
        return Err(done
            .error
            .clone()
            .unwrap_or_else(|| format!("{} ended {}", done.intent_type, done.status)));
    }
    done.artifacts
        .as_ref()
        .and_then(|a| a.get(key))
        .map(|a| &a["semantic_payload"])
        .ok_or_else(|| format!("{} returned no {key}", done.intent_type))
}
