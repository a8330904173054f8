// Wall-clock helpers: the engine works in UTC instants, the page shows and
// reads times in the viewer's IANA zone. Local time -> instant and week
// starts come from the engine (wasm), so gaps and folds resolve as the
// engine resolves them; Intl only formats an instant's local fields.
import { localToInstant, weekStart as engineWeekStart } from '../bindings/wasm/pkg/routecap_wasm.js';

const formatters = new Map();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function formatter(tz) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', weekday: 'short',
      year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Local calendar fields of `date` in `tz`: {y, m, d, h, min, s, wd}. */
export function localParts(date, tz) {
  const o = {};
  for (const p of formatter(tz).formatToParts(date)) o[p.type] = p.value;
  return { y: +o.year, m: +o.month, d: +o.day, h: +o.hour % 24, min: +o.minute, s: +o.second, wd: WEEKDAYS.indexOf(o.weekday) };
}

/** The instant a local wall time occurs in `tz`, by the engine's rule (in a
 * gap: the first instant after it; in a fold: the earlier one). */
export function zonedToUtc(y, m, d, h, min, tz) {
  return new Date(localToInstant(`${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(min)}`, tz));
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DDTHH:MM` of `date` in `tz`, for <input type=datetime-local>. */
export function toLocalInput(date, tz) {
  const p = localParts(date, tz);
  return `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.min)}`;
}

/** Parse a datetime-local value as a wall time in `tz`; null if invalid. */
export function fromLocalInput(value, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value ?? '');
  if (!m) return null;
  try {
    return zonedToUtc(+m[1], +m[2], +m[3], +m[4], +m[5], tz);
  } catch {
    return null; // outside what the engine covers (1970..2100)
  }
}

/** RFC 3339 UTC without milliseconds when they are zero (as the CLI prints). */
export function iso(date) {
  return date.toISOString().replace('.000Z', 'Z');
}

/** Start (in `tz`, by the engine) of the Sunday-first week containing `date`: {start: Date, date: 'YYYY-MM-DD'}. */
export function weekStart(date, tz) {
  const w = engineWeekStart(iso(date), tz);
  return { start: new Date(w.start), date: w.date };
}

/** `Mon 14:00` style, in `tz`. */
export function shortLocal(date, tz) {
  const p = localParts(date, tz);
  return `${WEEKDAYS[p.wd]} ${pad(p.d)}/${pad(p.m)} ${pad(p.h)}:${pad(p.min)}`;
}

/** `in 3 h 20 min` / `4 d 2 h` from `from` to `to`. */
export function relative(from, to) {
  let s = Math.round((to - from) / 1000);
  if (s <= 0) return 'now';
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60);
  if (d) return `in ${d} d ${h} h`;
  if (h) return `in ${h} h ${m} min`;
  return `in ${Math.max(m, 1)} min`;
}

/** A browser-known IANA zone, or null. */
export function isIntlZone(tz) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export { WEEKDAYS };
