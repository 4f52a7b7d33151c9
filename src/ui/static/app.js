// slawatch workbench: a read-only page over the case API (docs/escalation.md,
// "Workbench"). Plain JavaScript, no dependencies, no build step. It only
// reads: every request is a GET to /api/v1/...
"use strict";

const LABELS = {
  en: {
    title: "slawatch workbench", nav_breaches: "Breaches now", nav_case: "Case timeline", nav_ledger: "Ledger",
    language: "Language", token_needed: "This monitor wants its read token.", use_token: "Use token",
    state: "State", state_firing: "firing", state_resolved: "resolved", state_retracted: "retracted", any: "any",
    department: "Department", rule: "Rule", stage: "Stage", severity: "Severity", person: "Person on duty",
    due_from: "Due from", due_to: "Due before", apply: "Apply", export_csv: "Export CSV", case: "Case",
    due_at: "Due", overdue: "Overdue", on_duty: "On duty", case_id: "Case id", as_of: "As of", open: "Open",
    period_from: "From", period_to: "To (exclusive)", show: "Show", read_only: "Read-only: this page changes nothing.",
    times_in: "Times in", shown: "{n} alerts shown", more_than: "more than {n} match: narrow the filter",
    by_department: "By department", by_severity: "By severity", events: "Events", time: "Time", type: "Type",
    details: "Details", cycles: "Cycles", cycle: "Cycle", started: "Started", closed: "Closed", closed_by: "closed by",
    still_open: "still open", elapsed: "Clock ran", paused: "Paused", pauses: "Pauses", outcome: "Outcome",
    alerts: "Alert history", alert: "Alert", history: "History", fired: "fired", resolved: "resolved",
    retracted: "retracted", by_event: "by the late event", reason: "reason", no_alerts: "No alerts.",
    outcome_breached: "breached", outcome_met: "met", outcome_pending: "pending", outcome_paused: "paused",
    nobody: "nobody on duty", partition: "partition", clock: "state clock", headline:
      "{cases} cases, {people} person-times: {breaches} breached stages ({discipline} escalated to discipline inspection), {returns} returns, {transfers} transfers",
    by_person: "By person (duty officer at the due time)", cases: "Cases", breaches: "Breaches",
    overdue_total: "Overdue total", overdue_max: "Overdue max", returns: "Returns", transfers: "Transfers",
    discipline: "Discipline inspection", still_open_col: "Still open", person_col: "Person", now: "now",
    overdue_by: "{d} overdue", due_in: "due in {d}", timeline: "Timeline", enter_case: "Enter a case id.",
    unassigned: "unassigned", open_now: "open", loading: "Loading…",
  },
  zh: {
    title: "slawatch 纪检工作台", nav_breaches: "当前超时", nav_case: "工单时间线", nav_ledger: "问责台账",
    language: "语言", token_needed: "此监控需要读取令牌。", use_token: "使用令牌",
    state: "状态", state_firing: "告警中", state_resolved: "已恢复", state_retracted: "已撤回", any: "全部",
    department: "部门", rule: "规则", stage: "阶段", severity: "级别", person: "值班人员",
    due_from: "到期起", due_to: "到期止", apply: "筛选", export_csv: "导出 CSV", case: "工单",
    due_at: "到期", overdue: "超时", on_duty: "值班", case_id: "工单号", as_of: "截至", open: "打开",
    period_from: "起", period_to: "止（不含）", show: "显示", read_only: "只读：本页不做任何修改。",
    times_in: "时区", shown: "显示 {n} 条告警", more_than: "超过 {n} 条：请缩小筛选范围",
    by_department: "按部门", by_severity: "按级别", events: "事件", time: "时间", type: "类型",
    details: "详情", cycles: "周期", cycle: "周期", started: "开始", closed: "结束", closed_by: "结束事件",
    still_open: "仍未结束", elapsed: "计时", paused: "暂停", pauses: "暂停段", outcome: "结果",
    alerts: "告警记录", alert: "告警", history: "经过", fired: "触发", resolved: "恢复",
    retracted: "撤回", by_event: "迟到事件", reason: "原因", no_alerts: "无告警。",
    outcome_breached: "已超时", outcome_met: "按时", outcome_pending: "未到期", outcome_paused: "暂停中",
    nobody: "无人值班", partition: "分区", clock: "状态时钟", headline:
      "{cases} 件工单，{people} 人次：{breaches} 个超时阶段（{discipline} 个移交纪检），退回 {returns} 次，转派 {transfers} 次",
    by_person: "按人员（到期时的值班员）", cases: "工单", breaches: "超时",
    overdue_total: "超时合计", overdue_max: "最长超时", returns: "退回", transfers: "转派",
    discipline: "移交纪检", still_open_col: "仍未结束", person_col: "人员", now: "现在",
    overdue_by: "超时{d}", due_in: "{d}后到期", timeline: "时间线", enter_case: "请输入工单号。",
    unassigned: "未分配", open_now: "进行中", loading: "加载中…",
  },
};

const MAX_ALERTS = 20000;  // pages of 1000 fetched for one view
const state = {lang: "en", info: null, alerts: [], sort: {key: "due_at", desc: false}, clock: null};

function t(key, vars) {
  let text = (LABELS[state.lang] || LABELS.en)[key] || LABELS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) text = text.replace("{" + k + "}", v);
  return text;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ---- language ------------------------------------------------------------

// The stored choice, else the server's pick from Accept-Language (<html lang>).
function pickLanguage() {
  const stored = localStorage.getItem("slawatch.lang");
  if (stored && LABELS[stored]) return stored;
  return document.documentElement.lang === "zh" ? "zh" : "en";
}

function applyLabels() {
  document.documentElement.lang = state.lang;
  document.getElementById("lang").value = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  document.title = t("title");
  if (state.info) document.getElementById("zone-note").textContent = t("times_in") + " " + state.info.time_zone;
}

// ---- time and durations ----------------------------------------------------

function zone() { return state.info ? state.info.time_zone : "UTC"; }

function zoneParts(ms) {
  const f = new Intl.DateTimeFormat("en-US", {timeZone: zone(), hourCycle: "h23", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"});
  const p = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return p;
}

// "2026-03-02 08:25" in the city's zone.
function fmtTime(iso) {
  if (!iso) return "";
  const p = zoneParts(Date.parse(iso));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// A wall-clock time in the city's zone ("2026-03-02T08:25" from an input) as UTC milliseconds.
function fromZoneLocal(text) {
  if (!text) return null;
  const wall = Date.parse(text + (text.length <= 10 ? "T00:00:00Z" : text.length === 16 ? ":00Z" : "Z"));
  let utc = wall;
  for (let i = 0; i < 2; i++) {  // twice: the offset at the guess may differ across a DST change
    const p = zoneParts(utc);
    const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    utc += wall - shown;
  }
  return utc;
}

function toZoneLocalInput(ms, dateOnly) {
  const p = zoneParts(ms);
  return dateOnly ? `${p.year}-${p.month}-${p.day}` : `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// "1 h 12 min", "3 d 4 h", "45 s" / "1小时12分钟".
function fmtDuration(ms) {
  const zh = state.lang === "zh";
  const units = zh ? ["天", "小时", "分钟", "秒"] : [" d", " h", " min", " s"];
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  s = s % 60;
  const parts = [];
  if (d) parts.push(d + units[0]);
  if (h) parts.push(h + units[1]);
  if (m && !d) parts.push(m + units[2]);
  if (!d && !h && (s || !m)) parts.push(s + units[3]);
  return parts.slice(0, 2).join(zh ? "" : " ");
}

// ---- the API ---------------------------------------------------------------

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem("slawatch.token");
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, {headers});
  if (response.status === 401 || response.status === 403) {
    document.getElementById("token-form").hidden = false;
    throw new Error((await response.json()).error);
  }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return (response.headers.get("Content-Type") || "").startsWith("text/csv") ? response.text() : response.json();
}

function showError(error) {
  const node = document.getElementById("error");
  node.hidden = !error;
  node.textContent = error ? String(error.message || error) : "";
}

async function loadInfo() {
  state.info = await api("/api/v1/info");
  state.clock = state.info.partitions.reduce((m, p) => Math.max(m, Date.parse(p.as_of)), 0) || Date.now();
  document.getElementById("clock-note").textContent = t("clock") + ": " + fmtTime(new Date(state.clock).toISOString());
}

// ---- Breaches now ------------------------------------------------------------

function fillSelect(select, values, labelOf) {
  const chosen = select.value;
  select.replaceChildren(el("option", {value: "", textContent: t("any")}),
    ...values.map(v => el("option", {value: v, textContent: labelOf ? labelOf(v) : v})));
  select.value = values.includes(chosen) ? chosen : "";
}

function fillFilterChoices() {
  const form = document.getElementById("alert-filters");
  const info = state.info;
  fillSelect(form.department, info.departments.map(d => d.id),
    id => id === "unassigned" ? t("unassigned") : (info.departments.find(d => d.id === id).name || id));
  fillSelect(form.rule, info.rules.map(r => r.rule));
  const stages = [...new Set(info.rules.flatMap(r => r.stages.map(s => s.stage)))];
  const severities = [...new Set(info.rules.flatMap(r => r.stages.map(s => s.severity)))];
  fillSelect(form.stage, stages);
  fillSelect(form.severity, severities);
}

// The filter form as API parameters (times converted from the city's zone).
function filterParams() {
  const form = document.getElementById("alert-filters");
  const params = new URLSearchParams();
  for (const name of ["state", "department", "rule", "stage", "severity", "person"]) {
    const v = form[name].value.trim();
    if (v) params.set(name, v);
  }
  for (const name of ["from", "to"]) {
    const ms = fromZoneLocal(form[name].value);
    if (ms !== null) params.set(name, new Date(ms).toISOString());
  }
  return params;
}

function setFiltersFrom(params) {
  const form = document.getElementById("alert-filters");
  form.state.value = params.has("state") ? params.get("state") : "firing";
  for (const name of ["department", "rule", "stage", "severity", "person"]) form[name].value = params.get(name) || "";
  for (const name of ["from", "to"]) {
    form[name].value = params.has(name) ? toZoneLocalInput(Date.parse(params.get(name)), false) : "";
  }
}

// One alert flattened for the table, the sort and the CSV.
function alertRow(a) {
  const d = a.event.data || {};
  const people = (d.notify || []).map(n => n.role + "=" + (n.person === null || n.person === undefined ? "-" : n.person));
  const due = Date.parse(d.due_at);
  const end = d.closed_at ? Date.parse(d.closed_at) : state.clock;
  return {alert_id: a.alert_id, state: a.state, case_id: d.case_id || "", rule: d.rule || "",
          cycle: d.cycle === undefined ? "" : String(d.cycle), stage: d.stage || "", severity: d.severity || "",
          department: a.department, due_at: d.due_at || "", fired_at: d.fired_at || "", closed_at: d.closed_at || "",
          people: people.join("; "), notify: d.notify || [], overdue: end - due};
}

async function loadAlerts(params) {
  const rows = [];
  let cursor = null;
  do {
    const page = new URLSearchParams(params);
    page.set("limit", "1000");
    if (cursor) page.set("cursor", cursor);
    const body = await api("/api/v1/alerts?" + page);
    rows.push(...body.alerts.map(alertRow));
    cursor = body.next_cursor;
  } while (cursor && rows.length < MAX_ALERTS);
  state.alerts = rows;
  state.truncated = Boolean(cursor);
}

function sortedAlerts() {
  const {key, desc} = state.sort;
  const rows = [...state.alerts];
  rows.sort((a, b) => {
    const x = a[key], y = b[key];
    const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return (desc ? -c : c) || a.alert_id.localeCompare(b.alert_id);
  });
  return rows;
}

function countLine(label, rows, field) {
  const counts = {};
  for (const r of rows) counts[r[field]] = (counts[r[field]] || 0) + 1;
  const parts = Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  return el("span", {class: "count-line"}, `${label}: ${parts.join(", ")}`);
}

function renderAlerts() {
  const rows = sortedAlerts();
  const counts = document.getElementById("alert-counts");
  counts.replaceChildren(el("strong", {id: "alert-count", "data-count": String(rows.length)},
                            state.truncated ? t("more_than", {n: rows.length}) : t("shown", {n: rows.length})),
                         " ", countLine(t("by_department"), rows, "department"), " ",
                         countLine(t("by_severity"), rows, "severity"));
  const body = document.querySelector("#alerts tbody");
  body.replaceChildren(...rows.map(r => el("tr", {"data-alert": r.alert_id},
    el("td", {}, el("a", {href: "#/case/" + encodeURIComponent(r.case_id), textContent: r.case_id})),
    el("td", {textContent: r.rule}), el("td", {textContent: r.stage}),
    el("td", {class: "sev sev-" + r.severity, textContent: r.severity}),
    el("td", {textContent: r.department === "unassigned" ? t("unassigned") : r.department}),
    el("td", {textContent: fmtTime(r.due_at)}),
    el("td", {textContent: r.state === "retracted" ? "" : t("overdue_by", {d: fmtDuration(r.overdue)})}),
    el("td", {textContent: r.notify.map(n => n.person || t("nobody")).join(", "), title: r.people}),
    el("td", {textContent: t("state_" + r.state)}))));
  for (const th of document.querySelectorAll("#alerts th")) {
    th.classList.toggle("sorted", th.dataset.sort === state.sort.key);
    th.classList.toggle("desc", th.dataset.sort === state.sort.key && state.sort.desc);
  }
}

// The CSV of exactly the rows shown, in their order; the columns are those of
// GET /api/v1/alerts?format=csv (src/api/case_api.cc, alert_csv_row).
const CSV_COLUMNS = ["alert_id", "state", "case_id", "rule", "cycle", "stage", "severity", "department", "due_at",
                     "fired_at", "closed_at", "people"];
function csvCell(v) { return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; }
function alertsCsv(rows) {
  return CSV_COLUMNS.join(",") + "\n" + rows.map(r => CSV_COLUMNS.map(c => csvCell(r[c])).join(",") + "\n").join("");
}

function download(text, name) {
  const link = document.getElementById("csv-link");
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], {type: "text/csv;charset=utf-8"}));
  link.download = name;
  link.click();
}

async function showBreaches(params) {
  fillFilterChoices();
  setFiltersFrom(params);
  document.getElementById("alert-counts").textContent = t("loading");
  await loadAlerts(filterParams());
  renderAlerts();
}

// ---- Case timeline ---------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// The drawing: events on the top lane; each cycle a bar (pauses hatched) with its
// stages' due times as diamonds coloured by outcome; alerts as triangles (fired) and crosses (retracted).
function timelineSvg(c) {
  const asOf = Date.parse(c.as_of);
  const times = [asOf, ...c.events.map(e => Date.parse(e.time))];
  for (const r of c.rules) for (const cy of r.cycles) {
    times.push(Date.parse(cy.started_at));
    for (const s of cy.stages) if (s.due_at) times.push(Date.parse(s.due_at));
  }
  const lo = Math.min(...times), hi = Math.max(...times) + 1;
  const width = 960, left = 150, right = 20, laneH = 34;
  const lanes = c.rules.flatMap(r => r.cycles.map(cy => ({rule: r.rule, cycle: cy})));
  const height = 80 + laneH * (lanes.length + 1);
  const x = ms => left + (ms - lo) / (hi - lo) * (width - left - right);
  const root = svg("svg", {id: "timeline", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img"});
  const defs = svg("defs");
  const pattern = svg("pattern", {id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
                                  patternTransform: "rotate(45)"});
  pattern.append(svg("rect", {width: 6, height: 6, fill: "#ddd"}), svg("line", {x1: 0, y1: 0, x2: 0, y2: 6,
                                                                                  stroke: "#999", "stroke-width": 2}));
  defs.append(pattern);
  root.append(defs);
  for (let i = 0; i <= 4; i++) {  // time axis
    const ms = lo + (hi - lo) * i / 4;
    root.append(svg("line", {x1: x(ms), y1: 20, x2: x(ms), y2: height - 10, class: "grid"}),
                svg("text", {x: x(ms), y: 14, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", class: "tick"},
                    fmtTime(new Date(ms).toISOString())));
  }
  root.append(svg("line", {x1: x(asOf), y1: 20, x2: x(asOf), y2: height - 10, class: "asof"}),
              svg("text", {x: x(asOf), y: height - 2, "text-anchor": "middle", class: "tick"}, t("as_of")));
  let y = 40;
  root.append(svg("text", {x: 4, y: y + 4, class: "lane"}, t("events")));
  for (const e of c.events) {
    const g = svg("g", {class: "event", "data-event": e.id});
    g.append(svg("circle", {cx: x(Date.parse(e.time)), cy: y, r: 5}),
             svg("title", {}, `${fmtTime(e.time)} ${e.type.split(".").pop()} (${e.id})`));
    root.append(g);
  }
  for (const lane of lanes) {
    y += laneH;
    const cy = lane.cycle;
    root.append(svg("text", {x: 4, y: y + 4, class: "lane"}, `${lane.rule} #${cy.cycle}`));
    const start = Date.parse(cy.started_at), end = cy.closed_at ? Date.parse(cy.closed_at) : asOf;
    root.append(svg("rect", {x: x(start), y: y - 7, width: Math.max(1, x(end) - x(start)), height: 14,
                             class: cy.closed_at ? "cycle closed" : "cycle open", "data-cycle": cy.cycle}));
    for (const p of cy.pauses) {
      const from = Date.parse(p.from), to = p.to ? Date.parse(p.to) : asOf;
      root.append(svg("rect", {x: x(from), y: y - 7, width: Math.max(1, x(to) - x(from)), height: 14,
                               fill: "url(#hatch)", class: "pause"}));
    }
    for (const s of cy.stages) {
      if (!s.due_at) continue;
      const dx = x(Date.parse(s.due_at));
      const g = svg("g", {class: "stage " + s.outcome, "data-stage": s.stage});
      g.append(svg("path", {d: `M${dx} ${y - 11} L${dx + 7} ${y} L${dx} ${y + 11} L${dx - 7} ${y} Z`}),
               svg("title", {}, `${s.stage} ${t("due_at")} ${fmtTime(s.due_at)}: ${t("outcome_" + s.outcome)}`));
      root.append(g);
    }
    for (const a of c.alerts) {
      const d = a.event.data || {};
      if (d.rule !== lane.rule || d.cycle !== cy.cycle) continue;
      const at = Date.parse(a.state === "retracted" ? a.event.time : (d.fired_at || d.due_at));
      const ax = x(Math.min(Math.max(at, lo), hi));
      const mark = a.state === "retracted"
        ? svg("path", {d: `M${ax - 5} ${y + 13} l10 10 m0 -10 l-10 10`, class: "alert retracted"})
        : svg("path", {d: `M${ax} ${y + 12} l6 10 l-12 0 Z`, class: "alert " + a.state});
      root.append(mark);
    }
  }
  // The legend: what the marks mean, in the page's language.
  let lx = left;
  const legendY = height - 26;
  for (const [mark, cls, label] of [["diamond", "stage breached", t("outcome_breached")], ["diamond", "stage met", t("outcome_met")],
                                    ["diamond", "stage pending", t("outcome_pending")], ["triangle", "alert firing", t("fired")],
                                    ["triangle", "alert resolved", t("resolved")], ["cross", "alert retracted", t("retracted")],
                                    ["pause", "pause", t("paused")]]) {
    const g = svg("g", {class: cls + " legend"});
    if (mark === "diamond") g.append(svg("path", {d: `M${lx} ${legendY - 6} l6 6 l-6 6 l-6 -6 Z`}));
    else if (mark === "triangle") g.append(svg("path", {d: `M${lx} ${legendY - 6} l6 11 l-12 0 Z`}));
    else if (mark === "cross") g.append(svg("path", {d: `M${lx - 5} ${legendY - 5} l10 10 m0 -10 l-10 10`}));
    else g.append(svg("rect", {x: lx - 8, y: legendY - 6, width: 16, height: 12, fill: "url(#hatch)"}));
    root.append(g, svg("text", {x: lx + 10, y: legendY + 4, class: "tick"}, label));
    lx += 28 + 7 * label.length;
  }
  return root;
}

function stageOutcomeText(s) {
  let text = t("outcome_" + s.outcome);
  if (s.overdue_ms !== undefined) text += " (" + t("overdue_by", {d: fmtDuration(s.overdue_ms)}) + ")";
  return text;
}

// The alert's history as far as its latest CloudEvent tells it.
function alertHistory(a) {
  const d = a.event.data || {};
  const steps = [];
  steps.push(`${t("fired")} ${fmtTime(d.fired_at || d.due_at)}`);
  if (a.state === "resolved") {
    steps.push(`${t("resolved")} ${fmtTime(d.closed_at)}` +
               (d.overdue_seconds !== undefined ? ` (${t("overdue_by", {d: fmtDuration(d.overdue_seconds * 1000)})})` : ""));
  }
  const node = el("td", {}, steps.join(" → "));
  if (a.state === "retracted") {
    node.append(` → ${t("retracted")} ${fmtTime(a.event.time)} ${t("by_event")} `,
                el("a", {href: "#event-" + d.event_id, class: "retracting", textContent: d.event_id || "-"}),
                d.reason ? ` (${t("reason")}: ${d.reason})` : "");
  }
  return node;
}

function renderCase(c) {
  const body = document.getElementById("case-body");
  const head = el("p", {class: "case-head"},
    el("strong", {id: "case-title", textContent: c.case_id}),
    ` · ${t("partition")} ${c.partition} · ${t("as_of")} ${fmtTime(c.as_of)} · ${c.rules_version}`);
  const events = el("table", {id: "case-events", class: "data"},
    el("tr", {}, el("th", {textContent: t("time")}), el("th", {textContent: t("type")}),
       el("th", {textContent: t("details")})),
    c.events.map(e => el("tr", {id: "event-" + e.id},
      el("td", {textContent: fmtTime(e.time)}), el("td", {textContent: e.type.replace("hotline.case.", "")}),
      el("td", {textContent: Object.entries(e.data).map(([k, v]) => `${k}: ${v}`).join(", ") + ` (${e.id})`}))));
  const cycles = c.rules.flatMap(r => r.cycles.map(cy => el("div", {class: "cycle-block", "data-rule": r.rule,
                                                                  "data-cycle": cy.cycle},
    el("h3", {textContent: `${r.rule} · ${t("cycle")} ${cy.cycle}` + (r.title ? ` · ${r.title}` : "")}),
    el("p", {}, `${t("started")} ${fmtTime(cy.started_at)} · ` +
                (cy.closed_at ? `${t("closed")} ${fmtTime(cy.closed_at)} (${t("closed_by")} ${cy.closed_by})`
                              : t("still_open")) +
                ` · ${t("elapsed")} ${fmtDuration(cy.elapsed_ms)} · ${t("paused")} ${fmtDuration(cy.paused_total_ms)}` +
                (cy.pauses.length ? ` · ${t("pauses")}: ` + cy.pauses.map(p => `${fmtTime(p.from)}–${p.to ? fmtTime(p.to) : t("now")}`).join(", ") : "")),
    el("table", {class: "data stages"},
      el("tr", {}, ["stage", "severity", "due_at", "outcome", "department", "on_duty"].map(k => el("th", {textContent: t(k)}))),
      cy.stages.map(s => el("tr", {class: "stage-row " + s.outcome, "data-stage": s.stage},
        el("td", {textContent: s.stage}), el("td", {textContent: s.severity}),
        el("td", {class: "due", textContent: s.due_at ? fmtTime(s.due_at) : "–"}),
        el("td", {textContent: stageOutcomeText(s)}),
        el("td", {textContent: s.department ? (s.department === "unassigned" ? t("unassigned") : s.department) : ""}),
        el("td", {textContent: (s.on_duty || []).map(o => `${o.role}: ${o.person || t("nobody")}`).join("; ")})))))));
  const alerts = c.alerts.length === 0 ? el("p", {textContent: t("no_alerts")}) : el("table", {id: "case-alerts", class: "data"},
    el("tr", {}, el("th", {textContent: t("alert")}), el("th", {textContent: t("state")}),
       el("th", {textContent: t("history")})),
    c.alerts.map(a => el("tr", {"data-alert": a.alert_id}, el("td", {textContent: a.alert_id}),
                         el("td", {textContent: t("state_" + a.state)}), alertHistory(a))));
  body.replaceChildren(head, el("h2", {textContent: t("timeline")}), timelineSvg(c),
                       el("h2", {textContent: t("cycles")}), ...cycles,
                       el("h2", {textContent: t("alerts")}), alerts,
                       el("h2", {textContent: t("events")}), events);
}

async function showCase(id, params) {
  const form = document.getElementById("case-form");
  form.id.value = id || "";
  form.as_of.value = params.has("as_of") ? toZoneLocalInput(Date.parse(params.get("as_of")), false) : "";
  const body = document.getElementById("case-body");
  if (!id) {
    body.replaceChildren(el("p", {textContent: t("enter_case")}));
    return;
  }
  const query = params.has("as_of") ? "?as_of=" + encodeURIComponent(params.get("as_of")) : "";
  renderCase(await api("/api/v1/cases/" + encodeURIComponent(id) + query));
}

// ---- Ledger --------------------------------------------------------------------

function ledgerParams() {
  const form = document.getElementById("ledger-form");
  const params = new URLSearchParams();
  params.set("from", new Date(fromZoneLocal(form.from.value)).toISOString());
  params.set("to", new Date(fromZoneLocal(form.to.value)).toISOString());
  return params;
}

function ledgerTable(id, report, rows, withPerson) {
  const stageHeads = report.stages.map(s => el("th", {textContent: s}));
  rows = [...rows].sort((a, b) => b.breaches - a.breaches || b.overdue_total_seconds - a.overdue_total_seconds);
  return el("table", {id, class: "data"},
    el("tr", {}, withPerson ? el("th", {textContent: t("person_col")}) : null, el("th", {textContent: t("department")}),
       el("th", {textContent: t("cases")}), el("th", {textContent: t("breaches")}), stageHeads,
       ["overdue_total", "overdue_max", "still_open_col", "returns", "transfers", "discipline"].map(k => el("th", {textContent: t(k)}))),
    rows.map(r => el("tr", {},
      withPerson ? el("td", {textContent: r.person}) : null, el("td", {textContent: r.department}),
      el("td", {class: "n", textContent: r.cases}), el("td", {class: "n", textContent: r.breaches}),
      report.stages.map(s => el("td", {class: "n", textContent: r.by_stage[s] || 0})),
      el("td", {textContent: fmtDuration(r.overdue_total_seconds * 1000)}),
      el("td", {textContent: fmtDuration(r.overdue_max_seconds * 1000)}),
      el("td", {class: "n", textContent: r.still_open}), el("td", {class: "n", textContent: r.returns}),
      el("td", {class: "n", textContent: r.transfers}), el("td", {class: "n", textContent: r.discipline_inspection}))));
}

async function showLedger(params) {
  const form = document.getElementById("ledger-form");
  if (params.has("from") && params.has("to")) {  // the period exactly as linked (the form shows its days)
    form.from.value = toZoneLocalInput(Date.parse(params.get("from")), true);
    form.to.value = toZoneLocalInput(Date.parse(params.get("to")), true);
  } else {
    if (!form.from.value) {  // the last seven days, today included
      const today = fromZoneLocal(toZoneLocalInput(state.clock, true));
      form.from.value = toZoneLocalInput(today - 7 * 86400000, true);
      form.to.value = toZoneLocalInput(today + 86400000, true);
    }
    params = ledgerParams();
  }
  state.ledgerParams = new URLSearchParams({from: params.get("from"), to: params.get("to")});
  const r = await api("/api/v1/ledger?" + state.ledgerParams);
  const total = r.total;
  document.getElementById("ledger-body").replaceChildren(
    el("p", {id: "ledger-headline", class: "headline", textContent: t("headline", {cases: total.cases,
      people: r.person_times, breaches: total.breaches, discipline: total.discipline_inspection,
      returns: total.returns, transfers: total.transfers})}),
    el("p", {textContent: `${fmtTime(r.from)} – ${fmtTime(r.to)}`}),
    el("h2", {textContent: t("by_department")}), ledgerTable("ledger-departments", r, r.departments, false),
    el("h2", {textContent: t("by_person")}), ledgerTable("ledger-people", r, r.people, true));
}

// ---- routing -------------------------------------------------------------------

// #/breaches?department=roads, #/case/C-1?as_of=..., #/ledger?from=..&to=..
function route() {
  const hash = location.hash.replace(/^#/, "") || "/breaches";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const view = ["breaches", "case", "ledger"].includes(parts[0]) ? parts[0] : "breaches";
  for (const v of ["breaches", "case", "ledger"]) {
    document.getElementById("view-" + v).hidden = v !== view;
    document.getElementById("nav-" + v).classList.toggle("active", v === view);
  }
  showError(null);
  document.body.dataset.loaded = "";
  const shown = view === "breaches" ? showBreaches(params)
              : view === "case" ? showCase(parts.slice(1).map(decodeURIComponent).join("/"), params)
              : showLedger(params);
  // data-loaded names the view once it is drawn (or failed): what a test waits for.
  return shown.catch(showError).finally(() => { document.body.dataset.loaded = hash; });
}

async function start() {
  state.lang = pickLanguage();
  applyLabels();
  document.getElementById("lang").addEventListener("change", e => {
    state.lang = e.target.value;
    localStorage.setItem("slawatch.lang", state.lang);
    applyLabels();
    route();
  });
  document.querySelector("#token-form form").addEventListener("submit", e => {
    e.preventDefault();
    sessionStorage.setItem("slawatch.token", document.getElementById("token").value);
    location.reload();
  });
  document.getElementById("alert-filters").addEventListener("submit", e => {
    e.preventDefault();
    location.hash = "#/breaches?" + filterParams();
  });
  document.getElementById("export-csv").addEventListener("click", () => download(alertsCsv(sortedAlerts()), "breaches.csv"));
  for (const th of document.querySelectorAll("#alerts th")) {
    th.addEventListener("click", () => {
      const key = th.dataset.sort;
      state.sort = {key, desc: state.sort.key === key ? !state.sort.desc : false};
      renderAlerts();
    });
  }
  document.getElementById("case-form").addEventListener("submit", e => {
    e.preventDefault();
    const form = e.target;
    const asOf = fromZoneLocal(form.as_of.value);
    location.hash = "#/case/" + encodeURIComponent(form.id.value.trim()) +
                    (asOf !== null ? "?as_of=" + encodeURIComponent(new Date(asOf).toISOString()) : "");
  });
  document.getElementById("ledger-form").addEventListener("submit", e => {
    e.preventDefault();
    location.hash = "#/ledger?" + ledgerParams();
  });
  document.getElementById("ledger-csv").addEventListener("click", () =>
    api("/api/v1/ledger?" + (state.ledgerParams || ledgerParams()) + "&format=csv").then(text => download(text, "ledger.csv")).catch(showError));
  try {
    await loadInfo();
  } catch (e) {
    showError(e);
    return;
  }
  applyLabels();
  window.addEventListener("hashchange", route);
  await route();
}

start();
