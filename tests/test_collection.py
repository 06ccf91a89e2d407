"""Collecting the suite imports no framework: test files take torch, TensorFlow, Keras and ONNX
from tests/support/lazy.py (imported on first use) or inside their tests, and import their
helpers from tests/support/, never from each other. So `pytest --collect-only` and the first
result of `pytest -m core` come in seconds (docs/contributing.md has the measured times).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest
from conftest import ROOT
from tiers import FRAMEWORKS

CHILD = """
import json, sys
import pytest

class Seen:
    def pytest_collection_finish(self, session):
        self.n = len(session.items)
        self.loaded = sorted({m.split(".")[0] for m in sys.modules} & set(FRAMEWORKS))

seen = Seen()
rc = pytest.main(["tests", "--collect-only", "-qq", *sys.argv[1:]], plugins=[seen])
print("RESULT", json.dumps({"rc": int(rc), "n": seen.n, "loaded": seen.loaded}))
"""


def _collect(*args: str) -> tuple[dict[str, object], float]:
    """Collect in a fresh interpreter: its result and its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = f"FRAMEWORKS = {FRAMEWORKS!r}\n{CHILD}"
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, out.stdout[-2000:] + out.stderr[-2000:]
    return json.loads(line.removeprefix("RESULT ")), cpu


@pytest.mark.parametrize(("args", "allowed"), [((), {"onnx"}), (("-m", "core"), set())])
def test_collecting_imports_no_framework(args: tuple[str, ...], allowed: set[str]) -> None:
    """(The ONNX backend module imports `onnx`, 0.7 s, which test_backend_onnx.py imports.)"""
    result, cpu = _collect(*args)
    assert result["rc"] == 0
    assert int(result["n"]) > (1000 if args else 2000)  # type: ignore[call-overload]
    assert set(result["loaded"]) <= allowed, result["loaded"]  # type: ignore[arg-type]
    assert cpu < 15, f"collecting took {cpu:.1f} s of CPU"  # measured ~6 s; 16 s before
