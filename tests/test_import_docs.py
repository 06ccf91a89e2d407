"""docs/import.md's "Not supported" list against the importers' refusals.

Every bullet of the section must have at least one case here (a construct it names, refused by
`inceptdsl import` with E601 and a message that names it), and every case's phrase must still
be in the bullet: a line added to the docs without a refusal, or a refusal whose construct the
docs no longer list, fails. The first two bullets also say who lacks the construct, which the
error's hint must repeat.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

from inceptdsl.errors import SpecError
from inceptdsl.importers.command import import_caffe, import_onnx, import_torch

DOC = ROOT / "docs" / "import.md"

MODELS = """
import torch
from torch import nn
import torch.nn.functional as F
from torchvision.ops import StochasticDepth


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, a, b):
        return self.conv(a) + b


class One(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        extra = {
            "layernorm_width": lambda: nn.LayerNorm(8),
            "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
            "transposed": lambda: nn.ConvTranspose2d(4, 4, 2, stride=2),
            "padding_mode": lambda: nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"),
            "dilated_pool": lambda: nn.MaxPool2d(3, 1, 1, dilation=2),
            "batch_depth": lambda: StochasticDepth(0.1, "batch"),
            "two_inputs": Two,
        }
        if kind in extra:
            self.extra = extra[kind]()
        if kind == "parameter":
            self.gamma = nn.Parameter(torch.ones(4, 8, 8))

    def forward(self, x):
        x = self.conv(x)
        k = self.kind
        if k == "layernorm_width":
            return self.extra(x)
        if k == "softmax":
            return F.softmax(x, 1)
        if k == "gelu_tanh":
            return self.extra(x)
        if k == "batch_depth":
            return self.extra(x)
        if k == "permute":
            return x.permute(0, 1, 3, 2)
        if k == "transposed":
            return self.extra(x)
        if k == "padding_mode":
            return self.extra(x)
        if k == "dilated_pool":
            return self.extra(x)
        if k == "shared":
            return self.conv(torch.relu(x))
        if k == "parameter":
            return x + self.gamma
        if k == "two_inputs":
            return self.extra(x, torch.relu(x))
        raise ValueError(k)


def build(kind):
    return One(kind)
"""

DECONV = """
name: "deconv"
input: "data"
input_shape { dim: 1 dim: 4 dim: 8 dim: 8 }
layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
  convolution_param { num_output: 4 kernel_size: 2 stride: 2 } }
"""

ELTWISE_MAX = """
name: "emax"
input: "data"
input_shape { dim: 1 dim: 4 dim: 8 dim: 8 }
layer { name: "a" type: "Convolution" bottom: "data" top: "a"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "m" type: "Eltwise" bottom: "data" bottom: "a" top: "m"
  eltwise_param { operation: MAX } }
"""

# (bullet number, phrase of that bullet, torch kind or Caffe text, message, hint or None)
CASES = [
    (
        0,
        "a LayerNorm over dimensions other than the channels",
        "layernorm_width",
        "a LayerNorm over [8]",
        "the language has this construct",
    ),
    (1, "a softmax inside the network", "softmax", "softmax", "the language cannot express"),
    (
        1,
        "GELU with the tanh approximation",
        "gelu_tanh",
        "approximate='tanh'",
        "the language cannot express",
    ),
    (
        1,
        "stochastic depth in `batch` mode",
        "batch_depth",
        "mode 'batch'",
        "the language cannot express",
    ),
    (
        1,
        "permutes other\n  than to channels-last and back",
        "permute",
        "a permute [0, 1, 3, 2]",
        "the language cannot express",
    ),
    (2, "Transposed or 1-D/3-D convolutions", "transposed", "ConvTranspose2d", None),
    (2, "non-zero padding modes", "padding_mode", "padding_mode='reflect'", None),
    (2, "dilated max pools", "dilated_pool", "dilated max pool", None),
    (3, "Weights shared between two calls", "shared", "called twice", None),
    (
        3,
        "parameters or\n  buffers used directly in a forward other than as a layer scale",
        "parameter",
        "gamma: a parameter or buffer used directly",
        None,
    ),
    (4, "modules with more than one input or output", "two_inputs", "takes 2 inputs", None),
    (5, "Deconvolution", DECONV, "Deconvolution", None),
    (5, "Eltwise MAX", ELTWISE_MAX, "MAX", None),
    (6, "ConvTranspose", "onnx:deconv", "(ConvTranspose): op ConvTranspose has no", "cannot"),
    (6, "a `Reshape` other than flatten", "onnx:reshape", "a reshape of [4, 8, 8] to", "cannot"),
    (6, "`Add` of a constant", "onnx:add_const", "an add of a constant", "cannot"),
    (6, "several graph inputs or outputs", "onnx:two_outputs", "the graph has 2 outputs", None),
    (6, "an add that broadcasts", "onnx:broadcast", "an add that broadcasts", "the language has"),
]


def _onnx_model(kind: str) -> bytes:
    """A conv, then the refused construct (an .onnx file for `inceptdsl import onnx`)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 4, 3, 3), np.float32), "conv.weight")
    c = numpy_helper.from_array(np.ones((1, 4, 8, 8), np.float32), "c")
    shape = numpy_helper.from_array(np.array([1, 4, 64], np.int64), "shape")
    nodes = [helper.make_node("Conv", ["x", "conv.weight"], ["a"], name="/conv/Conv", pads=[1] * 4)]
    outs = ["y"]
    nodes += {
        "deconv": [helper.make_node("ConvTranspose", ["a", "conv.weight"], ["y"], name="/up/Up")],
        "reshape": [helper.make_node("Reshape", ["a", "shape"], ["y"], name="/r/Reshape")],
        "add_const": [helper.make_node("Add", ["a", "c"], ["y"], name="/b/Add")],
        "two_outputs": [
            helper.make_node("Relu", ["a"], ["y"]),
            helper.make_node("Relu", ["a"], ["z"]),
        ],
        "broadcast": [
            helper.make_node("GlobalAveragePool", ["a"], ["g"]),
            helper.make_node("Add", ["a", "g"], ["y"], name="/b/Add"),
        ],
    }[kind]
    if kind == "two_outputs":
        outs.append("z")
    graph = helper.make_graph(
        nodes,
        "refused",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
        [w, c, shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


def _bullets() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Not supported", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.split(r"\n- ", "\n" + section.split("\n", 1)[1]) if b.strip()]


def test_every_bullet_has_a_refusal_and_every_phrase_is_in_its_bullet() -> None:
    bullets = _bullets()
    assert len(bullets) == 7, bullets
    assert {c[0] for c in CASES} == set(range(len(bullets)))
    for n, phrase, *_ in CASES:
        assert phrase in bullets[n], (phrase, bullets[n])
    assert "does not recover them yet" in bullets[0] and "The language lacks" in bullets[1]


@pytest.fixture(scope="module")
def models_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("refused") / "refused_models.py"
    path.write_text(textwrap.dedent(MODELS))
    return path


@pytest.mark.parametrize(
    ("n", "phrase", "what", "message", "hint"), CASES, ids=[c[1][:30] for c in CASES]
)
def test_the_listed_construct_is_refused(
    models_file: Path,
    tmp_path: Path,
    n: int,
    phrase: str,
    what: str,
    message: str,
    hint: str | None,
) -> None:
    with pytest.raises(SpecError) as err:
        if what.startswith("onnx:"):
            path = tmp_path / "refused.onnx"
            path.write_bytes(_onnx_model(what[5:]))
            import_onnx(str(path), None, "x.incept", None)
        elif "\n" in what:
            path = tmp_path / "refused.prototxt"
            path.write_text(what)
            import_caffe(str(path), None, "x.incept")
        else:
            import_torch(f"{models_file}:build", {"kind": what}, (4, 8, 8), "x.incept")
    assert err.value.code == "E601", (err.value.code, str(err.value))
    assert message in str(err.value), str(err.value)
    if hint is not None:
        assert hint in (err.value.hint or ""), err.value.hint
