"""Lay emitted statements out on lines exactly as `ruff format` would, within 100 columns.

Emitted files must pass `ruff format --check` without running ruff at emit time (the output may
not depend on which tools happen to be installed). Almost every statement fits on one line; a
shape comment that does not fit after its statement goes on its own line above it (ruff keeps
own-line comments where they are), and the rare statement that is itself too long (very long
layer names) is split the way ruff splits a trailing bracket: a call's arguments on an indented
line, or one item per line with a trailing comma when they do not fit (or form a literal). One
case is the keras backend's: a layer applied where it is built (`layers.Dense(...)(x)`).
"""

from __future__ import annotations

WIDTH = 100
_OPEN = {")": "(", "]": "[", "}": "{"}


def fit(indent: int, code: str, comment: str | None = None) -> list[str]:
    """The lines for statement `code` at `indent` spaces, with an optional shape comment."""
    pad = " " * indent
    if comment is not None:
        one = f"{pad}{code}  # {comment}"
        if len(one) <= WIDTH:
            return [one]
        return [f"{pad}# {comment}", *_split(indent, code)]
    return _split(indent, code)


def _split(indent: int, code: str, suffix: str = "", force: bool = False) -> list[str]:
    pad = " " * indent
    line = f"{pad}{code}{suffix}"
    opened = _last_bracket(code)
    if (len(line) <= WIDTH and not force) or opened is None or opened == len(code) - 2:
        return [line]  # fits, or cannot be split (no trailing brackets, or empty ones)
    if opened > 0 and code[opened - 1] == ")" and not suffix:
        return _split_trailer(indent, code, opened)
    head, body, close = code[: opened + 1], code[opened + 1 : -1], code[-1]
    inner = " " * (indent + 4)
    target, eq, value = code.partition(" = ")
    fits = len(f"{pad}{target} = (") <= WIDTH and len(inner + value) <= WIDTH
    if eq and not suffix and len(pad + head) > WIDTH and fits:
        # `target = call(` alone is too long: ruff parenthesises the value instead
        return [f"{pad}{target} = (", inner + value, pad + ")"]
    items = _top_level_items(body)
    # a literal ([...], {...}) with several items always goes one item per line; a call's
    # arguments stay on one line when they fit (black's `should_split_line`)
    literal = opened == 0 or not (code[opened - 1].isalnum() or code[opened - 1] in "_)]")
    if len(inner + body) <= WIDTH and not (literal and len(items) > 1):
        middle = [inner + body]
    elif len(items) == 1:
        middle = _split(indent + 4, items[0])
    else:
        middle = [ln for item in items for ln in _split(indent + 4, item, ",")]
    return [pad + head, *middle, pad + close + suffix]


def _split_trailer(indent: int, code: str, opened: int) -> list[str]:
    """A layer built then applied, `x = layers.Dense(...)(x)`, split as ruff splits it.

    Ruff splits the applied call's brackets when the line up to them fits; otherwise it leaves
    them on the line that closes the layer's own arguments: `)(x)`.
    """
    pad = " " * indent
    head = code[: opened + 1]
    if len(pad + head) <= WIDTH:
        return [pad + head, *_split(indent + 4, code[opened + 1 : -1]), pad + ")"]
    lines = _split(indent, code[:opened], force=True)
    lines[-1] += code[opened:]
    return lines


def _last_bracket(code: str) -> int | None:
    """Index of the bracket that opens the one closing `code`, or None if it ends otherwise."""
    if not code or code[-1] not in _OPEN:
        return None
    depth = 0
    for i in range(len(code) - 1, -1, -1):
        c = code[i]
        if c in _OPEN:
            depth += 1
        elif c in "([{":
            depth -= 1
            if depth == 0:
                return i
    return None


def _top_level_items(body: str) -> list[str]:
    """`body` split at the commas outside any bracket (emitted code holds no string commas)."""
    items: list[str] = []
    depth, start = 0, 0
    for i, c in enumerate(body):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
    last = body[start:].strip()
    if last:
        items.append(last)
    return items
