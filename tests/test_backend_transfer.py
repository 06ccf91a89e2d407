"""Weight transfer is strict by default: weights that do not fit are an error naming the spec
layers (golden-tested messages), and `strict=False` transfers what fits and reports the rest.

Both directions and both backends: torch <- torch (a torchvision GoogLeNet without aux heads
into ours with them, other class counts, extra tensors), torch <- Keras (an inference model,
which lacks the aux heads), Keras <- torch.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from support.golden import assert_golden
from support.lazy import torch, torchvision
from support.torch_specs import load, randomize

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.errors import UsageError

TORCH = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def _error(fn) -> UsageError:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as info:
        fn()
    return info.value


def test_missing_aux_heads_from_torchvision(request: pytest.FixtureRequest) -> None:
    net = inceptdsl.load(str(ROOT / "specs" / "googlenet.incept"))
    tv = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    err = _error(lambda: net.to_torch(weights_from=tv))
    assert err.code == "E004"
    assert_golden(request, "transfer/torch_missing_aux.txt", err.render() + "\n")


def test_wrong_shapes_and_unexpected_tensors(request: pytest.FixtureRequest) -> None:
    g = load("branches")
    other = TORCH.build(load("branches", num_classes=3)).state_dict()
    other["head.weight"] = torch.zeros(2)
    err = _error(lambda: TORCH.build(g, weights_from=other))
    assert_golden(request, "transfer/torch_shape_unexpected.txt", err.render() + "\n")


def test_torch_from_a_keras_inference_model_lacks_the_aux_heads(
    request: pytest.FixtureRequest,
) -> None:
    from inceptdsl.backends.keras import BACKEND as KERAS

    g = load("auxnet")
    kmodel = KERAS.build(g)  # the inference model: no aux layers
    err = _error(lambda: TORCH.build(g, weights_from=kmodel))
    assert "training=True" in (err.hint or "")
    assert_golden(request, "transfer/torch_from_keras_inference.txt", err.render() + "\n")
    # not strict: the trunk comes over, the aux heads keep their initial values, reported
    with pytest.warns(UserWarning, match="were not transferred"):
        model = TORCH.build(g, weights_from=kmodel, strict=False)
    assert model.not_transferred.missing
    assert all(k.startswith(("aux1.", "aux2.")) for k in model.not_transferred.missing)


def test_keras_from_torch_of_another_size(request: pytest.FixtureRequest) -> None:
    from inceptdsl.backends.keras import BACKEND as KERAS

    g = load("auxnet")
    other = TORCH.build(load("auxnet", num_classes=3))
    err = _error(lambda: KERAS.build(g, weights_from=other, training=True))
    assert_golden(request, "transfer/keras_shape.txt", err.render() + "\n")


def test_not_strict_transfers_what_fits_and_reports_the_rest() -> None:
    g = load("branches")
    source = randomize(TORCH.build(load("branches", num_classes=3)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = TORCH.build(g, weights_from=source, strict=False)
    assert any("fc (weight (3, 48) vs (7, 48)" in str(w.message) for w in caught)
    report = model.not_transferred
    assert report.shape and not report.missing and not report.unexpected
    state, src = model.state_dict(), source.state_dict()
    for key, value in state.items():
        if key.startswith("fc."):
            assert value.shape != src[key].shape
        else:
            assert torch.equal(value, src[key]), key
    # strict and exact: nothing to report
    exact = TORCH.build(g, weights_from=model)
    assert not exact.not_transferred
