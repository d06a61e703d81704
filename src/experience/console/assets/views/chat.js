// The Guide and each pillar's Liaison in one pane: tokens appear as they stream, and the
// executions a turn starts are shown inline as they progress.

import { h, fill } from "../dom.js";
import { groups, groupCard } from "../timeline.js";

const AGENTS = [
  ["guide", "Guide", { agent_type: "guide" }],
  ["content", "Content", { agent_type: "liaison", pillar: "content" }],
  ["insights", "Insights", { agent_type: "liaison", pillar: "insights" }],
  ["operations", "Operations", { agent_type: "liaison", pillar: "operations" }],
  ["outcomes", "Business outcomes", { agent_type: "liaison", pillar: "business_outcomes" }],
];

// What the person typed, per conversation (the log keeps the agents' side).
const typed = new Map();

export function render(body, sessionId, socket, app) {
  let agent = sessionStorage.getItem("symphainy.console.agent") || "guide";
  const conversation = () => `console-${agent}-${sessionId.slice(0, 8)}`;
  const log = h("ol", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const text = h("textarea", { id: "chat-text", rows: 2, required: true, placeholder: "Ask something…" });
  const picker = h(
    "fieldset",
    { class: "agents" },
    h("legend", {}, "Talk to"),
    AGENTS.map(([id, label]) =>
      h(
        "label",
        { class: "agent-choice" },
        h("input", {
          type: "radio",
          name: "agent",
          value: id,
          checked: id === agent,
          onchange: () => {
            agent = id;
            sessionStorage.setItem("symphainy.console.agent", id);
            draw();
          },
        }),
        label,
      ),
    ),
  );
  const form = h(
    "form",
    {
      class: "chat-form",
      onsubmit: (e) => {
        e.preventDefault();
        const message = text.value.trim();
        if (!message) return;
        const [, , route] = AGENTS.find(([id]) => id === agent);
        const sent = socket.send({
          type: "intent",
          intent: message,
          ...route,
          metadata: { conversation_id: conversation(), pillar: route.pillar },
        });
        if (!sent) {
          app.error(new Error("Not connected yet: try again in a moment."));
          return;
        }
        const mine = typed.get(conversation()) || [];
        mine.push({ text: message, at: new Date().toISOString() });
        typed.set(conversation(), mine);
        text.value = "";
        draw();
      },
    },
    h("label", { for: "chat-text" }, "Message"),
    text,
    h("button", { type: "submit", class: "primary" }, "Send"),
  );
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  body.append(h("div", { class: "chat" }, picker, log, form));

  const draw = () => {
    const cid = conversation();
    const items = [];
    for (const m of typed.get(cid) || []) items.push({ at: m.at, el: h("li", { class: "bubble me" }, m.text) });
    let open = null;
    let streamed = "";
    const started = [];
    const xs = new Map(groups(socket.events).filter((g) => g.kind === "execution").map((g) => [g.id, g]));
    for (const e of socket.events) {
      const d = e.data || {};
      if (d.conversation_id === cid) {
        if (e.event_type === "AGENT_STARTED") {
          open = e;
          streamed = "";
          started.length = 0;
        } else if (e.event_type === "AGENT_TOKEN") {
          streamed += d.token || "";
        } else if (e.event_type === "AGENT_RESPONSE" || e.event_type === "AGENT_FAILED") {
          const failed = e.event_type === "AGENT_FAILED";
          items.push({
            at: e.timestamp,
            el: h(
              "li",
              { class: failed ? "bubble agent failed" : "bubble agent" },
              h("span", { class: "who" }, label(d, agent)),
              failed ? `Error: ${d.error}` : d.message || d.content || "",
              inlineRuns(started, xs),
            ),
          });
          open = null;
        }
      } else if (open && e.event_type === "EXECUTION_STARTED" && d.execution_id) {
        started.push(d.execution_id);
      }
    }
    if (open) {
      items.push({
        at: open.timestamp,
        el: h(
          "li",
          { class: "bubble agent pending", "aria-busy": "true" },
          h("span", { class: "who" }, "thinking"),
          streamed || "…",
          inlineRuns(started, xs),
        ),
      });
    }
    items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    // While an answer streams, screen readers wait for it whole.
    log.setAttribute("aria-busy", open ? "true" : "false");
    fill(log, items.length ? items.map((i) => i.el) : h("li", { class: "muted" }, "Say hello."));
    log.scrollTop = log.scrollHeight;
  };
  draw();
  let pending = false;
  const off = socket.listen((m) => {
    if (m.type === "error") app.error(new Error(m.message || m.error));
    if (m.type === "runtime_event" && !pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        draw();
      });
    }
  });
  text.focus();
  return off;
}

/** Who answered: the pillar's liaison, or the Guide. */
function label(d, agent) {
  const pillar = d.pillar || (AGENTS.find(([id]) => id === agent) || [])[2]?.pillar;
  if (d.agent_type === "guide" || (!d.agent_type && agent === "guide")) return "Guide";
  return pillar ? `${pillar.replace(/_/g, " ")} liaison` : "Liaison";
}

function inlineRuns(ids, xs) {
  const cards = ids.map((id) => xs.get(id)).filter(Boolean);
  return cards.length ? h("ol", { class: "inline-runs" }, cards.map((g) => groupCard(g))) : null;
}
