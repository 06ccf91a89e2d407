"""The newer ops against their definitions (NumPy, or the reference implementation's own
function), in the torch backend; tests/test_ops_backends.py then shows Keras computes the same.

Each op is built alone in a one-layer network with random parameters; drop path is checked for
what it does in training (whole samples kept and rescaled, or zeroed) and in eval (nothing).
"""

from __future__ import annotations

import numpy as np
import pytest
from support.fidelity import randomize_params
from support.lazy import torch

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.keras import BACKEND as KERAS

TORCH = get("torch")


def one(
    layer: str, shape: str = "6 x 5 x 5", seed: int = 0
) -> tuple[torch.nn.Module, np.ndarray, np.ndarray]:
    net = inceptdsl.loads(f"network n {{\n  input {shape}\n  y: {layer}\n}}\n", "t.incept")
    model = randomize_params(TORCH.build(net.graph), seed).eval()
    x = np.random.default_rng(seed).standard_normal((2, *net.input_shape)).astype("float32")
    with torch.no_grad():
        y = model(torch.from_numpy(x)).double().numpy()
    return model, x.astype("float64"), y


def test_multiply_broadcasts_a_gate() -> None:
    _, x, y = one("multiply {\n    identity\n    global_avgpool\n  }")
    np.testing.assert_allclose(y, x * x.mean(axis=(2, 3), keepdims=True), rtol=1e-5, atol=1e-6)


def test_slice_and_split() -> None:
    _, x, y = one("slice 1 3")
    np.testing.assert_array_equal(y, x[:, 1:4])
    _, x, y = one("concat split=(2, 4) {\n    scale 2.0\n    scale 3.0\n  }")
    np.testing.assert_allclose(y, np.concatenate([2 * x[:, :2], 3 * x[:, 2:]], 1), rtol=1e-6)


@pytest.mark.parametrize("groups", [2, 3])
def test_shuffle_is_torchvisions(groups: int) -> None:
    from torchvision.models.shufflenetv2 import channel_shuffle as tv_channel_shuffle

    _, x, y = one(f"shuffle {groups}")
    want = tv_channel_shuffle(torch.from_numpy(x), groups).numpy()
    np.testing.assert_array_equal(y, want)


def test_zeropad() -> None:
    _, x, y = one("zeropad ((0, 1), (2, 0))")
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (0, 1), (2, 0))))


def test_layernorm_over_each_positions_channels_and_over_vectors() -> None:
    model, x, y = one("layernorm eps=1e-6")
    w = model.y.weight.detach().double().numpy()[None, :, None, None]
    b = model.y.bias.detach().double().numpy()[None, :, None, None]
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-6) * w + b, rtol=1e-4, atol=1e-5)
    model, x, y = one("layernorm", "7 x 1 x 1")
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    w, b = (
        t.detach().double().numpy()[None, :, None, None] for t in (model.y.weight, model.y.bias)
    )
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5) * w + b, rtol=1e-4, atol=1e-5)


def test_groupnorm() -> None:
    model, x, y = one("groupnorm 3 eps=1e-3")
    g = x.reshape(2, 3, 2, 5, 5)
    mean, var = g.mean(axis=(2, 3, 4), keepdims=True), g.var(axis=(2, 3, 4), keepdims=True)
    norm = ((g - mean) / np.sqrt(var + 1e-3)).reshape(x.shape)
    w, b = (
        t.detach().double().numpy()[None, :, None, None] for t in (model.y.weight, model.y.bias)
    )
    np.testing.assert_allclose(y, norm * w + b, rtol=1e-4, atol=1e-5)


def test_layer_scale_parameter_sits_at_the_node_path() -> None:
    net = inceptdsl.loads(
        "network n {\n  input 4 x 3 x 3\n  blk: {\n    conv 4 1x1\n"
        "    gamma: layer_scale init=0.25\n  }\n}\n",
        "t.incept",
    )
    model = TORCH.build(net.graph)
    assert "blk.gamma" in model.state_dict()
    assert torch.equal(model.state_dict()["blk.gamma"], torch.full((4,), 0.25))
    kmodel = KERAS.build(net.graph)
    assert [v.path for v in kmodel.get_layer("blk.gamma").weights] == ["blk.gamma/gamma"]
    np.testing.assert_allclose(np.asarray(kmodel.get_layer("blk.gamma").weights[0]), 0.25)
    model, x, y = one("layer_scale init=0.5")
    np.testing.assert_allclose(y, x * model.y.detach().double().numpy()[None, :, None, None])


def test_drop_path_drops_whole_samples_in_training_only() -> None:
    model, x, y = one("drop_path 0.5", "3 x 4 x 4")
    np.testing.assert_array_equal(y, x.astype("float32"))  # eval: identity
    model.train()
    torch.manual_seed(0)
    xs = torch.ones(400, 3, 4, 4)
    with torch.no_grad():
        out = model(xs)
    per_sample = out.flatten(1)
    kept = (per_sample == 2.0).all(dim=1)  # kept samples are divided by 1 - p
    dropped = (per_sample == 0.0).all(dim=1)
    assert bool((kept | dropped).all())
    assert 150 < int(kept.sum()) < 250  # about half
    kmodel = KERAS.build(
        inceptdsl.loads("network n {\n  input 3 x 4 x 4\n  y: drop_path 0.5\n}\n", "t.incept").graph
    )
    kout = np.asarray(kmodel(np.ones((400, 4, 4, 3), "float32"), training=True)).reshape(400, -1)
    kkept = (kout == 2.0).all(axis=1)
    assert bool((kkept | (kout == 0.0).all(axis=1)).all()) and 150 < int(kkept.sum()) < 250
    np.testing.assert_array_equal(
        np.asarray(kmodel(np.ones((2, 4, 4, 3), "float32"), training=False)), 1.0
    )


def test_dwconv_is_a_conv_with_one_group_per_channel() -> None:
    model, x, y = one("dwconv 3x3 pad=1 multiplier=2 bias=false")
    conv = model.y
    assert (conv.groups, conv.in_channels, conv.out_channels) == (6, 6, 12)
    w = conv.weight.detach().double()
    want = torch.nn.functional.conv2d(torch.from_numpy(x), w, padding=1, groups=6).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
