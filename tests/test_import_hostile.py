"""Hostile `inceptdsl import torch` runs (issue 18): the user's code may raise, exit, return
odd things or never return; the command line may be absurd. Each must end in a coded error
(exit 1 or 2) that says what happened, never an internal error, never a silent exit 0, never
a hang: `--timeout` bounds the model's code (importer/bounded.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from inceptdsl.cli import main
from inceptdsl.importers import bounded
from inceptdsl.importers.command import MAX_KWARGS_DEPTH, parse_kwargs, parse_timeout

REPO = Path(__file__).resolve().parent.parent

MODEL = """\
from torch import nn


class Net(nn.Module):
    def __init__(self, c: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3)

    def forward(self, x):
        {forward}


def build(c: int = 4):
    {build}
"""


def _module(tmp_path: Path, name: str, forward: str = "return self.conv(x).relu()",
            build: str = "return Net(c)", head: str = "") -> Path:  # fmt: skip
    path = tmp_path / f"{name}.py"
    body = MODEL.replace("{forward}", forward).replace("{build}", build)
    path.write_text(textwrap.dedent(head) + body, encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import", "torch", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "internal error" not in out.err, out.err
    return code, out.out, out.err


def test_a_module_that_raises_when_imported_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(tmp_path, "raising_mod", head="raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = _run(["raising_mod.build", "--input", "3x8x8"], capsys)
    assert code == 2 and out == ""
    assert "error[E004]: raising_mod failed to import: RuntimeError: boom at import" in err


@pytest.mark.parametrize("form", ["name", "file"])
def test_sys_exit_at_import_is_an_error_not_a_silent_success(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    form: str,
) -> None:
    path = _module(tmp_path, f"exiting_{form}", head="import sys\nsys.exit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    target = f"exiting_{form}.build" if form == "name" else f"{path}:build"
    code, out, err = _run([target, "--input", "3x8x8"], capsys)
    assert code == 2 and out == ""
    assert f"error[E004]: importing {target} called sys.exit(0)" in err


def test_sys_exit_in_the_forward(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _module(tmp_path, "exit_fwd", forward="import sys; sys.exit(3)")
    code, _, err = _run([f"{path}:build", "--input", "3x8x8"], capsys)
    assert code == 2 and "called sys.exit(3)" in err


def test_a_forward_that_returns_a_dict_of_one_tensor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _module(tmp_path, "dict_one", forward="return {'out': self.conv(x).relu()}")
    code, out, err = _run([f"{path}:build", "--input", "3x8x8"], capsys)
    assert code == 0, err
    assert "conv: conv 4 3x3" in out and "state_dict loads strictly" in err
    # two tensors in eval mode: the spec would have one output
    path = _module(tmp_path, "dict_two", forward="y = self.conv(x); return {'a': y, 'b': y.relu()}")
    code, out, err = _run([f"{path}:build", "--input", "3x8x8"], capsys)
    assert code == 1 and out == ""
    assert "error[E601]: the model returns 2 tensors in eval mode" in err


def test_the_models_prints_do_not_mix_into_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _module(tmp_path, "chatty", forward="print('forward!'); return self.conv(x)",
                   head="print('importing!')\n")  # fmt: skip
    code, out, err = _run([f"{path}:build", "--input", "3x8x8"], capsys)
    assert code == 0 and "importing!" in err and "forward!" in err
    assert "!" not in out and "network build {" in out


def test_a_training_only_head_that_cannot_run_at_the_input_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """torchvision's inception_v3 at 224 px: its aux head's 5x5 conv meets a 3x3 map."""
    head = """\
    from torch import nn as _nn


    class Aux(_nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = _nn.Conv2d(4, 2, 5)

        def forward(self, x):
            return self.conv(x)
    """
    path = _module(
        tmp_path,
        "aux_small",
        head=head,
        forward="y = self.conv(x)\n        return (y, self.aux(y)) if self.training else y",
        build="m = Net(c)\n    m.aux = Aux()\n    return m",
    )
    code, _, err = _run([f"{path}:build", "--input", "3x5x5"], capsys)
    assert code == 2
    assert "running the model in training mode (its aux heads) on a 3x5x5 input failed" in err
    assert "--input CxHxW" in err


def test_kwargs_nested_50000_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _module(tmp_path, "ok_deep")
    deep = '{"c": ' + "[" * 50_000 + "]" * 50_000 + "}"
    start = time.perf_counter()
    code, _, err = _run([f"{path}:build", "--kwargs", deep], capsys)
    assert code == 2 and time.perf_counter() - start < 5
    assert "--kwargs nests lists and objects 50,001 deep; the limit is 32" in err
    # at the limit it parses; brackets inside strings do not count
    at_limit = '{"a": ' + "[" * (MAX_KWARGS_DEPTH - 1) + "]" * (MAX_KWARGS_DEPTH - 1) + "}"
    value = parse_kwargs(at_limit)["a"]
    for _ in range(MAX_KWARGS_DEPTH - 2):
        value = value[0]
    assert value == []
    assert parse_kwargs('{"s": "' + "[" * 100 + '"}') == {"s": "[" * 100}
    with pytest.raises(Exception, match="nests"):
        parse_kwargs('{"a": ' + "[" * MAX_KWARGS_DEPTH + "]" * MAX_KWARGS_DEPTH + "}")


def test_an_input_of_30_billion_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _module(tmp_path, "ok_big")
    code, _, err = _run([f"{path}:build", "--input", "3x100000x100000"], capsys)
    assert code == 2
    assert "--input 3x100000x100000 is 30,000,000,000 values per sample" in err


@pytest.mark.parametrize(
    ("where", "forward", "build"),
    [
        ("forward", "while True: pass", "return Net(c)"),
        ("constructor", "return self.conv(x)", "import time\n    while True: time.sleep(0.01)"),
        ("swallowing", "return self.conv(x)",
         "while True:\n        try:\n            time.sleep(10)\n        except Exception:\n"
         "            pass"),
    ],
)  # fmt: skip
def test_code_that_never_returns_is_stopped_by_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, forward: str, build: str
) -> None:
    path = _module(tmp_path, f"hang_{where}", forward=forward, build=build, head="import time\n")
    start = time.perf_counter()
    code, _, err = _run([f"{path}:build", "--input", "3x8x8", "--timeout", "1.5"], capsys)
    took = time.perf_counter() - start
    assert code == 2 and took < 1.5 + bounded.GRACE, took
    assert f"error[E004]: importing {path}:build did not finish within 1.5 s" in err
    assert "--timeout SECONDS" in err


def test_code_that_swallows_the_alarm_is_ended_by_the_watchdog(tmp_path: Path) -> None:
    """`except BaseException: pass` in a loop: the alarm cannot end it; the watchdog does,
    GRACE seconds later, with the same message and exit code 2 (a fresh interpreter)."""
    path = _module(
        tmp_path,
        "stubborn",
        build="while True:\n        try:\n            while True: pass\n"
        "        except BaseException:\n            pass",
    )
    cmd = [sys.executable, "-m", "inceptdsl", "import", "torch", f"{path}:build", "--timeout", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    took = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert "did not finish within 2 s" in proc.stderr and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert took < 60


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "1e9", "abc", ""])
def test_timeout_values(text: str) -> None:
    with pytest.raises(Exception, match="--timeout expects seconds"):
        parse_timeout(text)
    assert parse_timeout("2.5") == 2.5 and parse_timeout(None) == bounded.DEFAULT_TIMEOUT


def test_timeout_is_for_torch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proto = tmp_path / "x.prototxt"
    proto.write_text('name: "x"\n', encoding="utf-8")
    assert main(["import", "caffe", str(proto), "--timeout", "3"]) == 2
    assert "--timeout are for `import torch`" in capsys.readouterr().err


def test_only_the_cli_arms_the_watchdog() -> None:
    """In Python (a notebook) the alarm applies but nothing may end the host process."""
    import threading

    before = threading.active_count()
    with bounded.bounded(60, "x"):
        assert threading.active_count() == before
    with bounded.bounded(60, "x", hard=True):
        assert threading.active_count() == before + 1
    with pytest.raises(Exception, match="x did not finish within 0.2 s"):
        with bounded.bounded(0.2, "x"):
            time.sleep(5)
