//! A procedure as a workflow graph, and back. Nodes: `start`, a task per step (`step_<n>`,
//! with its number, role, expected output and text in `metadata`), a gateway before each
//! decision (`gateway_<n>`, labelled with its condition), `end`. Edges carry `from`/`to` (the
//! web frontend's graph) and `source`/`target` (its text view); a gateway's edges are
//! labelled `yes` (to the step it guards) and `no` (past it).

use serde_json::{json, Value};

use super::procedure::{Decision, Procedure, Step};

fn edge(from: &str, to: &str, label: Option<&str>) -> Value {
    let mut e = json!({"from": from, "to": to, "source": from, "target": to});
    if let Some(l) = label {
        e["label"] = json!(l);
    }
    e
}

/// The graph of a procedure, as the web frontend renders it.
pub fn graph(id: &str, p: &Procedure) -> Value {
    let mut nodes = vec![json!({"id": "start", "label": "Start", "type": "start"})];
    let mut edges = Vec::new();
    // Where the flow arrives next, and the gateway (if any) whose `no` branch also arrives.
    let mut from = "start".to_string();
    let mut pending_no: Option<String> = None;
    for s in &p.steps {
        let task = format!("step_{}", s.number);
        let entry = match &s.decision {
            Some(d) => {
                let gateway = format!("gateway_{}", s.number);
                nodes.push(json!({"id": gateway, "label": format!("{}?", d.condition),
                    "type": "gateway", "metadata": {"step_number": s.number,
                    "condition": d.condition, "then": d.then}}));
                edges.push(json!({"from": gateway, "to": task, "source": gateway,
                    "target": task, "label": "yes", "condition": d.condition}));
                gateway
            }
            None => task.clone(),
        };
        edges.push(edge(&from, &entry, None));
        if let Some(g) = pending_no.take() {
            edges.push(edge(&g, &entry, Some("no")));
        }
        nodes.push(
            json!({"id": task, "label": s.title, "type": "task", "metadata": {
            "step_number": s.number, "responsible_role": s.role, "expected_output": s.output,
            "description": s.description}}),
        );
        if s.decision.is_some() {
            pending_no = Some(format!("gateway_{}", s.number));
        }
        from = task;
    }
    nodes.push(json!({"id": "end", "label": "End", "type": "end"}));
    edges.push(edge(&from, "end", None));
    if let Some(g) = pending_no {
        edges.push(edge(&g, "end", Some("no")));
    }
    json!({"workflow_id": id, "name": p.title, "description": format!("{} steps", p.steps.len()),
        "nodes": nodes, "edges": edges})
}

/// A workflow graph (ours, or one shaped like it) read back into a procedure: its tasks in
/// step order, each gateway's condition on the task its `yes` edge leads to.
pub fn from_graph(g: &Value) -> Result<Procedure, String> {
    let nodes = g["nodes"].as_array().ok_or("the workflow has no nodes")?;
    let edges = g["edges"].as_array().cloned().unwrap_or_default();
    // (A graph of a procedure has at most about four nodes and edges a step.)
    let cap = 4 * super::procedure::MAX_STEPS;
    if nodes.len() > cap || edges.len() > 2 * cap {
        return Err(format!(
            "the workflow has more than {cap} nodes or {} edges",
            2 * cap
        ));
    }
    let end_of = |e: &Value, a: &str, b: &str| e[a].as_str().or(e[b].as_str()).map(str::to_string);
    let mut steps = Vec::new();
    for n in nodes {
        if n["type"] != "task" && n["type"].as_str().is_some() {
            continue;
        }
        let id = n["id"].as_str().unwrap_or_default();
        let m = &n["metadata"];
        let label = n["label"].as_str().unwrap_or(id).to_string();
        let decision = edges
            .iter()
            .find(|e| end_of(e, "to", "target").as_deref() == Some(id) && e["label"] == "yes")
            .and_then(|e| {
                let gateway = end_of(e, "from", "source")?;
                let node = nodes.iter().find(|x| x["id"] == gateway.as_str())?;
                let condition = e["condition"]
                    .as_str()
                    .or(node["metadata"]["condition"].as_str())
                    .map(str::to_string)
                    .or_else(|| {
                        node["label"]
                            .as_str()
                            .map(|l| l.trim_end_matches('?').to_string())
                    })?;
                let then = node["metadata"]["then"]
                    .as_str()
                    .or(m["description"].as_str())
                    .unwrap_or(&label)
                    .to_string();
                Some(Decision { condition, then })
            });
        steps.push(Step {
            number: m["step_number"]
                .as_u64()
                .map_or(steps.len() + 1, |n| n as usize),
            title: label.clone(),
            description: m["description"].as_str().unwrap_or(&label).to_string(),
            role: m["responsible_role"].as_str().map(str::to_string),
            output: m["expected_output"].as_str().map(str::to_string),
            decision,
        });
    }
    if steps.is_empty() {
        return Err("the workflow has no task".into());
    }
    steps.sort_by_key(|s| s.number);
    // Numbers as given may repeat or skip: the steps are numbered in their order.
    for (i, s) in steps.iter_mut().enumerate() {
        s.number = i + 1;
    }
    Ok(Procedure {
        title: g["name"].as_str().unwrap_or("Procedure").to_string(),
        steps,
    })
}
