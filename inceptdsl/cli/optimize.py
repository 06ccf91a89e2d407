"""The command line's `--optimize` (ir, report, compile): options, the target they describe, and
compiling the optimized graph with trained weights carried over (docs/optimize.md).

Kept beside cli/__init__.py so the command table there stays readable; the passes themselves
are inceptdsl/optimize, the optimized builds are each backend's `build_optimized`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..network import Network
from ..output import claim, is_regular_target, write_output


def add_options(sp: argparse.ArgumentParser, what: str, batch: bool = True) -> None:
    """--optimize, --layout, --skip and (unless the command has one already) --batch."""
    from ..optimize import LAYOUTS, PASSES
    from .commands import batch_arg

    sp.add_argument("--optimize", action="store_true", help=what)
    sp.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=None,
        help="the layout the optimized network runs in (decides horizontal fusion)",
    )
    if batch:
        sp.add_argument("--batch", type=batch_arg, default=1, metavar="N", help="its batch size")
    sp.add_argument(
        "--skip",
        action="append",
        choices=list(PASSES),
        metavar="PASS",
        help=f"leave an optimization pass out (repeatable): {', '.join(PASSES)}",
    )


def target(args: argparse.Namespace, default: str = "nchw") -> Any:
    from ..optimize import Target

    return Target(layout=args.layout or default, batch=args.batch)  # type: ignore[arg-type]


def optimized(args: argparse.Namespace, net: Network, default: str = "nchw") -> Any:
    return net.optimized(target(args, default), tuple(args.skip or ()))


def ir_text(args: argparse.Namespace, net: Network) -> str:
    """`inceptdsl ir --optimize`: the passes' decisions, then the optimized graph."""
    from ..ir.printer import print_graph
    from ..optimize.summary import header

    opt = optimized(args, net)
    return header(opt, target(args)) + print_graph(opt.graph, os.path.dirname(net.path))


def report_text(args: argparse.Namespace, net: Network, text: str | None) -> str | None:
    """`inceptdsl report --optimize`: the report (`text`, None when the table was printed)
    followed by the optimized graph's op counts next to the original's."""
    from ..optimize.summary import compare

    if args.format not in ("table", "markdown"):
        raise UsageError(
            "--optimize adds a table of op counts: use --format table or markdown",
            hint="the optimized graph itself: inceptdsl ir FILE --optimize",
        )
    extra = "\nthe optimized graph (eval only):\n" + compare(net.graph, optimized(args, net))
    if text is None:
        sys.stdout.write(extra)
        return None
    return text + extra


def compile_optimized(
    args: argparse.Namespace, backend: Any, net: Network, inputs: list[str]
) -> tuple[list[str] | None, str | bytes | None]:
    """Compile the optimized graph: (the paths written, None), or (None, the output for
    stdout). --weights (the unoptimized network's state_dict) goes into the ONNX file, or for
    torch source into OUT.pt beside it."""
    layout = backend.optimize_layout  # what decides horizontal fusion
    options = {"target": target(args, layout), "skip": tuple(args.skip or ())}
    to_stdout = args.output in (None, "-")
    if backend.weights_in_file:  # onnx: the weights go inside the file
        if to_stdout:
            return None, backend.emit_optimized(net.graph, args.weights, **options)
        return backend.write_optimized(
            net.graph, args.output, args.weights, inputs=inputs, **options
        ), None
    source = backend.emit(optimized(args, net, layout).graph)
    if args.weights is None:
        return None, source
    if not backend.saves_weights:
        raise UsageError(
            f"--weights is for the torch and onnx backends, not {backend.name!r}",
            hint=f"in Python: net.to_{backend.name}(optimize=True, weights_from=...)",
        )
    if to_stdout:
        raise UsageError("--weights writes a weights file beside the source: give -o FILE")
    if not is_regular_target(args.output):
        raise UsageError(
            f"--weights writes a weights file beside the source, and {args.output} is not a "
            "regular file (OUT.pt would be created beside it)",
            hint="give -o FILE.py: the weights go to FILE.pt",
        )
    pt = str(Path(args.output).with_suffix(".pt"))
    if os.path.abspath(pt) == os.path.abspath(args.weights):
        raise UsageError(
            f"the optimized weights would go to {pt}, which is the --weights file",
            hint="choose another -o name: the weights are written to OUT with the suffix .pt",
        )
    claim(  # refused here, before anything is written (the same file twice, an input)
        [args.output, pt],
        hint=f"the weights go to OUT with the suffix .pt: name the source {Path(pt).stem}.py",
    )
    trained = backend.read_weights(args.weights, net.graph)
    state = backend.saved_weights(net.graph, trained, **options)
    sources = [*inputs, os.path.abspath(args.weights)]
    write_output(args.output, source, inputs=sources)
    write_output(pt, state, inputs=sources)
    return [args.output, pt], None
