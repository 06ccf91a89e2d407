"""Reading spec files and resolving imports into a Program (the parsed files and their blocks).

Imports are relative to the importing file, or `@NAME/...` in a library root (roots.py): a spec
is data and reads only `.incept` files inside the roots it may reach, checked on real paths so
symlinks cannot lead outside. Cycles are reported as a path of hops, one `file:line:col` per
import. Files are read with read.py (regular files only, size-limited, UTF-8 text), and a
program's files together are limited too, so many large imports cannot take minutes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import (
    DuplicateNameError,
    FileNotFoundSpecError,
    FileTooLargeError,
    ImportCycleError,
    LimitError,
    Note,
    SpecError,
    UnknownNameError,
)
from ..names import did_you_mean
from . import ast as A
from .parse import parse
from .read import MAX_FILE_BYTES, decode, read_text
from .roots import Root, bundled_hint, resolve_import, resolve_spec, tree_root
from .source import SourceFile, display_path, working_dir
from .transform import to_ast

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_FILES",
    "MAX_PROGRAM_BYTES",
    "decode",
    "load_program",
    "read_text",
]

MAX_FILES = 256
"""Most files one program may import, transitively."""

MAX_PROGRAM_BYTES = 512 * 1024
"""Most text one program's files may hold together (twice the per-file limit; the largest
bundled program is under 20 kB). Parsing costs time and memory per character: this keeps a
spec that imports many large files from taking minutes and gigabytes."""


@dataclass
class SpecFile:
    """One parsed file and the blocks visible inside it (its own and those it imports)."""

    abspath: str
    source: SourceFile
    module: A.Module
    comments: list = field(default_factory=list)
    blocks: dict[str, BlockRef] = field(default_factory=dict)
    functions: dict[str, FnRef] = field(default_factory=dict)
    """The functions visible in the file: its own and those it imports (functions.py)."""
    root: Root | None = None
    """The root its relative imports may not leave (set when the program is loaded)."""


@dataclass(frozen=True)
class BlockRef:
    """A block declaration and the file it was declared in (whose names it sees)."""

    decl: A.BlockDecl
    file: SpecFile


@dataclass(eq=False)
class FnRef:
    """A function declaration and the functions its body may call: those imported into its
    file and those declared above it (functions.py evaluates calls)."""

    decl: A.FnDecl
    visible: dict[str, FnRef] = field(default_factory=dict)


def visible_functions(module: A.Module, imported: Mapping[str, FnRef]) -> dict[str, FnRef]:
    """The functions of a file: each sees the imported ones and those declared above it."""
    seen: dict[str, FnRef] = dict(imported)
    for d in module.functions:
        seen[d.name] = FnRef(d, dict(seen))
    return seen


@dataclass
class Program:
    root: SpecFile
    files: dict[str, SpecFile]

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {f.source.path: f.source for f in self.files.values()}


_PARSED: dict[tuple[str, str, str | None], tuple[SourceFile, A.Module, list]] = {}
_PARSED_MAX_CHARS = 2 * MAX_PROGRAM_BYTES
"""The memo keeps recent parses up to this much text (a parsed character costs a few hundred
bytes), so a long-running process that loads many specs does not grow without bound."""


def parse_file(abspath: str, text: str) -> SpecFile:
    """Parse one file. Parses are memoised on (path, text, cwd): the AST is immutable, so loading
    the same spec again (another --set, an `expect ... with`) skips the parser."""
    key = (abspath, text, working_dir())  # the cwd decides how paths are shown
    hit = _PARSED.pop(key, None)
    if hit is None:
        spec = _parse_file(abspath, text)
        hit = (spec.source, spec.module, spec.comments)
    _PARSED[key] = hit  # most recent last
    while sum(len(k[1]) for k in _PARSED) > _PARSED_MAX_CHARS and len(_PARSED) > 1:
        _PARSED.pop(next(iter(_PARSED)))
    return SpecFile(abspath, *hit)


def _parse_file(abspath: str, text: str) -> SpecFile:
    shown = display_path(abspath)
    if len(text) > MAX_FILE_BYTES:
        raise FileTooLargeError(
            f"{shown} is {len(text):,} characters; the limit is {MAX_FILE_BYTES:,}", path=shown
        )
    source = SourceFile.of(shown, text)
    try:
        tree, comments = parse(text, shown)
        module = to_ast(tree, shown)
    except SpecError as err:
        raise err.with_sources({shown: source}) from None
    return SpecFile(abspath, source, module, comments)


def load_program(path: str, text: str | None = None) -> Program:
    """Read (or take `text` for) the root spec at `path` and every file it imports. `path` may
    also be `@NAME/file.incept` or a bundled network's name (roots.resolve_spec)."""
    lib: Root | None = None
    if "\x00" in path:  # no file name holds one (os functions would raise ValueError)
        raise FileNotFoundSpecError(f"no such file: {path!r} (a NUL character)", path=repr(path))
    if text is None:
        path, lib = resolve_spec(path)
        abspath = _absolute(path)
        try:
            text = read_text(abspath)
        except FileNotFoundSpecError as err:
            err.hint = err.hint or bundled_hint(path)
            raise
    else:
        abspath = _absolute(path)
    real = os.path.realpath(abspath)
    root = parse_file(abspath, text)
    root.root = lib or tree_root(os.path.dirname(real))
    files: dict[str, SpecFile] = {real: root}
    budget = _Budget(MAX_PROGRAM_BYTES - len(text))
    try:
        _resolve(root, files, budget, [])
    except SpecError as err:  # keep the sources of a file that failed to load (not in files)
        loaded = {f.source.path: f.source for f in files.values()}
        raise err.with_sources({**err.sources, **loaded}) from None
    return Program(root, files)


def _absolute(path: str) -> str:
    """os.path.abspath, except that a deleted working directory leaves a relative path as is
    (it then names nothing, and reading it says so)."""
    if os.path.isabs(path) or working_dir() is None:
        return os.path.normpath(path) if os.path.isabs(path) else path
    return os.path.abspath(path)


@dataclass
class _Budget:
    """The characters the program's files may still hold, and the files read but not yet
    parsed (a file's imports, and what they import in turn, are read and charged before any
    is parsed: parsing costs about a thousand times more per character than reading, so twenty
    large imports, or a chain of them, stop at the third file's bytes instead of after parsing
    two)."""

    left: int
    texts: dict[str, str] = field(default_factory=dict)

    def charge(self, text: str, target: str, imp: A.ImportDecl) -> None:
        self.left -= len(text)
        if self.left < 0:
            raise FileTooLargeError(
                f"the program's files hold more than {MAX_PROGRAM_BYTES:,} characters "
                f"together (with {display_path(target)})",
                imp.path_span,
                hint="a spec and its imports are usually a few kilobytes: check for "
                "generated or pasted files",
            )


def _read_imports(
    f: SpecFile,
    files: dict[str, SpecFile],
    budget: _Budget,
    stack: list[tuple[SpecFile, A.ImportDecl]],
) -> None:
    """Read every file `f` imports that is not read yet, charging its size (see _Budget);
    a cycle is left to _resolve, which reports it."""
    assert f.root is not None
    chain = {os.path.realpath(s.abspath) for s, _ in stack} | {os.path.realpath(f.abspath)}
    for imp in f.module.imports:
        target, root = resolve_import(imp.path, os.path.realpath(f.abspath), f.root, imp.path_span)
        if target in files or target in budget.texts or target in chain:
            continue
        if len(files) + len(budget.texts) >= MAX_FILES:
            raise LimitError(f"more than {MAX_FILES} files imported", imp.path_span)
        try:
            text = read_text(target, inside=root.path)
        except SpecError as err:  # unreadable: say who imports it
            err.notes = (*err.notes, Note("imported here", imp.path_span))
            raise
        budget.charge(text, target, imp)
        budget.texts[target] = text
        _look_ahead(target, root, text, files, budget, imp, 0)


_IMPORT_LINE = re.compile(r'^[ \t]*import[ \t]+"([^"\n]{1,1000})"', re.M)
"""An import as a line starts with it. A string or a comment cannot hold such a line (strings
end on their line, comments start with #), so in a file that parses these are its imports."""

MAX_LOOK_AHEAD = 32
"""Deepest chain of imports read ahead of parsing."""


def _look_ahead(
    path: str,
    root: Root,
    text: str,
    files: dict[str, SpecFile],
    budget: _Budget,
    imp: A.ImportDecl,
    depth: int,
) -> None:
    """Read, and charge to `imp` (the import that leads there), what a file read but not yet
    parsed will import, found by its import lines: a chain of large imports stops at its bytes
    too. What cannot be resolved or read is skipped; parsing the file reports it."""
    if depth >= MAX_LOOK_AHEAD:
        return
    for m in _IMPORT_LINE.finditer(text):
        try:
            target, troot = resolve_import(m.group(1), os.path.realpath(path), root, imp.path_span)
            if target in files or target in budget.texts:
                continue
            if len(files) + len(budget.texts) >= MAX_FILES:
                return
            more = read_text(target, inside=troot.path)
        except SpecError:
            continue
        budget.charge(more, target, imp)
        budget.texts[target] = more
        _look_ahead(target, troot, more, files, budget, imp, depth + 1)


def _resolve(
    f: SpecFile,
    files: dict[str, SpecFile],
    budget: _Budget,
    stack: list[tuple[SpecFile, A.ImportDecl]],
) -> None:
    """Load f's imports depth-first and fill f.blocks; `stack` holds the import chain and
    `budget` the characters the program's files may still hold."""
    own: dict[str, BlockRef] = {}
    for b in f.module.blocks:
        if b.name in own:
            raise DuplicateNameError(
                f"block `{b.name}` is declared twice",
                b.span,
                notes=[Note("first declared here", own[b.name].decl.span)],
            )
        own[b.name] = BlockRef(b, f)
    f.blocks.update(own)
    _read_imports(f, files, budget, stack)
    imported_fns: dict[str, FnRef] = {}
    for imp in f.module.imports:
        assert f.root is not None
        target, root = resolve_import(imp.path, os.path.realpath(f.abspath), f.root, imp.path_span)
        chain = [*stack, (f, imp)]
        if target in [os.path.realpath(s.abspath) for s, _ in chain]:
            start = next(
                i for i, (s, _) in enumerate(chain) if os.path.realpath(s.abspath) == target
            )
            hops = chain[start:]
            names = " -> ".join(s.source.path for s, _ in hops) + f" -> {hops[0][0].source.path}"
            raise ImportCycleError(
                f"import cycle: {names}",
                imp.path_span,
                notes=[Note(f"{s.source.path} imports {i.path!r}", i.path_span) for s, i in hops],
            )
        if target not in files:
            text = budget.texts.pop(target)  # read by _read_imports
            try:
                files[target] = parse_file(target, text)
            except SpecError as err:  # unparsable: say who imports it
                err.notes = (*err.notes, Note("imported here", imp.path_span))
                raise
            files[target].root = root
            _resolve(files[target], files, budget, chain)
        dep = files[target]
        if imp.names is None:  # every function the file declares, and its blocks (below)
            imported_fns.update({d.name: dep.functions[d.name] for d in dep.module.functions})
        wanted = imp.names if imp.names is not None else tuple(b.name for b in dep.module.blocks)
        spans = imp.name_spans if imp.names is not None else (imp.path_span,) * len(wanted)
        for name, span in zip(wanted, spans, strict=True):
            if name in dep.functions:
                imported_fns[name] = dep.functions[name]
                continue
            ref = dep.blocks.get(name) or _network_as_block(dep, name)
            if ref is None:
                raise UnknownNameError(
                    f"{imp.path!r} declares no block or function `{name}`",
                    span,
                    hint=did_you_mean(name, [*dep.blocks, *dep.functions]),
                )
            if name in f.blocks and f.blocks[name] is not ref:
                raise DuplicateNameError(
                    f"block `{name}` is both declared here and imported",
                    span,
                    notes=[Note("declared here", f.blocks[name].decl.span)],
                )
            f.blocks[name] = ref
    f.functions = visible_functions(f.module, imported_fns)


def _network_as_block(dep: SpecFile, name: str) -> BlockRef | None:
    """A network imported by name is usable as a block: its parameters, and its body without
    `input` and `expect` (which describe the network on its own). An unlabelled call of it
    names every layer exactly as the network does, so a variant that wraps its parent (say,
    under `defaults conv(width=0.5)`) keeps the parent's state_dict names."""
    for net in dep.module.networks:
        if net.name == name:
            body = A.Body.model_construct(
                span=net.body.span,
                stmts=tuple(
                    st for st in net.body.stmts if not isinstance(st, A.InputStmt | A.ExpectStmt)
                ),
            )
            decl = A.BlockDecl.model_construct(
                span=net.span, name=net.name, params=net.params, body=body
            )
            return BlockRef(decl, dep)
    return None
