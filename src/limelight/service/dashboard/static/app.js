// limelight dashboard: a small single-page app. Sign in with an API key (kept in sessionStorage),
// then each page asks the REST API with that key; pages the key's role may not use are not shown.
"use strict";

const KEY = "limelight.key";
const main = document.getElementById("main");
let me = null;
let navigation = 0;  // bumped by every route(): a page whose requests finish after the reader moved on paints nothing
function stale(ticket) { return ticket !== navigation; }

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY), ...(options.headers || {}) };
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.statusText;
    const err = new Error(message);
    err.status = response.status;
    throw err;
  }
  return body;
}

function may(action) { return me && me.allowed.includes(action); }
function has(router) { return me && me.routers.includes(router); }
function rows(table) { return (me && me.data && me.data[table]) || 0; }

// -- charts (inline SVG) ---------------------------------------------------------------------
// a label cut to `room` characters, keeping its end ("… (exhibition year 2)") where it tells bars apart
function shorten(text, room, keep = "") {
  const tail = keep ? ` (${keep})` : "";
  return text.length + tail.length <= room ? text + tail : text.slice(0, Math.max(room - tail.length - 1, 4)) + "…" + tail;
}

function barChart(items, { width = 640, barHeight = 18, label = 260, name = "bar chart", format = (v) => v.toFixed(3) } = {}) {
  const max = Math.max(...items.map((i) => i.value), 1e-9);
  const rows = items.map((item, n) => {
    const w = Math.max(1, ((width - label - 70) * item.value) / max);
    const y = n * (barHeight + 6);
    return `<g><title>${esc(item.full || item.label)}: ${esc(format(item.value))}</title><text x="0" y="${y + barHeight - 5}">${esc(item.label)}</text>
      <rect x="${label}" y="${y}" width="${w}" height="${barHeight}" fill="#f5c518" rx="2"></rect>
      <text x="${label + w + 6}" y="${y + barHeight - 5}">${esc(format(item.value))}</text></g>`;
  });
  return `<svg role="img" aria-label="${esc(name)}" width="${width}" height="${items.length * (barHeight + 6)}">${rows.join("")}</svg>`;
}

function lineChart(series, { width = 640, height = 260, xLabel = "", yLabel = "", name = "line chart" } = {}) {
  const colors = ["#f5c518", "#5fd38d", "#6bb4ff", "#ff8a65", "#c792ea", "#9aa8b5"];
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  const y1 = 1;  // shares: the axis runs to 100%, so curves compare by eye across pages and data
  const pad = 40;
  const sx = (x) => pad + ((width - 2 * pad) * (x - x0)) / (x1 - x0 || 1);
  const sy = (y) => height - pad - ((height - 2 * pad) * y) / y1;
  const paths = series.map((s, i) => {
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ");
    return `<path d="${d}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="2"></path>
      <text x="${width - pad + 4}" y="${20 + i * 14}" fill="${colors[i % colors.length]}">${esc(s.name)}</text>`;
  });
  const grid = [0.25, 0.5, 0.75, 1].map((g) => `<line x1="${pad}" y1="${sy(g)}" x2="${width - pad}" y2="${sy(g)}" stroke="#232b33"></line>
    <text x="${pad - 32}" y="${sy(g) + 4}">${g * 100}%</text>`).join("");
  const axes = `${grid}<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#3a4450"></line>
    <line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#3a4450"></line>
    <text x="${pad}" y="${height - 10}">${esc(xLabel)} ${x0}–${x1}</text>
    <text x="4" y="${pad - 8}">${esc(yLabel)}</text>`;
  return `<svg role="img" aria-label="${esc(name)}" width="${width + 320}" height="${height}">${axes}${paths.join("")}</svg>`;
}

function intervalChart(lower, mid, upper, { width = 520, unit = "hours" } = {}) {
  const max = Math.max(upper, 1);
  const s = (v) => 20 + ((width - 40) * v) / max;
  return `<svg role="img" aria-label="80% interval of ${unit}: ${fmt(lower)} to ${fmt(upper)}, forecast ${fmt(mid)}" width="${width}" height="50">
    <line x1="${s(lower)}" y1="25" x2="${s(upper)}" y2="25" stroke="#6bb4ff" stroke-width="8" stroke-linecap="round"></line>
    <circle cx="${s(mid)}" cy="25" r="7" fill="#f5c518"></circle>
    <text x="${s(lower)}" y="48">${fmt(lower)}</text><text x="${s(upper) - 30}" y="48">${fmt(upper)} ${unit}</text></svg>`;
}

function fmt(n) {
  if (n === null || n === undefined) return "—";
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (Math.abs(n) >= 1e3) return (n / 1e3).toFixed(1) + "k";
  return Number.isInteger(Number(n)) ? String(n) : Number(n).toFixed(1);
}

// -- pages -------------------------------------------------------------------------------------
function card(item) {
  return `<a class="card" href="#/title/${encodeURIComponent(item.title_id)}" data-title="${esc(item.title_id)}">
    <div class="name"><bdi>${esc(item.name)}</bdi></div>
    <div class="meta">${esc(item.kind)} · ${esc((item.genres || []).join(", "))}</div>
    <div class="reason">${esc(item.reason)}</div></a>`;
}

async function pageHome(params) {
  const ticket = navigation;
  let member = params.get("member");
  if (!member) {
    const members = await api("/v1/members?limit=1");
    member = members.member_ids[0];
    if (member === undefined) {
      if (!stale(ticket)) main.innerHTML = "<h2>Home screen</h2><p class='muted'>No members in the spine yet.</p>";
      return;
    }
  }
  const page = await api(`/v1/members/${encodeURIComponent(member)}/home`);
  if (stale(ticket)) return;
  main.innerHTML = `<h2>Home screen of member <span id="member-id"><bdi>${esc(member)}</bdi></span></h2>
    <form id="member-form"><input id="member-input" aria-label="member id" placeholder="member id" value="${esc(member)}"> <button>Show</button></form>
    ${page.rows.map((row) => `<section class="row" data-row="${esc(row.row_id)}"><h3>${esc(row.title)}</h3>
      <div class="cards">${row.items.map(card).join("")}</div></section>`).join("")}`;
  document.getElementById("member-form").onsubmit = (e) => {
    e.preventDefault();
    location.hash = "#/home?member=" + encodeURIComponent(document.getElementById("member-input").value.trim());
  };
}

async function pageTitle(titleId) {
  const ticket = navigation;
  const [title, similar] = await Promise.all([
    api(`/v1/titles/${encodeURIComponent(titleId)}`),
    api(`/v1/titles/${encodeURIComponent(titleId)}/similar?k=8`),
  ]);
  if (stale(ticket)) return;
  main.innerHTML = `<h2 id="title-name"><bdi>${esc(title.name)}</bdi></h2>
    <p class="muted">${esc(title.kind)} · ${esc((title.genres || []).join(", "))} · ${esc(title.release_date || "")}
      ${title.runtime_minutes ? " · " + Math.round(title.runtime_minutes) + " min" : ""} · ${esc(title.maturity_rating || "unrated")}</p>
    <div class="panel"><h3>Credits</h3>${title.credits.length ? `<ul>${title.credits.map((c) =>
      `<li>${esc(c.name)} — ${esc(c.role)}${c.character ? " as " + esc(c.character) : ""}</li>`).join("")}</ul>` : "<p class='muted'>No credits in the spine.</p>"}</div>
    <div class="panel"><h3>Similar titles</h3><div class="cards">${similar.map(card).join("")}</div></div>
    <div class="panel" id="forecast"><h3>Audience forecast</h3><p class="muted">${!(has("forecasts") && may("forecasts")) ? "Needs the valuation engine and an analyst key." : me.forecast_history ? "Forecasting… (the first forecast fits the model: a few seconds)" : "No engagement reports in the spine to learn from (limelight ingest netflix-engagement)."}</p></div>`;
  if (has("forecasts") && may("forecasts") && me.forecast_history) {
    const box = document.getElementById("forecast");
    const kind = title.kind === "film" ? "film" : "show";
    const today = new Date().toISOString().slice(0, 10);
    // The demo world's titles are synthetic and its history is Netflix's public reports: ask what the title
    // would draw as a release today (one reporting window, one fitted model), and say so.
    const asToday = me.forecast_history === "public" || !title.release_date;
    const body = { title: title.name.slice(0, 300), kind, release_date: asToday ? today : title.release_date,
      runtime_minutes: title.runtime_minutes || null, genres: (title.genres || []).join("|") || null, comparables: 5 };
    try {
      const f = await api("/v1/forecasts", { method: "POST", body: JSON.stringify(body) });
      if (!document.body.contains(box)) return;  // the reader moved on while it was fitting
      box.innerHTML = `<h3>Audience forecast (to ${esc(f.window_end)})</h3>
        ${asToday && title.release_date ? `<p class="muted" id="forecast-as">As a release on ${esc(today)} (the title's own date is ${esc(title.release_date)}).</p>` : ""}
        ${f.predicted_views != null ? `<p>Predicted views <b id="forecast-views">${fmt(f.predicted_views)}</b> (80% interval <span id="forecast-interval">${fmt(f.lower_views)} – ${fmt(f.upper_views)}</span>),
        hours ${fmt(f.predicted_hours)}.</p>` : `<p>Predicted hours <b id="forecast-hours">${fmt(f.predicted_hours)}</b> (80% interval ${fmt(f.lower_hours)} – ${fmt(f.upper_hours)}).
        <span class="muted" id="forecast-no-views">Views are hours ÷ runtime, and this title has no runtime${f.runtime_assumed ? " (the hours assume its kind's median runtime)" : ""}.</span></p>`}
        ${f.predicted_hours != null ? intervalChart(f.lower_hours, f.predicted_hours, f.upper_hours) : ""}
        <h4>Comparables</h4><table id="comparables"><tr><th>title</th><th>window</th><th>hours</th><th>why</th></tr>
        ${(f.comparables || []).map((c) => `<tr><td>${esc(c.title)}</td><td>${esc(c.window)}</td><td>${fmt(c.hours_viewed)}</td><td>${esc(c.reason)}</td></tr>`).join("")}</table>
        ${f.history ? `<p class="muted" id="forecast-history">Learned from ${esc(f.history)}.</p>` : ""}`;
    } catch (err) {
      if (document.body.contains(box)) box.innerHTML = `<h3>Audience forecast</h3><p class="muted">${esc(err.message)}</p>`;
    }
  }
}

// "yes" only when the views crossed the trigger *and* the title's release is one the bonus covers; a release
// before the bonus is a known no even where the trigger is unknown (no base: such windows are listed now)
function bonusVerdict(w) {
  if (!w.release_eligible) return w.eligible ? "no: crossed, but released before the bonus took effect" : "no: released before the bonus took effect";
  if (w.eligible === null || w.eligible === undefined) return "—";
  return w.eligible ? "yes" : "no";
}

async function pageTalent() {
  const ticket = navigation;
  let html = "<h2>Talent pay</h2>";
  if (me.role === "person") {
    const s = await api(`/v1/talent/people/${encodeURIComponent(me.person_id)}/statement`);
    if (!s.lines.length) {  // nothing credited or measured yet: nothing is wrong, there is just nothing to state
      if (!stale(ticket)) main.innerHTML = `${html}<p class="muted" id="no-credits">No credits with measured windows yet for ${esc(s.person_name)}: your statement appears once a title you worked on is credited and viewed.</p>`;
      return;
    }
    html += `<div class="panel"><h3>Statement of ${esc(s.person_name)}</h3>
      <p>Total bonus: <b>${esc(s.total_bonus === null ? "unknown" : (s.total_bonus_is_lower_bound ? "at least " : "") + s.total_bonus)}</b> · total pay: <b>${esc(s.total_pay === null ? "unknown (no residual supplied)" : s.total_pay_is_lower_bound ? `at least ${s.total_pay}; ${s.unknown_pay_lines} lines unknown` : s.total_pay)}</b></p>
      <table id="statement"><tr><th>title</th><th>role</th><th>window</th><th>views</th><th>bonus applies</th><th>views needed</th><th>note</th></tr>${s.lines.map((l) =>
        `<tr><td>${esc(l.title)}</td><td>${esc(l.role)}</td><td>${esc(l.window)}</td><td>${fmt(l.views)}</td><td>${esc(bonusVerdict(l))}</td><td>${l.release_eligible ? fmt(l.views_needed) : "—"}</td><td>${esc(l.note)}</td></tr>`).join("")}</table></div>`;
  } else {
    const windows = await api("/v1/talent/titles/windows?limit=20");
    html += `<div class="panel"><h3>Success-bonus metric by program window (views ÷ domestic subscribers)</h3>
      ${windows.length ? barChart(windows.filter((w) => w.metric != null).map((w) => ({ label: shorten(w.title, 58, w.window), full: `${w.title} (${w.window})`, value: w.metric })), { width: 760, label: 360, name: "success-bonus metric by program window", format: (v) => (v * 100).toFixed(2) + "%" }) : "<p class='muted'>No engagement in the spine yet.</p>"}
      <table id="windows"><tr><th>program</th><th>window</th><th>views</th><th>crossed the trigger</th><th>bonus applies</th><th>views needed</th></tr>${windows.map((w) =>
        `<tr><td>${esc(w.title)}</td><td>${esc(w.window)}</td><td>${fmt(w.views)}</td><td>${w.eligible === null ? "—" : w.eligible ? "yes" : "no"}</td><td>${esc(bonusVerdict(w))}</td><td>${w.release_eligible ? fmt(w.views_needed) : "—"}</td></tr>`).join("")}</table></div>`;
  }
  if (stale(ticket)) return;
  main.innerHTML = html;
}

async function pagePayments() {
  const ticket = navigation;
  if (!rows("payment_attempts")) {
    main.innerHTML = "<h2>Payments recovery</h2><p class='muted'>No payment attempts in the spine (the demo world has them).</p>";
    return;
  }
  const r = await api("/v1/payments/recovery?days=21");
  if (stale(ticket)) return;
  main.innerHTML = `<h2>Payments recovery</h2>
    <p>${fmt(r.failed_invoices)} failed renewals. Share recovered by day after the first failure, per decline category:</p>
    <div class="panel">${r.curves.length ? lineChart(r.curves.map((c) => ({ name: `${c.label} (n=${fmt(c.failed_invoices)})`, points: c.points.map((p) => ({ x: p.day, y: p.recovered_share })) })), { xLabel: "day", yLabel: "share recovered", name: "share of failed renewals recovered by day, per decline category" }) : "<p class='muted'>No failed renewals in the spine: every payment attempt succeeded.</p>"}</div>
    <div class="panel" id="at-risk"><h3>Renewals at risk this month</h3><p class="muted">Learning from the payment logs…</p></div>`;
  const panel = document.getElementById("at-risk");
  try {
    const a = await api("/v1/payments/at-risk?top=10");
    const e = a.evaluation;
    panel.innerHTML = `<h3>Renewals at risk in ${esc(a.month)}</h3>
      <p>${fmt(a.members_scored)} renewals due; about ${a.expected_lapses.toFixed(1)} expected to lapse for a failed payment.
      Checked on ${esc(e.test_months)}: AUC ${e.auc === null ? "—" : e.auc.toFixed(3)}, log loss ${e.log_loss.toFixed(4)} (base rate ${e.base_rate_log_loss.toFixed(4)}).</p>
      <table><tr><th>member</th><th>risk</th></tr>${a.at_risk.map((m) => `<tr><td>${esc(m.member_id)}</td><td>${(m.risk * 100).toFixed(1)}%</td></tr>`).join("")}</table>`;
  } catch (err) {
    panel.innerHTML = `<h3>Renewals at risk</h3><p class="muted">${esc(err.message)}</p>`;
  }
}

let trainingTimer = null;

// "ndcg@10 0.290 (0.271–0.309)": a metric's 95% interval over members sits beside it, not in its own column
function metricText(values) {
  return Object.entries(values).filter(([k]) => !/_(low|high)$/.test(k)).map(([k, x]) => {
    const digits = k === "members" ? 0 : 3;
    const interval = `${k}_low` in values ? ` (${Number(values[`${k}_low`]).toFixed(3)}–${Number(values[`${k}_high`]).toFixed(3)})` : "";
    return `${k} ${Number(x).toFixed(digits)}${interval}`;
  }).join(", ");
}

async function pageModels() {
  const ticket = navigation;
  const m = await api("/v1/models");
  if (stale(ticket)) return;
  const bars = [];
  for (const v of m.versions) for (const [protocol, values] of Object.entries(v.metrics || {}))
    for (const [name, value] of Object.entries(values)) if (name !== "members" && !/_(low|high)$/.test(name)) bars.push({ label: shorten(`v${v.version} ${protocol} ${name}`, 40), full: `v${v.version} ${protocol} ${name}`, value });
  main.innerHTML = `<h2>Models</h2>
    <p>Serving version <b id="serving">${m.serving ?? "default (no published model)"}</b>; registry current: ${m.current ?? "none"}.</p>
    ${m.engine_error ? `<p class="error">${esc(m.engine_error)}</p>` : ""}
    <div class="panel"><h3>Offline metrics by protocol</h3>${bars.length ? barChart(bars, { name: "offline metrics by model version and protocol" }) : "<p class='muted'>No metrics recorded.</p>"}</div>
    <div class="panel"><h3>Versions</h3><table id="versions"><tr><th>version</th><th>model</th><th>created</th><th>data</th><th>metrics</th></tr>
    ${m.versions.map((v) => `<tr><td>${v.version}${v.current ? " (current)" : ""}</td><td>${esc(v.model_name)}${v.params && v.params.chosen ? `<br><span class="muted chosen">${esc(v.params.chosen)}</span>` : ""}</td><td>${esc(v.created_at)}</td>
      <td>${esc(v.data.members ?? "")} members × ${esc(v.data.titles ?? "")} titles</td>
      <td>${esc(Object.entries(v.metrics).map(([p, vals]) => p + ": " + metricText(vals)).join("; "))}</td></tr>`).join("")}</table></div>
    <div class="panel"><h3>Training</h3>
      ${may("models.manage") ? `<button id="train">Train a new version</button> <button id="rollback">Roll back</button>` : ""}
      <p id="train-step" class="muted" role="status"></p><div class="progress" role="progressbar" aria-label="training progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div id="train-bar"></div></div></div>`;
  if (may("models.manage")) {
    document.getElementById("train").onclick = async () => {
      try { await api("/v1/models/train", { method: "POST", body: JSON.stringify({ model: "auto" }) }); } catch (err) { showTraining({ state: "failed", message: err.message, progress: 0, step: "" }); }
      pollTraining();
    };
    document.getElementById("rollback").onclick = async () => {
      try { await api("/v1/models/rollback", { method: "POST" }); route(); } catch (err) { document.getElementById("train-step").textContent = err.message; }
    };
  }
  pollTraining();
}

function showTraining(t) {
  const step = document.getElementById("train-step");
  const bar = document.getElementById("train-bar");
  if (!step || !bar) return;
  step.textContent = t.state === "idle" ? "No training has run in this process." :
    `${t.state}: ${t.step}${t.message ? " — " + t.message : ""}`;
  bar.style.width = Math.round(100 * (t.progress || 0)) + "%";
  bar.parentElement.setAttribute("aria-valuenow", String(Math.round(100 * (t.progress || 0))));
}

let trainingSeen = null;  // the finished job whose new version the page has already been redrawn for

async function pollTraining() {
  clearTimeout(trainingTimer);
  if (!location.hash.startsWith("#/models")) return;
  const t = await api("/v1/models/training");
  if (!location.hash.startsWith("#/models")) return;
  showTraining(t);
  if (t.state === "running") trainingTimer = setTimeout(pollTraining, 700);
  else if (t.state === "done" && trainingSeen !== t.finished_at) {
    // Redraw once for a job that just finished; after a rollback the served version differs from the
    // job's for good, so comparing versions alone redrew the page in a tight loop.
    trainingSeen = t.finished_at;
    const serving = document.getElementById("serving");
    if (serving && String(t.version) !== serving.textContent) pageModels();
  }
}

function pageSignIn(message) {
  main.innerHTML = `<h2>Sign in</h2><p>Paste an API key (from <code>limelight keys create --role ROLE</code>).
    It stays in this tab only (sessionStorage).</p>
    <form id="signin"><input id="key" type="password" autocomplete="off" aria-label="API key" placeholder="ll_..."> <button>Sign in</button></form>
    <p id="signin-error" class="error" role="alert">${esc(message || "")}</p>`;
  document.getElementById("signin").onsubmit = async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
    me = null;
    await route();  // on the page the reader asked for (a deep link survives signing in)
  };
}

// -- routing -----------------------------------------------------------------------------------
const PAGES = [
  // a member's rows are drawn from their viewing history (personal data): admins only, as the history itself
  { path: "home", label: "Home screen", allowed: () => may("member.history") },
  { path: "talent", label: "Talent pay", allowed: () => has("talent") && (may("talent.aggregate") || me.role === "person") },
  { path: "payments", label: "Payments recovery", allowed: () => has("payments") && may("payments") },
  { path: "models", label: "Models", allowed: () => may("models.read") },
];

function renderNav(current) {
  const nav = document.getElementById("nav");
  nav.innerHTML = PAGES.filter((p) => p.allowed()).map((p) =>
    `<a href="#/${p.path}" class="${p.path === current ? "active" : ""}"${p.path === current ? ' aria-current="page"' : ""} data-page="${p.path}">${p.label}</a>`).join("");
  document.getElementById("who").textContent = `key ${me.key_id} · role ${me.role}${me.person_id ? " · person " + me.person_id : ""}`;
  document.getElementById("banner").hidden = !me.synthetic;
  document.getElementById("signout").hidden = false;
}

function signedOut() {
  document.getElementById("nav").innerHTML = "";
  document.getElementById("who").textContent = "";
  document.getElementById("signout").hidden = true;
  document.getElementById("banner").hidden = true;
}

async function route() {
  clearTimeout(trainingTimer);
  const ticket = ++navigation;
  if (!sessionStorage.getItem(KEY)) { signedOut(); return pageSignIn(); }
  try {
    if (!me) me = await api("/v1/me");
  } catch (err) {
    sessionStorage.removeItem(KEY);
    signedOut();
    return pageSignIn(err.message);
  }
  if (stale(ticket)) return;
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "").split("?");
  const [page, arg] = path.split("/");
  const visible = PAGES.filter((p) => p.allowed());
  let target = page || (visible[0] && visible[0].path) || "none";
  renderNav(target === "title" ? "home" : target);
  main.innerHTML = "<p>Loading…</p>";
  try {
    let titleId = arg || "";
    try { titleId = decodeURIComponent(titleId); } catch { /* a stray '%': use the id as written */ }
    if (target === "title" && may("title.read")) await pageTitle(titleId);
    else if (target === "home" && PAGES[0].allowed()) await pageHome(new URLSearchParams(query || ""));
    else if (target === "talent" && PAGES[1].allowed()) await pageTalent();
    else if (target === "payments" && PAGES[2].allowed()) await pagePayments();
    else if (target === "models" && PAGES[3].allowed()) await pageModels();
    else if (PAGES.some((p) => p.path === target) || target === "title" || target === "none")
      main.innerHTML = `<h2>Nothing to show</h2><p>A key with role <b>${esc(me.role)}</b> has no dashboard page here.</p>`;
    else main.innerHTML = `<h2>No such page</h2><p>The dashboard has no page <code>#/${esc(target)}</code>.</p>`;
  } catch (err) {
    if (!stale(ticket)) main.innerHTML = `<p class="error" id="page-error" role="alert">${esc(err.message)}</p>`;
  }
  // A screen reader hears the new page, and Tab starts from it, not from the link left behind.
  if (!stale(ticket)) {
    const heading = main.querySelector("h2");
    if (heading) heading.tabIndex = -1;  // focusable by script, not a Tab stop
    (heading || main).focus({ preventScroll: true });
  }
}

document.getElementById("signout").onclick = () => {
  sessionStorage.removeItem(KEY);
  me = null;
  if (location.hash && location.hash !== "#/") location.hash = "#/";  // fires hashchange, which routes
  else route();
};
window.addEventListener("hashchange", route);
route();
