"""Layer graph -> unit tree: series-parallel decomposition inside each scope.

Each scope (a module instance that holds state, or a Caffe name prefix) must be a region: one
input tensor, one output. Inside it, the layers and child scopes form a small graph that is
decomposed from the output back to the input: a merge (`concat`, `add`) collects one branch
per input, each branch running from the merge's immediate dominator (where the branches fork)
to that input. A two-input add becomes a `residual` (the branch with more units that hold
state is the main one, then the longer; a trailing constant multiply is its `scale`, a
following activation its `act`). Whatever the language cannot express is reported with the
construct's module path: a layer with several inputs that is not a merge, a tensor shared
across branches, a module with two inputs or outputs, a module whose parameters are never
used.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

from ..errors import UnsupportedModelError
from ..ir.ops import ACTIVATIONS
from .model import MERGES, Layer, LayerGraph
from .units import UAux, ULayer, UMerge, Unit, UResidual, UScope, walk

IN = "<in>"


def _err(
    message: str, layer: Layer | None = None, hint: str | None = None
) -> UnsupportedModelError:
    return UnsupportedModelError(message, layer.span if layer is not None else None, hint=hint)


def _rel(path: str, scope: str) -> str:
    return path[len(scope) + 1 :] if scope else path


class Builder:
    def __init__(self, graph: LayerGraph) -> None:
        self.g = graph
        self.consumers = graph.consumers()
        self.children: dict[str, list[str]] = {}
        self.direct: dict[str, list[str]] = {}
        self.parent: dict[str, str] = {}
        self.subtree: dict[str, set[str]] = {}
        self._index = {lid: i for i, lid in enumerate(graph.layers)}
        self.extra: dict[str, Layer] = {}
        for layer in graph.layers.values():
            if layer.kind == "input":
                continue
            chain = ("", *layer.scopes)
            for outer, inner in zip(chain, chain[1:], strict=False):
                if inner not in self.parent:
                    self.parent[inner] = outer
                    self.children.setdefault(outer, []).append(inner)
                    if not inner.startswith(outer + ".") and outer:
                        raise _err(f"scope {inner} is not inside {outer}", layer)
            for s in chain:
                self.subtree.setdefault(s, set()).add(layer.id)
            self.direct.setdefault(chain[-1], []).append(layer.id)

    # ---- the unit graph of one scope ----

    def _unit_of(self, scope: str, layer_id: str) -> str | None:
        """The key of the unit of `scope` that holds `layer_id`, or None if it is outside."""
        layer = self.g.layers[layer_id]
        if layer_id not in self.subtree.get(scope, set()) or layer.kind == "input":
            return None
        chain = ("", *layer.scopes)
        depth = chain.index(scope) if scope in chain else -1
        if depth == len(chain) - 1:
            return layer_id
        return "scope:" + chain[depth + 1]

    def _external_inputs(self, scope: str) -> list[str]:
        ids = self.subtree.get(scope, set())
        found: list[str] = []
        for lid in self.g.layers:
            if lid not in ids:
                continue
            for i in self.g.layers[lid].inputs:
                if i not in ids and i not in found:
                    found.append(i)
        return found

    def _outputs(self, scope: str, aux: str | None) -> list[str]:
        ids = self.subtree.get(scope, set())
        outs = []
        for lid in self.g.layers:
            if lid not in ids:
                continue
            users = [u for u in self.consumers[lid] if u not in ids]
            main_users = [u for u in users if self.g.layers[u].aux == aux]
            if main_users or lid == self.g.output or any(h.output == lid for h in self.g.aux_heads):
                outs.append(lid)
        return outs

    def scope_unit(self, path: str, aux: str | None) -> UScope:
        sc = self.g.scopes.get(path)
        where = sc.where if sc and sc.where else path
        ins = self._external_inputs(path)
        first = self.g.layers[next(iter(sorted(self.subtree[path], key=self._order)))]
        if len(ins) != 1:
            raise _err(
                f"module {where} takes {len(ins)} inputs; a block or group of the spec takes one",
                first,
            )
        outs = self._outputs(path, aux)
        if len(outs) != 1:
            named = ", ".join(self.g.layers[o].where or o for o in outs) or "none"
            raise _err(
                f"module {where} has {len(outs)} outputs used outside it ({named}); "
                "a block or group of the spec has one",
                first,
            )
        parent = self.parent.get(path, "")
        unit = UScope(path=path, cls=sc.cls if sc else "Block", seg=_rel(path, parent))
        unit.output = outs[0]
        unit.body = self.body(path, ins[0], outs[0], aux)
        unit.group = path in self.g.group_scopes or any(
            isinstance(m, (ULayer, UScope)) and (m.seg or "").isdigit() for m in unit.body
        )
        return unit

    def _order(self, lid: str) -> int:
        return self._index[lid]

    def body(self, scope: str, entry: str, out: str, aux: str | None) -> list[Unit]:
        members: list[str] = []
        preds: dict[str, tuple[str, ...]] = {}
        first_layer: dict[str, Layer] = {}
        for lid in self.g.layers:
            layer = self.g.layers[lid]
            key = self._unit_of(scope, lid)
            if key is None or layer.aux != aux:
                continue
            if key not in preds:
                members.append(key)
                preds[key] = ()
                first_layer[key] = layer
            ins = []
            for i in layer.inputs:
                k = self._unit_of(scope, i)
                if k == key:
                    continue
                if k is None:
                    if i != entry:
                        raise _err(
                            f"{layer.where or lid} reads a tensor from outside its module",
                            layer,
                        )
                    k = IN
                ins.append(k)
            if key.startswith("scope:"):
                merged = list(preds[key])
                for k in ins:
                    if k not in merged:
                        merged.append(k)
                preds[key] = tuple(merged)
            else:
                preds[key] = tuple(ins)
        end = self._unit_of(scope, out)
        if end is None:
            return []

        def nest(key: str, members: list[str]) -> str:
            outer = self.layer(key)
            n = sum(1 for k in self.extra if k.startswith(key + ".nested"))
            inner = Layer(f"{key}.nested{n}", outer.kind, scopes=outer.scopes, where=outer.where)
            inner.aux, inner.span = outer.aux, outer.span
            self.extra[inner.id] = inner
            first_layer[inner.id] = inner
            return inner.id

        keys = decompose(
            preds,
            end,
            lambda k: not k.startswith("scope:") and self.layer(k).kind in MERGES,
            first_layer,
            nest,
        )
        used = _flatten_keys(keys)
        seen: set[str] = set()
        for k in used:
            if k in seen:
                layer = first_layer[k]
                raise _err(
                    f"the output of {layer.where or k} is used by two branches in a way a "
                    "spec cannot write (only series-parallel graphs: a tensor forks, its "
                    "branches merge)",
                    layer,
                )
            seen.add(k)
        for k in members:
            if k not in seen and self._stateful(k):
                layer = first_layer[k]
                raise _err(
                    f"{layer.where or k} holds parameters but does not contribute to the output",
                    layer,
                    hint="a module that is never called (or whose result is dropped) cannot "
                    "be part of the spec: remove it from the model",
                )
        return _units_of(keys, self, scope, aux)

    def layer(self, key: str) -> Layer:
        """A layer of the graph, or an inner merge made while decomposing."""
        return self.extra[key] if key in self.extra else self.g.layers[key]

    def _stateful(self, key: str) -> bool:
        if key.startswith("scope:"):
            return any(self.g.layers[i].stateful for i in self.subtree[key[6:]])
        return self.g.layers[key].stateful


def _flatten_keys(items: list) -> list[str]:
    out: list[str] = []
    for it in items:
        if it[0] == "unit":
            out.append(it[1])
        else:
            out.append(it[1])
            for b in it[2]:
                out += _flatten_keys(b)
    return out


def decompose(
    preds: dict[str, tuple[str, ...]],
    end: str,
    is_merge: Callable[[str], bool],
    first_layer: dict[str, Layer],
    nest: Callable[[str, list[str]], str] | None = None,
) -> list:
    """Nested ("unit", key) / ("merge", key, [branch, ...]) items from IN to `end`.

    A merge whose inputs share work below the fork (`cat([a(x), p(t), q(t)])` with
    `t = r(x)`) is written as nested merges of the same kind (`concat { a; r -> concat { p; q
    } }`): `nest(merge, inputs)` makes the inner merge's key, for consecutive inputs only."""
    g = nx.DiGraph()
    g.add_node(IN)
    for k, ps in preds.items():
        g.add_node(k)
        for p in ps:
            g.add_edge(p, k)
    reach = nx.ancestors(g, end) | {end}
    if IN not in reach:
        raise _err(
            f"{first_layer[end].where or end} does not depend on its module's input",
            first_layer[end],
        )
    sub = g.subgraph(reach).copy()
    if not nx.is_directed_acyclic_graph(sub):
        raise _err("the model's graph has a cycle", first_layer[end])
    idom = nx.immediate_dominators(sub, IN)

    def seq(frm: str, to: str) -> list:
        items: list = []
        cur = to
        steps = 0
        while cur != frm:
            steps += 1
            if steps > len(preds) + 2:
                raise _err("the model's graph could not be decomposed", first_layer[to])
            if is_merge(cur):
                d = idom[cur]
                items.append(("merge", cur, branches(cur, d, list(preds[cur]))))
                cur = d
            else:
                ps = preds[cur]
                if len(ps) != 1:
                    layer = first_layer[cur]
                    raise _err(
                        f"{layer.where or cur} takes {len(ps)} inputs; only concat and add "
                        "may take several",
                        layer,
                    )
                items.append(("unit", cur))
                cur = ps[0]
        items.reverse()
        return items

    def chain(p: str, d: str) -> list[str]:
        """`p` and its dominators below `d`, nearest first."""
        out = []
        while p != d:
            out.append(p)
            p = idom[p]
        return out

    def between(p: str, d: str) -> set[str]:
        """The units on paths from fork `d` to `p` (d excluded): `p`'s ancestors less `d`'s,
        found without walking back past `d`, which dominates `p` (linear in the branch, not
        in the graph: a 10,000-deep chain of merges stays fast)."""
        seen, stack = {p}, [p]
        while stack:
            x = stack.pop()
            if x == d:
                continue
            for y in sub.predecessors(x):
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        seen.discard(d)
        return seen

    def branches(key: str, d: str, ins: list[str]) -> list:
        own = [between(p, d) for p in ins]
        groups: list[list[int]] = []
        for i in range(len(ins)):
            if groups and set().union(*(own[j] for j in groups[-1])) & own[i]:
                groups[-1].append(i)
            else:
                groups.append([i])
        later = [set().union(*(own[j] for j in g)) for g in groups]
        if (
            nest is None
            or len(groups) == len(ins)
            or len(groups) == 1
            or any(later[a] & later[b] for a in range(len(groups)) for b in range(a))
        ):
            return [seq(d, p) for p in ins]
        out = []
        for g in groups:
            if len(g) == 1:
                out.append(seq(d, ins[g[0]]))
                continue
            members = [ins[i] for i in g]
            chains = [chain(p, d) for p in members]
            common = [n for n in chains[0] if all(n in c for c in chains[1:])]
            if not common:
                return [seq(d, p) for p in ins]
            inner = nest(key, members)
            out.append([*seq(d, common[0]), ("merge", inner, branches(inner, common[0], members))])
        return out

    return seq(IN, end)


def _units_of(items: list, b: Builder, scope: str, aux: str | None) -> list[Unit]:
    out: list[Unit] = []
    for it in items:
        key = it[1]
        if it[0] == "merge":
            layer = b.layer(key)
            branches = [_units_of(br, b, scope, aux) for br in it[2]]
            out.append(UMerge(layer, branches))
        elif key.startswith("scope:"):
            out.append(b.scope_unit(key[6:], aux))
        else:
            layer = b.g.layers[key]
            seg = (
                _rel(layer.path, scope)
                if layer.path and (not scope or layer.path.startswith(scope + "."))
                else None
            )
            if seg is not None and "." in seg:
                seg = None
            if layer.stateful and seg is None:
                raise _err(
                    f"{layer.where or key} holds parameters but its path cannot be kept "
                    f"inside {scope or 'the network'}",
                    layer,
                )
            out.append(ULayer(layer, seg=seg, required=layer.stateful))
    return _residuals(out, b)


def _role(branch: list[Unit]) -> tuple[int, int]:
    """How much a residual branch is the main path: its units that hold state, then its
    length (the identity, an empty branch, is always the shortcut; `0.5 * x + f(x)` is
    `residual { f } shortcut { scale 0.5 }`, Xception's stack the main path)."""
    held = sum(1 for u in walk(branch) if isinstance(u, ULayer) and u.layer.stateful)
    return held, len(branch)


def _residuals(units: list[Unit], b: Builder) -> list[Unit]:
    """Two-input adds become residuals (with scale and act where the graph has them)."""
    out: list[Unit] = []
    for u in units:
        if isinstance(u, UMerge) and u.layer.kind == "add" and len(u.branches) == 2:
            b0, b1 = u.branches
            main, short = (b0, b1) if _role(b0) >= _role(b1) else (b1, b0)
            res = UResidual(u.layer, list(main), list(short))
            last = res.main[-1] if res.main else None
            if (
                isinstance(last, ULayer)
                and last.layer.kind == "scale"
                and not last.required
                and not (last.seg or "").isdigit()
            ):
                res.scale = float(last.layer.args[0])
                res.scale_layer = last.layer
                res.main.pop()
            out.append(res)
            continue
        if (
            isinstance(u, ULayer)
            and u.layer.kind in ACTIVATIONS
            and not u.layer.opts
            and out
            and isinstance(out[-1], UResidual)
            and out[-1].act is None
            and u.layer.inputs == (out[-1].layer.id,)
            and len(b.consumers[out[-1].layer.id]) == 1
            and not (u.seg or "").isdigit()
        ):
            out[-1].act = u.layer.kind
            out[-1].act_layer = u.layer
            continue
        out.append(u)
    return out


def build(graph: LayerGraph) -> tuple[list[Unit], list[UAux]]:
    """The network body and its aux heads."""
    b = Builder(graph)
    inputs = [layer for layer in graph.layers.values() if layer.kind == "input"]
    assert len(inputs) == 1
    entry = inputs[0].id
    # The root scope: every main-path layer; its output is the graph's output.
    body = b.body("", entry, graph.output, None)
    auxes: list[UAux] = []
    for head in graph.aux_heads:
        members = [layer for layer in graph.layers.values() if layer.aux == head.name]
        bad = [m for m in members if not m.scopes or m.scopes[0] != head.name]
        if bad:
            raise _err(
                f"the training-only layer {bad[0].where or bad[0].id} is not inside the aux "
                f"head's module {head.name}",
                bad[0],
                hint="an aux head must be one submodule, used only in training",
            )
        unit = b.scope_unit(head.name, head.name)
        if unit.group:
            raise _err(f"the aux head {head.name} is a numbered sequence", members[0])
        unit.seg = ""
        auxes.append(UAux(head.name, head.tap, [unit], head.weight))
    return body, auxes
