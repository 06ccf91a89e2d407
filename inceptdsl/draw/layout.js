// The interactive diagram: layout.py's placement ported to the browser (see draw/html.py).
// Spec text is only ever inserted with textContent / setAttribute, never as markup.
(function () {
  "use strict";
  var root = document.currentScript.parentNode;
  var M = JSON.parse(root.querySelector("script.inceptdsl-model").textContent);
  var C = M.consts, ENTRY = M.entry, EXIT = M.exit;
  var NS = "http://www.w3.org/2000/svg";
  var expanded = {};
  function setDepth(d) {
    expanded = {};
    Object.keys(M.units).forEach(function (k) {
      var u = M.units[k];
      if (u.scope && u.depth < d) expanded[k] = true;
    });
  }
  function textW(s) { return s.length * C.CHAR_W; }
  function placed(w, h, tops, bottoms, axis) {
    return { w: w, h: h, tops: tops, bottoms: bottoms, boxes: [], frames: [], edges: [], axis: axis || 0 };
  }
  function shift(p, dx, dy) {
    p.tops.concat(p.bottoms).forEach(function (q) { q.x += dx; q.y += dy; });
    p.boxes.concat(p.frames).forEach(function (b) { b.x += dx; b.y += dy; });
    p.edges.forEach(function (e) {
      e.points = e.points.map(function (pt) { return [pt[0] + dx, pt[1] + dy]; });
      e.at = [e.at[0] + dx, e.at[1] + dy];
    });
    p.axis += dx;
  }
  function merge(into, p) {
    into.boxes = into.boxes.concat(p.boxes);
    into.frames = into.frames.concat(p.frames);
    into.edges = into.edges.concat(p.edges);
  }
  function unit(key) {
    var u = M.units[key];
    if (u.scope && expanded[key]) return frame(key);
    var w = Math.max(C.MIN_W, Math.max.apply(null, u.lines.map(textW)) + 2 * C.PAD_X);
    var h = u.lines.length * C.LINE_H + 2 * C.PAD_Y;
    var p = placed(w, h, [{ x: w / 2, y: 0, unit: key }], [{ x: w / 2, y: h, unit: key }], w / 2);
    p.boxes.push({ key: key, x: 0, y: 0, w: w, h: h });
    return p;
  }
  function edgeMap(key) {
    var m = {};
    M.scopes[key].edges.forEach(function (e) { m[e[0] + "\n" + e[1]] = e[2]; });
    return m;
  }
  function frame(key) {
    var sc = M.scopes[key], edges = edgeMap(key);
    var inner = series(sc.tree, edges);
    var tw = textW(M.units[key].frame) + C.FRAME_PAD + 6;
    var half = Math.max(inner.axis, inner.w - inner.axis, tw);
    var w = 2 * half + 2 * C.FRAME_PAD;
    var h = C.TITLE_H + C.GAP_Y / 2 + inner.h + C.GAP_Y / 2 + C.FRAME_PAD / 2;
    shift(inner, C.FRAME_PAD + half - inner.axis, C.TITLE_H + C.GAP_Y / 2);
    var axis = w / 2;
    var out = placed(w, h, [{ x: axis, y: 0, unit: key }], [{ x: axis, y: h, unit: key }], axis);
    out.frames.push({ key: key, x: 0, y: 0, w: w, h: h });
    merge(out, inner);
    connect(out, [{ x: axis, y: 0, unit: ENTRY }], inner.tops, edges, C.TITLE_H / 2 + C.GAP_Y / 4);
    connect(out, inner.bottoms, [{ x: axis, y: h, unit: EXIT }], edges, null);
    sc.extra.forEach(function (e) { extraEdge(out, e[0], e[1]); });
    return out;
  }
  function series(s, edges) {
    var parts = s.s.map(function (it) { return typeof it === "string" ? unit(it) : par(it, edges); });
    if (!parts.length) return placed(0, 0, [], [], 0);
    var left = Math.max.apply(null, parts.map(function (p) { return p.axis; }));
    var right = Math.max.apply(null, parts.map(function (p) { return p.w - p.axis; }));
    var y = 0, out = placed(left + right, 0, [], [], left);
    parts.forEach(function (p, i) {
      shift(p, left - p.axis, y);
      merge(out, p);
      if (i) connect(out, parts[i - 1].bottoms, p.tops, edges, null);
      y += p.h + C.GAP_Y;
    });
    out.h = y - C.GAP_Y;
    out.tops = parts[0].tops;
    out.bottoms = parts[parts.length - 1].bottoms;
    return out;
  }
  function par(p, edges) {
    var parts = p.p.map(function (b) { return series(b, edges); });
    var x = p.sc ? C.LANE_W : 0;
    var h = Math.max.apply(null, parts.map(function (q) { return q.h; }));
    var out = placed(0, h, [], [], 0);
    parts.forEach(function (q) {
      shift(q, x, 0);
      merge(out, q);
      out.tops = out.tops.concat(q.tops);
      out.bottoms = out.bottoms.concat(q.bottoms);
      x += q.w + C.GAP_X;
    });
    out.w = x - C.GAP_X;
    if (p.sc) {
      var lx = C.LANE_W / 2;
      out.tops.unshift({ x: lx, y: 0, unit: "" });
      out.bottoms.unshift({ x: lx, y: h, unit: "" });
      out.edges.push({ points: [[lx, 0], [lx, h]], kind: "shortcut", label: "", at: [0, 0] });
    }
    out.axis = ((p.sc ? C.LANE_W : 0) + out.w) / 2;
    return out;
  }
  function connect(out, froms, tos, edges, bend) {
    var labelled = {};
    froms.forEach(function (a) {
      tos.forEach(function (b) {
        var lane = a.unit === "" || b.unit === "";
        var k = a.unit + "\n" + b.unit;
        if (!lane && !(k in edges)) return;
        var ym = froms.length === 1 ? a.y + (bend !== null ? bend : C.GAP_Y / 2) : b.y - C.GAP_Y / 2;
        var pts = a.x === b.x ? [[a.x, a.y], [b.x, b.y]] : [[a.x, a.y], [a.x, ym], [b.x, ym], [b.x, b.y]];
        var e = { points: pts, kind: lane ? "shortcut" : "data", label: "", at: [0, 0] };
        var text = edges[k];
        if (text && a.unit !== ENTRY && a.unit !== "" && b.unit !== EXIT && !labelled[a.x + "\n" + text]) {
          labelled[a.x + "\n" + text] = true;
          e.label = text;
          e.at = [a.x + 4, a.y + 11];
        }
        out.edges.push(e);
      });
    });
  }
  function extraEdge(out, a, b) {
    var ba = null, bb = null;
    out.boxes.forEach(function (x) { if (x.key === a) ba = x; if (x.key === b) bb = x; });
    if (!ba || !bb) return;
    var lx = out.w - C.FRAME_PAD / 2, ya = ba.y + ba.h / 2, yb = bb.y + bb.h / 2;
    out.edges.push({ points: [[ba.x + ba.w, ya], [lx, ya], [lx, yb], [bb.x + bb.w, yb]], kind: "extra", label: "", at: [0, 0] });
  }
  function layout() {
    var main = series(M.scopes[""].tree, edgeMap(""));
    M.scopes[""].extra.forEach(function (e) { extraEdge(main, e[0], e[1]); });
    var margin = 16;
    shift(main, margin, margin);
    var d = { boxes: main.boxes, frames: main.frames, edges: main.edges };
    var columns = [], colX = [], colW = [];
    M.aux.forEach(function (a) {
      var anchor = null;
      d.boxes.forEach(function (b) {
        if (a.holders.indexOf(b.key) >= 0 && (!anchor || b.key.length > anchor.key.length)) anchor = b;
      });
      if (!anchor) return;
      var head = unit(a.key);
      var top = anchor.y + anchor.h / 2 + C.GAP_Y / 2;
      var col = -1;
      for (var i = 0; i < columns.length && col < 0; i++) {
        if (columns[i].every(function (tb) { return top > tb[1] + C.GAP_Y || top + head.h + C.GAP_Y < tb[0]; })) col = i;
      }
      if (col < 0) {
        var x0 = colX.length ? colX[colX.length - 1] + colW[colW.length - 1] + 2 * C.GAP_X : margin + main.w + 3 * C.GAP_X;
        columns.push([]); colX.push(x0); colW.push(0); col = columns.length - 1;
      }
      shift(head, colX[col], top);
      columns[col].push([top, top + head.h]);
      colW[col] = Math.max(colW[col], head.w);
      d.boxes = d.boxes.concat(head.boxes);
      d.frames = d.frames.concat(head.frames);
      d.edges = d.edges.concat(head.edges);
      var ay = anchor.y + anchor.h / 2, hx = head.tops[0].x;
      d.edges.push({ points: [[anchor.x + anchor.w, ay], [hx, ay], [hx, top]], kind: "aux", label: a.shape, at: [anchor.x + anchor.w + 4, ay - 4] });
    });
    var xs = [0], ys = [0];
    d.boxes.concat(d.frames).forEach(function (b) { xs.push(b.x + b.w); ys.push(b.y + b.h); });
    d.edges.forEach(function (e) { if (e.label) xs.push(e.at[0] + textW(e.label)); });
    d.width = Math.max.apply(null, xs) + margin;
    d.height = Math.max.apply(null, ys) + margin;
    return d;
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, cls, x, y, s) {
    var t = el("text", { x: x, y: y }, parent);
    if (cls) t.setAttribute("class", cls);
    t.textContent = s;
    return t;
  }
  var view = root.querySelector("#view"), tip = root.querySelector("#tip");
  var svg = el("svg", { "class": "inceptdsl-diagram" }, view);
  var g = el("g", {}, svg);
  var tx = 0, ty = 0, scale = 1;
  function apply() { g.setAttribute("transform", "translate(" + tx + "," + ty + ") scale(" + scale + ")"); }
  function hover(node, s) {
    node.addEventListener("mousemove", function (ev) {
      tip.textContent = s; tip.style.display = "block";
      tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px";
      ev.stopPropagation();
    });
    node.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  }
  function render() {
    var d = layout();
    while (g.firstChild) g.removeChild(g.firstChild);
    svg.setAttribute("width", "100%"); svg.setAttribute("height", "100%");
    d.frames.forEach(function (f) {
      var fg = el("g", { "class": "frame", "data-key": f.key }, g);
      el("rect", { x: f.x, y: f.y, width: f.w, height: f.h, rx: 6 }, fg);
      text(fg, "", f.x + 8, f.y + C.TITLE_H - 5, M.units[f.key].frame);
      hover(fg, M.units[f.key].title + "\n(click the title to collapse)");
      fg.querySelector("text").style.cursor = "pointer";
      fg.querySelector("text").addEventListener("click", function () { delete expanded[f.key]; render(); });
    });
    d.edges.forEach(function (e) {
      el("polyline", { "class": "edge " + e.kind, points: e.points.map(function (p) { return p[0] + "," + p[1]; }).join(" ") }, g);
      if (e.label) text(g, "elabel", e.at[0], e.at[1], e.label);
    });
    d.boxes.forEach(function (b) {
      var u = M.units[b.key];
      var bg = el("g", { "class": "node " + u.kind, "data-key": b.key }, g);
      el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 3 }, bg);
      u.lines.forEach(function (line, i) {
        var y = b.y + C.PAD_Y + (i + 1) * C.LINE_H - (C.LINE_H - C.FONT) / 2 - 1;
        text(bg, i === 0 ? "name" : "", b.x + C.PAD_X, y, line);
      });
      hover(bg, u.title);
      if (u.scope) {
        bg.style.cursor = "pointer";
        bg.addEventListener("click", function () { expanded[b.key] = true; render(); });
      }
    });
    root.dataset.layout = JSON.stringify({ width: d.width, height: d.height, boxes: d.boxes.map(function (b) { return [b.key, b.x, b.y, b.w, b.h]; }) });
    return d;
  }
  function fit() {
    var d = layout(), r = view.getBoundingClientRect();
    // The whole drawing in the window: a tall network fits its height, a wide one its width.
    scale = Math.min(1, r.width / d.width, r.height / d.height);
    tx = Math.max(0, (r.width - d.width * scale) / 2); ty = 0; apply();
  }
  var drag = null;
  view.addEventListener("mousedown", function (ev) { drag = [ev.clientX - tx, ev.clientY - ty]; view.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", function () { drag = null; view.style.cursor = "grab"; });
  window.addEventListener("mousemove", function (ev) { if (drag) { tx = ev.clientX - drag[0]; ty = ev.clientY - drag[1]; apply(); } });
  view.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = view.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var f = ev.deltaY < 0 ? 1.15 : 1 / 1.15;
    tx = mx - (mx - tx) * f; ty = my - (my - ty) * f; scale *= f; apply();
  }, { passive: false });
  window.addEventListener("keydown", function (ev) {
    if (ev.key === "+" || ev.key === "=") { scale *= 1.15; apply(); }
    if (ev.key === "-") { scale /= 1.15; apply(); }
  });
  root.querySelectorAll("#bar button").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var act = btn.getAttribute("data-act");
      if (act === "collapse") { setDepth(1); render(); fit(); }
      if (act === "expand") {
        var deepest = 1;
        Object.keys(expanded).forEach(function (k) { deepest = Math.max(deepest, M.units[k].depth + 1); });
        setDepth(Math.min(deepest + 1, M.maxDepth)); render();
      }
      if (act === "fit") fit();
    });
  });
  root.querySelector(".gname").textContent = M.name;
  setDepth(M.depth);
  render();
  apply();
})();
