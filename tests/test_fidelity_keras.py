"""Fidelity: the specs in specs/keras/, built by the Keras backend, are keras.applications' models.

For InceptionV3, InceptionResNetV2 and Xception (`weights=None, classifier_activation=None`),
at the default size and classes and at 224 x 224 with 10 classes: the same weight count,
trainable and non-trainable counts, and the same weight shapes in the same order, so that
`build(graph, weights_from=ref)` (positional, as `set_weights(ref.get_weights())`) loads the
reference's weights. With them (randomised, BN moving statistics set from a training-mode call
on random data, then perturbed) both models agree in inference (max difference <= 1e-5 of the
output's scale) and after a training-mode call, in outputs and in the BN moving statistics it
leaves behind (epsilon and momentum). Each output comparison has its control: with our first
kernel changed by 1%, it must exceed the tolerance.
Each model pair is built once per module (InceptionResNetV2 takes seconds to build).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from support.fidelity import calibrate_keras_bn, keras_control
from support.keras_specs import randomize_keras
from support.lazy import keras

import inceptdsl
from inceptdsl.backends.keras import BACKEND

SPECS = Path(__file__).resolve().parent.parent / "specs" / "keras"

APPS: dict[str, Callable[..., keras.Model]] = {
    "inception_v3": lambda **kw: keras.applications.InceptionV3(**kw),
    "inception_resnet_v2": lambda **kw: keras.applications.InceptionResNetV2(**kw),
    "xception": lambda **kw: keras.applications.Xception(**kw),
}
# (spec, image_size, num_classes): the default, and a smaller input with another head
TOL = 1e-5
CASES = [(spec, size, n) for spec in APPS for size, n in ((299, 1000), (224, 10))]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def pair(request: pytest.FixtureRequest) -> tuple[keras.Model, keras.Model, int]:
    spec, size, n = request.param
    ref = APPS[spec](
        weights=None, classifier_activation=None, input_shape=(size, size, 3), classes=n
    )
    randomize_keras(ref, seed=size + n)
    calib = np.random.default_rng(size + 1).standard_normal((4, size, size, 3)).astype("float32")
    calibrate_keras_bn(ref, calib)
    g = inceptdsl.load(str(SPECS / f"{spec}.incept"), image_size=size, num_classes=n).graph
    ours = BACKEND.build(g, weights_from=ref)
    return ours, ref, size


def _count(weights: list) -> int:
    return sum(int(np.prod(v.shape)) for v in weights)


def test_counts_equal_the_reference(pair: tuple[keras.Model, keras.Model, int]) -> None:
    ours, ref, _ = pair
    assert ours.count_params() == ref.count_params()
    assert _count(ours.trainable_weights) == _count(ref.trainable_weights)
    assert _count(ours.non_trainable_weights) == _count(ref.non_trainable_weights)


def test_weights_line_up_by_position(pair: tuple[keras.Model, keras.Model, int]) -> None:
    ours, ref, _ = pair
    assert [tuple(v.shape) for v in ours.weights] == [tuple(v.shape) for v in ref.weights]
    assert [v.trainable for v in ours.weights] == [v.trainable for v in ref.weights]
    for a, b in zip(ours.get_weights(), ref.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_outputs_and_training_call_equal_the_reference(
    pair: tuple[keras.Model, keras.Model, int],
) -> None:
    ours, ref, size = pair
    x = np.random.default_rng(size).standard_normal((2, size, size, 3)).astype("float32")
    want = np.asarray(ref(x, training=False))
    got = np.asarray(ours(x, training=False))
    assert np.abs(got - want).max() <= TOL * np.abs(want).max()
    delta = keras_control(ours, lambda: ours(x, training=False), want, TOL)
    print(f"keras eval tolerance {TOL}, control {delta:.1e}")
    # a training-mode call normalises with the batch statistics and updates the moving ones
    want = np.asarray(ref(x, training=True))
    got = np.asarray(ours(x, training=True))
    assert np.abs(got - want).max() <= TOL * np.abs(want).max()
    for a, b in zip(ours.non_trainable_weights, ref.non_trainable_weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    delta = keras_control(ours, lambda: ours(x, training=True), want, TOL)
    print(f"keras training tolerance {TOL}, control {delta:.1e}")
