"""Traced calls -> the core's layer graph: each torch module or function as a unit of the spec.

Every construct is either written as the language's layer (`nn.Conv2d` -> `conv`,
`F.max_pool2d` -> `maxpool`, `torch.cat` -> concat, `x * 0.17` -> scale), passed through (a
`contiguous()`, an `nn.Identity`, a `size()` that only feeds a `view`), or refused with an
UnsupportedModelError that names it and the module it ran in. Nothing is guessed: options the
language has no word for (a dilated max pool, a circular padding mode, a `divisor_override`)
are refused too.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inceptdsl.errors import UnsupportedModelError
from inceptdsl.importers.model import Layer, Size

from .import_trace import Call, Ref

ACT_MODULES: dict[type, str] = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu6",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.SiLU: "silu",
    nn.Hardswish: "hardswish",
    nn.Hardsigmoid: "hardsigmoid",
    nn.Mish: "mish",
}
ACT_FUNCTIONS: dict[Any, str] = {
    F.relu: "relu",
    torch.relu: "relu",
    torch.relu_: "relu",
    F.relu_: "relu",
    F.relu6: "relu6",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    torch.tanh: "tanh",
    F.tanh: "tanh",
    F.silu: "silu",
    F.hardswish: "hardswish",
    F.hardsigmoid: "hardsigmoid",
    F.mish: "mish",
}
ACT_METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}
ADD_NAMES = {"add", "add_", "__add__", "__iadd__", "__radd__", "iadd"}
MUL_NAMES = {"mul", "mul_", "__mul__", "__imul__", "__rmul__", "imul"}
PASS_NAMES = {"contiguous", "clone", "detach"}
DIV_NAMES = {"div", "div_", "__truediv__", "__itruediv__", "truediv", "itruediv"}
SPLIT_NAMES = {"chunk", "split", "tensor_split", "unbind"}
HELPER_NAMES = {"size", "dim", "__get__", "_assert", "getattr", "numel", "__len__"}


class Unsupported(Exception):
    """Raised inside conversion; turned into an UnsupportedModelError with the call's place.
    `importer`: the language has the construct, the importer does not recover it (the hint
    says which of the two lacks it)."""

    def __init__(self, message: str, importer: bool = False) -> None:
        super().__init__(message)
        self.importer = importer


def fn_name(target: Any) -> str:
    if isinstance(target, str):
        return target
    mod = getattr(target, "__module__", None) or ""
    name = (
        getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or repr(target)
    )
    if mod.startswith("torch.nn.functional"):
        return f"torch.nn.functional.{name}"
    if mod in ("_operator", "operator"):
        return f"operator.{name}"
    if mod.startswith("torch"):
        return f"torch.{name}"
    return f"{mod}.{name}" if mod else name


def _short(target: Any) -> str:
    name = getattr(target, "__name__", None) or (target if isinstance(target, str) else "")
    return str(name)


def _hw(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return int(v[0]), int(v[0])
        if len(v) != 2:
            raise Unsupported(f"a 2-D size expected, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def size(v: Any) -> Size:
    h, w = _hw(v)
    return Size(h, w)


def small(v: Any) -> Any:
    """An int for a square pair, else a size."""
    h, w = _hw(v)
    return h if h == w else Size(h, w)


def pad(v: Any) -> Any:
    h, w = _hw(v)
    return h if h == w else (h, w)


def conv_layer(m: nn.Conv2d, in_shape: tuple[int, ...] | None) -> tuple[tuple, dict]:
    if m.padding_mode != "zeros":
        raise Unsupported(f"padding_mode={m.padding_mode!r} (only zero padding)")
    kh, kw = m.kernel_size
    opts: dict[str, Any] = {"stride": small(m.stride), "dilation": small(m.dilation)}
    if isinstance(m.padding, str):
        if m.padding == "valid":
            opts["pad"] = 0
        else:
            dh, dw = m.dilation
            th, tw = dh * (kh - 1), dw * (kw - 1)
            t, b, lf, r = th // 2, th - th // 2, tw // 2, tw - tw // 2
            opts["pad"] = pad((t, lf)) if (t, lf) == (b, r) else ((t, b), (lf, r))
    else:
        opts["pad"] = pad(m.padding)
    opts["groups"] = m.groups
    opts["bias"] = m.bias is not None
    return (m.out_channels, Size(kh, kw)), opts


def bn_opts(m: nn.modules.batchnorm._BatchNorm) -> dict[str, Any]:
    if m.momentum is None:
        raise Unsupported("momentum=None (a cumulative average): the language's bn has a momentum")
    if not m.track_running_stats:
        raise Unsupported("track_running_stats=False (batch statistics at inference)")
    opts: dict[str, Any] = {"eps": float(m.eps), "momentum": float(m.momentum)}
    if not m.affine:
        opts["scale"] = False
        opts["center"] = False
    return opts


def pool_opts(kernel: Any, stride: Any, padding: Any, ceil: bool) -> tuple[tuple, dict]:
    k = size(kernel)
    s = small(stride) if stride not in (None, [], ()) else small((k.h, k.w))
    return (k,), {"stride": s, "pad": pad(padding), "ceil": bool(ceil)}


class Converter:
    """Turns calls into layers; `alias` maps a passed-through call to the tensor it passes on."""

    def __init__(self, model: nn.Module, stateful_scopes: set[str]) -> None:
        self.model = model
        self.modules = dict(model.named_modules())
        self.stateful_scopes = stateful_scopes
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.alias: dict[str, str] = {}
        self.helpers: set[str] = set()
        self.layers: list[Layer] = []
        self.module_calls: dict[str, int] = {}
        self.calls_by_id: dict[str, Call] = {}
        self.pending: dict[str, tuple[str, str, int]] = {}  # a channel shuffle half done
        self.pieces: dict[str, list[tuple[int, int]]] = {}  # a chunk/split: channel ranges
        self.concats: dict[tuple[str, ...], str] = {}  # a concat's tensors -> its layer
        self.last: set[str] = set()  # tensors permuted to channels-last (ConvNeXt's blocks)
        self.attrs: dict[str, str] = {}  # a parameter read in a forward -> its path
        self.owned: dict[str, str] = {}  # a layer made of such a parameter -> its path

    def where(self, c: Call) -> str:
        if c.kind == "module":
            m = self.modules[c.target]
            return f"{c.target} ({type(m).__name__})"
        inside = (
            f"{c.stack[-1][0]} ({c.stack[-1][1].__name__})" if c.stack else "the model's forward"
        )
        return f"{fn_name(c.target)} in {inside}"

    def ref(self, v: Any) -> str | None:
        if isinstance(v, Ref):
            return self.alias.get(v.id, v.id)
        return None

    def tensor_args(self, c: Call) -> list[str]:
        out = []
        for v in [*c.args, *c.kwargs.values()]:
            vals = v if isinstance(v, (list, tuple)) else [v]
            for x in vals:
                r = self.ref(x)
                if r is not None and r not in self.helpers and r not in self.attrs:
                    out.append(r)
        return out

    def convert(self, c: Call, aux: str | None) -> None:
        self.shapes[c.id] = c.shape
        self.calls_by_id[c.id] = c
        if c.kind == "input":
            self.layers.append(Layer(c.id, "input", where="the model's input"))
            return
        if c.kind in ("method", "function") and _short(c.target) in SPLIT_NAMES:
            try:
                self.pieces[c.id] = self._pieces(c)
            except Unsupported as exc:
                raise UnsupportedModelError(f"{self.where(c)}: {exc}") from None
            return
        if c.kind == "attr":  # only a layer scale's multiply may read it (_layer_scale)
            self.attrs[c.id] = str(c.target)
            return
        if c.shape is None and c.kind != "module":
            self.helpers.add(c.id)  # a size, a shape: only ever an argument of a view
            return
        try:
            made = self._convert(c)
        except Unsupported as exc:
            raise UnsupportedModelError(
                f"{self.where(c)}: {exc}",
                hint=(
                    "the language has this construct, but `inceptdsl import` does not recover "
                    "it yet"
                    if exc.importer
                    else "the language cannot express this construct"
                )
                + "; docs/import.md lists what `inceptdsl import` supports",
            ) from None
        if made is None:
            return
        kind, args, opts, inputs = made
        scopes = tuple(p for p, _ in c.stack if p in self.stateful_scopes)
        if kind == "concat":
            scopes = self._concat_scopes(scopes, inputs)
        path = c.target if c.kind == "module" else self.owned.get(c.id)
        stateful = path is not None and c.kind != "module"
        if c.kind == "module" and path is not None:
            m = self.modules[path]
            stateful = any(True for _ in m.parameters()) or any(True for _ in m.buffers())
            n = self.module_calls.get(path, 0)
            self.module_calls[path] = n + 1
            if stateful and n:
                raise UnsupportedModelError(
                    f"{self.where(c)} is called twice: shared weights cannot be written in a "
                    "spec (every unit has its own)"
                )
        layer = Layer(
            c.id, kind, args, opts, tuple(inputs), path, stateful, scopes, self.where(c), aux
        )
        self.layers.append(layer)
        if kind == "bn" and c.kind == "module":
            self._bn_act(c, layer)
        if c.id in self.last and c.shape is not None and len(c.shape) == 4:
            n, h, w, ch = c.shape
            self.shapes[c.id] = (n, ch, h, w)  # the spec's tensors have no layout

    def _bn_act(self, c: Call, bn: Layer) -> None:
        """timm's BatchNormAct2d: batch norm, then its `drop` and `act` children."""
        m = self.modules[c.target]
        drop, act = getattr(m, "drop", None), getattr(m, "act", None)
        if drop is not None and not isinstance(drop, nn.Identity):
            raise UnsupportedModelError(f"{self.where(c)}: a dropout inside the batch norm")
        if act is None or isinstance(act, nn.Identity):
            return
        fn = ACT_MODULES.get(type(act))
        if fn is None:
            raise UnsupportedModelError(f"{self.where(c)}: activation {type(act).__name__}")
        aid = c.id + ".act"
        self.shapes[aid] = c.shape
        self.layers.append(
            Layer(aid, fn, (), {}, (bn.id,), None, False, bn.scopes, f"{c.target}.act", bn.aux)
        )
        self.alias[c.id] = aid

    def _in_shape(self, ref: str) -> tuple[int, ...] | None:
        return self.shapes.get(ref)

    def _convert(self, c: Call, plain: bool = False) -> tuple[str, tuple, dict, list[str]] | None:
        ins = self.tensor_args(c)
        first = ins[0] if ins else None
        name = _short(c.target)
        if any(i in self.pending for i in ins) and not (
            name in ("view", "reshape", "transpose") or name in PASS_NAMES
        ):
            raise Unsupported(
                "a 5-D tensor (only a channel shuffle's view, transpose, view is recovered)"
            )
        read = [x.id for x in (*c.args, *c.kwargs.values()) if isinstance(x, Ref)]
        attrs = [self.attrs[i] for i in read if i in self.attrs]
        if attrs and not (name in MUL_NAMES or c.target in (operator.mul, torch.mul)):
            raise Unsupported(
                f"{attrs[0]}: a parameter or buffer used directly in a forward (not through a "
                "module) other than as a per-channel multiplier (`layer_scale`)"
            )
        if not plain and (any(i in self.last for i in read) or name == "permute"):
            return self._channels_last(c, ins, name, [i for i in read if i not in self.attrs])
        if c.kind == "module":
            return self._module(c, ins)
        t = c.target
        kw = c.kwargs
        args = c.args

        def arg(i: int, key: str, default: Any = None) -> Any:
            if key in kw:
                return kw[key]
            return args[i] if len(args) > i else default

        if t in ACT_FUNCTIONS or (c.kind == "method" and name in ACT_METHODS):
            return ACT_FUNCTIONS.get(t) or ACT_METHODS[name], (), {}, [first]  # type: ignore[list-item]
        if t is F.hardtanh and arg(1, "min_val", -1.0) == 0 and arg(2, "max_val", 1.0) == 6:
            return "relu6", (), {}, [first]  # type: ignore[list-item]
        if t in (F.leaky_relu, F.leaky_relu_):
            return "leaky_relu", (), {"slope": float(arg(1, "negative_slope", 0.01))}, [first]  # type: ignore[list-item]
        if t in (F.elu, F.elu_):
            return "elu", (), {"alpha": float(arg(1, "alpha", 1.0))}, [first]  # type: ignore[list-item]
        if t is F.softplus:
            _softplus(arg(1, "beta", 1.0), arg(2, "threshold", 20.0))
            return "softplus", (), {}, [first]  # type: ignore[list-item]
        if name == "stochastic_depth":
            if arg(2, "mode") != "row":
                raise Unsupported(f"stochastic depth in mode {arg(2, 'mode')!r} (only 'row')")
            return "drop_path", (float(arg(1, "p")),), {}, [first]  # type: ignore[list-item]
        if name == "getitem":
            return self._getitem(c, first)
        if name in ("transpose", "swapaxes") and first in self.pending:
            stage, src, g = self.pending[first]  # type: ignore[index]
            dims = {int(d) % 5 for d in (arg(1, "dim0"), arg(2, "dim1"))}
            if stage != "grouped" or dims != {1, 2}:
                raise Unsupported("a transpose of a 5-D tensor other than a channel shuffle's")
            self.pending[c.id] = ("transposed", src, g)
            return None
        if t is F.gelu:
            if arg(1, "approximate", "none") != "none":
                raise Unsupported("gelu(approximate='tanh')")
            return "gelu", (), {}, [first]  # type: ignore[list-item]
        if t is F.max_pool2d or t is torch.max_pool2d:
            if _hw(arg(4, "dilation", 1)) != (1, 1):
                raise Unsupported("a dilated max pool")
            if arg(6, "return_indices", False):
                raise Unsupported("return_indices=True")
            a, o = pool_opts(
                arg(1, "kernel_size"),
                arg(2, "stride"),
                arg(3, "padding", 0),
                arg(5, "ceil_mode", False),
            )
            return "maxpool", a, o, [first]  # type: ignore[list-item]
        if t is F.avg_pool2d or t is torch._C._nn.avg_pool2d:
            if arg(6, "divisor_override") is not None:
                raise Unsupported("divisor_override")
            a, o = pool_opts(
                arg(1, "kernel_size"),
                arg(2, "stride"),
                arg(3, "padding", 0),
                arg(4, "ceil_mode", False),
            )
            o["count_pad"] = bool(arg(5, "count_include_pad", True))
            return "avgpool", a, o, [first]  # type: ignore[list-item]
        if t is F.adaptive_avg_pool2d:
            out = _hw(arg(1, "output_size"))
            if out == (1, 1):
                return "global_avgpool", (), {}, [first]  # type: ignore[list-item]
            return "adaptive_avgpool", (Size(*out),), {}, [first]  # type: ignore[list-item]
        if t is F.adaptive_max_pool2d:
            if _hw(arg(1, "output_size")) != (1, 1):
                raise Unsupported("adaptive max pooling to a size other than 1x1")
            return "global_maxpool", (), {}, [first]  # type: ignore[list-item]
        if t is F.dropout or t is torch.dropout:
            return "dropout", (float(arg(1, "p", 0.5)),), {}, [first]  # type: ignore[list-item]
        if t in (torch.cat, torch.concat) or name in ("cat", "concat"):
            tensors = arg(0, "tensors")
            dim = arg(1, "dim", 0)
            shape = c.shape or ()
            if dim not in (1, 1 - len(shape)) or len(shape) not in (2, 4):
                raise Unsupported(f"a concatenation along dim {dim} (only channels, dim 1)")
            refs = [self.ref(x) for x in tensors]
            if any(r is None for r in refs):
                raise Unsupported("a concatenation with a constant tensor")
            return self._concat(c, refs)  # type: ignore[arg-type]
        if t in (torch.flatten,) or (c.kind == "method" and name in ("flatten", "view", "reshape")):
            return self._reshape(c, first)
        if name in PASS_NAMES:
            if first is not None:
                self.alias[c.id] = first
            return None
        if name in ADD_NAMES or t in (operator.add, operator.iadd, torch.add):
            return self._add(c, ins)
        if name in MUL_NAMES or t in (operator.mul, operator.imul, torch.mul):
            return self._mul(c, ins)
        if name in DIV_NAMES or t in (operator.truediv, operator.itruediv, torch.div):
            return self._div(c, ins)
        if name in ("mean",) and c.kind in ("method", "function"):
            dims = arg(1, "dim")
            keep = bool(arg(2, "keepdim", False))
            in_shape = self._in_shape(first) if first else None
            if in_shape is not None and len(in_shape) == 4 and dims is not None:
                dset = {d % 4 for d in (dims if isinstance(dims, (list, tuple)) else [dims])}
                if dset == {2, 3}:
                    if keep:
                        return "global_avgpool", (), {}, [first]  # type: ignore[list-item]
                    pooled = Layer(c.id + ".pool", "global_avgpool", (), {}, (first,))  # type: ignore[arg-type]
                    pooled.scopes = tuple(p for p, _ in c.stack if p in self.stateful_scopes)
                    pooled.where = self.where(c)
                    self.layers.append(pooled)
                    self.shapes[pooled.id] = (*in_shape[:2], 1, 1)
                    return "flatten", (), {}, [pooled.id]
            raise Unsupported("a mean over dimensions other than the spatial ones")
        if name in HELPER_NAMES:
            self.helpers.add(c.id)
            return None
        raise Unsupported(f"the function {fn_name(t)}")

    def _concat(self, c: Call, refs: list[str]) -> tuple[str, tuple, dict, list[str]] | None:
        """A concat of one tensor passes it on; a concat whose first tensors are an earlier
        concat's reads that concat (DenseNet's running list: cat([x, f1, f2]) after
        cat([x, f1]) is the earlier concat and f2, as a spec's nested concats write it)."""
        self.concats.setdefault(tuple(refs), c.id)
        if len(refs) == 1:
            self.alias[c.id] = refs[0]
            return None
        for n in range(len(refs) - 1, 1, -1):
            earlier = self.concats.get(tuple(refs[:n]))
            if earlier is not None and earlier != c.id:
                return "concat", (), {}, [self.alias.get(earlier, earlier), *refs[n:]]
        return "concat", (), {}, refs

    def _concat_scopes(self, scopes: tuple[str, ...], inputs: list[str]) -> tuple[str, ...]:
        """A concat goes up to the innermost scope that produced one of its tensors: DenseNet's
        layer concatenates a list it was given, which its block holds, not the layer."""
        by_id = {layer.id: layer for layer in self.layers}
        ins = [by_id[i] for i in inputs if i in by_id]
        while scopes and not any(scopes[-1] in i.scopes for i in ins):
            scopes = scopes[:-1]
        return scopes

    def _pieces(self, c: Call) -> list[tuple[int, int]]:
        """The channel ranges (start, size) of a chunk / split / unbind along channels."""
        name = _short(c.target)
        src = self._in_shape(self.tensor_args(c)[0]) if self.tensor_args(c) else None
        args, kw = c.args, c.kwargs
        if src is None or len(src) != 4:
            raise Unsupported(f"{name} of something that is not a feature map")
        dim = kw.get("dim", args[2] if len(args) > 2 else 0)
        if name == "unbind" or int(dim) % 4 != 1:
            raise Unsupported(f"{name} along dim {dim} (only channels, dim 1)")
        n = src[1]
        spec: Any = kw.get("chunks", kw.get("split_size_or_sections", kw.get("split_size")))
        spec = args[1] if spec is None and len(args) > 1 else spec
        if name == "chunk":
            step = -(-n // int(spec))
            sizes = [min(step, n - s) for s in range(0, n, step)]
        elif name == "split" and isinstance(spec, int):
            sizes = [min(int(spec), n - s) for s in range(0, n, int(spec))]
        elif name == "split" and isinstance(spec, (list, tuple)):
            sizes = [int(v) for v in spec]
        else:
            raise Unsupported(f"{name}({spec!r})")
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        return list(zip(starts, sizes, strict=True))

    def _getitem(self, c: Call, first: str | None) -> tuple[str, tuple, dict, list[str]] | None:
        """A piece of a chunk/split, or `x[:, a:b]`: a channel `slice`."""
        base, index = c.args[0], c.args[1] if len(c.args) > 1 else None
        src_id = base.id if isinstance(base, Ref) else None
        if src_id in self.pieces and isinstance(index, int):
            split = next(x for x in self.calls_by_id[src_id].args if isinstance(x, Ref))
            start, size = self.pieces[src_id][index]
            return "slice", (start, size), {}, [self.ref(split)]  # type: ignore[list-item]
        src = self._in_shape(first) if first else None
        full = slice(None, None, None)
        if (
            src is not None
            and len(src) == 4
            and isinstance(index, tuple)
            and 2 <= len(index) <= 4
            and index[0] == full
            and isinstance(index[1], slice)
            and all(i == full for i in index[2:])
        ):
            start, stop, step = index[1].indices(src[1])
            if step == 1 and stop > start:
                return "slice", (start, stop - start), {}, [first]  # type: ignore[list-item]
        raise Unsupported(
            "indexing a tensor other than by channel ranges `x[:, a:b]` or a chunk's pieces"
        )

    def _reshape(self, c: Call, first: str | None) -> tuple[str, tuple, dict, list[str]] | None:
        src = self._in_shape(first) if first else None
        out = c.shape
        if src is None or out is None:
            raise Unsupported("a reshape of something that is not a traced tensor")
        if first in self.pending:
            stage, orig, g = self.pending[first]  # type: ignore[index]
            if stage == "transposed" and out == self._in_shape(orig):
                return "shuffle", (g,), {}, [orig]
            raise Unsupported("a reshape of a 5-D tensor other than a channel shuffle's")
        if len(src) == 4 and len(out) == 5 and out[0] == src[0] and out[3:] == src[2:]:
            if out[1] * out[2] == src[1]:
                self.pending[c.id] = ("grouped", first, out[1])  # type: ignore[assignment]
                return None
        if len(src) == 4 and out == (src[0], src[1] * src[2] * src[3]):
            return "flatten", (), {}, [first]  # type: ignore[list-item]
        if out == src:
            self.alias[c.id] = first  # type: ignore[assignment]
            return None
        raise Unsupported(f"a reshape from {list(src[1:])} to {list(out[1:])} per sample")

    def _add(self, c: Call, ins: list[str]) -> tuple[str, tuple, dict, list[str]]:
        """`a + b`; `torch.add(a, b, alpha=s)` is `a + s * b` (a scale before the add)."""
        alpha = c.kwargs.get("alpha", 1)
        extra = [v for v in c.args[2:] if not isinstance(v, Ref)]
        if len(ins) != 2 or extra or set(c.kwargs) - {"alpha"} or not _number(alpha):
            raise Unsupported("an add of a constant (only tensor + tensor)")
        shapes = {self._in_shape(i) for i in ins}
        if len(shapes) != 1:
            raise Unsupported(f"an add of tensors of different shapes {sorted(map(str, shapes))}")
        if alpha != 1:
            ins = [ins[0], self._extra(c, "alpha", "scale", (float(alpha),), ins[1])]
        return "add", (), {}, ins

    def _extra(self, c: Call, suffix: str, kind: str, args: tuple, src: str) -> str:
        """A layer the call implies before its own (the scale of an add's `alpha`)."""
        layer = Layer(f"{c.id}.{suffix}", kind, args, {}, (src,))
        layer.scopes = tuple(p for p, _ in c.stack if p in self.stateful_scopes)
        layer.where = self.where(c)
        self.layers.append(layer)
        self.shapes[layer.id] = self._in_shape(src)
        return layer.id

    def _div(self, c: Call, ins: list[str]) -> tuple[str, tuple, dict, list[str]]:
        """`x / c` for a constant c: `scale 1/c`."""
        divisor: Any = c.args[1] if len(c.args) > 1 else c.kwargs.get("other")
        mode = c.kwargs.get("rounding_mode")
        if len(ins) != 1 or not isinstance(c.args[0], Ref) or not _number(divisor) or mode:
            raise Unsupported("a division other than of a tensor by a constant")
        factor = 1.0 / float(divisor)
        if not math.isfinite(factor) or factor == 0.0:
            raise Unsupported(f"a division by {divisor!r}")
        return "scale", (factor,), {}, ins

    def _channels_last(
        self, c: Call, ins: list[str], name: str, raw: list[str]
    ) -> tuple[str, tuple, dict, list[str]] | None:
        """ConvNeXt's `permute(0, 2, 3, 1)`, then LayerNorm and Linear over the last dimension
        (the language's `layernorm` of a map and `linear per_position=true`), elementwise
        activations and a layer scale, then `permute(0, 3, 1, 2)` back. The spec's tensors
        have no layout: the permutes pass their input on. `self.last` holds the traced tensors
        (not their aliases) that are channels-last."""
        first = ins[0] if ins else None
        if name == "permute":
            dims = [a for a in c.args[1:] if not isinstance(a, Ref)] or [c.kwargs.get("dims")]
            if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
                dims = list(dims[0])
            dims = [int(d) % 4 for d in dims if isinstance(d, int)]
            src = self._in_shape(first) if first else None
            if src is None or len(src) != 4 or len(ins) != 1:
                raise Unsupported("a permute of something that is not a feature map")
            if raw[0] not in self.last and dims == [0, 2, 3, 1]:
                self.alias[c.id] = first  # type: ignore[assignment]
                self.last.add(c.id)
                return None
            if raw[0] in self.last and dims == [0, 3, 1, 2]:
                self.alias[c.id] = first  # type: ignore[assignment]
                return None
            raise Unsupported(
                f"a permute {dims} (only to channels-last and back, around per-position layers)"
            )
        made: tuple[str, tuple, dict, list[str]] | None
        if c.kind == "module":
            m = self.modules[c.target]
            if isinstance(m, nn.LayerNorm) and type(m).__name__ != "LayerNorm2d":
                ch = (c.shape or (0,))[-1]
                if tuple(m.normalized_shape) != (ch,):
                    raise Unsupported(f"a LayerNorm over {list(m.normalized_shape)}")
                if m.elementwise_affine and getattr(m, "bias", None) is None:
                    raise Unsupported("a LayerNorm with a weight but no bias")
                opts = {"eps": float(m.eps), "affine": bool(m.elementwise_affine)}
                made = "layernorm", (), opts, [first]  # type: ignore[list-item]
            elif type(m) is nn.Linear:
                opts = {"bias": m.bias is not None, "per_position": True}
                made = "linear", (m.out_features,), opts, [first]  # type: ignore[list-item]
            elif type(m) in ACT_MODULES or type(m) in (nn.GELU, nn.Dropout, nn.Identity):
                made = self._module(c, ins)
            else:
                raise Unsupported(f"the module {type(m).__name__} on a channels-last tensor")
        elif name in MUL_NAMES or c.target in (operator.mul, torch.mul):
            made = self._mul(c, ins)
        elif c.target is F.gelu or c.target in ACT_FUNCTIONS or name in PASS_NAMES:
            return self._convert_plain(c)
        else:
            raise Unsupported(
                f"{fn_name(c.target)} on a channels-last tensor (only LayerNorm, Linear, "
                "activations and a layer scale between the permutes)"
            )
        self.last.add(c.id)
        return made

    def _convert_plain(self, c: Call) -> tuple[str, tuple, dict, list[str]] | None:
        """An elementwise function of a channels-last tensor: converted as usual."""
        made = self._convert(c, plain=True)
        self.last.add(c.id)
        return made

    def _layer_scale(
        self, c: Call, src: str, path: str, last: bool
    ) -> tuple[str, tuple, dict, list[str]]:
        """`gamma * x` with gamma a parameter of shape (C, 1, 1) on a map or (C,) on a vector
        or a channels-last map: `layer_scale dims=3` / `layer_scale`, named after gamma."""
        gamma = (
            self.model.get_parameter(path) if path in dict(self.model.named_parameters()) else None
        )
        shape = self._in_shape(src)
        if gamma is None or shape is None:
            raise Unsupported(f"{path}: a buffer used as a multiplier (only a parameter)")
        ch = shape[1]
        on_map = len(shape) == 4
        if tuple(gamma.shape) == (ch, 1, 1) and on_map and not last:
            dims = 3
        elif tuple(gamma.shape) == (ch,) and (not on_map or last):
            dims = 1
        else:
            raise Unsupported(
                f"{path}: a parameter of shape {list(gamma.shape)} multiplying a "
                f"{list(shape[1:])} tensor (only a per-channel layer scale)"
            )
        if path in self.owned.values():
            raise Unsupported(f"{path}: a parameter used twice")
        self.owned[c.id] = path
        opts: dict[str, Any] = {"dims": dims}
        flat = gamma.detach().flatten()
        if bool((flat == flat[0]).all()):  # the shortest text of the float32 value: 1e-06
            opts["init"] = float(str(flat[0].numpy()))
        return "layer_scale", (), opts, [src]

    def _mul(self, c: Call, ins: list[str]) -> tuple[str, tuple, dict, list[str]]:
        read = [x.id for x in (*c.args, *c.kwargs.values()) if isinstance(x, Ref)]
        attrs = [self.attrs[i] for i in read if i in self.attrs]
        if attrs:
            if len(attrs) != 1 or len(ins) != 1:
                raise Unsupported("a multiply of a parameter by other than one tensor")
            last = any(i in self.last for i in read if i not in self.attrs)
            return self._layer_scale(c, ins[0], attrs[0], last)
        consts = [v for v in (*c.args, *c.kwargs.values()) if isinstance(v, (int, float))]
        if len(ins) == 1 and len(consts) == 1 and not isinstance(consts[0], bool):
            factor = float(consts[0])
            if not math.isfinite(factor):
                raise Unsupported("a multiply by a non-finite constant")
            return "scale", (factor,), {}, ins
        if len(ins) == 2 and not consts:
            return "multiply", (), {}, ins
        raise Unsupported("a multiply of more than two tensors, or of a tensor and a constant")

    def _module(self, c: Call, ins: list[str]) -> tuple[str, tuple, dict, list[str]] | None:
        m = self.modules[c.target]
        src = self._in_shape(ins[0]) if ins else None
        if len(ins) != 1:
            raise Unsupported(f"a module called with {len(ins)} tensors")
        x = [ins[0]]
        if type(m) is nn.Conv2d:
            a, o = conv_layer(m, src)
            return "conv", a, o, x
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if not isinstance(m, nn.BatchNorm2d) and type(m).__name__ != "BatchNormAct2d":
                raise Unsupported("a batch norm that is not 2-D")
            if (
                type(m).forward is not nn.BatchNorm2d.forward
                and type(m).__name__ != "BatchNormAct2d"
            ):
                raise Unsupported("a batch norm subclass with its own forward")
            if src is not None and len(src) != 4:
                raise Unsupported("batch norm of a flat tensor")
            return "bn", (), bn_opts(m), x
        if type(m) is nn.GroupNorm:
            opts = {"eps": float(m.eps), "affine": bool(m.affine)}
            return "groupnorm", (int(m.num_groups),), opts, x
        if isinstance(m, nn.LayerNorm):
            return "layernorm", (), _layernorm_opts(m, src), x
        if type(m) is nn.Linear:
            if src is not None and len(src) != 2:
                raise Unsupported("a linear layer applied to a feature map (flatten first)")
            return "linear", (m.out_features,), {"bias": m.bias is not None}, x
        if type(m) is nn.MaxPool2d:
            if _hw(m.dilation) != (1, 1) or m.return_indices:
                raise Unsupported("a dilated max pool, or one returning indices")
            a, o = pool_opts(m.kernel_size, m.stride, m.padding, m.ceil_mode)
            return "maxpool", a, o, x
        if type(m) is nn.AvgPool2d:
            if m.divisor_override is not None:
                raise Unsupported("divisor_override")
            a, o = pool_opts(m.kernel_size, m.stride, m.padding, m.ceil_mode)
            o["count_pad"] = bool(m.count_include_pad)
            return "avgpool", a, o, x
        if type(m) is nn.AdaptiveAvgPool2d:
            out = m.output_size
            if out is None or (isinstance(out, tuple) and None in out):
                raise Unsupported("an adaptive pool size of None")
            hw = _hw(out)
            if hw == (1, 1):
                return "global_avgpool", (), {}, x
            return "adaptive_avgpool", (Size(*hw),), {}, x
        if type(m) is nn.AdaptiveMaxPool2d and _hw(m.output_size) == (1, 1):
            return "global_maxpool", (), {}, x
        if type(m) in ACT_MODULES:
            return ACT_MODULES[type(m)], (), {}, x
        if type(m) is nn.LeakyReLU:
            return "leaky_relu", (), {"slope": float(m.negative_slope)}, x
        if type(m) is nn.ELU:
            return "elu", (), {"alpha": float(m.alpha)}, x
        if type(m) is nn.Softplus:
            _softplus(m.beta, m.threshold)
            return "softplus", (), {}, x
        if type(m) is nn.GELU:
            if m.approximate != "none":
                raise Unsupported("GELU(approximate='tanh')")
            return "gelu", (), {}, x
        if type(m) is nn.Hardtanh and (m.min_val, m.max_val) == (0.0, 6.0):
            return "relu6", (), {}, x
        if type(m) is nn.Dropout:
            return "dropout", (float(m.p),), {}, x
        if type(m) is nn.LocalResponseNorm:
            opts = {"alpha": float(m.alpha), "beta": float(m.beta), "k": float(m.k)}
            return "lrn", (int(m.size),), opts, x
        if type(m) is nn.Flatten:
            if (m.start_dim, m.end_dim) != (1, -1):
                raise Unsupported(f"Flatten(start_dim={m.start_dim}, end_dim={m.end_dim})")
            if src is not None and len(src) == 2:
                self.alias[c.id] = ins[0]
                return None
            return "flatten", (), {}, x
        if type(m) is nn.Identity:
            if c.target.rsplit(".", 1)[-1].isdigit():
                return "identity", (), {}, x
            self.alias[c.id] = ins[0]
            return None
        raise Unsupported(f"the module {type(m).__module__}.{type(m).__name__}")


def _layernorm_opts(m: nn.LayerNorm, src: tuple[int, ...] | None) -> dict[str, Any]:
    """nn.LayerNorm over a vector's features, or LayerNorm2d over a map's channels."""
    on_map = type(m).__name__ == "LayerNorm2d"
    if src is None or len(src) != (4 if on_map else 2) or tuple(m.normalized_shape) != src[1:2]:
        raise Unsupported(
            f"a LayerNorm over {list(m.normalized_shape)} of a {list(src or ())[1:]} tensor "
            "(the importer recovers LayerNorm over a vector's features and timm's or "
            "torchvision's LayerNorm2d)",
            importer=True,
        )
    if m.elementwise_affine and getattr(m, "bias", None) is None:
        raise Unsupported("a LayerNorm with a weight but no bias")
    return {"eps": float(m.eps), "affine": bool(m.elementwise_affine)}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _softplus(beta: Any, threshold: Any) -> None:
    if float(beta) != 1.0 or float(threshold) != 20.0:
        raise Unsupported(f"softplus(beta={beta}, threshold={threshold}) (only 1 and 20)")


Convert = Callable[[Call, str | None], None]
