// One session: its live timeline, the chat with its agents, and its files — three tabs over
// one agent socket that replays the session's log and follows it.

import { h, fill, reconcile } from "../dom.js";
import { groups, groupCard } from "../timeline.js";
import { buttons } from "./approvals.js";
import * as chat from "./chat.js";
import * as files from "./files.js";

const TABS = [
  ["timeline", "Timeline"],
  ["chat", "Chat"],
  ["files", "Files"],
];

export function render(main, params, app) {
  const sessionId = params[0];
  const tab = TABS.some(([t]) => t === params[1]) ? params[1] : "timeline";
  const socket = app.socket(sessionId);
  const state = h("span", { class: `socket socket-${socket.state}`, role: "status" }, socket.state);
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Session ", h("code", {}, sessionId.slice(0, 8))),
      state,
    ),
    h(
      "nav",
      { class: "tabs", "aria-label": "Session" },
      TABS.map(([t, label]) =>
        h("a", { href: `#/session/${sessionId}/${t}`, "aria-current": t === tab ? "page" : false }, label),
      ),
    ),
  );
  const body = h("div", { class: "tab-body" });
  main.append(body);
  const offState = socket.listen((m) => {
    if (m.type === "socket_state") {
      state.textContent = m.state;
      state.className = `socket socket-${m.state}`;
    }
  });
  let cleanup;
  if (tab === "timeline") cleanup = timeline(body, socket, app);
  if (tab === "chat") cleanup = chat.render(body, sessionId, socket, app);
  if (tab === "files") cleanup = files.render(body, sessionId, socket, app);
  return () => {
    offState();
    if (cleanup) cleanup();
  };
}

function timeline(body, socket, app) {
  const list = h("ol", { class: "timeline", "aria-live": "polite", "aria-label": "Session timeline" });
  body.append(list);
  let pending = false;
  // Each group's card, kept while its events are the same: a card being read, or a reason
  // being typed into it, is not replaced by another group's news.
  let cards = new Map();
  const draw = () => {
    pending = false;
    const gs = groups(socket.events).reverse();
    const next = new Map();
    for (const g of gs) {
      const key = `${g.kind}:${g.id}`;
      const seen = g.events.length;
      const kept = cards.get(key);
      next.set(
        key,
        kept && kept.seen === seen
          ? kept
          : {
              seen,
              el: groupCard(g, (x) =>
                x.hook ? buttons({ execution_id: x.id, intent_type: x.intent, hook: x.hook }, app, () => {}) : null,
              ),
            },
      );
    }
    cards = next;
    if (gs.length) reconcile(list, [...next.values()].map((c) => c.el));
    else fill(list, h("li", { class: "muted" }, "Nothing has happened in this session yet."));
  };
  draw();
  // Redrawn at most once a frame, however fast events come.
  const off = socket.listen((m) => {
    if (m.type === "runtime_event" && !pending) {
      pending = true;
      requestAnimationFrame(draw);
    }
  });
  return off;
}
