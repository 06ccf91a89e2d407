"""The `inceptdsl` command line: check, report, verify, fmt, list, diff, ir, compile.

Every SpecError is rendered (file:line:col, the source line, a caret, hints) and ends the
command with the error's exit code: 1 for a bad spec, 2 for usage and I/O errors. A Python
traceback is shown only with --debug. Output files are written by output.py (atomically, never
over an input, a link or a device); a failure to write stdout (a full disk) is an I/O error.
Names and paths a spec or a file system controls are printed escaped (source.printable).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from .errors import ExpectationError, FileNotFoundSpecError, SpecError, UsageError
from .network import Network, load
from .output import write_output
from .source import printable
from .transform import MAX_NUMBER_CHARS, decode_number


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
    if len(parts) in (2, 3) and all(_digits(p) for p in parts):
        return tuple(int(p) for p in parts)
    sign, digits = (-1, raw[1:]) if raw[:1] == "-" else (1, raw.removeprefix("+"))
    try:
        return sign * decode_number(digits)
    except ValueError:
        return raw


def _digits(p: str) -> bool:
    return p.isascii() and p.isdigit() and len(p) <= MAX_NUMBER_CHARS


def _load(args: argparse.Namespace, path: str) -> Network:
    return load(path, **parse_set(getattr(args, "set", None)))


# ---- commands ---------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    for path in args.files:
        net = _load(args, path)
        net.verify()  # checks that every `expect` is well formed; `verify` judges the results
        rep = net.report()
        print(f"{printable(path)}: ok ({net.name}: {len(net.graph)} nodes, {rep.params:,} params)")
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
    from rich.text import Text

    def cell(text: str) -> Text:  # never markup, never a control character
        return Text(printable(text))

    failed = 0
    console = Console(width=140, color_system=None, force_terminal=False, soft_wrap=False)
    for path in args.files:
        net = _load(args, path)
        results = net.verify()
        table = Table(title=cell(f"{path} ({net.name})"), box=None, pad_edge=False)
        for col in ("", "expectation", "actual", "source"):
            table.add_column(col, overflow="fold")
        for r in results:
            status = "skip" if r.skipped else "ok" if r.ok else "FAIL"
            actual = r.skipped if r.skipped else _actual(r.actual)
            table.add_row(status, cell(r.describe()), cell(actual), cell(r.source))
            failed += not r.ok
        if not results:
            table.add_row("-", "(no expect declarations)", "", "")
        console.print(table)
        bad = [r for r in results if not r.ok]
        for r in bad:  # rendered like every other diagnostic: stderr, source line, caret
            msg = f"expectation failed: {r.describe()}, actual {_actual(r.actual)}"
            err = ExpectationError(msg, r.span)
            print(err.with_sources(net.program.sources).render(), file=sys.stderr)
        skipped = sum(bool(r.skipped) for r in results)
        counts = f"{len(results) - len(bad) - skipped} passed, {len(bad)} failed"
        print(counts + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


def _actual(v: Any) -> str:
    return "x".join(map(str, v)) if isinstance(v, tuple) else f"{v:,}"


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
            print(f"{printable(path)}: would reformat")
        else:
            write_output(path, new, inputs=[path], may_replace=path)
            print(f"{printable(path)}: reformatted")
    return 1 if args.check and changed else 0


def cmd_list(args: argparse.Namespace) -> int:
    """The networks of the bundled library and the INCEPTDSL_PATH roots (or of --dir), with
    their totals and where they live. Files without a network are libraries and not listed; a
    file that fails to load is reported on stderr and the listing goes on (exit 1 or 2)."""
    from .loader import load_program
    from .roots import SUFFIX, Root, library_roots, spec_files

    if args.dir:
        if not os.path.lexists(args.dir):
            raise FileNotFoundSpecError(f"no such directory: {args.dir}", path=args.dir)
        if not os.path.isdir(args.dir):
            raise UsageError(f"--dir expects a directory, got the file {args.dir}")
        roots = [(args.dir, Root(os.path.realpath(args.dir)))]
    else:
        roots = [(r.path, r) for r in library_roots().values()]
    rows, code = [], 0
    for base, root in roots:
        for path in spec_files(base):
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            name = rel if root.name is None else rel.removesuffix(SUFFIX)
            if root.name not in (None, "inceptdsl"):
                name = f"@{root.name}/{rel}"
            try:
                if not root.contains(os.path.realpath(path)):
                    raise UsageError(f"{path} is a symbolic link that leads outside {base}")
                if not load_program(path).root.module.networks:
                    continue  # a library of blocks
                net = load(path)
                rep = net.report()
            except SpecError as err:
                print(err.render(), file=sys.stderr)
                code = max(code, err.exit_code)
                continue
            rows.append((printable(name), net.name, rep.params, rep.buffers, rep.macs))
    width = max((len(r[0]) for r in rows), default=4)
    print(f"{'spec':<{width}}  {'network':<22} {'params':>13} {'buffers':>9} {'MACs':>16}")
    for spec, network, params, buffers, macs in rows:
        print(f"{spec:<{width}}  {network:<22} {params:>13,} {buffers:>9,} {macs:>16,}")
    print()
    for base, root in roots:
        where = {"bundled": "bundled", "": "directory"}.get(root.origin, root.origin)
        label = f"@{root.name}" if root.name else printable(base)
        print(f"{label} ({where}): {printable(root.path)}")
    return code


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_reports

    a = _load(args, args.a)
    b = _load(args, args.b)
    names = printable(args.a), printable(args.b)
    sys.stdout.write(diff_reports(a.report(), b.report(), args.depth, *names))
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
    try:
        out = backend.emit(net.graph)
    except SpecError as err:  # a name the backend cannot use: show it in the spec
        raise err.with_sources(net.program.sources) from None
    to_stdout = args.output in (None, "-")
    if isinstance(out, bytes) and to_stdout and sys.stdout.isatty():
        raise UsageError(f"backend {backend.name!r} writes a binary file: give -o FILE")
    if to_stdout:
        write_output("-", out)
    else:
        inputs = [f.abspath for f in net.program.files.values()]
        write_output(args.output, out, inputs=inputs)
        shown = printable(args.output)
        print(f"wrote {shown} ({net.name}, backend {backend.name})", file=sys.stderr)
    if not args.quiet:
        print(net.report().to_table(depth=1), file=sys.stderr)
    return 0


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
        "-o",
        "--output",
        metavar="OUT",
        help="write here (atomically; `-` is stdout) instead of stdout",
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="do not print the report")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    for stream in ("stdout", "stderr"):  # started with `>&-`: what it prints is discarded
        if getattr(sys, stream) is None:
            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        rc = args.fn(args)
        sys.stdout.flush()  # a full disk must fail here, while it can still be reported
        return rc
    except SpecError as err:
        if args.debug:
            raise
        print(err.render(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `inceptdsl report x | head`: the reader has what it wanted
        _discard_stdout()
        return 0
    except OSError as exc:
        if args.debug or exc.errno not in _OUTPUT_ERRNOS:
            return _internal_error(args, exc)
        _discard_stdout()
        reason = os.strerror(exc.errno or 0)
        print(f"inceptdsl: cannot write the output: {reason}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a message
        return _internal_error(args, exc)


_OUTPUT_ERRNOS = frozenset(
    getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS") if hasattr(errno, n)
)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:  # noqa: BLE001 - the one place that turns bugs into a message
    if args.debug:
        raise exc
    print(
        f"inceptdsl: internal error: {type(exc).__name__}: {printable(str(exc), 400)}\n"
        "  this is a bug in inceptdsl, not in your spec; rerun with --debug for details",
        file=sys.stderr,
    )
    return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
