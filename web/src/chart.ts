/**
 * The recovery capital chart: Idaho Recovery Capital Scale totals (23-115) over time as an SVG line
 * with a point per administration and the change from the one before, plus the same figures as a
 * table (for screen readers and for copying).
 */
import type { CapitalPoint } from './person-data';
import { h, s, when } from './dom';

const W = 640;
const H = 260;
const PAD = { left: 44, right: 44, top: 24, bottom: 40 };
export const MIN_TOTAL = 23;
export const MAX_TOTAL = 115;

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

export function capitalChart(points: CapitalPoint[]): HTMLElement {
  const times = points.map((p) => Date.parse(p.date));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number): number => (t1 === t0 ? (PAD.left + W - PAD.right) / 2 : PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v: number): number => PAD.top + ((MAX_TOTAL - v) / (MAX_TOTAL - MIN_TOTAL)) * (H - PAD.top - PAD.bottom);
  const ticks = [23, 46, 69, 92, 115];
  const xy = points.map((p, i) => [x(times[i]), y(p.total)] as const);
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'capital-title capital-desc', className: 'chart', 'data-testid': 'capital-chart' },
    s('title', { id: 'capital-title' }, 'Recovery capital totals over time'),
    s('desc', { id: 'capital-desc' }, points.map((p) => `${p.date.slice(0, 10)}: ${p.total}`).join('; ')),
    ticks.map((t) =>
      s(
        'g',
        { className: 'tick' },
        s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t) }),
        s('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, t),
      ),
    ),
    s('polyline', { className: 'line', points: xy.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' '), fill: 'none' }),
    points.map((p, i) => {
      const [cx, cy] = xy[i];
      const change = i > 0 ? p.total - points[i - 1].total : undefined;
      return s(
        'g',
        { className: 'point' },
        s(
          'circle',
          { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 5, 'data-total': p.total, 'data-date': p.date },
          s('title', {}, `${p.date.slice(0, 10)}: ${p.total}`),
        ),
        s('text', { x: cx, y: cy - 10, 'text-anchor': 'middle', className: 'value' }, p.total),
        change !== undefined
          ? s(
              'text',
              { x: (cx + xy[i - 1][0]) / 2, y: (cy + xy[i - 1][1]) / 2 - 8, 'text-anchor': 'middle', className: `change ${change >= 0 ? 'up' : 'down'}` },
              signed(change),
            )
          : null,
        s('text', { x: cx, y: H - PAD.bottom + 18, 'text-anchor': 'middle', className: 'date' }, p.date.slice(0, 10)),
      );
    }),
  );
  const table = h(
    'table',
    { className: 'data' },
    h('caption', {}, 'Totals by administration'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Date'), h('th', { scope: 'col' }, 'Total'), h('th', { scope: 'col' }, 'Change'))),
    h(
      'tbody',
      {},
      points.map((p, i) => h('tr', {}, h('td', {}, when(p.date)), h('td', {}, p.total), h('td', {}, i > 0 ? signed(p.total - points[i - 1].total) : '—'))),
    ),
  );
  return h('div', { className: 'chart-box' }, svg, table);
}
