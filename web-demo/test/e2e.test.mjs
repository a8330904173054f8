// End-to-end test of the web demo in a real browser: Debian's chromium,
// driven by playwright-core. Loads the demo from a local server, loads a
// sample, checks the eligibility table, routes 1,000 calls and checks the
// chart's bars against the engine, pastes a bad config and checks the inline
// error, checks the engine's DST answers for local times, plays a day and
// compares its numbers with the native CLI's, and saves a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const results = join(here, '..', 'test-results');
export const SCREENSHOT = join(results, 'demo.png');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const wasm = require(join(root, 'bindings', 'wasm', 'pkg-node', 'routecap_wasm.js'));

let server, url, browser, context, page, userDataDir;
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install -y chromium)`);
  assert.ok(existsSync(join(root, 'bindings', 'wasm', 'pkg', 'routecap_wasm.js')), 'run scripts/build-wasm first');
  ({ server, url } = await serve(0));
  userDataDir = mkdtempSync(join(tmpdir(), 'routecap-e2e-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    timezoneId: 'UTC',
    locale: 'en-US',
    viewport: { width: 1280, height: 900 },
  });
  browser = context.browser();
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await context?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  void browser;
});

async function setInstant(local) {
  await page.fill('#at-input', local);
  await page.dispatchEvent('#at-input', 'change');
}

test('the demo boots the wasm engine', async () => {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.textContent('#boot-status'), /Engine ready/);
  assert.equal(await page.inputValue('#viewer-zone'), 'UTC');
});

test('native sample: the eligibility table says who, why and until when', async () => {
  await page.click('[data-sample="native"]');
  await page.waitForSelector('#eligibility-table tbody tr[data-id="ny-insurance"]');
  await setInstant('2026-11-22T15:00');
  await page.waitForFunction(() => document.querySelector('#elig-summary').textContent.includes('2026-11-22T15:00:00Z'));
  const rows = await page.$$eval('#eligibility-table tbody tr', (trs) => trs.map((tr) => ({
    id: tr.dataset.id,
    eligible: tr.dataset.eligible,
    local: tr.querySelector('td.local').getAttribute('title'),
    codes: [...tr.querySelectorAll('.reason[data-code]')].map((s) => s.dataset.code),
    reasons: [...tr.querySelectorAll('.reason[data-code]')].map((s) => s.textContent),
    untils: [...tr.querySelectorAll('.until')].map((s) => s.dataset.until),
  })));
  const by = Object.fromEntries(rows.map((r) => [r.id, r]));
  assert.deepEqual(rows.map((r) => r.id), ['ny-insurance', 'chicago-auto', 'la-solar', 'london-debt', 'stjohns-backup', 'night-pool']);
  assert.deepEqual(by['ny-insurance'], {
    id: 'ny-insurance', eligible: 'false', local: '2026-11-22T10:00:00-05:00',
    codes: ['closed'], reasons: ['closed until 2026-11-23T14:00:00Z'], untils: ['2026-11-23T14:00:00Z'],
  });
  assert.deepEqual(by['chicago-auto'].reasons, ['daily_cap 25/25 until 2026-11-23T06:00:00Z']);
  // every reason reads as the wasm formatReason (the CLI's wording) writes it
  const want = new wasm.Engine(require(join(root, 'examples', 'native.json'))).check('2026-11-22T15:00:00Z');
  assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.reasons])),
    Object.fromEntries(want.candidates.map((c) => [c.id, c.reasons.map(wasm.formatReason)])));
  assert.deepEqual(by['chicago-auto'].untils, ['2026-11-23T06:00:00Z']);
  // Monday to Friday only, weekends listed as closed
  assert.deepEqual(by['la-solar'].reasons, ['closed until 2026-11-23T15:00:00Z']);
  assert.deepEqual(by['london-debt'].codes, ['closed']);
  assert.deepEqual(by['stjohns-backup'].codes, ['paused', 'total_cap']);
  assert.equal(by['night-pool'].eligible, 'true');
  assert.match(await page.textContent('#elig-summary'), /1 of 6 candidates eligible/);
  // the bundled example has no warnings, so none are shown
  assert.equal(await page.$eval('#config-warnings', (e) => e.hidden), true);
});

test('the week slider moves the instant and the table follows', async () => {
  // Monday 15:00 UTC = 10:00 in New York: the desk is open.
  const monday15 = (24 + 15) * 60;
  await page.fill('#week-slider', String(monday15));
  await page.dispatchEvent('#week-slider', 'input');
  await page.waitForFunction(() => document.querySelector('#elig-summary').textContent.includes('2026-11-23T15:00:00Z'));
  assert.equal(await page.getAttribute('#eligibility-table tr[data-id="ny-insurance"]', 'data-eligible'), 'true');
  assert.equal(await page.inputValue('#at-input'), '2026-11-23T15:00');
  // the usage table follows too: a new day in New York, its daily count is 0
  const daily = '#usage-table tr[data-id="ny-insurance"][data-cap="daily"] td.used';
  await page.waitForFunction(() => document.querySelector('#usage-summary').textContent.includes('2026-11-23T15:00:00Z'));
  assert.equal(await page.textContent(daily), '0 / 40');
  assert.equal(await page.textContent('#usage-table tr[data-id="ny-insurance"][data-cap="daily"] td.window'),
    '2026-11-23T05:00:00Z .. 2026-11-24T05:00:00Z');
  await setInstant('2026-11-22T15:00');
  await page.waitForFunction(() => document.querySelector('#elig-summary').textContent.includes('2026-11-22T15:00:00Z'));
  await page.waitForFunction(() => document.querySelector('#usage-summary').textContent.includes('2026-11-22T15:00:00Z'));
  assert.equal(await page.textContent(daily), '12 / 40', 'the imported usage of 22 Nov');
});

test('hours heatmap: 7×24 cells in both zones, Monday 09-17 New York = 14-22 UTC', async () => {
  await page.selectOption('#hours-owner', 'ny-insurance');
  const own = await page.$$eval('#heat-own rect.cell', (cs) => cs.map((c) => [+c.dataset.day, +c.dataset.hour, c.dataset.share]));
  const viewer = await page.$$eval('#heat-viewer rect.cell', (cs) => cs.map((c) => [+c.dataset.day, +c.dataset.hour, c.dataset.share]));
  assert.equal(own.length, 168);
  assert.equal(viewer.length, 168);
  const openHours = (cells, day) => cells.filter(([d, , s]) => d === day && s === '1').map(([, hr]) => hr);
  assert.deepEqual(openHours(own, 1), [9, 10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual(openHours(viewer, 1), [14, 15, 16, 17, 18, 19, 20, 21]);
  assert.match(await page.textContent('#heat-own-cap'), /America\/New_York/);
});

test('route 1,000 calls: the bars match the engine and the weight shares', async () => {
  await setInstant('2026-11-23T17:00');
  await page.waitForFunction(() => document.querySelector('#elig-summary').textContent.includes('2026-11-23T17:00:00Z'));
  await page.fill('#route-n', '1000');
  await page.fill('#route-seed', '1');
  await page.click('#route-run');
  await page.waitForSelector('#route-chart rect.bar-observed');
  const bars = await page.$$eval('#route-chart rect.bar-observed', (rs) => rs.map((r) => ({
    id: r.dataset.id, count: +r.dataset.count, share: +r.dataset.share, width: +r.getAttribute('width'),
  })));
  const expected = await page.$$eval('#route-chart line.bar-expected', (ls) => Object.fromEntries(ls.map((l) => [l.dataset.id, +l.dataset.expected])));
  // The same engine in node, same config, instant and seeds.
  const engine = new wasm.Engine(require(join(root, 'examples', 'native.json')));
  const want = engine.routeMany('2026-11-23T17:00:00Z', '1', 1000);
  assert.deepEqual(Object.fromEntries(bars.map((b) => [b.id, b.count])), want.first);
  assert.equal(bars.reduce((s, b) => s + b.count, 0), 1000);
  // Monday 17:00Z: ny-insurance and chicago-auto (priority 1, weights 3:2)
  // lead; the priority-2 and -3 candidates are never first.
  assert.deepEqual(expected, { 'ny-insurance': 0.6, 'chicago-auto': 0.4, 'la-solar': 0, 'london-debt': 0, 'night-pool': 0 });
  const byId = Object.fromEntries(bars.map((b) => [b.id, b]));
  assert.equal(byId['night-pool'].count, 0);
  for (const [id, share] of [['ny-insurance', 0.6], ['chicago-auto', 0.4]]) {
    assert.ok(Math.abs(byId[id].share - share) < 0.06, `${id} share ${byId[id].share}`);
    assert.ok(byId[id].width > 100, `${id} bar drawn`);
  }
  assert.match(await page.textContent('#route-plan'), /Failover order for seed 1: .+ → /);
});

test('the call form: a tag makes a target filter_mismatch, and the route chart follows', async () => {
  await page.click('[data-sample="attributes"]');
  await page.waitForFunction(() => document.querySelector('#config-status').textContent.includes('attributes.json'));
  const setTags = async (text) => {
    await page.fill('#call-tags', text);
    await page.dispatchEvent('#call-tags', 'change');
  };
  const row = (id) => page.$eval(`#eligibility-table tbody tr[data-id="${id}"]`, (tr) => ({
    eligible: tr.dataset.eligible,
    codes: [...tr.querySelectorAll('.reason[data-code]')].map((s) => s.dataset.code),
    text: tr.querySelector('td.reasons').textContent,
  }));
  await setTags('calling_about=medicare');
  await page.waitForFunction(() => document.querySelector('#eligibility-table tr[data-id="any-medicare"]')?.dataset.eligible === 'true');
  await page.fill('#route-n', '200');
  await page.click('#route-run');
  await page.waitForSelector('#route-chart rect.bar-observed[data-id="any-medicare"]');
  await setTags('calling_about=auto geo=us-nc');
  await page.waitForFunction(() => document.querySelector('#eligibility-table tr[data-id="any-medicare"]')?.dataset.eligible === 'false');
  const r = await row('any-medicare');
  assert.deepEqual(r.codes, ['filter_mismatch']);
  assert.match(r.text, /calling_about in \[medicare\]: call has calling_about = \[auto\]/);
  // the chart was redrawn for the new call: any-medicare never comes first
  await page.waitForFunction(() => !document.querySelector('#route-chart rect.bar-observed[data-id="any-medicare"]'));
  const engine = new wasm.Engine(require(join(root, 'examples', 'attributes.json')));
  const want = engine.routeMany('2026-11-22T15:00:00Z', '1', 200, { tags: { calling_about: 'auto', geo: 'us-nc' } });
  const bars = await page.$$eval('#route-chart rect.bar-observed', (rs) => Object.fromEntries(rs.map((b) => [b.dataset.id, +b.dataset.count])));
  assert.deepEqual(bars, want.first);
  // a campaign that refuses the call says so
  await page.fill('#call-campaign', 'medicare');
  await page.dispatchEvent('#call-campaign', 'change');
  await page.waitForFunction(() => /campaign medicare refuses the call/.test(document.querySelector('#elig-summary').textContent));
  await page.fill('#call-campaign', '');
  await setTags('');
});

test('retreaver and ringba samples load and show their targets', async () => {
  await page.click('[data-sample="retreaver"]');
  await page.waitForFunction(() => document.querySelector('#config-status').textContent.includes('retreaver.json'));
  const ids = await page.$$eval('#eligibility-table tbody tr', (trs) => trs.map((t) => t.dataset.id));
  const engine = new wasm.Engine(require(join(root, 'examples', 'retreaver.json')));
  assert.deepEqual(ids, engine.check('2026-11-22T15:00:00Z').candidates.map((c) => c.id));
  await page.click('[data-sample="ringba"]');
  await page.waitForFunction(() => document.querySelector('#config-status').textContent.includes('ringba.json'));
  const rid = await page.$$eval('#eligibility-table tbody tr', (trs) => trs.map((t) => t.dataset.id));
  const ringba = new wasm.Engine(require(join(root, 'examples', 'ringba.json')));
  assert.deepEqual(rid, ringba.check('2026-11-22T15:00:00Z').candidates.map((c) => c.id));
});

test('a pasted config with an error shows it inline with its path', async () => {
  await page.click('#paste-box summary');
  await page.fill('#config-text', JSON.stringify({ targets: [{ id: 'a', hours: [{ day: 1, open: '18:00', close: '09:00' }] }] }, null, 2));
  await page.click('#config-load');
  await page.waitForSelector('#config-error:not([hidden])');
  assert.equal(await page.textContent('#config-error code.path'), 'targets[0].hours[0].close');
  assert.match(await page.textContent('#config-error'), /Cannot load this config/);
  await page.fill('#config-text', '{"targets": [ {"id": "a",, } ]}');
  await page.click('#config-load');
  await page.waitForFunction(() => /^line 1 column/.test(document.querySelector('#config-error code.path')?.textContent ?? ''));
  // A good paste clears the error.
  await page.fill('#config-text', JSON.stringify({ targets: [{ id: 'solo', time_zone: 'Tokyo' }] }));
  await page.click('#config-load');
  await page.waitForSelector('#config-error', { state: 'hidden' });
  assert.deepEqual(await page.$$eval('#eligibility-table tbody tr', (trs) => trs.map((t) => t.dataset.id)), ['solo']);
});

/** Set the viewer's zone as a user would. */
async function setViewerZone(name) {
  await page.fill('#viewer-zone', name);
  await page.dispatchEvent('#viewer-zone', 'change');
}

test('zone math is the engine\'s: New York 2026-03-08 02:30 (a gap) is 07:00Z; the Santiago week of 2026-09-06 starts at 04:00Z', async () => {
  await setViewerZone('America/New_York');
  await setInstant('2026-03-08T02:30');
  // the engine's gap rule: the first instant after the gap, 03:00 EDT
  assert.equal(await page.textContent('#at-utc'), '= 2026-03-08T07:00:00Z');
  await setViewerZone('America/Santiago');
  await setInstant('2026-09-08T12:00');
  // week slider at 0 = the start of the viewer's week: Sunday 2026-09-06,
  // whose midnight is skipped, so it starts at 01:00 -03 = 04:00Z
  await page.$eval('#week-slider', (e) => { e.value = '0'; e.dispatchEvent(new Event('input')); });
  assert.equal(await page.textContent('#at-utc'), '= 2026-09-06T04:00:00Z');
  const week = await page.evaluate(async () => {
    const time = await import('./time.js');
    const w = time.weekStart(new Date('2026-09-08T12:00:00Z'), 'America/Santiago');
    return { start: w.start.toISOString(), date: w.date };
  });
  assert.deepEqual(week, { start: '2026-09-06T04:00:00.000Z', date: '2026-09-06' });
  await setViewerZone('UTC');
  assert.deepEqual(pageErrors, [], 'no errors in the page console');
});

test('play a day runs the engine\'s simulator: its numbers equal routecap simulate --seed; then a screenshot', async () => {
  await page.click('[data-sample="native"]');
  await page.waitForFunction(() => document.querySelector('#config-status').textContent.includes('native.json'));
  await setInstant('2026-11-23T13:00');
  await page.fill('#route-n', '1000');
  await page.click('#route-run');
  await page.waitForSelector('#route-chart rect.bar-observed');
  await page.fill('#sim-rate', '120');
  await page.fill('#route-seed', '7');
  await page.selectOption('#sim-speed', '30');
  await page.click('#sim-play');
  await page.waitForSelector('#sim-stats[data-done="true"]', { timeout: 60_000 });
  const stats = await page.textContent('#sim-stats');
  const num = (label) => new RegExp(`${label} ([0-9.]+)`).exec(stats)?.[1] ?? null;
  const options = JSON.parse(await page.getAttribute('#sim-cmd', 'data-options'));
  assert.equal(options.seed, 7);
  assert.equal(options.from, '2026-11-23T13:00:00Z');
  // the same run by the native CLI
  const bin = process.env.ROUTECAP_BIN || join(root, 'target', 'debug', 'routecap');
  assert.ok(existsSync(bin), `native CLI missing at ${bin} (cargo build -p routecap)`);
  const args = ['simulate', join(root, 'examples', 'native.json'), '--json', '--quiet', '--from', options.from, '--to', options.to,
    '--calls-per-hour', String(options.calls_per_hour), '--seed', String(options.seed), ...(options.fresh ? ['--fresh'] : [])];
  const cliReport = JSON.parse(execFileSync(bin, args, { encoding: 'utf8' }));
  assert.ok(cliReport.calls > 1000, stats);
  assert.deepEqual(
    { calls: num('calls'), connected: num('connected'), no_eligible: num('no target'), unanswered: num('unanswered'), converted: num('converted'), revenue: num('revenue') },
    { calls: String(cliReport.calls), connected: String(cliReport.connected), no_eligible: String(cliReport.no_eligible),
      unanswered: String(cliReport.unanswered), converted: String(cliReport.converted), revenue: cliReport.revenue },
    stats);
  const meters = await page.$$eval('#sim-caps .meter span', (ss) => ss.map((s) => s.textContent));
  assert.ok(meters.length > 0 && meters.some((m) => !m.startsWith('0 ')), 'some usage shown');
  await page.selectOption('#hours-owner', 'london-debt');
  mkdirSync(results, { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT));
  assert.deepEqual(pageErrors, [], 'no errors in the page console');
});
