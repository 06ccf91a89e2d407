"""IR graph -> onnx.ModelProto: the inference graph (eval mode, aux heads excluded).

Input `input` is `[batch, C, H, W]` float32 with a symbolic batch dimension; output `output`.
Each IR node's result is the tensor named by its path (`Mixed_5b.branch1x1`), with the IR's
shape as value_info; onnx.shape_inference (strict) fills in the tensors inside a node and checks
that ONNX's shapes agree with the IR's. The model carries its provenance: producer inceptdsl,
metadata_props `inceptdsl.*` (network, parameters, params, buffers, MACs, version) and a
doc_string.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx
import onnx
from onnx import TensorProto, helper

import inceptdsl
from inceptdsl.backend import rule
from inceptdsl.ir import Op, info, nodes, shape_of
from inceptdsl.report import build_report

from . import weights as W
from .emitter import Emitter
from .rules import OP_TABLE

OPSET = 21  # Gelu (20) and per-channel GroupNormalization (21); onnxruntime runs it
IR_VERSION = 10  # the lowest IR version of opset 21, so older runtimes load the file


def _value(name: str, shape: tuple[int, ...]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape])


def _metadata(g: nx.DiGraph) -> dict[str, str]:
    rep = build_report(g)
    params = {k: v for k, v in info(g).params.items()}
    return {
        "inceptdsl.network": info(g).name,
        "inceptdsl.parameters": json.dumps(params, sort_keys=True, default=str),
        # what this file holds: the report's figures less the aux heads'
        "inceptdsl.params": str(rep.params - rep.aux_params),
        "inceptdsl.buffers": str(rep.buffers - rep.aux_buffers),
        "inceptdsl.macs": str(rep.macs),  # inference MACs, one sample (aux heads excluded)
        "inceptdsl.version": inceptdsl.__version__,
    }


def _doc(g: nx.DiGraph, meta: dict[str, str]) -> str:
    c, h, w = info(g).input_shape
    return (
        f"{info(g).name}, compiled by inceptdsl {inceptdsl.__version__} from its spec: the "
        f"inference graph (eval mode; dropout and drop_path are the identity; aux heads are "
        f"not exported). Input `input`: float32 [batch, {c}, {h}, {w}], NCHW. "
        f"{meta['inceptdsl.params']} trainable parameters, {meta['inceptdsl.macs']} MACs per "
        f"sample (FLOPs = 2 x MACs). Node names are the spec's block paths; initialisers are "
        f"named by the torch backend's state_dict keys."
    )


def _placeholder(t: TensorProto) -> TensorProto:
    """`t` without its data, pointing at absent external data: shape inference needs only the
    shapes of large initialisers (and a model over protobuf's 2 GB cannot be serialised)."""
    if len(t.raw_data) <= 1024:
        return t
    out = TensorProto(name=t.name, dims=t.dims, data_type=t.data_type)
    for key, value in (("location", "absent"), ("offset", "0"), ("length", str(len(t.raw_data)))):
        out.external_data.add(key=key, value=value)
    out.data_location = TensorProto.EXTERNAL
    return out


def _model(
    g: nx.DiGraph, e: Emitter, initializers: list[TensorProto], values: Any, meta: dict[str, str]
) -> Any:
    out = info(g).output
    graph = helper.make_graph(
        e.nodes,
        info(g).name,
        [_value("input", tuple(info(g).input_shape))],
        [_value("output", tuple(shape_of(g, out)))],
        initializers,
        value_info=values,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="inceptdsl",
        producer_version=inceptdsl.__version__,
        doc_string=_doc(g, meta),
        ir_version=IR_VERSION,
    )
    helper.set_model_props(model, meta)
    return model


def to_onnx(g: nx.DiGraph, weights: Any = None) -> onnx.ModelProto:
    """The inference graph of `g` with `weights` (see weights.load), or seeded initial ones."""
    e = Emitter(g, W.load(g, weights))
    out = info(g).output
    needed = nx.ancestors(g, out) | {out}
    tensor: dict[str, str] = {}
    shapes: list[onnx.ValueInfoProto] = []
    for n in nodes(g):
        if n.name not in needed:  # aux heads
            continue
        if n.op is Op.INPUT:
            tensor[n.name] = "input"
            continue
        before = len(e.nodes)
        got = rule("onnx", OP_TABLE, n.op, n.span)(n, [tensor[i] for i in n.inputs], e)
        if len(e.nodes) > before:  # the IR node's result is named by its path
            last = e.nodes[-1]
            assert list(last.output) == [got], (n.name, got)
            if n.name == out:
                got = "output"
            elif not e.has_tensor(n.name):  # (a layer scale's gamma is named `n.name` too)
                got = n.name
            last.output[0] = got
            if got != "output":
                shapes.append(_value(got, n.shape))
        tensor[n.name] = got
    if tensor[out] != "output":  # the output is an alias (a final dropout): name it
        e.nodes.append(
            helper.make_node("Identity", [tensor[out]], ["output"], name=f"{out}/Identity")
        )
    # strict shape inference fills in every other tensor and checks the IR's shapes
    meta = _metadata(g)
    skeleton = _model(g, e, [_placeholder(t) for t in e.initializers], shapes, meta)
    inferred = onnx.shape_inference.infer_shapes(
        skeleton, check_type=True, strict_mode=True, data_prop=True
    )
    model: onnx.ModelProto = _model(g, e, e.initializers, inferred.graph.value_info, meta)
    return model
