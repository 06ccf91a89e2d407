"""ONNX nodes -> the core's layer graph: each node (or a short run of them) as a unit of the spec.

A node becomes the language's layer (`Conv` -> `conv`, `MaxPool` -> `maxpool`, `Concat` ->
concat, `Mul` by a scalar -> scale), is passed through (`Identity`, `Dropout`), or completes a
pattern the exporters write for one layer (`x * Sigmoid(x)` is silu; `Reshape`, `Transpose`,
`Reshape` a channel shuffle; `Transpose`, `LayerNormalization`, `Transpose` a layernorm over a
map's channels; an `AveragePool` and a `Mul` by a constant map of divisors the ceil-mode or
count_pad average pool inceptdsl's own export writes). Anything else is refused with the
node's name and op type, saying whether the language or the importer lacks it.

Node names give module paths: `/layer1/layer1.0/conv1/Conv` (torch.onnx) and
`layer1.0.conv1/Conv` (inceptdsl's own export) are both module `layer1.0.conv1`. A layer that
holds weights takes its path from the weight's name where that is a state_dict key
(`layer1.0.conv1.weight`), so the weights file has the source's own keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx

from inceptdsl.errors import UnsupportedModelError
from inceptdsl.importers.model import Layer, Size

from .import_read import OnnxFile, attrs
from .pooling import _adaptive_matrix, _counts

_SEGMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)$")

SIMPLE_ACTS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "HardSwish": "hardswish",
    "Mish": "mish",
}


SAME_SHAPE = {"GroupNormalization", "LayerNormalization", "BatchNormalization", "LRN", "Gelu"}
"""Ops whose output has their input's shape (where ONNX's shape inference leaves it out)."""


class Unsupported(Exception):
    """A node the importer cannot write; `importer`: the language has the construct but the
    importer does not recover it from this form."""

    def __init__(self, message: str, importer: bool = False) -> None:
        super().__init__(message)
        self.importer = importer


def module_path(name: str) -> str:
    """The module path of a node name: its `/` segments but the last (the op), where a segment
    `a.b` that repeats its parent's last part (`layer1/layer1.0`) is relative to the grandparent
    (torch.onnx's scope names); `.` paths are kept."""
    segs = [s for s in name.strip("/").split("/")[:-1] if s]
    cur = ""
    for seg in segs:
        parts = [_clean(p) for p in seg.split(".") if p]
        if not parts:
            continue
        last = cur.rsplit(".", 1)[-1] if cur else ""
        if cur and len(parts) > 1 and parts[0] == last:
            cur = cur.rpartition(".")[0]
        if cur and (cur == ".".join(parts) or cur.endswith("." + ".".join(parts))):
            continue  # a segment that repeats the path so far (torch's nested Sequential)
        cur = ".".join([*([cur] if cur else []), *parts])
    return cur


def _clean(part: str) -> str:
    if _SEGMENT.match(part):
        return part
    out = re.sub(r"[^A-Za-z0-9_]", "_", part).strip("_") or "x"
    return out if not out[0].isdigit() or out.isdigit() else "_" + out


def state_path(name: str, suffix: str) -> str | None:
    """`a.b.weight` -> `a.b` when every segment is an identifier or a number."""
    if not name.endswith("." + suffix):
        return None
    path = name[: -len(suffix) - 1]
    return path if all(_SEGMENT.match(p) for p in path.split(".")) else None


def _f32(v: float) -> float:
    """A float32 attribute as the shortest decimal that reads back as it (0.001, not
    0.0010000000474974513)."""
    return float(str(np.float32(v)))


def _small(h: int, w: int) -> Any:
    return h if h == w else Size(h, w)


def _pad(t: int, left: int, b: int, r: int) -> Any:
    if (t, left) == (b, r):
        return t if t == left else (t, left)
    return ((t, b), (left, r))


class Converter:
    """Walks the nodes in order; `layers` in topological order, `weights` key -> array,
    `counts` the parameters and buffers the file's tensors hold."""

    def __init__(self, f: OnnxFile) -> None:
        self.f = f
        self.layers: dict[str, Layer] = {}
        self.alias: dict[str, str] = {}  # tensor -> layer id
        self.outputs: dict[str, list[str]] = {}  # layer id -> the tensors that hold it
        self.mpath: dict[str, str] = {}  # layer id -> module path (its scopes)
        self.weights: dict[str, np.ndarray] = {}
        self.params = 0
        self.buffers = 0
        self.taken: set[str] = set()
        self.pending: dict[str, tuple[Any, ...]] = {}  # tensor -> a pattern half done
        # an average pool whose divisors may follow as a Mul: its node and attributes
        self.pending_pool: dict[str, tuple[onnx.NodeProto, dict[str, Any]]] = {}
        self.dropped_softmax: onnx.NodeProto | None = None  # a final Softmax left out
        self.users: dict[str, int] = {}
        for n in f.model.graph.node:
            for i in n.input:
                self.users[i] = self.users.get(i, 0) + 1
        for o in f.model.graph.output:
            self.users[o.name] = self.users.get(o.name, 0) + 1
        self.layers["input"] = Layer("input", "input", where="the model's input")
        self._alias(f.input_name, "input")
        self._rules: dict[str, Callable[[onnx.NodeProto, dict[str, Any]], object]] = {
            "Conv": self._conv,
            "BatchNormalization": self._bn,
            "MaxPool": self._maxpool,
            "AveragePool": self._avgpool,
            "GlobalAveragePool": lambda n, a: self._add(n, "global_avgpool", [self._x(n)]),
            "GlobalMaxPool": lambda n, a: self._add(n, "global_maxpool", [self._x(n)]),
            "Concat": self._concat,
            "Add": self._add_op,
            "Sum": self._add_op,
            "Mul": self._mul,
            "Div": self._div,
            "Gemm": self._gemm,
            "MatMul": self._matmul,
            "Flatten": self._flatten,
            "Reshape": self._reshape,
            "Transpose": self._transpose,
            "LayerNormalization": self._layernorm,
            "GroupNormalization": self._groupnorm,
            "LRN": self._lrn,
            "Slice": self._slice,
            "Split": self._split,
            "Clip": self._clip,
            "Gelu": self._gelu,
            "LeakyRelu": lambda n, a: self._act(n, "leaky_relu", slope=_f32(a.get("alpha", 0.01))),
            "Elu": lambda n, a: self._act(n, "elu", alpha=_f32(a.get("alpha", 1.0))),
            "HardSigmoid": self._hardsigmoid,
            "Softplus": lambda n, a: self._act(n, "softplus"),
            "Identity": self._identity,
            "Dropout": self._identity,
            "ReduceMean": self._reduce_mean,
            "Pad": self._pad,
            "Softmax": self._softmax,
            "Squeeze": self._squeeze,
            "LogSoftmax": self._softmax,
        }
        for op in SIMPLE_ACTS:
            self._rules[op] = self._simple_act

    # ---- the walk ----

    def run(self) -> str:
        """Convert every node; the id of the layer holding the graph's output."""
        f = self.f
        for node in f.model.graph.node:
            if node.op_type == "Constant":
                continue
            where = f"node {node.name or node.output[0]!r} ({node.op_type})"
            try:
                rule = self._rules.get(node.op_type) if node.domain in ("", "ai.onnx") else None
                if rule is None:
                    raise Unsupported(
                        f"op {node.domain + '.' if node.domain else ''}{node.op_type} has no "
                        "counterpart in the language"
                    )
                rule(node, attrs(node))
                if node.op_type in SAME_SHAPE and node.input[0] in f.shapes:
                    f.shapes.setdefault(node.output[0], f.shapes[node.input[0]])
            except Unsupported as exc:
                raise UnsupportedModelError(
                    f"{where}: {exc}",
                    hint=(
                        "the language has this construct, but `inceptdsl import` does not "
                        "recover it from this form yet"
                        if exc.importer
                        else "the language cannot express this construct"
                    )
                    + "; docs/import.md lists what `inceptdsl import onnx` supports",
                    path=f.path,
                ) from None
        outs = f.model.graph.output
        if len(outs) != 1:
            raise UnsupportedModelError(
                f"the graph has {len(outs)} outputs; a network has one", path=f.path
            )
        name = outs[0].name
        if name in self.pending or name not in self.alias:
            raise UnsupportedModelError(
                f"the output {name!r} is not a layer's output (a constant, or an unfinished "
                "reshape or transpose)",
                path=f.path,
            )
        return self.alias[name]

    # ---- helpers ----

    def _x(self, node: onnx.NodeProto, i: int = 0) -> str:
        """The layer id of tensor input `i`."""
        name = node.input[i] if i < len(node.input) else ""
        if name in self.pending:
            raise Unsupported(
                "reads a tensor reshaped or transposed in a way the language has no layer for "
                "(only flatten, the channel shuffle and a layernorm between channels-last "
                "transposes)"
            )
        if name in self.f.consts:
            raise Unsupported(f"input {i} is a constant ({name!r}); layers read tensors")
        if name not in self.alias:
            raise Unsupported(f"input {name!r} is not computed before it (not a sorted graph)")
        return self.alias[name]

    def _const(self, node: onnx.NodeProto, i: int) -> np.ndarray | None:
        if i >= len(node.input) or not node.input[i]:
            return None
        return self.f.consts.get(node.input[i])

    def _shape(self, tensor: str) -> tuple[int, ...]:
        shape = self.f.shapes.get(tensor)
        if shape is None:
            raise Unsupported(f"the shape of {tensor!r} is not known (shape inference failed)")
        return shape

    def _add(
        self,
        node: onnx.NodeProto,
        kind: str,
        inputs: list[str],
        args: tuple[Any, ...] = (),
        opts: dict[str, Any] | None = None,
        state: dict[str, tuple[str, bool]] | None = None,
        path: str | None = None,
    ) -> Layer:
        """A layer for `node`'s first output; `state` maps key suffixes to (tensor, param?),
        named after `path` (from a weight's name, else the node's module path)."""
        lid = f"n{len(self.layers)}"
        mod = module_path(node.name)
        stateful = bool(state)
        if stateful:
            if path is None and mod and mod not in self.taken:
                path = mod  # the module the node ran in (torch.onnx's folded `onnx::Conv_7`)
            if path is None or path in self.taken:
                base = ".".join(p for p in (mod, kind) if p)
                path, k = base, 2
                while path in self.taken:
                    path, k = f"{base}_{k}", k + 1
            self.taken.add(path)
            for suffix, (tensor, param) in (state or {}).items():
                array = self.f.consts[tensor]
                self.weights[f"{path}.{suffix}" if suffix else path] = array
                if param:
                    self.params += int(array.size)
                else:
                    self.buffers += int(array.size)
            mod = path
        layer = Layer(
            lid,
            kind,
            args,
            dict(opts or {}),
            tuple(inputs),
            path if stateful else None,
            stateful,
            where=f"{node.name or node.output[0]} ({node.op_type})",
        )
        self.layers[lid] = layer
        self.mpath[lid] = mod
        self._alias(node.output[0], lid)
        return layer

    def _alias(self, tensor: str, lid: str) -> None:
        self.alias[tensor] = lid
        self.outputs.setdefault(lid, []).append(tensor)

    def _sole(self, tensor: str) -> bool:
        return self.users.get(tensor, 0) == 1

    def _act(self, node: onnx.NodeProto, kind: str, **opts: Any) -> None:
        self._add(node, kind, [self._x(node)], opts=opts)

    # ---- rules ----

    def _simple_act(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        self._act(node, SIMPLE_ACTS[node.op_type])

    def _identity(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        src = node.input[0]
        if src in self.f.consts:
            self.f.consts[node.output[0]] = self.f.consts[src]
            return
        if src in self.pending:
            self.pending[node.output[0]] = self.pending[src]
            return
        if len([o for o in node.output if o]) > 1 and any(
            self.users.get(o) for o in node.output[1:]
        ):
            raise Unsupported("a dropout mask used by the graph")
        self._alias(node.output[0], self._x(node))

    def _conv(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        w = self._const(node, 1)
        if w is None:
            raise Unsupported("weights computed in the graph (only constant weights)")
        if w.ndim != 4:
            raise Unsupported(f"a {w.ndim - 2}-D convolution (only 2-D)")
        x = self._x(node)
        _, cin, h, wd = self._shape(node.input[0])
        kh, kw = (int(k) for k in a.get("kernel_shape", w.shape[2:]))
        sh, sw = (int(s) for s in a.get("strides", (1, 1)))
        dh, dw = (int(d) for d in a.get("dilations", (1, 1)))
        pads = [int(p) for p in a.get("pads", (0, 0, 0, 0))]
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            sides: list[tuple[int, int]] = []
            for n, k, s, d in ((h, kh, sh, dh), (wd, kw, sw, dw)):
                total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
                lo = total // 2 if auto == "SAME_UPPER" else total - total // 2
                sides.append((lo, total - lo))
            pads = [sides[0][0], sides[1][0], sides[0][1], sides[1][1]]
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        t, left, b, r = pads
        bias = self._const(node, 2)
        if len(node.input) > 2 and node.input[2] and bias is None:
            raise Unsupported("a bias computed in the graph (only constant biases)")
        path = state_path(node.input[1], "weight")
        state = {"weight": (node.input[1], True)}
        if bias is not None:
            state["bias"] = (node.input[2], True)
        opts = {
            "stride": _small(sh, sw),
            "dilation": _small(dh, dw),
            "pad": _pad(t, left, b, r),
            "groups": int(a.get("group", 1)),
            "bias": bias is not None,
        }
        args = (int(w.shape[0]), Size(kh, kw))
        self._add(node, "conv", [x], args, opts, state, path)

    def _bn(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        if a.get("training_mode", 0) or any(node.output[1:]):
            raise Unsupported("batch norm in training mode (batch statistics)")
        if len(self._shape(node.input[0])) != 4:
            raise Unsupported("batch norm of a flat tensor (only of a feature map)")
        x = self._x(node)
        names = list(node.input[1:5])
        if any(self._const(node, i) is None for i in range(1, 5)):
            raise Unsupported("batch-norm statistics computed in the graph")
        scale = not (names[0].endswith("/ones") and bool((self.f.consts[names[0]] == 1).all()))
        center = not (names[1].endswith("/zeros") and bool((self.f.consts[names[1]] == 0).all()))
        path = state_path(names[2], "running_mean") or state_path(names[0], "weight")
        state: dict[str, tuple[str, bool]] = {}
        if scale:
            state["weight"] = (names[0], True)
        if center:
            state["bias"] = (names[1], True)
        state["running_mean"] = (names[2], False)
        state["running_var"] = (names[3], False)
        opts: dict[str, Any] = {"eps": _f32(a.get("epsilon", 1e-5))}
        if "momentum" in a:
            opts["momentum"] = round(1.0 - float(a["momentum"]), 6)
        if not scale:
            opts["scale"] = False
        if not center:
            opts["center"] = False
        self._add(node, "bn", [x], (), opts, state, path)

    def _window(self, node: onnx.NodeProto, a: dict[str, Any]) -> tuple[Any, ...]:
        if "dilations" in a and any(int(d) != 1 for d in a["dilations"]):
            raise Unsupported("a dilated pool")
        auto = a.get("auto_pad", b"NOTSET")
        if (auto.decode() if isinstance(auto, bytes) else str(auto)) not in ("NOTSET", "VALID"):
            raise Unsupported("auto_pad SAME on a pool", importer=True)
        kernel = [int(k) for k in a["kernel_shape"]]
        if len(kernel) != 2:
            raise Unsupported(f"a {len(kernel)}-D pool (only 2-D)")
        stride = [int(s) for s in a.get("strides", (1, 1))]
        pads = [int(p) for p in a.get("pads", (0, 0, 0, 0))]
        _, _, h, w = self._shape(node.input[0])
        _, _, oh, ow = self._shape(node.output[0])
        return kernel, stride, pads, (h, w), (oh, ow), bool(a.get("ceil_mode", 0))

    def _pool_opts(self, node: onnx.NodeProto, a: dict[str, Any]) -> tuple[tuple, dict]:
        """kernel, stride, pad and ceil of a pool; floor-mode pads grown at the bottom/right
        for one more window (inceptdsl's export of ceil mode) read as ceil=true."""
        (kh, kw), (sh, sw), (t, left, b, r), (h, w), (oh, ow), ceil = self._window(node, a)
        if not ceil and (b, r) != (t, left) and h + 2 * t >= kh and w + 2 * left >= kw:
            if _out(h, kh, sh, t, t, True) == oh and _out(w, kw, sw, left, left, True) == ow:
                b, r, ceil = t, left, True
        opts = {"stride": _small(sh, sw), "pad": _pad(t, left, b, r), "ceil": ceil}
        return (Size(kh, kw),), opts

    def _maxpool(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        if any(node.output[1:]):
            raise Unsupported("a max pool returning indices")
        args, opts = self._pool_opts(node, a)
        self._add(node, "maxpool", [self._x(node)], args, opts)

    def _avgpool(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        args, opts = self._pool_opts(node, a)
        if opts["pad"] != 0:
            opts["count_pad"] = bool(a.get("count_include_pad", 0))
        layer = self._add(node, "avgpool", [self._x(node)], args, opts)
        if self._sole(node.output[0]) and a.get("count_include_pad", 0):
            self.pending_pool[layer.id] = (node, a)

    def _divided(self, layer: Layer, divisor: np.ndarray) -> bool:
        """An average pool then a Mul by a constant map of divisors (inceptdsl's export of a
        ceil-mode or count_pad=false pool): its options, if some reproduce the map."""
        found = self.pending_pool.pop(layer.id, None)
        if found is None:
            return False
        node, a = found
        (kh, kw), (sh, sw), (t, left, b, r), (h, w), (oh, ow), ceil = self._window(node, a)
        if ceil or divisor.shape != (1, 1, oh, ow):
            return False
        candidates = list(dict.fromkeys([(b, r), (t, left), (t + 1, left + 1)]))
        for ir_b, ir_r in candidates:
            for is_ceil in (False, True):
                if (
                    _out(h, kh, sh, t, ir_b, is_ceil) != oh
                    or _out(w, kw, sw, left, ir_r, is_ceil) != ow
                    or h + t + ir_b < kh
                    or w + left + ir_r < kw
                ):
                    continue
                for count in (True, False):
                    pads = (t, ir_b, left, ir_r) if count else (0, 0, 0, 0)
                    rows = _counts(h, oh, kh, sh, t, pads[0], pads[1])
                    cols = _counts(w, ow, kw, sw, left, pads[2], pads[3])
                    want = kh * kw / np.outer(rows, cols).astype(np.float64)
                    if np.allclose(want, divisor[0, 0], rtol=1e-6):
                        layer.opts = {
                            "stride": _small(sh, sw),
                            "pad": _pad(t, left, ir_b, ir_r),
                            "ceil": is_ceil,
                        }
                        if any((t, ir_b, left, ir_r)):
                            layer.opts["count_pad"] = count
                        return True
        return False

    def _concat(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        rank = len(self._shape(node.output[0]))
        if int(a.get("axis", 0)) % rank != 1:
            raise Unsupported("a concat along an axis other than the channels")
        self._add(node, "concat", [self._x(node, i) for i in range(len(node.input))])

    def _add_op(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        if any(i in self.f.consts for i in node.input):
            raise Unsupported("an add of a constant (a bias outside a layer)")
        ins = [self._x(node, i) for i in range(len(node.input))]
        first = self.layers[ins[0]]
        if (
            first.kind == "add"
            and self._sole_layer(first.id)
            and self.mpath[first.id] == module_path(node.name)
            and node.name.rsplit("/", 1)[-1].startswith(("Add_", "Sum_"))
        ):
            first.inputs = (*first.inputs, *ins[1:])
            self._alias(node.output[0], first.id)
            return
        if len(ins) == 2 and self._shape(node.input[0]) != self._shape(node.input[1]):
            raise Unsupported(
                "an add that broadcasts one input over the other (the language's `add { }` "
                "does, but the importer writes a two-input add as a residual)",
                importer=True,
            )
        self._add(node, "add", ins)

    def _sole_layer(self, lid: str) -> bool:
        """Whether layer `lid`'s output is read once (by the node being converted)."""
        outs = self.outputs.get(lid, [])
        return len(outs) == 1 and self._sole(outs[0])

    def _mul(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        ca, cb = self._const(node, 0), self._const(node, 1)
        if ca is not None and cb is not None:
            self.f.consts[node.output[0]] = ca * cb
            return
        xi, c = (1, ca) if ca is not None else (0, cb)
        if c is not None:
            cname = node.input[1 - xi]
            x = self._x(node, xi)
            layer = self.layers[x]
            shape = self._shape(node.input[xi])
            if c.size == 1:
                self._add(node, "scale", [x], (_f32(float(c.reshape(()))),))
                return
            if layer.kind == "avgpool" and self._divided(layer, c):
                self._alias(node.output[0], x)
                return
            ch = shape[1]
            flat = c.reshape(-1)
            dims = 3 if len(shape) == 4 and c.shape[-3:] == (ch, 1, 1) else 1
            if flat.size == ch and (dims == 3 or (len(shape) == 2 and c.shape[-1] == ch)):
                path = cname if all(_SEGMENT.match(p) for p in cname.split(".")) else None
                opts: dict[str, Any] = {"dims": dims}
                if bool((flat == flat[0]).all()):
                    opts["init"] = _f32(float(flat[0]))
                self._add(node, "layer_scale", [x], (), opts, {"": (cname, True)}, path)
                return
            raise Unsupported(
                f"a multiply by a constant of shape {list(c.shape)} (only a scalar or a "
                "per-channel layer scale)"
            )
        xs = [self._x(node, 0), self._x(node, 1)]
        for i in (0, 1):
            sig = self.layers[xs[i]]
            if sig.kind == "sigmoid" and sig.inputs == (xs[1 - i],) and self._sole_layer(sig.id):
                sig.kind = "silu"
                self._alias(node.output[0], sig.id)
                return
        self._add(node, "multiply", xs)

    def _div(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        c = self._const(node, 1)
        if c is None or c.size != 1 or float(c.reshape(())) == 0:
            raise Unsupported("a division other than by a constant number")
        self._add(node, "scale", [self._x(node)], (_f32(1.0 / float(c.reshape(()))),))

    def _linear(
        self, node: onnx.NodeProto, weight: np.ndarray, bias: str | None, wname: str
    ) -> None:
        x = self._x(node)
        if len(self._shape(node.input[0])) != 2:
            raise Unsupported("a matrix product of a feature map (flatten first)", importer=True)
        path = state_path(wname, "weight")
        self.f.consts[wname + "#T"] = weight
        state = {"weight": (wname + "#T", True)}
        if bias is not None:
            state["bias"] = (bias, True)
        opts = {"bias": bias is not None}
        self._add(node, "linear", [x], (int(weight.shape[0]),), opts, state, path)

    def _gemm(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        w = self._const(node, 1)
        if w is None or a.get("transA", 0) or float(a.get("alpha", 1.0)) != 1.0:
            raise Unsupported("a matrix product that is not a linear layer (constant weights)")
        if len(node.input) > 2 and node.input[2]:
            bias = self._const(node, 2)
            if bias is None or float(a.get("beta", 1.0)) != 1.0 or bias.ndim != 1:
                raise Unsupported("a bias that is not a constant vector")
        weight = w if a.get("transB", 0) else w.T
        b = node.input[2] if len(node.input) > 2 and node.input[2] else None
        self._linear(node, np.ascontiguousarray(weight), b, node.input[1])

    def _matmul(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        rows, w = self._const(node, 0), self._const(node, 1)
        pend = self.pending.get(node.input[1]) if rows is not None else None
        if rows is not None and pend is not None and pend[0] == "cols":  # rows (map cols)
            _, x, (h, wd), cols = self.pending.pop(node.input[1])
            oh, ow = rows.shape[0], cols.shape[1]
            if (
                rows.shape == (oh, h)
                and cols.shape == (wd, ow)
                and np.allclose(rows, _adaptive_matrix(h, oh), rtol=1e-6)
                and np.allclose(cols, _adaptive_matrix(wd, ow).T, rtol=1e-6)
            ):
                self._add(node, "adaptive_avgpool", [x], (Size(oh, ow),))
                return
            raise Unsupported("products of a feature map with constant matrices (not a pool)")
        in_shape = self._shape(node.input[0]) if rows is None else ()
        if w is not None and w.ndim == 2 and len(in_shape) == 4:
            self.pending[node.output[0]] = ("cols", self._x(node), in_shape[2:], w)
            return
        if w is None or w.ndim != 2:
            raise Unsupported("a matrix product that is not a linear layer (constant weights)")
        self._linear(node, np.ascontiguousarray(w.T), None, node.input[1])

    def _flatten(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        if int(a.get("axis", 1)) != 1:
            raise Unsupported(f"a flatten at axis {a.get('axis')} (only after the batch)")
        x = self._x(node)
        if len(self._shape(node.input[0])) == 2:
            self._alias(node.output[0], x)
            return
        self._add(node, "flatten", [x])

    def _reshape(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        src, out = node.input[0], node.output[0]
        shape_in = self._shape(src)
        shape_out = self._shape(out)
        pend = self.pending.pop(src, None)
        if pend is not None and pend[0] == "transposed" and len(shape_out) == 4:
            _, orig, g = pend
            if self._shape(self._orig_tensor(orig)) == shape_out:
                self._add(node, "shuffle", [orig], (g,))
                return
        if pend is not None:
            self.pending[src] = pend
        if len(shape_in) == 4 and len(shape_out) == 5 and shape_out[3:] == shape_in[2:]:
            g = shape_out[1]
            if shape_out[1] * shape_out[2] == shape_in[1]:
                self.pending[out] = ("grouped", self._x(node), g)
                return
        if len(shape_out) == 2 and len(shape_in) >= 2:
            x = self._x(node)
            if len(shape_in) == 2:
                self._alias(out, x)
                return
            self._add(node, "flatten", [x])
            return
        if shape_in == shape_out:
            self._alias(out, self._x(node))
            return
        raise Unsupported(
            f"a reshape of {list(shape_in[1:])} to {list(shape_out[1:])} (the language has only "
            "flatten and the channel shuffle)"
        )

    def _orig_tensor(self, lid: str) -> str:
        return next(iter(self.outputs.get(lid, [])), "")

    def _transpose(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        perm = tuple(int(p) for p in a.get("perm", ()))
        src, out = node.input[0], node.output[0]
        pend = self.pending.get(src)
        if pend is not None and pend[0] == "grouped" and perm == (0, 2, 1, 3, 4):
            self.pending[out] = ("transposed", pend[1], pend[2])
            return
        if pend is not None and pend[0] == "last_ln" and perm == (0, 3, 1, 2):
            _, x, opts, state, path = pend
            self._add(node, "layernorm", [x], (), opts, state, path)
            return
        if pend is None and perm == (0, 2, 3, 1):
            self.pending[out] = ("last", self._x(node))
            return
        raise Unsupported(
            f"a transpose {list(perm)} (the language has the channel shuffle and a layernorm "
            "between channels-last transposes)"
        )

    def _norm_state(
        self, node: onnx.NodeProto, channels: int
    ) -> tuple[dict[str, tuple[str, bool]], bool, str | None]:
        names = list(node.input[1:3])
        consts = [self._const(node, 1), self._const(node, 2)]
        if consts[0] is None or (len(names) > 1 and names[1] and consts[1] is None):
            raise Unsupported("a norm whose scale or bias is computed in the graph")
        own = names[0].endswith("/ones") and len(names) > 1 and names[1].endswith("/zeros")
        if own:
            return {}, False, None
        if len(names) < 2 or not names[1]:
            raise Unsupported("a norm with a scale but no bias")
        state = {"weight": (names[0], True), "bias": (names[1], True)}
        return state, True, state_path(names[0], "weight")

    def _layernorm(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        src = node.input[0]
        shape = self._shape(src)
        if int(a.get("axis", -1)) % len(shape) != len(shape) - 1 or any(node.output[1:]):
            raise Unsupported("a layernorm over more than the last dimension", importer=True)
        state, affine, path = self._norm_state(node, shape[-1])
        opts = {"eps": _f32(a.get("epsilon", 1e-5)), "affine": affine}
        pend = self.pending.pop(src, None)
        if pend is not None and pend[0] == "last":
            self.pending[node.output[0]] = ("last_ln", pend[1], opts, state, path)
            return
        if pend is not None:
            self.pending[src] = pend
        if len(shape) != 2:
            raise Unsupported(
                "a layernorm over the last dimension of a feature map (the language has it over "
                "a vector's features or a map's channels)",
                importer=True,
            )
        self._add(node, "layernorm", [self._x(node)], (), opts, state, path)

    def _groupnorm(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        shape = self._shape(node.input[0])
        state, affine, path = self._norm_state(node, shape[1])
        opts = {"eps": _f32(a.get("epsilon", 1e-5)), "affine": affine}
        args = (int(a["num_groups"]),)
        self._add(node, "groupnorm", [self._x(node)], args, opts, state, path)

    def _lrn(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        opts = {
            "alpha": _f32(a.get("alpha", 1e-4)),
            "beta": _f32(a.get("beta", 0.75)),
            "k": _f32(a.get("bias", 1.0)),
        }
        self._add(node, "lrn", [self._x(node)], (int(a["size"]),), opts)

    def _channel_range(self, node: onnx.NodeProto, axis: int) -> tuple[str, int]:
        shape = self._shape(node.input[0])
        if axis % len(shape) != 1:
            raise Unsupported("indexing other than channel ranges")
        return self._x(node), shape[1]

    def _slice(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        vals = [self._const(node, i) for i in range(1, 5)]
        if (
            vals[0] is None
            or vals[1] is None
            or any(
                len(node.input) > i + 1 and node.input[i + 1] and vals[i] is None for i in (2, 3)
            )
        ):
            raise Unsupported("a slice with bounds computed in the graph")
        starts, ends = vals[0].reshape(-1), vals[1].reshape(-1)
        axes = vals[2].reshape(-1) if vals[2] is not None else np.arange(len(starts))
        steps = vals[3].reshape(-1) if vals[3] is not None else np.ones(len(starts))
        if len(starts) != 1 or int(steps[0]) != 1:
            raise Unsupported("indexing other than channel ranges (one axis, step 1)")
        x, ch = self._channel_range(node, int(axes[0]))
        lo, hi = (int(v) + ch if int(v) < 0 else int(v) for v in (starts[0], ends[0]))
        lo, hi = max(0, min(lo, ch)), max(0, min(hi, ch))
        if hi <= lo:
            raise Unsupported("an empty channel range")
        self._add(node, "slice", [x], (lo, hi - lo))

    def _split(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        x, ch = self._channel_range(node, int(a.get("axis", 0)))
        sizes = self._const(node, 1)
        if sizes is None and "split" in a:
            sizes = np.asarray(a["split"])
        outs = list(node.output)
        if sizes is None:
            if ch % len(outs):
                raise Unsupported("a split into unequal parts without sizes", importer=True)
            sizes = np.full(len(outs), ch // len(outs))
        start = 0
        for k, (o, s) in enumerate(zip(outs, sizes.reshape(-1), strict=True)):
            piece = onnx.helper.make_node("Split", list(node.input), [o], name=f"{node.name}_{k}")
            self._add(piece, "slice", [x], (start, int(s)))
            start += int(s)

    def _clip(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        lo, hi = self._const(node, 1), self._const(node, 2)
        lo_v = float(lo.reshape(())) if lo is not None else a.get("min")
        hi_v = float(hi.reshape(())) if hi is not None else a.get("max")
        if (lo_v, hi_v) != (0.0, 6.0):
            raise Unsupported(f"a clip to [{lo_v}, {hi_v}] (only relu6's [0, 6])")
        self._act(node, "relu6")

    def _gelu(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        approx = a.get("approximate", b"none")
        if (approx.decode() if isinstance(approx, bytes) else approx) != "none":
            raise Unsupported("GELU with the tanh approximation")
        self._act(node, "gelu")

    def _hardsigmoid(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
        if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5)):
            raise Unsupported(f"HardSigmoid(alpha={alpha:g}, beta={beta:g}) (only 1/6 and 1/2)")
        self._act(node, "hardsigmoid")

    def _reduce_mean(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        axes = self._const(node, 1)
        ax = sorted(
            int(v) % 4 for v in (axes.reshape(-1) if axes is not None else a.get("axes", ()))
        )
        if ax != [2, 3] or len(self._shape(node.input[0])) != 4:
            raise Unsupported("a mean over other axes than a map's height and width")
        layer = self._add(node, "global_avgpool", [self._x(node)])
        if not a.get("keepdims", 1):
            # the pooled map, then flattened like torch's x.mean((2, 3))
            flat = onnx.helper.make_node("Flatten", [], [node.output[0]], name=node.name + "_flat")
            self._add(flat, "flatten", [layer.id])

    def _pad(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        mode = a.get("mode", b"constant")
        pads = self._const(node, 1)
        value = self._const(node, 2)
        if (mode.decode() if isinstance(mode, bytes) else mode) != "constant" or pads is None:
            raise Unsupported("a pad other than with zeros (reflect, edge)")
        if value is not None and float(value.reshape(())) != 0.0:
            raise Unsupported(f"a pad with {float(value.reshape(()))} (only zeros)")
        p = [int(v) for v in pads.reshape(-1)]
        if len(p) != 8 or any(p[i] for i in (0, 1, 4, 5)):
            raise Unsupported("a pad of the batch or the channels")
        t, left, b, r = p[2], p[3], p[6], p[7]
        self._add(node, "zeropad", [self._x(node)], (_pad(t, left, b, r),))

    def _softmax(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        """A Softmax of the logits that is the graph's output is left out (the spec ends with
        the logits; `check` compares them); anywhere else the language has no softmax."""
        outs = [o.name for o in self.f.model.graph.output]
        rank = len(self._shape(node.input[0]))
        if (
            node.op_type == "Softmax"
            and outs == [node.output[0]]
            and rank == 2
            and int(a.get("axis", -1)) % rank == 1
        ):
            self.dropped_softmax = node
            self._alias(node.output[0], self._x(node))
            return
        raise Unsupported("a softmax inside the network (the language's networks end with logits)")

    def _squeeze(self, node: onnx.NodeProto, a: dict[str, Any]) -> None:
        axes = self._const(node, 1)
        ax = axes.reshape(-1).tolist() if axes is not None else list(a.get("axes", ()))
        shape = self._shape(node.input[0])
        if len(shape) == 4 and shape[2:] == (1, 1) and sorted(int(v) % 4 for v in ax) == [2, 3]:
            self._add(node, "flatten", [self._x(node)])
            return
        raise Unsupported("a squeeze other than of a 1x1 map's height and width")


def _out(n: int, k: int, s: int, lo: int, hi: int, ceil: bool) -> int:
    """A pool's output size; ceil mode drops a last window that starts in the bottom padding."""
    span = n + lo + hi - k
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + lo:
        out -= 1
    return out
