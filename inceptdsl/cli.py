"""The `inceptdsl` command line: check, report, verify, fmt, list, diff, ir, compile, verification.

Every SpecError is rendered (file:line:col, the source line, a caret, hints) and ends the
command with the error's exit code: 1 for a bad spec, 2 for usage and I/O errors. A Python
traceback is shown only with --debug. Output files are written atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ExpectationError, FileNotFoundSpecError, SpecError, UsageError
from .network import Network, load
from .transform import decode_number

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"


def parse_set(items: Sequence[str] | None) -> dict[str, Any]:
    """`--set name=value` values, typed like spec literals (1000, 0.5, true, 299x299, relu)."""
    out: dict[str, Any] = {}
    for item in items or ():
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name.isidentifier() or not raw:
            raise UsageError(f"--set expects name=value, got {item!r}")
        out[name] = parse_literal(raw)
    return out


def parse_literal(raw: str) -> Any:
    from .evaluate import SYMBOLS, Symbol

    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    if raw in SYMBOLS:
        return Symbol(raw)
    parts = raw.split("x")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    try:
        return decode_number(raw)
    except ValueError:
        return raw


def _load(args: argparse.Namespace, path: str) -> Network:
    return load(path, **parse_set(getattr(args, "set", None)))


def write_atomic(path: str, data: str | bytes) -> None:
    """Write via a temporary file in the same directory and rename it into place, so a failure
    never leaves a truncated file and never replaces a good one."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path} is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")
    tmp = parent / f".{target.name}.tmp{os.getpid()}"
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


# ---- commands ---------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    for path in args.files:
        net = _load(args, path)
        net.verify()  # checks that every `expect` is well formed; `verify` judges the results
        rep = net.report()
        print(f"{path}: ok ({net.name}: {len(net.graph)} nodes, {rep.params:,} params)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    rep = _load(args, args.file).report()
    if args.format == "table":
        rep.print_table(args.depth)
        return 0
    fmt = {
        "json": lambda: rep.to_json(args.depth),
        "markdown": lambda: rep.to_markdown(args.depth),
        "csv": lambda: rep.to_csv(args.depth),
    }[args.format]
    sys.stdout.write(fmt())
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    failed = 0
    console = Console(width=140, color_system=None, force_terminal=False, soft_wrap=False)
    for path in args.files:
        net = _load(args, path)
        results = net.verify()
        table = Table(title=f"{path} ({net.name})", box=None, pad_edge=False)
        for col in ("", "expectation", "actual", "source"):
            table.add_column(col, overflow="fold")
        for r in results:
            actual = (
                "x".join(map(str, r.actual)) if isinstance(r.actual, tuple) else f"{r.actual:,}"
            )
            table.add_row("ok" if r.ok else "FAIL", r.describe(), actual, r.source)
            failed += not r.ok
        if not results:
            table.add_row("-", "(no expect declarations)", "", "")
        console.print(table)
        bad = [r for r in results if not r.ok]
        for r in bad:  # rendered like every other diagnostic: stderr, source line, caret
            actual = (
                "x".join(map(str, r.actual)) if isinstance(r.actual, tuple) else f"{r.actual:,}"
            )
            err = ExpectationError(f"expectation failed: {r.describe()}, actual {actual}", r.span)
            print(err.with_sources(net.program.sources).render(), file=sys.stderr)
        print(f"{len(results) - len(bad)} passed, {len(bad)} failed")
    return 1 if failed else 0


def cmd_fmt(args: argparse.Namespace) -> int:
    from .fmt import format_source
    from .loader import read_text

    changed = 0
    for path in args.files:
        text = read_text(path)
        new = format_source(text, path)
        if new == text:
            continue
        changed += 1
        if args.check:
            print(f"{path}: would reformat")
        else:
            write_atomic(path, new)
            print(f"{path}: reformatted")
    return 1 if args.check and changed else 0


def cmd_list(args: argparse.Namespace) -> int:
    root = Path(args.dir) if args.dir else SPECS_DIR
    if not root.exists():
        raise FileNotFoundSpecError(f"no such directory: {root}", path=str(root))
    if not root.is_dir():
        raise UsageError(f"--dir expects a directory, got the file {root}")
    paths = sorted(p for p in root.rglob("*.incept") if "lib" not in p.relative_to(root).parts)
    rows = []
    for p in paths:
        net = load(str(p))
        rep = net.report()
        rows.append((str(p.relative_to(root)), net.name, rep.params, rep.buffers, rep.macs))
    width = max((len(r[0]) for r in rows), default=4)
    print(f"{'spec':<{width}}  {'network':<22} {'params':>13} {'buffers':>9} {'MACs':>16}")
    for spec, name, params, buffers, macs in rows:
        print(f"{spec:<{width}}  {name:<22} {params:>13,} {buffers:>9,} {macs:>16,}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_reports

    a = _load(args, args.a)
    b = _load(args, args.b)
    sys.stdout.write(diff_reports(a.report(), b.report(), args.depth, args.a, args.b))
    return 0


def cmd_ir(args: argparse.Namespace) -> int:
    from .ir.printer import print_graph

    net = _load(args, args.file)
    sys.stdout.write(print_graph(net.graph, os.path.dirname(net.path)))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from .backend import get

    backend = get(args.backend)
    net = _load(args, args.file)
    if args.weights:  # trained weights: only backends that write weights take them (onnx)
        import inspect

        if "weights" not in inspect.signature(backend.emit).parameters:
            raise UsageError(f"backend {backend.name!r} takes no --weights")
        out = backend.emit(net.graph, weights=args.weights)  # type: ignore[call-arg]
    else:
        out = backend.emit(net.graph)
    if args.output:
        write_atomic(args.output, out)
        print(f"wrote {args.output} ({net.name}, backend {backend.name})", file=sys.stderr)
    elif isinstance(out, bytes):
        raise UsageError(f"backend {backend.name!r} writes a binary file: give -o FILE")
    else:
        sys.stdout.write(out)
    if not args.quiet:
        print(net.report().to_table(depth=1), file=sys.stderr)
    return 0


def cmd_verification(args: argparse.Namespace) -> int:
    """Write docs/verification.md (or print it); --check: fail if the file is not current."""
    from .verification import COMMAND, DEFAULT_OUTPUT, build

    text, ok = build()
    if args.check:
        path = Path(args.output) if args.output else DEFAULT_OUTPUT
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"{path}: not current; run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{path}: current")
    elif args.output:
        write_atomic(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if not ok:
        print("some expectations fail: see the report", file=sys.stderr)
    return 0 if ok else 1


# ---- argument parsing -------------------------------------------------------------------------


def _depth(text: str) -> int:
    """--depth N: a level of the name hierarchy, 1 or more (argparse reports anything else)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="inceptdsl",
        description="Check, report, verify and compile .incept network specs.",
    )
    p.add_argument("--version", action="version", version=f"inceptdsl {__version__}")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], help: str, sets: bool = True
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(fn=fn)
        if sets:
            sp.add_argument(
                "--set",
                action="append",
                metavar="NAME=VALUE",
                help="override a network parameter (repeatable), e.g. --set num_classes=10",
            )
        return sp

    sp = add("check", cmd_check, "parse, check and lower specs; report errors")
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp = add("report", cmd_report, "per-layer / per-block / total params, buffers and MACs")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--format", choices=["table", "json", "markdown", "csv"], default="table")
    sp.add_argument(
        "--depth",
        type=_depth,
        default=None,
        metavar="N",
        help="aggregate rows to N levels of the name hierarchy",
    )
    sp = add("verify", cmd_verify, "check every `expect` declaration (exit 1 on a mismatch)")
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp = add("fmt", cmd_fmt, "rewrite specs in canonical format", sets=False)
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp.add_argument("--check", action="store_true", help="only report files that would change")
    sp = add("list", cmd_list, "the bundled specs with their totals", sets=False)
    sp.add_argument("--dir", default=None, help="a spec directory other than the bundled one")
    sp = add("diff", cmd_diff, "per-block params/MACs differences between two specs")
    sp.add_argument("a", metavar="A")
    sp.add_argument("b", metavar="B")
    sp.add_argument("--depth", type=_depth, default=1, metavar="N")
    sp = add("ir", cmd_ir, "print the IR graph, one node per line")
    sp.add_argument("file", metavar="FILE")
    sp = add("compile", cmd_compile, "compile a spec with a backend (torch, keras, ...)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--backend", required=True)
    sp.add_argument(
        "-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout"
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="do not print the report")
    sp.add_argument(
        "--weights", metavar="FILE", help="onnx: a torch state_dict (torch.save) to include"
    )
    sp = add(
        "verification",
        cmd_verification,
        "the verification report (docs/verification.md)",
        sets=False,
    )
    sp.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    sp.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if OUT (default docs/verification.md) is not current",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except SpecError as err:
        if args.debug:
            raise
        print(err.render(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a message
        if args.debug:
            raise
        print(
            f"inceptdsl: internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in inceptdsl, not in your spec; rerun with --debug for details",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
