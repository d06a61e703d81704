//! The content liaison: lists, parses and describes the session's files with real intents.

use serde_json::{json, Value};

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::intent_info::IntentInfo;
use crate::runtime::realms::content::parsed_file::ParsedFileDescriptor;
use crate::store::ExecutionState;

use super::{named_file, payload, pillar_intents, Reply};

pub(super) async fn content_liaison(
    bench: &dyn Workbench,
    u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
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

pub(super) async fn list_files(bench: &dyn Workbench) -> Result<(String, Value), String> {
    let (execution_id, items, total) = session_files(bench, 100).await?;
    Ok((
        files_message(&items, total),
        json!({"files": items, "total": total, "execution_ids": [execution_id]}),
    ))
}

/// The session's files (at most `limit`) and how many there are, with the `list_files`
/// execution that listed them.
pub(super) async fn session_files(
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
pub(super) fn files_message(items: &[Value], total: i64) -> String {
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
pub(super) fn file_names(file: &Value) -> impl Iterator<Item = &str> {
    let d = &file["semantic_descriptor"];
    [d["filename"].as_str(), d["ui_name"].as_str()]
        .into_iter()
        .flatten()
}

/// The named file's latest parse (parsing it when asked to, or when it has none yet), with the
/// executions that ran on the way.
pub(super) async fn parsed_for(
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
pub(super) async fn describe_file(
    bench: &dyn Workbench,
    name: &str,
    parse_now: bool,
) -> Result<(Value, Value), String> {
    let (parsed, executions) = parsed_for(bench, name, parse_now).await?;
    let d = ParsedFileDescriptor::read(&parsed)
        .ok_or_else(|| format!("the parse of {name} cannot be read"))?;
    let columns: Vec<String> = d
        .columns
        .iter()
        .map(|c| {
            let extra = if c.null_count > 0 {
                format!(", {} empty", c.null_count)
            } else {
                String::new()
            };
            format!("{} ({}{extra})", c.name, c.column_type.as_str())
        })
        .collect();
    let message = format!(
        "{name} has {} records as {}; columns: {}.",
        d.record_count.unwrap_or(0),
        d.parsing_type.as_deref().unwrap_or("?"),
        columns.join(", ")
    );
    let file_id = json!(d.file_id);
    Ok((
        json!(message),
        json!({"parsed_file": parsed, "file_id": file_id, "execution_ids": executions}),
    ))
}
