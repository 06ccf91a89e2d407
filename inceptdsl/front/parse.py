"""Text -> Lark parse tree. The only module that touches Lark's parser or catches its errors.

The grammar (grammar.lark) is loaded once, LALR with strict conflict checking and positions.
A small post-lexer decides which newlines end statements (see the grammar's header). Lark's
exceptions are mapped to coded SpecSyntaxErrors here, with the expected tokens in plain words.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import LexerThread

from ..errors import (
    EmptySpecError,
    LimitError,
    NestingTooDeepError,
    SpecSyntaxError,
    UnexpectedCharacterError,
    UnexpectedEndError,
)
from .braces import brace_error
from .source import Span, split_lines

MAX_NESTING = 64
"""Deepest ( [ { nesting accepted: deeper input is absurd and would only exhaust the stack."""

MAX_TREE_DEPTH = 300
"""Deepest parse tree accepted. The passes after the parser recurse over the tree, so a
pathological input (a few thousand `else if`s) must stop here, not in a RecursionError."""

MAX_TOKEN_CHARS = {"INT": 40, "FLOAT": 40, "SIZE": 40, "PERCENT": 40, "NAME": 128, "STRING": 1000}
"""Longest literal, name or string the tokenizer accepts (the bundled specs' longest are 14, 33
and 95 characters). Every later stage can then convert and show a token without a size check:
a 5,000-digit literal never reaches int() or an error message."""

MAX_EXPR_DEPTH = 100
"""Most operators one expression may nest (`1 + 1 + ...`, `- - x`, `not not b`): evaluation
recurses once per level. Real expressions nest fewer than ten."""

_EXPR_RULES = frozenset(
    {"size", "or_", "and_", "not_", "compare", "add_", "sub", "mul", "div", "floordiv", "neg"}
    | {"func", "tuple", "pow_", "cond", "list", "listcomp", "index", "slice", "pindex", "pslice"}
)

# Every terminal in plain words, for error messages (a test checks this table is complete).
TERMINAL_NAMES: dict[str, str] = {
    "NAME": "a name",
    "PREFIX_LABEL": "a label like @_bn",
    "BEFORE": "before",
    "AFTER": "after",
    "CALLNAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "SIZE": "a size like 3x3",
    "PERCENT": "a percentage",
    "STRING": 'a "string"',
    "CMP": "a comparison (== != ~= < <= > >=)",
    "TRUE": "true",
    "FALSE": "false",
    "NONE": "none",
    "COMMENT": "a comment",
    "_NL": "a new line",
    "$END": "the end of the file",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "EQUAL": "'='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
}

_LONE_CR = re.compile(r"\r(?!\n)")

_NO_NEWLINE_AFTER = frozenset({"{", ",", "->", "=", "(", "["})
_NO_NEWLINE_BEFORE = frozenset(
    {"}", "->", "else", "shortcut", "source", "with", "within", "extends"}
)
_PUNCT_TYPES = frozenset(
    {"STRING", "NAME", "PREFIX_LABEL", "INT", "FLOAT", "SIZE", "PERCENT", "COMMENT"}
)


def _keywords_as_names(stream: Iterator[Token]) -> Iterator[Token]:
    """Retype a keyword used as a label (`repeat: ...`) or a path segment (`repeat.0`,
    `x.repeat`) as a NAME; `in` and `prev` before `.` stay the keywords of `in.channels`."""
    keywords = _keyword_types()
    prev: Token | None = None  # the last token passed on
    held: Token | None = None  # a keyword waiting to see the token after it
    square = 0  # inside `[ ]` a `:` is a slice's, never a label's: `xs[none:2]`
    for tok in stream:
        if tok.value == "[":
            square += 1
        elif tok.value == "]":
            square = max(0, square - 1)
        if held is not None:
            after = (tok.value == "." or (tok.value == ":" and not square)) and held.value not in (
                "in",
                "prev",
            )
            if after or (prev is not None and prev.value == "."):
                held = Token.new_borrow_pos("NAME", str(held.value), held)
            yield held
            prev, held = held, None
        if tok.type in keywords:
            held = tok
            continue
        yield tok
        prev = tok
    if held is not None:
        if prev is not None and prev.value == ".":
            held = Token.new_borrow_pos("NAME", str(held.value), held)
        yield held


@lru_cache(maxsize=1)
def _keyword_types() -> frozenset[str]:
    """Token types of the grammar's keywords (terminals that are a plain identifier string)."""
    return frozenset(
        t.name
        for t in _parser().terminals
        if t.pattern.type == "str" and t.pattern.value.isidentifier()
    )


POSTLEX_TERMINALS = frozenset({"CALLNAME"})
"""Terminals made by the post-lexer, not by the lexer (the grammar `%declare`s them)."""


def _call_names(stream: Iterator[Token]) -> Iterator[Token]:
    """Retype a NAME written directly before `(` (no space between) as a CALLNAME, so that
    `int(x)` is a function call where `k (x)` is two positional arguments."""
    held: Token | None = None
    for tok in stream:
        if held is not None:
            if tok.value == "(" and tok.start_pos == held.end_pos:
                held = Token.new_borrow_pos("CALLNAME", str(held.value), held)
            yield held
            held = None
        if tok.type == "NAME":
            held = tok
            continue
        yield tok
    if held is not None:
        yield held


class _Newlines:
    """Post-lexer: keep only the newlines that end a statement, let keywords serve as labels,
    and bound the nesting depth."""

    always_accept = ("_NL",)

    def __init__(self, path: str) -> None:
        self.path = path

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stream = _call_names(_keywords_as_names(stream))
        parens = 0
        braces = 0
        pending: Token | None = None
        prev: Token | None = None
        for tok in stream:
            if tok.type == "_NL":
                if parens == 0 and prev is not None and _value(prev) not in _NO_NEWLINE_AFTER:
                    pending = pending or tok
                continue
            value = _value(tok)
            if pending is not None:
                if value not in _NO_NEWLINE_BEFORE:
                    yield pending
                pending = None
            if value in ("(", "["):
                parens += 1
            elif value in (")", "]"):
                parens = max(0, parens - 1)
            elif value == "{":
                braces += 1
            elif value == "}":
                braces = max(0, braces - 1)
            limit = MAX_TOKEN_CHARS.get(tok.type)
            if limit is not None and len(tok.value) > limit:
                raise _too_long(self.path, tok, limit)
            if parens + braces > MAX_NESTING:
                raise NestingTooDeepError(
                    f"nesting deeper than {MAX_NESTING} levels of ( ) and {{ }}",
                    _token_span(self.path, tok),
                )
            yield tok
            prev = tok


def _too_long(path: str, tok: Token, limit: int) -> LimitError:
    what = {"NAME": "a name", "STRING": "a string"}.get(tok.type, "a number")
    return LimitError(
        f"{what} of {len(tok.value):,} characters; the limit is {limit:,}",
        _token_span(path, tok),
        hint="real specs use short names and numbers: check for a runaway paste or a "
        "generated file",
    )


def _value(tok: Token) -> str:
    return "" if tok.type in _PUNCT_TYPES else str(tok.value)


def _token_span(path: str, tok: Token) -> Span:
    line = tok.line or 1
    col = tok.column or 1
    end_line = tok.end_line or line
    end_col = tok.end_column or col + max(1, len(str(tok.value)))
    return Span(path, line, col, end_line, end_col)


@lru_cache(maxsize=1)
def _grammar_text() -> str:
    return files("inceptdsl.front").joinpath("grammar.lark").read_text(encoding="utf-8")


_COMMENTS: list[Token] = []
"""Comments seen by the lexer during the current parse (the grammar ignores them; fmt keeps
them). Filled by a lexer callback, so collecting them costs no second lexing pass."""

GRAMMAR_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "strict": True,
    "maybe_placeholders": True,
}
"""The options that decide the parse tables (the serialized tables record them)."""


def _runtime_options() -> dict[str, Any]:
    """Options that are not part of the tables: the post-lexer, the comment callback, positions,
    and ASCII-only regexes (`\\d` would otherwise match full-width and other Unicode digits)."""
    return {
        "propagate_positions": True,
        "postlex": _Newlines("<spec>"),
        "lexer_callbacks": {"COMMENT": _COMMENTS.append},
        "g_regex_flags": re.ASCII,
    }


def grammar_fingerprint() -> str:
    """What the serialized tables were made from: the grammar text, the options and Lark's
    version. Tables with another fingerprint are never used."""
    import lark

    key = "\0".join([_grammar_text(), repr(sorted(GRAMMAR_OPTIONS.items())), lark.__version__])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def build_parser() -> Lark:
    """Analyse the grammar from scratch (about 0.3 s): what the tables are generated from, and
    the fallback when they are stale."""
    return Lark(_grammar_text(), **GRAMMAR_OPTIONS, **_runtime_options())


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """The parser, from the tables generated at build time (tools/parser_tables.py writes
    inceptdsl/front/parser_tables.json: plain data, never a pickle, nothing read from a cache
    directory) when their fingerprint matches, else built from the grammar."""
    try:
        text = files("inceptdsl.front").joinpath("parser_tables.json").read_text(encoding="utf-8")
        tables = json.loads(text, object_pairs_hook=_int_keys)
    except (OSError, ValueError):  # pragma: no cover - a tree without generated tables
        return build_parser()
    if tables.get("fingerprint") != grammar_fingerprint():
        return build_parser()
    return Lark._load_from_dict(tables["data"], tables["memo"], **_runtime_options())


def _int_keys(pairs: list[tuple[str, Any]]) -> dict[Any, Any]:
    """JSON keys are strings: the tables' numeric keys (states, tokens, memo ids) become ints
    again. No grammar symbol is all digits."""
    return {int(k) if k.isdigit() else k: v for k, v in pairs}


def using_tables() -> bool:
    """Whether the parser came from the generated tables (a test keeps this true)."""
    return _parser().source_path == "<deserialized>"


def parse(text: str, path: str) -> tuple[Tree, list[Token]]:
    """Parse spec text. Returns the tree and the comments (for the formatter).

    Raises SpecSyntaxError (E1xx) or NestingTooDeepError; never a Lark exception.
    """
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in split_lines(text)
    ):
        raise EmptySpecError(
            "the file is empty: it declares no network, block or import",
            path=path,
            hint="a spec starts with `network NAME(...) { ... }` or `block NAME { ... }`",
        )
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is not part of the spec
    parser = _parser()
    parser.options.postlex.path = path  # type: ignore[union-attr]
    _COMMENTS.clear()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as exc:
        err = _brace_error(exc, path, text) or _syntax_error(exc, path, text)
        if _LONE_CR.search(text):  # the lexer takes a lone \r for a space, not a line end
            err.hint = (
                "this file ends lines with a lone carriage return (\\r); lines end at \\n "
                "or \\r\\n only"
            )
        raise err from None
    finally:
        comments = list(_COMMENTS)
        _COMMENTS.clear()
    _check_depth(tree, path)
    return tree, comments


def _check_depth(tree: Tree, path: str) -> None:
    """Raise NestingTooDeepError where the tree or an expression nests too deep (iteratively)."""
    stack: list[tuple[Tree, int, int]] = [(tree, 1, 0)]
    while stack:
        node, depth, expr = stack.pop()
        expr += node.data in _EXPR_RULES
        if depth > MAX_TREE_DEPTH or expr > MAX_EXPR_DEPTH:
            m = node.meta
            span = Span(path, m.line, m.column, m.end_line, m.end_column)
            if expr > MAX_EXPR_DEPTH:
                raise NestingTooDeepError(
                    f"an expression nests more than {MAX_EXPR_DEPTH} operators deep",
                    span,
                    hint="compute it in steps with `let`",
                )
            raise NestingTooDeepError(
                f"the spec nests more than {MAX_TREE_DEPTH} levels deep",
                span,
                hint="move nested parts into blocks, or write a long `else if` chain as "
                "separate `if`s",
            )
        stack.extend((c, depth + 1, expr) for c in node.children if isinstance(c, Tree))


_EDIT_ONLY = frozenset({"BEFORE", "AFTER"})
"""Expected after any unit (LALR shares the state with `insert UNIT after PATH`), but only
meaningful in an `insert`: not suggested where something else is expected too."""


def _expected_words(expected: set[str] | frozenset[str]) -> str:
    if set(expected) - _EDIT_ONLY:
        expected = set(expected) - _EDIT_ONLY
    words = sorted({TERMINAL_NAMES.get(t, _anon_word(t)) for t in expected if t != "_NL"})
    if "_NL" in expected:
        words.append("a new line")
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _anon_word(term: str) -> str:
    parser = _parser()
    for t in parser.terminals:
        if t.name == term:
            pattern = t.pattern.value
            return f"'{pattern}'" if t.pattern.type == "str" else term.lower()
    return term.lower()


def _brace_error(exc: UnexpectedInput, path: str, text: str) -> SpecSyntaxError | None:
    """An unclosed `{` or an extra `}` that explains the parse error (braces.py), reported where
    it is. Not for a file that ends inside a statement (truncated: E103 says so) or a character
    the lexer rejects (reported first, as it stands)."""
    if isinstance(exc, UnexpectedCharacters):
        return None
    tok = getattr(exc, "token", None)
    at_end = isinstance(exc, UnexpectedEOF) or (tok is not None and tok.type == "$END")
    expected = getattr(exc, "expected", None) or getattr(exc, "accepts", None) or set()
    if at_end and "RBRACE" not in expected:
        return None
    pos = len(text) if at_end or tok is None else (tok.start_pos or 0)
    tokens = _raw_tokens(text)
    return None if tokens is None else brace_error(tokens, text, path, pos, MAX_NESTING)


def _raw_tokens(text: str) -> list[Token] | None:
    """The lexer's tokens (keywords used as labels or path segments retyped as names), or None
    when it rejects a character: the braces after it are unknown, so no brace is blamed."""
    try:
        thread = LexerThread.from_text(_lexer(), text)
        return list(_keywords_as_names(thread.lex(None)))
    except UnexpectedCharacters:
        return None


@lru_cache(maxsize=1)
def _lexer() -> Any:
    return _parser()._build_lexer()


def _syntax_error(exc: UnexpectedInput, path: str, text: str) -> SpecSyntaxError:
    line = getattr(exc, "line", 1) or 1
    col = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char
        pos = exc.pos_in_stream or 0
        if char in "0123456789":
            return _bad_number(text, pos, Span(path, line, col, line, col + 1))
        if char == '"':
            return _unterminated_string(text, pos, Span(path, line, col, line, col + 1))
        shown = repr(char) if char.isascii() and char.isprintable() else f"U+{ord(char):04X}"
        return UnexpectedCharacterError(
            f"unexpected character {shown}",
            Span(path, line, col, line, col + 1),
            hint=_char_hint(char),
        )
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        expected = getattr(exc, "expected", None) or getattr(exc, "accepts", set())
        tok = getattr(exc, "token", None)
        if tok is not None and tok.line is not None and tok.type != "$END":
            line, col = tok.line, tok.column
        return UnexpectedEndError(
            "the file ends in the middle of a declaration",
            Span(path, line, col, line, col + 1),
            hint=f"expected {_expected_words(expected)}" if expected else None,
        )
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = exc.accepts or exc.expected
    what = "end of line" if tok.type == "_NL" else f"{_describe(tok)}"
    span = _token_span(path, tok)
    if tok.type == "_NL":
        span = Span(path, span.line, span.column, span.line, span.column + 1)
    return SpecSyntaxError(
        f"unexpected {what}; expected {_expected_words(expected)}",
        span,
        hint=_token_hint(tok, expected) or _negative_argument_hint(tok, expected, text),
    )


def _unterminated_string(text: str, pos: int, at: Span) -> SpecSyntaxError:
    """A `"` that starts no string: nothing closes it before the end of its line."""
    end = text.find("\n", pos)
    rest = text[pos : len(text) if end < 0 else end].rstrip("\r")
    span = Span(at.path, at.line, at.column, at.line, at.column + max(1, len(rest)))
    if end < 0 or not text[end:].strip():
        return UnexpectedEndError(
            'the file ends inside a string: no closing `"`',
            span,
            hint="the file looks cut short",
        )
    return UnexpectedCharacterError(
        'unterminated string: no closing `"` on this line',
        span,
        hint='a string ends on the line it starts on; write a `"` inside one as `\\"`',
    )


def _bad_number(text: str, pos: int, at: Span) -> SpecSyntaxError:
    """A word that starts with a digit but is no number or size: `3x`, `1.2.3`, `64ch`."""
    word = re.match(r"[\w.]+", text[pos : pos + 1000]).group()  # type: ignore[union-attr]
    span = Span(at.path, at.line, at.column, at.line, at.column + len(word))
    if not text[pos + len(word) :].strip():
        return UnexpectedEndError(
            f"the file ends in the middle of a declaration, inside `{word}`",
            span,
            hint="the file looks cut short",
        )
    return UnexpectedCharacterError(
        f"malformed number `{word}`",
        span,
        hint="a size is written `3x3`, or `k x k` with spaces when a side is a name; "
        "put a space between a number and a name",
    )


def _describe(tok: Token) -> str:
    word = TERMINAL_NAMES.get(tok.type)
    if tok.type in ("NAME", "INT", "FLOAT", "SIZE", "STRING"):
        return f"{word} `{tok.value}`"
    return f"`{tok.value}`"


def _char_hint(char: str) -> str | None:
    if char.isdigit():  # not an ASCII digit (those are numbers): full-width, Arabic-Indic, ...
        return f"{unicodedata.name(char, 'this digit')} is not an ASCII digit; write 0-9"
    if char == "'":
        return 'strings use double quotes: "..."'
    if char in "%":
        return "write a percentage right after a number, as in `within 5%`"
    if not char.isprintable() or ord(char) > 127:
        return "specs are plain text; is this a binary file or a stray non-ASCII character?"
    return None


def _negative_argument_hint(
    tok: Token, expected: set[str] | frozenset[str], text: str
) -> str | None:
    """`scale -2.5`: after a name, `-` reads as a subtraction; the grammar takes a negative
    argument in parentheses, `scale(-2.5)`."""
    if tok.type != "MINUS" or "LPAR" not in expected or tok.start_pos is None:
        return None
    pos = tok.start_pos
    line_start = text.rfind("\n", 0, pos) + 1
    name = re.search(r"(?:^|->|[:{])\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", text[line_start:pos])
    value = re.match(r"-\s*([A-Za-z0-9_.]{1,40})", text[pos : pos + 80])
    if name is None or value is None:
        return (
            "an argument that uses `-` is written in parentheses, as in `scale(-2.5)` or "
            "`conv (c - 16) 3x3`"
        )
    return f"a negative argument is written in parentheses: `{name.group(1)}(-{value.group(1)})`"


def _token_hint(tok: Token, expected: set[str] | frozenset[str]) -> str | None:
    if tok.type != "NAME" and str(tok.value).isidentifier() and "NAME" in expected:
        return f"`{tok.value}` is a keyword of the language; choose another name"
    if tok.type == "EQUAL" and "CMP" in expected:
        return "compare with `==`"
    if tok.type == "_NL" and set(expected) == {"EQUAL"}:
        return "options are written name=value; join two layers with `->`"
    if tok.type == "NAME" and "_NL" in expected:
        return "put each statement on its own line, or join layers with `->`"
    if tok.type in ("LPAR",) and "_NL" in expected:
        return "positional arguments after a layer name are plain values; write `conv(2 * c, 3x3)`"
    return None
