// gridtape dashboard: history from /api/history, then live updates from /events (SSE).
// The same point shapes come from history, snapshots and live events, so one merge serves all.
"use strict";

const ISOS = ["CAISO", "ERCOT", "ISONE", "MISO", "NYISO", "PJM", "SPP"];
const COLOURS = ["#e3b341", "#f85149", "#58a6ff", "#3fb950", "#bc8cff", "#ff7b72", "#39c5cf"];
const KEEP = 2016; // points per series (a week of 5-minute intervals)

const S = {
  price: new Map(), // "iso|location|market" -> Map(sec -> $/MWh)
  load: new Map(), // iso -> Map(sec -> MW)
  spread: new Map(), // "a_iso|a_hub|b_iso|b_hub" -> Map(sec -> $/MWh)
  vol: new Map(), // "iso|location|window" -> Map(sec -> vol_abs)
  latest: new Map(), // price key -> {t, v}
  headline: {},
  pairs: [],
  health: {},
  alerts: [],
  active: new Map(),
  epoch: null,
  lastUpdate: null,
};

const sec = (t) => Date.parse(t) / 1000;
const fmtT = (t) => (t ? t.replace("T", " ").replace(/(:00)?(\.\d+)?Z$/, "") : "");
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

function put(map, key, t, v) {
  let series = map.get(key);
  if (!series) map.set(key, (series = new Map()));
  series.set(sec(t), v);
  if (series.size > KEEP) series.delete(Math.min(...series.keys()));
}

function mergePoint(p) {
  if (p.k === "price") {
    const key = `${p.iso}|${p.location}|${p.market}`;
    put(S.price, key, p.t, p.v);
    const cur = S.latest.get(key);
    if (!cur || cur.t <= p.t) S.latest.set(key, { iso: p.iso, location: p.location, market: p.market, t: p.t, v: p.v });
  } else if (p.k === "load") {
    put(S.load, p.iso, p.t, p.v);
  } else if (p.k === "spread") {
    put(S.spread, p.pair.join("|"), p.t, p.v);
  }
}

function mergeVol(v) {
  put(S.vol, `${v.iso}|${v.location}|${v.window_minutes}`, v.t, v.vol_abs);
}

function mergeAlert(a) {
  S.alerts.unshift(a);
  S.alerts.length = Math.min(S.alerts.length, 200);
  const key = `${a.rule}|${a.subject}`;
  if (a.state === "firing") S.active.set(key, a);
  else S.active.delete(key);
}

// ------------------------------------------------------------------ charts
const charts = {};

function aligned(seriesList) {
  const xs = [...new Set(seriesList.flatMap((m) => (m ? [...m.keys()] : [])))].sort((a, b) => a - b);
  return [xs, ...seriesList.map((m) => xs.map((x) => (m && m.has(x) ? m.get(x) : null)))];
}

function chart(id, labels, data, axes) {
  const el = document.getElementById(id);
  const width = Math.max(300, el.clientWidth);
  const key = id + "|" + labels.join(",");
  if (charts[id] && charts[id].key === key) {
    charts[id].plot.setData(data);
    return;
  }
  if (charts[id]) charts[id].plot.destroy();
  const series = [{}, ...labels.map((label, i) => ({
    label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: true, scale: axes && axes.scales ? axes.scales[i] : "y",
    // Markers only while a series is too short to draw a line (a fresh feed's first point).
    points: { show: (u, si) => u.data[si].filter((v) => v !== null).length < 3 },
  }))];
  const axisStyle = { stroke: "#7d8a97", grid: { stroke: "#2a333d" }, ticks: { stroke: "#2a333d" } };
  const yAxes = axes && axes.right
    ? [{ ...axisStyle, scale: "y" }, { ...axisStyle, scale: "y2", side: 1, grid: { show: false } }]
    : [{ ...axisStyle, scale: "y" }];
  const plot = new uPlot({
    width, height: 220, series, axes: [axisStyle, ...yAxes],
    scales: { x: { time: true } }, legend: { live: false },
  }, data, el);
  charts[id] = { plot, key };
}

function setCount(id, n) {
  document.getElementById(id).dataset.points = String(n);
}

function render() {
  renderPrices();
  renderVolatility();
  renderDemand();
  renderSpreads();
  renderHealth();
  renderAlerts();
  const up = document.getElementById("updated");
  up.textContent = S.lastUpdate ? `updated ${new Date(S.lastUpdate).toLocaleTimeString()}` : "no data yet";
}

function renderPrices() {
  const isos = ISOS.filter((iso) => S.headline[iso]);
  const series = isos.map((iso) => S.price.get(`${iso}|${S.headline[iso]}|RT5`));
  chart("prices-chart", isos.map((iso) => `${iso} ${S.headline[iso]}`), aligned(series), null);
  const rows = [...S.latest.values()].sort((a, b) => (a.iso + a.location + a.market).localeCompare(b.iso + b.location + b.market));
  document.querySelector("#price-table tbody").innerHTML = rows.map((r) =>
    `<tr data-iso="${r.iso}" data-location="${esc(r.location)}" data-market="${r.market}"><td>${r.iso}</td><td>${esc(r.location)} <span class="muted">${r.market}</span></td><td>${fmtT(r.t)}</td><td class="num">${num(r.v)}</td></tr>`).join("");
  setCount("prices", series.reduce((n, m) => n + (m ? m.size : 0), 0) + rows.length);
}

function renderVolatility() {
  const windows = [...new Set([...S.vol.keys()].map((k) => Number(k.split("|")[2])))].sort((a, b) => a - b);
  const w = windows[0] || 60;
  document.getElementById("vol-window").textContent = String(w);
  const isos = ISOS.filter((iso) => S.headline[iso]);
  const series = isos.map((iso) => S.vol.get(`${iso}|${S.headline[iso]}|${w}`));
  chart("vol-chart", isos.map((iso) => `${iso} ${S.headline[iso]}`), aligned(series), null);
  setCount("volatility", series.reduce((n, m) => n + (m ? m.size : 0), 0));
}

function renderDemand() {
  const sel = document.getElementById("region");
  if (!sel.options.length) {
    sel.innerHTML = ISOS.map((iso) => `<option value="${iso}">${iso}</option>`).join("");
    sel.value = "PJM";
    sel.addEventListener("change", () => render());
  }
  const iso = sel.value;
  const load = S.load.get(iso);
  const price = S.price.get(`${iso}|${S.headline[iso]}|RT5`);
  chart("demand-chart", [`${iso} load MW`, `${iso} ${S.headline[iso] || ""} $/MWh`], aligned([load, price]),
    { right: true, scales: ["y", "y2"] });
  setCount("demand", (load ? load.size : 0) + (price ? price.size : 0));
}

function renderSpreads() {
  const keys = S.pairs.map((p) => p.join("|"));
  const series = keys.map((k) => S.spread.get(k));
  chart("spread-chart", S.pairs.map((p) => `${p[0]} ${p[1]} − ${p[2]} ${p[3]}`), aligned(series), null);
  document.querySelector("#spread-table tbody").innerHTML = S.pairs.map((p, i) => {
    const m = series[i];
    if (!m || !m.size) return `<tr data-pair="${esc(keys[i])}"><td>${p[0]} ${esc(p[1])}</td><td>${p[2]} ${esc(p[3])}</td><td></td><td class="num">–</td></tr>`;
    const t = Math.max(...m.keys());
    return `<tr data-pair="${esc(keys[i])}"><td>${p[0]} ${esc(p[1])}</td><td>${p[2]} ${esc(p[3])}</td><td>${fmtT(new Date(t * 1000).toISOString())}</td><td class="num">${num(m.get(t))}</td></tr>`;
  }).join("");
  setCount("spreads", series.reduce((n, m) => n + (m ? m.size : 0), 0));
}

function age(s) {
  if (s === null || s === undefined) return "no data";
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} d`;
}

function renderHealth() {
  const rows = ISOS.map((iso) => {
    const h = S.health[iso] || { status: "none", age_s: null };
    return `<tr data-iso="${iso}" data-status="${h.status}"><td><span class="dot"></span></td><td>${iso}</td><td>${fmtT(h.interval_end)}</td><td>${age(h.age_s)}</td></tr>`;
  });
  document.querySelector("#health-table tbody").innerHTML = rows.join("");
  setCount("health", ISOS.filter((iso) => S.health[iso] && S.health[iso].status !== "none").length);
}

function renderAlerts() {
  const list = document.getElementById("alert-list");
  list.innerHTML = S.alerts.length
    ? S.alerts.map((a) => `<li class="${a.state}" data-rule="${esc(a.rule)}">${fmtT(a.at)} ${esc(a.message)}</li>`).join("")
    : '<li class="muted">no alerts</li>';
  document.getElementById("alert-count").textContent = S.active.size ? `${S.active.size} active` : "none active";
  setCount("alerts", S.alerts.length);
}

let pending = false;
function schedule() {
  S.lastUpdate = Date.now();
  if (pending) return;
  pending = true;
  setTimeout(() => { pending = false; render(); }, 200);
}

// ------------------------------------------------------------------ data in
function applySnapshot(snap) {
  S.headline = snap.headline || S.headline;
  S.pairs = snap.pairs || S.pairs;
  S.epoch = snap.epoch;
  (snap.points || []).forEach(mergePoint);
  (snap.volatility || []).forEach(mergeVol);
  if (snap.health) S.health = snap.health;
  // A new feed process starts with its own alert episodes: take its active set, keep the log.
  S.active = new Map((snap.active || []).map((a) => [`${a.rule}|${a.subject}`, a]));
  const seen = new Set(S.alerts.map((a) => `${a.at}|${a.rule}|${a.subject}|${a.state}`));
  (snap.alerts || []).filter((a) => !seen.has(`${a.at}|${a.rule}|${a.subject}|${a.state}`)).forEach((a) => S.alerts.unshift(a));
  schedule();
}

function setConn(state) {
  const el = document.getElementById("conn");
  el.className = `conn ${state}`;
  el.dataset.state = state;
  el.textContent = state;
}

let source = null;
function connect() {
  source = new EventSource("/events");
  source.onopen = () => setConn("live");
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      setConn("closed"); // the browser gave up (e.g. an HTTP error): try again ourselves
      setTimeout(connect, 2000);
    } else {
      setConn("reconnecting");
    }
  };
  source.addEventListener("snapshot", (e) => applySnapshot(JSON.parse(e.data)));
  source.addEventListener("ticks", (e) => { JSON.parse(e.data).forEach(mergePoint); schedule(); });
  source.addEventListener("volatility", (e) => { JSON.parse(e.data).forEach(mergeVol); schedule(); });
  source.addEventListener("health", (e) => { S.health = JSON.parse(e.data); schedule(); });
  source.addEventListener("alert", (e) => { mergeAlert(JSON.parse(e.data)); schedule(); });
}

async function loadHistory(hours) {
  try {
    const resp = await fetch(`/api/history?hours=${hours}`);
    const h = await resp.json();
    (h.points || []).forEach(mergePoint);
    (h.volatility || []).forEach(mergeVol);
    schedule();
  } catch (err) {
    console.warn("history unavailable", err);
  }
}

// ------------------------------------------------------------------ price vs context
// Hourly rows of the warehouse's enriched_prices (/api/enrichment). null = unknown: a gap in the
// line (spanGaps off), never a zero.
const ENRICH = [ // [column, label, scale, unit, digits]; customers out only when known
  ["lmp", "price $/MWh", "usd", "$/MWh", 2],
  ["outage_mw", "outage MW", "mw", "MW", 0],
  ["temperature_c", "temperature °C", "c", "°C", 1],
  ["customers_out", "customers out", "n", "", 0],
];
const TABLE_ONLY = [["load_mw", "load", "MW", 0], ["dew_point_c", "dew point", "°C", 1], ["wind_mps", "wind", "m/s", 1],
  ["outage_scope", "outage scope", "", null]];
S.enrich = null;
let enrichSeq = 0;

async function loadEnrichment() {
  const iso = document.getElementById("enrich-iso").value || "PJM";
  const hub = document.getElementById("enrich-hub").value || "";
  const seq = ++enrichSeq;
  try {
    const resp = await fetch(`/api/enrichment?iso=${encodeURIComponent(iso)}&hub=${encodeURIComponent(hub)}&hours=48`);
    if (!resp.ok) throw new Error(await resp.text());
    const data = await resp.json();
    if (seq === enrichSeq) { S.enrich = data; renderEnrichment(); }
  } catch (err) {
    console.warn("enrichment unavailable", err);
    if (seq === enrichSeq) { S.enrich = { t: [], series: {}, known: {}, note: "context unavailable" }; renderEnrichment(); }
  }
}

function setupEnrichment() {
  const isoSel = document.getElementById("enrich-iso");
  const hubSel = document.getElementById("enrich-hub");
  isoSel.innerHTML = ISOS.map((iso) => `<option value="${iso}">${iso}</option>`).join("");
  isoSel.value = "PJM";
  isoSel.addEventListener("change", () => { hubSel.innerHTML = ""; delete hubSel.dataset.iso; loadEnrichment(); });
  hubSel.addEventListener("change", () => loadEnrichment());
  setInterval(loadEnrichment, 10 * 60 * 1000); // the nightly enrichment changes rarely
  loadEnrichment();
}

function renderEnrichment() {
  const d = S.enrich;
  if (!d) return;
  const hubSel = document.getElementById("enrich-hub");
  if (d.hubs && hubSel.dataset.iso !== d.iso) {
    hubSel.innerHTML = d.hubs.map((h) => `<option value="${esc(h)}">${esc(h)}</option>`).join("");
    hubSel.dataset.iso = d.iso;
  }
  if (d.hub) hubSel.value = d.hub;
  const known = d.known || {};
  const shown = ENRICH.filter(([c]) => c !== "customers_out" || known[c] > 0);
  const xs = (d.t || []).map(sec);
  const data = [xs, ...shown.map(([c]) => (d.series && d.series[c]) || xs.map(() => null))];
  const el = document.getElementById("enrich-chart");
  const key = "enrich-chart|" + shown.map(([c]) => c).join(",");
  if (charts["enrich-chart"] && charts["enrich-chart"].key === key) {
    charts["enrich-chart"].plot.setData(data);
  } else {
    if (charts["enrich-chart"]) charts["enrich-chart"].plot.destroy();
    const axisStyle = { stroke: "#7d8a97", grid: { stroke: "#2a333d" }, ticks: { stroke: "#2a333d" } };
    const side = { ...axisStyle, side: 1, grid: { show: false } };
    const plot = new uPlot({
      width: Math.max(300, el.clientWidth), height: 220,
      series: [{}, ...shown.map(([c, label, scale, unit, digits], i) => ({
        label, scale, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false,
        value: (u, v) => (v === null || v === undefined ? "–" : `${num(v, digits)} ${unit}`.trim()),
      }))],
      axes: [axisStyle, { ...axisStyle, scale: "usd", label: "$/MWh" }, { ...side, scale: "mw", label: "MW" },
        { ...side, scale: "c", label: "°C" }],
      scales: { x: { time: true } },
    }, data, el);
    charts["enrich-chart"] = { plot, key };
  }
  const notes = [];
  if (d.note) notes.push(d.note);
  else {
    if (!known.outage_mw) notes.push("no outage report for these hours");
    if (!known.temperature_c) notes.push("no weather observations for these hours");
    if (!known.customers_out) notes.push("customers out not known");
  }
  const note = document.getElementById("enrich-note");
  note.textContent = (d.zone ? `zone ${d.zone}` + (notes.length ? " · " : "") : "") + notes.join(" · ");
  // Per series: the newest known value (its hour on hover) and how many hours are known.
  const cols = [...ENRICH.map(([c, label, , unit, digits]) => [c, label, unit, digits]), ...TABLE_ONLY];
  const newest = cols.map(([c, , unit, digits]) => {
    const vals = (d.series && d.series[c]) || [];
    let i = vals.length - 1;
    while (i >= 0 && vals[i] === null) i--;
    const v = i < 0 ? "–" : digits === null ? esc(vals[i]) : `${num(vals[i], digits)} ${unit}`.trim();
    return `<td class="num" data-series="${c}" title="${i < 0 ? "unknown" : fmtT(d.t[i])}">${v}</td>`;
  });
  const counts = cols.map(([c]) => `<td class="num" data-series="${c}">${known[c] || 0} / ${(d.t || []).length}</td>`);
  document.querySelector("#enrich-table thead").innerHTML = `<tr><th></th>${cols.map(([, label]) => `<th class="num">${label}</th>`).join("")}</tr>`;
  document.querySelector("#enrich-table tbody").innerHTML =
    `<tr class="newest"><td>newest</td>${newest.join("")}</tr><tr class="known"><td>known hours</td>${counts.join("")}</tr>`;
  const sec_ = document.getElementById("enrichment");
  sec_.dataset.hours = String(xs.length);
  setCount("enrichment", Object.values(known).reduce((n, k) => n + k, 0));
}

window.gridtape = { S, charts }; // for the browser test: the plotted data of each chart

window.addEventListener("resize", () => { for (const k of Object.keys(charts)) { charts[k].plot.destroy(); delete charts[k]; } render(); renderEnrichment(); });
render();
setupEnrichment();
connect();
loadHistory(24);
