"""Lowering an optimized torch model onto oneDNN: each conv one call, activation fused, kernel
packed once.

In eager torch a conv followed by ReLU is two passes over memory (the conv writes its output,
`relu_` reads and rewrites it), and a channels_last conv reorders its kernel into oneDNN's
blocked layout on every call. oneDNN does both better: a conv primitive takes the activation
as a post-op, and a kernel reordered once can be reused. torch exposes that as
`torch.ops.mkldnn._convolution_pointwise` with a kernel from
`torch._C._nn.mkldnn_reorder_conv2d_weight`, the calls inductor's CPU freezing path makes.

`lower(model)` traces the model's forward with torch.fx (it is straight-line code), replaces
every nn.Conv2d whose only reader is an activation oneDNN can fuse by one `OneDNNConv` doing
both, every other nn.Conv2d by a `OneDNNConv` without post-op, and drops the activations it
absorbed. A kernel is packed for the input size of its first call (and again for another
size). The model's state_dict keeps the torch backend's keys and plain layouts.

The mkldnn ops are private torch API: `available()` says whether this torch has them, and
tests/test_optimize_torch.py checks every fused activation against plain torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

# activation function in the emitted forward -> (oneDNN post-op, its scalars from the call)
_UNARY: dict[Callable[..., Any], tuple[str, Callable[[fx.Node], list[float]]]] = {
    F.relu: ("relu", lambda n: []),
    torch.relu: ("relu", lambda n: []),
    F.relu6: ("hardtanh", lambda n: [0.0, 6.0]),
    torch.sigmoid: ("sigmoid", lambda n: []),
    torch.tanh: ("tanh", lambda n: []),
    F.silu: ("swish", lambda n: []),
    F.hardswish: ("hardswish", lambda n: []),
    F.leaky_relu: ("leaky_relu", lambda n: [float(_arg(n, 1, "negative_slope", 0.01))]),
}
_PARAMS = {"inplace", "negative_slope"}  # the keywords fx writes for the calls above


def _arg(node: fx.Node, i: int, name: str, default: float) -> Any:
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs.get(name, default)


def available() -> bool:
    """Whether this torch build has the oneDNN ops the lowering calls."""
    return bool(torch.backends.mkldnn.is_available()) and hasattr(
        torch.ops.mkldnn, "_convolution_pointwise"
    )


def bf16_supported() -> bool:
    """Whether oneDNN has bfloat16 conv kernels for this CPU (else torch refuses to pack)."""
    return available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class OneDNNConv(nn.Module):
    """A 2-D convolution, optionally with a fused activation, run by oneDNN with a packed
    kernel. State: `weight` (OIHW) and `bias`, as nn.Conv2d's."""

    def __init__(self, conv: nn.Conv2d, attr: str = "none", scalars: list[float] | None = None):
        super().__init__()
        if not isinstance(conv.padding, tuple):
            raise ValueError("string padding is not lowered")  # the backend never emits it
        self.padding = [int(p) for p in conv.padding]
        self.stride = list(conv.stride)
        self.dilation = list(conv.dilation)
        self.groups = conv.groups
        self.attr = attr
        self.scalars = scalars or []
        self.weight = conv.weight.detach().contiguous()  # plain: packed per input size below
        self.bias = None if conv.bias is None else conv.bias.detach().contiguous()
        self._packed: dict[tuple[int, ...], torch.Tensor] = {}

    def _kernel(self, x: torch.Tensor) -> torch.Tensor:
        size = tuple(x.shape)
        if size not in self._packed:
            # torch's stub lacks the input size that the kernel takes (and packs for)
            self._packed[size] = torch._C._nn.mkldnn_reorder_conv2d_weight(  # type: ignore[call-arg]
                self.weight.to_mkldnn(), self.padding, self.stride, self.dilation, self.groups,
                list(size),
            )  # fmt: skip
        return self._packed[size]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._kernel(x), self.bias, self.padding, self.stride, self.dilation,
            self.groups, self.attr, self.scalars, "",
        )  # fmt: skip

    def _save_to_state_dict(self, destination: Any, prefix: str, keep_vars: bool) -> None:
        destination[prefix + "weight"] = self.weight
        if self.bias is not None:
            destination[prefix + "bias"] = self.bias

    def _load_from_state_dict(
        self, state_dict: Any, prefix: str, local_metadata: Any, strict: bool,
        missing_keys: list[str], unexpected_keys: list[str], error_msgs: list[str],
    ) -> None:  # fmt: skip
        for name in ("weight", "bias") if self.bias is not None else ("weight",):
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key].detach()
            current = getattr(self, name)
            if value.shape != current.shape:
                error_msgs.append(f"size mismatch for {key}: {value.shape} vs {current.shape}")
                continue
            setattr(self, name, value.to(current.dtype).contiguous())
        self._packed.clear()


def _fusable(node: fx.Node) -> tuple[str, list[float]] | None:
    """The post-op for activation call `node`, if oneDNN can fuse it."""
    if node.op != "call_function" or node.target not in _UNARY:
        return None
    if any(k not in _PARAMS for k in node.kwargs):
        return None
    attr, scalars = _UNARY[node.target]  # type: ignore[index]
    return attr, scalars(node)


def lower(model: nn.Module) -> fx.GraphModule:
    """`model` (eval mode, channels_last) with its convs run by oneDNN (module docstring)."""
    gm = fx.symbolic_trace(model)
    modules = dict(gm.named_modules())
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or type(modules[node.target]) is not nn.Conv2d:
            continue
        users = list(node.users)
        post = _fusable(users[0]) if len(users) == 1 else None
        attr, scalars = post if post else ("none", [])
        lowered = OneDNNConv(modules[node.target], attr, scalars)
        parent, _, leaf = node.target.rpartition(".")
        setattr(gm.get_submodule(parent) if parent else gm, leaf, lowered)
        if post:
            act = users[0]
            act.replace_all_uses_with(node)
            gm.graph.erase_node(act)
    gm.graph.lint()
    gm.recompile()
    return gm


__all__ = ["OneDNNConv", "available", "bf16_supported", "lower"]
