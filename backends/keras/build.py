"""IR graph -> keras.Model in memory, by executing the source that emit.py writes.

Building and emitting share one code path (as in the torch backend), so the model `build()`
returns and the file `emit()` writes cannot drift apart. The source is safe to execute because
every spec-supplied name and number in it was checked by names.py and ops.num(); it is compiled
once per distinct text and registered as a module and in linecache (so tracebacks show the
generated lines). Executing it registers its layer classes with Keras again, under the same
names as runtime.py's, which is harmless: the classes are the same code.
"""

from __future__ import annotations

from typing import Any

import keras
import networkx as nx

from inceptdsl.ir import info

from ..common.loaded import load_source
from .emit import emit
from .names import OUTPUT_KEY
from .transfer import load_weights


def build(
    g: nx.DiGraph, weights_from: Any = None, training: bool = False, strict: bool = True
) -> keras.Model:
    """The network as a functional keras.Model (the training model, with the aux heads'
    outputs, when `training` and the graph has aux heads), freshly initialised or with the
    weights of `weights_from` (a Keras model, a torch module or a torch state_dict; strict
    unless `strict=False`, which reports what was not transferred in `model.not_transferred`).

    Every model carries the spec's loss weights: `model.aux_weights` (each aux head's) and
    `model.loss_weights` (each output's, 1.0 for "logits"), for
    `model.compile(loss=..., loss_weights=model.loss_weights)`.
    """
    module = load_source(emit(g), info(g).name, "keras")
    with_aux = training and bool(info(g).aux_heads)
    model = module.build(training=True) if with_aux else module.build()
    heads = info(g).aux_heads
    model.aux_weights = {h.name: float(h.weight) for h in heads}
    model.loss_weights = {OUTPUT_KEY: 1.0, **model.aux_weights} if with_aux else {OUTPUT_KEY: 1.0}
    if weights_from is not None:
        model.not_transferred = load_weights(g, model, weights_from, strict)
    return model
