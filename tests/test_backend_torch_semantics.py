"""The torch backend's op semantics against independent NumPy oracles written from docs/ir.md.

The fidelity tests compare whole networks with torchvision/timm, but those models never use
asymmetric (TF `same`, stride 2) padding, average pooling that must not count asymmetric or
ceil-mode padding, separable convs, partial batch norm, LRN or most activations. Here each op
is a one-layer spec, and the built model is compared with a direct loop over the definition:
windows, padding and divisors spelled out, no torch involved.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.lazy import torch
from support.oracles import ACTIVATION_USES, CONVS, POOLS, act_oracle, pool_oracle

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.errors import SpecError
from inceptdsl.ir import nodes

RNG = np.random.default_rng(0)

BACKEND = get("torch")


def one_layer(layer: str, shape: str = "3 x 8 x 8"):  # type: ignore[no-untyped-def]
    """Graph, model (eval, random BN stats), input and output for `input shape -> layer`."""
    g = inceptdsl.loads(f"network t {{\n  input {shape}\n  y: {layer}\n}}\n").graph
    model = BACKEND.build(g).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b))
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)
    x = RNG.standard_normal((2, *g.graph["input_shape"]))
    with torch.no_grad():
        y = model(torch.from_numpy(x).float()).double().numpy()
    node = next(n for n in nodes(g) if n.name == g.graph["output"])
    assert y.shape[1:] == node.shape
    return node, model, x, y


# -- pooling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("count_pad", [True, False])
@pytest.mark.parametrize(("options", "size"), POOLS)
def test_pooling_matches_its_definition(kind: str, count_pad: bool, options: str, size: int):
    if kind == "max" and not count_pad:
        return  # count_pad only concerns averages: nothing new to test for max
    extra = f" count_pad={str(count_pad).lower()}" if kind == "avg" else ""
    layer = f"{kind}pool {options}{extra}"
    node, _, x, y = one_layer(layer, f"2 x {size} x {size}")
    a = node.attrs
    want = pool_oracle(x, kind, a.kernel, a.stride, a.pads, node.shape[1:], count_pad)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["max", "avg"]),
    size=st.tuples(st.integers(3, 11), st.integers(3, 11)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pads=st.one_of(
        st.just("same"),
        st.tuples(*[st.integers(0, 2)] * 4).map(lambda p: f"(({p[0]}, {p[1]}), ({p[2]}, {p[3]}))"),
    ),
    ceil=st.booleans(),
    count_pad=st.booleans(),
)
def test_pooling_matches_its_definition_for_any_window(
    kind: str,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: str,
    ceil: bool,
    count_pad: bool,
) -> None:
    options = (
        f"{kernel[0]}x{kernel[1]} stride=({stride[0]}, {stride[1]}) pad={pads} "
        f"ceil={str(ceil).lower()}"
        + (f" count_pad={str(count_pad).lower()}" if kind == "avg" else "")
    )
    try:
        node, _, x, y = one_layer(f"{kind}pool {options}", f"2 x {size[0]} x {size[1]}")
    except SpecError:
        assume(False)  # the core refuses it (a window larger than the padded input, ...)
        return
    a = node.attrs
    top, bottom, left, right = a.pads
    # pads as large as the kernel let a window lie wholly in padding (-inf, or 0/0): degenerate
    assume(max(top, bottom) < a.kernel[0] and max(left, right) < a.kernel[1])
    want = pool_oracle(x, kind, a.kernel, a.stride, a.pads, node.shape[1:], count_pad)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_odd_pixel_bottom_right() -> None:
    node, _, x, y = one_layer("maxpool 3x3 stride=2 pad=same", "1 x 8 x 8")
    assert node.attrs.pads == (0, 1, 0, 1)
    # the last output row's window covers rows 6, 7 and one padded row
    np.testing.assert_allclose(y[:, :, -1, -1], x[:, :, 6:, 6:].max(axis=(2, 3)), rtol=1e-6)


def test_adaptive_avgpool_windows() -> None:
    node, _, x, y = one_layer("adaptive_avgpool 3x2", "2 x 7 x 5")
    want = np.empty_like(y)
    for i in range(3):
        for j in range(2):
            rows = slice(math.floor(i * 7 / 3), math.ceil((i + 1) * 7 / 3))
            cols = slice(math.floor(j * 5 / 2), math.ceil((j + 1) * 5 / 2))
            want[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("layer", "reduce"), [("global_avgpool", np.mean), ("global_maxpool", np.max)]
)
def test_global_pools(layer: str, reduce) -> None:  # type: ignore[no-untyped-def]
    _, _, x, y = one_layer(layer)
    np.testing.assert_allclose(y[:, :, 0, 0], reduce(x, axis=(2, 3)), rtol=1e-5, atol=1e-6)


# -- convolutions and batch norm ----------------------------------------------------------------


def conv_oracle(x, w, stride, pads, dilation, groups):  # type: ignore[no-untyped-def]
    """Direct convolution: zero padding (top, bottom, left, right), then the sliding sum."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, cin, h, wd = xp.shape
    cout, cpg, kh, kw = w.shape
    oh = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, cout, oh, ow))
    per_group = cout // groups
    for o in range(cout):
        g = o // per_group
        for di in range(kh):
            for dj in range(kw):
                r0, c0 = di * dilation[0], dj * dilation[1]
                patch = xp[
                    :,
                    g * cpg : (g + 1) * cpg,
                    r0 : r0 + stride[0] * (oh - 1) + 1 : stride[0],
                    c0 : c0 + stride[1] * (ow - 1) + 1 : stride[1],
                ]
                out[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, di, dj])
    return out


def bn_oracle(x, bn):  # type: ignore[no-untyped-def]
    """Eval batch norm; a missing gamma is 1 and a missing beta 0."""
    shape = (1, -1, 1, 1)
    mean = bn.running_mean.double().numpy().reshape(shape)
    var = bn.running_var.double().numpy().reshape(shape)
    y = (x - mean) / np.sqrt(var + bn.eps)
    if bn.weight is not None:
        y = y * bn.weight.detach().double().numpy().reshape(shape)
    if bn.bias is not None:
        y = y + bn.bias.detach().double().numpy().reshape(shape)
    return y


@pytest.mark.parametrize(("layer", "size"), CONVS)
def test_conv_unit_matches_its_definition(layer: str, size: int) -> None:
    node, model, x, y = one_layer(layer, f"3 x {size} x {size}")
    a = node.attrs
    unit = model.y
    conv = unit.conv if a.bn is not None else unit
    want = conv_oracle(
        x, conv.weight.detach().double().numpy(), a.stride, a.pads, a.dilation, a.groups
    )
    if conv.bias is not None:
        want += conv.bias.detach().double().numpy().reshape(1, -1, 1, 1)
    if a.bn is not None:
        want = bn_oracle(want, unit.bn)
    want = act_oracle(a.act)(want)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "layer",
    [
        "sepconv 5 3x3 stride=2 pad=same multiplier=2",
        "sepconv 5 3x3 pad=1 bias=false bn=bn(scale=false, eps=0.001) act=relu",
    ],
)
def test_sepconv_is_depthwise_then_pointwise(layer: str) -> None:
    node, model, x, y = one_layer(layer)
    a = node.attrs
    sep = model.y.conv if a.bn is not None else model.y
    depthwise = sep.conv1.weight.detach().double().numpy()
    assert depthwise.shape[0] == 3 * a.depth_multiplier and sep.conv1.groups == 3
    want = conv_oracle(x, depthwise, a.stride, a.pads, a.dilation, 3)
    want = conv_oracle(
        want, sep.pointwise.weight.detach().double().numpy(), (1, 1), (0,) * 4, (1, 1), 1
    )
    if sep.pointwise.bias is not None:
        want += sep.pointwise.bias.detach().double().numpy().reshape(1, -1, 1, 1)
    if a.bn is not None:
        want = bn_oracle(want, model.y.bn)
    np.testing.assert_allclose(y, act_oracle(a.act)(want), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "options", ["", "eps=0.001", "scale=false", "center=false", "scale=false center=false"]
)
def test_batchnorm_with_and_without_gamma_beta(options: str) -> None:
    node, model, x, y = one_layer(f"bn {options}")
    a = node.attrs
    assert (model.y.weight is not None, model.y.bias is not None) == (a.scale, a.center)
    assert sum(p.numel() for p in model.parameters()) == node.params
    np.testing.assert_allclose(y, bn_oracle(x, model.y), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", sorted(ACTIVATION_USES))
def test_activations(fn: str) -> None:
    node, _, x, y = one_layer(ACTIVATION_USES[fn])
    np.testing.assert_allclose(y, act_oracle(node.attrs.fn)(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [3, 4, 5])
def test_lrn_matches_torch_formula(size: int) -> None:
    node, _, x, y = one_layer(f"lrn {size} alpha=0.01 beta=0.6 k=1.5", "7 x 3 x 3")
    a = node.attrs
    sq = x**2
    want = np.empty_like(x)
    channels = x.shape[1]
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1)
        div = (a.k + a.alpha / size * sq[:, lo:hi].sum(axis=1)) ** a.beta
        want[:, c] = x[:, c] / div
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_flatten_is_channel_major_and_linear_uses_it() -> None:
    _, model, x, y = one_layer("{ flatten\n  fc: linear 3 }", "2 x 3 x 2")
    w = model.y.fc.weight.detach().double().numpy()
    b = model.y.fc.bias.detach().double().numpy()
    np.testing.assert_allclose(y, x.reshape(2, -1) @ w.T + b, rtol=1e-5, atol=1e-5)


def test_concat_add_scale_identity_dropout() -> None:
    layer = "concat {\n  identity\n  dropout 0.5\n  residual scale=0.25 { scale 2.0 }\n}"
    _, _, x, y = one_layer(layer, "2 x 3 x 3")
    np.testing.assert_allclose(y, np.concatenate([x, x, x + 0.25 * 2.0 * x], 1), rtol=1e-6)
