// The status page: reads /api/health and /api/runs, draws three uPlot charts, cards and
// the recent runs. Everything comes from this server (no CDN), so it renders offline.
// When drawn, <html data-rendered="true" data-runs="N">: the browser test waits for it.
"use strict";

const COLORS = {
  added: "#34d399", updated: "#60a5fa", deleted: "#f87171", restored: "#fbbf24",
  daily: "#60a5fa", reconcile: "#a78bfa", initial: "#34d399",
  muted: "#8d97b0", grid: "#263049",
};
const CHANGES = ["added", "updated", "deleted", "restored"];
const REFRESH_MS = 60_000;
const fmt = new Intl.NumberFormat("en");
const charts = [];

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  children.forEach((c) => node.append(c));
  return node;
}

function epoch(iso) { return Date.parse(iso) / 1000; }

function ago(iso) {
  const s = Date.now() / 1000 - epoch(iso);
  if (s < 90) return "just now";
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h ago`;
  return `${(s / 86400).toFixed(1)} d ago`;
}

function when(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function count(run, change) { return run[`items_${change}`] || 0; }

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok && !("findings" in body)) throw new Error(body.error || response.status);
  return body;
}

function axes(yLabel) {
  const axis = { stroke: COLORS.muted, grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: COLORS.grid, width: 1 } };
  return [axis, { ...axis, label: yLabel, size: 64,
    // arcsinh splits reach below zero; counts never do
    values: (u, splits) => splits.map((v) => (v == null || v < 0 ? "" : fmt.format(v))) }];
}

function chart(target, opts, data) {
  const node = $(target);
  node.textContent = "";
  const width = Math.max(node.clientWidth, 320);
  const plot = new uPlot({ width, height: node.dataset.height ? +node.dataset.height : 240,
    cursor: { points: { size: 8 } }, ...opts }, data, node);
  charts.push([plot, node]);
  return plot;
}

// Stacked bars on an arcsinh scale: each series is drawn as the running total of itself and
// those below it, tallest first, so the top of each segment is its stack height; the legend
// shows the run's own count.
function drawItems(runs) {
  const xs = runs.map((r) => epoch(r.started_at));
  const order = [...CHANGES].reverse();
  const stacks = order.map((_, i) => runs.map((r) =>
    CHANGES.slice(0, CHANGES.length - i).reduce((sum, c) => sum + count(r, c), 0)));
  const series = [{ label: "run started", value: (u, v) => (v == null ? "–" : when(v * 1000)) }]
    .concat(order.map((change) => ({
      label: change,
      stroke: COLORS[change],
      fill: COLORS[change] + "cc",
      width: 0,
      paths: uPlot.paths.bars({ size: [0.7, 28], align: 0 }),
      points: { show: false },
      value: (u, v, si, i) => (i == null ? "–" : fmt.format(count(runs[i], change))),
    })));
  chart("chart-items", {
    series,
    scales: { x: { time: true, distr: 2 }, y: { distr: 4, asinh: 1, range: (u, min, max) => [0, max * 1.15 || 1] } },
    axes: axes("items"),
  }, [xs, ...stacks]);
}

function drawDuration(runs) {
  const xs = runs.map((r) => epoch(r.started_at));
  const types = ["daily", "reconcile", "initial"].filter((t) => runs.some((r) => r.sync_type === t));
  chart("chart-duration", {
    series: [{ label: "run started", value: (u, v) => (v == null ? "–" : when(v * 1000)) }]
      .concat(types.map((t) => ({
        label: t, stroke: COLORS[t], width: 2, spanGaps: true,
        points: { show: true, size: 7, fill: COLORS[t] },
        value: (u, v) => (v == null ? "–" : `${fmt.format(v)} s`),
      }))),
    scales: { x: { time: true, distr: 2 } },
    axes: axes("seconds"),
  }, [xs, ...types.map((t) => runs.map((r) => (r.sync_type === t ? r.duration_seconds : null)))]);
}

function drawMirror(runs) {
  const xs = runs.map((r) => epoch(r.completed_at || r.started_at));
  chart("chart-mirror", {
    series: [{ label: "after run", value: (u, v) => (v == null ? "–" : when(v * 1000)) },
      { label: "live", stroke: COLORS.added, fill: COLORS.added + "33", width: 2,
        paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v == null ? "–" : fmt.format(v)) },
      { label: "deleted", stroke: COLORS.deleted, width: 2, dash: [6, 4],
        paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v == null ? "–" : fmt.format(v)) }],
    scales: { x: { time: true } },
    axes: axes("rows"),
  }, [xs, runs.map((r) => r.mirror_live), runs.map((r) => r.mirror_rows - r.mirror_live)]);
}

function drawHealth(report) {
  const pill = $("health");
  pill.dataset.level = report.level;
  pill.textContent = report.level;
  const list = $("findings");
  list.replaceChildren(...report.findings.filter((f) => f.level !== "OK")
    .map((f) => el("li", { "data-level": f.level }, `${f.level}: ${f.message}`)));
  list.hidden = list.children.length === 0;
  if (report.level === "OK" && report.findings.length) pill.title = report.findings[0].message;
}

function drawCards(newestFirst, mirror) {
  $("kpi-live").textContent = fmt.format(mirror.live);
  $("kpi-deleted").textContent = `${fmt.format(mirror.deleted)} soft-deleted`;
  const daily = newestFirst.find((r) => r.sync_type === "daily");
  $("kpi-daily").textContent = daily ? ago(daily.started_at) : "never";
  $("kpi-daily-sub").textContent = daily
    ? `${daily.status} · ${fmt.format(count(daily, "added"))} added, ` +
      `${fmt.format(count(daily, "updated"))} updated`
    : "no daily sync yet";
  const pass = newestFirst.find((r) => r.sync_type !== "daily" && r.status === "completed");
  $("kpi-pass").textContent = pass ? ago(pass.completed_at || pass.started_at) : "never";
  $("kpi-pass-sub").textContent = pass ? `${pass.sync_type} run ${pass.id}` : "run an ingest";
  const weekAgo = Date.now() / 1000 - 7 * 86400;
  const week = newestFirst.filter((r) => epoch(r.started_at) >= weekAgo && r.sync_type !== "initial");
  const sums = Object.fromEntries(CHANGES.map((c) => [c, week.reduce((s, r) => s + count(r, c), 0)]));
  $("kpi-week").textContent = fmt.format(CHANGES.reduce((s, c) => s + sums[c], 0));
  $("kpi-week-sub").textContent = `+${fmt.format(sums.added)} · ~${fmt.format(sums.updated)} · ` +
    `−${fmt.format(sums.deleted)} · ↺${fmt.format(sums.restored)} in ${week.length} runs`;
}

function drawRuns(newestFirst) {
  $("runs").replaceChildren(...newestFirst.slice(0, 15).map((r) => el("li", { "data-run": r.id },
    el("span", { class: "id" }, `#${r.id}`),
    el("span", {}, r.sync_type),
    el("span", { class: "status", "data-status": r.status }, r.status),
    el("span", { class: "counts" }, ...CHANGES.map((c) =>
      el("span", { class: c, title: c }, `${c[0].toUpperCase()} ${fmt.format(count(r, c))}`)),
      el("span", { title: "API requests" }, `${fmt.format(r.api_requests_made || 0)} req`)),
    el("span", { class: "when" }, `${when(r.started_at)} · ${r.duration_seconds ?? "…"} s`))));
}

async function render() {
  const root = document.documentElement;
  try {
    const [report, data] = await Promise.all([getJSON("/api/health"), getJSON("/api/runs?limit=200")]);
    charts.splice(0).forEach(([plot]) => plot.destroy());
    const newestFirst = data.runs;
    const runs = [...newestFirst].reverse();
    drawHealth(report);
    drawCards(newestFirst, data.mirror);
    drawItems(runs);
    drawDuration(runs);
    drawMirror(runs);
    drawRuns(newestFirst);
    $("updated").textContent = `updated ${when(new Date().toISOString())}`;
    root.dataset.runs = String(runs.length);
    root.dataset.rendered = "true";
    delete root.dataset.error;
  } catch (error) {
    root.dataset.error = String(error.message || error);
    $("updated").textContent = `could not load: ${root.dataset.error}`;
  }
}

window.addEventListener("resize", () => charts.forEach(([plot, node]) =>
  plot.setSize({ width: Math.max(node.clientWidth, 320), height: plot.height })));
$("chart-items").dataset.height = "280";
render();
setInterval(render, REFRESH_MS);
