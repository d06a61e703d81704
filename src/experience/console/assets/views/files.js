// A session's files: upload (with progress), parse, preview records, run quality and
// analysis, combine two, delete (which waits for approval).

import { auth, followStatus, get, post, submit, upload } from "../api.js";
import { h, bytes, field, fill, pill, progress, shortId, table, when } from "../dom.js";
import { recordsOf, renderArtifact } from "../artifacts.js";

export function render(body, sessionId, socket, app) {
  const input = h("input", { type: "file", name: "file", required: true });
  const bar = h("div", { class: "upload-progress" });
  const list = h("div", { "aria-live": "polite" });
  const combine = h("div", {});
  const result = h("section", { class: "result", "aria-live": "polite", "aria-label": "Result" });
  const stops = new Set();
  let left = false;
  let files = [];
  let parsed = new Map();

  const uploadForm = h(
    "form",
    {
      class: "card upload",
      onsubmit: async (e) => {
        e.preventDefault();
        const file = input.files[0];
        if (!file) return;
        const button = uploadForm.querySelector("button");
        button.disabled = true;
        fill(bar, progress(0, 1, `uploading ${file.name}`), h("span", { class: "muted" }, `Uploading ${file.name}…`));
        try {
          const accepted = await upload(sessionId, file, (f) =>
            fill(bar, progress(Math.round(f * 100), 100, `uploading ${file.name}`), h("span", { class: "muted" }, `${Math.round(f * 100)} %`)),
          );
          fill(bar, h("span", {}, `${file.name} uploaded.`));
          input.value = "";
          track(accepted.execution_id, `Upload of ${file.name}`);
        } catch (err) {
          fill(bar);
          app.error(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h2", {}, "Upload a file"),
    field("File", input),
    h("button", { type: "submit", class: "primary" }, "Upload"),
    bar,
  );
  body.append(h("div", { class: "cards two" }, uploadForm, h("div", { class: "card" }, h("h2", {}, "Combine two files"), combine)), list, result);

  const load = async () => {
    try {
      const [page, session] = await Promise.all([
        post("/api/artifact/list", { session_id: sessionId, artifact_type: "file", limit: 200 }),
        get(`/api/session/${encodeURIComponent(sessionId)}`),
      ]);
      files = page.artifacts || [];
      const pf = (((session.state || {}).realm_state || {}).content || {}).parsedFiles || [];
      parsed = new Map(pf.map((p) => [p.file_id, p.parsed_file_id]));
      draw();
    } catch (err) {
      app.error(err);
    }
  };

  const nameOf = (f) => (f.semantic_descriptor && f.semantic_descriptor.schema) || f.name || f.artifact_id;
  const run = (label, start) => async () => {
    try {
      const accepted = await start();
      track(accepted.execution_id, label);
    } catch (err) {
      app.error(err);
    }
  };

  let drawn = null;
  const picked = [null, null];
  const draw = () => {
    // Unchanged files are not drawn again: a button must not be replaced under the pointer.
    const seen = JSON.stringify([files.map((f) => [f.artifact_id, f.lifecycle_state]), [...parsed]]);
    if (seen === drawn) return;
    drawn = seen;
    fill(
      list,
      table(
        [
          [(f) => nameOf(f), "File"],
          [(f) => pill(f.lifecycle_state), "State"],
          [(f) => bytes((f.semantic_descriptor || {}).size_bytes), "Size"],
          [(f) => when(f.created_at), "Uploaded"],
          [
            (f) => {
              const pid = parsed.get(f.artifact_id);
              const name = nameOf(f);
              return h(
                "div",
                { class: "actions" },
                f.lifecycle_state === "pending_materialization"
                  ? h("button", { type: "button", title: "Keep it: an unsaved upload is removed after a day", onclick: run(`Save ${name}`, () => submit(sessionId, "save_materialization", { file_id: f.artifact_id })) }, "Save")
                  : null,
                h("button", { type: "button", onclick: run(`Parse ${name}`, () => submit(sessionId, "parse_content", { file_id: f.artifact_id })) }, "Parse"),
                pid ? h("button", { type: "button", onclick: () => fill(result, h("h2", {}, `Records of ${name}`), recordsOf(pid)) }, "Preview") : null,
                pid ? h("button", { type: "button", onclick: run(`Quality of ${name}`, () => submit(sessionId, "assess_data_quality", { parsed_file_id: pid })) }, "Quality") : null,
                pid ? h("button", { type: "button", onclick: run(`Analysis of ${name}`, () => submit(sessionId, "analyze_structured_data", { parsed_file_id: pid })) }, "Analyze") : null,
                h("button", { type: "button", class: "danger", onclick: run(`Delete ${name}`, () => submit(sessionId, "delete_file", { file_id: f.artifact_id })) }, "Delete"),
              );
            },
            "Actions",
          ],
        ],
        files,
        {
          caption: auth.load() && auth.load().kind === "user" ? "Your organisation's files" : "Files of this session",
          empty: "No files yet: upload one.",
        },
      ),
    );
    // The choices survive a redraw of the list.
    const options = (chosen) =>
      files.map((f) => h("option", { value: f.artifact_id, selected: f.artifact_id === chosen }, nameOf(f)));
    const a = h("select", { id: "mash-a", onchange: () => (picked[0] = a.value) }, options(picked[0]));
    const b = h("select", { id: "mash-b", onchange: () => (picked[1] = b.value) }, options(picked[1]));
    if (files.length > 1 && !files.some((f) => f.artifact_id === picked[1])) b.selectedIndex = 1;
    fill(
      combine,
      files.length < 2
        ? h("p", { class: "muted" }, "Upload two files to combine them.")
        : h(
            "form",
            {
              onsubmit: (e) => {
                e.preventDefault();
                run("Combine", () => post("/api/v1/content/data-mash/create", { content_refs: [a.value, b.value], session_id: sessionId }))();
              },
            },
            field("First file", a),
            field("Second file", b),
            h("button", { type: "submit" }, "Combine"),
          ),
    );
  };

  /** Shows an execution's progress here, then its artifacts; reloads the files when it ends. */
  const track = (executionId, label) => {
    const card = h("div", { class: "card run" });
    fill(result, card);
    const show = (s) => {
      const done = ["completed", "failed", "cancelled"].includes(s.status);
      fill(
        card,
        h("h2", {}, label, " ", pill(s.status)),
        h("p", {}, h("a", { href: `#/execution/${s.execution_id}` }, "Open execution ", h("code", {}, shortId(s.execution_id)))),
        s.status === "awaiting_approval"
          ? h("p", { class: "hook" }, "Waiting for approval — ", h("a", { href: "#/approvals" }, "open Approvals"), ". ", s.hook ? s.hook.reason : "")
          : null,
        s.progress && !done ? progress(s.progress.done, s.progress.total, label) : null,
        s.error ? h("p", { class: "error" }, s.error) : null,
        done && s.status === "completed" ? Object.entries(s.artifacts || {}).map(([k, v]) => renderArtifact(k, v)) : null,
      );
      if (done) load();
    };
    get(`/api/execution/${encodeURIComponent(executionId)}/status`)
      .then((s) => {
        if (left) return;
        show(s);
        if (!["completed", "failed", "cancelled"].includes(s.status)) {
          // Should the stream end early (the server stopping), read the status once more.
          const again = () =>
            !left && get(`/api/execution/${encodeURIComponent(executionId)}/status`).then(show, (err) => app.error(err));
          stops.add(followStatus(executionId, show, again));
        }
      })
      .catch((err) => app.error(err));
  };

  load();
  // Files change when something else acts on the session (an agent, another tab).
  let timer = null;
  const off = socket.listen((m) => {
    if (m.type === "runtime_event" && /EXECUTION_(COMPLETED|FAILED|CANCELLED)/.test(m.event_type)) {
      clearTimeout(timer);
      timer = setTimeout(load, 300);
    }
  });
  return () => {
    left = true;
    off();
    clearTimeout(timer);
    for (const stop of stops) stop();
  };
}
