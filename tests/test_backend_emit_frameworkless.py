"""Writing torch or Keras *source* imports no framework: only building a model does.

A child interpreter in which torch, TensorFlow and Keras cannot be imported (sys.modules[...]
= None) emits every bundled spec through the backend registry; its output must equal the
source emitted here, byte for byte. The control shows the block is real: building a model in
the same child fails.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from conftest import ROOT, bundled_specs

import inceptdsl
from inceptdsl.backend import get

BLOCK = "import sys\nfor m in ('torch', 'tensorflow', 'keras'):\n    sys.modules[m] = None\n"

EMIT_ALL = """
import hashlib, json
import inceptdsl
from inceptdsl.backend import get
out = {}
for path in sys.argv[1:]:
    graph = inceptdsl.load(path).graph
    for name in ("torch", "keras"):
        text = get(name).emit(graph)
        out[f"{name}:{path}"] = hashlib.sha256(text.encode()).hexdigest()
blocked = [m for m in ("torch", "tensorflow", "keras") if sys.modules.get(m) is not None]
print(json.dumps({"digests": out, "imported": blocked}))
"""


def _child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_every_bundled_spec_is_emitted_without_torch_or_tensorflow() -> None:
    specs = [str(p) for p in bundled_specs()]
    done = _child(EMIT_ALL, *specs)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["imported"] == []
    expected = {}
    for path in specs:
        graph = inceptdsl.load(path).graph
        for name in ("torch", "keras"):
            text = get(name).emit(graph)
            assert isinstance(text, str)
            expected[f"{name}:{path}"] = hashlib.sha256(text.encode()).hexdigest()
    assert result["digests"] == expected


def test_control_building_needs_the_blocked_framework() -> None:
    code = (
        "import inceptdsl\nfrom inceptdsl.backend import get\n"
        "graph = inceptdsl.load(sys.argv[1]).graph\n"
        "for name in ('torch', 'keras'):\n"
        "    try:\n        get(name).build(graph)\n"
        "    except ImportError as exc:\n        print(name, 'blocked:', exc)\n"
    )
    done = _child(code, str(bundled_specs()[0]))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "torch blocked" in done.stdout and "keras blocked" in done.stdout
