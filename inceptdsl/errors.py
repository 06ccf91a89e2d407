"""Every user-facing failure: one hierarchy rooted at SpecError, one code per class, one renderer.

Codes are API (documented in docs/errors.md, one golden diagnostic per code under
tests/diagnostics/) and are never reused: E0xx input/output, E1xx syntax, E2xx names and
imports, E3xx parameters, types and values, E4xx shapes, E5xx expectations, E6xx importing
models, E7xx design spaces and sweeps, E9xx limits. Nothing outside this module defines an
exception a user can see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from .front.source import SourceFile, Span, char_width, escape_char, printable


@dataclass(frozen=True)
class Note:
    """A secondary location with a message ("branch 1 is here"), rendered after the main one."""

    message: str
    span: Span | None = None


class SpecError(Exception):
    """Root of every error inceptdsl reports about a spec or its files."""

    code: ClassVar[str] = "E000"
    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        hint: str | None = None,
        notes: Iterable[Note] = (),
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.notes = tuple(notes)
        self._path = path
        self.sources: Mapping[str, SourceFile] = {}

    @property
    def path(self) -> str | None:
        return self.span.path if self.span else self._path

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    @property
    def errors(self) -> tuple[SpecError, ...]:
        """The individual errors (one, except for SpecErrors)."""
        return (self,)

    def with_sources(self, sources: Mapping[str, SourceFile]) -> SpecError:
        """Attach the source texts so that render() can show the offending lines."""
        for err in self.errors:
            err.sources = sources
        self.sources = sources
        return self

    def render(self) -> str:
        """What the CLI prints: `file:line:col: error[CODE]: message`, the source line with a
        caret under the span (when the source is attached), notes and the hint."""
        return "\n".join(_render_one(e) for e in self.errors)

    def headline(self) -> str:
        """The first line of render(): where, the code and the message."""
        path = printable(self._path) if self._path else ""
        where = f"{self.span}: " if self.span else (f"{path}: " if path else "")
        return f"{where}error[{self.code}]: {printable(self.message, MAX_MESSAGE_CHARS)}"

    def __str__(self) -> str:  # a notebook or a traceback shows the caret and the hint too
        return self.render()

    notebook_traceback: ClassVar[bool] = False
    """Whether IPython / Jupyter show the Python traceback above the message (set it, or the
    environment variable INCEPTDSL_TRACEBACK=1, to see where inside inceptdsl it was raised)."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error: the located message alone, as the CLI prints it
        (its frames inside inceptdsl say nothing about the spec); the full traceback when
        `SpecError.notebook_traceback` or INCEPTDSL_TRACEBACK=1 asks for it."""
        import os

        if self.notebook_traceback or os.environ.get("INCEPTDSL_TRACEBACK") == "1":
            import traceback

            text = "".join(traceback.format_exception(type(self), self, self.__traceback__))
            return text.rstrip("\n").splitlines()
        return self.render().splitlines()


class SpecErrors(SpecError):
    """Several independent errors found in one pass, reported together (capped at MAX_ERRORS)."""

    MAX_ERRORS: ClassVar[int] = 20

    def __init__(self, errors: Iterable[SpecError]) -> None:
        errs = tuple(errors)[: self.MAX_ERRORS]
        first = errs[0]
        super().__init__(first.message, first.span, hint=first.hint, notes=first.notes)
        self._errors = errs
        self.code = first.code  # type: ignore[misc]
        self.exit_code = first.exit_code  # type: ignore[misc]

    @property
    def errors(self) -> tuple[SpecError, ...]:
        return self._errors

    def headline(self) -> str:
        return "\n".join(e.headline() for e in self._errors)


def raise_all(errors: list[SpecError]) -> None:
    """Raise the collected errors: nothing if none, the error itself if one, else SpecErrors."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SpecErrors(errors)


# -- E0xx: reading files (exit code 2, like usage errors) ---------------------------------------


class SpecIOError(SpecError):
    """A file could not be read."""

    code = "E001"
    exit_code = 2


class FileNotFoundSpecError(SpecIOError):
    """The spec or an imported file does not exist."""

    code = "E002"


class IsADirectorySpecError(SpecIOError):
    """A directory was given where a spec file was expected."""

    code = "E003"


class UsageError(SpecError):
    """A command-line mistake: unknown backend, malformed --set, bad option value."""

    code = "E004"
    exit_code = 2


# -- E1xx: syntax -----------------------------------------------------------------------------


class SpecSyntaxError(SpecError):
    """The text does not follow the grammar (an unexpected token)."""

    code = "E101"


class UnexpectedCharacterError(SpecSyntaxError):
    """A character that starts no token of the language."""

    code = "E102"


class UnexpectedEndError(SpecSyntaxError):
    """The file ends in the middle of a construct (a truncated file, an unclosed brace)."""

    code = "E103"


class EmptySpecError(SpecSyntaxError):
    """The file holds no declarations at all."""

    code = "E104"


class BinaryFileError(SpecSyntaxError):
    """The file is not UTF-8 text (a binary file, or a wrong encoding)."""

    code = "E105"


class UnclosedBraceError(SpecSyntaxError):
    """A `{` that no `}` closes, found by matching the braces (and their indentation) after the
    parse failed somewhere later: reported at the `{`, not where the parser gave up."""

    code = "E106"


class UnmatchedBraceError(SpecSyntaxError):
    """A `}` that closes no `{`: an extra `}`, which ends the enclosing body early."""

    code = "E107"


# -- E2xx: names and imports ------------------------------------------------------------------


class UnknownNameError(SpecError):
    """A name that is neither a parameter, a layer, a block nor a node in scope."""

    code = "E201"


class DuplicateNameError(SpecError):
    """Two declarations or two nodes with the same name in one scope."""

    code = "E202"


class ImportNotFoundError(SpecError):
    """An imported file does not exist (paths are relative to the importing file)."""

    code = "E203"


class ImportCycleError(SpecError):
    """Files import each other in a cycle; the message lists every hop."""

    code = "E204"


class ImportOutsideRootError(SpecError):
    """An import reaches outside the directory tree of the root spec."""

    code = "E205"


class BlockRecursionError(SpecError):
    """A block uses itself, directly or through other blocks."""

    code = "E206"


class NetworkCountError(SpecError):
    """A file loaded as a network must define exactly one `network`."""

    code = "E207"


class EditPathError(SpecError):
    """A variant's edit (`replace`, `insert`, `remove`) names a path its parent does not have."""

    code = "E208"


class PrefixLabelError(SpecError):
    """An `@` label (the caller's label as a prefix) where no caller gives one."""

    code = "E209"


class ImportNotSpecError(SpecError):
    """An import names a file that is not a `.incept` spec (it is never opened)."""

    code = "E210"


class FunctionOrderError(SpecError):
    """A function's body calls a function declared after it (functions see those above)."""

    code = "E211"


class FunctionRecursionError(SpecError):
    """A function that calls itself, directly or through others: functions do not recurse."""

    code = "E212"


# -- E3xx: parameters, types and values -------------------------------------------------------


class TypeMismatchError(SpecError):
    """A value of the wrong type for a parameter or an option."""

    code = "E301"


class UnknownOptionError(SpecError):
    """An option that the layer, block or statement does not have."""

    code = "E302"


class ArgumentCountError(SpecError):
    """Too many or too few positional arguments, or a required one missing."""

    code = "E303"


class InvalidValueError(SpecError):
    """A value of the right type but out of range (a zero stride, a negative dropout)."""

    code = "E304"


class ArithmeticSpecError(SpecError):
    """Division by zero, or a non-integer result where an integer is needed."""

    code = "E305"


class UnknownParameterError(SpecError):
    """`--set` or a call names a parameter the network or block does not declare."""

    code = "E306"


class IndexRangeError(SpecError):
    """An index past the end of a list or tuple (`xs[5]` of 3 items, `xs[-4]`)."""

    code = "E307"


class ElementTypeError(TypeMismatchError):
    """A list or tuple item of the wrong type for the declared type (`list[int]` given a
    float item), or a function (`sum`) given a list of non-numbers."""

    code = "E308"


class NotIterableError(TypeMismatchError):
    """`for ... in X` where X is not a list or tuple (a count needs `range(n)`)."""

    code = "E309"


class UnpackError(SpecError):
    """A `for` item that does not unpack into the loop's names (`for a, b in` over 3-tuples)."""

    code = "E310"


# -- E4xx: shapes -----------------------------------------------------------------------------


class ShapeError(SpecError):
    """Base of shape errors."""

    code = "E400"


class ConcatShapeError(ShapeError):
    """Concat inputs of different spatial size."""

    code = "E401"


class AddShapeError(ShapeError):
    """Residual or add inputs of different shapes."""

    code = "E402"


class KernelTooLargeError(ShapeError):
    """A kernel (dilated) larger than its padded input."""

    code = "E403"


class EmptyOutputError(ShapeError):
    """An output size that reaches zero or below."""

    code = "E404"


class ChannelError(ShapeError):
    """A channel count that is not a positive integer."""

    code = "E405"


class GroupsError(ShapeError):
    """Channels not divisible by groups."""

    code = "E406"


class RankError(ShapeError):
    """A spatial op applied to a flat tensor (or the reverse)."""

    code = "E407"


# -- E5xx: expectations -----------------------------------------------------------------------


class ExpectationError(SpecError):
    """An `expect` declaration does not hold."""

    code = "E501"


class UnknownMetricError(SpecError):
    """An `expect` names a metric or a node that does not exist."""

    code = "E502"


# -- E6xx: importing models -------------------------------------------------------------------


class UnsupportedModelError(SpecError):
    """`inceptdsl import`: the model uses a construct the language cannot express (a module, a
    function, a Caffe layer type or option); the message names it and where it is."""

    code = "E601"


# -- E7xx: design spaces and sweeps (`inceptdsl sweep`) -----------------------------------------


class SweepSpaceError(SpecError):
    """A design space that is malformed or holds no point (an empty range, a bad step)."""

    code = "E701"


class ConstraintError(SpecError):
    """A `--where` constraint or an objective that does not parse or names an unknown metric."""

    code = "E702"


class StudyStorageError(SpecError):
    """`inceptdsl search --storage URL`: a storage that cannot be opened (no such directory, a
    server that does not answer, a missing database driver, not a URL) or a study that does
    not match the search (another space or objectives)."""

    code = "E703"


# -- E9xx: limits -----------------------------------------------------------------------------


class LimitError(SpecError):
    """A size limit stops an absurd input quickly instead of hanging."""

    code = "E900"


class FileTooLargeError(LimitError):
    code = "E901"


class TooManyNodesError(LimitError):
    code = "E902"


class TensorTooLargeError(LimitError):
    code = "E903"


class NestingTooDeepError(LimitError):
    code = "E904"


class TooMuchWorkError(LimitError):
    """Expanding the network takes too many steps, even if they create few nodes."""

    code = "E905"


def all_error_classes() -> list[type[SpecError]]:
    """Every concrete error class with its own code, in code order (docs and tests use it)."""
    seen: dict[str, type[SpecError]] = {}
    stack: list[type[SpecError]] = [SpecError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls not in (SpecErrors,) and cls.code not in seen:
            seen[cls.code] = cls
    return [seen[c] for c in sorted(seen)]


# -- warnings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecWarning:
    """Something legal that probably does not mean what it says (W0xx codes, docs/errors.md).
    Not an exception: a network loads; `check` prints the warnings to stderr."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None

    def render(self, sources: Mapping[str, SourceFile]) -> str:
        lines = [
            f"{self.span}: warning[{self.code}]: {self.message}"
            if self.span
            else f"warning[{self.code}]: {self.message}"
        ]
        if self.span is not None:
            lines += _caret_block(self.span, sources.get(self.span.path))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


CONV_DEFAULTS_NOT_SEPCONV = "W001"
"""`defaults conv(...)` sets an option that a `sepconv` then takes from its own default."""


# -- rendering --------------------------------------------------------------------------------
# Everything in a diagnostic that a spec or a file name controls (messages quote names, values
# and strings; source lines are the file's own text) is escaped with source.printable(), so a
# spec cannot write escape sequences to the terminal, and bounded, so a 250 KB line or a
# 5,000-digit literal gives a diagnostic of a few lines.

MAX_MESSAGE_CHARS = 400
"""Longest message, hint or note shown (longer ones are cut, with a count of the rest)."""

MAX_SOURCE_COLUMNS = 160
"""Widest excerpt of a source line shown above the carets: longer lines are cut around the
span, with `...` where text was left out."""


def _cells(text: str) -> list[tuple[str, int]]:
    """Each character of a source line as shown (tab: one space; controls escaped) and its
    width in terminal columns."""
    out = []
    for c in text:
        if c == "\t":
            out.append((" ", 1))
            continue
        esc = escape_char(c)
        out.append((esc, len(esc)) if esc is not None else (c, char_width(c)))
    return out


def _caret_block(span: Span, source: SourceFile | None) -> list[str]:
    if source is None or not 1 <= span.line <= max(source.line_count, 1):
        return []
    cells = _cells(source.line(span.line))
    start = min(max(span.column - 1, 0), len(cells))
    end = span.end_column - 1 if span.end_line == span.line else len(cells)
    end = min(max(end, start + 1), len(cells) + 1)
    lo, hi = _window(cells, start, end)
    shown = cells[lo:hi]
    before = sum(w for _, w in cells[lo:start])
    under = sum(w for _, w in cells[start : min(end, hi)]) or 1
    prefix = "..." if lo > 0 else ""
    suffix = "..." if hi < len(cells) else ""
    text = prefix + "".join(s for s, _ in shown) + suffix
    carets = "^" * under + ("..." if end > hi and hi < len(cells) else "")
    gutter = str(span.line)
    pad = " " * len(gutter)
    return [f" {gutter} | {text}", f" {pad} | {' ' * (len(prefix) + before)}{carets}"]


def _window(cells: list[tuple[str, int]], start: int, end: int) -> tuple[int, int]:
    """The slice of `cells` to show: the whole line if it fits MAX_SOURCE_COLUMNS, else a
    window that starts a little before the span and is at most that wide."""
    if sum(w for _, w in cells) <= MAX_SOURCE_COLUMNS:
        return 0, len(cells)
    lo = start
    width = 0
    while lo > 0 and width < 20:  # some context before the span
        lo -= 1
        width += cells[lo][1]
    hi = lo
    width = 0
    while hi < len(cells) and width + cells[hi][1] <= MAX_SOURCE_COLUMNS - 6:
        width += cells[hi][1]
        hi += 1
    return lo, max(hi, min(end, lo + 1))


def _text(s: str) -> str:
    return printable(s, MAX_MESSAGE_CHARS)


def _render_one(err: SpecError) -> str:
    where = f"{err.span}: " if err.span else (f"{printable(err.path)}: " if err.path else "")
    lines = [f"{where}error[{err.code}]: {_text(err.message)}"]
    if err.span is not None:
        lines += _caret_block(err.span, err.sources.get(err.span.path))
    for note in err.notes:
        if note.span is not None:
            lines.append(f"  note: {note.span}: {_text(note.message)}")
            lines += ["  " + x for x in _caret_block(note.span, err.sources.get(note.span.path))]
        else:
            lines.append(f"  note: {_text(note.message)}")
    if err.hint:
        lines.append(f"  hint: {_text(err.hint)}")
    return "\n".join(lines)
