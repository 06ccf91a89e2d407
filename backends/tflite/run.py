"""Running a .tflite file on NCHW inputs: the tests, the int8 report and bench/bench_deploy.py
run the backend's files the same way."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .quiet import tensorflow


def interpreter(
    data: bytes, threads: int | None = None, xnnpack: bool = False, all_tensors: bool = False
) -> Any:
    """A tf.lite.Interpreter of `data`, tensors allocated. TFLite's built-in kernels unless
    `xnnpack` (its default delegate); `all_tensors` keeps every intermediate readable."""
    tf = tensorflow()
    kernels = tf.lite.experimental.OpResolverType
    with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": it is what TF has
        warnings.filterwarnings("ignore", "\\s*Warning: tf.lite.Interpreter is deprecated")
        it = tf.lite.Interpreter(
            model_content=data,
            num_threads=threads,
            experimental_op_resolver_type=(
                kernels.AUTO if xnnpack else kernels.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            ),
            experimental_preserve_all_tensors=all_tensors,
        )
    it.allocate_tensors()
    return it


def each_sample(it: Any, x: np.ndarray, after: Callable[[], None] | None = None) -> np.ndarray:
    """The model's output on `x` (N, C, H, W), one sample at a time (the file's input is
    (1, H, W, C)); `after` runs after each sample's invoke (to read intermediates)."""
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    rows = []
    for sample in x.transpose(0, 2, 3, 1):
        it.set_tensor(inp["index"], np.ascontiguousarray(sample[None], dtype=np.float32))
        it.invoke()
        rows.append(np.array(it.get_tensor(out["index"])[0]))
        if after is not None:
            after()
    return np.stack(rows)


def runner(
    data: bytes, threads: int | None = None, xnnpack: bool = False
) -> Callable[[np.ndarray], np.ndarray]:
    """x (N, C, H, W) -> the model's output, on one interpreter."""
    it = interpreter(data, threads, xnnpack)
    return lambda x: each_sample(it, x)
