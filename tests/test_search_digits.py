"""The worked example of docs/search.md, small: the digits data (upsampled like torch's
bilinear interpolation, split the same way every time), and a 3-trial `inceptdsl search
--train digits` of docs/examples/digits.incept whose trials really train (accuracy far above
chance), pruned ones never trained, with the accuracy/MACs front in its outputs."""

from __future__ import annotations

import csv
import io
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from support.lazy import torch

from inceptdsl.backends.common import digits

SPEC = str(ROOT / "docs" / "examples" / "digits.incept")


def test_upsampling_is_torch_bilinear() -> None:
    imgs = np.random.default_rng(0).random((5, 8, 8), dtype=np.float32)
    ours = digits.upsample(imgs, 32)
    ref = torch.nn.functional.interpolate(
        torch.from_numpy(imgs)[:, None], size=32, mode="bilinear"
    ).numpy()[:, 0]
    tol = 1e-6
    assert np.abs(ours - ref).max() < tol
    # control: one pixel changed by 1% moves the output by more than the tolerance
    moved = imgs.copy()
    moved[2, 3, 4] *= 1.01
    assert np.abs(digits.upsample(moved, 32) - ref).max() > tol


def test_the_split_is_stratified_and_deterministic() -> None:
    a, b = digits.load(), digits.load()
    assert a.x_train.shape == (1347, 1, 32, 32) and a.x_test.shape == (450, 1, 32, 32)
    assert a.x_train.dtype == np.float32 and 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    assert np.array_equal(a.y_test, b.y_test) and np.array_equal(a.x_train, b.x_train)
    per_class = np.bincount(a.y_test, minlength=10)
    assert per_class.min() >= 44 and per_class.max() <= 46  # 25% of each class's ~180
    other = digits.load(seed=1)
    assert not np.array_equal(other.y_test, a.y_test)  # the seed picks the split


def test_a_three_trial_search_trains_and_reports_the_front(tmp_path: Path) -> None:
    out = tmp_path / "trials.csv"
    page = tmp_path / "front.html"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "inceptdsl",
            "search",
            SPEC,
            "--param",
            "width=0.5:1.0:0.25",
            "--param",
            "depth=1:2",
            "--param",
            "kernel=3,5",
            "--where",
            "macs <= 1.5M",
            "--objectives",
            "max:accuracy,macs",
            "--train",
            "digits",
            "--epochs",
            "6",
            "--trials",
            "3",
            "--seed",
            "1",
            "--threads",
            "1",
            "-o",
            str(out),
            "-o",
            str(page),
        ],
        capture_output=True,
        text=True,
        timeout=1800,  # wall clock only as a last resort: the machine may be loaded
        cwd=tmp_path,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 3
    trained = [r for r in rows if r["accuracy"]]
    for r in rows:
        macs = int(r["macs"])
        assert (r["feasible"] == "true") == (macs <= 1_500_000)
        assert bool(r["accuracy"]) == (macs <= 1_500_000)  # a pruned trial is never trained
    assert trained, rows
    for r in trained:
        assert 0.0 <= float(r["test_accuracy"]) <= 1.0
    assert max(float(r["accuracy"]) for r in trained) > 0.5  # chance is 0.1
    front = [r for r in rows if r["front"] == "true"]
    assert front and all(r in trained for r in front)
    best = max(float(r["accuracy"]) for r in trained)
    assert any(float(r["accuracy"]) == best for r in front)
    head = p.stdout.splitlines()[0].split()
    assert head[:6] == ["#", "width", "depth", "kernel", "accuracy", "test_accuracy"]
    html = page.read_text()
    assert '"accuracy"' in html and "<svg" in html
    assert cpu < 300, f"3 trials of 6 epochs took {cpu:.0f} s CPU (about 30 s expected)"


@pytest.mark.parametrize("bad", ["nosuch"])
def test_an_unknown_trainer_is_a_usage_error(bad: str, tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "inceptdsl", "search", SPEC, "--param", "depth=1,2"]
        + ["--train", bad, "--objectives", "max:accuracy"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert p.returncode == 2 and "no such trainer" in p.stderr and "digits" in p.stderr
    assert "Traceback" not in p.stderr
