// SVG charts: the 7×24 hours heatmap and the first-place bar chart.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function clear(svg) {
  while (svg.firstChild) svg.firstChild.remove();
}

/** Colour of an open share (0..1) or a missing hour (null). */
function cellFill(share) {
  if (share === null) return 'url(#gap)';
  if (share <= 0) return '#e8ebf0';
  if (share >= 1) return '#1f9d55';
  return '#8fd1a9';
}

/**
 * Draw one heatmap view `{zone, days: [{date, weekday, hours: [share|null ×24]}]}`;
 * `now` = {day, hour} to outline, or null.
 */
export function heatmap(svg, view, now) {
  clear(svg);
  const cw = 19, ch = 18, left = 78, top = 16;
  svg.setAttribute('width', left + 24 * cw + 4);
  svg.setAttribute('height', top + 7 * ch + 4);
  const defs = el('defs');
  const pat = el('pattern', { id: 'gap', width: 4, height: 4, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  pat.append(el('rect', { width: 4, height: 4, fill: '#fff' }), el('rect', { width: 2, height: 4, fill: '#c8c8c8' }));
  defs.append(pat);
  svg.append(defs);
  for (let h = 0; h < 24; h += 3) svg.append(el('text', { x: left + h * cw + 2, y: 11 }, String(h).padStart(2, '0')));
  const names = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  view.days.forEach((day, r) => {
    svg.append(el('text', { x: 0, y: top + r * ch + 13 }, `${names[day.weekday]} ${day.date.slice(5)}`));
    day.hours.forEach((share, h) => {
      const rect = el('rect', {
        x: left + h * cw, y: top + r * ch, width: cw - 1, height: ch - 1, rx: 2,
        fill: cellFill(share), class: 'cell', 'data-day': r, 'data-hour': h,
        'data-share': share === null ? 'none' : share,
      });
      rect.append(el('title', {}, `${day.date} ${String(h).padStart(2, '0')}:00 — ${share === null ? 'does not occur (DST)' : `${Math.round(share * 100)}% open`}`));
      svg.append(rect);
    });
  });
  if (now && now.day >= 0 && now.day < view.days.length) {
    svg.append(el('rect', { x: left + now.hour * cw - 1, y: top + now.day * ch - 1, width: cw + 1, height: ch + 1, class: 'now' }));
  }
}

/**
 * Horizontal bars of observed first-place shares with expected-share marks.
 * `rows` = [{id, label, count, share, expected}].
 */
export function barChart(svg, rows, total) {
  clear(svg);
  const left = 190, width = 520, bh = 22, gap = 8, top = 8;
  svg.setAttribute('width', left + width + 170);
  svg.setAttribute('height', top + rows.length * (bh + gap) + 24);
  const max = Math.max(0.0001, ...rows.map((r) => Math.max(r.share, r.expected)));
  const scale = (v) => (v / max) * width;
  rows.forEach((r, i) => {
    const y = top + i * (bh + gap);
    svg.append(el('text', { x: 0, y: y + 15 }, r.label));
    svg.append(el('rect', { x: left, y, width: width, height: bh, fill: '#f0f2f6', rx: 3 }));
    const bar = el('rect', {
      x: left, y, width: Math.max(0, scale(r.share)), height: bh, fill: '#2f5fd0', rx: 3,
      class: 'bar-observed', 'data-id': r.id, 'data-count': r.count, 'data-share': r.share.toFixed(4),
    });
    bar.append(el('title', {}, `${r.id}: ${r.count} of ${total} calls first`));
    svg.append(bar);
    const x = left + scale(r.expected);
    svg.append(el('line', {
      x1: x, x2: x, y1: y - 3, y2: y + bh + 3, stroke: '#d03030', 'stroke-width': 2,
      class: 'bar-expected', 'data-id': r.id, 'data-expected': r.expected.toFixed(4),
    }));
    svg.append(el('text', { x: left + width + 8, y: y + 15 },
      `${(r.share * 100).toFixed(1)}%  (expected ${(r.expected * 100).toFixed(1)}%)`));
  });
  const y = top + rows.length * (bh + gap) + 14;
  svg.append(el('line', { x1: left, x2: left + 14, y1: y - 4, y2: y - 4, stroke: '#2f5fd0', 'stroke-width': 8 }));
  svg.append(el('text', { x: left + 20, y }, 'observed first place'));
  svg.append(el('line', { x1: left + 170, x2: left + 170, y1: y - 10, y2: y + 2, stroke: '#d03030', 'stroke-width': 2 }));
  svg.append(el('text', { x: left + 178, y }, 'expected weight share (lowest eligible priority tier)'));
}
