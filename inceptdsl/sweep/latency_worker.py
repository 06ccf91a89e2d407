"""The latency worker (`python -m inceptdsl.sweep.latency_worker`): reads jobs as JSON on
stdin, lowers each point and asks the runtime's backend (found through the registry,
backend.py) to time its eval-only optimized model (`Backend.measure`), and prints the median
and interquartile range of each. Timing is a backend capability: this module imports no
framework, and the runtime is reached only through the backend's plugin."""

from __future__ import annotations

import json
import sys


def main() -> None:
    from ..backend import get
    from ..network import load
    from .latency import backend_of

    jobs = json.loads(sys.stdin.read())
    out = []
    for job in jobs:
        net = load(job["spec"], **job["params"])
        backend = get(backend_of(job["runtime"]))
        if backend.runtime != job["runtime"]:
            backend.unsupported(f"timing with {job['runtime']}")
        out.append(
            backend.measure(net.graph, job["batch"], job["threads"], job["repeats"], job["warmup"])
        )
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
