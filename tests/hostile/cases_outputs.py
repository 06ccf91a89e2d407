"""Hostile cases for what a command writes (issue 18's "inputs overwritten", its `view` and `new`
crashes, issue 25's messages about writes and `--set`, issue 22's `-o other.incept` and
`-o` over any file inceptdsl did not write).

No command replaces one of its inputs (the spec, its imports, a weights file, a Python module
it executed), writes two outputs to one file, creates a file beside something that is not a
regular file (`/dev/null.pt`), or leaves `view`'s export (which may hold trained weights) in
the temporary directory after a signal. Goldens: tests/hostile/outputs/NAME.golden.
"""

from __future__ import annotations

import io
import os

import numpy as np
from support.harness import Case, Result

TINY = """\
network tiny(c: int = 4) {
  input 3 x 8 x 8
  stem: conv c 3x3
  expect params == 112 source "3*3*3*4 + 4"
}
"""

OTHER = "network other {\n  input 3 x 8 x 8\n  conv 4 3x3\n}\n"

MODULE = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.stem(x))


def build():
    return Net()
"""


def _npz() -> bytes:
    """Trained weights of TINY (deterministic values, not zeros)."""
    buf = io.BytesIO()
    weight = np.linspace(-1, 1, 4 * 3 * 3 * 3, dtype=np.float32).reshape(4, 3, 3, 3)
    np.savez(buf, **{"stem.weight": weight, "stem.bias": np.arange(4, dtype=np.float32)})
    return buf.getvalue()


WEIGHTS = _npz()


def _unchanged(path: str, data: bytes) -> object:
    def check(r: Result) -> None:
        assert (r.root / path).read_bytes() == data, f"{r.case.name}: {path} was replaced"

    return check


def _no_file(path: str) -> object:
    def check(r: Result) -> None:
        assert not os.path.lexists(path), f"{r.case.name}: {path} was created"

    return check


def _no_export_left(r: Result) -> None:
    left = [n for n in os.listdir(r.root / "tmp") if n.startswith("inceptdsl-view-")]
    assert left == [], f"{r.case.name}: the export stayed in the temporary directory: {left}"


def _view_then(signal: str) -> str:
    """`view` with trained weights in the background; once its export exists, `signal`; then
    how it ended and how many exports are left (the port and temporary names normalised)."""
    return (
        "port=$(python3 -c \"import socket; s=socket.socket(); s.bind(('localhost', 0)); "
        'print(s.getsockname()[1])")\n'
        # SIGHUP at its default whatever the suite inherited (`nohup` ignores it)
        "python3 -c 'import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
        "os.execvp(sys.argv[1], sys.argv[1:])' "
        "$INCEPTDSL view a.incept --weights w.npz --no-browser --port $port "
        '2>"$TMPDIR/view.err" & pid=$!\n'
        "i=0\n"
        'while [ -z "$(ls "$TMPDIR"/inceptdsl-view-*/tiny.onnx 2>/dev/null)" ] '
        "&& [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
        'echo "exports while serving: $(ls -d "$TMPDIR"/inceptdsl-view-* | wc -l)"\n'
        f"kill -{signal} $pid; wait $pid\n"
        'echo "view ended: exit $?"\n'
        'echo "exports left: $(ls -d "$TMPDIR"/inceptdsl-view-* 2>/dev/null | wc -l)"\n'
        'sed "s/$port/PORT/g; s/inceptdsl-view-[^/]*/inceptdsl-view-XXX/g" "$TMPDIR/view.err" >&2'
    )


def _optimize(out: str) -> list[str]:
    return ["compile", "a.incept", "--optimize", "--backend", "torch", "--weights", "w.npz"] + [
        "-q",
        "-o",
        out,
    ]


CASES = [
    # ---- no command replaces one of its inputs ---------------------------------------------
    Case(
        "onnx_output_over_the_weights_file",
        ["compile", "a.incept", "--backend", "onnx", "--weights", "w.npz", "-q", "-o", "w.npz"],
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        exit=2,
        check=_unchanged("tree/w.npz", WEIGHTS),
        memory=None,
    ),
    Case(
        "onnx_output_over_a_hard_link_of_the_weights",
        [],
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        shell="ln w.npz out.onnx && "
        "$INCEPTDSL compile a.incept --backend onnx --weights w.npz -q -o out.onnx",
        exit=2,
        may_change=("tree/out.onnx",),  # the hard link the shell made
        check=_unchanged("tree/w.npz", WEIGHTS),
        memory=None,
    ),
    Case(
        "optimize_weights_output_over_the_weights_file",
        _optimize("w.npz"),
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        exit=2,
        check=_unchanged("tree/w.npz", WEIGHTS),
        memory=None,
    ),
    Case(
        "import_torch_over_the_module_it_ran",
        ["import", "torch", "m.py:build", "--input", "3x8x8", "-o", "m.py"],
        {"tree/m.py": MODULE},
        exit=2,
        memory=None,
        timeout=120,
    ),
    Case(
        "import_torch_over_a_module_it_imported_by_name",
        ["import", "torch", "m.build", "--input", "3x8x8", "-o", "m.py"],
        {"tree/m.py": MODULE},
        env={"PYTHONPATH": "."},
        exit=2,
        memory=None,
        timeout=120,
    ),
    # ---- two outputs, one file; a file beside what is not a regular file --------------------
    Case(
        "optimize_source_and_weights_to_one_file",
        _optimize("o.pt"),
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        exit=2,
        memory=None,
    ),
    Case(
        "optimize_weights_beside_dev_null",
        _optimize("/dev/null"),
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        exit=2,
        check=_no_file("/dev/null.pt"),
        memory=None,
    ),
    # ---- view -----------------------------------------------------------------------------
    Case(
        "view_output_over_the_weights_file",
        ["view", "a.incept", "--no-browser", "--weights", "w.npz", "-o", "w.npz"],
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        exit=2,
        check=_unchanged("tree/w.npz", WEIGHTS),
        memory=None,
    ),
    Case(
        "view_to_stdout_is_refused",
        ["view", "a.incept", "--no-browser", "-o", "-"],
        {"tree/a.incept": TINY},
        exit=2,
    ),
    Case(
        "view_port_above_65535",
        ["view", "a.incept", "--no-browser", "--port", "99999"],
        {"tree/a.incept": TINY},
        exit=2,
    ),
    Case(
        "view_negative_port",
        ["view", "a.incept", "--no-browser", "--port", "-1"],
        {"tree/a.incept": TINY},
        exit=2,
    ),
    Case(
        "view_export_removed_on_sigterm",
        [],
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        shell=_view_then("TERM"),
        exit=0,
        stdout=True,
        check=_no_export_left,
        memory=None,
        timeout=120,
    ),
    Case(
        "view_export_removed_on_sighup",
        [],
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS},
        shell=_view_then("HUP"),
        exit=0,
        stdout=True,
        check=_no_export_left,
        memory=None,
        timeout=120,
    ),
    # ---- messages: a write to a full disk, a number too large in --set ---------------------
    Case(
        "report_table_to_a_full_disk",
        [],
        {"tree/a.incept": TINY},
        shell="$INCEPTDSL report googlenet --depth 1 > /dev/full",
        exit=2,
    ),
    Case(
        "set_bundled_image_size_of_5000_digits",
        ["check", "--set", "image_size=" + "9" * 5000, "googlenet"],
        exit=1,
    ),
    # ---- another spec file is replaced only with --force (issue 22 item 10) -----------------
    Case(
        "compile_over_another_spec_file",
        ["compile", "a.incept", "--backend", "torch", "-q", "-o", "other.incept"],
        {"tree/a.incept": TINY, "tree/other.incept": OTHER},
        exit=2,
        check=_unchanged("tree/other.incept", OTHER.encode()),
        memory=None,
    ),
    Case(
        "report_over_another_spec_file_with_force",
        ["report", "a.incept", "--format", "csv", "--force", "-o", "other.incept"],
        {"tree/a.incept": TINY, "tree/other.incept": OTHER},
        exit=0,
        may_change=("tree/other.incept",),
    ),
    # ---- anything inceptdsl did not write is replaced only with --force (issue 22 item 10) ---
    Case(
        "compile_over_a_hand_written_module",
        ["compile", "a.incept", "--backend", "torch", "-q", "-o", "model.py"],
        {"tree/a.incept": TINY, "tree/model.py": MODULE},
        exit=2,
        check=_unchanged("tree/model.py", MODULE.encode()),
    ),
    Case(
        "report_over_a_data_csv",
        ["report", "a.incept", "--format", "csv", "-o", "data.csv"],
        {"tree/a.incept": TINY, "tree/data.csv": "x,y\n1,2\n"},
        exit=2,
        check=_unchanged("tree/data.csv", b"x,y\n1,2\n"),
    ),
    Case(
        "report_over_a_data_csv_with_force",
        ["report", "a.incept", "--format", "csv", "--force", "-o", "data.csv"],
        {"tree/a.incept": TINY, "tree/data.csv": "x,y\n1,2\n"},
        exit=0,
        may_change=("tree/data.csv",),
    ),
    Case(
        "optimize_weights_beside_trained_weights",  # model.pt is someone's: neither is written
        _optimize("model.py"),
        {"tree/a.incept": TINY, "tree/w.npz": WEIGHTS, "tree/model.pt": "trained\n"},
        exit=2,
        check=_unchanged("tree/model.pt", b"trained\n"),
        memory=None,
    ),
    Case(
        "an_earlier_runs_output_is_replaced",  # every format: tests/test_output_origin.py
        [],
        {"tree/a.incept": TINY},
        shell="$INCEPTDSL compile a.incept --backend torch -q -o t.py && "
        "$INCEPTDSL compile a.incept --backend torch -q -o t.py && echo replaced",
        exit=0,
        stdout=True,
        may_change=("tree/t.py",),
    ),
    # ---- new: a bad name is reported on the command line ------------------------------------
    Case("new_named_like_a_keyword", ["new", "network", "--from", "googlenet"], exit=2),
    Case(
        "new_named_like_a_layer", ["new", "conv", "--from", "googlenet", "-o", "v.incept"], exit=2
    ),
]
