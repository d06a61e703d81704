//! Round trips through every form a procedure takes, with the expected structure by hand.

use super::procedure::{Decision, Procedure};
use super::{bpmn, extract, mermaid, sop_text, workflow};

const SOP: &str = "# Invoice approval\n\
    Role: Accounts payable & receivable clerk\n\
    1. The clerk receives the invoice.\n\
    2. The clerk checks the purchase order and records the match in the ledger.\n\
    3. If the amount exceeds 500 EUR, the manager approves it.\n\
    4. Pay the invoice.\n\
    Output: payment confirmation\n";

fn sop() -> Procedure {
    extract::procedure(&SOP.lines().map(String::from).collect::<Vec<_>>()).unwrap()
}

#[test]
fn the_graph_has_a_gateway_before_each_decision() {
    let g = workflow::graph("w1", &sop());
    let ids: Vec<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "start",
            "step_1",
            "step_2",
            "gateway_3",
            "step_3",
            "step_4",
            "end"
        ]
    );
    let edges: Vec<(&str, &str, Option<&str>)> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["from"], e["source"]);
            assert_eq!(e["to"], e["target"]);
            (
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
                e["label"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            ("start", "step_1", None),
            ("step_1", "step_2", None),
            ("gateway_3", "step_3", Some("yes")),
            ("step_2", "gateway_3", None),
            ("step_3", "step_4", None),
            ("gateway_3", "step_4", Some("no")),
            ("step_4", "end", None),
        ]
    );
    assert_eq!(g["nodes"][4]["metadata"]["responsible_role"], "manager");
}

#[test]
fn sop_to_workflow_to_sop_keeps_every_step_role_and_decision() {
    let original = sop();
    // Through the graph.
    let g = workflow::graph("w1", &original);
    assert_eq!(workflow::from_graph(&g).unwrap(), original);
    // Through BPMN XML.
    let xml = bpmn::write(&g);
    assert!(xml.contains("<bpmn:exclusiveGateway id=\"gateway_3\""));
    assert!(
        xml.contains("<bpmn:lane id=\"Lane_1\" name=\"Accounts payable &amp; receivable clerk\">")
    );
    assert_eq!(bpmn::read(&xml).unwrap(), original);
    // Through the SOP's Markdown.
    let md = sop_text::markdown(&original);
    let back = extract::procedure(&md.lines().map(String::from).collect::<Vec<_>>()).unwrap();
    assert_eq!(back, original);
    // Through Mermaid: steps, roles and decisions (a chart has titles, not whole texts).
    let chart = mermaid::write(&g);
    assert!(chart.starts_with("flowchart TD\n"));
    let m = mermaid::read(&chart).unwrap();
    let seen: Vec<(usize, Option<&str>)> = m
        .steps
        .iter()
        .map(|s| (s.number, s.role.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, Some("clerk")),
            (2, Some("clerk")),
            (3, Some("manager")),
            (4, Some("Accounts payable & receivable clerk"))
        ]
    );
    assert_eq!(
        m.steps[2].decision.as_ref().map(|d| d.condition.as_str()),
        Some("the amount exceeds 500 EUR")
    );
}

#[test]
fn a_bpmn_of_another_tool_is_read_by_its_flows_and_lanes() {
    let xml = r#"<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <process id="p" name="Leave request">
    <laneSet><lane name="Employee"><flowNodeRef>t1</flowNodeRef></lane>
      <lane name="Manager"><flowNodeRef>t2</flowNodeRef></lane></laneSet>
    <startEvent id="s"/>
    <userTask id="t2" name="Approve the request"/>
    <userTask id="t1" name="Submit the request"/>
    <exclusiveGateway id="g" name="More than 5 days?"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
    <sequenceFlow id="f2" sourceRef="t1" targetRef="g"/>
    <sequenceFlow id="f3" name="Yes" sourceRef="g" targetRef="t2"/>
    <sequenceFlow id="f4" name="No" sourceRef="g" targetRef="e"/>
    <sequenceFlow id="f5" sourceRef="t2" targetRef="e"/>
  </process>
</definitions>"#;
    let p = bpmn::read(xml).unwrap();
    assert_eq!(p.title, "Leave request");
    // t1 comes first by the flows, though t2 is written first.
    let got: Vec<(&str, Option<&str>)> = p
        .steps
        .iter()
        .map(|s| (s.title.as_str(), s.role.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("Submit the request", Some("Employee")),
            ("Approve the request", Some("Manager"))
        ]
    );
    assert_eq!(
        p.steps[1].decision,
        Some(Decision {
            condition: "More than 5 days".into(),
            then: "Approve the request".into()
        })
    );
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// (number, title, role, decision condition) of each step.
fn summary(p: &Procedure) -> Vec<(usize, String, Option<String>, Option<String>)> {
    p.steps
        .iter()
        .map(|s| {
            (
                s.number,
                s.title.clone(),
                s.role.clone(),
                s.decision.as_ref().map(|d| d.condition.clone()),
            )
        })
        .collect()
}

fn row(
    n: usize,
    t: &str,
    r: &str,
    c: Option<&str>,
) -> (usize, String, Option<String>, Option<String>) {
    (n, t.into(), Some(r.into()), c.map(String::from))
}

#[test]
fn sops_and_workflows_are_read_from_every_kind_of_file() {
    use super::intents::read_procedure;
    // Word: its heading, role line and numbered steps; the table is not a step.
    let p = read_procedure(fixture("approval.docx")).unwrap();
    assert_eq!(p.title, "Invoice approval");
    assert_eq!(
        summary(&p),
        [
            row(1, "The clerk receives the invoice", "clerk", None),
            row(
                2,
                "the manager approves it",
                "manager",
                Some("the amount exceeds 500 EUR")
            ),
            row(3, "The clerk pays the invoice", "clerk", None),
        ]
    );
    // PDF: its lines.
    let p = read_procedure(fixture("expenses_sop.pdf")).unwrap();
    assert_eq!(p.title, "Expense claims");
    assert_eq!(
        summary(&p),
        [
            row(1, "The employee submits the claim", "employee", None),
            row(
                2,
                "the finance team reviews it",
                "finance team",
                Some("the claim exceeds 100 EUR")
            ),
            row(3, "The employee receives the refund", "employee", None),
        ]
    );
    // BPMN: the flows order the tasks, the lanes give the roles.
    let p = read_procedure(fixture("leave.bpmn")).unwrap();
    assert_eq!(
        summary(&p),
        [
            row(1, "Submit the request", "Employee", None),
            row(
                2,
                "Approve the request",
                "Manager",
                Some("More than 5 days")
            ),
            row(3, "Record the leave", "HR", None),
        ]
    );
    // Its SOP states the gateway as a decision, and reads back the same.
    let md = super::sop_text::markdown(&p);
    assert!(
        md.contains("2. If More than 5 days, Approve the request\n"),
        "{md}"
    );
    let again = extract::procedure(&md.lines().map(String::from).collect::<Vec<_>>()).unwrap();
    assert_eq!(summary(&again), summary(&p));
    // Mermaid: boxes are steps (their role under a break), the diamond a decision.
    let p = read_procedure(fixture("onboarding.mmd")).unwrap();
    assert_eq!(
        summary(&p),
        [
            row(1, "Create the account", "IT", None),
            row(2, "Ship the laptop", "IT", Some("Is the employee remote")),
            row(3, "Hand over the laptop", "Office manager", None),
        ]
    );
}

#[test]
fn the_fixtures_steps_are_classified_by_their_words() {
    use super::coexistence::{classify, Kind};
    use super::intents::read_procedure;
    let kinds = |name: &str| -> Vec<Kind> {
        read_procedure(fixture(name))
            .unwrap()
            .steps
            .iter()
            .map(|s| classify(s).0)
            .collect()
    };
    // receives (data), a decision, pays (data).
    assert_eq!(kinds("approval.docx"), [Kind::Ai, Kind::Hybrid, Kind::Ai]);
    // "submits" is in neither list: a person's, until someone says otherwise.
    assert_eq!(
        kinds("expenses_sop.pdf"),
        [Kind::Human, Kind::Hybrid, Kind::Ai]
    );
    // Submit (no telling word), a gateway, Record (data).
    assert_eq!(kinds("leave.bpmn"), [Kind::Human, Kind::Hybrid, Kind::Ai]);
    // Create (no telling word), a decision, Hand over (presence).
    assert_eq!(
        kinds("onboarding.mmd"),
        [Kind::Human, Kind::Hybrid, Kind::Human]
    );
}

#[test]
fn a_branch_s_steps_stay_together_and_each_branch_keeps_its_condition() {
    // Depth first, the `yes` branch first: A, B, then R.
    let chart = "flowchart TD\n  S([Start]) --> G{\"Big?\"}\n  G -->|yes| A[A]\n  A --> B[B]\n  G -->|no| R[R]\n  B --> E([End])\n  R --> E\n";
    let titles: Vec<String> = mermaid::read(chart)
        .unwrap()
        .steps
        .iter()
        .map(|s| s.title.clone())
        .collect();
    assert_eq!(titles, ["A", "B", "R"]);
    // Two conditioned flows out of one gateway: each target keeps its own condition.
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">
      <startEvent id="s"/><exclusiveGateway id="g"/><task id="a" name="A"/><task id="b" name="B"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="f2" sourceRef="g" targetRef="a"><conditionExpression>${amt &gt; 500}</conditionExpression></sequenceFlow>
      <sequenceFlow id="f3" sourceRef="g" targetRef="b"><conditionExpression>${amt &lt;= 500}</conditionExpression></sequenceFlow>
      </process></definitions>"#;
    let p = bpmn::read(xml).unwrap();
    let conditions: Vec<Option<&str>> = p
        .steps
        .iter()
        .map(|s| s.decision.as_ref().map(|d| d.condition.as_str()))
        .collect();
    assert_eq!(conditions, [Some("${amt > 500}"), Some("${amt <= 500}")]);
}

#[test]
fn what_a_reader_does_not_model_is_passed_over_not_a_panic() {
    // A parallel gateway is not modelled: the flow through it is passed over.
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">
      <startEvent id="s"/><parallelGateway id="p1"/><task id="t" name="Ship"/>
      <sequenceFlow sourceRef="s" targetRef="p1"/><sequenceFlow sourceRef="p1" targetRef="t"/>
      </process></definitions>"#;
    assert_eq!(bpmn::read(xml).unwrap().steps[0].title, "Ship");
    // Mermaid keywords are not steps.
    let chart = "flowchart TD\nsubgraph F\nA[Check] --> B[Pay]\nend\nstyle A fill:#f9f\n";
    let titles: Vec<String> = mermaid::read(chart)
        .unwrap()
        .steps
        .iter()
        .map(|s| s.title.clone())
        .collect();
    assert_eq!(titles, ["Check", "Pay"]);
    // Too many nodes: refused, not walked.
    let huge: String = (0..3000)
        .map(|i| format!("a{i} --> a{}\n", i + 1))
        .collect();
    assert!(mermaid::read(&format!("flowchart TD\n{huge}"))
        .unwrap_err()
        .contains("more than"));
}
