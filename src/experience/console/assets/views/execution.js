// One execution: its intent and parameters, steps with timings and attempts, artifacts drawn
// for reading, its events; cancel, retry, approve or refuse.

import { followStatus, get, post } from "../api.js";
import { h, duration, facts, fill, pill, shortId, table, when } from "../dom.js";
import { renderArtifact } from "../artifacts.js";
import { buttons } from "./approvals.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function render(main, params, app) {
  const id = params[0];
  const head = h("div", { class: "page-head" });
  const summary = h("section", { "aria-label": "summary" });
  const steps = h("section", { "aria-label": "steps" });
  const artifacts = h("section", { "aria-label": "artifacts" });
  const events = h("section", { "aria-label": "events" });
  main.append(head, summary, steps, artifacts, events);
  let artifactKeys = null;
  let stop = null;
  let left = false;

  const draw = (s) => {
    fill(
      head,
      h("h1", {}, s.intent_type, " ", h("code", {}, shortId(s.execution_id))),
      pill(s.status),
      h("span", { class: "spacer" }),
      TERMINAL.has(s.status)
        ? h("button", { type: "button", onclick: retry }, "Retry")
        : h("button", { type: "button", class: "danger", onclick: cancel }, "Cancel"),
    );
    fill(
      summary,
      facts([
        ["Execution", h("code", {}, s.execution_id)],
        ["Session", h("a", { href: `#/session/${s.session_id}` }, h("code", {}, s.session_id))],
        ["Created", when(s.created_at)],
        ["Ran for", duration(s.started_at, s.completed_at)],
        ["Request", s.request_id ? h("code", {}, s.request_id) : null],
        ["Retry of", s.retry_of ? h("a", { href: `#/execution/${s.retry_of}` }, h("code", {}, shortId(s.retry_of))) : null],
        ["Error", s.error ? h("span", { class: "error" }, s.error) : null],
      ]),
      s.hook && s.status === "awaiting_approval"
        ? h(
            "div",
            { class: "card hook" },
            h("h2", {}, "Waiting for approval"),
            h("p", {}, s.hook.reason),
            buttons({ ...s, hook: s.hook }, app, () => refresh()),
          )
        : null,
      s.progress && !TERMINAL.has(s.status)
        ? h("p", {}, `Progress: ${s.progress.done}${s.progress.total ? ` of ${s.progress.total}` : ""} ${s.progress.unit || ""}`)
        : null,
      h("details", {}, h("summary", {}, "Parameters"), h("pre", {}, JSON.stringify(s.parameters ?? {}, null, 2))),
    );
    fill(
      steps,
      table(
        [
          ["name", "Step"],
          [(x) => pill(x.status), "Status"],
          [(x) => when(x.started_at), "Started"],
          [(x) => duration(x.started_at, x.completed_at), "Took"],
          ["attempts", "Attempts"],
          [(x) => (x.error ? h("span", { class: "error" }, x.error) : ""), "Error"],
        ],
        s.steps || [],
        { caption: "Steps", empty: "No step has run yet." },
      ),
    );
    const keys = Object.keys(s.artifacts || {}).sort().join(",");
    if (keys !== artifactKeys || TERMINAL.has(s.status)) {
      if (keys !== artifactKeys) {
        artifactKeys = keys;
        fill(
          artifacts,
          h("h2", {}, "Artifacts"),
          keys ? Object.entries(s.artifacts).map(([k, a]) => renderArtifact(k, a)) : h("p", { class: "muted" }, "None yet."),
        );
      }
    }
    fill(
      events,
      table(
        [
          ["seq", "#"],
          ["event_type", "Event"],
          [(e) => when(e.timestamp), "At"],
          [(e) => (e.data && (e.data.step || e.data.error || e.data.reason)) || "", "Detail"],
        ],
        s.events || [],
        { caption: "Events", empty: "No events." },
      ),
    );
  };

  const refresh = async () => {
    try {
      draw(await get(`/api/execution/${encodeURIComponent(id)}/status`));
    } catch (err) {
      app.error(err);
    }
  };
  const cancel = async () => {
    try {
      await post(`/api/execution/${encodeURIComponent(id)}/cancel`, {});
      app.notice("Cancellation requested.");
      refresh();
    } catch (err) {
      app.error(err);
    }
  };
  const retry = async () => {
    try {
      const accepted = await post(`/api/execution/${encodeURIComponent(id)}/retry`, {});
      location.hash = `#/execution/${accepted.execution_id}`;
    } catch (err) {
      app.error(err);
    }
  };

  get(`/api/execution/${encodeURIComponent(id)}/status`)
    .then((s) => {
      if (left) return;
      draw(s);
      if (!TERMINAL.has(s.status)) stop = followStatus(id, draw, () => !left && refresh());
    })
    .catch((err) => app.error(err));
  return () => {
    left = true;
    if (stop) stop();
  };
}
