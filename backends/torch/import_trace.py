"""Tracing a live nn.Module into calls: torch.fx first, module hooks where fx cannot trace.

Both tracers give the same flat list of `Call`s: the network input, each leaf module called
(convolution, batch norm, pooling, ...: torch.nn's own modules, batch-norm subclasses and
LayerNorm2d), and
each function or tensor method called outside leaf modules, with the tensors they read (`Ref`
to an earlier call), their output shapes, and the stack of modules they ran in. torch.fx gives
this without running the model (the shapes come from one eval-mode run of the traced graph);
where fx fails (data-dependent control flow, say), the fallback runs the model once under a
TorchFunctionMode with global forward hooks, so it records the path that input took.
"""

from __future__ import annotations

import copy
import io
import operator
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp
from torch.overrides import TorchFunctionMode

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


@dataclass(frozen=True)
class Ref:
    """A tensor argument: the output of call `id`."""

    id: str


@dataclass
class Call:
    id: str
    kind: str  # "input", "module", "function", "method"
    target: Any  # module path, function, or method name
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] | None = None  # output shape with the batch, None if not a tensor
    stack: tuple[tuple[str, type], ...] = ()  # enclosing modules, outer first (not the leaf)


@dataclass
class Trace:
    calls: list[Call]
    output: str
    method: str  # "torch.fx" or "module hooks"
    aux_outputs: list[str] = field(default_factory=list)


def is_leaf(m: nn.Module) -> bool:
    """Modules recorded as one call: torch.nn's own (not containers) and batch-norm subclasses
    (timm's BatchNormAct2d); anything else is traced through."""
    if isinstance(m, CONTAINERS):
        return False
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return True
    if isinstance(m, nn.LayerNorm) and type(m).__name__ == "LayerNorm2d":
        return True  # timm's and torchvision's: a LayerNorm over each position's channels
    return type(m).__module__.startswith("torch.nn.")


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return is_leaf(m)


def _refs(value: Any, ids: dict[fx.Node, str]) -> Any:
    if isinstance(value, fx.Node):
        return Ref(ids[value])
    if isinstance(value, (list, tuple)):
        return (
            type(value)(_refs(v, ids) for v in value)
            if not hasattr(value, "_fields")
            else tuple(_refs(v, ids) for v in value)
        )
    if isinstance(value, dict):
        return {k: _refs(v, ids) for k, v in value.items()}
    return value


def _shape_of(meta: Any) -> tuple[int, ...] | None:
    shape = getattr(meta, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


def _out_nodes(value: Any) -> list[fx.Node]:
    """The tensors a forward returns: a node, a tuple / namedtuple of them, or a dict."""
    if isinstance(value, fx.Node):
        if value.op == "call_function" and isinstance(value.target, type):
            return [n for a in (*value.args, *value.kwargs.values()) for n in _out_nodes(a)]
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _out_nodes(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _out_nodes(v)]
    return []


def trace_fx(model: nn.Module, example: torch.Tensor) -> Trace:
    """Trace `model` in its current mode (it is not changed: shapes are propagated on a copy)."""
    graph = _Tracer().trace(model)
    # Shapes from one run; a training-mode run would move BN statistics, so it runs on a copy.
    gm = fx.GraphModule(copy.deepcopy(model) if model.training else model, graph)
    with redirect_stderr(io.StringIO()):  # ShapeProp prints a traceback before it raises
        ShapeProp(gm).propagate(example)
    ids: dict[fx.Node, str] = {}
    calls: list[Call] = []
    output: list[fx.Node] = []
    shapes = {n.name: _shape_of(n.meta.get("tensor_meta")) for n in graph.nodes}
    for node in graph.nodes:
        ids[node] = node.name
        stack = tuple((path, cls) for path, cls in node.meta.get("nn_module_stack", {}).values())
        if node.op == "placeholder":
            calls.append(Call(node.name, "input", "x", shape=shapes[node.name]))
        elif node.op == "output":
            output = _out_nodes(node.args[0])
        elif node.op == "get_attr":
            calls.append(Call(node.name, "attr", node.target, stack=stack))
        else:
            kind = {"call_module": "module", "call_function": "function", "call_method": "method"}[
                node.op
            ]
            if kind == "module" and stack and stack[-1][0] == node.target:
                stack = stack[:-1]
            if kind == "function" and isinstance(node.target, type):
                continue  # a namedtuple of outputs
            calls.append(
                Call(
                    node.name,
                    kind,
                    node.target,
                    _refs(node.args, ids),
                    _refs(dict(node.kwargs), ids),
                    shapes[node.name],
                    stack,
                )
            )
    if not output:
        raise ValueError("the traced forward returns no tensor")
    return Trace(calls, ids[output[0]], "torch.fx", [ids[n] for n in output[1:]])


# ---- the fallback: run the model once and record what it does --------------------------------


_MISSING = object()


class _Recorder(TorchFunctionMode):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.paths = {id(m): p for p, m in model.named_modules()}
        self.stack: list[tuple[str, type]] = []
        self.in_leaf = 0
        self.calls: list[Call] = []
        self.producer: dict[int, str] = {}
        self.keep: list[Any] = []
        self.n = 0

    def _ref(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            pid = self.producer.get(id(value))
            return Ref(pid) if pid is not None else _Const(tuple(value.shape))
        if isinstance(value, (list, tuple)):
            return tuple(self._ref(v) for v in value)
        if isinstance(value, dict):
            return {k: self._ref(v) for k, v in value.items()}
        return value

    def _new(self, kind: str, target: Any, args: Any, kwargs: Any, out: Any) -> None:
        self.n += 1
        cid = f"{kind}_{self.n}"
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
        call = Call(
            cid,
            kind,
            target,
            self._ref(tuple(args)),
            self._ref(dict(kwargs)),
            shape,
            tuple(self.stack),
        )
        self.calls.append(call)
        if isinstance(out, torch.Tensor):
            self.producer[id(out)] = cid
            self.keep.append(out)
        elif (
            isinstance(out, (tuple, list)) and out and all(isinstance(t, torch.Tensor) for t in out)
        ):
            # A chunk / split: each piece as the `getitem` torch.fx would record.
            for i, t in enumerate(out):
                self.n += 1
                pid = f"getitem_{self.n}"
                self.calls.append(
                    Call(pid, kind, operator.getitem, (Ref(cid), i), {}, tuple(t.shape), call.stack)
                )
                self.producer[id(t)] = pid
                self.keep.append(t)

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.in_leaf == 0:
            self._new("function", func, args, kwargs, out)
        return out

    def pre(self, module: nn.Module, args: Any) -> None:
        path = self.paths.get(id(module), "")
        if self.in_leaf == 0 and is_leaf(module) and path:
            self.in_leaf += 1
            self._pending.append((path, args))
        elif self.in_leaf:
            self.in_leaf += 1
        elif path:
            self.stack.append((path, type(module)))

    def post(self, module: nn.Module, args: Any, out: Any) -> None:
        path = self.paths.get(id(module), "")
        if self.in_leaf:
            self.in_leaf -= 1
            if self.in_leaf == 0:
                p, a = self._pending.pop()
                self._new("module", p, a, {}, out)
        elif path and self.stack and self.stack[-1][0] == path:
            self.stack.pop()

    _pending: list[tuple[str, Any]]


@dataclass(frozen=True)
class _Const:
    """A tensor argument that no recorded call produced (a parameter or a constant)."""

    shape: tuple[int, ...]


@contextmanager
def _hooks(rec: _Recorder) -> Iterator[None]:
    from torch.nn.modules.module import (
        register_module_forward_hook,
        register_module_forward_pre_hook,
    )

    h1 = register_module_forward_pre_hook(rec.pre)
    h2 = register_module_forward_hook(rec.post)
    try:
        yield
    finally:
        h1.remove()
        h2.remove()


def trace_hooks(model: nn.Module, example: torch.Tensor) -> Trace:
    """Run `model` (a copy, so training-mode BN statistics are not touched) and record it."""
    model = copy.deepcopy(model)
    rec = _Recorder(model)
    rec._pending = []
    x = example.clone()
    rec.calls.append(Call("input", "input", "x", shape=tuple(x.shape)))
    rec.producer[id(x)] = "input"
    rec.keep.append(x)
    with torch.no_grad(), _hooks(rec), rec:
        out = model(x)
    outs = _tensors(out)
    if not outs:
        raise ValueError("the forward returns no tensor")
    ids = [rec.producer.get(id(t)) for t in outs]
    if any(i is None for i in ids):
        raise ValueError("the forward returns a tensor no recorded call produced")
    return Trace(rec.calls, str(ids[0]), "module hooks", [str(i) for i in ids[1:]])


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def trace(model: nn.Module, example: torch.Tensor) -> tuple[Trace, str | None]:
    """fx, else hooks; the second value says why fx failed (None if it did not)."""
    try:
        return trace_fx(model, example), None
    except Exception as exc:  # noqa: BLE001 - any fx failure means: try the fallback
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return trace_hooks(model, example), reason


__all__ = ["Call", "Ref", "Trace", "is_leaf", "operator", "trace", "trace_fx", "trace_hooks"]
