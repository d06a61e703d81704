//! A procedure written as an SOP: Markdown (a title, numbered steps, a `Role:` line where
//! the role changes and the step's own sentence does not say it, an `Output:` line under a
//! step that produces something), and the JSON the web frontend formats (`title`,
//! `steps[{step_number, title, description, responsible_role, expected_output, decision}]`).
//! Read back by `extract`, the Markdown gives the same steps, roles, outputs and decisions.

use serde_json::{json, Value};

use super::extract::actor;
use super::procedure::Procedure;

pub fn markdown(p: &Procedure) -> String {
    let mut out = format!("# {}\n\n", p.title);
    let mut current_role: Option<&str> = None;
    for s in &p.steps {
        // The role the extractor will find in the step's own words, if any.
        let own = match &s.decision {
            Some(d) => actor(&d.then),
            None => actor(&s.description),
        };
        if own.is_none() && s.role.as_deref() != current_role {
            if let Some(r) = &s.role {
                out.push_str(&format!("Role: {r}\n"));
                current_role = Some(r);
            }
        }
        // A decision the text does not state (a BPMN gateway, a Mermaid diamond) is written
        // as the SOP says it: "If <condition>, <step>".
        let text = match &s.decision {
            Some(d)
                if !s
                    .description
                    .to_lowercase()
                    .contains(&d.condition.to_lowercase()) =>
            {
                format!("If {}, {}", d.condition, s.description)
            }
            _ => s.description.clone(),
        };
        out.push_str(&format!("{}. {text}\n", s.number));
        if let Some(o) = &s.output {
            out.push_str(&format!("   Output: {o}\n"));
        }
    }
    out
}

pub fn json(p: &Procedure) -> Value {
    json!({
        "title": p.title,
        "steps": p.steps.iter().map(|s| json!({
            "step_number": s.number,
            "title": s.title,
            "description": s.description,
            "responsible_role": s.role,
            "expected_output": s.output,
            "decision": s.decision.as_ref().map(|d| json!({"condition": d.condition, "then": d.then})),
        })).collect::<Vec<_>>(),
    })
}
