// A session's events as a timeline: grouped by execution (its steps with their durations,
// compensations and progress) and by agent conversation, newest group first.

import { h, duration, pill, progress, shortId, when } from "./dom.js";

const TERMINAL = { EXECUTION_COMPLETED: "completed", EXECUTION_FAILED: "failed", EXECUTION_CANCELLED: "cancelled" };

/** Folds events into execution and conversation groups, in the order they began. */
export function groups(events) {
  const byKey = new Map();
  for (const e of events) {
    const d = e.data || {};
    const key = e.execution_id || d.execution_id ? `x:${e.execution_id || d.execution_id}` : d.conversation_id ? `c:${d.conversation_id}` : null;
    if (!key) continue;
    let g = byKey.get(key);
    if (!g) {
      g = key.startsWith("x:")
        ? { kind: "execution", id: key.slice(2), status: "pending", steps: new Map(), events: [], first: e.timestamp }
        : { kind: "conversation", id: key.slice(2), turns: [], events: [], first: e.timestamp };
      byKey.set(key, g);
    }
    g.events.push(e);
    g.last = e.timestamp;
    if (g.kind === "execution") foldExecution(g, e, d);
    else foldTurn(g, e, d);
  }
  return [...byKey.values()];
}

function foldExecution(g, e, d) {
  if (d.intent_type) g.intent = d.intent_type;
  const step = (name) => {
    if (!g.steps.has(name)) g.steps.set(name, { name, status: "pending" });
    return g.steps.get(name);
  };
  switch (e.event_type) {
    case "EXECUTION_STARTED":
      // After an approval too: what waited is decided.
      g.status = "running";
      g.started = g.started || e.timestamp;
      g.hook = null;
      break;
    case "STEP_STARTED":
      Object.assign(step(d.step), { status: "running", started: e.timestamp });
      g.hook = null;
      break;
    case "STEP_COMPLETED":
      Object.assign(step(d.step), { status: "completed", ended: e.timestamp });
      break;
    case "STEP_FAILED":
      Object.assign(step(d.step), { status: "failed", ended: e.timestamp, error: d.error });
      break;
    case "STEP_COMPENSATED":
      Object.assign(step(d.step), { compensated: e.timestamp });
      break;
    case "EXECUTION_PROGRESS":
      g.progress = d;
      break;
    case "SAFETY_APPROVAL_PENDING":
      g.status = "awaiting_approval";
      g.hook = { hook_id: d.hook_id, reason: d.reason };
      break;
    case "SAFETY_HALTED":
      g.hook = null;
      break;
    default:
      if (TERMINAL[e.event_type]) {
        g.status = TERMINAL[e.event_type];
        g.ended = e.timestamp;
        g.error = d.error || null;
        g.progress = null;
        g.hook = null;
      }
  }
}

function foldTurn(g, e, d) {
  if (e.event_type === "AGENT_STARTED") {
    g.agent = (d.agent_id || "").split(":")[0] || d.agent_type;
    g.turns.push({ started: e.timestamp, status: "running" });
  }
  const turn = g.turns[g.turns.length - 1];
  if (!turn) return;
  if (e.event_type === "AGENT_RESPONSE") Object.assign(turn, { status: "answered", ended: e.timestamp, text: d.message || d.content });
  if (e.event_type === "AGENT_FAILED") Object.assign(turn, { status: "failed", ended: e.timestamp, text: d.error });
}

/** One group as a card. `actions` may add buttons (approve, open). */
export function groupCard(g, actions) {
  if (g.kind === "conversation") {
    return h(
      "li",
      { class: "group conversation" },
      h("div", { class: "group-head" }, h("strong", {}, `Conversation with ${g.agent || "an agent"}`), h("span", { class: "muted" }, when(g.first))),
      h(
        "ol",
        { class: "turns" },
        g.turns.map((t) =>
          h("li", {}, pill(t.status), " ", duration(t.started, t.ended), t.text ? h("div", { class: "turn-text" }, t.text) : null),
        ),
      ),
    );
  }
  const steps = [...g.steps.values()];
  return h(
    "li",
    { class: `group execution status-${g.status}`, dataset: { executionId: g.id } },
    h(
      "div",
      { class: "group-head" },
      h("a", { href: `#/execution/${g.id}` }, h("strong", {}, g.intent || "execution"), " ", h("code", {}, shortId(g.id))),
      pill(g.status),
      h("span", { class: "muted" }, when(g.first), g.ended ? ` · ${duration(g.started || g.first, g.ended)}` : ""),
    ),
    steps.length
      ? h(
          "ol",
          { class: "steps" },
          steps.map((s) =>
            h(
              "li",
              { class: `step step-${s.status}` },
              h("span", { class: "step-name" }, s.name),
              pill(s.status),
              h("span", { class: "muted" }, duration(s.started, s.ended)),
              s.compensated ? h("span", { class: "tag" }, "compensated") : null,
              s.error ? h("span", { class: "error" }, s.error) : null,
            ),
          ),
        )
      : null,
    g.progress
      ? h(
          "div",
          { class: "group-progress" },
          progress(g.progress.done, g.progress.total, `${g.intent} progress`),
          h("span", { class: "muted" }, `${g.progress.done}${g.progress.total ? ` of ${g.progress.total}` : ""} ${g.progress.unit || ""}`),
        )
      : null,
    g.hook ? h("p", { class: "hook" }, "Waiting for approval: ", g.hook.reason || "") : null,
    g.error ? h("p", { class: "error" }, g.error) : null,
    actions ? actions(g) : null,
  );
}
