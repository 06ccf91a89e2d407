"""The Keras backend's op semantics, one layer at a time: against NumPy oracles where one exists
(pooling), and against the torch backend (itself checked against NumPy oracles in
test_backend_torch_semantics.py) with the torch model's weights copied across, which also tests
the weight layouts op by op. The cases are the torch tests' own (asymmetric TF `same`, explicit
and ceil-mode padding with and without count_pad, dilation, groups, separable convs, partial
BN, every activation, LRN, adaptive pooling, channel-major flatten).

It also checks which Keras layers a node becomes: native `same`/`valid` layers wherever they
compute exactly the IR's op (keras.applications' layers, the fast kernels), explicit padding or
a custom layer only where they do not.
"""

from __future__ import annotations

import numpy as np
import pytest
from support.keras_specs import keras_output
from support.lazy import torch
from support.oracles import ACTIVATION_USES, CONVS, POOLS, act_oracle, pool_oracle

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.keras import BACKEND

TORCH = get("torch")
RNG = np.random.default_rng(0)


def one_layer(layer: str, shape: str = "3 x 8 x 8"):  # type: ignore[no-untyped-def]
    """(node, Keras model, NCHW input, Keras output, torch output) for `input -> y: layer`,
    the Keras model holding the random weights and BN statistics of the torch one."""
    g = inceptdsl.loads(f"network t {{\n  input {shape}\n  y: {layer}\n}}\n").graph
    model = TORCH.build(g).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b))
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)
    x = RNG.standard_normal((2, *g.graph["input_shape"])).astype("float32")
    with torch.no_grad():
        want = model(torch.from_numpy(x)).double().numpy()
    kmodel = BACKEND.build(g, weights_from=model)
    got = keras_output(kmodel, x).astype("float64")
    node = g.nodes[g.graph["output"]]
    assert got.shape[1:] == tuple(node["shape"])
    return node, kmodel, x.astype("float64"), got, want


def layer_kinds(model) -> list[str]:  # type: ignore[no-untyped-def]
    return [type(la).__name__ for la in model.layers if la.name.split(".")[0] == "y"]


# -- pooling: against the oracle ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("count_pad", [True, False])
@pytest.mark.parametrize(("options", "size"), POOLS)
def test_pooling_matches_its_definition(kind: str, count_pad: bool, options: str, size: int):
    if kind == "max" and not count_pad:
        return  # count_pad only concerns averages
    extra = f" count_pad={str(count_pad).lower()}" if kind == "avg" else ""
    layer = f"{kind}pool {options}{extra}"
    node, _, x, got, _ = one_layer(layer, f"2 x {size} x {size}")
    a = node["attrs"]
    want = pool_oracle(x, kind, a.kernel, a.stride, a.pads, node["shape"][1:], count_pad)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# (layer, input size, the Keras layers node `y` becomes)
LAYERS = [
    # Keras `same` is exactly TF same, and what keras.applications uses
    ("maxpool 3x3 stride=2 pad=same", 8, ["MaxPooling2D"]),
    ("avgpool 3x3 stride=1 pad=same count_pad=false", 8, ["AveragePooling2D"]),
    # torch-style pads that Keras `same` happens to equal (stride 1, odd size, ceil mode)
    ("avgpool 3x3 stride=1 pad=1 count_pad=false", 8, ["AveragePooling2D"]),
    ("maxpool 3x3 stride=2 ceil=true", 8, ["MaxPooling2D"]),  # googlenet's ceil-mode pools
    ("conv 4 3x3 stride=2 pad=1", 9, ["Conv2D"]),
    ("conv 4 1x7 pad=(0, 3) bn=bn() act=relu", 8, ["Conv2D", "BatchNormalization", "Activation"]),
    # counted padding: zeros, then a plain average (torchvision inception_v3's pools)
    ("avgpool 3x3 stride=1 pad=1", 8, ["ZeroPadding2D", "AveragePooling2D"]),
    ("avgpool 3x3 stride=2 pad=same count_pad=true", 8, ["ZeroPadding2D", "AveragePooling2D"]),
    ("avgpool 3x3 stride=2 pad=same", 8, ["AveragePooling2D"]),  # TF's rule by default
    # pads Keras `same` does not give: explicit zeros for convs, custom layers for pools
    ("conv 4 3x3 stride=2 pad=1", 8, ["ZeroPadding2D", "Conv2D"]),
    ("conv 4 7x7 stride=2 pad=3", 16, ["ZeroPadding2D", "Conv2D"]),
    ("maxpool 3x3 stride=2 pad=1", 8, ["PaddedMaxPooling2D"]),
    ("avgpool 3x3 stride=2 pad=1 ceil=true", 8, ["PaddedAveragePooling2D"]),
    ("avgpool 3x3 stride=2 pad=1 count_pad=false", 8, ["PaddedAveragePooling2D"]),
    # windows that read no padding are valid, whatever the spec wrote
    ("maxpool 2x2 stride=2 ceil=true", 8, ["MaxPooling2D"]),
    ("adaptive_avgpool 2x2", 8, ["AveragePooling2D"]),
    ("adaptive_avgpool 3x3", 8, ["AdaptiveAveragePooling2D"]),
    ("adaptive_avgpool 1x1", 8, ["GlobalAveragePooling2D"]),
]


@pytest.mark.parametrize(("layer", "size", "kinds"), LAYERS)
def test_native_keras_layers_wherever_they_are_exact(layer: str, size: int, kinds: list[str]):
    _, model, _, got, want = one_layer(layer, f"3 x {size} x {size}")
    assert sorted(layer_kinds(model)) == sorted(kinds)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


# -- everything else: against the torch backend -------------------------------------------------


@pytest.mark.parametrize(("layer", "size"), CONVS)
def test_conv_unit_matches_torch(layer: str, size: int) -> None:
    _, _, _, got, want = one_layer(layer, f"3 x {size} x {size}")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "layer",
    [
        "sepconv 5 3x3 stride=2 pad=same multiplier=2",
        "sepconv 5 3x3 pad=1 bias=false bn=bn(scale=false, eps=0.001) act=relu",
        "sepconv 6 3x3 stride=2 pad=1 multiplier=3 bias=true",
    ],
)
def test_sepconv_matches_torch(layer: str) -> None:
    _, model, _, got, want = one_layer(layer)
    assert "SeparableConv2D" in layer_kinds(model)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "options", ["", "eps=0.001", "scale=false", "center=false", "scale=false center=false"]
)
def test_batchnorm_with_and_without_gamma_beta(options: str) -> None:
    node, model, _, got, want = one_layer(f"bn {options}")
    bn = model.get_layer("y")
    assert (bn.scale, bn.center) == (node["attrs"].scale, node["attrs"].center)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == node["params"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", sorted(ACTIVATION_USES))
def test_activations(fn: str) -> None:
    node, _, x, got, _ = one_layer(ACTIVATION_USES[fn])
    np.testing.assert_allclose(got, act_oracle(node["attrs"].fn)(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [3, 4, 5])
def test_lrn_matches_torch(size: int) -> None:
    _, _, _, got, want = one_layer(f"lrn {size} alpha=0.01 beta=0.6 k=1.5", "7 x 3 x 3")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("out", "shape"), [("3x2", "2 x 7 x 5"), ("4x4", "2 x 14 x 14")])
def test_adaptive_avgpool_has_torch_windows(out: str, shape: str) -> None:
    _, _, _, got, want = one_layer(f"adaptive_avgpool {out}", shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["global_avgpool", "global_maxpool"])
def test_global_pools(layer: str) -> None:
    _, _, _, got, want = one_layer(layer)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_flatten_is_channel_major_and_linear_uses_it() -> None:
    _, model, x, got, want = one_layer("{ flatten\n  fc: linear 3 }", "2 x 3 x 2")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    flat = model.get_layer("y.0")(model.get_layer("y.0.nchw")(x.transpose(0, 2, 3, 1)))
    np.testing.assert_array_equal(np.asarray(flat), x.reshape(2, -1).astype("float32"))


def test_concat_add_scale_identity_dropout() -> None:
    layer = "concat {\n  identity\n  dropout 0.5\n  residual scale=0.25 { scale 2.0 }\n}"
    _, _, x, got, _ = one_layer(layer, "2 x 3 x 3")
    np.testing.assert_allclose(got, np.concatenate([x, x, x + 0.25 * 2.0 * x], 1), rtol=1e-6)
