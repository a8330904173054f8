// The web demo: wires the WebAssembly Engine to the page.
import init, { Engine, formatReason, validate, zones } from '../bindings/wasm/pkg/routecap_wasm.js';
import { heatmap, barChart } from './charts.js';
import * as time from './time.js';

const $ = (sel) => document.querySelector(sel);
const SAMPLES = {
  native: '../examples/native.json',
  retreaver: '../examples/retreaver.json',
  ringba: '../examples/ringba.json',
  attributes: '../examples/attributes.json',
};

const app = {
  text: null, // config text of the loaded engine
  format: '',
  engine: null,
  targets: [],
  groups: [],
  at: new Date(),
  viewerTz: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  sim: null,
};

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k === 'title') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// ------------------------------------------------------------------ config

function showConfigError(err) {
  const box = $('#config-error');
  box.replaceChildren();
  if (!err) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const msg = String(err.message ?? err);
  if (err.path) {
    // Message is "file: path: value expected": show the path as a chip, then the rest.
    const rest = msg.startsWith(`${err.file}: ${err.path}: `) ? msg.slice(`${err.file}: ${err.path}: `.length) : msg;
    box.append(h('strong', {}, 'Cannot load this config: '), h('code', { class: 'path' }, err.path), ' ', rest);
    const m = /^line (\d+) column (\d+)$/.exec(err.path);
    const ta = $('#config-text');
    if (m && ta.value) {
      // Put the caret where the JSON parser stopped.
      const lines = ta.value.split('\n');
      let pos = 0;
      for (let i = 0; i < +m[1] - 1 && i < lines.length; i++) pos += lines[i].length + 1;
      pos += Math.max(0, +m[2] - 1);
      ta.setSelectionRange(pos, pos + 1);
    }
  } else {
    box.append(h('strong', {}, 'Error: '), msg);
  }
}

/** The config's warnings (`routecap validate`) under the config box. */
function showWarnings(warnings) {
  const box = $('#config-warnings');
  box.hidden = warnings.length === 0;
  box.replaceChildren(
    ...warnings.map((w) => h('li', { 'data-code': w.code },
      h('code', { class: 'path' }, w.path), ' ', w.message, ' ', h('span', { class: 'muted' }, `(${w.code})`))),
  );
}

function load(text, format, label) {
  let engine;
  try {
    engine = new Engine(text, format || undefined);
  } catch (err) {
    showConfigError(err);
    $('#config-status').textContent = app.engine ? 'The previous config stays loaded.' : 'No config loaded yet.';
    return false;
  }
  showConfigError(null);
  showWarnings(validate(text, format || undefined).warnings);
  app.engine?.free();
  app.engine = engine;
  app.text = text;
  app.format = format;
  app.targets = engine.targets();
  app.groups = engine.groups();
  $('#config-status').textContent = `Loaded ${label}: ${app.targets.length} targets, ${app.groups.length} groups.`;
  const sel = $('#hours-owner');
  sel.replaceChildren(
    ...app.targets.map((t) => h('option', { value: t.id }, `${t.id}${t.name ? ` — ${t.name}` : ''} (${t.zone})`)),
    ...app.groups.map((g) => h('option', { value: g.id }, `group ${g.id}${g.name ? ` — ${g.name}` : ''} (${g.zone})`)),
  );
  stopSim();
  $('#sim-caps').replaceChildren();
  $('#sim-stats').textContent = '';
  $('#route-chart').replaceChildren();
  $('#route-summary').textContent = '';
  $('#route-plan').textContent = '';
  refresh();
  return true;
}

async function loadSample(name) {
  const res = await fetch(SAMPLES[name]);
  const text = await res.text();
  $('#config-text').value = text;
  document.querySelectorAll('[data-sample]').forEach((b) => b.classList.toggle('active', b.dataset.sample === name));
  load(text, '', `sample ${name}.json`);
}

// ----------------------------------------------------------------- instant

function setAt(date, { fromSlider = false } = {}) {
  if (!date || Number.isNaN(date.getTime())) return;
  app.at = new Date(Math.floor(date.getTime() / 60000) * 60000);
  $('#at-input').value = time.toLocalInput(app.at, app.viewerTz);
  $('#at-utc').textContent = `= ${time.iso(app.at)}`;
  if (!fromSlider) {
    const ws = time.weekStart(app.at, app.viewerTz);
    $('#week-slider').value = String(Math.round((app.at - ws.start) / 60000));
  }
  refresh();
}

function setViewerZone(name) {
  let iana = name;
  try {
    iana = zones([name])[0].iana;
  } catch (err) {
    $('#viewer-zone').setCustomValidity(err.message);
    $('#viewer-zone').reportValidity();
    return;
  }
  if (!time.isIntlZone(iana)) return;
  $('#viewer-zone').setCustomValidity('');
  app.viewerTz = iana;
  setAt(app.at);
}

// ------------------------------------------------------------- eligibility

function nameOf(id, kind) {
  const list = kind === 'group' ? app.groups : app.targets;
  return list.find((x) => x.id === id)?.name ?? null;
}

// The call form as engine attributes: `KEY=VALUE` pairs separated by spaces
// or ';' (a repeated key adds a value; `geo` values split on commas in the engine).
function callAttrs() {
  const tags = {};
  for (const pair of $('#call-tags').value.split(/[\s;]+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const k = pair.slice(0, eq);
    (tags[k] ??= []).push(pair.slice(eq + 1));
  }
  const caller = $('#call-caller').value.trim();
  const campaign = $('#call-campaign').value.trim();
  return { caller: caller || null, tags, campaign: campaign || null };
}

function callChanged() {
  refresh();
  if ($('#route-chart').dataset.total) runRoute();
}

function untilCell(r) {
  if (r.until === null) {
    const never = /total|paused/.test(r.code) ? 'until reset / unpaused' : r.code.includes('concurrency') ? 'until a call ends' : '—';
    return h('span', { class: 'until', 'data-until': '' }, never);
  }
  const t = new Date(r.until);
  return h('span', { class: 'until', 'data-until': r.until },
    `${time.shortLocal(t, app.viewerTz)} `, h('small', {}, `${time.relative(app.at, t)} · ${r.until}`));
}

function localCell(text) {
  // "2026-11-22T10:00:00-05:00" → "Sun 10:00 (-05:00)"
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return text;
  const wd = time.WEEKDAYS[new Date(`${m[1]}T00:00:00Z`).getUTCDay()];
  return `${wd} ${m[1].slice(5)} ${m[2]} (${m[3] === 'Z' ? '+00:00' : m[3]})`;
}

function renderEligibility() {
  const res = app.engine.check(time.iso(app.at), callAttrs());
  const rows = res.candidates.map((c) => {
    const name = nameOf(c.id, c.kind);
    const reasons = c.reasons.map((r) => h('span', { class: 'reason', 'data-code': r.code }, formatReason(r)));
    if (c.kind === 'group' && c.eligible_members) {
      reasons.push(h('span', { class: 'reason muted' }, `eligible members: ${c.eligible_members.join(', ') || 'none'}`));
    }
    return h('tr', { 'data-id': c.id, 'data-eligible': String(c.eligible) },
      h('td', { class: 'id' }, c.id, name ? h('small', {}, name) : null),
      h('td', {}, c.kind),
      h('td', { class: 'local', title: c.local_time }, localCell(c.local_time)),
      h('td', {}, h('span', { class: `badge ${c.eligible ? 'yes' : 'no'}` }, c.eligible ? 'eligible' : 'not eligible')),
      h('td', { class: 'reasons' }, reasons),
      h('td', { class: 'untils' }, c.reasons.map(untilCell)));
  });
  $('#eligibility-table tbody').replaceChildren(...rows);
  const n = res.candidates.filter((c) => c.eligible).length;
  const refused = res.campaign && !res.campaign.eligible ? ` — campaign ${res.campaign.id} refuses the call: ${res.campaign.reasons.map(formatReason).join(', ')}` : '';
  $('#elig-summary').textContent = `at ${time.iso(app.at)} — ${n} of ${res.candidates.length} candidates eligible${refused}`;
  return res;
}

// ------------------------------------------------------------------- usage

// Every cap of every target and group at the instant (`routecap usage --json`).
function renderUsage() {
  const view = app.engine.usage(time.iso(app.at));
  const rows = [];
  for (const o of view.owners) {
    o.caps.forEach((c, i) => {
      const window = c.window_start ? `${c.window_start} .. ${c.window_end}` : '—';
      rows.push(h('tr', { 'data-id': o.id, 'data-cap': c.cap },
        h('td', { class: 'id' }, i === 0 ? o.id : ''),
        h('td', {}, i === 0 ? o.kind : ''),
        h('td', {}, c.cap),
        h('td', { class: 'used' }, `${c.used} / ${c.limit}`),
        h('td', { class: 'window' }, window)));
    });
  }
  $('#usage-table tbody').replaceChildren(...rows);
  $('#usage-summary').textContent = `at ${view.at}`;
}

// ------------------------------------------------------------------- hours

function renderHours() {
  const id = $('#hours-owner').value;
  if (!id) return;
  const ws = time.weekStart(app.at, app.viewerTz);
  const g = app.engine.hoursGrid(id, ws.date, app.viewerTz);
  const nowIn = (view) => {
    const p = time.localParts(app.at, view.zone);
    const date = `${String(p.y).padStart(4, '0')}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
    return { day: view.days.findIndex((d) => d.date === date), hour: p.h };
  };
  const ownTz = time.isIntlZone(g.own.zone) ? g.own.zone : 'UTC';
  heatmap($('#heat-own'), g.own, nowIn({ ...g.own, zone: ownTz }));
  heatmap($('#heat-viewer'), g.viewer, nowIn({ ...g.viewer, zone: app.viewerTz }));
  $('#heat-own-cap').textContent = `In ${id}'s zone (${g.own.zone})${g.always_open ? ' — open 24/7' : ''}`;
  $('#heat-viewer-cap').textContent = `In your zone (${g.viewer.zone})`;
}

// ------------------------------------------------------------------- route

function runRoute() {
  const n = Math.max(1, Math.min(1_000_000, Math.floor(Number($('#route-n').value) || 0)));
  const seedText = $('#route-seed').value.trim() || '0';
  const at = time.iso(app.at);
  const t0 = performance.now();
  let many;
  try {
    many = app.engine.routeMany(at, seedText, n, callAttrs());
  } catch (err) {
    $('#route-summary').textContent = `Error: ${err.message}`;
    return;
  }
  const ms = performance.now() - t0;
  const expected = app.engine.firstPlaceChances(at, callAttrs());
  const rows = Object.entries(many.first).map(([id, count]) => ({
    id, label: id, count, share: count / n, expected: expected[id] ?? 0,
  }));
  if (many.none) rows.push({ id: '(none)', label: 'no eligible target', count: many.none, share: many.none / n, expected: rows.length ? 0 : 1 });
  barChart($('#route-chart'), rows, n);
  const first = app.engine.route(at, seedText, callAttrs()).plan;
  const stepText = (s) => (s.target ? `${s.target}${s.fallback ? ' (fallback)' : ''}` : `[${s.group}: ${s.targets.join(' + ')}]`) + ` ${s.timeout_seconds}s`;
  $('#route-plan').textContent = first.length
    ? `Failover order for seed ${seedText}: ${first.map(stepText).join(' → ')}`
    : `Seed ${seedText}: no eligible candidate.`;
  $('#route-summary').textContent = `${n.toLocaleString('en-US')} calls at ${at}, seeds ${seedText}… (+${n - 1}); only the lowest eligible priority tier can come first.`;
  $('#route-time').textContent = `${ms.toFixed(0)} ms`;
  $('#route-chart').dataset.total = String(n);
}

// ------------------------------------------------------------- play a day

function meter(used, limit, label) {
  const cell = h('div', { class: 'meter', title: label });
  if (limit === null || limit === undefined) {
    cell.append(h('span', {}, `${used} / ∞`));
    return cell;
  }
  const lim = Number(limit), u = Number(used);
  const frac = lim > 0 ? Math.min(1, u / lim) : 1;
  if (u >= lim) cell.classList.add('full');
  const bar = h('i');
  bar.style.width = `${(frac * 100).toFixed(1)}%`;
  cell.append(bar, h('span', {}, `${used} / ${limit}`));
  return cell;
}

const HOUR = 3_600_000;

/** The `routecap simulate` command that gives the same report (config = the loaded one). */
function simCommand(o) {
  return ['routecap simulate CONFIG', `--from ${o.from}`, `--to ${o.to}`, `--calls-per-hour ${o.calls_per_hour}`,
    `--seed ${o.seed}`, ...(o.fresh ? ['--fresh'] : []), ...(app.format ? [`--format ${app.format}`] : []), '--json'].join(' ');
}

function renderSim() {
  const sim = app.sim;
  if (!sim) return;
  const { report } = sim;
  const done = sim.now >= sim.end;
  // hours fully played (all of them once done)
  const played = done ? report.hours.length : Math.floor((sim.now - sim.start) / HOUR);
  const hours = report.hours.slice(0, played);
  const sum = (k) => hours.reduce((n, x) => n + x[k], 0);
  const last = hours[hours.length - 1];
  const owners = [...app.targets.map((t) => ({ ...t, kind: 'target' })), ...app.groups.map((g) => ({ ...g, kind: 'group' }))];
  const grid = h('div', { class: 'caps-grid' },
    h('span', { class: 'head' }, 'target / group'), h('span', { class: 'head' }, 'connected'),
    h('span', { class: 'head' }, 'hourly'), h('span', { class: 'head' }, 'daily'),
    h('span', { class: 'head' }, 'monthly'), h('span', { class: 'head' }, 'peak live'));
  owners.forEach((o, i) => {
    const u = last?.owners[i] ?? { hourly: 0, daily: 0, monthly: 0, peak_live: 0 };
    grid.append(
      h('span', { 'data-owner': o.id }, o.kind === 'group' ? `group ${o.id}` : o.id),
      h('span', { class: 'connected' }, String(hours.reduce((n, x) => n + x.owners[i].connected, 0))),
      meter(u.hourly, o.limits.hourly, 'hourly'),
      meter(u.daily, o.limits.daily, 'daily'),
      meter(u.monthly, o.limits.monthly, 'monthly'),
      meter(u.peak_live, o.limits.concurrency, 'concurrency'));
  });
  $('#sim-caps').replaceChildren(grid);
  $('#sim-clock').textContent = `${time.shortLocal(new Date(Math.min(sim.now, sim.end)), app.viewerTz)} (${app.viewerTz})`;
  const stats = $('#sim-stats');
  stats.dataset.done = String(done);
  if (done) {
    stats.textContent = `calls ${report.calls} · connected ${report.connected} · no target ${report.no_eligible} · unanswered ${report.unanswered} · converted ${report.converted} · revenue ${report.revenue}`;
  } else {
    stats.textContent = `calls ${sum('calls')} · connected ${sum('connected')} · no target ${sum('no_eligible')} · unanswered ${sum('unanswered')} · converted … · revenue …`;
  }
}

function stopSim() {
  if (app.sim?.frame) cancelAnimationFrame(app.sim.frame);
  if (app.sim) app.sim.running = false;
  $('#sim-play').disabled = false;
  $('#sim-stop').disabled = true;
}

/** The simulator's wasm module (a second one, loaded on first play). */
let simModule = null;
async function simulator() {
  if (!simModule) {
    const m = await import('../bindings/wasm/pkg/routecap_wasm_sim.js');
    await m.default();
    simModule = m;
  }
  return simModule.simulate;
}

/** Run the engine's simulator (the code of `routecap simulate`) for 24 h from
 * the instant, then play its hourly counts back. */
async function playSim() {
  stopSim();
  let simulate;
  try {
    simulate = await simulator();
  } catch (err) {
    $('#sim-stats').textContent = `Could not load the simulator: ${err.message}`;
    return;
  }
  const rate = Math.max(1, Number($('#sim-rate').value) || 40);
  const from = app.at.getTime();
  const options = {
    from: time.iso(new Date(from)), to: time.iso(new Date(from + 24 * HOUR)),
    calls_per_hour: rate, seed: Number($('#route-seed').value) || 1, format: app.format || undefined, hours: true,
  };
  let report;
  try {
    report = simulate(app.text, options);
  } catch (err) {
    if (!/as_of/.test(err.message)) {
      $('#sim-stats').textContent = `Error: ${err.message}`;
      return;
    }
    // an instant before the config's as_of: start from empty counters
    options.fresh = true;
    report = simulate(app.text, options);
  }
  $('#sim-cmd').textContent = simCommand(options);
  $('#sim-cmd').dataset.options = JSON.stringify({ ...options, hours: undefined });
  // the report's hours start at the UTC hour containing `from`
  const start = Date.parse(report.hours[0].start);
  const sim = { report, start, now: start, end: start + report.hours.length * HOUR, running: true };
  app.sim = sim;
  $('#sim-play').disabled = true;
  $('#sim-stop').disabled = false;
  const minutesPerFrame = Number($('#sim-speed').value);
  const step = () => {
    if (!sim.running) return;
    sim.now = Math.min(sim.end, sim.now + minutesPerFrame * 60_000);
    renderSim();
    if (sim.now < sim.end) sim.frame = requestAnimationFrame(step);
    else stopSim();
  };
  renderSim();
  sim.frame = requestAnimationFrame(step);
}

// ----------------------------------------------------------------- refresh

function refresh() {
  if (!app.engine) return;
  try {
    renderEligibility();
    renderUsage();
    renderHours();
  } catch (err) {
    $('#elig-summary').textContent = `Error: ${err.message}`;
  }
}

async function main() {
  try {
    await init();
  } catch (err) {
    $('#boot-status').textContent = `Could not start the WebAssembly engine: ${err.message}. Run scripts/build-wasm, then scripts/demo.`;
    return;
  }
  $('#boot-status').textContent = 'Engine ready (WebAssembly). Pick a sample or paste a config.';
  $('#zone-names').replaceChildren(...zones([]).map((z) => h('option', { value: z.input })));
  $('#viewer-zone').value = app.viewerTz;
  document.querySelectorAll('[data-sample]').forEach((b) => b.addEventListener('click', () => loadSample(b.dataset.sample)));
  $('#config-load').addEventListener('click', () => {
    document.querySelectorAll('[data-sample]').forEach((b) => b.classList.remove('active'));
    load($('#config-text').value, $('#config-format').value, 'pasted JSON');
  });
  $('#at-input').addEventListener('change', (e) => setAt(time.fromLocalInput(e.target.value, app.viewerTz)));
  $('#week-slider').addEventListener('input', (e) => {
    const ws = time.weekStart(app.at, app.viewerTz);
    setAt(new Date(ws.start.getTime() + Number(e.target.value) * 60000), { fromSlider: true });
  });
  $('#viewer-zone').addEventListener('change', (e) => setViewerZone(e.target.value.trim()));
  $('#hours-owner').addEventListener('change', renderHours);
  $('#route-run').addEventListener('click', runRoute);
  $('#call-form').addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['#call-caller', '#call-tags', '#call-campaign']) $(id).addEventListener('change', callChanged);
  $('#sim-play').addEventListener('click', playSim);
  $('#sim-stop').addEventListener('click', stopSim);
  setAt(new Date());
  document.body.dataset.ready = 'true';
}

main();
