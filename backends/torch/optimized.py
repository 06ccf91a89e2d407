"""Optimized torch models: the optimized IR built by the ordinary backend, with the weights of
the unoptimized network carried over by the weight map.

`build_optimized(graph, weights_from)` optimizes `graph` (inceptdsl.optimize), loads
`weights_from` (an nn.Module, a state_dict or a Keras model, checked strictly) into the
unoptimized model, computes the optimized state with the weight map and loads it strictly into
the model built from the optimized graph. The result is eval-only: folded batch norms cannot
train, so calling it in training mode raises.

It runs on one of three paths (`choose_path`): `nchw` (torch's default layout), `channels_last`
(model and input in torch's channels_last memory format, oneDNN's native layout on CPU) or
`onednn` (channels_last, and each convolution lowered to one oneDNN call with its activation
fused and its kernel packed once: onednn.py). Unless the caller forces one, the fastest this
torch and CPU have is taken: oneDNN where its ops exist (1.45-3.13x torchvision's eager model
in CPU time on AVX-512, channels_last 1.38-2.96x, nchw 1.04-1.27x: bench/RESULTS.md), else
channels_last. The model's repr and
`model.optimized_path` say which, and why.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from inceptdsl.errors import UsageError
from inceptdsl.optimize import Layout, Optimized, Target, optimize

from ..common.optimized_weights import apply
from ..common.weights_file import read_state
from .build import _state_dict, build, load_weights


def _eval_only(module: nn.Module, args: tuple[Any, ...]) -> None:
    if module.training:
        raise RuntimeError(
            "an optimized model is eval-only (its batch norms are folded): call .eval(), "
            "or train the unoptimized model and optimize it again"
        )


def _channels_last_input(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0]
    if isinstance(x, torch.Tensor) and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return (x, *args[1:])


def _cast_input(dtype: torch.dtype) -> Callable[[nn.Module, tuple[Any, ...]], tuple[Any, ...]]:
    def hook(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        x = args[0]
        return (x.to(dtype) if isinstance(x, torch.Tensor) else x, *args[1:])

    return hook


def _float_output(module: nn.Module, args: tuple[Any, ...], out: Any) -> Any:
    return out.float() if isinstance(out, torch.Tensor) else out


def _skeleton(graph: nx.DiGraph) -> nn.Module:
    """The model of `graph` on the meta device: its keys, shapes and dtypes, no storage and no
    random initialisation (which costs seconds for the larger bundled networks)."""
    with torch.device("meta"):
        return build(graph)


def _original_state(graph: nx.DiGraph, weights_from: Any) -> dict[str, torch.Tensor]:
    """The unoptimized network's state from `weights_from`, checked strictly against its keys
    and shapes and cast to its dtypes (a fresh initialisation without weights; a Keras model
    through the Keras transfer, which takes aux heads Keras lacks from a built model)."""
    keras = sys.modules.get("keras")
    if weights_from is None or (keras is not None and isinstance(weights_from, keras.Model)):
        return build(graph, weights_from).state_dict()
    skeleton = _skeleton(graph)
    with warnings.catch_warnings():  # copying into meta tensors does nothing, as wanted here
        warnings.filterwarnings("ignore", message=".*non-meta parameter.*meta parameter")
        load_weights(graph, skeleton, weights_from)  # raises on a missing, extra, misshapen key
    own = skeleton.state_dict()
    return {k: v.detach().cpu().to(own[k].dtype) for k, v in _state_dict(weights_from).items()}


def optimized_state_dict(
    graph: nx.DiGraph, opt: Optimized, weights_from: Any = None
) -> dict[str, torch.Tensor]:
    """The optimized graph's state computed from `weights_from` (or from a freshly
    initialised unoptimized model), keys and layouts of the torch backend."""
    state: Mapping[str, np.ndarray] = {
        k: v.numpy() for k, v in _original_state(graph, weights_from).items()
    }
    return {k: torch.from_numpy(v) for k, v in apply(opt.weights, state).items()}


def load_optimized(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Load an optimized state strictly into `model` (a skeleton on the meta device: the
    tensors are assigned, not copied); batch norms that no pass could fold (none in the
    bundled specs) get `num_batches_tracked` = 0, which eval mode never reads."""
    own = model.state_dict()
    full = dict(state)
    for key, value in own.items():
        if key.endswith(".num_batches_tracked") and key not in full:
            full[key] = torch.zeros(value.shape, dtype=value.dtype)
    model.load_state_dict(full, strict=True, assign=True)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"optimized model: no state computed for {', '.join(left)}")


def read_weights(path: str, graph: nx.DiGraph | None = None) -> dict[str, torch.Tensor]:
    """A state_dict as tensors from a file (common/weights_file.py: torch files read
    weights-only, .safetensors, .npz; nothing is unpickled). Given the `graph`, an .npz or
    .safetensors file's tensors are checked against its shapes before their data is read."""
    shapes = None
    if graph is not None:
        shapes = {k: tuple(v.shape) for k, v in _skeleton(graph).state_dict().items()}
    out: dict[str, torch.Tensor] = {}
    for k, v in read_state(path, shapes).items():
        if isinstance(v, np.ndarray):
            v = torch.from_numpy(v)
        if not isinstance(v, torch.Tensor):
            raise UsageError(f"{path}: weight {k!r} is a {type(v).__name__}, not a tensor")
        out[k] = v
    return out


def saved_weights(graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> bytes:
    """The optimized graph's state_dict from `weights_from`, as torch.save bytes (what
    `inceptdsl compile --backend torch --optimize --weights` writes beside the source). The
    zip archive inside is named `inceptdsl/` (torch names it after the file it saves to; it
    reads any name): that is how a later command knows the file is its own to replace
    (inceptdsl/output_origin.py)."""
    import os
    import tempfile

    target = options.get("target") or Target()
    opt = optimize(graph, target, options.get("skip", ()))
    with tempfile.TemporaryDirectory(prefix="inceptdsl-") as tmp:
        path = os.path.join(tmp, "inceptdsl.pt")
        torch.save(optimized_state_dict(graph, opt, weights_from), path)
        with open(path, "rb") as f:
            return f.read()


PATHS = ("nchw", "channels_last", "onednn")


@dataclass(frozen=True)
class Path:
    """The path an optimized model runs on, and why it was taken (shown in its repr)."""

    name: str  # one of PATHS
    why: str

    def describe(self, dtype: torch.dtype) -> str:
        what = {
            "nchw": "NCHW eager (torch's default layout)",
            "channels_last": "channels_last eager",
            "onednn": "oneDNN (conv + activation one call, packed kernels, channels_last)",
        }[self.name]
        precision = "bfloat16" if dtype is torch.bfloat16 else "float32"
        return (
            f"optimized for inference, eval-only: path {self.name}: {what}, {precision}; {self.why}"
        )


def _isa() -> str:
    return str(torch.backends.cpu.get_cpu_capability())


def choose_path(
    onednn: bool | None = None,
    channels_last: bool | None = None,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """The path of an optimized model. `True` forces a path, `False` rules it out (oneDNN
    runs channels_last, so `channels_last=False` rules out both: nchw); left at None, the
    fastest this machine has: oneDNN where this torch has its ops (for bfloat16: where oneDNN
    has bf16 kernels for this CPU), else channels_last (bench/RESULTS.md measures all three)."""
    from .onednn import available, bf16_supported

    reduced = dtype is torch.bfloat16
    if onednn and channels_last is False:
        raise UsageError(
            "onednn=True runs channels_last: it cannot go with channels_last=False",
            hint="drop one of the two options",
        )
    if onednn:
        if not available():
            raise UsageError(
                "onednn=True: this torch build has no oneDNN (mkldnn) convolution ops",
                hint="leave `onednn` out: the fastest path this torch has is chosen",
            )
        if reduced and not bf16_supported():
            return Path(
                "channels_last",
                f"onednn=True was asked, but oneDNN has no bfloat16 kernels for this CPU "
                f"({_isa()}): torch's channels_last bfloat16 kernels run instead",
            )
        return Path("onednn", "forced (onednn=True)")
    if channels_last:
        return Path("channels_last", "forced (channels_last=True)")
    if channels_last is False:
        return Path("nchw", "forced (channels_last=False)")
    rest = "force another with onednn=, channels_last="
    if onednn is False:
        return Path("channels_last", f"chosen: the fastest without oneDNN (onednn=False); {rest}")
    if not available():
        return Path(
            "channels_last",
            f"chosen for this machine: this torch has no oneDNN convolution ops ({_isa()}); {rest}",
        )
    if reduced and not bf16_supported():
        return Path(
            "channels_last",
            f"chosen for this machine: oneDNN has no bfloat16 kernels for this CPU ({_isa()}); "
            f"{rest}",
        )
    return Path("onednn", f"chosen for this machine: oneDNN's ops are there ({_isa()}); {rest}")


def _extra_repr(text: str) -> str:
    return text


def build_optimized(
    graph: nx.DiGraph,
    weights_from: Any = None,
    *,
    target: Target | None = None,
    skip: Iterable[str] = (),
    channels_last: bool | None = None,
    onednn: bool | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """The eval-only optimized model of `graph` with the weights of `weights_from`, on the
    path `choose_path(onednn, channels_last, dtype)` gives (by default the fastest this
    machine has); `model.optimized_path` and the first line of its repr name it.

    `dtype=torch.bfloat16` runs it in bfloat16 (weights cast after the optimized state is
    computed in float64; input cast on entry, output returned as float32); the oneDNN
    lowering then applies only where oneDNN has bf16 kernels for this CPU (AVX512-BF16, AMX,
    AVX-NE-CONVERT), else the model runs as torch's eager channels_last bf16 kernels do."""
    if dtype not in (torch.float32, torch.bfloat16):
        raise UsageError(f"optimized models run in float32 or bfloat16, not {dtype}")
    reduced = dtype is torch.bfloat16
    path = choose_path(onednn, channels_last, dtype)
    onednn = path.name == "onednn"
    channels_last = path.name != "nchw"
    layout: Layout = "nhwc" if channels_last else "nchw"
    opt = optimize(graph, target or Target(layout=layout), skip)
    model = _skeleton(opt.graph)
    load_optimized(model, optimized_state_dict(graph, opt, weights_from))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if reduced:
        model = model.to(dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if onednn:
        from .onednn import lower

        model = lower(model)
    if channels_last:
        model.register_forward_pre_hook(_channels_last_input)
    if reduced:
        model.register_forward_pre_hook(_cast_input(dtype))
        model.register_forward_hook(_float_output)
    model.register_forward_pre_hook(_eval_only)
    model.optimized = opt  # type: ignore[assignment]  # the graph, weight map and notes
    model.optimized_path = path  # type: ignore[assignment]
    # the first line of repr(model); a partial of a module function keeps the model picklable
    model.extra_repr = functools.partial(_extra_repr, path.describe(dtype))  # type: ignore[method-assign]
    return model
