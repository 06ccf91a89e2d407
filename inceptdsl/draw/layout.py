"""Geometry of a diagram: boxes, frames and edge routes from the model's series-parallel trees.

Series items are stacked top to bottom on one axis, parallel branches placed side by side (in
spec order = concat order) with their tops aligned, a residual shortcut runs down a lane left
of its branches. An expanded scope is a frame around its children's layout; a collapsed one a
box. Edges are orthogonal: out of a box's bottom, a bend halfway down the gap, into the next
box's top, so fan-outs and fan-ins read as the buses of the papers' figures. Aux heads stand
in a column right of the trunk, level with their tap. Text is measured as monospace (the SVG
uses a monospace font), so sizes, and the output, are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import aux_of, info, op_of, shape_of
from .model import ENTRY, EXIT, Label, Model, Par, Series, Unit, frame_title, label, shape_text

FONT = 11
CHAR_W = 6.65  # DejaVu Sans Mono's advance is 0.602 em; a little spare for other monospaces
LINE_H = 14
PAD_X, PAD_Y = 8, 5
GAP_Y = 34  # room for a shape label on the edge
GAP_X = 18
LANE_W = 22
FRAME_PAD = 10
TITLE_H = 18
MIN_W = 70


@dataclass
class Box:
    key: str
    x: float
    y: float
    w: float
    h: float
    label: Label
    kind: str  # "layer", "block" (collapsed scope), "aux", "input"
    scope: bool = False

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass
class Frame:
    key: str
    x: float
    y: float
    w: float
    h: float
    title: str
    tooltip: str
    depth: int


@dataclass
class Edge:
    points: list[tuple[float, float]]
    label: str = ""
    label_at: tuple[float, float] = (0.0, 0.0)
    kind: str = "data"  # "data", "shortcut", "aux", "extra"


@dataclass
class Drawing:
    width: float = 0
    height: float = 0
    boxes: list[Box] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    title: str = ""


@dataclass
class Port:
    x: float
    y: float
    unit: str  # a unit key, ENTRY/EXIT (a frame's ports) or "" (a lane end)


@dataclass
class Placed:
    """A laid-out subtree in local coordinates (moved by `shift`)."""

    w: float
    h: float
    tops: list[Port]
    bottoms: list[Port]
    boxes: list[Box] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    axis: float = 0.0

    def shift(self, dx: float, dy: float) -> None:
        for p in (*self.tops, *self.bottoms):
            p.x += dx
            p.y += dy
        for b in self.boxes:
            b.x += dx
            b.y += dy
        for f in self.frames:
            f.x += dx
            f.y += dy
        for e in self.edges:
            e.points = [(x + dx, y + dy) for x, y in e.points]
            e.label_at = (e.label_at[0] + dx, e.label_at[1] + dy)
        self.axis += dx


def text_w(s: str) -> float:
    return len(s) * CHAR_W


class Layout:
    def __init__(self, model: Model, expanded: set[str]) -> None:
        self.m = model
        self.expanded = expanded

    # -- units --

    def unit(self, key: str, scope: Unit) -> Placed:
        u = self.m.units[key]
        parent = self.m.units[".".join(u.path[:-1])]
        if u.is_scope and key in self.expanded:
            return self.frame(u, parent)
        lab = label(self.m, u, parent)
        w = max(MIN_W, max(text_w(t) for t in lab.lines) + 2 * PAD_X)
        h = len(lab.lines) * LINE_H + 2 * PAD_Y
        node_op = op_of(self.m.g, u.node) if u.node else None
        kind = (
            "input"
            if node_op is not None and node_op.value == "input"
            else "aux"
            if self._aux(u)
            else "block"
            if u.is_scope
            else "layer"
        )
        box = Box(key, 0, 0, w, h, lab, kind, scope=u.is_scope)
        return Placed(w, h, [Port(w / 2, 0, key)], [Port(w / 2, h, key)], [box], axis=w / 2)

    def _aux(self, u: Unit) -> bool:
        return any(aux_of(self.m.g, n) for n in u.nodes[:1])

    def frame(self, u: Unit, parent: Unit) -> Placed:
        scope = self.m.scopes[u.key]
        inner = self.series(scope.tree, u, scope.edges)
        title = frame_title(self.m, u, parent)
        tw = text_w(title) + FRAME_PAD + 6
        # The entry line runs down the axis: keep the title left of it.
        half = max(inner.axis, inner.w - inner.axis, tw)
        w = 2 * half + 2 * FRAME_PAD
        h = TITLE_H + GAP_Y / 2 + inner.h + GAP_Y / 2 + FRAME_PAD / 2
        inner.shift(FRAME_PAD + half - inner.axis, TITLE_H + GAP_Y / 2)
        axis = w / 2
        entry = Port(axis, 0, ENTRY)
        exit_ = Port(axis, h, EXIT)
        out = Placed(w, h, [Port(axis, 0, u.key)], [Port(axis, h, u.key)], axis=axis)
        out.boxes += inner.boxes
        out.frames += inner.frames
        out.edges += inner.edges
        self.connect(out, [entry], inner.tops, scope.edges, bend=TITLE_H / 2 + GAP_Y / 4)
        self.connect(out, inner.bottoms, [exit_], scope.edges)
        depth = len(u.path)
        lab = label(self.m, u, parent)
        out.frames.insert(0, Frame(u.key, 0, 0, w, h, title, lab.title, depth))
        for a, b in scope.extra:
            self.extra_edge(out, a, b)
        return out

    # -- structure --

    def series(
        self,
        s: Series,
        scope: Unit,
        edges: dict[tuple[str, str], list[str]],
    ) -> Placed:
        parts = [
            self.par(it, scope, edges) if isinstance(it, Par) else self.unit(it, scope)
            for it in s.items
        ]
        if not parts:
            return Placed(0, 0, [], [])
        left = max(p.axis for p in parts)
        right = max(p.w - p.axis for p in parts)
        y = 0.0
        out = Placed(left + right, 0, [], [], axis=left)
        for i, p in enumerate(parts):
            p.shift(left - p.axis, y)
            out.boxes += p.boxes
            out.frames += p.frames
            out.edges += p.edges
            if i:
                self.connect(out, parts[i - 1].bottoms, p.tops, edges)
            y += p.h + GAP_Y
        out.h = y - GAP_Y
        out.tops, out.bottoms = parts[0].tops, parts[-1].bottoms
        return out

    def par(self, p: Par, scope: Unit, edges: dict[tuple[str, str], list[str]]) -> Placed:
        parts = [self.series(b, scope, edges) for b in p.branches]
        x = LANE_W if p.shortcut else 0.0
        h = max(q.h for q in parts)
        out = Placed(0, h, [], [])
        for q in parts:
            q.shift(x, 0)
            out.boxes += q.boxes
            out.frames += q.frames
            out.edges += q.edges
            out.tops += q.tops
            out.bottoms += q.bottoms
            x += q.w + GAP_X
        out.w = x - GAP_X
        if p.shortcut:
            lx = LANE_W / 2
            out.tops.insert(0, Port(lx, 0, ""))
            out.bottoms.insert(0, Port(lx, h, ""))
            out.edges.append(Edge([(lx, 0), (lx, h)], kind="shortcut"))
        # The axis of a parallel section: the middle of its branches (a lane sits aside).
        out.axis = ((LANE_W if p.shortcut else 0) + out.w) / 2
        return out

    # -- edges --

    def connect(
        self,
        out: Placed,
        froms: list[Port],
        tos: list[Port],
        edges: dict[tuple[str, str], list[str]],
        bend: float | None = None,
    ) -> None:
        labelled: set[tuple[float, str]] = set()
        for a in froms:
            for b in tos:
                lane = a.unit == "" or b.unit == ""
                srcs = edges.get((a.unit, b.unit))
                if not lane and srcs is None:
                    continue
                if len(froms) == 1:  # a fan-out (or a plain step): bend below the source
                    ym = a.y + (bend if bend is not None else GAP_Y / 2)
                else:  # a fan-in: bend above the target
                    ym = b.y - GAP_Y / 2
                if a.x == b.x:
                    pts = [(a.x, a.y), (b.x, b.y)]
                else:
                    pts = [(a.x, a.y), (a.x, ym), (b.x, ym), (b.x, b.y)]
                e = Edge(pts, kind="shortcut" if lane else "data")
                if srcs and a.unit not in (ENTRY, "") and b.unit != EXIT:
                    text = " + ".join(
                        dict.fromkeys(shape_text(shape_of(self.m.g, s)) for s in srcs)
                    )
                    if (a.x, text) not in labelled:
                        labelled.add((a.x, text))
                        e.label, e.label_at = text, (a.x + 4, a.y + 11)
                out.edges.append(e)

    def extra_edge(self, out: Placed, a: str, b: str) -> None:
        """An edge the SP tree does not draw: out of a's right side, down a lane right of
        everything in this frame, into b's right side."""
        boxes = {bx.key: bx for bx in out.boxes}
        if a not in boxes or b not in boxes:
            return
        ba, bb = boxes[a], boxes[b]
        lx = out.w - FRAME_PAD / 2
        ya, yb = ba.y + ba.h / 2, bb.y + bb.h / 2
        out.edges.append(
            Edge([(ba.x + ba.w, ya), (lx, ya), (lx, yb), (bb.x + bb.w, yb)], kind="extra")
        )


def layout(model: Model, expanded: set[str]) -> Drawing:
    """The drawing of `model` with the scopes in `expanded` drawn as frames."""
    lay = Layout(model, expanded)
    root = model.root
    main = lay.series(model.scopes[""].tree, root, model.scopes[""].edges)
    for a, b in model.scopes[""].extra:
        lay.extra_edge(main, a, b)
    margin = 16.0
    main.shift(margin, margin)
    d = Drawing(boxes=main.boxes, frames=main.frames, edges=main.edges)
    d.title = str(info(model.g).name)
    columns: list[list[tuple[float, float]]] = []  # per aux column: occupied (top, bottom)
    column_x: list[float] = []
    column_w: list[float] = []
    for key, tap in model.aux:
        anchor = _visible(d, model, tap)
        if anchor is None:
            continue
        head = lay.unit(key, root)
        top = anchor.y + anchor.h / 2 + GAP_Y / 2
        col = next(
            (
                i
                for i, used in enumerate(columns)
                if all(top > b + GAP_Y or top + head.h + GAP_Y < t for t, b in used)
            ),
            None,
        )
        if col is None:
            x0 = (
                column_x[-1] + column_w[-1] + 2 * GAP_X if column_x else margin + main.w + 3 * GAP_X
            )
            columns.append([])
            column_x.append(x0)
            column_w.append(0.0)
            col = len(columns) - 1
        head.shift(column_x[col], top)
        columns[col].append((top, top + head.h))
        column_w[col] = max(column_w[col], head.w)
        d.boxes += head.boxes
        d.frames += head.frames
        d.edges += head.edges
        ay = anchor.y + anchor.h / 2
        hx = head.tops[0].x
        e = Edge([(anchor.x + anchor.w, ay), (hx, ay), (hx, top)], kind="aux")
        e.label = shape_text(shape_of(model.g, tap))
        e.label_at = (anchor.x + anchor.w + 4, ay - 4)
        d.edges.append(e)
    xs = [b.x + b.w for b in d.boxes] + [f.x + f.w for f in d.frames]
    ys = [b.y + b.h for b in d.boxes] + [f.y + f.h for f in d.frames]
    labels = [e.label_at[0] + text_w(e.label) for e in d.edges if e.label]
    d.width = max([*xs, *labels, 0]) + margin
    d.height = max([*ys, 0]) + margin
    return d


def _visible(d: Drawing, model: Model, node: str) -> Box | None:
    """The drawn box that shows IR node `node` (itself, or the collapsed scope holding it)."""
    best: Box | None = None
    for b in d.boxes:
        u = model.units[b.key]
        if node in u.nodes and (best is None or len(b.key) > len(best.key)):
            best = b
    return best


def expanded_at(model: Model, depth: int) -> set[str]:
    """The scopes drawn as frames at `depth`: those whose path is shorter than it."""
    return {k for k, u in model.units.items() if u.is_scope and u.path and len(u.path) < depth}
