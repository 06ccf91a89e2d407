"""The op registry: every IR op defined once, with everything the core needs to know about it.

An `OpDef` holds an op's attribute model, arity, shape function, cost function and the
language surface that spells it (`LayerDef`s for layer keywords such as `conv`, or a merge
keyword such as `concat { }`). The definitions live in `inceptdsl/ir/ops/`, one module per
family of ops, each calling `register()`; everything else is derived from the registry
(the evaluator's vocabulary, the layer table of lowering and the formatter, the activation
list) or checked against it by tests (docs/ir.md's op table, each backend's rule table, the
per-op test specs): see docs/contributing.md, "Adding an op".

Activations are one op (`act`, also the `act=` option of conv-like layers) with a registry of
their own (`ActDef`): a name, its parameters with defaults, and its formula for the docs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from ..front.source import Span
from .state import TensorFn

Shape = tuple[int, ...]
Cost = tuple[int, int, int]  # (params, buffers, macs)
Pair = tuple[int, int]
# (top, bottom, left, right): the zero (or, for max pooling, -inf) rows/columns added on each
# side. TF `same` padding is resolved to this form, putting the odd extra pixel bottom/right.
Pads = tuple[int, int, int, int]


class Op(StrEnum):
    """Every IR op kind, by name. Each member has exactly one `OpDef` (a test checks it); the
    backends' rule tables are keyed by this enum."""

    INPUT = "input"
    CONV2D = "conv2d"
    SEPCONV2D = "sepconv2d"
    BATCHNORM = "batchnorm"
    ACT = "act"
    MAXPOOL2D = "maxpool2d"
    AVGPOOL2D = "avgpool2d"
    GLOBAL_AVGPOOL = "global_avgpool"
    GLOBAL_MAXPOOL = "global_maxpool"
    ADAPTIVE_AVGPOOL2D = "adaptive_avgpool2d"
    LRN = "lrn"
    DROPOUT = "dropout"
    FLATTEN = "flatten"
    LINEAR = "linear"
    CONCAT = "concat"
    ADD = "add"
    SCALE = "scale"
    IDENTITY = "identity"
    MULTIPLY = "multiply"
    CHANNEL_SLICE = "channel_slice"
    CHANNEL_SHUFFLE = "channel_shuffle"
    ZEROPAD2D = "zeropad2d"
    LAYERNORM = "layernorm"
    GROUPNORM = "groupnorm"
    LAYER_SCALE = "layer_scale"
    DROP_PATH = "drop_path"


class Attrs(BaseModel):
    """Base of every op's attributes: immutable and closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def quiet(default: Any) -> Any:
    """An attribute field added to an existing op (`linear`'s `per_position`): the IR text
    (ir/printer.py) shows it only where it is not `default`, so the IR of networks that do not
    use it is unchanged."""
    return Field(default, json_schema_extra={"quiet": True})


def is_quiet(f: FieldInfo) -> bool:
    extra = f.json_schema_extra
    return isinstance(extra, dict) and extra.get("quiet") is True


@dataclass(frozen=True)
class ShapeCtx:
    """Where a node comes from, for located shape errors: the node's span and, for ops with
    several inputs, the span of each input's branch (so a concat error points at the branch)."""

    span: Span | None = None
    input_spans: tuple[Span | None, ...] = ()

    def input_span(self, i: int) -> Span | None:
        return self.input_spans[i] if i < len(self.input_spans) else self.span


ShapeFn = Callable[[Any, list[Shape], ShapeCtx], Shape]
CostFn = Callable[[Any, list[Shape], Shape], Cost]


@dataclass(frozen=True)
class BuildCtx:
    """What a layer's builder sees besides its checked option values: the input shape, the
    `defaults` in scope for option records (`defaults bn(eps=...)` fills `bn=true`), the span."""

    in_shape: Shape
    defaults: Mapping[str, Mapping[str, Any]]
    span: Span


Check = Callable[[Any, Span, str], Any]
"""An option checker: (value, span, what) -> the normalised value, or a coded SpecError."""

REQUIRED: Any = object()
"""The default of an option that must be given (positionally or by name)."""


@dataclass(frozen=True)
class LayerDef:
    """One layer keyword of the language: positional arguments (in order), options with their
    defaults (REQUIRED: must be given) and checkers, and the builder of the op's attributes."""

    name: str
    positional: tuple[str, ...]
    options: Mapping[str, Any]
    checks: Mapping[str, Check]
    build: Callable[[Mapping[str, Any], BuildCtx], Attrs]
    doc: str
    op: Op | None = None  # filled in by register()
    notes: str = ""  # docs/language.md's words after the options (generated from this)


@dataclass(frozen=True)
class MergeDef:
    """A merge keyword (`concat { }`, `add { }`): one branch per statement, merged by the op.
    `options` are the structure's options with their checkers (e.g. concat's `split=`)."""

    keyword: str
    doc: str
    options: Mapping[str, Check] = field(default_factory=dict)


class Trait(Enum):
    """What an op's output is, declared once in its OpDef; the memory model, the optimizer and
    the torch backend derive their op sets from these (`with_trait`)."""

    ALIAS = "alias"
    """In inference the output is the input's storage (a view, or the same tensor): it
    allocates nothing (memory.py)."""
    EVAL_IDENTITY = "eval_identity"
    """In eval the op returns its input unchanged: the optimizer removes it (dead_code.py).
    Implies ALIAS."""
    FRESH = "fresh"
    """The output is a new tensor that only its readers hold, so an activation reading it last
    may work in place (the torch backend's `inplace=True`). Excludes ALIAS."""


@dataclass(frozen=True)
class OpDef:
    """Everything the core knows about one op. `arity` is the number of inputs, or None for
    any number >= 1 (merges). `state` says in words what a backend creates at the node's path
    (the docs/ir.md column) and `tensors` lists it, tensor by tensor (ir/state.py); `traits`
    say what its output is; `layers` and `merge` are the surfaces that produce the op (none:
    made by a statement, like `input`). docs/ir.md's op table is generated from these fields
    (`output` is its output-shape column) and docs/language.md's layer table from `layers`."""

    op: Op
    attrs: type[Attrs]
    arity: int | None
    shape: ShapeFn
    cost: CostFn
    summary: str
    state: str = "none"
    output: str = "same"  # the output shape, in words (docs/ir.md)
    layers: tuple[LayerDef, ...] = ()
    merge: MergeDef | None = None
    traits: frozenset[Trait] = frozenset()
    tensors: TensorFn | None = None  # its state (inceptdsl/ir/state.py); None: it has none


@dataclass(frozen=True)
class ActDef:
    """One activation function: `params` are its parameters with their defaults (a record such
    as `leaky_relu(slope=0.2)` sets them; the bare name uses the defaults); `formula` is the
    definition every backend must compute (tests check each backend against a NumPy oracle)."""

    name: str
    formula: str
    params: Mapping[str, float] = field(default_factory=dict)


REGISTRY: dict[Op, OpDef] = {}
"""Every op's definition, filled by the modules of inceptdsl/ir/ops/ as they are imported."""

ACTIVATION_DEFS: dict[str, ActDef] = {}
"""Every activation function, by name (filled by inceptdsl/ir/ops/activation.py)."""


def register(d: OpDef) -> OpDef:
    """Add `d` to the registry; its layer surfaces learn their op."""
    if d.op in REGISTRY:
        raise ValueError(f"op {d.op.value!r} is registered twice")
    layers = tuple(
        layer if layer.op is d.op else LayerDef(**{**layer.__dict__, "op": d.op})
        for layer in d.layers
    )
    d = OpDef(**{**d.__dict__, "layers": layers})
    REGISTRY[d.op] = d
    return d


def with_trait(trait: Trait, registry: Mapping[Op, OpDef] | None = None) -> frozenset[Op]:
    """The ops that declare `trait` (in `registry`, REGISTRY by default)."""
    reg = REGISTRY if registry is None else registry
    return frozenset(op for op, d in reg.items() if trait in d.traits)


def register_activation(a: ActDef) -> ActDef:
    if a.name in ACTIVATION_DEFS:
        raise ValueError(f"activation {a.name!r} is registered twice")
    ACTIVATION_DEFS[a.name] = a
    return a
