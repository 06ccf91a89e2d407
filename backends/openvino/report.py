"""Per-layer error of NNCF's int8 OpenVINO model against the fp32 one (`compile --int8`'s
report, backends/common/quant_report.py).

Both models are read from the optimized ONNX model, whose tensors are named by their IR node's
path (docs/onnx.md), and OpenVINO keeps those tensor names; NNCF only inserts FakeQuantize ops.
So each IR node's tensor is found by name in both models and added as an output of a copy of
each; in the int8 model it is read after the FakeQuantize that follows it, if one does (as the
next layer reads it, like the ONNX report's DequantizeLinear outputs). Both run on the CPU
plugin in f32 inference precision, the int8 one with its quantized kernels.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from inceptdsl.ir import info

from ..common.quant_report import ErrorAccumulator, QuantReport

REPORT_BATCH = 32
"""Calibration samples per run when measuring the per-layer error."""


def layer_ports(graph: nx.DiGraph, model: Any, after_fake_quantize: bool) -> dict[str, tuple]:
    """IR node -> (friendly name of the op, output index) holding its tensor in `model`; the
    graph's output node is the model's output and is left out."""
    out: dict[str, tuple] = {}
    nodes = set(graph.nodes) - {info(graph).output}
    for op in model.get_ordered_ops():
        if op.get_type_name() == "Result":
            continue
        for port in op.outputs():
            names = port.get_names() & nodes
            if not names:
                continue
            where = (op.get_friendly_name(), port.get_index())
            if after_fake_quantize:
                users = [t.get_node() for t in port.get_target_inputs()]
                fq = [u for u in users if u.get_type_name() == "FakeQuantize"]
                if fq:
                    where = (fq[0].get_friendly_name(), 0)
            out[min(names)] = where
    return out


def _runner(model: Any, ports: dict[str, tuple]) -> Any:
    """x -> {node: tensor} for `ports` and the graph's output (key None), from a copy of
    `model` with those tensors as extra outputs, compiled for the CPU in f32 precision."""
    import openvino as ov

    m = model.clone()
    ops = {op.get_friendly_name(): op for op in m.get_ordered_ops()}
    keys = list(ports)
    m.add_outputs([ops[ports[k][0]].output(ports[k][1]) for k in keys])
    compiled = ov.Core().compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    assert len(compiled.outputs) == 1 + len(keys)

    def run(x: np.ndarray) -> dict[str | None, np.ndarray]:
        res = compiled(x)
        values = [np.asarray(res[o]) for o in compiled.outputs]
        return dict(zip([None, *keys], values, strict=True))

    return run


def report(fp32: Any, int8: Any, graph: nx.DiGraph, samples: list[np.ndarray]) -> QuantReport:
    """The error of each IR node's tensor in `int8` against `fp32` on `samples` ((1, C, H, W)
    arrays); sizes are the caller's (IR bytes, convert.ir_bytes), given as 0 here."""
    a = layer_ports(graph, fp32, after_fake_quantize=False)
    b = layer_ports(graph, int8, after_fake_quantize=True)
    common = {n: a[n] for n in a if n in b}
    ref, got = _runner(fp32, common), _runner(int8, {n: b[n] for n in common})
    output = info(graph).output
    acc = ErrorAccumulator()
    x = np.concatenate(samples) if samples else np.zeros((0, *info(graph).input_shape))
    for i in range(0, len(x), REPORT_BATCH):
        batch = np.ascontiguousarray(x[i : i + REPORT_BATCH], dtype=np.float32)
        ya, yb = ref(batch), got(batch)
        acc.add(
            {output if k is None else k: v for k, v in ya.items()},
            {output if k is None else k: v for k, v in yb.items()},
        )
    return QuantReport("openvino", 0, 0, layers=acc.ranked(), samples=len(x))
