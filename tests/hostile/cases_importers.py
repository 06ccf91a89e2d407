"""Hostile cases for `--weights` files and `inceptdsl import` (issue 18), run by
tests/test_hostile_importers.py with the harness of tests/support/harness.py; goldens are in
tests/hostile/importers/. Each case failed before: an internal error (exit 3), a hang, a
silent exit 0, or an error located in a generated file that was never written.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
from support.harness import Case, Fifo

SPEC = """\
network tiny {
  input 3 x 16 x 16
  stem: conv 4 3x3 bias=false bn=bn(eps=0.001) act=relu
  global_avgpool
  flatten
  fc: linear 5
}
"""

SHAPES = {
    "stem.conv.weight": (4, 3, 3, 3),
    "stem.bn.weight": (4,),
    "stem.bn.bias": (4,),
    "stem.bn.running_mean": (4,),
    "stem.bn.running_var": (4,),
    "fc.weight": (5, 4),
    "fc.bias": (5,),
}


def _npz(**changed: np.ndarray) -> bytes:
    arrays = {k: np.full(s, 0.5, np.float32) for k, s in SHAPES.items()}
    arrays.update({k.replace("__", "."): v for k, v in changed.items()})
    out = io.BytesIO()
    np.savez(out, **arrays)  # type: ignore[arg-type]
    return out.getvalue()


def _declaring(n: int, held: int = 20) -> bytes:
    """An .npz whose one member's header declares `n` float32 values and holds `held` bytes."""
    header = io.BytesIO()
    fields = {"descr": "<f4", "fortran_order": False, "shape": (n,)}
    np.lib.format.write_array_header_1_0(header, fields)  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("fc.bias.npy", header.getvalue() + b"\0" * held)
    return out.getvalue()


def _weights(name: str, data: bytes) -> Case:
    return Case(
        name,
        ["compile", "tiny.incept", "--backend", "onnx", "--weights", "w.npz", "-o", "m.onnx"],
        {"tree/tiny.incept": SPEC, "tree/w.npz": data},
        exit=2,
        may_change=("tree/m.onnx",),
        memory=None,
    )


_GOOD = _npz()
_DEEP = "/".join(f"s{i}" for i in range(80))
_LAYER = 'layer {{ name: "{}" type: "ReLU" bottom: "data" top: "data" }}\n'
_HEAD = 'name: "x"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n'
_NET = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        while True:
            pass


def build():
    return Net()
"""

CASES: list[Case] = [
    _weights("weights_npz_of_strings", _npz(fc__bias=np.array(["a"] * 5))),
    _weights("weights_npz_of_records", _npz(fc__bias=np.zeros(5, [("a", "<f4"), ("b", "<i4")]))),
    _weights("weights_npz_of_complex_numbers", _npz(fc__weight=np.zeros((5, 4), np.complex64))),
    _weights("weights_npz_of_dates", _npz(fc__bias=np.zeros(5, "datetime64[s]"))),
    _weights("weights_npz_truncated", _GOOD[: len(_GOOD) // 2]),
    _weights("weights_npz_member_declaring_4e9_floats", _declaring(4_000_000_000)),
    _weights("weights_npz_member_shorter_than_declared", _declaring(3_000_000)),
    _weights("weights_npz_member_of_the_wrong_shape", _declaring(7, 28)),
    Case(
        "import_caffe_fifo",
        ["import", "caffe", "net.prototxt"],
        {"tree/net.prototxt": Fifo()},
        exit=2,
        timeout=30,
    ),
    Case(
        "import_caffe_eight_megabytes_of_fields",
        ["import", "caffe", "big.prototxt"],
        {"tree/big.prototxt": "a: 1\n" * 1_600_000},
        exit=1,
        timeout=60,
    ),
    Case(
        "import_caffe_eight_megabytes_of_comments",
        ["import", "caffe", "big.prototxt"],
        {"tree/big.prototxt": "# c\n" * 2_000_000},
        exit=1,
        timeout=60,
        memory=1024**3,  # the regex's backtracking state took 1 GB here before
    ),
    Case(
        "import_caffe_error_in_the_written_spec",
        ["import", "caffe", "deep.prototxt", "-o", "out.incept"],
        {"tree/deep.prototxt": _HEAD + _LAYER.format(_DEEP) + _LAYER.format(_DEEP + "/b")},
        exit=1,
        may_change=("tree/out.incept",),
    ),
    Case(
        "import_torch_module_exits_at_import",
        ["import", "torch", "quits.py:build"],
        {"tree/quits.py": "import sys\nsys.exit(0)\n"},
        exit=2,
        memory=None,
    ),
    Case(
        "import_torch_module_raises_at_import_by_name",
        ["import", "torch", "boom.build"],
        {"tree/boom.py": "raise RuntimeError('boom at import')\n"},
        exit=2,
        memory=None,
    ),
    Case(
        "import_torch_forward_never_returns",
        ["import", "torch", "net.py:build", "--input", "3x8x8", "--timeout", "2"],
        {"tree/net.py": _NET},
        exit=2,
        memory=None,
        timeout=120,
    ),
    Case(
        "import_torch_kwargs_nested_50000_deep",
        [
            "import",
            "torch",
            "net.py:build",
            "--kwargs",
            '{"a": ' + "[" * 50_000 + "]" * 50_000 + "}",
        ],
        {"tree/net.py": _NET},
        exit=2,
        memory=None,
    ),
    Case(
        "import_torch_input_of_30_billion_values",
        ["import", "torch", "net.py:build", "--input", "3x100000x100000"],
        {"tree/net.py": _NET},
        exit=2,
        memory=None,
    ),
]
