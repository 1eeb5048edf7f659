// Small SVG charts: horizontal bars, a pie, and the specification scatter.
// Labels are text nodes; numbers are formatted here.
import {h, svg, formatNumber} from './dom.js';
import {pca2} from './pca.js';

const PALETTE = ['#3867d6', '#20bf6b', '#f7b731', '#eb3b5a', '#8854d0', '#0fb9b1', '#fa8231', '#4b6584',
  '#a5b1c2', '#2d98da', '#26de81', '#fed330', '#fc5c65', '#a55eea', '#2bcbba'];

export function colour(i) {
  return PALETTE[i % PALETTE.length];
}

// data: [{label, value}]; answers a <figure> holding an <svg>.
export function barChart(data, title, opts = {}) {
  const rowH = 24;
  const labelW = opts.labelWidth || 130;
  const width = 420;
  const barW = width - labelW - 60;
  const max = Math.max(1, ...data.map((d) => d.value));
  const height = Math.max(1, data.length) * rowH + 8;
  const chart = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'chart bar-chart', role: 'img', 'aria-label': title});
  chart.appendChild(svg('title', {}, title));
  data.forEach((d, i) => {
    const y = 4 + i * rowH;
    const w = (d.value / max) * barW;
    chart.append(
      svg('text', {x: labelW - 6, y: y + rowH / 2 + 4, 'text-anchor': 'end', class: 'chart-label'}, truncate(d.label, 20)),
      svg('rect', {x: labelW, y: y + 3, width: Math.max(w, d.value > 0 ? 2 : 0), height: rowH - 6, rx: 3, fill: d.colour || colour(i)},
        svg('title', {}, `${d.label}: ${d.value}`)),
      svg('text', {x: labelW + w + 6, y: y + rowH / 2 + 4, class: 'chart-value'}, String(d.value)));
  });
  if (!data.length) chart.appendChild(svg('text', {x: 10, y: 20, class: 'chart-label'}, 'nothing yet'));
  return h('figure', {class: 'chart-box'}, h('figcaption', {}, title), chart);
}

export function pieChart(data, title) {
  const size = 160;
  const r = 70;
  const c = size / 2;
  const total = data.reduce((s, d) => s + d.value, 0);
  const chart = svg('svg', {viewBox: `0 0 ${size} ${size}`, class: 'chart pie-chart', role: 'img', 'aria-label': title});
  chart.appendChild(svg('title', {}, title));
  let angle = -Math.PI / 2;
  const slices = data.filter((d) => d.value > 0);
  slices.forEach((d, i) => {
    const share = d.value / total;
    const fill = d.colour || colour(data.indexOf(d));
    let shape;
    if (slices.length === 1) {
      shape = svg('circle', {cx: c, cy: c, r, fill});
    } else {
      const a2 = angle + share * 2 * Math.PI;
      const large = share > 0.5 ? 1 : 0;
      const p = (a) => `${(c + r * Math.cos(a)).toFixed(2)} ${(c + r * Math.sin(a)).toFixed(2)}`;
      shape = svg('path', {d: `M ${c} ${c} L ${p(angle)} A ${r} ${r} 0 ${large} 1 ${p(a2)} Z`, fill});
      angle = a2;
    }
    shape.appendChild(svg('title', {}, `${d.label}: ${d.value} (${Math.round(share * 100)}%)`));
    chart.appendChild(shape);
    void i;
  });
  if (!total) chart.appendChild(svg('circle', {cx: c, cy: c, r, fill: '#e5e9f0'}));
  const legend = h('ul', {class: 'legend'}, data.map((d, i) =>
    h('li', {}, h('span', {class: 'swatch', style: {background: d.colour || colour(i)}}), `${d.label}: ${d.value}`)));
  return h('figure', {class: 'chart-box pie-box'}, h('figcaption', {}, title), h('div', {class: 'pie-row'}, chart, legend));
}

// The RKME picture: z projected to 2-D by PCA, circle area proportional to
// |beta| (negative weights, from --signed-beta, drawn hollow).
export function specScatter(rkme) {
  const z = Array.isArray(rkme.z) ? rkme.z : [];
  const beta = Array.isArray(rkme.beta) ? rkme.beta.map(Number) : [];
  const {coords, variance} = pca2(z);
  const size = 360;
  const pad = 24;
  const chart = svg('svg', {viewBox: `0 0 ${size} ${size}`, class: 'chart spec-scatter', role: 'img',
    'aria-label': `Specification: ${z.length} reduced points projected by PCA`});
  chart.appendChild(svg('title', {}, `${z.length} reduced points, projected to their two principal axes`));
  chart.appendChild(svg('rect', {x: 0, y: 0, width: size, height: size, class: 'plot-bg'}));
  if (!coords.length) return h('figure', {class: 'chart-box'}, chart, h('figcaption', {}, 'no points'));
  const xs = coords.map((p) => p[0]);
  const ys = coords.map((p) => p[1]);
  const span = (a) => {
    const lo = Math.min(...a);
    const hi = Math.max(...a);
    return [lo, hi - lo || 1];
  };
  const [x0, xw] = span(xs);
  const [y0, yw] = span(ys);
  const maxB = Math.max(1e-300, ...beta.map(Math.abs));
  const rMax = 14;
  // axes through the centre (the mean of the points is the origin)
  const ox = pad + ((0 - x0) / xw) * (size - 2 * pad);
  const oy = size - pad - ((0 - y0) / yw) * (size - 2 * pad);
  chart.append(svg('line', {x1: pad / 2, y1: oy, x2: size - pad / 2, y2: oy, class: 'axis'}),
    svg('line', {x1: ox, y1: pad / 2, x2: ox, y2: size - pad / 2, class: 'axis'}));
  const order = coords.map((_, i) => i).sort((a, b) => Math.abs(beta[b] || 0) - Math.abs(beta[a] || 0));
  for (const i of order) {
    const b = beta[i] || 0;
    const r = Math.max(1.2, rMax * Math.sqrt(Math.abs(b) / maxB));
    const cx = pad + ((coords[i][0] - x0) / xw) * (size - 2 * pad);
    const cy = size - pad - ((coords[i][1] - y0) / yw) * (size - 2 * pad);
    chart.appendChild(svg('circle', {cx: cx.toFixed(2), cy: cy.toFixed(2), r: r.toFixed(2),
      class: b < 0 ? 'point negative' : 'point'}, svg('title', {}, `point ${i}: beta ${formatNumber(b)}`)));
  }
  const pct = (v) => `${Math.round(v * 100)}%`;
  const caption = `${z.length} reduced points in ${z[0] ? z[0].length : 0} dimensions (gamma ${formatNumber(Number(rkme.gamma))}), ` +
    `projected on their first two principal axes (${pct(variance[0])} and ${pct(variance[1])} of the variance); ` +
    'circle area is proportional to the weight beta.';
  return h('figure', {class: 'chart-box spec-box'}, chart, h('figcaption', {}, caption));
}

// Horizontal weight bars for the recommended mixture.
export function weightBars(items) {
  return h('div', {class: 'weights'}, items.map((it, i) =>
    h('div', {class: 'weight-row'},
      h('a', {href: `#/learnware/${encodeURIComponent(it.id)}`, class: 'weight-name'}, it.name || it.id),
      h('div', {class: 'weight-track', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 1, 'aria-valuenow': it.weight,
        'aria-label': `weight of ${it.name || it.id}`},
      h('div', {class: 'weight-bar', style: {width: `${(Math.max(0, Math.min(1, Number(it.weight) || 0)) * 100).toFixed(1)}%`, background: colour(i)}})),
      h('span', {class: 'weight-value'}, formatNumber(it.weight, 3)))));
}

function truncate(s, n) {
  s = String(s);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
