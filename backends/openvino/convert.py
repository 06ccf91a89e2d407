"""IR graph -> OpenVINO model, through the optimized ONNX model and OpenVINO's ONNX reader;
int8 through NNCF's post-training quantization; IR files (.xml + .bin) written atomically."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np

from inceptdsl.errors import UsageError
from inceptdsl.ir import info
from inceptdsl.output import claim, is_regular_target, write_output

from ..onnx.optimized import build_optimized
from .quiet import no_cuda_warning


def to_openvino(graph: nx.DiGraph, weights: Any = None) -> Any:
    """The fp32 openvino.Model of `graph`'s optimized inference graph with `weights`."""
    import openvino as ov

    proto = build_optimized(graph, weights)
    model = ov.Core().read_model(model=proto.SerializeToString(deterministic=True))
    # the name marks the .xml as inceptdsl's (output_origin: replaced without --force)
    model.set_friendly_name(f"{info(graph).name} (inceptdsl)")
    return model


def quantize(model: Any, samples: list[np.ndarray], keep_fp32: Iterable[str] = ()) -> Any:
    """`model` quantized to int8 by NNCF (symmetric, per-channel weights), calibrated on
    `samples`; the ops under the block paths `keep_fp32` stay in float."""
    import nncf

    paths = list(keep_fp32)
    names = [op.get_friendly_name() for op in model.get_ops()]
    patterns = []
    for p in paths:
        pattern = "^" + re.escape(p) + r"[./]"
        if not any(re.match(pattern, n) for n in names):
            raise UsageError(
                f"--keep-fp32 {p}: no layer of the exported model is at that path",
                hint="name a block or layer path as the report prints it (e.g. conv1, fc)",
            )
        patterns.append(pattern)
    scope = nncf.IgnoredScope(patterns=patterns) if patterns else None
    with no_cuda_warning():
        return nncf.quantize(
            model,
            nncf.Dataset(samples),
            subset_size=len(samples),
            ignored_scope=scope,
        )


def ir_bytes(model: Any) -> int:
    """Bytes of `model` as OpenVINO IR (.xml + .bin)."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="inceptdsl-ov-") as tmp:
        xml = os.path.join(tmp, "model.xml")
        ov.save_model(model, xml, compress_to_fp16=False)
        return sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))


def write(model: Any, path: str, inputs: Iterable[str] = ()) -> list[str]:
    """Write `model` as OpenVINO IR: `path` (.xml) and the weights beside it (.bin); the paths
    written, the weights first so the .xml never names a file that is not there."""
    import openvino as ov

    if not path.endswith(".xml"):
        raise UsageError(
            f"OpenVINO IR is an .xml file with its weights in a .bin beside it: {path}",
            hint="give -o FILE.xml (the weights go to FILE.bin)",
        )
    if not is_regular_target(path):
        raise UsageError(
            f"the weights go to a .bin file beside the model, and {path} is not a regular file",
            hint="give -o FILE.xml (the weights go to FILE.bin)",
        )
    bin_path = path[: -len(".xml")] + ".bin"
    claim([bin_path, path], hint="the weights go to FILE.bin beside FILE.xml")
    with tempfile.TemporaryDirectory(prefix="inceptdsl-ov-") as tmp:
        xml = os.path.join(tmp, "model.xml")
        ov.save_model(model, xml, compress_to_fp16=False)
        with open(os.path.join(tmp, "model.bin"), "rb") as f:
            weights = f.read()
        with open(xml, "rb") as f:
            text = f.read()
    write_output(bin_path, weights, inputs=inputs)
    write_output(path, text, inputs=inputs)
    return [path, bin_path]
