"""Loops in the written spec: runs of calls of one block become `repeat` or `for`.

A run is two or more consecutive calls of one block that are all unlabelled (numbered on in a
group, adding no level elsewhere) or labelled `P0`, `P1`, ... with consecutive numbers
(regnet's `"block2-1"`, `"block2-2"`). A loop is exactly the statements it stands for written
out (docs/language.md 2c), so names and state_dict keys do not change. Identical calls become
`repeat N { B(...) }`; three or more that differ in arguments become `for (a, b) in [...] {
B(a, b) }`, one loop name per argument that varies, named after the block's parameter, the
arguments that agree written once in the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import Rec, Sym
from .units import Unit, UScope

_NUMBERED = re.compile(r"^(.*?)(\d+)$")
MIN_FOR = 3
"""Fewer calls that differ read better written out."""


@dataclass
class Run:
    """Consecutive calls of one block; `pattern` names labelled ones (`"block2-{i+1}"`)."""

    calls: list[UScope]
    pattern: str | None
    letters: str = ""  # He et al.'s `res2a`, `res2b`, ...: the labels' last letters


def _pattern(prefix: str, k0: int) -> str:
    return prefix + ("{i}" if k0 == 0 else f"{{i+{k0}}}")


def _lettered(label: str | None) -> tuple[str, int] | None:
    """`res2b` -> ("res2", 1): a label ending in one letter after a digit."""
    if label is None or len(label) < 2 or not ("a" <= label[-1] <= "z") or not label[-2].isdigit():
        return None
    return label[:-1], ord(label[-1]) - ord("a")


def _numbered(label: str) -> tuple[str, int] | None:
    m = _NUMBERED.match(label)
    if not m or "{" in label or "}" in label or (len(m.group(2)) > 1 and m.group(2)[0] == "0"):
        return None
    return m.group(1), int(m.group(2))


def _call(u: Unit) -> UScope | None:
    return u if isinstance(u, UScope) and not u.group and u.block is not None else None


def runs(units: list[Unit]) -> list[Unit | Run]:
    """`units` with each run of two or more calls of one block gathered into a `Run`."""
    out: list[Unit | Run] = []
    i = 0
    while i < len(units):
        first = _call(units[i])
        j = i + 1
        letter = _lettered(first.label) if first is not None else None
        if first is not None and letter is not None:
            while j < len(units):
                nxt = _call(units[j])
                if nxt is None or nxt.block != first.block:
                    break
                if _lettered(nxt.label) != (letter[0], letter[1] + j - i):
                    break
                j += 1
            if j - i >= 2:
                calls = [u for u in units[i:j] if isinstance(u, UScope)]
                letters = "".join(str(u.label)[-1] for u in calls)
                out.append(Run(calls, f"{letter[0]}{{l}}", letters))
                i = j
                continue
        if first is not None:
            start = _numbered(first.label) if first.label is not None else None
            while j < len(units):
                nxt = _call(units[j])
                if nxt is None or nxt.block != first.block:
                    break
                if first.label is None:
                    if nxt.label is not None:
                        break
                elif start is None or nxt.label != f"{start[0]}{start[1] + j - i}":
                    break
                j += 1
        if first is not None and j - i >= 2:
            pattern = None
            if first.label is not None:
                assert start is not None
                pattern = _pattern(*start)
            calls = [u for u in units[i:j] if isinstance(u, UScope)]
            out.append(Run(calls, pattern))
            i = j
        else:
            out.append(units[i])
            i += 1
    return out


Val = Callable[[Any, str], str]


def arg_context(u: UScope, i: int, kw: str | None, param_names: Callable[[str], list[str]]) -> str:
    """What a block argument is named after if it becomes a parameter of the caller's block:
    the callee's parameter (`squeeze_channels`), else the call and position."""
    names = param_names(u.block) if u.block else []
    if kw:
        return kw
    return names[i] if i < len(names) else f"{u.label or u.seg}_{i}"


def write_run(
    run: Run,
    val: Val,
    param_names: Callable[[str], list[str]],
    defaults: Callable[[str, str], str | None],
    label: Callable[[str], str],
) -> list[str]:
    """The run's lines: a `repeat`, a `for`, or the calls written out. `val` is called once per
    argument of every call, in order, whatever is written (block recovery relies on it)."""
    block = run.calls[0].block
    assert block is not None
    names = param_names(block)
    rows: list[dict[str, tuple[Any, str]]] = []
    slots: list[str] = []
    for u in run.calls:
        row: dict[str, tuple[Any, str]] = {}
        for i, ((kw, v), slot) in enumerate(zip(u.args, _slots(u), strict=True)):
            row[slot] = (v, val(v, arg_context(u, i, kw, param_names)))
            if slot not in slots:
                slots.append(slot)
        rows.append(row)
    for row in rows:  # a keyword argument left out of some call has its default
        for slot in slots:
            if slot not in row:
                text = defaults(block, slot)
                if text is None:
                    return _written_out(run, rows, label, defaults)
                row[slot] = (None, text)
    varying = [s for s in slots if len({row[s][1] for row in rows}) > 1]
    if run.letters:
        return _lettered_loop(run, rows, slots, varying, label, defaults)
    if varying and len(rows) >= 3 and all(row == rows[1] for row in rows[2:]):
        # the first call differs (ResNet's first block of a stage): it, then a `repeat`
        tail = run.calls[1]
        start = _numbered(tail.label) if tail.label is not None else None
        rest = Run(run.calls[1:], _pattern(*start) if start else None)
        head = f'as "{rest.pattern}" ' if rest.pattern else ""
        call = _call_text(block, slots, rows[1], {}, defaults)
        return _written_out(Run(run.calls[:1], None), rows[:1], label, defaults) + [
            f"repeat {len(rows) - 1} {head}{{ {call} }}"
        ]
    head = f'as "{run.pattern}" ' if run.pattern else ""
    if not varying:
        return [f"repeat {len(rows)} {head}{{ {_call_text(block, slots, rows[0], {}, defaults)} }}"]
    if len(rows) < MIN_FOR or any(
        isinstance(row[s][0], (Sym, Rec, str)) for row in rows for s in varying
    ):
        return _written_out(run, rows, label, defaults)
    words = {w for row in rows for s in slots for w in re.findall(r"[A-Za-z_]\w*", row[s][1])}
    loop: dict[str, str] = {}
    for s in varying:
        base = s if not s.startswith("#") else names[int(s[1:])] if int(s[1:]) < len(names) else "v"
        name = base
        while name in words or name in loop.values() or name == "i":
            name += "_"
        loop[s] = name
    targets = [loop[s] for s in varying]
    items = [
        row[varying[0]][1]
        if len(varying) == 1
        else "(" + ", ".join(row[s][1] for s in varying) + ")"
        for row in rows
    ]
    table = "[" + ", ".join(items) + "]"
    target = targets[0] if len(targets) == 1 else "(" + ", ".join(targets) + ")"
    if run.pattern:
        head = f"for i, {target} in enumerate({table}) {head}"
    else:
        head = f"for {target} in {table} "
    return [head + "{ " + _call_text(block, slots, rows[0], loop, defaults) + " }"]


def _lettered_loop(
    run: Run,
    rows: list[dict[str, tuple[Any, str]]],
    slots: list[str],
    varying: list[str],
    label: Callable[[str], str],
    defaults: Callable[[str, str], str | None],
) -> list[str]:
    """Calls labelled `res2a`, `res2b`, ...: identical ones as `for l in ["a", "b"] as
    "res2{l}" { ... }`, after the first call where only it differs; else written out."""
    block = run.calls[0].block or ""
    lead: list[str] = []
    k = 0
    if varying:
        if len(rows) < 3 or not all(row == rows[1] for row in rows[2:]):
            return _written_out(run, rows, label, defaults)
        lead = _written_out(Run(run.calls[:1], None), rows[:1], label, defaults)
        k = 1
    letters = ", ".join(f'"{c}"' for c in run.letters[k:])
    call = _call_text(block, slots, rows[k], {}, defaults)
    return lead + [f'for l in [{letters}] as "{run.pattern}" {{ {call} }}']


def _call_text(
    block: str,
    slots: list[str],
    row: dict[str, tuple[Any, str]],
    loop: dict[str, str],
    defaults: Callable[[str, str], str | None],
) -> str:
    """The call; a keyword argument at the parameter's default is left out."""
    args = []
    for s in slots:
        text = loop.get(s, row[s][1])
        if s.startswith("#"):
            args.append(text)
        elif s in loop or text != defaults(block, s):
            args.append(f"{s}={text}")
    return f"{block}({', '.join(args)})" if args else block


def _slots(u: UScope) -> list[str]:
    """The call's own argument slots: keywords by name, positional ones `#0`, `#1`, ..."""
    out: list[str] = []
    pos = 0
    for kw, _ in u.args:
        out.append(kw if kw else f"#{pos}")
        pos += 0 if kw else 1
    return out


def _written_out(
    run: Run,
    rows: list[dict[str, tuple[Any, str]]],
    label: Callable[[str], str],
    defaults: Callable[[str, str], str | None],
) -> list[str]:
    """The calls one by one; unlabelled identical neighbours as `repeat N { ... }`."""
    out: list[str] = []
    k = 0
    while k < len(rows):
        u = run.calls[k]
        text = _call_text(run.calls[0].block or "", _slots(u), rows[k], {}, defaults)
        same = k + 1
        while u.label is None and same < len(rows) and rows[same] == rows[k]:
            same += 1
        if same - k >= 2:
            out.append(f"repeat {same - k} {{ {text} }}")
        else:
            out.append((f"{label(u.label)}: " if u.label else "") + text)
        k = same
    return out
