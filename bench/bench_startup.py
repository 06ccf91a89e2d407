"""CLI start-up: `inceptdsl report specs/inception_v4.incept` in a fresh process (target < 0.5 s).

Measured side by side in one run, alternating, medians of N fresh processes each:
- `python -c pass`: the interpreter alone;
- `python -c "import inceptdsl.cli"`: the imports;
- the report command, with the parser loaded from inceptdsl/front/parser_tables.json;
- the report command with the parser analysed from grammar.lark (the fingerprint check made to
  fail, as after a grammar edit without regenerating the tables).
Wall time and CPU time (user + system of the child) are both shown: on a loaded machine the
wall time includes waiting for a core, the CPU time does not.
Lark's pickle cache (`cache=True`) is gone for security (issue 11): the tables replace it.

Run: .venv/bin/python bench/bench_startup.py [N]   (the machine is shared: compare ratios)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V4 = str(ROOT / "specs" / "inception_v4.incept")
NO_TABLES = (
    "import sys; from inceptdsl.front import parse; parse.grammar_fingerprint = lambda: 'stale'; "
    "from inceptdsl.cli import main; sys.exit(main(sys.argv[1:]))"
)

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import inceptdsl.cli": [sys.executable, "-c", "import inceptdsl.cli"],
    "report (parser tables)": [sys.executable, "-m", "inceptdsl", "report", V4],
    "report (grammar analysed)": [sys.executable, "-c", NO_TABLES, "report", V4],
}


def main(n: int) -> None:
    env = dict(os.environ)
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    cpu: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for cmd in COMMANDS.values():  # warm the disk cache (and .pyc files where allowed)
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
    for _ in range(n):
        for name, cmd in COMMANDS.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
            times[name].append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    bytecode = "off" if env.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(f"fresh processes, median of {n} (bytecode cache {bytecode}):")
    base = statistics.median(times["report (parser tables)"])
    for name, ts in times.items():
        med = statistics.median(ts)
        c = statistics.median(cpu[name])
        print(
            f"  {name:<28} wall {med:6.3f} s (min {min(ts):6.3f})   cpu {c:6.3f} s   "
            f"{med / base:5.2f}x of report"
        )
    print(f"target: report < 0.5 s wall; now {'met' if base < 0.5 else 'NOT met'} ({base:.3f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
