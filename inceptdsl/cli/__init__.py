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
from pathlib import Path
from typing import Any

from .. import __version__, output
from ..errors import FileNotFoundSpecError, SpecError, TypeMismatchError, UsageError
from ..front.source import printable
from ..front.transform import MAX_NUMBER_CHARS, decode_number
from ..network import Network, load, load_to_verify, loads
from ..output import write_output


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
    from ..middle.evaluate import SYMBOLS, Symbol

    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    if raw in SYMBOLS:
        return Symbol(raw)
    if raw[:1] in "[(":
        return _container_literal(raw)
    parts = raw.split("x")
    if len(parts) in (2, 3) and all(_digits(p) for p in parts):
        return tuple(int(p) for p in parts)
    sign, digits = (-1, raw[1:]) if raw[:1] == "-" else (1, raw.removeprefix("+"))
    try:
        return sign * decode_number(digits)
    except ValueError:
        return raw


def _container_literal(raw: str) -> Any:
    """`--set depths=[1, 2, 2]`, `--set pad=(0, 1)`: parsed and evaluated by the language's own
    parser and evaluator (constants only: no names are visible), never by Python's eval."""
    from ..front.parse import parse
    from ..front.transform import to_ast
    from ..middle.evaluate import Evaluator

    try:
        tree, _ = parse(f"network set_value(v: any = {raw}) {{\n}}\n", "--set")
        decl = to_ast(tree, "--set").networks[0]
        default = decl.params[0].default if len(decl.params) == 1 else None
        if default is None:
            raise UsageError(f"--set: {raw!r} is not one value")
        return Evaluator({}).eval(default)
    except UsageError:
        raise
    except SpecError as err:
        raise UsageError(f"--set: cannot read {raw!r}: {err.message}") from None


def _digits(p: str) -> bool:
    return p.isascii() and p.isdigit() and len(p) <= MAX_NUMBER_CHARS


def out_of_range(raw: str) -> str | None:
    """Why a `--set` value that is written as a number is not read as one (too many digits, an
    infinite value), or None: such a value would otherwise become a string."""
    digits = raw[1:] if raw[:1] in "+-" else raw
    if not digits[:1].isascii() or not digits[:1].isdigit():
        return None
    try:
        decode_number(digits)
    except ValueError as exc:
        return None if str(exc).startswith("malformed") else str(exc)
    return None


def _load(args: argparse.Namespace, path: str, verifying: bool = False) -> Network:
    """Load a spec (a family's member by name too: `load` resolves it, members.with_member);
    its files (the spec and its imports) become inputs of the command, which no output may
    replace (output.command). A number too large to read in `--set` is blamed on the `--set`,
    not on the parameter that then received a string. `verifying`: the spec's `with` variants
    are charged before the network is built (network.load_to_verify)."""
    items = getattr(args, "set", None)
    try:
        net = (load_to_verify if verifying else load)(path, **parse_set(items))
    except TypeMismatchError as err:
        for item in items or ():
            name, _, raw = (t.strip() for t in item.partition("="))
            why = out_of_range(raw)
            if why is not None and err.message.startswith(f"parameter `{name}` is declared"):
                declared = err.message.split(",")[0]
                raise TypeMismatchError(
                    f"--set {name}={printable(raw, 24)} is out of range: {why}",
                    err.span,
                    hint=f"{declared} (here); give a value within range",
                ).with_sources(err.sources) from None
        raise
    output.add_inputs(f.abspath for f in net.program.files.values())
    return net


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
    from ..check import run_checks
    from ..front.loader import load_program
    from ..middle.members import with_member

    program = load_program(with_member(path, {})[0])
    if libraries and not program.root.module.networks and program.root.module.blocks:
        try:  # a library of blocks: checked, not lowered (it has no network to build)
            run_checks(program)
        except SpecError as err:
            raise err.with_sources(program.sources) from None
        print(
            f"{printable(path)}: ok (library: {_plural(len(program.root.module.blocks), 'block')})"
        )
        return
    net = _load(args, path)
    for w in net.warnings:
        print(w.render(net.program.sources), file=sys.stderr)
    net.verify()  # checks that every `expect` is well formed; `verify` judges the results
    rep = net.report()
    print(f"{printable(path)}: ok ({net.name}: {len(net.graph)} nodes, {rep.params:,} params)")


def _check_dir(args: argparse.Namespace, root: str) -> int:
    """Check every spec under `root` (sorted), reporting each error and going on; the number
    of specs that failed."""
    from ..front.roots import spec_files

    paths = spec_files(root)
    failed = 0
    for p in paths:
        try:
            _check_one(args, p, libraries=True)
        except SpecError as err:
            print(err.render(), file=sys.stderr)
            failed += 1
    print(f"{_plural(len(paths), 'spec')} checked, {failed} failed")
    return failed


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def cmd_report(args: argparse.Namespace) -> int:
    from .commands import report_output

    net = _load(args, args.file)
    text = report_output(args, net)
    if args.optimize:
        from .optimize import report_text

        text = report_text(args, net, text)
    if text is not None:
        _write(net, args.output or "-", text)
    return 0


def _write(net: Network, path: str, data: str | bytes) -> None:
    """Write a command's output (`-`: stdout), never over one of the spec's own files."""
    write_output(path, data, inputs=[f.abspath for f in net.program.files.values()])


def cmd_verify(args: argparse.Namespace) -> int:
    from .commands import verify_files

    return verify_files(args, args.files, lambda a, path: _load(a, path, verifying=True))


def cmd_graph(args: argparse.Namespace) -> int:
    from .commands import cmd_graph as run

    net = _load(args, args.file)
    return run(args, net, lambda path, data: _write(net, path, data))


def cmd_view(args: argparse.Namespace) -> int:
    from .commands import cmd_view as run

    net = _load(args, args.file)
    return run(args, net, lambda path, data: _write(net, path, data))


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweep.command import run

    return run(args, parse_set)


def cmd_search(args: argparse.Namespace) -> int:
    from ..search.command import run

    return run(args, parse_set)


def cmd_lsp(args: argparse.Namespace) -> int:
    from .commands import cmd_lsp as run

    return run(args)


def cmd_fmt(args: argparse.Namespace) -> int:
    from ..fmt import format_source
    from ..front.loader import read_text

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
    from ..fit import terminal_width
    from ..front.loader import load_program
    from ..front.roots import SUFFIX, Root, library_roots, spec_files
    from ..middle.members import family_in

    if args.dir:
        if not os.path.lexists(args.dir):
            raise FileNotFoundSpecError(f"no such directory: {args.dir}", path=args.dir)
        if not os.path.isdir(args.dir):
            raise UsageError(f"--dir expects a directory, got the file {args.dir}")
        roots = [(args.dir, Root(os.path.realpath(args.dir)))]
    else:
        roots = [(r.path, r) for r in library_roots().values()]
    rows, code, example = [], 0, ""
    for base, root in roots:
        for path in spec_files(base):
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            name = rel if root.name is None else rel.removesuffix(SUFFIX)
            if root.name not in (None, "inceptdsl"):
                name = f"@{root.name}/{rel}"
            try:
                if not root.contains(os.path.realpath(path)):
                    raise UsageError(f"{path} is a symbolic link that leads outside {base}")
                program = load_program(path)
                if not program.root.module.networks:
                    continue  # a library of blocks
                fam = family_in(program)
                for member in fam.members if fam else (None,):
                    # a bundled family's member is listed by the name that loads it
                    spec = f"{name}_{member}" if member and root.name == "inceptdsl" else name
                    net = load(path, **({fam.param: member} if fam and member else {}))
                    shown = f"{net.name} {fam.param}={member}" if fam and member else net.name
                    rep = net.report()
                    rows.append((printable(spec), shown, rep.params, rep.buffers, rep.macs))
                    if fam and member and not example:
                        chosen = f"`{name} --set {fam.param}={member}`"
                        example = f"`{spec}` is {chosen}" if spec != name else f"load {chosen}"
            except SpecError as err:
                print(err.render(), file=sys.stderr)
                code = max(code, err.exit_code)
                continue
    _list_table(rows, None if args.wide else terminal_width())
    print()
    if example:
        print(f"One row per family member: {example}.")
    for base, root in roots:
        where = {"bundled": "bundled", "": "directory"}.get(root.origin, root.origin)
        label = f"@{root.name}" if root.name else printable(base)
        print(f"{label} ({where}): {printable(root.path)}")
    return code


LIST_LADDER = (
    ("short", "macs"),
    ("short", "params"),
    ("drop", "buffers"),
    ("drop", "network"),
)
"""How `list` narrows on a terminal: counts as 28.6M first, then without buffers, then without
the network's name (the spec's name is what loads it)."""


def _list_table(rows: list[tuple[str, str, int, int, int]], width: int | None) -> None:
    """The rows of `list`, every column through a pipe; fitted to `width` on a terminal."""
    from ..fit import Col, compact, fit, footnote, lines

    def counts(key: str, header: str, i: int) -> Col:
        cells = [f"{int(r[i]):,}" for r in rows]
        return Col(key, header, True, cells, [compact(int(r[i])) for r in rows])

    cols = [
        Col("spec", "spec", False, [r[0] for r in rows]),
        Col("network", "network", False, [r[1] for r in rows]),
        counts("params", "params", 2),
        counts("buffers", "buffers", 3),
        counts("macs", "MACs", 4),
    ]
    if width is None:
        print("\n".join(lines(cols)))
        return
    fitted = fit(cols, width, LIST_LADDER)
    print("\n".join(lines(fitted.cols)))
    note = footnote(fitted, width, how="`--wide` shows all.")
    if note:
        print(note)


def cmd_diff(args: argparse.Namespace) -> int:
    from ..diff import diff_graphs, parse_renames
    from ..present.diff import FORMATS

    renames = parse_renames(args.rename)
    (a, name_a), (b, name_b) = (
        (_load(argparse.Namespace(**{**vars(args), "set": items}), spec), label)
        for spec, items, label in _diff_sides(args)
    )
    d = diff_graphs(a.graph, b.graph, args.depth, name_a, name_b, renames)
    if args.format == "table":
        from ..fit import terminal_width
        from ..present.diff import to_table

        sys.stdout.write(to_table(d, None if args.wide else terminal_width()))
        return 0
    sys.stdout.write(FORMATS[args.format](d))
    return 0


def _diff_sides(args: argparse.Namespace) -> list[tuple[str, list[str], str]]:
    """(spec, --set items, label) of each side of `diff`: `--set` holds for both sides,
    `--set-a`/`--set-b` for one; a name set twice for one side is a usage error, never a
    silent last-wins (`diff f --set variant=b0 f --set variant=b3` would compare b3 to b3)."""
    both = list(args.set or [])
    sides = []
    for spec, own, flag in (
        (args.a, args.set_a or [], "--set-a"),
        (args.b, args.set_b or [], "--set-b"),
    ):
        seen: dict[str, str] = {}
        for item, where in [*((i, "--set") for i in both), *((i, flag) for i in own)]:
            name = item.partition("=")[0].strip()
            if name in seen:
                raise UsageError(
                    f"`{name}` is set twice for {'A' if flag == '--set-a' else 'B'} "
                    f"({seen[name]} and {where}); --set holds for both sides of a diff",
                    hint="set a side's own value with --set-a or --set-b (or name two members: "
                    "diff efficientnet_b0 efficientnet_b3)",
                )
            seen[name] = where
        label = " ".join([printable(spec), *(printable(i) for i in own)])
        sides.append((spec, both + own, label))
    return sides


def cmd_new(args: argparse.Namespace) -> int:
    """Write a starter variant NAME that extends the bundled network PARENT (a family's
    member by name too: `--from efficientnet_b3` extends efficientnet(variant="b3"))."""
    from ..middle.members import resolve_member
    from ..names import did_you_mean
    from ..starter import starter_variant

    if not args.name.isidentifier():
        raise UsageError(f"a network name is a name (letters, digits, _), got {args.name!r}")
    bundled = _bundled_networks()
    parent, chosen = args.parent, {}
    member = resolve_member(parent) if parent not in bundled else None
    if member is not None and member.spec in bundled:
        parent, chosen = member.spec, {member.param: member.member}
    if parent not in bundled:
        raise UsageError(
            f"no bundled network {args.parent!r}"
            + (f"; {hint}" if (hint := did_you_mean(args.parent, bundled)) else "")
            + " (`inceptdsl list` shows them)"
        )
    if args.name == parent:
        # the file would declare `network P extends P`: two networks of one name, the
        # variant hiding its parent from every tool that goes by name
        raise UsageError(
            f"NAME {args.name!r} is the parent's own name: a variant needs a name of its own",
            hint=f"e.g. inceptdsl new my_{parent} --from {args.parent}",
        )
    out = Path(args.output or f"{args.name}.incept")
    if os.path.lexists(out):
        raise UsageError(
            f"{printable(str(out))} exists; not overwritten (give another name or -o FILE)"
        )
    specs_dir, parent_path = bundled[parent]
    text = starter_variant(args.name, parent, parent_path, specs_dir, out, chosen)
    try:  # checked before it is written: a starter that does not load helps no one
        loads(text, str(out))
    except SpecError as err:
        if err.path is None or os.path.realpath(err.path) != os.path.realpath(out):
            raise
        # the name is all the user gave: say so on the command line, not in a file never written
        raise UsageError(
            f"{args.name!r} cannot name the network: {err.message}",
            hint=err.hint.replace("rename the network", "choose another NAME")
            if err.hint
            else "choose another NAME",
        ) from None
    write_output(str(out), text)
    rel = parent_path.relative_to(specs_dir)
    print(f"wrote {printable(str(out))} ({args.name} extends {args.parent}, {rel})")
    return 0


def _bundled_networks() -> dict[str, tuple[Path, Path]]:
    """Bundled network name -> (the bundled root, its spec file); libraries hold only blocks."""
    from ..front.loader import load_program
    from ..front.roots import bundled_root, bundled_specs

    root = bundled_root()
    out: dict[str, tuple[Path, Path]] = {}
    for _, path in bundled_specs():
        for net in load_program(path).root.module.networks:
            out.setdefault(net.name, (Path(root.path) if root else Path(), Path(path)))
    return out


def cmd_ir(args: argparse.Namespace) -> int:
    from ..ir.printer import print_graph

    net = _load(args, args.file)
    if args.optimize:
        from .optimize import ir_text

        sys.stdout.write(ir_text(args, net))
        return 0
    sys.stdout.write(print_graph(net.graph, os.path.dirname(net.path)))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from ..backend import get
    from ..progress import step

    backend = get(args.backend)
    # a backend that writes files itself (onnx: external data beside the model) declares
    # `writes_files`, and takes trained weights (`--weights`) in `emit` and `write`
    writes = backend.writes_files
    if args.weights is not None and not writes and not args.optimize:
        raise UsageError(
            f"backend {backend.name!r} does not take --weights",
            hint="--weights exports trained weights with --backend onnx, or with --optimize "
            "(torch: OUT.pt beside the source)",
        )
    extra: dict[str, Any] = {} if args.weights is None else {"weights": args.weights}
    extra.update(_int8_options(args, backend))
    output.add_inputs(p for p in (args.weights, args.calibrate) if p is not None)
    net = _load(args, args.file)
    to_stdout = args.output in (None, "-")
    inputs = [f.abspath for f in net.program.files.values()]
    written: list[str] | None = None
    out: str | bytes | None = None
    try:
        with step(f"compiling {net.name} with {backend.name}"):
            if args.optimize:
                from .optimize import compile_optimized

                written, out = compile_optimized(args, backend, net, inputs)
            elif writes and not to_stdout:
                written = backend.write(net.graph, args.output, inputs=inputs, **extra)
            else:
                out = backend.emit(net.graph, **extra)
    except SpecError as err:  # a name the backend cannot use: show it in the spec
        raise err.with_sources(net.program.sources) from None
    if written is not None:
        shown = " and ".join(printable(p) for p in written)
        print(f"wrote {shown} ({net.name}, backend {backend.name})", file=sys.stderr)
    elif out is None:  # pragma: no cover - every path above writes or returns output
        raise AssertionError("compile produced nothing")
    elif to_stdout:
        if isinstance(out, bytes) and sys.stdout.isatty():
            raise UsageError(f"backend {backend.name!r} writes a binary file: give -o FILE")
        write_output("-", out)
    else:
        write_output(args.output, out, inputs=inputs)
        shown = printable(args.output)
        print(f"wrote {shown} ({net.name}, backend {backend.name})", file=sys.stderr)
    if not args.quiet:
        print(net.report().to_table(depth=1), file=sys.stderr)
    return 0


def _int8_options(args: argparse.Namespace, backend: Any) -> dict[str, Any]:
    """`--int8 --calibrate DATA [--keep-fp32 PATH]` as the backend's options (the backend reads
    DATA, checking its header against the network's input first)."""
    if not args.int8:
        if args.calibrate is not None or args.keep_fp32:
            raise UsageError("--calibrate and --keep-fp32 are for --int8")
        return {}
    if not backend.quantizes:
        raise UsageError(
            f"backend {backend.name!r} does not quantize to int8",
            hint="--int8 is for --backend onnx, openvino or tflite (docs/deploy.md)",
        )
    if args.calibrate is None:
        raise UsageError(
            "--int8 needs calibration inputs: --calibrate DATA",
            hint="a .npy of a few hundred (N, C, H, W) inputs like the ones the model will see",
        )
    if args.optimize:
        raise UsageError(
            "--int8 quantizes the optimized graph already: leave out --optimize",
            hint="docs/deploy.md",
        )
    opts = {"calibration": args.calibrate, "keep_fp32": tuple(args.keep_fp32 or ())}
    return {"int8": True, **opts, "report": None if args.quiet else _show_report}


def _show_report(report: Any) -> None:
    """The backend's QuantReport after --int8: size and per-layer error against fp32."""
    print(report.format(), file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    """Write a verified spec from a torch module (executes it), a Caffe prototxt or an .onnx
    file (with its weights file)."""
    from ..importers import command

    out = args.output or "<import>.incept"
    shape = command.parse_input(args.input)
    if args.framework != "onnx" and args.weights is not None:
        raise UsageError("--weights is for `import onnx` (where the weights file goes)")
    data = None
    if args.framework == "onnx":
        if args.kwargs or args.timeout is not None:
            raise UsageError("--kwargs and --timeout are for `import torch`")
        weights = args.weights
        if weights is None and args.output and args.output != "-":
            weights = os.path.splitext(args.output)[0] + ".npz"
        text, summary, data = command.import_onnx(args.source, shape, out, weights)
    elif args.framework == "torch":
        text, summary = command.import_torch(
            args.source,
            command.parse_kwargs(args.kwargs),
            shape or (3, 224, 224),
            out,
            timeout=command.parse_timeout(args.timeout),
            hard_timeout=True,
        )
    else:
        if args.kwargs or args.timeout is not None:
            raise UsageError("--kwargs and --timeout are for `import torch`")
        text, summary = command.import_caffe(args.source, shape, out)
    weights_out = args.weights or os.path.splitext(args.output or "")[0] + ".npz"
    if (
        data is not None
        and args.output
        and os.path.abspath(weights_out) == os.path.abspath(args.output)
    ):
        raise UsageError(f"--weights {weights_out!r} is the spec's own output")
    if args.output and args.output != "-":
        # the prototxt, or the torch module's files (every module loaded is refused too)
        inputs = _module_files(args.source) if args.framework == "torch" else [args.source]
        write_output(args.output, text, inputs=inputs)
        print(f"wrote {printable(args.output)}", file=sys.stderr)
    else:
        write_output("-", text)
    if data is not None:  # after the spec: a refused spec leaves no weights file either
        write_output(weights_out, data, inputs=[args.source])
        print(f"wrote {printable(weights_out)}", file=sys.stderr)
    for line in summary:
        print(line, file=sys.stderr)
    return 0


def _module_files(target: str) -> list[str]:
    """The files `import torch TARGET` may have executed: FILE of `FILE.py:fn`, or for a dotted
    name each package and module on sys.path that it names (found without importing, so they
    are known even when the model ran in another process)."""
    if ":" in target:
        return [target.rpartition(":")[0]]
    parts = target.split(".")
    found = []
    for base in sys.path:
        for i in range(1, len(parts) + 1):
            stem = os.path.join(base or os.curdir, *parts[:i])
            found += [
                f for f in (stem + ".py", os.path.join(stem, "__init__.py")) if os.path.isfile(f)
            ]
    return found


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
    from .optimize import add_options as optimize_options

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
    optimize_options(
        sp, "also show the optimized graph's op counts next to the original's", batch=False
    )
    sp = add("verify", cmd_verify, "check every `expect` declaration (exit 1 on a mismatch)")
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp = add("fmt", cmd_fmt, "rewrite specs in canonical format", sets=False)
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp.add_argument("--check", action="store_true", help="only report files that would change")
    sp = add("list", cmd_list, "the bundled specs with their totals", sets=False)
    sp.add_argument("--dir", default=None, help="a spec directory other than the bundled one")
    sp.add_argument("--wide", action="store_true", help="every column in full on a terminal too")
    sp = add("diff", cmd_diff, "structural and per-block params/MACs differences of two specs")
    sp.add_argument("a", metavar="A")
    sp.add_argument("b", metavar="B")
    sp.add_argument("--depth", type=_depth, default=1, metavar="N")
    sp.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    sp.add_argument("--wide", action="store_true", help="every column in full on a terminal too")
    for side in "ab":
        sp.add_argument(
            f"--set-{side}",
            action="append",
            metavar="NAME=VALUE",
            help=f"override a parameter of {side.upper()} only (repeatable; --set: both sides)",
        )
    sp.add_argument(
        "--rename",
        action="append",
        metavar="OLD=NEW",
        help="match A's layers at path OLD with B's at NEW (repeatable)",
    )
    sp = add("ir", cmd_ir, "print the IR graph, one node per line")
    sp.add_argument("file", metavar="FILE")
    optimize_options(sp, "print the optimized (eval-only) graph and each pass's decisions")
    sp = add("compile", cmd_compile, "compile a spec with a backend (torch, keras, ...)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--backend", required=True)
    sp.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write here (atomically; `-` is stdout) instead of stdout",
    )
    _force_option(sp)
    sp.add_argument(
        "--weights",
        metavar="FILE",
        help="trained weights to export (onnx: a torch state_dict .pt of the compiled model, "
        "or an .npz of its state_dict keys; with --optimize also torch: OUT.pt beside the "
        "source)",
    )
    optimize_options(sp, "compile the optimized (eval-only) graph")
    sp.add_argument(
        "--int8",
        action="store_true",
        help="quantize to int8 (onnx, openvino, tflite), calibrated on --calibrate DATA "
        "(docs/deploy.md)",
    )
    sp.add_argument(
        "--calibrate",
        metavar="DATA",
        help="calibration inputs for --int8: a .npy (or one-array .npz) of (N, C, H, W) floats",
    )
    sp.add_argument(
        "--keep-fp32",
        action="append",
        metavar="PATH",
        help="with --int8: keep the layers under this block path in float (repeatable)",
    )
    sp = add(
        "import",
        cmd_import,
        "write a verified spec from a PyTorch module (runs its code), a Caffe prototxt or an "
        ".onnx file",
        sets=False,
    )
    sp.add_argument("framework", choices=["torch", "caffe", "onnx"])
    sp.add_argument("source", metavar="MODULE_PATH|FILE.prototxt|FILE.onnx")
    sp.add_argument("--kwargs", metavar="JSON", help="torch: constructor arguments as JSON")
    sp.add_argument("--input", metavar="CxHxW", help="input shape (torch default 3x224x224)")
    sp.add_argument(
        "--weights",
        metavar="PATH",
        help="onnx: write the file's weights here (.npz or .safetensors; default OUT's name "
        "with .npz)",
    )
    sp.add_argument(
        "--timeout",
        metavar="SECONDS",
        help="torch: time the model's code may run, import to check (default 300)",
    )
    sp.add_argument("-o", "--output", metavar="OUT", help="write here (atomically; `-` is stdout)")
    _force_option(sp)
    _view_commands(add)
    from ..sweep.command import add_arguments as sweep_arguments

    sweep_arguments(
        add("sweep", cmd_sweep, "static Pareto front of a design space (docs/sweep.md)")
    )
    from ..search.command import add_arguments as search_arguments

    search_arguments(
        add("search", cmd_search, "search a design space with Optuna (docs/search.md)")
    )
    return p


def _force_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--force",
        action="store_true",
        help="replace the output even when it is an existing spec file (.incept) or a file "
        "inceptdsl did not write",
    )


def _report_options(sp: argparse.ArgumentParser) -> None:
    from ..middle.memory import DTYPES
    from ..report import COLUMNS
    from .commands import batch_arg, columns_arg

    sp.add_argument(
        "--columns",
        type=columns_arg,
        default=None,
        metavar="A,B,...",
        help=f"columns to show, of: {', '.join(COLUMNS)}",
    )
    sp.add_argument("--wide", action="store_true", help="every column in full on a terminal too")
    sp.add_argument("--batch", type=batch_arg, default=1, metavar="N", help="for memory")
    sp.add_argument("--dtype", choices=list(DTYPES), default="float32", help="for memory")
    sp.add_argument("-o", "--output", metavar="OUT", help="write here (atomically)")
    _force_option(sp)


def _view_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    from .commands import port_arg

    sp = add("graph", cmd_graph, "draw the network: SVG, interactive HTML, DOT or Mermaid")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("-o", "--output", required=True, metavar="OUT.svg|.html|.dot|.mmd")
    _force_option(sp)
    sp.add_argument("--format", choices=["svg", "html", "dot", "mermaid"], default=None)
    sp.add_argument(
        "--depth", type=_depth, default=None, metavar="N", help="expand blocks above depth N"
    )
    sp = add("view", cmd_view, "open the network in Netron (an ONNX export, served locally)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument(
        "-o", "--output", metavar="OUT.onnx", help="keep the ONNX file here (default: a temp dir)"
    )
    _force_option(sp)
    sp.add_argument(
        "--weights", metavar="FILE", help="trained weights to show (as compile --backend onnx)"
    )
    sp.add_argument("--port", type=port_arg, default=8080, metavar="N", help="1 to 65535")
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
    from .. import progress

    for stream in ("stdout", "stderr"):  # started with `>&-`: what it prints is discarded
        if getattr(sys, stream) is None:
            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    parser = _parser()
    rest, flags = _global_flags(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(rest)
    args.debug, args.quiet = flags["debug"], flags["quiet"]
    progress.QUIET = args.quiet
    if args.quiet:
        progress.silence_frameworks()
    try:
        # no output may replace an input, another output, or a spec without --force
        with output.command(force=getattr(args, "force", False)):
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
        failed = UsageError(f"cannot write the output (stdout): {os.strerror(exc.errno or 0)}")
        print(failed.render(), file=sys.stderr)  # E004, as for every other write failure
        return failed.exit_code
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
