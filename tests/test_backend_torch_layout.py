"""Emitted torch files are ruff-clean (`ruff check`, `ruff format --check`) as emitted.

The backend lays lines out itself (layout.py) rather than running ruff at emit time, so these
tests run the real ruff, with the project's configuration, on every bundled spec's file, on the
small specs' files, on specs with long names (which force statements to be split) and on
layout.fit's output for statements of every length around the 100-column limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import bundled_specs, spec_id
from support.layout import EDGES, _long_spec, assert_ruff_clean, ruff
from support.torch_specs import SPECS, load

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.common import layout

BACKEND = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def test_bundled_and_small_specs_emit_ruff_clean_files(tmp_path: Path) -> None:
    files = []
    for spec in bundled_specs():
        files.append(tmp_path / f"{spec_id(spec).replace('/', '_')}.py")
        files[-1].write_text(BACKEND.emit(inceptdsl.load(str(spec)).graph))
    for name in SPECS:
        files.append(tmp_path / f"small_{name}.py")
        files[-1].write_text(BACKEND.emit(load(name)))
    files.append(tmp_path / "edges.py")
    files[-1].write_text(BACKEND.emit(inceptdsl.loads(EDGES).graph))
    assert len(files) > len(SPECS)
    assert_ruff_clean(files)


@pytest.mark.parametrize("length", [8, 16, 24])
def test_long_names_are_split_as_ruff_would(tmp_path: Path, length: int) -> None:
    label = ("layer_" * 10)[:length].rstrip("_")
    g = inceptdsl.loads(_long_spec(label)).graph
    path = tmp_path / "long.py"
    path.write_text(BACKEND.emit(g))
    assert_ruff_clean([path])
    BACKEND.build(g)  # and it still runs


@pytest.mark.parametrize("length", [30, 90])
def test_absurdly_long_names_still_give_stable_formatting(tmp_path: Path, length: int) -> None:
    """Attribute chains longer than a line cannot be split by anyone: ruff check reports E501
    on them, but the file is still formatted as ruff formats it, and it runs."""
    g = inceptdsl.loads(_long_spec("x" * length, "net")).graph
    path = tmp_path / "absurd.py"
    path.write_text(BACKEND.emit(g))
    assert_ruff_clean([path], check=False)
    BACKEND.build(g)


def test_fit_agrees_with_ruff_format_at_every_length(tmp_path: Path) -> None:
    lines = ["def f(self, x):"]
    for n in range(40, 130, 3):
        name = "y" * (n - 39)
        lines += layout.fit(
            4, f"x = F.relu(self.{name}.conv(F.pad(x, (0, 1, 0, 1))), inplace=True)", "64 x 35 x 35"
        )
        lines += layout.fit(
            4, f"x = torch.cat([x1, x2, x3, {name}, x4, x5, x6], 1)", "2048 x 8 x 8"
        )
        lines += layout.fit(
            4, f"self.{name} = ConvBN(128, 128, (1, 7), padding=(0, 3), bias=False, eps=0.001)"
        )
        lines += layout.fit(
            4, f"x = avg_pool2d_padded(x, (3, 3), (2, 2), (0, 1, 0, 1), ({name}, 0, 0, 0))"
        )
    lines += ["    return x", ""]
    path = tmp_path / "fit.py"
    path.write_text("\n".join(lines))
    fmt = ruff("format", "--check", "--diff", str(path))
    assert fmt.returncode == 0, fmt.stdout
    # only a name too long for any line may overflow
    assert all(len(line) <= layout.WIDTH or "y" * 50 in line for line in lines)
