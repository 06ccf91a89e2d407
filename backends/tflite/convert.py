"""IR graph -> TFLite flatbuffer, through the Keras backend's model and TensorFlow's converter;
int8 as TFLite's full-integer quantization (every op int8, per-channel weights) calibrated on
the user's inputs, with float32 input and output so the file replaces the fp32 one."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np

from ..keras.build import build as build_keras
from ..onnx.weights import load


def to_tflite(
    graph: nx.DiGraph,
    weights: Any = None,
    int8: bool = False,
    samples: list[np.ndarray] | None = None,
) -> bytes:
    """The .tflite bytes of `graph`'s inference model with `weights` (as the ONNX backend reads
    them: a state_dict, a .pt/.npz/.safetensors file, a torch model; or its seeded initial
    values, so the same graph always gives the same file)."""
    import tensorflow as tf

    model = build_keras(graph, load(graph, weights))
    # the tensors are named `inceptdsl_NETWORK/...`, which marks the file as inceptdsl's
    # (output_origin: replaced without --force)
    model.name = f"inceptdsl_{model.name}"
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        _refuse_padded_max_pools(graph, model)
        nhwc = [np.ascontiguousarray(s.transpose(0, 2, 3, 1)) for s in samples or []]

        def representative() -> Iterator[list[np.ndarray]]:
            for x in nhwc:
                yield [x]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    # the converter saves the model first and prints its signature and every captured variable
    # to stdout (hundreds of lines): not for inceptdsl's users
    with contextlib.redirect_stdout(io.StringIO()):
        return bytes(converter.convert())


def _refuse_padded_max_pools(graph: nx.DiGraph, model: Any) -> None:
    """A max pool padded as torch pads it (which Keras' `same` cannot express) pads with -inf
    (backends/keras/runtime.py): TFLite's calibration then sees -inf, and the int8 model
    computes nothing useful (measured: 10% on digits, chance). Refused, located, until the
    padding is written in a quantizable form."""
    from inceptdsl.backend import unsupported
    from inceptdsl.ir.graph import node

    from ..keras.runtime import PaddedMaxPooling2D

    for layer in model.layers:  # the class is a copy in the emitted source: known by name
        if type(layer).__name__ == PaddedMaxPooling2D.__name__ and layer.name in graph:
            raise unsupported(
                "tflite",
                f"int8 with max pool `{layer.name}`, padded as torch pads it",
                node(graph, layer.name).span,
                hint="its -inf padding breaks TFLite's calibration: quantize with --backend "
                "onnx or openvino, or use padding Keras' `same` expresses (docs/deploy.md)",
            )
