"""`inceptdsl import`: run an importer, write the spec, and prove it before anyone reads it.

Every imported spec is loaded back (so it parses, checks and lowers), its `expect` figures
are verified, and for a torch import the backend's check builds it, loads the model's
state_dict strictly and compares outputs. Only then is the file written.
"""

from __future__ import annotations

import json
import sys
from contextlib import redirect_stdout
from typing import Any

from ..errors import ExpectationError, SpecError, UsageError
from ..ir import info
from ..network import Network, loads
from .bounded import DEFAULT_TIMEOUT, bounded
from .relocate import relocated
from .writer import write_spec

MAX_INPUT_VALUES = 2**24
"""Most values one input sample may have (3x2048x2048 is 12.6 M): the importer runs the model
on a batch of it, and each layer's output is about as large."""

MAX_KWARGS_DEPTH = 32
"""Deepest nesting of lists and objects in --kwargs (constructor arguments are shallow)."""


def parse_input(text: str | None) -> tuple[int, int, int] | None:
    """`--input 3x224x224` -> (3, 224, 224)."""
    if text is None:
        return None
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 3 or not all(
        p.isascii() and p.isdigit() and len(p) <= 6 and 0 < int(p) <= 100_000 for p in parts
    ):
        raise UsageError(f"--input expects CxHxW (e.g. 3x224x224), got {text!r}")
    c, h, w = (int(p) for p in parts)
    if c * h * w > MAX_INPUT_VALUES:
        raise UsageError(
            f"--input {c}x{h}x{w} is {c * h * w:,} values per sample; the limit is "
            f"{MAX_INPUT_VALUES:,}",
            hint="the structure does not depend on the size: import at the model's usual input",
        )
    return c, h, w


def parse_kwargs(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    depth = _nesting(text)
    if depth > MAX_KWARGS_DEPTH:
        raise UsageError(
            f"--kwargs nests lists and objects {depth:,} deep; the limit is {MAX_KWARGS_DEPTH}"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--kwargs is not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:  # pragma: no cover - _nesting bounds the depth first
        raise UsageError("--kwargs nests too deep") from None
    if not isinstance(value, dict):
        raise UsageError("--kwargs must be a JSON object, e.g. '{\"aux_logits\": false}'")
    return value


def parse_timeout(text: str | None) -> float:
    """`--timeout SECONDS`: a positive number of seconds, at most a day (default 300)."""
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 86_400:
        raise UsageError(f"--timeout expects seconds between 0 and 86400, got {text[:40]!r}")
    return value


def _nesting(text: str) -> int:
    """The deepest nesting of `[` and `{` outside JSON strings (linear, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _verified(text: str, out_path: str) -> Network:
    net = loads(text, out_path)
    bad = [r for r in net.verify() if not r.ok]
    if bad:
        r = bad[0]
        raise ExpectationError(
            f"the imported spec does not meet its own figure: {r.describe()}, actual {r.actual:,}",
            hint="this is a bug in the importer: please report it with the model",
        )
    return net


def import_torch(
    target: str,
    kwargs: dict[str, Any],
    input_shape: tuple[int, int, int],
    out_path: str,
    timeout: float | None = DEFAULT_TIMEOUT,
    hard_timeout: bool = False,
) -> tuple[str, list[str]]:
    """The spec text of a torch model and the lines that summarise the checks. The model's
    code (import, constructor, forward) runs within `timeout` seconds in all (bounded.py;
    `hard_timeout`, for the CLI: a watchdog ends the process if the code ignores the alarm)."""
    from ..backend import importer

    imp = importer("torch")
    # the model's prints go to stderr: stdout carries only the spec (`import torch m.py:f > x`)
    with bounded(timeout, f"importing {target}", hard=hard_timeout), redirect_stdout(sys.stderr):
        graph, session = imp.load(target, kwargs, input_shape)
        text = write_spec(graph, out_path)
        net = _verified(text, out_path)
        figures = imp.check(session, net.graph)
    rep = net.report()
    return text, [
        f"{net.name}: {rep.params:,} params, {rep.buffers:,} buffers, {rep.macs:,} MACs "
        "(all equal to the model's)",
        f"state_dict loads strictly; eval outputs agree to {figures['max_diff']:.2g} "
        f"(outputs up to {figures['output_scale']:.3g})",
    ]


def import_caffe(
    path: str, input_shape: tuple[int, int, int] | None, out_path: str
) -> tuple[str, list[str]]:
    from .caffe import read_prototxt

    graph = read_prototxt(path, input_shape)
    text = ""
    try:
        text = write_spec(graph, out_path)
        net = _verified(text, out_path)
    except SpecError as err:  # found in the written spec: show it in the prototxt
        raise relocated(err, graph, text, out_path) from None
    rep = net.report()
    heads = len(info(net.graph).aux_heads)
    return text, [
        f"{net.name}: {rep.params:,} params ({rep.aux_params:,} in {heads} aux heads), "
        f"{rep.buffers:,} buffers, {rep.macs:,} MACs"
    ]


WEIGHT_SUFFIXES = (".npz", ".safetensors")


def import_onnx(
    path: str, input_shape: tuple[int, int, int] | None, out_path: str, weights_path: str | None
) -> tuple[str, list[str], bytes | None]:
    """The spec text of an .onnx file, the checks' summary, and the bytes of its weights file
    (`weights_path`'s suffix picks .npz or .safetensors; None: no file). The spec is loaded
    back, its figures verified, compiled with the ONNX backend and the file's weights, and its
    outputs compared with the file's in ONNX Runtime."""
    from ..backend import importer

    suffix = ""
    if weights_path is not None:
        suffix = "." + weights_path.rpartition(".")[2].lower() if "." in weights_path else ""
        if suffix not in WEIGHT_SUFFIXES:
            raise UsageError(
                f"--weights {weights_path!r}: the file must end in .npz or .safetensors",
                hint="the suffix picks the format; both load with `compile --weights`",
            )
    imp: Any = importer("onnx")  # the Importer protocol plus `weights` and `weights_file`
    with redirect_stdout(sys.stderr):
        graph, session = imp.load(path, {}, input_shape)
        text = write_spec(graph, out_path)
        net = _verified(text, out_path)
        arrays = imp.weights(session, net.graph)
        figures = imp.check(session, net.graph)
        data = imp.weights_file(arrays, suffix) if weights_path is not None else None
    rep = net.report()
    lines = [
        f"{net.name}: {rep.params:,} params, {rep.buffers:,} buffers, {rep.macs:,} MACs "
        "(params and buffers equal to the file's)",
        f"the file's {len(arrays)} weight tensors load strictly; ONNX Runtime outputs agree to "
        f"{figures['max_diff']:.2g} (outputs up to {figures['output_scale']:.3g})",
    ]
    return text, lines, data
