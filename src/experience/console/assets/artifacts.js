// An execution's artifacts, drawn for a person: a parsed file as its columns and first
// records (with a column's distribution), a quality report as a table with its problems
// highlighted, a data mash as its join and conflicts; anything else as facts and tables.

import { get, query } from "./api.js";
import { h, fill, facts, table } from "./dom.js";
import { barChart, distribution } from "./chart.js";

const pct = (x) => (typeof x === "number" ? `${(x * 100).toFixed(1)} %` : x);

function payload(artifact) {
  if (artifact && typeof artifact === "object" && artifact.semantic_payload) return artifact.semantic_payload;
  return artifact;
}

export function renderArtifact(key, artifact) {
  const p = payload(artifact);
  const section = h("section", { class: "artifact", "aria-label": `artifact ${key}` }, h("h3", {}, key.replace(/_/g, " ")));
  if (!p || typeof p !== "object") {
    section.append(h("p", {}, String(p)));
  } else if (p.parsed_file_id && Array.isArray(p.columns) && key !== "mash") {
    section.append(parsedFile(p));
  } else if (key === "mash" || p.mash_id) {
    section.append(mash(p));
  } else if (typeof p.quality_score === "number" || key.includes("quality")) {
    section.append(quality(p));
  } else {
    section.append(generic(p));
  }
  return section;
}

/** A parsed file: its columns, its first records, and a chart of one column. */
export function parsedFile(p) {
  const box = h("div", { class: "parsed" });
  box.append(
    facts([
      ["Records", p.record_count],
      ["Parsed as", p.parsing_type],
      ["Parsed file", h("code", {}, p.parsed_file_id)],
    ]),
    table(
      [
        ["name", "Column"],
        ["type", "Type"],
        ["null_count", "Empty cells"],
      ],
      p.columns,
      { caption: "Columns" },
    ),
  );
  const preview = h("div", { class: "records", "aria-live": "polite" }, h("p", { class: "muted" }, "Loading records…"));
  box.append(preview);
  loadRecords(p.parsed_file_id, p.columns, preview);
  return box;
}

/** A parsed file's first records and a column chart, read by its id. */
export function recordsOf(parsedFileId) {
  const box = h("div", { class: "records", "aria-live": "polite" }, h("p", { class: "muted" }, "Loading records…"));
  loadRecords(parsedFileId, [], box);
  return box;
}

async function loadRecords(parsedFileId, columns, into) {
  try {
    const page = await get(`/api/parsed-files/${encodeURIComponent(parsedFileId)}/records${query({ limit: 500 })}`);
    const records = page.records || [];
    const names = columns && columns.length ? columns.map((c) => c.name) : Object.keys(records[0] || {});
    const first = records.slice(0, 20);
    const chartBox = h("div", { class: "chart-box" });
    const select = h(
      "select",
      { id: `col-${parsedFileId}`, onchange: () => draw(select.value) },
      names.map((n) => h("option", { value: n }, n)),
    );
    const draw = (name) =>
      fill(
        chartBox,
        barChart(
          distribution(records.map((r) => (r && typeof r === "object" ? r[name] : undefined))),
          `Distribution of ${name} over ${records.length} records`,
        ),
      );
    fill(
      into,
      table(names, first, {
        caption: `First ${first.length} of ${page.record_count ?? records.length} records`,
        class: "data",
      }),
      h("div", { class: "field inline" }, h("label", { for: select.id }, "Chart a column"), select),
      chartBox,
    );
    if (names.length) draw(names[0]);
  } catch (e) {
    fill(into, h("p", { class: "error", role: "alert" }, `Records could not be read: ${e.message}`));
  }
}

function quality(p) {
  const issues = Array.isArray(p.issues) ? p.issues : [];
  return h(
    "div",
    {},
    table(
      [
        ["measure", "Measure"],
        ["value", "Value"],
      ],
      ["quality_score", "completeness", "accuracy", "consistency", "validity", "uniqueness"]
        .filter((k) => typeof p[k] === "number")
        .map((k) => ({ measure: k.replace(/_/g, " "), value: pct(p[k]) })),
      { caption: "Quality", rowClass: (r) => (parseFloat(r.value) < 90 ? "warn" : null) },
    ),
    table(
      [
        ["severity", "Severity"],
        [(i) => i.type || i.column || "", "Where"],
        [(i) => i.message || i.description || "", "Problem"],
        [(i) => i.recommendation || i.suggestion || "", "Suggestion"],
      ],
      issues,
      { caption: `Issues (${p.issues_found ?? issues.length})`, empty: "No issues found.", rowClass: (i) => `sev-${i.severity}` },
    ),
  );
}

function mash(p) {
  const join = p.join_key || p.join || {};
  const box = h(
    "div",
    {},
    facts([
      ["Join key", joinText(join)],
      ["Records", p.record_count],
      ["Combined parsed file", p.parsed_file_id ? h("code", {}, p.parsed_file_id) : null],
    ]),
  );
  if (Array.isArray(p.unified_columns)) {
    box.append(
      h("h4", {}, "Unified columns"),
      h("ul", { class: "chips" }, p.unified_columns.map((c) => h("li", {}, typeof c === "object" ? c.name || JSON.stringify(c) : c))),
    );
  }
  const conflicts = Array.isArray(p.conflicts) ? p.conflicts : [];
  box.append(objectTable(conflicts, `Conflicts (${conflicts.length})`, "No conflicts."));
  if (p.parsed_file_id) {
    const preview = h("div", { class: "records" });
    box.append(h("h4", {}, "Combined records"), preview);
    loadRecords(p.parsed_file_id, [], preview);
  }
  return box;
}

/** `region — sales.region ⟷ regions.region · outer join`, from the mash's join. */
function joinText(join) {
  if (!join || typeof join !== "object") return join;
  const sides = Array.isArray(join.keys) ? join.keys.map((k) => `${k.source}.${k.column}`).join(" ⟷ ") : "";
  return [join.key, sides && `— ${sides}`, join.kind && `· ${join.kind} join`].filter(Boolean).join(" ");
}

function objectTable(rows, caption, empty) {
  const keys = [...new Set(rows.slice(0, 50).flatMap((r) => (r && typeof r === "object" ? Object.keys(r) : [])))].slice(0, 8);
  return table(keys.length ? keys : ["value"], rows.slice(0, 50).map((r) => (r && typeof r === "object" ? r : { value: r })), { caption, empty });
}

function generic(p) {
  const scalars = [];
  const box = h("div", {});
  for (const [k, v] of Object.entries(p)) {
    if (v === null || typeof v !== "object") scalars.push([k.replace(/_/g, " "), String(v)]);
  }
  box.append(facts(scalars));
  for (const [k, v] of Object.entries(p)) {
    if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
      box.append(objectTable(v, k.replace(/_/g, " "), ""));
    } else if (v && typeof v === "object" && !(Array.isArray(v) && v.length === 0)) {
      box.append(h("details", {}, h("summary", {}, k.replace(/_/g, " ")), h("pre", {}, JSON.stringify(v, null, 2))));
    }
  }
  return box;
}
