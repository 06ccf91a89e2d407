"""Per-layer error of a full-integer .tflite file against the fp32 one (`compile --int8`'s
report, backends/common/quant_report.py).

Both files come from the same Keras model, so the converter names their tensors alike: an op's
output is named by the Keras layers fused into it (`inceptdsl_NET_1/conv1.act_1/Relu;
inceptdsl_NET_1/conv1.conv_1/convolution`), and a Keras layer is an IR node or one of its parts
(`conv1.conv`, `.bn`, `.act`, `.pad`). An IR node's tensor is the last op output, in execution
order, that names it; the model's output tensor is the graph's output node. Interpreters that
keep every intermediate (`experimental_preserve_all_tensors`) give both files' tensors after
each sample; the int8 ones are dequantized with their own scale and zero point, which is how
the next op reads them.
"""

from __future__ import annotations

import re
from typing import Any

import networkx as nx
import numpy as np

from inceptdsl.ir import info

from ..common.quant_report import ErrorAccumulator, QuantReport
from .run import each_sample, interpreter

_PART = re.compile(r"^inceptdsl_[^/]*/([^/]+)/")
_SUFFIXES = (".conv", ".bn", ".act", ".pad")


def _node(graph: nx.DiGraph, tensor_name: str) -> str | None:
    """The IR node a tensor's first fused name belongs to, or None."""
    m = _PART.match(tensor_name.split(";")[0])
    if m is None:
        return None
    layer = m.group(1)
    for name in (re.sub(r"_\d+$", "", layer), layer):  # Keras' call suffix, `conv1.act_1`
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        if name in graph:
            return name
    return None


def layer_tensors(graph: nx.DiGraph, it: Any) -> dict[str, int]:
    """IR node -> the index of its output tensor in interpreter `it`."""
    out: dict[str, int] = {}
    names = {t["index"]: t["name"] for t in it.get_tensor_details()}
    for op in it._get_ops_details():  # noqa: SLF001 (the only listing of ops, in order)
        for index in op["outputs"]:
            node = _node(graph, names.get(int(index), ""))
            if node is not None:
                out[node] = int(index)
    out[info(graph).output] = it.get_output_details()[0]["index"]
    return out


def _reader(it: Any) -> Any:
    """index -> tensor as float: int8 tensors dequantized by their (per-tensor) parameters."""
    params = {t["index"]: t["quantization"] for t in it.get_tensor_details()}

    def read(index: int) -> np.ndarray:
        value = it.get_tensor(index)
        if value.dtype in (np.int8, np.uint8, np.int16):
            scale, zero = params[index]
            return (value.astype(np.float64) - zero) * scale
        return value.astype(np.float64)

    return read


def report(graph: nx.DiGraph, fp32: bytes, int8: bytes, samples: list[np.ndarray]) -> QuantReport:
    """Sizes of the two files and the error of each IR node's tensor in `int8` against `fp32`
    on `samples` ((1, C, H, W) arrays, as the calibration takes them)."""
    ref, got = interpreter(fp32, all_tensors=True), interpreter(int8, all_tensors=True)
    a, b = layer_tensors(graph, ref), layer_tensors(graph, got)
    common = [n for n in a if n in b]
    read_ref, read_got = _reader(ref), _reader(got)
    acc = ErrorAccumulator()
    x = np.concatenate(samples) if samples else np.zeros((0, *info(graph).input_shape))
    for sample in x:
        each_sample(ref, sample[None])
        each_sample(got, sample[None])
        acc.add({n: read_ref(a[n]) for n in common}, {n: read_got(b[n]) for n in common})
    return QuantReport(
        target="tflite",
        fp32_bytes=len(fp32),
        int8_bytes=len(int8),
        layers=acc.ranked(),
        samples=len(x),
    )
