"""torchvision models exported with `torch.onnx.export` and imported with `inceptdsl import
onnx` (issue 20 item 4): googlenet, inception_v3 and resnet50, with random parameters and BN
statistics from a train-mode pass.

torch's exporter folds each batch norm into the conv before it unless constant folding is off
(`do_constant_folding=False`, or `training=TrainingMode.PRESERVE`): the folded file has biased
convs and no BN, so its spec cannot have torchvision's counts. With BN kept, the imported spec's
parameters and buffers equal torchvision's to the unit, its MACs equal FlopCounterMode / 2 for
one sample, the weights file holds exactly torchvision's state_dict keys (BN's `num_batches_tracked`
counters as 0: the file has none) and loads strictly into the compiled torch model, whose outputs
equal torchvision's; compiled with the ONNX backend and the weights file, ONNX Runtime's outputs
equal the file's. Each comparison has its control: one weight changed by 1%.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from support.lazy import torch, torchvision
from support.onnx_import import TOL, import_cli, relative, same_function, trained

import inceptdsl

MODELS = {
    "googlenet": ({"init_weights": False, "aux_logits": False}, 64),
    "inception_v3": ({"init_weights": False, "aux_logits": False}, 96),
    "resnet50": ({}, 64),
}


def _macs(model: torch.nn.Module, size: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, size, size))
    return int(counter.get_total_flops()) // 2


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torchvision_exports_import_exactly(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kwargs, size = MODELS[name]
    model = trained(getattr(torchvision.models, name)(**kwargs), (3, size, size))
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, torch.zeros(1, 3, size, size), str(path), dynamo=False, do_constant_folding=False
        )
    spec, weights, _ = import_cli(path, capsys)
    got, ctl, fig = same_function(path, spec, weights)
    state = model.state_dict()
    bn = sum(v.numel() for k, v in state.items() if k.endswith(("running_mean", "running_var")))
    assert fig == {
        "params": sum(p.numel() for p in model.parameters()),
        "aux_params": 0,
        "buffers": bn,
        "macs": _macs(model, size),
    }
    assert got <= TOL < ctl
    with np.load(weights) as f:
        arrays = {k: torch.from_numpy(f[k]) for k in f.files}
    assert set(arrays) == set(state)  # num_batches_tracked: 0 (the file has no counter)
    net = inceptdsl.load(str(spec))
    built = net.to_torch(weights_from=arrays).eval()  # strict
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        want = model(x).numpy()
        err = relative(built(x).numpy(), want)
        first = next(k for k, v in arrays.items() if v.dim() == 4)
        arrays[first] = arrays[first] * 1.01
        control = relative(net.to_torch(weights_from=arrays).eval()(x).numpy(), want)
    print(f"{name}: onnx {got:.3g} (control {ctl:.3g}), torch {err:.3g} (control {control:.3g})")
    assert err <= TOL < control


def test_a_default_export_with_folded_batch_norms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch.onnx's default folds each BN into its conv and names the weights `onnx::Conv_N`:
    the spec has biased convs named after the modules the nodes ran in (`layer1.0.conv1`), its
    blocks are torchvision's (BasicBlock as `LayerUnit`), its parameters are the file's, and its
    outputs equal the file's."""
    model = trained(torchvision.models.resnet18(), (3, 64, 64))
    path = tmp_path / "folded.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.zeros(1, 3, 64, 64), str(path), dynamo=False)
    spec, weights, _ = import_cli(path, capsys)
    text = spec.read_text()
    assert "block LayerUnit(" in text and "block Conv" not in text and " bn" not in text
    got, ctl, fig = same_function(path, spec, weights)
    assert got <= TOL < ctl
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    fc = model.fc.weight.numel() + model.fc.bias.numel()
    assert fig["params"] == sum(c.weight.numel() + c.out_channels for c in convs) + fc
    with np.load(weights) as f:
        assert {"conv1.weight", "conv1.bias", "layer1.0.conv1.weight", "fc.weight"} <= set(f.files)
