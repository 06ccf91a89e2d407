"""`inceptdsl import onnx`: an .onnx file -> the core's layer graph and the spec's weights, and
the check that the spec written from it computes what the file computes.

The backend object exposes this as `BACKEND.importer`; the core reaches it only through
`inceptdsl.backend.importer("onnx")`. It lives in the ONNX backend because it needs the `onnx`
package (and ONNX Runtime for the check), which the core never imports.

- The file is read and checked by import_read.py, its nodes turned into layers by
  import_ops.py. Scopes are the module paths that hold weights (every proper prefix of a
  weight's path); a scope's class is its name without the trailing number (`inception4a` ->
  Inception), so instances with one structure become one block.
- The weights are the file's initializers under the state_dict keys the compiled spec has
  (`weights`): every key the spec needs is there with its shape, nothing else, so they load
  strictly into the torch and ONNX backends (`compile --weights`).
- Figures: parameters and buffers (batch-norm mean and variance) are counted from the
  initializers the layers read; MACs are the language's own count.
- `check` builds the spec with this backend and those weights and compares ONNX Runtime's
  outputs of both files on a random batch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from inceptdsl.errors import UnsupportedModelError
from inceptdsl.importers.model import LayerGraph, Scope
from inceptdsl.importers.values import identifier

from .import_ops import Converter
from .import_read import OnnxFile, read_onnx

TOLERANCE = 1e-4
"""Largest accepted max |spec - file| / max |file| of the outputs (float32)."""


@dataclass
class Session:
    """What `weights` and `check` need: the checked file and the converter's tensors."""

    file: OnnxFile
    weights: dict[str, np.ndarray]
    logits: str | None = None
    """The tensor a final Softmax read (left out of the spec): the output `check` compares."""


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _cls(path: str) -> str:
    """A scope's class: its last name without a trailing number, in CamelCase
    (`inception4a` -> Inception, `Mixed_5b` -> Mixed); a numbered member is its parent's
    `...Unit` (`layer1.0` -> LayerUnit)."""
    parts = path.split(".")
    last = parts[-1]
    suffix = ""
    if last.isdigit() and len(parts) > 1:
        last, suffix = parts[-2], "Unit"
    stem = re.sub(r"_?\d+[a-z]?$", "", last) or last
    words = [w for w in stem.split("_") if w]
    return identifier("".join(w[:1].upper() + w[1:] for w in words) + suffix, "Block")


def scopes_of(conv: Converter) -> dict[str, Scope]:
    """Set each layer's scopes (the prefixes of its module path that hold weights); the scope
    records."""
    held: set[str] = set()
    for layer in conv.layers.values():
        if layer.stateful and layer.path:
            held.update(_prefixes(layer.path))
    mods: dict[str, int] = {}
    for layer in conv.layers.values():
        if not layer.stateful and layer.kind != "input":
            mods[conv.mpath[layer.id]] = mods.get(conv.mpath[layer.id], 0) + 1
    children: dict[str, set[str]] = {}
    for layer in conv.layers.values():
        mod = conv.mpath.get(layer.id, "")
        if (
            not layer.stateful
            and mod not in held
            and mods.get(mod) == 1
            and mod.rsplit(".", 1)[-1].isdigit()
        ):
            layer.path = mod  # a numbered member of a sequence (`branch4.0`: a max pool) keeps it
        if layer.kind == "input":
            continue
        chain = _prefixes(mod) if layer.stateful else [*_prefixes(mod), mod] if mod else []
        layer.scopes = tuple(p for p in chain if p in held)
        full = [*layer.scopes, layer.path or ""]
        for outer, inner in zip(full, full[1:], strict=False):
            if inner:
                children.setdefault(outer, set()).add(inner[len(outer) + 1 :])
    return {
        p: Scope(
            p,
            _cls(p),
            where=f"{p} (a module path)",
            container=bool(children.get(p)) and all(c.isdigit() for c in children.get(p, ())),
        )
        for p in sorted(held)
    }


class OnnxImporter:
    """`load` gives the layer graph; `weights` the spec's state; `check` compares outputs."""

    def load(
        self, path: str, kwargs: dict[str, Any], input_shape: tuple[int, int, int] | None
    ) -> tuple[LayerGraph, Session]:
        f = read_onnx(path, input_shape)
        conv = Converter(f)
        output = conv.run()
        reached = _reached(conv, output)
        for lid in list(conv.layers):
            if lid not in reached:
                del conv.layers[lid]
        scopes = scopes_of(conv)
        model = f.model
        stem = os.path.splitext(os.path.basename(path))[0]
        name = identifier((model.graph.name or stem).lower(), "net")
        if name in ("main_graph", "torch_jit", "graph", "model"):
            name = identifier(stem.lower(), "net")
        graph = LayerGraph(
            name=name,
            source=path,
            input_shape=f.input_shape,
            layers=conv.layers,
            output=output,
            scopes=scopes,
            origin="onnx",
        )
        src = f"counted from {path}"
        graph.expects = [
            ("params", conv.params, f"{src}: the initializers the layers read"),
            ("buffers", conv.buffers, f"{src}: batch-norm running mean + var"),
        ]
        producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
        opset = max(
            (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0
        )
        graph.header = [
            f"Imported from {path} (ONNX opset {opset}{', made by ' + producer if producer else ''}"
            f") by `inceptdsl import onnx` at input {'x'.join(map(str, f.input_shape))}. Names "
            "come from the nodes' module paths and the weights' names; the weights file holds "
            "the initializers under this spec's state_dict keys. The expect lines are counted "
            "from the file's initializers.",
        ]
        logits = None
        if conv.dropped_softmax is not None:
            logits = conv.dropped_softmax.input[0]
            graph.header.append(
                f"The final Softmax ({conv.dropped_softmax.name or logits!r}) is left out: the "
                "spec's output is the logits it reads."
            )
        return graph, Session(f, conv.weights, logits)

    def weights(self, session: Session, graph: nx.DiGraph) -> dict[str, np.ndarray]:
        """The file's tensors under the compiled spec's state_dict keys, in its order and
        shapes (a layer scale's (C, 1, 1) is the state's (C,)), and BN's `num_batches_tracked`
        (0: the file has no such counter), so that they load strictly into the torch backend
        too."""
        from ..common.weightmap import weight_map
        from .weights import tensors

        wanted = [t for t in tensors(graph) if t.inference]
        have = session.weights
        out: dict[str, np.ndarray] = {}
        wrong = []
        for t in wanted:
            a = have.get(t.key)
            if a is None or a.size != int(np.prod(t.shape, dtype=np.int64)):
                wrong.append(t.key)
                continue
            out[t.key] = np.ascontiguousarray(a.reshape(t.shape), dtype=np.float32)
        for key, _ in weight_map(graph).torch_only:  # BN's counter: 0, as in a loaded model
            out[key] = np.zeros((), np.int64)
        extra = sorted(set(have) - set(out))
        if wrong or extra:
            raise UnsupportedModelError(
                "the imported spec's tensors do not match the file's: "
                f"{', '.join((wrong + extra)[:4])}",
                hint="this is a bug in the importer: please report it with the model",
                path=session.file.path,
            )
        return out

    def weights_file(self, arrays: dict[str, np.ndarray], suffix: str) -> bytes:
        """The bytes of a `.npz` or `.safetensors` file holding `arrays`."""
        return _weights_file(arrays, suffix)

    def check(self, session: Session, graph: nx.DiGraph, seed: int = 0) -> dict[str, Any]:
        """Build the spec with its weights in ONNX, run both files in ONNX Runtime on one random
        batch and compare; raises UnsupportedModelError if the outputs differ."""
        from . import BACKEND

        built = BACKEND.build(graph, weights_from=self.weights(session, graph))
        f = session.file
        batch = 2
        dim = next(
            i for i in f.model.graph.input if i.name == f.input_name
        ).type.tensor_type.shape.dim[0]
        if dim.HasField("dim_value") and dim.dim_value > 0:
            batch = int(dim.dim_value)
        x = np.random.default_rng(seed).standard_normal((batch, *f.input_shape)).astype(np.float32)
        reference = f.model
        if session.logits is not None:  # compare the logits the left-out Softmax reads
            from onnx import TensorProto, helper

            reference = type(f.model)()
            reference.CopyFrom(f.model)
            del reference.graph.output[:]
            reference.graph.output.append(
                helper.make_tensor_value_info(session.logits, TensorProto.FLOAT, None)
            )
        ref = run(reference.SerializeToString(), f.input_name, x)
        got = run(built.SerializeToString(), "input", x)
        if ref.shape != got.shape:
            raise UnsupportedModelError(
                f"the spec's output has shape {got.shape}, the file's {ref.shape}",
                hint="this is a bug in the importer: please report it with the model",
                path=f.path,
            )
        if not np.isfinite(ref).all():
            raise UnsupportedModelError(
                "the file's outputs on a random normal input are not all finite (inf or nan): "
                "the imported spec cannot be compared with it",
                path=f.path,
            )
        diff, scale = float(np.abs(ref - got).max()), float(np.abs(ref).max())
        if not diff <= TOLERANCE * max(scale, 1e-12):
            raise UnsupportedModelError(
                f"the spec does not reproduce the file: max |difference| {diff:.3g} of outputs "
                f"up to {scale:.3g} (tolerance {TOLERANCE:g} relative)",
                hint="this is a bug in the importer: please report it with the model",
                path=f.path,
            )
        return {"max_diff": diff, "output_scale": scale}


def run(model: bytes, input_name: str, x: np.ndarray) -> np.ndarray:
    """The first output of `model` on `x` in ONNX Runtime (CPU, one thread, no graph rewrites
    that change float results)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {input_name: x})[0])


def _reached(conv: Converter, output: str) -> set[str]:
    """The layers the output depends on (a branch computed and dropped is not the network)."""
    seen: set[str] = {"input"}
    stack = [output]
    while stack:
        lid = stack.pop()
        if lid in seen:
            continue
        seen.add(lid)
        stack += list(conv.layers[lid].inputs)
    return seen


IMPORTER = OnnxImporter()


def _weights_file(arrays: dict[str, np.ndarray], suffix: str) -> bytes:
    """The bytes of a weights file: `.safetensors` (its metadata names inceptdsl) or `.npz`
    (stored, members in state_dict order, a fixed date, and a zip extra field holding the word
    `inceptdsl`, so that a later import may replace it without --force: output_origin.py)."""
    if suffix == ".safetensors":
        from safetensors.numpy import save

        return bytes(save(arrays, metadata={"producer": "inceptdsl"}))
    import io
    import struct
    import zipfile

    buf = io.BytesIO()
    marker = b"inceptdsl"
    extra = struct.pack("<HH", 0x6964, len(marker)) + marker  # a private extra field
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for key, a in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.extra = extra
            member = io.BytesIO()
            np.lib.format.write_array(member, np.array(a, order="C"), allow_pickle=False)
            z.writestr(info, member.getvalue())
    return buf.getvalue()
