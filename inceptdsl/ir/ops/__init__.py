"""The IR's operations: every op's definition (inceptdsl/ir/registry.py's `OpDef`), one module
per family, and the tables derived from them.

This package is the vocabulary shared by the core (lowering, shapes, cost, reports) and the
backends. Every attribute is fully resolved: no expressions, no defaults left to a backend, no
framework conventions (padding is explicit per side even when the spec said `same`; BN momentum
is in torch's convention). docs/ir.md documents the same contract in prose.
"""

from __future__ import annotations

from ..registry import (
    ACTIVATION_DEFS,
    REGISTRY,
    ActDef,
    Attrs,
    LayerDef,
    MergeDef,
    Op,
    OpDef,
    Pads,
    Pair,
    Trait,
    with_trait,
)
from .activation import ACTIVATIONS, ActAttrs, Activation, activation
from .basic import (
    DropoutAttrs,
    DropPathAttrs,
    FlattenAttrs,
    IdentityAttrs,
    InputAttrs,
    LayerScaleAttrs,
    LinearAttrs,
    ScaleAttrs,
)
from .conv import INITS, ConvAttrs, Init, SepConvAttrs
from .merge import AddAttrs, ConcatAttrs, MultiplyAttrs
from .norm import BatchNormAttrs, GroupNormAttrs, LayerNormAttrs, LRNAttrs
from .pool import AdaptivePoolAttrs, GlobalPoolAttrs, PoolAttrs
from .tensor import ChannelShuffleAttrs, ChannelSliceAttrs, ZeroPadAttrs

ATTRS: dict[Op, type[Attrs]] = {op: d.attrs for op, d in REGISTRY.items()}
"""The attribute model of each op."""

VARIADIC: frozenset[Op] = frozenset(op for op, d in REGISTRY.items() if d.arity is None)
"""Ops that take any number (>= 1) of inputs."""

LAYERS: dict[str, LayerDef] = {layer.name: layer for d in REGISTRY.values() for layer in d.layers}
"""Every layer keyword of the language, with its surface (positional arguments, options)."""

MERGES: dict[str, OpDef] = {d.merge.keyword: d for d in REGISTRY.values() if d.merge}
"""Every merge keyword (`concat`, `add`, ...) and the op it makes."""

ALIASES: frozenset[Op] = with_trait(Trait.ALIAS)
"""Ops whose output is a view of (or the same tensor as) their input in inference."""

EVAL_IDENTITY: frozenset[Op] = with_trait(Trait.EVAL_IDENTITY)
"""Ops that return their input unchanged in eval (the optimizer removes them)."""

FRESH: frozenset[Op] = with_trait(Trait.FRESH)
"""Ops whose output is a new tensor only its readers hold (an activation may overwrite it)."""

__all__ = [
    "ALIASES",
    "EVAL_IDENTITY",
    "FRESH",
    "Trait",
    "with_trait",
    "INITS",
    "Init",
    "ACTIVATIONS",
    "ACTIVATION_DEFS",
    "ATTRS",
    "LAYERS",
    "MERGES",
    "REGISTRY",
    "VARIADIC",
    "ActAttrs",
    "ActDef",
    "Activation",
    "AdaptivePoolAttrs",
    "AddAttrs",
    "Attrs",
    "BatchNormAttrs",
    "ChannelShuffleAttrs",
    "ChannelSliceAttrs",
    "ConcatAttrs",
    "ConvAttrs",
    "DropPathAttrs",
    "DropoutAttrs",
    "FlattenAttrs",
    "GlobalPoolAttrs",
    "GroupNormAttrs",
    "IdentityAttrs",
    "InputAttrs",
    "LRNAttrs",
    "LayerDef",
    "LayerNormAttrs",
    "LayerScaleAttrs",
    "LinearAttrs",
    "MergeDef",
    "MultiplyAttrs",
    "Op",
    "OpDef",
    "Pads",
    "Pair",
    "PoolAttrs",
    "ScaleAttrs",
    "SepConvAttrs",
    "ZeroPadAttrs",
    "activation",
]
