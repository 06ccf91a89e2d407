"""Block recovery: module instances of one class with the same structure become one block.

Each scope written as a block call is rendered once with every value replaced by a
placeholder: instances whose rendered text (the skeleton) is equal share a block, and the
values that differ between them become its parameters. A parameter is named after the
constructor argument that holds the same value in every instance (recorded when the model was
built: torchvision's `Inception(ch1x1=..., ch3x3red=...)`), else after the unit and option it
sets (`branch_pool_channels`); values that always agree become one parameter (`c7` in four
convs). Blocks are recovered from the innermost scopes outwards, so a parent's skeleton holds
its children's block names and arguments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ir.ops import LAYERS
from .model import LayerGraph, Size, Sym, Var
from .unify import unify
from .units import UAux, UIf, ULayer, UMerge, Unit, UResidual, UScope, walk
from .values import camel, identifier, key, type_of


@dataclass(frozen=True)
class Wild:
    """A value of a part an instance does not have (unify.py's copies): it matches anything
    and is filled from the other instances before parameters are named."""

    value: Any


PARAMETRIC = (int, float, bool, Size, Sym, Wild)


def parametric(v: Any) -> bool:
    """A value a block may turn into a parameter (`same`/`valid` paddings stay words)."""
    return isinstance(v, PARAMETRIC) and not (isinstance(v, Sym) and v.name in ("same", "valid"))


@dataclass
class Param:
    name: str
    type: str
    default: Any = None
    has_default: bool = False


@dataclass
class BlockDef:
    name: str
    cls: str
    instances: list[UScope]
    params: list[Param] = field(default_factory=list)
    replace: list[Any] = field(default_factory=list)  # per value position: a Var or a literal


Render = Callable[[list[Unit], Callable[[Any, str], str]], str]


def _scopes_by_height(body: list[Unit]) -> list[list[UScope]]:
    """Block-call scopes by height (0: no block call inside), so that one class with one
    structure is one block wherever it is nested, and children come before parents."""
    levels: list[list[UScope]] = []

    def visit(units: list[Unit]) -> int:
        """The height of `units`: 1 + the highest block call in them, or 0."""
        top = 0
        for u in units:
            if isinstance(u, UScope):
                h = visit(u.body)
                if not u.group:
                    while len(levels) <= h:
                        levels.append([])
                    levels[h].append(u)
                    h += 1
                top = max(top, h)
            elif isinstance(u, UMerge):
                top = max([top, *(visit(b) for b in u.branches)])
            elif isinstance(u, UResidual):
                top = max(top, visit(u.main), visit(u.shortcut))
            elif isinstance(u, UAux):
                top = max(top, visit(u.body))
            elif isinstance(u, UIf):
                top = max(top, visit(u.then), visit(u.other))
        return top

    visit(body)
    return levels


def _labels(body: list[Unit]) -> list[str]:
    return [u.label for u in walk(body) if isinstance(u, (ULayer, UScope)) and u.label]


def skeleton(render: Render, body: list[Unit]) -> tuple[str, list[Any], list[str]]:
    """The body's text with its parametric values as placeholders, the values, their contexts."""
    values: list[Any] = []
    contexts: list[str] = []

    def val(v: Any, ctx: str) -> str:
        if parametric(v):
            values.append(v)
            contexts.append(ctx)
            return f"\x00{len(values) - 1}\x00"
        from .values import literal

        return literal(v)

    return render(body, val), values, contexts


def recover(
    graph: LayerGraph, body: list[Unit], render: Render, registry: dict[str, list[Param]]
) -> list[BlockDef]:
    """Assign `block` and `args` to every scope written as a block call; the block definitions
    in the order their first instance appears, innermost first. `registry` gets each block's
    parameters as soon as they are known (the loops of an outer block's body name them)."""
    taken = set(LAYERS) | {identifier(graph.name)}
    first_labels: dict[str, list[str]] = {}
    blocks: list[BlockDef] = []
    for level in _scopes_by_height(body):
        groups = _group(level, render)
        classes: dict[str, list[UScope]] = {}
        for cls, _ in groups:
            classes.setdefault(cls, [])
        for u in level:
            if sum(1 for c, _ in groups if c == _cls_key(u)) > 1:
                classes[_cls_key(u)].append(u)
        for instances in classes.values():
            # One block per class: bodies that differ in a part are merged (unify.py), kept
            # when every instance then renders to one skeleton.
            if not instances:
                continue
            saved = [x.body for x in instances]
            if unify(instances) and len({skeleton(render, x.body)[0] for x in instances}) > 1:
                for x, b in zip(instances, saved, strict=True):
                    x.body = b
        if any(classes.values()):
            groups = _group(level, render)
        for (_, _), (instances, vals, contexts) in groups.items():
            cls = instances[0].cls
            if len(instances) == 1 and _as_group(graph, instances[0]):
                instances[0].group = True
                continue
            bd = BlockDef(_block_name(graph, instances[0], first_labels, taken), cls, instances)
            _parametrize(graph, bd, vals, contexts)
            registry[bd.name] = bd.params
            blocks.append(bd)
    return blocks


Groups = dict[tuple[str, str], tuple[list[UScope], list[list[Any]], list[str]]]


def _group(level: list[UScope], render: Render) -> Groups:
    """The level's scopes by (class, skeleton); a plain container's class is its label's."""
    groups: Groups = {}
    for u in level:
        skel, values, contexts = skeleton(render, u.body)
        entry = groups.setdefault((_cls_key(u), skel), ([], [], contexts))
        entry[0].append(u)
        entry[1].append(values)
    return groups


def _cls_key(u: UScope) -> str:
    """The class, and for a plain container the name it is held under (`stack`)."""
    if u.cls not in CONTAINERS:
        return u.cls
    segs = [x for x in u.path.split(".") if not x.isdigit()]
    return f"{u.cls}:{segs[-1] if segs else ''}"


def _as_group(graph: LayerGraph, u: UScope) -> bool:
    """A container used once (`trunk_output`, RegNet's `AnyStage`s) is a labelled group, when
    every member is labelled (a group numbers its unlabelled members)."""
    sc = graph.scopes.get(u.path)
    return bool(
        sc is not None
        and sc.container
        and u.label is not None
        and all(isinstance(m, (ULayer, UScope)) and m.label is not None for m in u.body)
    )


CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def _block_name(
    graph: LayerGraph, u: UScope, first_labels: dict[str, list[str]], taken: set[str]
) -> str:
    """The class name (a plain container's after its label); a second structure of one class
    is named for what it adds, then numbered 2, 3, ... (MBConv, MBConv2; never MBConv22)."""
    base = camel(u.cls)
    if u.cls in CONTAINERS:
        segs = [x for x in u.path.split(".") if not x.isdigit()]
        base = camel(segs[-1]) if segs else "Stage"
    labels = _labels(u.body)
    if base not in first_labels:
        first_labels[base] = labels
        name = base
    else:
        extra = [x for x in labels if x not in first_labels[base]]
        name = base + camel(extra[0]) if extra else base
    n = 2
    stem = name
    while name in taken:
        name = f"{stem}{n}"
        n += 1
    taken.add(name)
    return name


def _same(arg: Any, v: Any) -> bool:
    """A constructor argument holds the value: equal, or `k` for a `kxk` kernel."""
    if isinstance(v, Size) and isinstance(arg, int) and not isinstance(arg, bool):
        return v.h == v.w == arg
    return key(arg) == key(v)


def _parametrize(
    graph: LayerGraph, bd: BlockDef, vals: list[list[Any]], contexts: list[str]
) -> None:
    """Name the columns that vary: a constructor argument that holds the value in every
    instance, else a product or quotient of two (`input_channels * expand_ratio`, whose
    operands become parameters too), else the unit and option the value sets."""
    n = len(contexts)
    inits = [graph.scopes[u.path].init if u.path in graph.scopes else {} for u in bd.instances]
    sig_defaults = (
        graph.scopes[bd.instances[0].path].init_defaults
        if bd.instances[0].path in graph.scopes
        else {}
    )
    # Arguments that describe the input (in_channels, inplanes, width_in) are never literals
    # of a spec, which infers input sizes: a value they hold is named after them only when no
    # other argument or derivation holds it (resnet50's `planes * expansion`, not `inplanes`).
    order = sorted(inits[0] if inits else [], key=_describes_input)
    columns = _filled([[v[i] for v in vals] for i in range(n)], inits, order)
    vecs = [tuple(key(x) for x in c) for c in columns]
    varying = [i for i in range(n) if len(set(vecs[i])) > 1]
    by_vec: dict[tuple[Any, ...], Param] = {}
    pvalues: dict[str, list[Any]] = {}
    first_pos: dict[str, int] = {}
    exprs: dict[tuple[Any, ...], str] = {}
    used: set[str] = set()

    def add(name: str, column: list[Any], pos: int, from_ctor: bool) -> Param:
        p = Param(name, type_of(column))
        if from_ctor and name in sig_defaults:
            d = sig_defaults[name]
            if isinstance(d, PARAMETRIC) and type_of([d, *column]) == p.type:
                p.default, p.has_default = d, True
        used.add(name)
        pvalues[name] = column
        first_pos[name] = pos
        return p

    def direct(names: list[str]) -> None:
        for i in varying:
            if vecs[i] in by_vec or vecs[i] in exprs:
                continue
            for cand in names:
                if cand not in used and all(
                    cand in ini and _same(ini[cand], x)
                    for ini, x in zip(inits, columns[i], strict=True)
                ):
                    by_vec[vecs[i]] = add(cand, columns[i], i, True)
                    break

    extra: list[Param] = []
    for i in varying:  # 0. a part present unless an argument says `no_...` (`no_skip`)
        if not contexts[i].startswith("has_"):
            continue
        for a in order:
            if (
                a.startswith("no_")
                and a not in used
                and all(isinstance(ini.get(a), bool) for ini in inits)
                and all(ini[a] is not x for ini, x in zip(inits, columns[i], strict=True))
            ):
                extra.append(add(a, [ini[a] for ini in inits], n + len(extra), True))
                exprs[vecs[i]] = f"not {a}"
                break
    direct([a for a in order if not _describes_input(a)])  # 1. constructor arguments
    for i in varying:  # 2. a product or quotient of two
        if vecs[i] in by_vec or vecs[i] in exprs:
            continue
        found = _derived(order, inits, columns[i])
        if found is None:
            continue
        a, op, b = found
        for name in (a, b):
            if name not in used:
                column = [ini[name] for ini in inits]
                extra.append(add(name, column, n + len(extra), True))
        exprs[vecs[i]] = f"({a} {op} {b})"
    square: set[str] = set()
    for i in varying:  # 2b. a square kernel's same-size padding, `(k - 1) // 2`
        if vecs[i] in by_vec or vecs[i] in exprs or not all(_int(x) for x in columns[i]):
            continue
        for p in by_vec.values():
            ks = pvalues[p.name]
            if p.type == "size" and all(
                k.h == k.w and (k.h - 1) // 2 == x for k, x in zip(ks, columns[i], strict=True)
            ):
                square.add(p.name)
                exprs[vecs[i]] = f"(({p.name} - 1) // 2)"
                break
    for i in varying:  # 2c. an argument's floor quotient by a constant (`input_channels // 4`)
        if vecs[i] in by_vec or vecs[i] in exprs:
            continue
        quotient = _quotient(order, inits, columns[i])
        if quotient is not None:
            a, d = quotient
            if a not in used:
                extra.append(add(a, [ini[a] for ini in inits], n + len(extra), True))
            exprs[vecs[i]] = f"({a} // {d})"
    direct([a for a in order if _describes_input(a)])  # 3. arguments naming the input
    for i in varying:  # 4. the unit and option it sets
        if vecs[i] in by_vec or vecs[i] in exprs:
            continue
        name = identifier(contexts[i], "p")
        base, j = name, 2
        while name in used:
            name = f"{base}_{j}"
            j += 1
        by_vec[vecs[i]] = add(name, columns[i], i, False)
    for p in by_vec.values():  # a kernel whose padding derives from it is an int: `k x k`
        if p.name in square:
            p.type = "int"
            pvalues[p.name] = [k.h for k in pvalues[p.name]]
            if isinstance(p.default, Size):
                p.default = p.default.h
    bd.replace = []
    for i in range(n):
        if i not in varying:
            bd.replace.append(columns[i][0])
        elif vecs[i] in exprs:
            bd.replace.append(Var(exprs[vecs[i]]))
        else:
            name = by_vec[vecs[i]].name
            bd.replace.append(Var(f"({name} x {name})" if name in square else name))
    params = list(by_vec.values()) + extra
    rank = {name: k for k, name in enumerate(order)}
    params.sort(key=lambda p: (p.has_default, rank.get(p.name, len(rank) + first_pos[p.name])))
    bd.params = params
    for k, u in enumerate(bd.instances):
        u.block = bd.name
        u.args = []
        for p in params:  # all of them: a call's skeleton must not depend on its values
            u.args.append((p.name if p.has_default else None, pvalues[p.name][k]))


def _filled(
    columns: list[list[Any]], inits: list[dict[str, Any]], order: list[str]
) -> list[list[Any]]:
    """Columns with their `Wild` values (parts an instance lacks) replaced: from the
    value they share, else the constructor argument, else the column without wild values, that
    agrees with every known value (Xception's shortcut width is its last conv's); else the
    most common known value."""
    whole = [c for c in columns if not any(isinstance(x, Wild) for x in c)]
    out = []
    for col in columns:
        known = [(k, x) for k, x in enumerate(col) if not isinstance(x, Wild)]
        if len(known) == len(col):
            out.append(col)
            continue
        if not known:
            out.append([x.value for x in col])
            continue
        fill: list[Any] | None = None
        if len({key(x) for _, x in known}) == 1:  # no new parameter where the others agree
            fill = [known[0][1]] * len(col)
        for cand in order if fill is None else []:
            if all(cand in ini for ini in inits) and all(
                _same(inits[k][cand], x) for k, x in known
            ):
                vals = [inits[k][cand] for k in range(len(col))]
                if isinstance(known[0][1], Size):
                    vals = [Size(a, a) if _int(a) else None for a in vals]
                if all(key(v)[0] == key(known[0][1])[0] for v in vals):
                    fill = vals
                    break
        if fill is None:
            counts = Counter(key(x) for _, x in known)  # else the most common known value
            common = next(x for _, x in known if counts[key(x)] == max(counts.values()))
            fill = next(
                (c for c in whole if all(key(c[k]) == key(x) for k, x in known)),
                [common] * len(col),
            )
        out.append([fill[k] if isinstance(x, Wild) else x for k, x in enumerate(col)])
    return out


DIVISORS = (2, 4, 8, 16)
"""Constant divisors recovered as `a // d` (SE squeeze widths: `input_channels // 4`)."""


def _quotient(
    order: list[str], inits: list[dict[str, Any]], column: list[Any]
) -> tuple[str, int] | None:
    """A constructor argument whose floor quotient by a small constant is the column in every
    instance (at least two, and the column varies)."""
    if len(column) < 2 or not all(_int(x) and x >= 1 for x in column):
        return None
    for a in order:
        if not all(a in ini and _int(ini[a]) for ini in inits):
            continue
        for d in DIVISORS:
            if all(ini[a] // d == x for ini, x in zip(inits, column, strict=True)):
                return a, d
    return None


def _describes_input(name: str) -> bool:
    return name.startswith("in") or name.endswith("_in") or "input" in name


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _derived(
    order: list[str], inits: list[dict[str, Any]], column: list[Any]
) -> tuple[str, str, str] | None:
    """Two constructor arguments whose product or floor quotient is the column in every
    instance (there are at least two), neither of them 1 throughout (that is no derivation)."""
    if len(column) < 2 or not all(_int(x) for x in column):
        return None
    names = [
        a
        for a in order
        if all(
            a in ini and isinstance(ini[a], (int, float)) and not isinstance(ini[a], bool)
            for ini in inits
        )
        and any(ini[a] != 1 for ini in inits)
    ]
    for ia, a in enumerate(names):
        for ib, b in enumerate(names):
            if a == b:
                continue
            xs = [(ini[a], ini[b]) for ini in inits]
            if ia < ib and all(x * y == c for (x, y), c in zip(xs, column, strict=True)):
                if all(_int(x) and _int(y) for x, y in xs):
                    return a, "*", b
            if all(_int(x) and _int(y) and y > 0 for x, y in xs) and all(
                x // y == c for (x, y), c in zip(xs, column, strict=True)
            ):
                return a, "//", b
    return None
