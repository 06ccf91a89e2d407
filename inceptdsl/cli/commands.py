"""Bodies of the viewing commands (`graph`, `view`, `lsp`, `report --format html`) and the
`verify` table; cli/__init__.py registers them. Kept out of it so that its other commands can
change independently.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExpectationError, UsageError

if TYPE_CHECKING:
    from ..expect import ExpectResult
    from ..network import Network


def columns_arg(text: str) -> tuple[str, ...]:
    """--columns a,b,c: report column keys (argparse reports an unknown one)."""
    from ..report import check_columns

    try:
        return check_columns([c.strip() for c in text.split(",") if c.strip()])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def batch_arg(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def report_output(args: argparse.Namespace, net: Network) -> str | None:
    """The report in `args.format` as text, or None for the terminal table (printed here)."""
    from ..report import DEFAULT_COLUMNS

    rep = net.report(batch=args.batch, dtype=args.dtype)
    cols = args.columns or DEFAULT_COLUMNS
    if args.format == "table" and args.output not in (None, "-"):
        return rep.to_table(args.depth, cols)  # a file keeps every column
    if args.format == "table":
        from ..fit import terminal_width

        # A terminal table fits the terminal unless the columns were asked for (or --wide).
        fitted = not (args.wide or args.columns)
        rep.print_table(args.depth, cols, terminal_width() if fitted else None)
        return None
    if args.format == "html":
        from ..present.html import report_page

        return report_page(rep, net.verify(), net.graph, args.depth, cols)
    if args.format == "json":
        return rep.to_json(args.depth)
    if args.format == "markdown":
        return rep.to_markdown(args.depth, cols)
    return rep.to_csv(args.depth, cols)


def cmd_graph(args: argparse.Namespace, net: Network, write: Any) -> int:
    from ..draw import FORMATS, render

    suffix = Path(args.output).suffix.lower()
    fmt = args.format or FORMATS.get(suffix)
    if fmt is None:
        raise UsageError(
            f"cannot tell the diagram format of {args.output!r}",
            hint="name the file .svg, .html, .dot or .mmd, or give --format",
        )
    write(args.output, render(net.graph, fmt, args.depth))
    print(f"wrote {args.output} ({net.name}, {fmt})", file=sys.stderr)
    return 0


def port_arg(text: str) -> int:
    """--port N: a TCP port, 1 to 65535 (argparse reports anything else, exit 2)."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text[:6]) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return int(text)


def cmd_view(args: argparse.Namespace, net: Network, write: Any) -> int:
    """Export ONNX through the backend registry and open it in Netron (served locally). The
    file goes to a temporary folder, removed on exit (Ctrl-C, SIGTERM and SIGHUP included:
    it may hold trained weights), unless -o names where to keep it."""
    import tempfile

    from ..backend import get
    from ..output import STDOUT, add_inputs, cleanup_on_signals
    from ..progress import step

    if args.output == STDOUT:
        raise UsageError(
            "`view` serves a file to Netron: -o - (stdout) cannot be served",
            hint="give -o FILE.onnx to keep the export, or leave -o out",
        )
    try:
        import netron  # type: ignore[import-not-found]
    except ImportError:
        raise UsageError(
            "`inceptdsl view` needs Netron", hint="pip install 'inceptdsl[view]'"
        ) from None
    add_inputs([args.weights] if args.weights is not None else [])
    with step(f"exporting {net.name} to ONNX"):
        onnx: Any = get("onnx")  # its emit takes trained weights (`writes_files`)
        data = onnx.emit(net.graph, weights=args.weights)
    with cleanup_on_signals(), tempfile.TemporaryDirectory(prefix="inceptdsl-view-") as tmp:
        out = args.output or os.path.join(tmp, f"{net.name}.onnx")
        write(out, data)
        kept = f"wrote {out}; serving" if args.output else f"serving {net.name}"
        print(f"{kept} with Netron (Ctrl-C stops)", file=sys.stderr)
        try:
            try:
                netron.start(out, address=("localhost", args.port), browse=not args.no_browser)
            except OSError as exc:  # the port is taken, or not ours to bind
                raise UsageError(
                    f"cannot serve on localhost:{args.port}: {os.strerror(exc.errno or 0)}",
                    hint="choose another --port",
                ) from None
            netron.wait()
        finally:
            netron.stop()
    return 0


def cmd_lsp(args: argparse.Namespace) -> int:
    from ..lsp.server import serve

    return serve()


# ---- verify ------------------------------------------------------------------------------------


def _actual(r: ExpectResult) -> str:
    if r.skipped:
        return r.skipped
    return "x".join(map(str, r.actual)) if isinstance(r.actual, tuple) else f"{r.actual:,}"


def delta(r: ExpectResult) -> str:
    """actual - expected, with the relative difference: `+1,024 (+0.01%)`; `0` when equal."""
    if r.skipped:
        return ""
    a, e = r.actual, r.expected
    if isinstance(a, tuple) or isinstance(e, (tuple, bool)) or not isinstance(e, (int, float)):
        return "" if r.ok else "differs"
    d = a - e
    if d == 0:
        return "0"
    rel = f" ({100 * d / e:+.2f}%)" if e else ""
    text = f"{d:+,}" if isinstance(d, int) else f"{d:+,.6g}"
    return text + rel


def verify_files(args: argparse.Namespace, paths: Sequence[str], load: Any) -> int:
    """Every file's results in one table that fits the terminal, ok/FAIL coloured on a TTY,
    failures rendered as diagnostics on stderr, then a grand total."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..front.source import printable
    from ..progress import track

    def cell(text: str, style: str = "") -> Text:  # never markup, never a control character
        return Text(printable(text), style=style)

    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size((100, 24)).columns if tty else 140
    console = Console(
        width=width,
        force_terminal=tty,
        color_system="auto" if tty else None,
        soft_wrap=False,
        highlight=False,
    )
    passed = failed = 0
    nets = []
    for path in track(paths, "verifying", len(paths)):
        net = load(args, path)
        nets.append((path, net, net.verify()))
    for path, net, results in nets:
        title = cell(f"{path} ({net.name})")
        table = Table(title=title, box=None, pad_edge=False, title_justify="left")
        table.add_column("", no_wrap=True)
        table.add_column("expectation", overflow="fold", ratio=3)
        table.add_column("actual", justify="right", no_wrap=True)
        table.add_column("Δ", justify="right", no_wrap=True)
        table.add_column("source", overflow="fold", ratio=4)
        for r in results:
            status = (
                cell("skip", "yellow")
                if r.skipped
                else cell("ok", "green")
                if r.ok
                else cell("FAIL", "bold red")
            )
            table.add_row(status, cell(r.describe()), cell(_actual(r)), delta(r), cell(r.source))
        if not results:
            table.add_row("-", "(no expect declarations)", "", "", "")
        if tty:
            console.print(table)
        else:  # a file or a pipe: no padding after the last word of a line
            with console.capture() as captured:
                console.print(table)
            sys.stdout.write("".join(f"{ln.rstrip()}\n" for ln in captured.get().splitlines()))
        bad = [r for r in results if not r.ok]
        for r in bad:  # rendered like every other diagnostic: stderr, source line, caret
            err = ExpectationError(
                f"expectation failed: {r.describe()}, actual {_actual(r)}", r.span
            )
            print(err.with_sources(net.program.sources).render(), file=sys.stderr)
        skipped = sum(bool(r.skipped) for r in results)
        counts = f"{len(results) - len(bad) - skipped} passed, {len(bad)} failed"
        print(counts + (f", {skipped} skipped" if skipped else ""))
        passed += len(results) - len(bad) - skipped
        failed += len(bad)
    if len(nets) > 1:
        print(f"total: {len(nets)} files, {passed} passed, {failed} failed")
    return 1 if failed else 0
