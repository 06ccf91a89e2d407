"""The spec writer: layer graph -> canonical, deterministic .incept text.

The pipeline: fuse conv units, build the unit tree (structure.py), place the aux heads and
label everything (naming.py), lift shared options into `defaults` (defaults.py), recover
blocks (blocks.py), print, and run the result through `inceptdsl fmt`'s formatter, so an
imported spec is canonical by construction (`inceptdsl fmt --check` passes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import SpecError, UnsupportedModelError
from ..fmt import format_source, quote
from ..front.source import SourceFile
from ..ir.ops import LAYERS
from . import blocks as B
from .defaults import dsl_default, shared_defaults
from .fuse import fuse
from .loops import Run, arg_context, runs, write_run
from .model import LayerGraph, Size, Sym, Var
from .naming import name_network, place_aux
from .structure import build
from .unify import is_act
from .units import UAux, UIf, ULayer, UMerge, Unit, URepeat, UResidual, UScope
from .values import grouped, identifier, key, literal

Val = Callable[[Any, str], str]

STRUCTURAL = ("stride", "pad", "dilation", "groups")
"""Conv options whose values vary within one block (MBConv's first block of a stage)."""


def _label(text: str) -> str:
    """A label as written: quoted unless it is an identifier (torchvision's `"block1-0"`)."""
    return text if text.isidentifier() and text.isascii() else quote(text)


class Printer:
    """Prints bodies; `val` turns each value into text (a literal, or a block's placeholder)."""

    def __init__(self, defaults: dict[str, dict[str, Any]]) -> None:
        self.defaults = defaults
        self.blocks: dict[str, list[B.Param]] = {}  # filled by block recovery, innermost first

    def param_names(self, block: str) -> list[str]:
        return [p.name for p in self.blocks.get(block, [])]

    def param_default(self, block: str, name: str) -> str | None:
        for p in self.blocks.get(block, []):
            if p.name == name and p.has_default:
                return literal(p.default)
        return None

    def effective_default(self, kind: str, opt: str) -> Any:
        if opt in self.defaults.get(kind, {}):
            return self.defaults[kind][opt]
        return dsl_default(kind, opt)

    def body(self, units: list[Unit], val: Val) -> str:
        lines: list[str] = []
        for item in runs(units):
            if isinstance(item, Run):
                lines += write_run(item, val, self.param_names, self.param_default, _label)
            else:
                lines.append(self.unit(item, val))
        return "\n".join(x for x in lines if x)  # an absent activation writes nothing

    def chain(self, units: list[Unit], val: Val) -> str:
        parts = [t for t in (self.unit(u, val) for u in units) if t]
        return " -> ".join(parts) if parts else "identity"

    def unit(self, u: Unit, val: Val) -> str:
        # a copy standing for a part this instance lacks: its own values are wild
        own = _wild(val) if getattr(u, "wild", False) else val
        if isinstance(u, ULayer):
            return self.layer(u, own)
        if isinstance(u, UScope):
            lead = f"{_label(u.label)}: " if u.label else ""
            if u.group:
                members = runs(u.body)
                if all(
                    isinstance(m, ULayer) or (isinstance(m, UScope) and not m.group)
                    for m in members
                ):
                    return lead + "{ " + " -> ".join(self.unit(m, val) for m in u.body) + " }"
                return lead + "{\n" + self.body(u.body, val) + "\n}"
            assert u.block is not None
            args = []
            for i, (kw, v) in enumerate(u.args):
                text = own(v, arg_context(u, i, kw, self.param_names))
                if kw is None or text != self.param_default(u.block, kw):
                    args.append((f"{kw}=" if kw else "") + text)
            return f"{lead}{u.block}({', '.join(args)})" if args else lead + u.block
        if isinstance(u, URepeat):
            return f"repeat {u.count} {{ {self.unit(u.unit, val)} }}"
        if isinstance(u, UMerge):
            branches = "\n".join(self.chain(b, val) for b in u.branches)
            return f"{u.layer.kind} {{\n{branches}\n}}"
        if isinstance(u, UResidual):
            opts = ""
            if u.scale is not None:
                opts += f"scale={own(u.scale, 'scale')} "
            act = own(Sym(u.act or "none"), "act")  # a parameter where instances differ
            if act != "none":
                opts += f"act={act} "
            main = self.body(u.main, val) if u.main else "identity"
            text = f"residual {opts}{{\n{main}\n}}"
            if u.shortcut:
                text += " shortcut {\n" + self.body(u.shortcut, val) + "\n}"
            return text
        if isinstance(u, UAux):
            weight = f" weight={literal(u.weight)}" if u.weight is not None else ""
            note = (
                ""
                if u.weight is not None
                else "# the model does not record this head's loss weight (1 unless given)\n"
            )
            return f"{note}{u.name}: aux from {u.tap_name}{weight} {{\n{self.body(u.body, val)}\n}}"
        if isinstance(u, UIf):
            # both arms are rendered, so that `val` sees the same values whichever is written
            cond = own(u.present, f"has_{u.what}")
            then, other = self.body(u.then, val), self.body(u.other, val)
            if cond in ("true", "false"):
                return then if cond == "true" else other
            text = f"if {cond} {{\n{then}\n}}"
            return text + (f" else {{\n{other}\n}}" if other else "")
        raise TypeError(type(u).__name__)

    def layer(self, u: ULayer, val: Val) -> str:
        layer = u.layer
        kind = layer.kind
        if kind not in LAYERS and kind != "none":
            raise UnsupportedModelError(f"{layer.where}: no layer `{kind}` in the language")
        # A parameter that no constructor argument names is named after the unit it sets: its
        # label, or its kind for numbered and generated units (`conv_pad`, not `conv_0_pad`).
        ctx = identifier(u.label, kind) if u.label else kind
        if is_act(u):  # the activation may be a block's `act` parameter (`none`: absent)
            text = val(Sym(kind), identifier(u.label, "act") if u.label else "act")
            return "" if text == "none" else (f"{_label(u.label)}: " if u.label else "") + text
        spec = LAYERS[kind]
        parts = [kind]
        for name, v in zip(spec.positional, layer.args, strict=False):
            parts.append(val(v, ctx if name in ("channels", "features") else f"{ctx}_{name}"))
        for opt in spec.options:
            if opt in spec.positional:
                continue
            if kind == "conv" and opt in STRUCTURAL:
                # Written through `val` even at its default, so that convs that differ only in
                # stride share a block skeleton (the stride becomes a parameter); the literal
                # default is then left out.
                v = layer.opts.get(opt, self.effective_default(kind, opt))
                text = val(v, f"{ctx}_{opt}")
                if text != literal(self.effective_default(kind, opt)):
                    parts.append(f"{opt}={text}")
                continue
            if opt in layer.opts:
                v = layer.opts[opt]
            elif opt in self.defaults.get(kind, {}):  # an exception to a majority default
                v = dsl_default(kind, opt)
            else:
                continue
            if (
                opt == "stride"
                and kind in ("maxpool", "avgpool")
                and _pair(v) == _pair(layer.args[0])
            ):
                continue
            if key(v) == key(self.effective_default(kind, opt)):
                continue
            parts.append(f"{opt}={val(v, f'{ctx}_{opt}')}")
        text = (f"{_label(u.label)}: " if u.label else "") + " ".join(parts)
        # Positional values that are not atoms must be parenthesised.
        if any(p.startswith("-") for p in parts[1:]):
            raise UnsupportedModelError(f"{layer.where}: a negative value")
        if layer.comment:
            text += f"  # {layer.comment}"
        return text


def _wild(val: Val) -> Val:
    """`val` for a copy standing for a part an instance lacks (unify.py)."""

    def wval(v: Any, ctx: str) -> str:
        return val(B.Wild(v) if B.parametric(v) and not isinstance(v, B.Wild) else v, ctx)

    return wval


def _pair(v: Any) -> tuple[int, int] | None:
    if isinstance(v, Size):
        return (v.h, v.w)
    if isinstance(v, int) and not isinstance(v, bool):
        return (v, v)
    return None


def _wrap(lines: list[str], width: int = 96) -> list[str]:
    """Comment text refilled to `width` columns (paragraphs are the given lines)."""
    import textwrap

    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
    return out


def _param_text(p: B.Param) -> str:
    text = f"{p.name}: {p.type}"
    return text + (f" = {literal(p.default)}" if p.has_default else "")


def write_spec(graph: LayerGraph, path: str = "<import>.incept") -> str:
    """The canonical spec text of `graph` (which is modified: units are fused in place)."""
    fuse(graph)
    body, auxes = build(graph)
    body = place_aux(body, auxes)
    name_network(body)
    defaults = shared_defaults(body)
    printer = Printer(defaults)

    def render(units: list[Unit], val: Val) -> str:
        return printer.body(units, val)

    blockdefs = B.recover(graph, body, render, printer.blocks)
    out: list[str] = [f"# {line}" if line else "#" for line in _wrap(graph.header)]
    for bd in blockdefs:
        first = bd.instances[0]
        it = iter(bd.replace)

        def val(v: Any, ctx: str, _it: Any = it) -> str:
            if B.parametric(v):
                r = next(_it)
                return r.name if isinstance(r, Var) else literal(r)
            return literal(v)

        params = f"({', '.join(_param_text(p) for p in bd.params)})" if bd.params else ""
        where = graph.scopes[first.path].where if first.path in graph.scopes else first.path
        paths = ", ".join(u.path for u in bd.instances[:4])
        more = f" and {len(bd.instances) - 4} more" if len(bd.instances) > 4 else ""
        out.append("")
        out.append(f"# {bd.cls} ({len(bd.instances)}): {paths}{more}")
        del where
        out.append(f"block {bd.name}{params} {{\n{printer.body(first.body, val)}\n}}")
    out.append("")
    h, w = graph.input_shape[1], graph.input_shape[2]
    lines = [f"input {graph.input_shape[0]} x {h} x {w}"]
    for kind, opts in defaults.items():
        lines.append(
            f"defaults {kind}(" + ", ".join(f"{k}={literal(v)}" for k, v in opts.items()) + ")"
        )
    lines.append(printer.body(body, lambda v, ctx: literal(v)))
    for metric, value, source in graph.expects:
        lines.append(f"expect {metric} == {grouped(value)} source {quote(source)}")
    out.append(f"network {identifier(graph.name, 'net')} {{\n" + "\n".join(lines) + "\n}")
    text = "\n".join(out) + "\n"
    try:
        canonical = format_source(text, path)
    except SpecError as err:  # keep the text it was found in (relocate.py shows its line)
        raise err.with_sources({path: SourceFile.of(path, text)}) from None
    if format_source(canonical, path) != canonical:  # pragma: no cover - fmt's own guarantee
        raise AssertionError("the formatter is not idempotent on an imported spec")
    return canonical
