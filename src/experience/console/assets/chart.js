// A column's distribution, drawn as a bar chart (SVG): a histogram of numbers, or the most
// frequent values of anything else.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Bars `[label, count]` for a column's values. */
export function distribution(values) {
  const present = values.filter((v) => v !== null && v !== undefined && v !== "");
  const numbers = present.map((v) => (typeof v === "number" ? v : Number.NaN));
  if (present.length > 0 && numbers.every((n) => Number.isFinite(n))) {
    const lo = Math.min(...numbers);
    const hi = Math.max(...numbers);
    if (lo === hi) return [[String(lo), numbers.length]];
    const bins = Math.min(10, new Set(numbers).size);
    const width = (hi - lo) / bins;
    const counts = new Array(bins).fill(0);
    for (const n of numbers) counts[Math.min(bins - 1, Math.floor((n - lo) / width))] += 1;
    const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, ""));
    return counts.map((c, i) => [`${fmt(lo + i * width)} – ${fmt(lo + (i + 1) * width)}`, c]);
  }
  const counts = new Map();
  for (const v of present) {
    const k = typeof v === "object" ? JSON.stringify(v) : String(v);
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = top.slice(0, 10);
  const rest = top.slice(10).reduce((n, [, c]) => n + c, 0);
  if (rest > 0) shown.push([`${top.length - 10} other values`, rest]);
  return shown;
}

/** A horizontal bar chart of `[label, count]`. */
export function barChart(bars, title) {
  const rowH = 24;
  const labelW = 170;
  const plotW = 360;
  const height = bars.length * rowH + 8;
  const max = Math.max(1, ...bars.map(([, c]) => c));
  const summary = bars.map(([l, c]) => `${l}: ${c}`).join("; ");
  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${labelW + plotW + 50} ${height}`,
    role: "img",
    "aria-label": `${title}. ${summary}`,
  });
  bars.forEach(([label, count], i) => {
    const y = 4 + i * rowH;
    const w = Math.max(2, (plotW * count) / max);
    const text = label.length > 24 ? `${label.slice(0, 23)}…` : label;
    svg.append(
      s("text", { x: labelW - 8, y: y + 16, "text-anchor": "end", class: "chart-label" }, text),
      s("rect", { x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 3, class: "chart-bar" }, s("title", {}, `${label}: ${count}`)),
      s("text", { x: labelW + w + 6, y: y + 16, class: "chart-value" }, count),
    );
  });
  return h("figure", { class: "chart-figure" }, svg, h("figcaption", {}, title));
}
