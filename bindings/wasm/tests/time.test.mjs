// The demo's zone math is the engine's: local date-time -> instant resolves
// a DST gap to the first instant after it, and a day or week starts at the
// engine's daily window start (later where midnight is skipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm, thrown } from './helpers.mjs';

const { localToInstant, dayStart, weekStart } = wasm;

test('localToInstant: New York spring-forward gap 2026-03-08 02:30 -> 07:00Z (03:00 EDT)', () => {
  assert.equal(localToInstant('2026-03-08T02:30', 'America/New_York'), '2026-03-08T07:00:00Z');
  assert.equal(localToInstant('2026-03-08T01:59', 'America/New_York'), '2026-03-08T06:59:00Z');
  assert.equal(localToInstant('2026-03-08T03:00', 'Eastern Time (US & Canada)'), '2026-03-08T07:00:00Z');
});

test('localToInstant: New York fall-back fold 2026-11-01 01:30 -> the earlier, 05:30Z (EDT)', () => {
  assert.equal(localToInstant('2026-11-01T01:30', 'America/New_York'), '2026-11-01T05:30:00Z');
});

test('weekStart/dayStart: Santiago 2026-09-06 starts at 04:00Z (midnight skipped)', () => {
  assert.deepEqual({ ...weekStart('2026-09-08T12:00:00Z', 'America/Santiago') }, { start: '2026-09-06T04:00:00Z', date: '2026-09-06' });
  assert.equal(dayStart('2026-09-06T12:00:00Z', 'America/Santiago'), '2026-09-06T04:00:00Z');
  assert.equal(localToInstant('2026-09-06T00:00', 'America/Santiago'), '2026-09-06T04:00:00Z');
});

test('time: unknown zones and bad local times throw', () => {
  assert.match(thrown(() => localToInstant('2026-03-08T02:30', 'Mars/Olympus')).message, /unknown time zone/);
  assert.match(thrown(() => localToInstant('08/03/2026', 'UTC')).message, /local date-time/);
});
