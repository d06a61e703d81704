//! A workflow as a Mermaid flowchart, and a Mermaid flowchart read back. Written:
//! `flowchart TD`, `start([Start])`, a box per task labelled `<n>. <title>` with its role
//! under it, a diamond per decision, `finish([End])` (`end` is a Mermaid keyword), and the
//! edges, `-->|yes|` / `-->|no|` from a decision. Read: node definitions (`id[...]`,
//! `id(...)`, `id{...}`, `id([...])`, quoted or not), edges (`a --> b`, `a -->|label| b`,
//! `a -- label --> b`), boxes as steps and diamonds as decisions on their `yes` branch; the
//! steps ordered by walking the edges from the first node.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::procedure::{Procedure, MAX_STEPS};

/// Nodes (and half the edges) a flowchart may have.
const MAX_NODES: usize = 4 * MAX_STEPS;
use super::workflow;

fn quote(s: &str) -> String {
    s.replace('"', "#quot;")
}

fn mermaid_id(id: &str) -> &str {
    if id == "end" {
        "finish"
    } else {
        id
    }
}

/// The Mermaid text of a workflow graph (`workflow::graph`).
pub fn write(graph: &Value) -> String {
    let mut out = String::from("flowchart TD\n");
    for n in graph["nodes"].as_array().into_iter().flatten() {
        let id = mermaid_id(n["id"].as_str().unwrap_or_default());
        let label = quote(n["label"].as_str().unwrap_or_default());
        let m = &n["metadata"];
        out.push_str(&match n["type"].as_str() {
            Some("start") | Some("end") => format!("    {id}([{label}])\n"),
            Some("gateway") => format!("    {id}{{\"{label}\"}}\n"),
            _ => {
                let number = m["step_number"].as_u64().unwrap_or(0);
                let role = m["responsible_role"]
                    .as_str()
                    .map(|r| format!("<br/>{}", quote(r)))
                    .unwrap_or_default();
                format!("    {id}[\"{number}. {label}{role}\"]\n")
            }
        });
    }
    for e in graph["edges"].as_array().into_iter().flatten() {
        let from = mermaid_id(e["from"].as_str().unwrap_or_default());
        let to = mermaid_id(e["to"].as_str().unwrap_or_default());
        match e["label"].as_str() {
            Some(l) => out.push_str(&format!("    {from} -->|{}| {to}\n", quote(l))),
            None => out.push_str(&format!("    {from} --> {to}\n")),
        }
    }
    out
}

/// A node definition `id<open>label<close>` at the start of `s`: (id, shape, label, rest).
fn node(s: &str) -> Option<(String, &'static str, Option<String>, &str)> {
    let s = s.trim_start();
    let id_len = s
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
        .map_or(s.len(), |(i, _)| i);
    if id_len == 0 {
        return None;
    }
    // `a-->b`: the id stops before an arrow.
    let id_len = s[..id_len].find("--").unwrap_or(id_len);
    let (id, rest) = s.split_at(id_len);
    for (open, close, shape) in [
        ("([", "])", "round"),
        ("((", "))", "round"),
        ("[", "]", "box"),
        ("{", "}", "diamond"),
        ("(", ")", "round"),
    ] {
        if let Some(body) = rest.strip_prefix(open) {
            let end = body.find(close)?;
            let label = body[..end].trim().trim_matches('"').replace("#quot;", "\"");
            return Some((
                id.to_string(),
                shape,
                Some(label),
                &body[end + close.len()..],
            ));
        }
    }
    Some((id.to_string(), "", None, rest))
}

/// A flowchart read back into a procedure.
pub fn read(text: &str) -> Result<Procedure, String> {
    let mut shapes: HashMap<String, (&'static str, String)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    let mut edges: Vec<(String, String, Option<String>)> = Vec::new();
    let mut define =
        |id: &str, shape: &'static str, label: Option<String>, order: &mut Vec<String>| {
            if known.insert(id.to_string()) {
                order.push(id.to_string());
            }
            if let Some(l) = label {
                shapes.insert(id.to_string(), (shape, l));
            }
        };
    for line in text.lines().map(str::trim) {
        // Keywords stand as whole first words: `subgraph X`, `end`, `style A …`, not `styleA`.
        let first = line.split_whitespace().next().unwrap_or("");
        if line.is_empty()
            || line.starts_with("%%")
            || matches!(
                first,
                "flowchart"
                    | "graph"
                    | "subgraph"
                    | "end"
                    | "classDef"
                    | "class"
                    | "style"
                    | "linkStyle"
                    | "click"
                    | "direction"
            )
        {
            continue;
        }
        if order.len() > MAX_NODES || edges.len() > 2 * MAX_NODES {
            return Err(format!(
                "the flowchart has more than {MAX_NODES} nodes or {} edges",
                2 * MAX_NODES
            ));
        }
        let Some((a, shape, label, rest)) = node(line) else {
            continue;
        };
        define(&a, shape, label, &mut order);
        let rest = rest.trim_start();
        // `-->|label| b`, `-- label --> b`, `--> b`.
        let (edge_label, target) = if let Some(r) = rest.strip_prefix("-->") {
            let r = r.trim_start();
            match r.strip_prefix('|') {
                Some(r2) => match r2.split_once('|') {
                    Some((l, t)) => (Some(l.trim().to_string()), t),
                    None => continue,
                },
                None => (None, r),
            }
        } else if let Some(r) = rest.strip_prefix("--") {
            match r.split_once("-->") {
                Some((l, t)) => (Some(l.trim().to_string()), t),
                None => continue,
            }
        } else {
            continue;
        };
        if let Some((b, shape, label, _)) = node(target) {
            define(&b, shape, label, &mut order);
            edges.push((a, b, edge_label));
        }
    }
    let first = order.first().ok_or("the flowchart has no nodes")?;
    // Walk from the first node, a decision's `yes` branch first.
    let is_yes = |l: &Option<String>| {
        l.as_deref()
            .is_some_and(|l| matches!(l.to_lowercase().as_str(), "yes" | "true" | "y"))
    };
    let mut out: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    for (a, b, l) in &edges {
        out.entry(a.as_str())
            .or_default()
            .push((b.as_str(), is_yes(l)));
    }
    let mut walked = super::bpmn::walk(first, &out);
    let seen: HashSet<String> = walked.iter().cloned().collect();
    walked.extend(order.iter().filter(|id| !seen.contains(*id)).cloned());
    let mut nodes = Vec::new();
    let mut number = 0;
    for id in &walked {
        let (shape, label) = shapes.get(id).cloned().unwrap_or(("box", id.clone()));
        let lower = label.to_lowercase();
        let terminal = shape == "round" && (lower == "start" || lower == "end" || lower == "stop");
        if terminal {
            nodes.push(json!({"id": id, "label": label, "type": if lower == "start" { "start" } else { "end" }}));
        } else if shape == "diamond" {
            let condition = label.trim_end_matches('?').to_string();
            nodes.push(json!({"id": id, "label": label, "type": "gateway",
                "metadata": {"condition": condition}}));
        } else {
            number += 1;
            // "3. Title<br/>role": the number is ours to give, the role comes after a break.
            let (main, role) = match label.split_once("<br/>") {
                Some((m, r)) => (m.to_string(), Some(r.trim().to_string())),
                None => (label.clone(), None),
            };
            let title = main
                .split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                .map_or(main.clone(), |(_, t)| t.to_string());
            nodes.push(
                json!({"id": id, "label": title, "type": "task", "metadata": {
                "step_number": number, "responsible_role": role, "description": title}}),
            );
        }
    }
    let edges: Vec<Value> = edges
        .iter()
        .map(|(a, b, l)| {
            let label = if is_yes(l) {
                Some("yes".to_string())
            } else {
                l.clone()
            };
            json!({"from": a, "to": b, "label": label})
        })
        .collect();
    workflow::from_graph(&json!({"name": "Procedure", "nodes": nodes, "edges": edges}))
}
