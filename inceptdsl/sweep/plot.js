// The sweep page's scatter plot (inlined into the page by html.py; no external file).
(function(){
const D = JSON.parse(document.getElementById('data').textContent);
const NS = 'http://www.w3.org/2000/svg', svg = document.getElementById('plot');
const W = 820, H = 520, L = 80, R = 20, T = 20, B = 50;
const sx = document.getElementById('x'), sy = document.getElementById('y');
for (const s of [sx, sy]) for (const a of D.axes) {
  const o = document.createElement('option'); o.value = a; o.textContent = a; s.appendChild(o);
}
sx.value = D.x; sy.value = D.y;
const tip = document.getElementById('tip');
function val(p, a) { return (a in p.m) ? p.m[a] : p.params[a]; }
function fmt(v) {
  const a = Math.abs(v);
  for (const [u, f] of [['G', 1e9], ['M', 1e6], ['K', 1e3]]) if (a >= f) return String(+(v / f).toPrecision(3)) + u;
  return String(+v.toPrecision(4));
}
function bytes(v) {
  for (const [u, f] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]]) {
    if (v >= f) return (v / f).toFixed(2) + ' ' + u;
  }
  return v + ' B';
}
function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  svg.appendChild(e); return e;
}
function scale(vals, lo, hi, log) {
  let a = Math.min(...vals), b = Math.max(...vals);
  const nonneg = a >= 0;
  if (log) { a = Math.log10(Math.max(a, 1e-12)); b = Math.log10(Math.max(b, 1e-12)); }
  if (a === b) { a -= 1; b += 1; }
  const pad = (b - a) * 0.05; b += pad;
  // a count that starts near zero is drawn from zero (its ratios read true)
  a = (nonneg && !log) ? (a <= b - a ? 0 : Math.max(0, a - pad)) : a - pad;
  const f = v => lo + ((log ? Math.log10(Math.max(v, 1e-12)) : v) - a) / (b - a) * (hi - lo);
  f.ticks = log ? logTicks(a, b) : niceTicks(a, b, 5);
  return f;
}
// ticks at round numbers (1, 2 or 5 times a power of ten) inside [a, b]
function niceTicks(a, b, n) {
  const raw = (b - a) / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
  const out = [];
  for (let k = Math.ceil(a / step - 1e-9); k * step <= b + step * 1e-9; k++) out.push(+(k * step).toPrecision(12));
  return out;
}
// a log axis (a, b are exponents): 1, 2, 5 times powers of ten, thinned to powers when it
// spans many decades; round numbers when it spans less than one 1-2-5 step
function logTicks(a, b) {
  const lo = Math.pow(10, a), hi = Math.pow(10, b), out = [];
  const mults = b - a > 3 ? [1] : [1, 2, 5];
  for (let e = Math.floor(a); e <= Math.ceil(b); e++) for (const m of mults) {
    const t = +(m * Math.pow(10, e)).toPrecision(12);
    if (t >= lo && t <= hi) out.push(t);
  }
  const every = Math.ceil(out.length / 8);
  const thin = out.filter((t, i) => i % every === 0);
  return thin.length >= 2 ? thin : niceTicks(lo, hi, 4).filter(t => t > 0);
}
function draw() {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const xa = sx.value, ya = sy.value;
  // a measured metric (latency) exists only for the timed points
  const pts = D.points.filter(p => val(p, xa) !== undefined && val(p, ya) !== undefined);
  const left = D.points.length - pts.length;
  document.getElementById('note').textContent = left ? `${left} ${D.unit}${left > 1 ? 's' : ''} without ${D.points.some(p => val(p, xa) === undefined) ? xa : ya} not drawn (e.g. pruned before measuring it)` : '';
  if (!pts.length) { el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle'}, 'no point was built'); return; }
  const fx = scale(pts.map(p => val(p, xa)), L, W - R, document.getElementById('logx').checked);
  const fy = scale(pts.map(p => val(p, ya)), H - B, T, document.getElementById('logy').checked);
  el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#444'});
  el('line', {x1: L, y1: T, x2: L, y2: H - B, stroke: '#444'});
  fx.ticks.forEach((t, i) => { const x = fx(t); el('line', {x1: x, y1: H - B, x2: x, y2: H - B + 5, stroke: '#444'});
    // a label at the plot's right edge ends at its tick: centred, it would be cut
    el('text', {x: x, y: H - B + 18, 'text-anchor': x > W - R - 24 ? 'end' : 'middle', 'class': 'axis'}, fmt(t)); });
  for (const t of fy.ticks) { const y = fy(t); el('line', {x1: L - 5, y1: y, x2: L, y2: y, stroke: '#444'});
    el('text', {x: L - 8, y: y + 4, 'text-anchor': 'end', 'class': 'axis'}, fmt(t)); }
  const unit = a => a.startsWith('latency') ? a + ' (ms)' : (a === 'memory' || a === 'activations') ? a + ' (bytes)' : a;
  el('text', {x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle'}, unit(xa));
  el('text', {x: 16, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: `rotate(-90 16 ${(T + H - B) / 2})`}, unit(ya));
  const order = pts.slice().sort((a, b) => (a.front - b.front));
  const front = pts.filter(p => p.front).sort((a, b) => val(a, xa) - val(b, xa));
  if (front.length > 1) el('polyline', {points: front.map(p => fx(val(p, xa)) + ',' + fy(val(p, ya))).join(' '),
    fill: 'none', stroke: '#d62728', 'stroke-dasharray': '4 3'});
  for (const p of order) {
    const c = el('circle', {cx: fx(val(p, xa)), cy: fy(val(p, ya)), r: p.front ? 6 : 4,
      'class': p.front ? 'front' : (p.feasible ? 'other' : 'excluded'), 'data-index': p.i});
    c.addEventListener('mousemove', ev => {
      const lines = [D.unit + ' ' + p.i + (p.front ? ' (front)' : '')];
      for (const k in p.params) lines.push(k + ' = ' + p.params[k]);
      for (const k of [...D.extra, 'params', 'macs', 'memory', 'layers', 'latency'].filter(k => k in p.m)) lines.push(k + ': ' + (k === 'memory' ? bytes(p.m[k]) : k === 'latency' ? p.m[k].toPrecision(3) + ' ms' : fmt(p.m[k])));
      tip.textContent = lines.join('\n'); tip.style.display = 'block';
      // beside the pointer, on the side where it fits in the window
      const x = ev.clientX + 14 + tip.offsetWidth > innerWidth ? ev.clientX - 14 - tip.offsetWidth : ev.clientX + 14;
      const y = ev.clientY + 14 + tip.offsetHeight > innerHeight ? ev.clientY - 14 - tip.offsetHeight : ev.clientY + 14;
      tip.style.left = Math.max(0, x) + 'px'; tip.style.top = Math.max(0, y) + 'px';
    });
    c.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
    c.addEventListener('click', () => copy(p.set));
  }
}
function copy(text) {
  const done = () => { document.getElementById('copied').textContent = 'copied: ' + text; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallback(text, done));
  } else fallback(text, done);
}
function fallback(text, done) {
  const t = document.createElement('textarea'); t.value = text; document.body.appendChild(t);
  t.select(); try { document.execCommand('copy'); } catch (e) {} document.body.removeChild(t); done();
}
for (const id of ['x', 'y', 'logx', 'logy']) document.getElementById(id).addEventListener('change', draw);
draw();
})();
