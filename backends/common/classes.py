"""One class per block kind: group the emitted code of scopes and find its constructor parameters.

Each module scope (backends/common/scopes.py) is first written out with its own numbers, as a
list of `Line`s. Scopes whose code is the same apart from the numbers, and that come from the
same block (or the same group of the same block), share a class. The numbers that differ
between the calls, and those equal to a block argument, become constructor parameters, named
after the block's parameters where a number equals one at every call (`ConvBN(in_channels,
ch1x1, 1)`), `in_channels` where it is the channel count the scope reads; a number that differs
between calls and matches no parameter becomes a parameter of its own. A number used in the
forward is kept as an attribute (`x * self.scale`). Everything here is text: the backends write
the code, this module only finds the numbers in it (every number a backend writes is a plain
int or float literal, `ops.num()`), so it serves the torch and the Keras backend alike.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .scopes import Scope

_NUMBER = re.compile(r"(?<![\w.\[])(?:\d+\.\d*(?:e[+-]?\d+)?|\d+e[+-]?\d+|\d+)(?![\w.])")
MARK = "\x00"
"""Brackets the path of a child scope in a line, replaced by its class's constructor call."""


@dataclass
class Line:
    """A statement of a class: `section` "init" or "forward", at `indent` spaces."""

    section: str
    indent: int
    code: str
    comment: str | None = None
    first_is_in: bool = False  # the first number of `code` is the channels the scope reads


@dataclass
class Instance:
    """One scope written out with its own numbers."""

    scope: Scope
    name: str  # the class name it asks for
    base: str
    lines: list[Line]
    shape: tuple[object, ...]  # what else must agree for two scopes to share a class
    env: tuple[tuple[str, Any], ...]  # block arguments that may name numbers, in order
    in_channels: int | None = None  # what its first input holds: channels, or features
    in_name: str = "in_channels"


@dataclass
class Param:
    name: str
    type: str  # "int" or "float"
    attr: str | None = None  # the attribute holding it, when the forward reads it


@dataclass
class Klass:
    """A class: its name, instances, parameters and code (with parameters in it)."""

    name: str
    instances: list[Instance]
    params: list[Param] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    args: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # scope path -> ctor values


def _value(text: str) -> int | float:
    return float(text) if any(c in text for c in ".e") else int(text)


def _literal(value: object) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def blank(code: str) -> str:
    """`code` with every number replaced by `{}` (what two scopes must share)."""
    return _NUMBER.sub("{}", code)


class Classes:
    """The classes of a file, in definition order (a class before the classes that use it)."""

    def __init__(self, reserved: set[str], taken_attrs: Callable[[Instance], set[str]]) -> None:
        self.reserved = set(reserved)  # names at the file's top level
        self.taken_attrs = taken_attrs  # attribute names an instance's class already has
        self.by_key: dict[tuple[object, ...], Klass] = {}
        self.order: list[Klass] = []
        self.of_scope: dict[str, Klass] = {}

    def _child_key(self, path: str) -> str:
        return f"<{self.of_scope[path].name}>"

    def add(self, inst: Instance) -> Klass:
        """File `inst` under the class of its code (children must have been added first)."""
        lines = tuple(
            (ln.section, ln.indent, blank(self._markers(ln.code, self._child_key)))
            for ln in inst.lines
        )
        key = (inst.name, inst.base, lines, inst.shape, tuple(k for k, _ in inst.env))
        if key not in self.by_key:
            name = inst.name
            n = 2
            while name in self.reserved:
                name, n = f"{inst.name}_{n}", n + 1
            self.reserved.add(name)
            self.by_key[key] = Klass(name, [])
            self.order.append(self.by_key[key])
        klass = self.by_key[key]
        klass.instances.append(inst)
        self.of_scope[inst.scope.path] = klass
        return klass

    @staticmethod
    def _markers(code: str, sub: Callable[[str], str]) -> str:
        parts = code.split(MARK)
        return "".join(sub(p) if i % 2 else p for i, p in enumerate(parts))

    def call(self, path: str) -> str:
        """The constructor call of the (resolved) scope `path`: `InceptionBranch2(192, 96, 128)`."""
        klass = self.of_scope[path]
        return f"{klass.name}({', '.join(_literal(v) for v in klass.args[path])})"

    def finalize(self, code: str) -> str:
        """`code` with each child marker replaced by its constructor call."""
        return self._markers(code, self.call)

    def resolve(self, klass: Klass) -> None:
        """Find `klass`'s parameters and code from its instances (whose children are resolved)."""
        texts = [[self.finalize(ln.code) for ln in inst.lines] for inst in klass.instances]
        first = klass.instances[0]
        slots: list[tuple[int, int, list[int | float]]] = []  # (line, index in line, values)
        found = [[[m.group() for m in _NUMBER.finditer(t)] for t in lines] for lines in texts]
        for li in range(len(first.lines)):
            for si in range(len(found[0][li])):
                slots.append((li, si, [_value(f[li][si]) for f in found]))
        declared = [
            k for k, v in first.env if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        envs = [dict(inst.env) for inst in klass.instances]
        ins = [inst.in_channels for inst in klass.instances]

        def matches(name: str, values: list[int | float]) -> bool:
            if name == "":
                return all(_same(c, v) for c, v in zip(ins, values, strict=True))
            return all(_same(e.get(name), v) for e, v in zip(envs, values, strict=True))

        def varies(name: str) -> bool:
            seen = ins if name == "" else [e.get(name) for e in envs]
            return any(not _same(s, seen[0]) for s in seen)

        choice: list[str | None] = []  # "" = in_channels, a declared name, "#k" fallback, None
        for li, si, values in slots:
            tagged = si == 0 and first.lines[li].first_is_in
            pick: str | None = None
            if tagged and matches("", values):
                pick = ""
            else:
                hits = [d for d in declared if matches(d, values)]
                moving = [d for d in hits if varies(d)]
                if moving:
                    pick = moving[0]
                elif matches("", values) and varies(""):
                    pick = ""
                elif hits and len(klass.instances) == 1:
                    pick = hits[0]  # one call: a number equal to an argument comes from it
                elif hits:  # every call gives the same: an argument only if it is named so
                    before = texts[0][li][: _start(found, texts[0][li], si)]
                    named = [d for d in hits if before.endswith(f"{d}=")]
                    pick = named[0] if named else None
                elif any(not _same(v, values[0]) for v in values):
                    # one parameter for the numbers that are equal at every call
                    twin = next((c for c, (_, _, vs) in zip(choice, slots, strict=False)
                                 if c and c.startswith("#") and vs == values), None)  # fmt: skip
                    pick = twin or f"#{len(choice)}"
            choice.append(pick)

        # parameter names: in_channels, the declared ones used, then the fallbacks
        used = {c for c in choice if c is not None}
        order = ([""] if "" in used else []) + [d for d in declared if d in used]
        order += [c for c in dict.fromkeys(choice) if c is not None and c.startswith("#")]
        # (l, O and I read as digits: pycodestyle's E741 refuses them)
        taken = self.reserved | {"self", "super", "x", "l", "O", "I"} | set(dir(builtins))
        names: dict[str, str] = {}
        for c in order:
            if c == "":
                base = first.in_name
            elif c.startswith("#"):
                li = slots[int(c[1:])][0]
                base = _fallback_name(first.lines[li].code, slots[int(c[1:])][1])
            else:
                base = c
            name = base
            while name in taken or keyword.iskeyword(name) or name in names.values():
                name += "_"
            names[c] = name
        in_forward = {
            c for c, (li, _, _) in zip(choice, slots, strict=True)
            if c is not None and first.lines[li].section == "forward"
        }  # fmt: skip
        attrs = self.taken_attrs(first)
        params = []
        for c in order:
            attr = None
            if c in in_forward:
                attr = names[c]
                while attr in attrs:
                    attr += "_value"
                attrs.add(attr)
            kind = type(slots[choice.index(c)][2][0]).__name__
            params.append(Param(names[c], kind, attr))
        klass.params = params
        by_choice = {c: p for c, p in zip(order, params, strict=True)}

        lines = [Line("init", 8, f"self.{p.attr} = {p.name}") for p in params if p.attr]
        k = 0
        for li, ln in enumerate(first.lines):
            pieces = []
            last = 0
            text = texts[0][li]
            for si, m in enumerate(_NUMBER.finditer(text)):
                chosen = choice[k + si]
                pieces.append(text[last : m.start()])
                if chosen is None:
                    pieces.append(m.group())
                else:
                    p = by_choice[chosen]
                    pieces.append(f"self.{p.attr}" if ln.section == "forward" else p.name)
                last = m.end()
            pieces.append(text[last:])
            k += len(found[0][li])
            comments = {inst.lines[li].comment for inst in klass.instances}
            comment = ln.comment if len(comments) == 1 else None
            lines.append(Line(ln.section, ln.indent, "".join(pieces), comment))
        klass.lines = lines
        for inst, env in zip(klass.instances, envs, strict=True):
            given: list[Any] = []
            for c in order:
                if c == "":
                    given.append(inst.in_channels)
                elif c.startswith("#"):
                    li, si, vals = slots[int(c[1:])]
                    given.append(vals[klass.instances.index(inst)])
                else:
                    given.append(env[c])
            klass.args[inst.scope.path] = tuple(given)


def _start(found: object, text: str, index: int) -> int:
    """Where the `index`-th number of `text` starts."""
    return [m.start() for m in _NUMBER.finditer(text)][index]


def _fallback_name(code: str, index: int) -> str:
    """A name for a number that differs between calls: after the layer it configures."""
    target = code.split(" = ", 1)[0].strip()
    target = re.sub(r"\W+", "_", target.removeprefix("self").strip(".")).strip("_") or "value"
    if target[0].isdigit():
        target = "layer_" + target
    return f"{target}_{index}"
