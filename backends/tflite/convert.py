"""IR graph -> TFLite flatbuffer, through the Keras backend's model and TensorFlow's converter;
int8 as TFLite's full-integer quantization (every op int8, per-channel weights) calibrated on
the user's inputs, with float32 input and output so the file replaces the fp32 one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np

from ..keras.build import build as build_keras
from ..onnx.weights import load
from .quiet import native_stderr_hidden, tensorflow


def to_tflite(
    graph: nx.DiGraph,
    weights: Any = None,
    int8: bool = False,
    samples: list[np.ndarray] | None = None,
) -> bytes:
    """The .tflite bytes of `graph`'s inference model with `weights` (as the ONNX backend reads
    them: a state_dict, a .pt/.npz/.safetensors file, a torch model; or its seeded initial
    values, so the same graph always gives the same file)."""
    tf = tensorflow()
    model = build_keras(graph, load(graph, weights))
    # the tensors are named `inceptdsl_NETWORK/...`, which marks the file as inceptdsl's
    # (output_origin: replaced without --force)
    model.name = f"inceptdsl_{model.name}"
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        nhwc = [np.ascontiguousarray(s.transpose(0, 2, 3, 1)) for s in samples or []]

        def representative() -> Iterator[list[np.ndarray]]:
            for x in nhwc:
                yield [x]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    # the converter saves the model first and prints its signature and every captured variable
    # to stdout (hundreds of lines), its MLIR passes to stderr: not for inceptdsl's users
    with native_stderr_hidden():
        return bytes(converter.convert())
