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


def _target(args: argparse.Namespace, default: str = "nchw") -> Any:
    from .optimize import Target

    return Target(layout=args.layout or default, batch=args.batch)  # type: ignore[arg-type]


def _optimized(args: argparse.Namespace, net: Network, default: str = "nchw") -> Any:
    return net.optimized(_target(args, default), tuple(args.skip or ()))


def cmd_report(args: argparse.Namespace) -> int:
    net = _load(args, args.file)
    rep = net.report()
    if args.optimize and args.format not in ("table", "markdown"):
        raise UsageError("--optimize adds a table: use --format table or markdown")
    if args.optimize:
        from .optimize.summary import compare

        opt = _optimized(args, net)
        if args.format == "table":
            rep.print_table(args.depth)
        else:
            sys.stdout.write(rep.to_markdown(args.depth))
        sys.stdout.write("\nthe optimized graph (eval only):\n" + compare(net.graph, opt))
        return 0
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
    if args.optimize:
        from .optimize.summary import header

        opt = _optimized(args, net)
        sys.stdout.write(header(opt, _target(args)))
        sys.stdout.write(print_graph(opt.graph, os.path.dirname(net.path)))
        return 0
    sys.stdout.write(print_graph(net.graph, os.path.dirname(net.path)))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from .backend import get

    backend = get(args.backend)
    net = _load(args, args.file)
    weights_file: tuple[str, bytes] | None = None
    if args.optimize:
        out, weights_file = _compile_optimized(args, backend, net)
    elif args.weights:
        raise UsageError("--weights goes with --optimize (the weights are carried over to it)")
    else:
        out = backend.emit(net.graph)
    if args.output:
        write_atomic(args.output, out)
        print(f"wrote {args.output} ({net.name}, backend {backend.name})", file=sys.stderr)
        if weights_file:
            write_atomic(*weights_file)
            print(f"wrote {weights_file[0]} (its weights)", file=sys.stderr)
    elif isinstance(out, bytes):
        raise UsageError(f"backend {backend.name!r} writes a binary file: give -o FILE")
    else:
        sys.stdout.write(out)
    if not args.quiet:
        print(net.report().to_table(depth=1), file=sys.stderr)
    return 0


_DEFAULT_LAYOUT = {"onnx": "nchwc", "keras": "nhwc"}  # the layout each runtime computes in


def _compile_optimized(
    args: argparse.Namespace, backend: Any, net: Network
) -> tuple[str | bytes, tuple[str, bytes] | None]:
    """The optimized graph's source (or ONNX bytes, with the weights inside), and for the
    torch backend with --weights the optimized state_dict to write beside the source."""
    layout = _DEFAULT_LAYOUT.get(backend.name, "nchw")
    opt = _optimized(args, net, layout)
    options = {"target": _target(args, layout), "skip": tuple(args.skip or ())}
    weights = get_weights(args.weights) if args.weights else None
    if backend.name == "onnx":
        return backend.emit_optimized(net.graph, weights, **options), None
    if weights is None:
        return backend.emit(opt.graph), None
    if backend.name != "torch":
        raise UsageError(
            f"--weights is for the torch and onnx backends, not {backend.name!r}",
            hint="use net.to_keras(optimize=True, weights_from=...) in Python",
        )
    if not args.output:
        raise UsageError("--weights writes a weights file beside the source: give -o FILE")
    path = Path(args.output).with_suffix(".pt")
    if path.exists() and path.resolve() == Path(args.weights).resolve():
        raise UsageError(
            f"the optimized weights would go to {path}, which is the --weights file",
            hint="choose another -o name: the weights are written to OUT with the suffix .pt",
        )
    state = backend.saved_weights(net.graph, weights, **options)
    return backend.emit(opt.graph), (str(path), state)


def get_weights(path: str) -> Any:
    """A torch state_dict read by the torch backend (safetensors, or weights-only torch.load)."""
    from .backend import get

    return get("torch").read_weights(path)  # type: ignore[attr-defined]


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

    def optimize_options(sp: argparse.ArgumentParser, what: str) -> None:
        from .optimize import LAYOUTS, PASSES

        sp.add_argument("--optimize", action="store_true", help=what)
        sp.add_argument(
            "--layout", choices=LAYOUTS, default=None,
            help="the layout the optimized network runs in (decides horizontal fusion)",
        )  # fmt: skip
        sp.add_argument("--batch", type=_depth, default=1, metavar="N", help="its batch size")
        sp.add_argument(
            "--skip", action="append", choices=list(PASSES), metavar="PASS",
            help=f"leave an optimization pass out (repeatable): {', '.join(PASSES)}",
        )  # fmt: skip

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
    optimize_options(sp, "also show the optimized graph's op counts next to the original's")
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
    optimize_options(sp, "print the optimized (eval-only) graph and each pass's decisions")
    sp = add("compile", cmd_compile, "compile a spec with a backend (torch, keras, ...)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--backend", required=True)
    sp.add_argument(
        "-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout"
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="do not print the report")
    optimize_options(sp, "compile the optimized (eval-only) graph")
    sp.add_argument(
        "--weights", metavar="FILE",
        help="with --optimize: a state_dict of the unoptimized network (.pt, .safetensors) to "
        "carry over (onnx: into the file; torch: into OUT.pt beside the source)",
    )  # fmt: skip
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
