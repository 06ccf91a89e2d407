"""Emitted Keras files are ruff-clean (`ruff check`, `ruff format --check`) as emitted.

The backend lays lines out itself (layout.py, with the case of a layer applied where it is
built, `layers.Dense(...)(x)`) rather than running ruff at emit time, so these tests run the
real ruff, with the project's configuration, on every bundled spec's file, on the small specs'
files, on specs with long names (which force statements to be split) and on layout.fit's output
for the statement forms the backend writes, at every length around the 100-column limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import bundled_specs, spec_id
from support.keras_specs import SPECS, load
from support.layout import _long_spec, assert_ruff_clean, ruff

import inceptdsl
from inceptdsl.backends.common import layout
from inceptdsl.backends.keras import BACKEND


def test_bundled_and_small_specs_emit_ruff_clean_files(tmp_path: Path) -> None:
    files = []
    for spec in bundled_specs():
        files.append(tmp_path / f"{spec_id(spec).replace('/', '_')}.py")
        files[-1].write_text(BACKEND.emit(inceptdsl.load(str(spec)).graph))
    for name in SPECS:
        files.append(tmp_path / f"small_{name}.py")
        files[-1].write_text(BACKEND.emit(load(name)))
    assert len(files) > len(SPECS)
    assert_ruff_clean(files)


@pytest.mark.parametrize("length", [8, 16, 24, 40])
def test_long_names_are_split_as_ruff_would(tmp_path: Path, length: int) -> None:
    label = ("layer_" * 10)[:length].rstrip("_")
    g = inceptdsl.loads(_long_spec(label)).graph
    path = tmp_path / "long.py"
    path.write_text(BACKEND.emit(g))
    assert_ruff_clean([path])
    BACKEND.build(g, training=True)  # and it still runs


@pytest.mark.parametrize("length", [30, 90])
def test_absurdly_long_names_still_give_stable_formatting(tmp_path: Path, length: int) -> None:
    """Names longer than a line cannot be split by anyone: ruff check reports E501 on them,
    but the file is still formatted as ruff formats it, and it runs."""
    g = inceptdsl.loads(_long_spec("x" * length, "net")).graph
    path = tmp_path / "absurd.py"
    path.write_text(BACKEND.emit(g))
    assert_ruff_clean([path], check=False)
    BACKEND.build(g, training=True)


def test_fit_agrees_with_ruff_format_at_every_length(tmp_path: Path) -> None:
    lines = ["def f(x, x1, x2, x3, x4, x5, x6):"]
    for n in range(30, 140, 3):
        name = "y" * (n - 29)
        statements = [
            f'x = layers.Conv2D(32, 3, strides=2, padding="same", name="{name}.conv")(x)',
            f'x12 = layers.Concatenate(name="{name}")([x1, x2, x3, x4, x5, x6])',
            f'x = layers.Activation("relu", name="{name}.act")(x)',
            f'x = conv_bn(x, 64, (1, 7), padding=((0, 1), (3, 3)), scale=False, name="{name}")',
            f"x = PaddedAveragePooling2D((3, 3), (2, 2), ((1, 2), (1, 2)), ((1, 1), (1, 1)), "
            f'name="{name}")(x)',
            f'x = layers.Dense(1000, use_bias=False, name="{name}")(x)',
        ]
        for code in statements:
            lines += layout.fit(4, code, "149 x 149 x 32")
            lines += layout.fit(4, code)
            lines += ["    if x:", *layout.fit(8, code, "aux"), *layout.fit(8, code)]
    lines += ["    return x", ""]
    path = tmp_path / "fit.py"
    path.write_text("\n".join(lines))
    fmt = ruff("format", "--check", "--diff", str(path))
    assert fmt.returncode == 0, fmt.stdout
    assert all(len(line) <= layout.WIDTH or "y" * 60 in line for line in lines)
