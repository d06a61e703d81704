//! A workflow as BPMN 2.0 XML, and BPMN XML read back. Written: one `process` with a
//! `laneSet` (a lane per role), a `startEvent`, a `task` per step (its text as
//! `documentation`, its output as a `dataOutput`-style extension), an `exclusiveGateway` per
//! decision with a `yes` flow carrying the condition as a `conditionExpression` and a `no`
//! flow, an `endEvent`, and `sequenceFlow`s between them. Read: the same elements (any task
//! kind: `task`, `userTask`, `serviceTask`, `manualTask` …), lanes giving roles, and the
//! flows walked from the start event to order the steps.

use std::collections::{BTreeMap, HashMap, HashSet};

use quick_xml::escape::escape;
use quick_xml::events::Event;
use serde_json::{json, Value};

use super::procedure::{Procedure, MAX_STEPS};
use super::workflow;

const TASKS: &[&[u8]] = &[
    b"task",
    b"userTask",
    b"serviceTask",
    b"manualTask",
    b"scriptTask",
    b"sendTask",
    b"receiveTask",
    b"businessRuleTask",
];

/// The BPMN 2.0 XML of a procedure's workflow graph (`workflow::graph`).
pub fn write(graph: &Value) -> String {
    let name = graph["name"].as_str().unwrap_or("Procedure");
    let id: String = graph["workflow_id"]
        .as_str()
        .unwrap_or("workflow")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let nodes = graph["nodes"].as_array().cloned().unwrap_or_default();
    let edges = graph["edges"].as_array().cloned().unwrap_or_default();
    let mut lanes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in &nodes {
        if let Some(role) = n["metadata"]["responsible_role"].as_str() {
            lanes
                .entry(role.to_string())
                .or_default()
                .push(n["id"].as_str().unwrap_or_default().to_string());
        }
    }
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" ");
    x.push_str("xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ");
    x.push_str("xmlns:symphainy=\"https://symphainy.dev/bpmn\" ");
    x.push_str(&format!(
        "id=\"Definitions_{id}\" targetNamespace=\"https://symphainy.dev/bpmn\">\n"
    ));
    x.push_str(&format!(
        "  <bpmn:process id=\"Process_{id}\" name=\"{}\" isExecutable=\"false\">\n",
        escape(name)
    ));
    if !lanes.is_empty() {
        x.push_str("    <bpmn:laneSet id=\"LaneSet_1\">\n");
        for (i, (role, refs)) in lanes.iter().enumerate() {
            x.push_str(&format!(
                "      <bpmn:lane id=\"Lane_{}\" name=\"{}\">\n",
                i + 1,
                escape(role)
            ));
            for r in refs {
                x.push_str(&format!(
                    "        <bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>\n"
                ));
            }
            x.push_str("      </bpmn:lane>\n");
        }
        x.push_str("    </bpmn:laneSet>\n");
    }
    for n in &nodes {
        let nid = n["id"].as_str().unwrap_or_default();
        let label = escape(n["label"].as_str().unwrap_or_default()).into_owned();
        let m = &n["metadata"];
        match n["type"].as_str() {
            Some("start") => x.push_str(&format!(
                "    <bpmn:startEvent id=\"{nid}\" name=\"{label}\" />\n"
            )),
            Some("end") => x.push_str(&format!(
                "    <bpmn:endEvent id=\"{nid}\" name=\"{label}\" />\n"
            )),
            Some("gateway") => {
                x.push_str(&format!(
                    "    <bpmn:exclusiveGateway id=\"{nid}\" name=\"{label}\">\n"
                ));
                if let Some(then) = m["then"].as_str() {
                    x.push_str(&format!(
                        "      <bpmn:documentation>{}</bpmn:documentation>\n",
                        escape(then)
                    ));
                }
                x.push_str("    </bpmn:exclusiveGateway>\n");
            }
            _ => {
                x.push_str(&format!("    <bpmn:task id=\"{nid}\" name=\"{label}\">\n"));
                if let Some(d) = m["description"].as_str() {
                    x.push_str(&format!(
                        "      <bpmn:documentation>{}</bpmn:documentation>\n",
                        escape(d)
                    ));
                }
                if let Some(o) = m["expected_output"].as_str() {
                    x.push_str(&format!(
                        "      <bpmn:extensionElements><symphainy:output>{}</symphainy:output></bpmn:extensionElements>\n",
                        escape(o)
                    ));
                }
                x.push_str("    </bpmn:task>\n");
            }
        }
    }
    for (i, e) in edges.iter().enumerate() {
        let (from, to) = (
            e["from"].as_str().unwrap_or_default(),
            e["to"].as_str().unwrap_or_default(),
        );
        let name = e["label"]
            .as_str()
            .map(|l| format!(" name=\"{}\"", escape(l)))
            .unwrap_or_default();
        match e["condition"].as_str() {
            Some(c) => x.push_str(&format!(
                "    <bpmn:sequenceFlow id=\"Flow_{}\"{name} sourceRef=\"{from}\" targetRef=\"{to}\">\n      <bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n",
                i + 1,
                escape(c)
            )),
            None => x.push_str(&format!(
                "    <bpmn:sequenceFlow id=\"Flow_{}\"{name} sourceRef=\"{from}\" targetRef=\"{to}\" />\n",
                i + 1
            )),
        }
    }
    x.push_str("  </bpmn:process>\n</bpmn:definitions>\n");
    x
}

#[derive(Default)]
struct Element {
    kind: &'static str,
    name: String,
    documentation: Option<String>,
    output: Option<String>,
}

struct Flow {
    source: String,
    target: String,
    name: Option<String>,
    condition: Option<String>,
}

/// A BPMN document read back into a procedure.
pub fn read(xml: &str) -> Result<Procedure, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut elements: HashMap<String, Element> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut flows: Vec<Flow> = Vec::new();
    let mut lanes: HashMap<String, String> = HashMap::new();
    let mut process_name = None;
    let mut current: Option<String> = None;
    let mut lane: Option<String> = None;
    let mut text_of: Option<&'static str> = None;
    let mut flow: Option<Flow> = None;
    let decoder = reader.decoder();
    let attr = |e: &quick_xml::events::BytesStart<'_>, key: &[u8]| -> Option<String> {
        e.attributes()
            .with_checks(false)
            .flatten()
            .find(|a| a.key.local_name().as_ref() == key)
            .and_then(|a| {
                a.decode_and_unescape_value(decoder)
                    .ok()
                    .map(|v| v.into_owned())
            })
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("the BPMN XML is damaged: {e}"))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name();
                let local = local.as_ref();
                let id = attr(&e, b"id").unwrap_or_default();
                let kind: Option<&'static str> = if TASKS.contains(&local) {
                    Some("task")
                } else if local == b"exclusiveGateway" || local == b"inclusiveGateway" {
                    Some("gateway")
                } else if local == b"startEvent" {
                    Some("start")
                } else if local == b"endEvent" {
                    Some("end")
                } else {
                    None
                };
                if let Some(kind) = kind {
                    elements.insert(
                        id.clone(),
                        Element {
                            kind,
                            name: attr(&e, b"name").unwrap_or_default(),
                            ..Default::default()
                        },
                    );
                    order.push(id.clone());
                    current = Some(id);
                } else {
                    match local {
                        b"process" => process_name = process_name.or(attr(&e, b"name")),
                        b"lane" => lane = attr(&e, b"name"),
                        b"flowNodeRef" => text_of = Some("lane_ref"),
                        b"documentation" => text_of = Some("documentation"),
                        b"output" => text_of = Some("output"),
                        b"conditionExpression" => text_of = Some("condition"),
                        b"sequenceFlow" => {
                            let f = Flow {
                                source: attr(&e, b"sourceRef").unwrap_or_default(),
                                target: attr(&e, b"targetRef").unwrap_or_default(),
                                name: attr(&e, b"name"),
                                condition: None,
                            };
                            // A self-closing flow has no End event of its own.
                            if empty {
                                flows.push(f);
                            } else {
                                flow = Some(f);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Event::Text(_) | Event::GeneralRef(_) => {
                let text = match &event {
                    Event::Text(t) => t.decode().map_err(|e| e.to_string())?.into_owned(),
                    Event::GeneralRef(r) => match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => match &*r.decode().map_err(|e| e.to_string())? {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            _ => String::new(),
                        },
                    },
                    _ => String::new(),
                };
                // Text arrives in pieces (an entity is a piece of its own): appended.
                let add = |slot: &mut Option<String>| slot.get_or_insert_default().push_str(&text);
                match text_of {
                    Some("lane_ref") => {
                        if let Some(l) = &lane {
                            lanes.insert(text.trim().to_string(), l.clone());
                        }
                    }
                    Some("documentation") => {
                        if let Some(el) = current.as_ref().and_then(|c| elements.get_mut(c)) {
                            add(&mut el.documentation);
                        }
                    }
                    Some("output") => {
                        if let Some(el) = current.as_ref().and_then(|c| elements.get_mut(c)) {
                            add(&mut el.output);
                        }
                    }
                    Some("condition") => {
                        if let Some(f) = flow.as_mut() {
                            add(&mut f.condition);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                let local = e.local_name();
                match local.as_ref() {
                    b"flowNodeRef" | b"documentation" | b"output" | b"conditionExpression" => {
                        text_of = None
                    }
                    b"lane" => lane = None,
                    b"sequenceFlow" => flows.extend(flow.take()),
                    l if TASKS.contains(&l)
                        || l == b"exclusiveGateway"
                        || l == b"inclusiveGateway" =>
                    {
                        current = None
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    to_procedure(process_name, &elements, &order, &flows, &lanes)
}

/// Flow elements and flows read at most (a workflow is at most `MAX_STEPS` steps, each with
/// a gateway and a few flows).
pub const MAX_ELEMENTS: usize = 4 * MAX_STEPS;

/// The order a walk from `start` visits nodes: depth first, a gateway's `yes` branch before
/// its others, so a branch's steps stay together.
pub fn walk(start: &str, out: &HashMap<&str, Vec<(&str, bool)>>) -> Vec<String> {
    let mut walked = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        walked.push(id.to_string());
        if let Some(next) = out.get(id) {
            // Pushed in reverse: the `yes` branch is taken first.
            let mut next = next.clone();
            next.sort_by_key(|(_, yes)| !*yes);
            for (t, _) in next.into_iter().rev() {
                stack.push(t);
            }
        }
    }
    walked
}

/// Orders the tasks by walking the flows from the start event (a gateway's `yes` branch
/// first), then builds the workflow graph and reads it as a procedure.
fn to_procedure(
    name: Option<String>,
    elements: &HashMap<String, Element>,
    order: &[String],
    flows: &[Flow],
    lanes: &HashMap<String, String>,
) -> Result<Procedure, String> {
    if order.len() > MAX_ELEMENTS || flows.len() > 2 * MAX_ELEMENTS {
        return Err(format!(
            "the workflow has more than {MAX_ELEMENTS} elements or {} flows",
            2 * MAX_ELEMENTS
        ));
    }
    let yes = |f: &Flow| {
        f.condition.is_some()
            || f.name
                .as_deref()
                .is_some_and(|n| matches!(n.to_lowercase().as_str(), "yes" | "true" | "approved"))
    };
    let start = order
        .iter()
        .find(|id| elements.get(*id).is_some_and(|e| e.kind == "start"))
        .or_else(|| order.first())
        .ok_or("the BPMN document has no flow elements")?;
    let mut out: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    for f in flows {
        out.entry(f.source.as_str())
            .or_default()
            .push((f.target.as_str(), yes(f)));
    }
    let mut walked = walk(start, &out);
    // Elements the flows never reach keep their document order, after the rest.
    let seen: HashSet<&str> = walked.iter().map(String::as_str).collect();
    let unreached: Vec<String> = order
        .iter()
        .filter(|id| !seen.contains(id.as_str()))
        .cloned()
        .collect();
    walked.extend(unreached);
    let mut nodes = Vec::new();
    let mut number = 0;
    for id in &walked {
        // A flow may lead to an element this reader does not model (a timer, a parallel
        // gateway, a sub-process): it is passed over.
        let Some(el) = elements.get(id) else {
            continue;
        };
        match el.kind {
            "task" => {
                number += 1;
                let description = el
                    .documentation
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or(&el.name)
                    .to_string();
                let output = el.output.as_deref().map(str::trim);
                nodes.push(
                    json!({"id": id, "label": el.name, "type": "task", "metadata": {
                    "step_number": number, "responsible_role": lanes.get(id),
                    "expected_output": output, "description": description}}),
                );
            }
            "gateway" => {
                let condition = el.name.trim_end_matches('?').to_string();
                nodes.push(json!({"id": id, "label": el.name, "type": "gateway",
                    "metadata": {"condition": condition,
                        "then": el.documentation.as_deref().map(str::trim)}}));
            }
            kind => nodes.push(json!({"id": id, "label": el.name, "type": kind})),
        }
    }
    // Each branch keeps its own condition (two conditioned branches, two conditions).
    let edges: Vec<Value> = flows
        .iter()
        .map(|f| {
            let label = if yes(f) {
                Some("yes")
            } else {
                f.name.as_deref()
            };
            json!({"from": f.source, "to": f.target, "label": label,
                "condition": f.condition.as_deref().map(str::trim)})
        })
        .collect();
    workflow::from_graph(&json!({"name": name.unwrap_or_else(|| "Procedure".into()),
        "nodes": nodes, "edges": edges}))
}
