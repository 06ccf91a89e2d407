"""Which `{` is unclosed, or which `}` is extra, when a parse fails and the braces do not balance.

An LALR parser notices a missing `}` only where the text stops making sense: at the next
`network` (a keyword where a name fits), at the end of the file after the following lines were
read as the unclosed body, or at a statement after an extra `}` closed its network early. Like
rustc's "unclosed delimiter", the braces are matched here on their own, with the indentation
as the tie-breaker a human uses: a `}` that starts a line closes the `{` whose line is indented
the same, and a declaration keyword (`network`, `block`, `import`, `fn`) never sits inside a
body. Only consulted when the counts of `{` and `}` differ, so a well-formed file with odd
indentation is never second-guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lark import Token

from ..errors import Note, SpecSyntaxError, UnclosedBraceError, UnmatchedBraceError
from .source import Span, split_lines

TOP_LEVEL = frozenset({"NETWORK", "BLOCK", "IMPORT", "FN"})
"""Token types that start a declaration: the grammar allows them only outside every body."""

MAX_UNIT_CHARS = 40
MAX_ALSO = 3


@dataclass(frozen=True)
class _Open:
    tok: Token  # the `{`
    indent: int  # the indentation of its line


@dataclass(frozen=True)
class _Match:
    unclosed: tuple[_Open, ...]  # in source order
    extra: tuple[Token, ...]  # `}` that close nothing, in source order
    closes: tuple[tuple[Token, Token], ...]  # (`{`, the `}` that closed it)


def brace_error(
    tokens: Iterable[Token], text: str, path: str, error_pos: int, max_depth: int
) -> SpecSyntaxError | None:
    """The unclosed-`{` (E106) or extra-`}` (E107) error that explains a parse error at
    `error_pos`, or None when the braces balance or the parse error comes before the brace
    problem (an unrelated mistake earlier in the file is reported as it is). Braces nested
    deeper than `max_depth` are not analysed (the matching is linear only up to a bounded
    depth; such a file fails on its nesting anyway)."""
    toks = [t for t in tokens if t.start_pos is not None and t.type != "_NL"]
    balance = sum(t.type == "LBRACE" for t in toks) - sum(t.type == "RBRACE" for t in toks)
    if balance == 0:
        return None
    lines = split_lines(text)
    m = _match(toks, lines, unclosed_first=balance > 0, max_depth=max_depth)
    if m is None:
        return None
    if balance > 0 and m.unclosed:
        err = _unclosed(m.unclosed[0], toks, lines, path, error_pos)
        if err is not None:
            err.notes += tuple(_also_unclosed(m.unclosed[1:], lines, path))
            if len(m.unclosed) > 1 and err.hint and err.hint.endswith("the end of the file"):
                err.hint = (
                    "every `{` needs its `}`; add them at the end of the file, innermost first"
                )
        return err
    if balance < 0 and m.extra:
        return _extra(m.extra[0], m, lines, path, error_pos)
    return None


def _indent(lines: list[str], line: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text) - len(text.lstrip(" \t"))


def _match(
    toks: list[Token], lines: list[str], *, unclosed_first: bool, max_depth: int
) -> _Match | None:
    """Match braces like a reader: by indentation where a `}` starts its line, else innermost.
    With more `{` than `}`, an open brace skipped by a less-indented `}` is unclosed; with more
    `}` than `{`, a line-starting `}` indented deeper than every open brace is extra."""
    stack: list[_Open] = []
    unclosed: list[_Open] = []
    extra: list[Token] = []
    closes: list[tuple[Token, Token]] = []
    prev_line = 0
    for tok in toks:
        starts_line = tok.line != prev_line
        prev_line = tok.line or prev_line
        if tok.type in TOP_LEVEL and stack:
            unclosed += stack  # a declaration inside a body: every open body lacks its `}`
            stack.clear()
        if tok.type == "LBRACE":
            if len(stack) >= max_depth:
                return None
            stack.append(_Open(tok, _indent(lines, tok.line or 1)))
        elif tok.type == "RBRACE":
            if not stack:
                extra.append(tok)
                continue
            indent = _indent(lines, tok.line or 1)
            if starts_line and unclosed_first and any(o.indent == indent for o in stack):
                while stack[-1].indent > indent:
                    unclosed.append(stack.pop())
            elif starts_line and not unclosed_first and all(o.indent < indent for o in stack):
                extra.append(tok)
                continue
            closes.append((stack.pop().tok, tok))
    unclosed += stack
    unclosed.sort(key=lambda o: o.tok.start_pos or 0)
    return _Match(tuple(unclosed), tuple(extra), tuple(closes))


def _unit(lines: list[str], tok: Token) -> str:
    """What a `{` opens, in the words of its line: `concat`, `block InceptionA`,
    `Mixed_5b: concat`, `network tiny(num_classes=10)`."""
    line = lines[(tok.line or 1) - 1] if tok.line and tok.line <= len(lines) else ""
    words = " ".join(line[: (tok.column or 1) - 1].split())
    if len(words) > MAX_UNIT_CHARS:
        words = words[: MAX_UNIT_CHARS - 3] + "..."
    return words


def _span(path: str, tok: Token) -> Span:
    line, col = tok.line or 1, tok.column or 1
    return Span(path, line, col, line, col + len(str(tok.value)))


def _unclosed(
    open_: _Open, toks: list[Token], lines: list[str], path: str, error_pos: int
) -> UnclosedBraceError | None:
    """E106 at the `{`, with a note where the indentation says its `}` belongs: the first line
    after it that starts no deeper than the line of the `{`."""
    after = next(
        (
            t
            for t in toks
            if (t.line or 0) > (open_.tok.line or 0)
            and t.column == _indent(lines, t.line or 1) + 1
            and _indent(lines, t.line or 1) <= open_.indent
        ),
        None,
    )
    if error_pos < (after.start_pos or 0 if after is not None else open_.tok.start_pos or 0):
        return None  # the parse failed before the brace matters: that mistake comes first
    unit = _unit(lines, open_.tok)
    what = f"`{unit}`" if unit else "this block"
    notes = []
    if after is not None:
        notes.append(
            Note(
                "by the indentation, its `}` belongs before this line",
                _span(path, after),
            )
        )
    return UnclosedBraceError(
        f"unclosed `{{`: {what} opened here is never closed",
        _span(path, open_.tok),
        notes=notes,
        hint="every `{` needs its `}`; "
        + ("add it where the body ends" if after is not None else "add it at the end of the file"),
    )


def _also_unclosed(opens: tuple[_Open, ...], lines: list[str], path: str) -> list[Note]:
    """Notes on the other unclosed braces (a file cut short lacks several `}`), a few at most."""
    notes = []
    for o in opens[:MAX_ALSO]:
        unit = _unit(lines, o.tok)
        notes.append(
            Note(f"{f'`{unit}`' if unit else 'this `{`'} is not closed either", _span(path, o.tok))
        )
    if len(opens) > MAX_ALSO:
        notes.append(Note(f"and {len(opens) - MAX_ALSO} more"))
    return notes


def _extra(
    tok: Token, m: _Match, lines: list[str], path: str, error_pos: int
) -> UnmatchedBraceError | None:
    """E107 at the `}` that closes nothing, with a note on the body around it (where a reader
    sees it close)."""
    pos = tok.start_pos or 0
    if error_pos < pos:
        return None
    around = [(o, c) for o, c in m.closes if (o.start_pos or 0) < pos < (c.start_pos or 0)]
    notes = []
    if around:
        open_, close = max(around, key=lambda oc: oc[0].start_pos or 0)
        unit = _unit(lines, open_)
        what = f"`{unit}`" if unit else "the body"
        notes.append(Note(f"{what} opened here closes on line {close.line}", _span(path, open_)))
    return UnmatchedBraceError(
        "unexpected `}`: it closes no `{`",
        _span(path, tok),
        notes=notes,
        hint="delete it, or add the `{` it was meant to close",
    )
