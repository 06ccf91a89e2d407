"""`inceptdsl import caffe`: a Caffe prototxt (current `layer {}` or 2014 V1 `layers {}` format)
-> the layer graph, with no Caffe install.

Caffe's conventions, and how each becomes the language's:
- Layers run in file order; a `top` equal to its `bottom` rewrites the blob in place (ReLU,
  Dropout, BatchNorm, Scale). A bottom that no earlier layer wrote is an error (a cycle through
  bottoms and tops cannot be built in Caffe either).
- ReLU merges into the convolution before it (`conv ... act=relu`).
- Pooling rounds the output size up (`ceil=true`) and drops a last window that would start in
  the padding, as torch's ceil mode does. The two differ only for an unpadded pool whose kernel
  is smaller than its stride: that is refused rather than approximated. AVE pooling divides by
  the window clipped to the padded input (`count_pad=true`); `round_mode: FLOOR` is honoured.
- LRN: Caffe divides alpha by local_size, like torch's LocalResponseNorm and the language's
  `lrn`, so the numbers carry over unchanged.
- BatchNorm with the Scale after it is one `bn` (gamma and beta from Scale; eps kept; momentum
  = 1 - moving_average_fraction).
- InnerProduct flattens a feature map first (`flatten -> linear`).
- Loss layers name the outputs: the one with the largest loss_weight is the network's output,
  the others are aux heads with their loss_weight. Accuracy, Silence and TEST-only layers are
  left out; a terminal Softmax is left out (the spec's output is the logits) and said so.
- Names: `inception_3a/1x1` is unit `conv_1x1` of scope `inception_3a`. Scopes of one class
  (the prefix without its index: `inception`) with the same structure become one block.

The file's own figures are counted here too, independently of inceptdsl's cost model (weights,
biases, BN vectors, MACs of conv and linear layers on the inference path), and written as the
spec's `expect` lines: lowering the spec must agree with them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    InvalidValueError,
    LimitError,
    SpecError,
    TensorTooLargeError,
    UnknownNameError,
    UnsupportedModelError,
)
from ..front.loader import decode
from ..front.read import read_bytes
from ..front.source import SourceFile, Span, display_path
from .caffe_blocks import residual_scopes
from .caffe_text import Field, Message, Word, parse_prototxt
from .model import AuxHead, Layer, LayerGraph, Scope, Size, Sym
from .values import identifier

MAX_BYTES = 8 * 1024 * 1024
MAX_LAYERS = 20_000
MAX_DIM = 1_000_000
MAX_ELEMENTS = 2**32

V1_TYPES = {
    "CONVOLUTION": "Convolution",
    "RELU": "ReLU",
    "POOLING": "Pooling",
    "LRN": "LRN",
    "CONCAT": "Concat",
    "INNER_PRODUCT": "InnerProduct",
    "DROPOUT": "Dropout",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "SOFTMAX": "Softmax",
    "ACCURACY": "Accuracy",
    "DATA": "Data",
    "IMAGE_DATA": "ImageData",
    "HDF5_DATA": "HDF5Data",
    "MEMORY_DATA": "MemoryData",
    "DUMMY_DATA": "DummyData",
    "WINDOW_DATA": "WindowData",
    "ELTWISE": "Eltwise",
    "SPLIT": "Split",
    "FLATTEN": "Flatten",
    "SIGMOID": "Sigmoid",
    "TANH": "TanH",
    "SILENCE": "Silence",
    "EUCLIDEAN_LOSS": "EuclideanLoss",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss",
    "HINGE_LOSS": "HingeLoss",
    "INFOGAIN_LOSS": "InfogainLoss",
    "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "CONTRASTIVE_LOSS": "ContrastiveLoss",
    "DECONVOLUTION": "Deconvolution",
    "POWER": "Power",
    "ABSVAL": "AbsVal",
    "BNLL": "BNLL",
    "SLICE": "Slice",
    "MVN": "MVN",
    "EXP": "Exp",
    "THRESHOLD": "Threshold",
    "ARGMAX": "ArgMax",
    "IM2COL": "Im2col",
    "HDF5_OUTPUT": "HDF5Output",
}
V1_NUMBERS = {
    4: "CONVOLUTION",
    18: "RELU",
    17: "POOLING",
    15: "LRN",
    3: "CONCAT",
    14: "INNER_PRODUCT",
    6: "DROPOUT",
    21: "SOFTMAX_LOSS",
    20: "SOFTMAX",
    1: "ACCURACY",
    5: "DATA",
    25: "ELTWISE",
    22: "SPLIT",
    8: "FLATTEN",
    19: "SIGMOID",
    23: "TANH",
    36: "SILENCE",
    12: "IMAGE_DATA",
    9: "HDF5_DATA",
    29: "MEMORY_DATA",
    32: "DUMMY_DATA",
    7: "EUCLIDEAN_LOSS",
}
DATA_TYPES = {
    "Data",
    "ImageData",
    "HDF5Data",
    "MemoryData",
    "DummyData",
    "WindowData",
    "Input",
    "AnnotatedData",
    "VideoData",
}
LOSS_TYPES = {
    "SoftmaxWithLoss",
    "EuclideanLoss",
    "SigmoidCrossEntropyLoss",
    "HingeLoss",
    "InfogainLoss",
    "MultinomialLogisticLoss",
    "ContrastiveLoss",
}
SKIPPED = {"Accuracy", "Silence"}
SUPPORTED = {
    "Convolution",
    "ReLU",
    "Sigmoid",
    "TanH",
    "Pooling",
    "LRN",
    "Concat",
    "Eltwise",
    "Dropout",
    "InnerProduct",
    "BatchNorm",
    "Scale",
    "Split",
    "Flatten",
    "Softmax",
}


def _located(err: SpecError, source: SourceFile) -> SpecError:
    return err.with_sources({source.path: source})


@dataclass
class _Blob:
    id: str  # the layer id that last wrote it
    shape: tuple[int, ...]  # (C, H, W) or (F,)


@dataclass
class _State:
    source: SourceFile
    layers: dict[str, Layer] = field(default_factory=dict)
    blobs: dict[str, _Blob] = field(default_factory=dict)
    input_shape: tuple[int, int, int] | None = None
    losses: list[tuple[float, str, str, Span]] = field(default_factory=list)  # weight, blob, name
    notes: list[str] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)
    buffers: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)
    n: int = 0


def read_prototxt(path: str, input_shape: tuple[int, int, int] | None = None) -> LayerGraph:
    """The layer graph of the prototxt at `path`; `input_shape` overrides what the file says.
    The file is read by the spec reader's rules (read.py: a regular file, never a FIFO or a
    device, at most MAX_BYTES)."""
    shown = display_path(path)
    data = read_bytes(path, shown, limit=MAX_BYTES)
    text = decode(data, shown)
    return convert_prototxt(text, shown, input_shape)


def convert_prototxt(
    text: str, path: str, input_shape: tuple[int, int, int] | None = None
) -> LayerGraph:
    net, source = parse_prototxt(text, path)
    try:
        graph = _Converter(net, source, path, input_shape).run()
    except SpecError as err:
        raise _located(err, source) from None
    graph.source_file = source
    return graph


def _scalar(msg: Message | None, name: str, default: Any = None) -> Any:
    if msg is None:
        return default
    f = msg.get(name)
    return default if f is None else f.value


def _int(f: Field | None, what: str, minimum: int = 0, default: int | None = None) -> int:
    if f is None:
        if default is None:
            raise InvalidValueError(f"{what} is missing")
        return default
    v = f.value
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidValueError(f"{what} must be a whole number, got {_show(v)}", f.value_span)
    if v < minimum:
        raise InvalidValueError(f"{what} must be at least {minimum}, got {v}", f.value_span)
    if v > MAX_DIM:
        raise LimitError(f"{what} {v:,} exceeds the limit of {MAX_DIM:,}", f.value_span)
    return v


def _num(f: Field | None, what: str, default: float) -> float:
    if f is None:
        return default
    v = f.value
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InvalidValueError(f"{what} must be a finite number, got {_show(v)}", f.value_span)
    return float(v)


def _word(f: Field | None, default: str) -> str:
    if f is None:
        return default
    v = f.value
    if isinstance(v, Word):
        return v.name
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def _bool(f: Field | None, default: bool) -> bool:
    if f is None:
        return default
    w = _word(f, "").lower()
    if w in ("true", "1"):
        return True
    if w in ("false", "0"):
        return False
    raise InvalidValueError(f"expected true or false, got {_show(f.value)}", f.value_span)


def _show(v: Any) -> str:
    return v.name if isinstance(v, Word) else repr(v)


def _two(
    p: Message, name: str, h: str, w: str, default: int | None, minimum: int
) -> tuple[int, int]:
    """A Caffe size: `name` (once or as h, w), or `h` and `w` fields."""
    fs = p.all(name)
    if p.get(h) is not None or p.get(w) is not None:
        return _int(p.get(h), h, minimum, default), _int(p.get(w), w, minimum, default)
    if len(fs) > 2:
        raise UnsupportedModelError(f"{name} with {len(fs)} values: only 2-D layers", fs[2].span)
    if len(fs) == 2:
        return _int(fs[0], name, minimum), _int(fs[1], name, minimum)
    if len(fs) == 1:
        v = _int(fs[0], name, minimum)
        return v, v
    if default is None:
        raise InvalidValueError(f"{name} is missing", p.span)
    return default, default


def _pair(v: tuple[int, int]) -> Any:
    return v[0] if v[0] == v[1] else Size(*v)


def _padv(v: tuple[int, int]) -> Any:
    return v[0] if v[0] == v[1] else v


class _Converter:
    def __init__(
        self, net: Message, source: SourceFile, path: str, input_shape: tuple[int, int, int] | None
    ) -> None:
        self.net = net
        self.s = _State(source)
        self.path = path
        self.override = input_shape
        self.format = "current"

    def run(self) -> LayerGraph:
        net = self.net
        layers, v1 = net.all("layer"), net.all("layers")
        if layers and v1:
            raise UnsupportedModelError(
                "the file mixes `layer` (current format) and `layers` (V1) entries", v1[0].span
            )
        if v1:
            self.format = "V1"
        entries = layers or v1
        if not entries:
            raise InvalidValueError(
                "the file has no `layer { }` or `layers { }` entries", Span(self.path, 1, 1, 1, 2)
            )
        if len(entries) > MAX_LAYERS:
            raise LimitError(
                f"{len(entries):,} layers exceed the limit of {MAX_LAYERS:,}",
                entries[MAX_LAYERS].span,
            )
        self._net_input()
        for f in entries:
            if not isinstance(f.value, Message):
                raise InvalidValueError(f"`{f.name}` must be a message `{{ ... }}`", f.value_span)
            self._layer(f)
        if self.s.input_shape is None:
            raise InvalidValueError(
                "the file gives no input shape (no input_shape / input_dim / Input layer, and no "
                "crop_size with mean values on the data layer)",
                entries[0].span,
                hint="give it with --input CxHxW",
            )
        return self._graph()

    # ---- input ----

    def _set_input(self, shape: tuple[int, ...], span: Span) -> None:
        if self.s.input_shape is not None:
            raise UnsupportedModelError("a second network input: the spec has one", span)
        if self.override is not None:
            shape = self.override
        if len(shape) != 3 or any(d < 1 or d > MAX_DIM for d in shape):
            raise InvalidValueError(f"the input shape {list(shape)} is not C x H x W", span)
        self.s.input_shape = (shape[0], shape[1], shape[2])
        self._check_size(self.s.input_shape, span)
        self.s.layers["input"] = Layer("input", "input", where="the input", span=span)

    def _dims(self, fs: list[Field]) -> tuple[int, ...]:
        return tuple(_int(f, "dim", 1) for f in fs)

    def _net_input(self) -> None:
        net = self.net
        names = net.all("input")
        if not names:
            return
        if len(names) > 1:
            raise UnsupportedModelError("several network inputs: the spec has one", names[1].span)
        dims = net.all("input_dim")
        shapes = net.all("input_shape")
        if shapes and isinstance(shapes[0].value, Message):
            dims = shapes[0].value.all("dim")
        shape = self._dims(dims)
        if len(shape) == 4:
            shape = shape[1:]
        if self.override is None and len(shape) != 3:
            raise InvalidValueError(
                "the input needs 4 dims (N, C, H, W)", names[0].span, hint="or give --input CxHxW"
            )
        self._set_input(shape if len(shape) == 3 else (0, 0, 0), names[0].span)
        self.s.blobs[str(names[0].value)] = _Blob("input", self.s.input_shape or ())

    # ---- layers ----

    def _type(self, f: Field, msg: Message) -> tuple[str, Span]:
        tf = msg.get("type")
        if tf is None:
            raise InvalidValueError("the layer has no type", f.span)
        v = tf.value
        if self.format == "V1":
            if isinstance(v, int) and not isinstance(v, bool):
                v = Word(V1_NUMBERS.get(v, str(v)))
            name = _word(tf, "")
            if name not in V1_TYPES:
                raise UnsupportedModelError(f"unknown V1 layer type {name}", tf.value_span)
            return V1_TYPES[name], tf.value_span
        if not isinstance(v, str):
            raise InvalidValueError(f"type must be a string, got {_show(v)}", tf.value_span)
        return v, tf.value_span

    def _in_phase(self, msg: Message) -> bool:
        """Whether the layer belongs to the TRAIN net (the one with the aux heads)."""
        for inc in msg.all("include"):
            if isinstance(inc.value, Message):
                ph = inc.value.get("phase")
                if ph is not None and _word(ph, "") != "TRAIN":
                    return False
        for exc in msg.all("exclude"):
            if isinstance(exc.value, Message):
                ph = exc.value.get("phase")
                if ph is not None and _word(ph, "") == "TRAIN":
                    return False
        return True

    def _bottoms(self, msg: Message, only_first: bool = False) -> list[tuple[str, _Blob, Span]]:
        out = []
        for b in msg.all("bottom")[: 1 if only_first else None]:
            name = str(b.value)
            blob = self.s.blobs.get(name)
            if blob is None:
                raise UnknownNameError(
                    f"the blob {name!r} is read before any layer writes it",
                    b.value_span,
                    hint="layers run in file order: a bottom must be a top of an earlier layer "
                    "(bottoms and tops cannot form a cycle)",
                )
            out.append((name, blob, b.value_span))
        return out

    def _tops(self, msg: Message) -> list[Field]:
        return msg.all("top")

    def _new(
        self,
        name: str,
        span: Span,
        kind: str,
        args: tuple = (),
        opts: dict | None = None,
        inputs: tuple[str, ...] = (),
        stateful: bool = False,
        shape: tuple[int, ...] = (),
    ) -> Layer:
        self.s.n += 1
        lid = f"l{self.s.n}"
        layer = Layer(
            lid, kind, args, dict(opts or {}), inputs, None, stateful, (), name, None, span
        )
        layer.comment = None
        self.s.layers[lid] = layer
        self._check_size(shape, span)
        self._shapes[lid] = shape
        self._names[lid] = name
        return layer

    _shapes: dict[str, tuple[int, ...]]
    _names: dict[str, str]
    _synthetic: set[str]  # layers the importer adds (the flatten before an InnerProduct)

    def _check_size(self, shape: tuple[int, ...], span: Span) -> None:
        n = 1
        for d in shape:
            n *= d
        if n > MAX_ELEMENTS:
            raise TensorTooLargeError(
                f"this layer's output has {n:,} elements per sample; the limit is {MAX_ELEMENTS:,}",
                span,
            )

    def _layer(self, f: Field) -> None:
        msg = f.value
        assert isinstance(msg, Message)
        if not hasattr(self, "_shapes"):
            self._shapes, self._names = {"input": ()}, {"input": "input"}
            self._synthetic = set()
        kind, tspan = self._type(f, msg)
        name = str(_scalar(msg, "name", f"layer{self.s.n + 1}"))
        if not self._in_phase(msg):
            return
        if kind in DATA_TYPES:
            self._data(kind, msg, f.span)
            return
        if kind in SKIPPED:
            return
        bottoms = self._bottoms(msg, only_first=kind in LOSS_TYPES)
        tops = self._tops(msg)
        if any(b[1].id.startswith("label:") for b in bottoms):
            raise UnsupportedModelError(
                f"layer {name!r} ({kind}) reads the labels: only loss layers may", f.span
            )
        if kind in LOSS_TYPES:
            lw = msg.all("loss_weight")
            weight = _num(lw[0], "loss_weight", 1.0) if lw else 1.0
            if bottoms and weight > 0:
                self.s.losses.append((weight, bottoms[0][0], name, f.span))
            return
        if kind not in SUPPORTED:
            raise UnsupportedModelError(
                f"layer {name!r}: the layer type {kind} has no counterpart in the language",
                tspan,
                hint="docs/import.md lists the layer types `inceptdsl import caffe` supports",
            )
        if self._shapes["input"] == () and self.s.input_shape is not None:
            self._shapes["input"] = self.s.input_shape
        if len(bottoms) != 1 and kind not in ("Concat", "Eltwise"):
            raise UnsupportedModelError(
                f"layer {name!r} ({kind}) has {len(bottoms)} bottoms; it takes one", f.span
            )
        if kind == "Split":
            for t in tops:
                self.s.blobs[str(t.value)] = bottoms[0][1]
            return
        if len(tops) != 1:
            raise UnsupportedModelError(
                f"layer {name!r} has {len(tops)} tops; expected one", f.span
            )
        top = str(tops[0].value)
        out = getattr(self, "_l_" + kind.lower())(name, msg, bottoms, f.span)
        if out is not None:
            self.s.blobs[top] = out

    def _data(self, kind: str, msg: Message, span: Span) -> None:
        tops = self._tops(msg)
        if not tops:
            return
        shape: tuple[int, ...] = ()
        ip = msg.get("input_param")
        if ip is not None and isinstance(ip.value, Message):
            sh = ip.value.get("shape")
            if sh is not None and isinstance(sh.value, Message):
                shape = self._dims(sh.value.all("dim"))[1:]
        tp = msg.get("transform_param")
        if not shape and tp is not None and isinstance(tp.value, Message):
            crop = tp.value.get("crop_size")
            means = tp.value.all("mean_value")
            if crop is not None and len(means) > 1:
                c = _int(crop, "crop_size", 1)
                shape = (len(means), c, c)
                self.s.notes.append(
                    f"The input shape {len(means)}x{c}x{c} comes from the data layer's "
                    f"crop_size and its {len(means)} mean values."
                )
        if not shape and self.override is None:
            raise InvalidValueError(
                f"the {kind} layer does not give the input's shape",
                span,
                hint="give it with --input CxHxW",
            )
        self._set_input(shape or (0, 0, 0), span)
        assert self.s.input_shape is not None
        self._shapes["input"] = self.s.input_shape
        self.s.blobs[str(tops[0].value)] = _Blob("input", self.s.input_shape)
        for t in tops[1:]:
            self.s.blobs[str(t.value)] = _Blob(f"label:{t.value}", ())

    def _p(self, msg: Message, name: str) -> Message:
        f = msg.get(name)
        if f is None:
            return Message(span=msg.span)
        if not isinstance(f.value, Message):
            raise InvalidValueError(f"{name} must be a message", f.value_span)
        return f.value

    def _spatial(self, shape: tuple[int, ...], name: str, span: Span) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise UnsupportedModelError(
                f"layer {name!r} needs a feature map, its input is flat", span
            )
        return shape[0], shape[1], shape[2]

    def _l_convolution(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "convolution_param")
        c, h, w = self._spatial(bottoms[0][1].shape, name, span)
        out = _int(p.get("num_output"), "num_output", 1)
        kh, kw = _two(p, "kernel_size", "kernel_h", "kernel_w", None, 1)
        sh, sw = _two(p, "stride", "stride_h", "stride_w", 1, 1)
        ph, pw = _two(p, "pad", "pad_h", "pad_w", 0, 0)
        dl = p.all("dilation")
        dh, dw = (
            (_int(dl[0], "dilation", 1),) * 2
            if len(dl) == 1
            else ((_int(dl[0], "dilation", 1), _int(dl[1], "dilation", 1)) if dl else (1, 1))
        )
        groups = _int(p.get("group"), "group", 1, 1)
        bias = _bool(p.get("bias_term"), True)
        if c % groups or out % groups:
            raise InvalidValueError(
                f"group {groups} does not divide the channels ({c} -> {out})", span
            )
        ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        if ekh > h + 2 * ph or ekw > w + 2 * pw:
            raise InvalidValueError(
                f"layer {name!r}: the kernel {kh}x{kw} is larger than its "
                f"padded input {h + 2 * ph}x{w + 2 * pw}",
                span,
            )
        oh, ow = (h + 2 * ph - ekh) // sh + 1, (w + 2 * pw - ekw) // sw + 1
        opts = {
            "stride": _pair((sh, sw)),
            "pad": _padv((ph, pw)),
            "dilation": _pair((dh, dw)),
            "groups": groups,
            "bias": bias,
        }
        layer = self._new(
            name, span, "conv", (out, Size(kh, kw)), opts, (bottoms[0][1].id,), True, (out, oh, ow)
        )
        weights = out * (c // groups) * kh * kw
        self._count(layer, weights + (out if bias else 0), 0, weights * oh * ow)
        return _Blob(layer.id, (out, oh, ow))

    def _count(self, layer: Layer, params: int, buffers: int, macs: int) -> None:
        self.s.params[layer.id] = params
        self.s.buffers[layer.id] = buffers
        self.s.macs[layer.id] = macs

    def _act(self, kind: str, name: str, bottoms: list, span: Span) -> _Blob:
        src = bottoms[0][1]
        prev = self.s.layers.get(src.id)
        # In place after a convolution: merged into it (`conv ... act=relu`).
        if (
            prev is not None
            and prev.kind == "conv"
            and "act" not in prev.opts
            and self._sole(src.id)
        ):
            prev.opts["act"] = Sym(kind)
            return src
        layer = self._new(name, span, kind, (), {}, (src.id,), False, src.shape)
        return _Blob(layer.id, src.shape)

    def _sole(self, lid: str) -> bool:
        """Whether no layer reads `lid` yet (so an activation may be merged into it)."""
        return not any(lid in x.inputs for x in self.s.layers.values())

    def _l_relu(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "relu_param")
        if _num(p.get("negative_slope"), "negative_slope", 0.0) != 0.0:
            raise UnsupportedModelError(
                f"layer {name!r}: a leaky ReLU (negative_slope) has no counterpart in the language",
                span,
            )
        return self._act("relu", name, bottoms, span)

    def _l_sigmoid(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        return self._act("sigmoid", name, bottoms, span)

    def _l_tanh(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        return self._act("tanh", name, bottoms, span)

    def _l_pooling(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "pooling_param")
        src = bottoms[0][1]
        c, h, w = self._spatial(src.shape, name, span)
        method = _word(p.get("pool"), "MAX")
        if method not in ("MAX", "AVE", "0", "1"):
            raise UnsupportedModelError(f"layer {name!r}: {method} pooling", span)
        avg = method in ("AVE", "1")
        if _bool(p.get("global_pooling"), False):
            layer = self._new(
                name,
                span,
                "global_avgpool" if avg else "global_maxpool",
                (),
                {},
                (src.id,),
                False,
                (c, 1, 1),
            )
            return _Blob(layer.id, (c, 1, 1))
        kh, kw = _two(p, "kernel_size", "kernel_h", "kernel_w", None, 1)
        sh, sw = _two(p, "stride", "stride_h", "stride_w", 1, 1)
        ph, pw = _two(p, "pad", "pad_h", "pad_w", 0, 0)
        ceil = _word(p.get("round_mode"), "CEIL") not in ("FLOOR", "1")
        if ph >= kh or pw >= kw:
            raise InvalidValueError(
                f"layer {name!r}: padding {ph}x{pw} is not smaller than the kernel {kh}x{kw}", span
            )
        if kh > h + 2 * ph or kw > w + 2 * pw:
            raise InvalidValueError(
                f"layer {name!r}: the kernel {kh}x{kw} is larger than its "
                f"padded input {h + 2 * ph}x{w + 2 * pw}",
                span,
            )
        oh = _caffe_pool(h, kh, sh, ph, ceil, name, span)
        ow = _caffe_pool(w, kw, sw, pw, ceil, name, span)
        opts: dict[str, Any] = {"stride": _pair((sh, sw)), "pad": _padv((ph, pw)), "ceil": ceil}
        if avg:
            opts["count_pad"] = True
        layer = self._new(
            name,
            span,
            "avgpool" if avg else "maxpool",
            (Size(kh, kw),),
            opts,
            (src.id,),
            False,
            (c, oh, ow),
        )
        return _Blob(layer.id, (c, oh, ow))

    def _l_lrn(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "lrn_param")
        src = bottoms[0][1]
        self._spatial(src.shape, name, span)
        if _word(p.get("norm_region"), "ACROSS_CHANNELS") not in ("ACROSS_CHANNELS", "0"):
            raise UnsupportedModelError(f"layer {name!r}: LRN within channels", span)
        size = _int(p.get("local_size"), "local_size", 1, 5)
        if size % 2 == 0:
            raise InvalidValueError(f"local_size must be odd (Caffe's rule), got {size}", span)
        opts = {
            "alpha": _num(p.get("alpha"), "alpha", 1.0),
            "beta": _num(p.get("beta"), "beta", 0.75),
            "k": _num(p.get("k"), "k", 1.0),
        }
        layer = self._new(name, span, "lrn", (size,), opts, (src.id,), False, src.shape)
        return _Blob(layer.id, src.shape)

    def _l_concat(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "concat_param")
        axis = _int(p.get("axis") or p.get("concat_dim"), "axis", -4, 1)
        shapes = [b[1].shape for b in bottoms]
        if axis != 1 or not bottoms:
            raise UnsupportedModelError(
                f"layer {name!r}: a concat along axis {axis} (only channels)", span
            )
        if len({s[1:] for s in shapes}) != 1 or len({len(s) for s in shapes}) != 1:
            raise InvalidValueError(
                f"layer {name!r}: the inputs' sizes differ "
                f"({', '.join('x'.join(map(str, s)) for s in shapes)})",
                span,
            )
        shape = (sum(s[0] for s in shapes), *shapes[0][1:])
        layer = self._new(
            name, span, "concat", (), {}, tuple(b[1].id for b in bottoms), False, shape
        )
        return _Blob(layer.id, shape)

    def _l_eltwise(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        """SUM is an add (a coefficient other than 1 scales its input first: Inception-ResNet's
        `coeff: 1 coeff: 0.17` is `residual scale=0.17`); PROD is a multiply."""
        p = self._p(msg, "eltwise_param")
        op = _word(p.get("operation"), "SUM")
        if op not in ("SUM", "1", "PROD", "0"):
            raise UnsupportedModelError(
                f"layer {name!r}: an elementwise {op} (only SUM and PROD)", span
            )
        coeffs = p.all("coeff")
        if len(bottoms) < 2 or len({b[1].shape for b in bottoms}) != 1:
            raise InvalidValueError(f"layer {name!r}: an Eltwise needs inputs of one shape", span)
        if coeffs and len(coeffs) != len(bottoms):
            raise InvalidValueError(
                f"layer {name!r}: {len(coeffs)} coeff values for {len(bottoms)} inputs "
                "(Caffe needs one per input, or none)",
                coeffs[0].value_span,
            )
        shape = bottoms[0][1].shape
        inputs = []
        factors = [_num(cf, "coeff", 1.0) for cf in coeffs] or [1.0] * len(bottoms)
        for i, (b, factor) in enumerate(zip(bottoms, factors, strict=True)):
            if factor == 1.0:
                inputs.append(b[1].id)
                continue
            where = coeffs[i].value_span
            if op in ("PROD", "0"):
                raise InvalidValueError(f"layer {name!r}: coeff applies to SUM only", where)
            if not math.isfinite(factor):
                raise InvalidValueError(f"layer {name!r}: coeff {factor}", where)
            scaled = self._new(name, span, "scale", (factor,), {}, (b[1].id,), False, shape)
            self._synthetic.add(scaled.id)
            inputs.append(scaled.id)
        kind = "add" if op in ("SUM", "1") else "multiply"
        layer = self._new(name, span, kind, (), {}, tuple(inputs), False, shape)
        return _Blob(layer.id, shape)

    def _l_dropout(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "dropout_param")
        ratio = _num(p.get("dropout_ratio"), "dropout_ratio", 0.5)
        if not 0 <= ratio < 1:
            raise InvalidValueError(f"dropout_ratio must be in [0, 1), got {ratio}", span)
        src = bottoms[0][1]
        layer = self._new(name, span, "dropout", (ratio,), {}, (src.id,), False, src.shape)
        return _Blob(layer.id, src.shape)

    def _l_innerproduct(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "inner_product_param")
        src = bottoms[0][1]
        if _int(p.get("axis"), "axis", 1, 1) != 1 or _bool(p.get("transpose"), False):
            raise UnsupportedModelError(
                f"layer {name!r}: an InnerProduct other than over axis 1", span
            )
        out = _int(p.get("num_output"), "num_output", 1)
        bias = _bool(p.get("bias_term"), True)
        x = src.id
        feats = 1
        for d in src.shape:
            feats *= d
        if len(src.shape) == 3:
            flat = self._new(name, span, "flatten", (), {}, (x,), False, (feats,))
            self._synthetic.add(flat.id)
            x = flat.id
        layer = self._new(name, span, "linear", (out,), {"bias": bias}, (x,), True, (out,))
        self._count(layer, feats * out + (out if bias else 0), 0, feats * out)
        return _Blob(layer.id, (out,))

    def _l_batchnorm(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        p = self._p(msg, "batch_norm_param")
        src = bottoms[0][1]
        c = self._spatial(src.shape, name, span)[0]
        eps = _num(p.get("eps"), "eps", 1e-5)
        maf = _num(p.get("moving_average_fraction"), "moving_average_fraction", 0.999)
        if not 0 <= maf < 1:
            raise InvalidValueError(f"moving_average_fraction must be in [0, 1), got {maf}", span)
        opts = {"eps": eps, "momentum": round(1 - maf, 12), "scale": False, "center": False}
        layer = self._new(name, span, "bn", (), opts, (src.id,), True, src.shape)
        self._count(layer, 0, 2 * c, 0)
        return _Blob(layer.id, src.shape)

    def _l_scale(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        src = bottoms[0][1]
        prev = self.s.layers.get(src.id)
        if prev is None or prev.kind != "bn" or prev.opts.get("scale") or not self._sole(src.id):
            raise UnsupportedModelError(
                f"layer {name!r}: a Scale that does not follow a BatchNorm (a per-channel affine "
                "map has no counterpart in the language)",
                span,
            )
        p = self._p(msg, "scale_param")
        bias = _bool(p.get("bias_term"), False)
        prev.opts["scale"] = True
        prev.opts["center"] = bias
        c = src.shape[0]
        self.s.params[prev.id] = c * (2 if bias else 1)
        prev.where = f"{prev.where} + {name}"
        return src

    def _l_flatten(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        src = bottoms[0][1]
        if len(src.shape) == 1:
            return src
        feats = src.shape[0] * src.shape[1] * src.shape[2]
        layer = self._new(name, span, "flatten", (), {}, (src.id,), False, (feats,))
        return _Blob(layer.id, (feats,))

    def _l_softmax(self, name: str, msg: Message, bottoms: list, span: Span) -> _Blob:
        self._softmax = (name, bottoms[0][1], span)
        return _Blob("softmax:" + name, bottoms[0][1].shape)

    _softmax: tuple[str, _Blob, Span] | None = None

    # ---- outputs, aux heads, names ----

    def _graph(self) -> LayerGraph:
        s = self.s
        layers = s.layers
        consumers: dict[str, list[str]] = {k: [] for k in layers}
        for layer in layers.values():
            for i in layer.inputs:
                if i.startswith("softmax:"):
                    raise UnsupportedModelError(
                        "a Softmax whose output is used further: the language has no softmax",
                        self._softmax[2] if self._softmax else None,
                    )
                consumers[i].append(layer.id)
        heads: list[tuple[float, str, str]] = []
        for weight, blob, name, span in s.losses:
            b = s.blobs[blob] if blob in s.blobs else None
            if b is None or b.id not in layers:
                raise UnsupportedModelError(f"the loss {name!r} reads no layer's output", span)
            heads.append((weight, b.id, name))
        if heads:
            main_w, main_out, main_name = max(heads, key=lambda h: h[0])
            aux = [h for h in heads if h[1] != main_out]
            s.notes.append(
                f"The output is what the loss {main_name!r} reads (loss_weight {main_w:g})."
            )
        else:
            ends = [lid for lid, users in consumers.items() if not users and lid != "input"]
            if self._softmax is not None and self._softmax[1].id in layers:
                ends = [self._softmax[1].id]
                s.notes.append(
                    f"The final Softmax {self._softmax[0]!r} is left out: the spec's "
                    "output is the logits it reads."
                )
            if len(ends) != 1:
                raise UnsupportedModelError(
                    f"the network has {len(ends)} outputs and no loss layer says which is the "
                    "main one",
                    None,
                )
            main_out, aux = ends[0], []

        # Reachability: the main path, then each aux head's own layers.
        def ancestors(lid: str) -> set[str]:
            seen, stack = set(), [lid]
            while stack:
                x = stack.pop()
                if x in seen:
                    continue
                seen.add(x)
                stack += list(layers[x].inputs)
            return seen

        main = ancestors(main_out)
        aux_heads: list[AuxHead] = []
        for k, (weight, out, lname) in enumerate(
            sorted(aux, key=lambda h: list(layers).index(h[1]))
        ):
            mine = ancestors(out) - main
            taps = {i for m in mine for i in layers[m].inputs if i in main}
            if len(taps) != 1:
                raise UnsupportedModelError(
                    f"the aux head of loss {lname!r} reads {len(taps)} tensors of the main network",
                    None,
                )
            prefixes = {self._names[m].split("/")[0] for m in mine if "/" in self._names[m]}
            name = identifier(prefixes.pop(), "aux") if len(prefixes) == 1 else f"aux{k + 1}"
            for m in mine:
                layers[m].aux = name
            aux_heads.append(AuxHead(name, taps.pop(), out, weight))
        keep = main | {m for m in layers if layers[m].aux}
        for lid in list(layers):
            if lid not in keep and lid != "input":
                del layers[lid]
        self._groups: set[str] = set()
        scopes = self._scopes(layers, aux_heads)
        assert s.input_shape is not None
        graph = LayerGraph(
            name=identifier(str(_scalar(self.net, "name", "net")).lower(), "net"),
            source=self.path,
            input_shape=s.input_shape,
            layers=layers,
            output=main_out,
            scopes=scopes,
            aux_heads=aux_heads,
            origin="caffe",
            group_scopes=self._groups,
        )
        inference = [lid for lid in main if lid in s.params]
        src = f"counted from {self.path}"
        graph.expects = [
            (
                "params",
                sum(v for k, v in s.params.items() if k in layers),
                f"{src} (aux heads included)",
            ),
            (
                "buffers",
                sum(v for k, v in s.buffers.items() if k in layers),
                f"{src}: BN mean + var",
            ),
            (
                "macs",
                sum(s.macs.get(k, 0) for k in inference),
                f"{src}: conv and linear, inference path",
            ),
        ]
        if aux_heads:
            graph.expects.insert(
                1,
                (
                    "aux_params",
                    sum(v for k, v in s.params.items() if k in layers and layers[k].aux),
                    f"{src}: the aux heads",
                ),
            )
        graph.header = [
            f"Imported from {self.path} (Caffe prototxt, {self.format} format) by `inceptdsl "
            "import caffe`. Caffe's pooling rounds up (ceil=true); its LRN alpha is per window "
            "like the language's; BatchNorm + Scale is one bn; ReLUs are merged into the conv "
            "before them.",
            *s.notes,
            "Layer names: `inception_3a/1x1` is unit conv_1x1 of inception_3a. The expect lines "
            "are counted from the prototxt itself.",
        ]
        return graph

    def _scopes(self, layers: dict[str, Layer], aux: list[AuxHead]) -> dict[str, Scope]:
        """Scopes from name prefixes (`inception_3a/...`) and residual units (caffe_blocks.py);
        paths and classes for the writer."""
        found = residual_scopes(layers, self._names)
        by_prefix: dict[str, list[str]] = {}
        for lid, layer in layers.items():
            if lid == "input":
                continue
            full = self._names[lid]
            pre = full.split("/")[0] if "/" in full else found[lid][0] if lid in found else ""
            if layer.aux and not pre:
                pre = layer.aux
            by_prefix.setdefault(pre, []).append(lid)
        scopes: dict[str, Scope] = {}
        taken: set[str] = set()
        aux_names = {h.name for h in aux}
        signatures: dict[str, tuple[str, tuple[str, ...]]] = {}
        for pre, ids in by_prefix.items():
            scope = identifier(pre, "s") if pre else ""
            named = [i for i in ids if i not in self._synthetic]
            single = pre and len(named) == 1 and scope not in aux_names
            for lid in ids:
                layer = layers[lid]
                full = self._names[lid]
                rest = full.split("/", 1)[1] if "/" in full else full
                if lid in found:
                    rest = found[lid][2] or layer.kind
                layer.scopes = () if not pre or single else (scope,)
                if lid in self._synthetic:
                    continue  # unlabelled: its name does not matter
                if not pre or single:
                    path = identifier(full, layer.kind)
                else:
                    path = scope + "." + identifier(rest, layer.kind)
                base = path
                n = 2
                while path in taken:
                    path = f"{base}_{n}"
                    n += 1
                taken.add(path)
                layer.path = path
            if pre and not single:
                cls = re.sub(r"_?\d+[a-z]?$", "", scope) or scope
                if ids[0] in found:
                    cls = found[ids[0]][1]
                if scope in aux_names:
                    cls = "AuxHead"
                kinds = tuple(f"{layers[i].kind}/{len(layers[i].inputs)}" for i in ids)
                signatures[scope] = (cls, kinds)
                scopes[scope] = Scope(scope, cls, where=f"{pre}/ ({len(ids)} layers)")
        # A prefix whose structure occurs once is a labelled group (`conv2: { ... }`); one that
        # repeats (inception_3a ... 5b) or an aux head becomes a block.
        counts: dict[tuple[str, tuple[str, ...]], int] = {}
        for sig in signatures.values():
            counts[sig] = counts.get(sig, 0) + 1
        for scope, sig in signatures.items():
            merges = any(k.startswith(("concat/", "add/")) for k in sig[1])
            if counts[sig] == 1 and not merges and scope not in aux_names:
                self._groups.add(scope)
        units = sorted({v[0] for v in found.values()}, key=list(scopes).index)
        if units:
            self.s.notes.append(
                f"{len(units)} residual units without a `/` prefix ({', '.join(units[:3])}"
                f"{', ...' if len(units) > 3 else ''}) are scopes found by structure: the "
                "Eltwise sum names the unit, its layers lose that prefix (`res2a_branch2a` is "
                "unit branch2a of res2a)."
            )
        return scopes


def _caffe_pool(size: int, k: int, s: int, p: int, ceil: bool, name: str, span: Span) -> int:
    """Caffe's pooled size, refused where torch's ceil mode would give another."""
    if not ceil:
        return (size + 2 * p - k) // s + 1
    out = -(-(size + 2 * p - k) // s) + 1
    caffe = out - 1 if p > 0 and (out - 1) * s >= size + p else out
    torch = out - 1 if (out - 1) * s >= size + p else out
    if caffe != torch:
        raise UnsupportedModelError(
            f"layer {name!r}: Caffe's pooled size here ({caffe}) has a last window that starts "
            "past the input, which the language's ceil mode drops",
            span,
        )
    return caffe
