"""`inceptdsl import torch`: torchvision's googlenet, inception_v3, resnet18 and timm's
inception_v4 imported into specs that reproduce them.

For each model: the spec is canonical, its report equals the bundled hand-written spec's
figures (params, aux params, buffers, MACs to the unit), it recovers about as many blocks as
the hand-written spec uses, the model's state_dict loads strictly into the compiled spec, and
the eval outputs agree, with BN statistics set from a training-mode pass; a control shows that
a 1% change of one weight exceeds the tolerance. Then what cannot be imported: each construct
is named, with its module path, in a located E601 error.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
from conftest import SPECS
from support.import_check import _bn_from_train_pass, _rel_diff
from support.lazy import nn, torch, torchvision

import inceptdsl
from inceptdsl.cli import main
from inceptdsl.errors import UnsupportedModelError
from inceptdsl.fmt import format_source
from inceptdsl.importers.command import import_torch

TOLERANCE = 1e-4  # max |spec - model| / max |model|, float32


def _timm_v4() -> nn.Module:
    from timm.models.inception_v4 import inception_v4

    return inception_v4()


CASES = {
    "googlenet": (
        "torchvision.models.googlenet",
        {"aux_logits": True, "init_weights": False},
        (3, 224, 224),
        lambda: torchvision.models.googlenet(aux_logits=True, init_weights=False),
        SPECS / "googlenet.incept",
    ),
    "inception_v3": (
        "torchvision.models.inception_v3",
        {"init_weights": False},
        (3, 299, 299),
        lambda: torchvision.models.inception_v3(init_weights=False),
        SPECS / "inception_v3.incept",
    ),
    "resnet18": (
        "torchvision.models.resnet18",
        {},
        (3, 224, 224),
        lambda: torchvision.models.resnet18(),
        SPECS / "cnn" / "resnet18.incept",
    ),
    "inception_v4": (
        "timm.models.inception_v4.inception_v4",
        {},
        (3, 299, 299),
        _timm_v4,
        SPECS / "inception_v4.incept",
    ),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def imported(request: pytest.FixtureRequest) -> tuple[str, str, list[str]]:
    name = request.param
    target, kwargs, shape, _, _ = CASES[name]
    text, summary = import_torch(target, kwargs, shape, f"{name}.incept")
    return name, text, summary


def test_spec_is_canonical(imported: tuple[str, str, list[str]]) -> None:
    name, text, _ = imported
    assert format_source(text, f"{name}.incept") == text
    assert text.count('source "imported from') >= 3


def test_report_equals_the_hand_written_spec(imported: tuple[str, str, list[str]]) -> None:
    name, text, _ = imported
    mine = inceptdsl.loads(text, f"{name}.incept")
    theirs = inceptdsl.load(str(CASES[name][4]))
    a, b = mine.report(), theirs.report()
    assert (a.params, a.aux_params, a.buffers, a.macs) == (
        b.params,
        b.aux_params,
        b.buffers,
        b.macs,
    )
    assert all(r.ok for r in mine.verify())
    # The hand-written spec's blocks (those visible in it) against the imported spec's.
    hand = len(theirs.program.root.blocks)
    recovered = sum(1 for line in text.splitlines() if line.startswith("block "))
    assert abs(recovered - hand) <= 1, (recovered, hand)


def test_state_dict_loads_strictly_and_outputs_agree(imported: tuple[str, str, list[str]]) -> None:
    name, text, _ = imported
    _, _, shape, make, _ = CASES[name]
    torch.manual_seed(0)
    model = make()
    _bn_from_train_pass(model, shape)
    built = inceptdsl.loads(text, f"{name}.incept").to_torch(weights_from=model.state_dict())
    built.eval()
    assert _rel_diff(model, built, shape) <= TOLERANCE
    # Control: 1% more on one weight tensor (the first convolution's) must show.
    state = built.state_dict()
    first = next(k for k, v in state.items() if k.endswith("weight") and v.dim() == 4)
    state[first] = state[first] * 1.01
    built.load_state_dict(state)
    assert _rel_diff(model, built, shape) > TOLERANCE


def test_import_is_deterministic() -> None:
    target, kwargs, shape, _, _ = CASES["resnet18"]
    first, _ = import_torch(target, kwargs, shape, "r.incept")
    second, _ = import_torch(target, kwargs, shape, "r.incept")
    assert first == second


# ---- the command line, and what cannot be imported -----------------------------------------


MODELS = '''
import torch
from torch import nn
import torch.nn.functional as F


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return torch.maximum(self.a(x), torch.sigmoid(self.b(x)))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Gate()
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.body(x), 1), 1))


class Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.spare = nn.Linear(4, 4)

    def forward(self, x):
        return self.conv(x)


class ManyUnused(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.spare = nn.ModuleList(nn.Linear(4, 4) for _ in range(5))

    def forward(self, x):
        return self.conv(x)


class Dynamic(nn.Module):
    """Data-dependent control flow: torch.fx cannot trace it, module hooks can."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        if x.sum() > -1e9:
            y = F.max_pool2d(y, 2)
        return self.fc(y.mean((2, 3)))


class Transposed(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(3, 8, 2, stride=2)

    def forward(self, x):
        return self.up(x)


def build(kind="head"):
    return {
        "head": Head,
        "unused": Unused,
        "many_unused": ManyUnused,
        "dynamic": Dynamic,
        "transposed": Transposed,
    }[kind]()
'''


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(textwrap.dedent(MODELS))
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("head", "maximum in body (Gate): the function torch."),
        ("unused", "modules with parameters that no forward uses: spare"),
        # the first three and a count (backends/common/listing.py, shared with weights files)
        (
            "many_unused",
            "modules with parameters that no forward uses: spare.0, spare.1, spare.2 (+2 more)",
        ),
        ("transposed", "up (ConvTranspose2d): the module torch.nn.modules.conv.ConvTranspose2d"),
    ],
)
def test_unsupported_constructs_are_named(
    models_file: Path, kind: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.incept"
    rc = main(
        [
            "import",
            "torch",
            f"{models_file}:build",
            "--kwargs",
            f'{{"kind": "{kind}"}}',
            "--input",
            "3x16x16",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "error[E601]" in err and message in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert not out.exists()


def test_fx_failure_falls_back_to_module_hooks(models_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "dyn.incept"
    rc = main(
        [
            "import",
            "torch",
            f"{models_file}:build",
            "--kwargs",
            '{"kind": "dynamic"}',
            "--input",
            "3x16x16",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    text = out.read_text()
    assert "traced with module hooks" in text and "torch.fx could not trace it" in text
    net = inceptdsl.load(str(out))
    assert [n for n in net.graph if n != "input"][0] == "conv"
    assert all(r.ok for r in net.verify())


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "torch", "torchvision.models.no_such_model"]) == 2
    assert main(["import", "torch", "torchvision.models.resnet18", "--kwargs", "[1]"]) == 2
    assert main(["import", "torch", "torchvision.models.resnet18", "--input", "224x224"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error[E004]") == 3


def test_unsupported_error_class() -> None:
    assert UnsupportedModelError.code == "E601"


def test_copy_of_model_is_not_changed_by_import() -> None:
    """The importer runs training-mode passes only on copies."""
    from inceptdsl.backend import importer

    graph, session = importer("torch").load("torchvision.models.resnet18", {}, (3, 64, 64))
    before = copy.deepcopy(session.model.state_dict())
    text = inceptdsl.importers.writer.write_spec(graph)
    importer("torch").check(session, inceptdsl.loads(text).graph)
    after = session.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
