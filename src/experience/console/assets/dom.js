// Small helpers for building the console's pages without a framework.

/** An element: `h("button", {onclick, class: "x"}, "text", child, ...)`. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Makes `el`'s children exactly `nodes`, in order, moving as few as it can: a node already in
 * place is left alone, so whatever is typed or focused in it stays.
 */
export function reconcile(el, nodes) {
  nodes.forEach((node, i) => {
    const here = el.children[i];
    if (here !== node) el.insertBefore(node, here || null);
  });
  while (el.children.length > nodes.length) el.lastElementChild.remove();
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : "—";
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Milliseconds between two timestamps, as a person reads it. */
export function duration(fromIso, toIso) {
  if (!fromIso || !toIso) return "";
  const ms = new Date(toIso) - new Date(fromIso);
  if (!(ms >= 0)) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function bytes(n) {
  if (typeof n !== "number") return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A status pill (`completed`, `failed`, `running`, ...). */
export function pill(status) {
  return h("span", { class: `pill pill-${status || "unknown"}` }, (status || "unknown").replace("_", " "));
}

/** A progress bar: `done` of `total` (indeterminate without a total). */
export function progress(done, total, label) {
  const attrs = { class: "progress", role: "progressbar", "aria-label": label || "progress" };
  if (total) {
    attrs["aria-valuemin"] = 0;
    attrs["aria-valuemax"] = total;
    attrs["aria-valuenow"] = done;
  }
  const pct = total ? Math.min(100, (100 * done) / total) : 100;
  const bar = h("div", { class: total ? "progress-bar" : "progress-bar indeterminate" });
  bar.style.width = `${pct}%`; // through the CSSOM: the page's policy refuses inline styles
  return h("div", attrs, bar);
}

/** A table of rows (objects) over the given columns (`[key, heading]` or key). */
export function table(columns, rows, opts = {}) {
  const cols = columns.map((c) => (Array.isArray(c) ? c : [c, c]));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: opts.class || "" },
      opts.caption ? h("caption", {}, opts.caption) : null,
      h("thead", {}, h("tr", {}, cols.map(([, head]) => h("th", { scope: "col" }, head)))),
      h(
        "tbody",
        {},
        rows.length === 0
          ? h("tr", {}, h("td", { colspan: cols.length, class: "empty" }, opts.empty || "Nothing yet."))
          : rows.map((r) =>
              h(
                "tr",
                { class: opts.rowClass ? opts.rowClass(r) : null },
                cols.map(([key]) => h("td", {}, cell(typeof key === "function" ? key(r) : r[key]))),
              ),
            ),
      ),
    ),
  );
}

function cell(v) {
  if (v instanceof Node) return v;
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** A definition list of label → value. */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

/** A labelled form field. */
export function field(label, input) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}
