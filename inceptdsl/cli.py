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
from .errors import FileNotFoundSpecError, SpecError, UsageError
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
    failed = 0
    for path in args.files:
        if os.path.isdir(path):
            failed += _check_dir(args, path)
        else:
            _check_one(args, path, libraries=False)
    return 1 if failed else 0


def _check_one(args: argparse.Namespace, path: str, libraries: bool) -> None:
    """Check one spec; with `libraries`, a file of blocks only is checked as a library (a
    file named on its own must declare a network: E207)."""
    from .check import run_checks
    from .loader import load_program

    program = load_program(path)
    if libraries and not program.root.module.networks and program.root.module.blocks:
        try:  # a library of blocks: checked, not lowered (it has no network to build)
            run_checks(program)
        except SpecError as err:
            raise err.with_sources(program.sources) from None
        print(f"{path}: ok (library: {_plural(len(program.root.module.blocks), 'block')})")
        return
    net = _load(args, path)
    for w in net.warnings:
        print(w.render(net.program.sources), file=sys.stderr)
    net.verify()  # checks that every `expect` is well formed; `verify` judges the results
    rep = net.report()
    print(f"{path}: ok ({net.name}: {len(net.graph)} nodes, {rep.params:,} params)")


def _check_dir(args: argparse.Namespace, root: str) -> int:
    """Check every spec under `root` (sorted), reporting each error and going on; the number
    of specs that failed."""
    paths = sorted(p for p in Path(root).rglob("*.incept") if p.is_file())
    failed = 0
    for p in paths:
        try:
            _check_one(args, str(p), libraries=True)
        except SpecError as err:
            print(err.render(), file=sys.stderr)
            failed += 1
    print(f"{_plural(len(paths), 'spec')} checked, {failed} failed")
    return failed


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def cmd_report(args: argparse.Namespace) -> int:
    from .commands import report_output

    text = report_output(args, _load(args, args.file))
    if text is not None and args.output:
        write_atomic(args.output, text)
    elif text is not None:
        sys.stdout.write(text)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .commands import verify_files

    return verify_files(args, args.files, _load)


def cmd_graph(args: argparse.Namespace) -> int:
    from .commands import cmd_graph as run

    return run(args, _load(args, args.file), write_atomic)


def cmd_view(args: argparse.Namespace) -> int:
    from .commands import cmd_view as run

    return run(args, _load(args, args.file), write_atomic)


def cmd_lsp(args: argparse.Namespace) -> int:
    from .commands import cmd_lsp as run

    return run(args)


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
    from .diff import FORMATS, diff_graphs, parse_renames

    renames = parse_renames(args.rename)
    a = _load(args, args.a)
    b = _load(args, args.b)
    d = diff_graphs(a.graph, b.graph, args.depth, args.a, args.b, renames)
    sys.stdout.write(FORMATS[args.format](d))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    """Write a starter variant NAME that extends the bundled network PARENT."""
    from .names import did_you_mean
    from .starter import starter_variant

    if not args.name.isidentifier():
        raise UsageError(f"a network name is a name (letters, digits, _), got {args.name!r}")
    bundled = _bundled_networks()
    if args.parent not in bundled:
        raise UsageError(
            f"no bundled network {args.parent!r}"
            + (f"; {hint}" if (hint := did_you_mean(args.parent, bundled)) else "")
            + " (`inceptdsl list` shows them)"
        )
    out = Path(args.output or f"{args.name}.incept")
    if out.exists():
        raise UsageError(f"{out} exists; not overwritten (give another name or -o FILE)")
    parent_path = bundled[args.parent]
    text = starter_variant(args.name, args.parent, parent_path, SPECS_DIR, out)
    write_atomic(str(out), text)
    try:
        load(str(out))
    except SpecError:
        out.unlink(missing_ok=True)  # a starter that does not load helps no one
        raise
    print(f"wrote {out} ({args.name} extends {args.parent}, {parent_path.relative_to(SPECS_DIR)})")
    return 0


def _bundled_networks() -> dict[str, Path]:
    """Bundled network name -> its spec file (specs/lib holds only blocks)."""
    from .loader import load_program

    out: dict[str, Path] = {}
    for p in sorted(SPECS_DIR.rglob("*.incept")):
        if "lib" in p.relative_to(SPECS_DIR).parts:
            continue
        for net in load_program(str(p)).root.module.networks:
            out.setdefault(net.name, p)
    return out


def cmd_ir(args: argparse.Namespace) -> int:
    from .ir.printer import print_graph

    net = _load(args, args.file)
    sys.stdout.write(print_graph(net.graph, os.path.dirname(net.path)))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from .backend import get
    from .progress import step

    backend = get(args.backend)
    net = _load(args, args.file)
    with step(f"compiling {net.name} with {backend.name}"):
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


def cmd_import(args: argparse.Namespace) -> int:
    """Write a verified spec from a torch module (executes it) or a Caffe prototxt."""
    from .importers import command

    out = args.output or "<import>.incept"
    shape = command.parse_input(args.input)
    if args.framework == "torch":
        text, summary = command.import_torch(
            args.source, command.parse_kwargs(args.kwargs), shape or (3, 224, 224), out
        )
    else:
        if args.kwargs:
            raise UsageError("--kwargs is for `import torch`")
        text, summary = command.import_caffe(args.source, shape, out)
    if args.output:
        write_atomic(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for line in summary:
        print(line, file=sys.stderr)
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
    p.add_argument("--debug", action="store_true", help="show Python tracebacks (anywhere)")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress, no framework start-up logs, no report after compile (anywhere)",
    )
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

    sp = add("check", cmd_check, "parse, check and lower specs (or every spec under a DIR)")
    sp.add_argument("files", nargs="+", metavar="FILE|DIR")
    sp = add("new", cmd_new, "write a starter variant that extends a bundled network", sets=False)
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("--from", dest="parent", required=True, metavar="PARENT")
    sp.add_argument("-o", "--output", metavar="FILE", help="default: NAME.incept here")
    sp = add("report", cmd_report, "per-layer / per-block / total params, buffers and MACs")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument(
        "--format", choices=["table", "json", "markdown", "csv", "html"], default="table"
    )
    sp.add_argument(
        "--depth",
        type=_depth,
        default=None,
        metavar="N",
        help="aggregate rows to N levels of the name hierarchy",
    )
    _report_options(sp)
    sp = add("verify", cmd_verify, "check every `expect` declaration (exit 1 on a mismatch)")
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp = add("fmt", cmd_fmt, "rewrite specs in canonical format", sets=False)
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp.add_argument("--check", action="store_true", help="only report files that would change")
    sp = add("list", cmd_list, "the bundled specs with their totals", sets=False)
    sp.add_argument("--dir", default=None, help="a spec directory other than the bundled one")
    sp = add("diff", cmd_diff, "structural and per-block params/MACs differences of two specs")
    sp.add_argument("a", metavar="A")
    sp.add_argument("b", metavar="B")
    sp.add_argument("--depth", type=_depth, default=1, metavar="N")
    sp.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    sp.add_argument(
        "--rename",
        action="append",
        metavar="OLD=NEW",
        help="match A's layers at path OLD with B's at NEW (repeatable)",
    )
    sp = add("ir", cmd_ir, "print the IR graph, one node per line")
    sp.add_argument("file", metavar="FILE")
    sp = add("compile", cmd_compile, "compile a spec with a backend (torch, keras, ...)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--backend", required=True)
    sp.add_argument(
        "-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout"
    )
    sp = add(
        "import",
        cmd_import,
        "write a verified spec from a PyTorch module (runs its code) or a Caffe prototxt",
        sets=False,
    )
    sp.add_argument("framework", choices=["torch", "caffe"])
    sp.add_argument("source", metavar="MODULE_PATH|FILE.prototxt")
    sp.add_argument("--kwargs", metavar="JSON", help="torch: constructor arguments as JSON")
    sp.add_argument("--input", metavar="CxHxW", help="input shape (torch default 3x224x224)")
    sp.add_argument(
        "-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout"
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
    _view_commands(add)
    return p


def _report_options(sp: argparse.ArgumentParser) -> None:
    from .commands import batch_arg, columns_arg
    from .memory import DTYPES
    from .report import COLUMNS

    sp.add_argument(
        "--columns",
        type=columns_arg,
        default=None,
        metavar="A,B,...",
        help=f"columns to show, of: {', '.join(COLUMNS)}",
    )
    sp.add_argument("--batch", type=batch_arg, default=1, metavar="N", help="for memory")
    sp.add_argument("--dtype", choices=list(DTYPES), default="float32", help="for memory")
    sp.add_argument("-o", "--output", metavar="OUT", help="write here (atomically)")


def _view_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    sp = add("graph", cmd_graph, "draw the network: SVG, interactive HTML, DOT or Mermaid")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("-o", "--output", required=True, metavar="OUT.svg|.html|.dot|.mmd")
    sp.add_argument("--format", choices=["svg", "html", "dot", "mermaid"], default=None)
    sp.add_argument(
        "--depth", type=_depth, default=None, metavar="N", help="expand blocks above depth N"
    )
    sp = add("view", cmd_view, "open the network in Netron (an ONNX export, served locally)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("-o", "--output", metavar="OUT.onnx", help="where to write the ONNX file")
    sp.add_argument("--port", type=int, default=8080)
    sp.add_argument("--no-browser", action="store_true", help="serve without opening a browser")
    add("lsp", cmd_lsp, "the language server (LSP over stdio), for editors", sets=False)


GLOBAL_FLAGS = {"--debug": "debug", "-q": "quiet", "--quiet": "quiet"}
"""Flags that may stand anywhere on the command line (before a `--`)."""


def _global_flags(argv: Sequence[str]) -> tuple[list[str], dict[str, bool]]:
    rest: list[str] = []
    found = {"debug": False, "quiet": False}
    for i, a in enumerate(argv):
        if a == "--":
            rest += argv[i:]
            break
        if a in GLOBAL_FLAGS:
            found[GLOBAL_FLAGS[a]] = True
        else:
            rest.append(a)
    return rest, found


def main(argv: Sequence[str] | None = None) -> int:
    from . import progress

    parser = _parser()
    rest, flags = _global_flags(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(rest)
    args.debug, args.quiet = flags["debug"], flags["quiet"]
    progress.QUIET = args.quiet
    if args.quiet:
        progress.silence_frameworks()
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
