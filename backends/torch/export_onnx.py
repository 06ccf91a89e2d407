"""ONNX output: the torch model of an IR graph, exported with torch.onnx (backend `onnx`).

ONNX goes through torch rather than a second IR walker, so it inherits the torch backend's
semantics (asymmetric padding, partial batch norm, ceil-mode pooling) and its fidelity tests.
The exporter is torch's TorchScript-based one (`dynamo=False`): the newer exporter needs the
`onnxscript` package, which the project does not depend on. The model is exported in eval mode
(aux heads are training-only) with a dynamic batch dimension. `emit` initialises the weights
from a fixed seed, so the same graph always gives the same bytes.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import networkx as nx
import torch
from torch import nn

from inceptdsl.errors import UsageError

from .build import build

OPSET = 17


def _annotate(data: bytes, graph: nx.DiGraph) -> bytes:
    """What Netron shows beside the graph: a shape for every intermediate tensor (value_info,
    by ONNX shape inference) and the spec's metadata (name, parameters, counts, version)."""
    import json

    import onnx

    import inceptdsl

    proto = onnx.shape_inference.infer_shapes(onnx.load_from_string(data), strict_mode=True)
    nodes = [d for _, d in graph.nodes(data=True) if d["aux"] is None]
    params = json.dumps(graph.graph.get("params") or {}, sort_keys=True, default=str)
    meta = {
        "inceptdsl.network": graph.graph["name"],
        "inceptdsl.params": params,
        "inceptdsl.parameters": str(sum(d["params"] for d in nodes)),
        "inceptdsl.macs": str(sum(d["macs"] for d in nodes)),
        "inceptdsl.version": inceptdsl.__version__,
    }
    del proto.metadata_props[:]
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = f"{graph.graph['name']}, compiled by inceptdsl {inceptdsl.__version__}"
    return proto.SerializeToString()


def export(model: nn.Module, graph: nx.DiGraph) -> bytes:
    """`model` (built from `graph`) as .onnx bytes: input `input`, output `output`; node names
    carry the module path (`/inception4a/branch2/...`), every tensor has its shape."""
    model = model.eval()
    example = torch.zeros(1, *graph.graph["input_shape"])
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)  # slices of F.pad
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # LRN's empty-input check
        torch.onnx.export(
            model,
            (example,),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter takes a file object
            dynamo=False,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            opset_version=OPSET,
        )
    return _annotate(buffer.getvalue(), graph)


def _weights(weights: Any) -> Any:
    """A module, a state_dict, or the path of a saved state_dict (`--weights model.pt`)."""
    if not isinstance(weights, str | bytes) and not hasattr(weights, "__fspath__"):
        return weights
    try:
        return torch.load(weights, map_location="cpu", weights_only=True)  # no code runs
    except (OSError, RuntimeError, ValueError) as exc:
        raise UsageError(f"cannot read weights from {weights}: {exc}") from None


class OnnxBackend:
    """`build` returns an onnx.ModelProto; `emit` the bytes of a .onnx file."""

    name = "onnx"
    suffix = ".onnx"

    def build(self, graph: nx.DiGraph, weights_from: Any = None) -> Any:
        import onnx

        return onnx.load_from_string(export(build(graph, weights_from), graph))

    def emit(self, graph: nx.DiGraph, weights: Any = None) -> bytes:
        """The .onnx bytes; with `weights` (a torch module, a state_dict or the path of one
        saved with torch.save) those weights, else a fixed-seed initialisation."""
        if weights is not None:
            return export(build(graph, _weights(weights)), graph)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = build(graph)
        return export(model, graph)
