"""The core works without any deep-learning framework: `import inceptdsl`, loading, reporting
and verifying every bundled spec never imports torch, tensorflow, keras or jax.

Run in a fresh interpreter (this test process may already hold torch from other tests) where
the frameworks are made unimportable (`sys.modules[name] = None` makes `import name` raise
ImportError), so an accidental import fails loudly instead of passing because the framework
happens to be installed. The CLI commands that need no backend run there too.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, bundled_specs

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax")

CHILD = """
import contextlib, io, json, sys
FRAMEWORKS = {frameworks!r}
for name in FRAMEWORKS:
    sys.modules[name] = None  # import name -> ImportError
import inceptdsl
from inceptdsl.cli import main
specs = json.loads(sys.argv[1])
results = {{}}
for path in specs:
    net = inceptdsl.load(path)
    rep = net.report()
    json.loads(rep.to_json(None)), rep.to_csv(1), rep.to_markdown(1), rep.to_table(1)
    failed = [r.describe() for r in net.verify() if not r.ok]
    results[path] = [rep.params, failed]
with contextlib.redirect_stdout(io.StringIO()):
    codes = [main(["verify", *specs]), main(["list"]), main(["ir", specs[0]])]
    codes += [main(["report", "--format", "json", specs[0]]), main(["diff", specs[0], specs[-1]])]
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in FRAMEWORKS and sys.modules[m] is not None
    or m.startswith("inceptdsl.backends")
)
print(json.dumps({{"results": results, "codes": codes, "loaded": loaded}}))
"""


def test_core_never_imports_a_framework() -> None:
    specs = [str(p.relative_to(ROOT)) for p in bundled_specs()]
    assert specs, "no bundled specs found"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(frameworks=FRAMEWORKS), json.dumps(specs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["loaded"] == []
    assert report["codes"] == [0, 0, 0, 0, 0]
    assert sorted(report["results"]) == sorted(specs)
    failing = {p: f for p, (_, f) in report["results"].items() if f}
    assert failing == {}
    assert all(params > 0 for params, _ in report["results"].values())
