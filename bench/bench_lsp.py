"""How fast `inceptdsl lsp` answers as you type: time from a didChange of
specs/inception_v4.incept (with its imports) to its publishDiagnostics, over stdio with a raw
JSON-RPC client, against the 100 ms target. Each change edits a different line (so nothing of
the open file is cached) and alternates between a valid and a broken text; imports stay parsed
between changes (the loader memoises parses). Prints the median and the worst of N changes,
and the ratio to a cold analysis (first open, imports parsed from scratch).

    .venv/bin/python bench/bench_lsp.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.lsp_client import Client  # noqa: E402

TARGET_MS = 100.0


def main(n: int = 30) -> None:
    spec = ROOT / "specs" / "inception_v4.incept"
    text = spec.read_text()
    c = Client()
    t0 = time.perf_counter()
    uri = c.open(spec, text)
    assert c.diagnostics(uri) == []
    cold = (time.perf_counter() - t0) * 1000
    times = []
    for i in range(n):
        broken = i % 2 == 1
        new = text + f"\n# edit {i}\n"
        if broken:
            new = new.replace("stride=2", "strde=2", 1)
        t = time.perf_counter()
        c.change(uri, new, i + 2)
        diags = c.diagnostics(uri)
        times.append((time.perf_counter() - t) * 1000)
        assert bool(diags) == broken, diags
    c.close()
    med, worst = statistics.median(times), max(times)
    print(f"inception_v4 didChange -> publishDiagnostics over {n} changes:")
    print(
        f"  median {med:.1f} ms, worst {worst:.1f} ms, target {TARGET_MS:.0f} ms "
        f"(median / target = {med / TARGET_MS:.2f})"
    )
    print(f"  first open (imports parsed cold) {cold:.1f} ms; warm / cold = {med / cold:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
