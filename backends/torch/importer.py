"""`inceptdsl import torch`: a live nn.Module -> the core's layer graph, and the check that the
spec written from it reproduces the module.

The backend object exposes this as `BACKEND.importer` (the backend protocol's optional import
capability); the core reaches it only through `inceptdsl.backend.get("torch")`.

- The model is traced in eval mode (its inference graph). Modules with parameters that eval
  does not reach are looked for in a training-mode trace of a copy: calls found only there,
  not feeding the main output, are aux heads (torchvision's `aux_logits`), tapped where they
  read the main graph.
- Figures are measured on the model itself: parameters (`sum(p.numel())`), batch-norm running
  mean and variance elements, and MACs as `FlopCounterMode` / 2 for one sample in eval mode.
- `check` builds the spec with this backend, loads the model's state_dict strictly and compares
  eval outputs; batch-norm statistics are first set from a training-mode pass on a copy, since
  freshly initialised statistics (0 and 1) make outputs depend too little on the weights.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx
import torch
from torch import nn

from inceptdsl.errors import UnsupportedModelError, UsageError
from inceptdsl.importers.model import AuxHead, LayerGraph, Scope

from ..common.listing import first_of
from .import_convert import Converter, fn_name
from .import_model import construct, resolve
from .import_trace import Call, Ref, Trace, _tensors, trace

TOLERANCE = 1e-4
"""Largest accepted max |spec - model| / max |model| of the eval outputs (float32)."""


@dataclass
class Session:
    """What `check` needs: the model and the input shape it was imported at."""

    model: nn.Module
    input_shape: tuple[int, int, int]
    method: str
    fx_failure: str | None


def _key(c: Call) -> tuple[Any, ...]:
    target = c.target if isinstance(c.target, str) else fn_name(c.target)
    return (c.kind, target, tuple(p for p, _ in c.stack))


def _keys(calls: list[Call]) -> dict[str, tuple[Any, ...]]:
    seen: Counter[tuple[Any, ...]] = Counter()
    out = {}
    for c in calls:
        k = _key(c)
        seen[k] += 1
        out[c.id] = (*k, seen[k])
    return out


def _refs_of(c: Call) -> list[str]:
    out: list[str] = []

    def visit(v: Any) -> None:
        if isinstance(v, Ref):
            out.append(v.id)
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
        elif isinstance(v, dict):
            for x in v.values():
                visit(x)

    visit(c.args)
    visit(c.kwargs)
    return out


def _remap(v: Any, m: dict[str, str]) -> Any:
    if isinstance(v, Ref):
        return Ref(m.get(v.id, v.id))
    if isinstance(v, (list, tuple)):
        return type(v)(_remap(x, m) for x in v)
    if isinstance(v, dict):
        return {k: _remap(x, m) for k, x in v.items()}
    return v


def _aux_calls(ev: Trace, tr: Trace) -> tuple[list[tuple[Call, str]], list[tuple[str, str, str]]]:
    """Calls that only training runs, grouped into heads: ((call, head), ...), and for each
    head (name, tap call id in the eval trace, output call id)."""
    ek, tk = _keys(ev.calls), _keys(tr.calls)
    by_key = {k: cid for cid, k in ek.items()}
    to_eval = {cid: by_key[k] for cid, k in tk.items() if k in by_key}
    only = [c for c in tr.calls if c.id not in to_eval]
    by_id = {c.id: c for c in tr.calls}
    g = nx.DiGraph()
    for c in tr.calls:
        g.add_node(c.id)
        for r in _refs_of(c):
            g.add_edge(r, c.id)
    main = nx.ancestors(g, tr.output) | {tr.output}
    heads: list[tuple[str, str, str]] = []
    out: list[tuple[Call, str]] = []
    rename = {c.id: f"train_{c.id}" for c in only}
    mapping = {**to_eval, **rename}
    for o in tr.aux_outputs:
        if o in to_eval or o in main:
            continue
        mine = [c for c in only if c.id in (nx.ancestors(g, o) | {o}) and c.id not in main]
        tops = {
            c.stack[0][0] if c.stack else (c.target if c.kind == "module" else "") for c in mine
        }
        if len(tops) != 1 or "" in tops:
            raise UnsupportedModelError(
                "an output used only in training is not computed inside one submodule "
                f"(found in: {', '.join(sorted(t or 'the forward' for t in tops))})",
                hint="an aux head must be one submodule, as torchvision's aux1/aux2/AuxLogits",
            )
        name = tops.pop().split(".")[0]
        ids = {c.id for c in mine}
        taps = {r for c in mine for r in _refs_of(c) if r not in ids}
        if len(taps) != 1 or next(iter(taps)) not in to_eval:
            raise UnsupportedModelError(f"the aux head {name} reads {len(taps)} tensors")
        heads.append((name, to_eval[taps.pop()], rename[o]))
        for c in mine:
            nc = Call(
                rename[c.id],
                c.kind,
                c.target,
                _remap(c.args, mapping),
                _remap(c.kwargs, mapping),
                c.shape,
                c.stack,
            )
            out.append((nc, name))
    del by_id
    return out, heads


def _pruned(tr: Trace) -> Trace:
    """Only the calls the outputs depend on (a `x.sum() > 0` that steers control flow, or a
    value computed and dropped, is not part of the network)."""
    by_id = {c.id: c for c in tr.calls}
    keep: set[str] = set()
    stack = [tr.output, *tr.aux_outputs]
    while stack:
        cid = stack.pop()
        if cid in keep or cid not in by_id:
            continue
        keep.add(cid)
        stack += _refs_of(by_id[cid])
    calls = [c for c in tr.calls if c.id in keep or c.kind == "input"]
    return Trace(calls, tr.output, tr.method, tr.aux_outputs)


def _stateful_paths(model: nn.Module) -> set[str]:
    return {
        p
        for p, m in model.named_modules()
        if p and (any(True for _ in m.parameters()) or any(True for _ in m.buffers()))
    }


def _used_params(calls: list[Call], model: nn.Module) -> set[str]:
    used = set()
    for c in calls:
        if c.kind == "module":
            used.add(c.target)
    return used


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_buffers(model: nn.Module) -> int:
    total = 0
    for name, b in model.named_buffers():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("running_mean", "running_var"):
            total += b.numel()
        elif leaf != "num_batches_tracked":
            raise UnsupportedModelError(
                f"the buffer {name} is not a batch-norm statistic: the language has no constants"
            )
    return total


def count_macs(model: nn.Module, input_shape: tuple[int, int, int]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    was = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was)
    return int(counter.get_total_flops()) // 2


def _run_failed(exc: Exception, input_shape: tuple[int, int, int], mode: str) -> UsageError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return UsageError(
        f"running the model {mode}on a {'x'.join(map(str, input_shape))} input failed: "
        f"{type(exc).__name__}: {text}"[:2000],
        hint="give the input shape it expects with --input CxHxW",
    )


def output_tensor(value: Any) -> torch.Tensor:
    """The tensor a forward returned: itself, or the only tensor in a tuple, list or dict
    (`load` refuses a model that returns more in eval mode)."""
    found = _tensors(value)
    if len(found) == 1:
        return found[0]
    raise UnsupportedModelError(f"the model returns a {type(value).__name__}, not one tensor")


def _class_constants(cls: type, taken: dict[str, Any]) -> dict[str, Any]:
    """Scalar constants of the module's own class (ResNet's `Bottleneck.expansion = 4`):
    block parameters may be named as a product of an argument and one of them, with the
    constant as the parameter's default."""
    return {
        k: v
        for k, v in vars(cls).items()
        if not k.startswith("_")
        and k not in taken
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
    }


def _snake(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out += "_"
        out += ch.lower()
    return out


class TorchImporter:
    """`load` gives the layer graph; `check` proves the spec reproduces the model."""

    def load(
        self, target: str, kwargs: dict[str, Any], input_shape: tuple[int, int, int]
    ) -> tuple[LayerGraph, Session]:
        fn = resolve(target)
        model, inits = construct(fn, kwargs)
        model.eval()
        example = torch.randn(2, *input_shape)
        try:
            ev, why = trace(model, example)
        except UnsupportedModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - the user's forward failed on this input
            raise _run_failed(exc, input_shape, "") from None
        if ev.aux_outputs:
            raise UnsupportedModelError(
                f"the model returns {len(ev.aux_outputs) + 1} tensors in eval mode (in a tuple, "
                "list or dict); a network has one output",
                hint="import a model (or a wrapper) whose eval forward returns one tensor",
            )
        ev_full, ev = ev, _pruned(ev)
        stateful = _stateful_paths(model)
        modules = dict(model.named_modules())
        leaves_with_state = {p for p in stateful if not any(True for _ in modules[p].children())}
        aux: list[tuple[Call, str]] = []
        heads: list[tuple[str, str, str]] = []
        if leaves_with_state - _used_params(ev.calls, model):
            train = copy.deepcopy(model).train()
            try:
                tr, _ = trace(train, example)
            except Exception as exc:  # noqa: BLE001 - e.g. an aux head too big for the input
                raise _run_failed(exc, input_shape, "in training mode (its aux heads) ") from None
            aux, heads = _aux_calls(ev_full, tr)
        conv = Converter(model, stateful)
        for c in ev.calls:
            conv.convert(c, None)
        for c, head in aux:
            conv.convert(c, head)
        layers = {layer.id: layer for layer in conv.layers}
        reached = {layer.path for layer in conv.layers if layer.path}
        missing = sorted(p for p in leaves_with_state if p not in reached)
        if missing:
            raise UnsupportedModelError(
                f"modules with parameters that no forward uses: {first_of(missing, 3)}",
                hint="their weights could not be loaded into the spec: delete them from the "
                "model (or pass the constructor option that removes them)",
            )
        scopes = {}
        for p in stateful:
            m = modules[p]
            if not any(True for _ in m.children()):
                continue
            values, defaults = inits.get(id(m), ({}, {}))
            consts = _class_constants(type(m), values)
            values, defaults = {**values, **consts}, {**defaults, **consts}
            scopes[p] = Scope(
                p,
                type(m).__name__,
                values,
                defaults,
                f"{p} ({type(m).__name__})",
                container=isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)),
            )
        name = getattr(fn, "__name__", "") or type(model).__name__
        if isinstance(fn, type):
            name = _snake(type(model).__name__)
        shown = target + (
            "(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")" if kwargs else ""
        )
        graph = LayerGraph(
            name=name,
            source=shown,
            input_shape=input_shape,
            layers=layers,
            output=conv.alias.get(ev.output, ev.output),
            scopes=scopes,
            aux_heads=[AuxHead(n, conv.alias.get(t, t), conv.alias.get(o, o)) for n, t, o in heads],
        )
        params = count_params(model)
        buffers = count_buffers(model)
        macs = count_macs(model, input_shape)
        src = f"imported from {shown}"
        graph.expects = [
            ("params", params, f"{src}: sum of parameters"),
            ("buffers", buffers, f"{src}: batch-norm running mean + var"),
            ("macs", macs, f"{src}: FlopCounterMode / 2, eval, one sample"),
        ]
        if heads:
            aux_params = sum(count_params(modules[n]) for n, _, _ in heads)
            graph.expects.insert(1, ("aux_params", aux_params, f"{src}: the aux heads' parameters"))
        graph.header = [
            f"Imported from {shown} by `inceptdsl import torch` (traced with {ev.method}, "
            f"input {'x'.join(map(str, input_shape))}). Node names are the model's module "
            "paths, so its state_dict loads strictly; the expect lines are the model's own "
            "figures, measured when it was imported.",
        ]
        if why:
            graph.header.append(f"torch.fx could not trace it ({why}); module hooks did.")
        return graph, Session(model, input_shape, ev.method, why)

    def check(self, session: Session, graph: nx.DiGraph, seed: int = 0) -> dict[str, Any]:
        """Build the spec's graph in torch, load the model's weights strictly, compare outputs.
        Returns the figures; raises UnsupportedModelError if the outputs differ."""
        from .build import build

        ref = copy.deepcopy(session.model)
        set_bn_statistics(ref, session.input_shape, seed)
        built = build(graph, weights_from=ref.state_dict())
        built.eval()
        diff, scale = compare(ref, built, session.input_shape, seed + 1)
        if not diff <= TOLERANCE * max(scale, 1e-12):
            raise UnsupportedModelError(
                f"the spec does not reproduce the model: max |difference| {diff:.3g} of outputs "
                f"up to {scale:.3g} (tolerance {TOLERANCE:g} relative)",
                hint="this is a bug in the importer: please report it with the model",
            )
        return {"max_diff": diff, "output_scale": scale}


def set_bn_statistics(model: nn.Module, input_shape: tuple[int, int, int], seed: int) -> None:
    """Set every BN's running statistics from one training-mode pass (exact batch averages)."""
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.randn(8, *input_shape, generator=gen))
    for m, mom in zip(bns, saved, strict=True):
        m.momentum = mom
    model.eval()


def compare(
    a: nn.Module, b: nn.Module, input_shape: tuple[int, int, int], seed: int
) -> tuple[float, float]:
    """max |a(x) - b(x)| and max |a(x)| in eval mode on a random batch of 2."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, *input_shape, generator=gen)
    a.eval()
    b.eval()
    with torch.no_grad():
        ya, yb = output_tensor(a(x)), output_tensor(b(x))
    return float((ya - yb).abs().max()), float(ya.abs().max())


IMPORTER = TorchImporter()
