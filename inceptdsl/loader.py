"""Reading spec files and resolving imports into a Program (the parsed files and their blocks).

Imports are relative to the importing file and may not reach outside the root spec's directory
tree (a spec is data: it reads only files beside or below itself). Cycles are reported as a path
of hops, one `file:line:col` per import. Files are read with a size limit and must be UTF-8 text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import ast as A
from .errors import (
    BinaryFileError,
    DuplicateNameError,
    FileNotFoundSpecError,
    FileTooLargeError,
    ImportCycleError,
    ImportNotFoundError,
    ImportOutsideRootError,
    IsADirectorySpecError,
    LimitError,
    Note,
    SpecError,
    SpecIOError,
    UnknownNameError,
)
from .names import did_you_mean
from .parse import parse
from .source import SourceFile, display_path
from .transform import to_ast

MAX_FILE_BYTES = 256 * 1024
"""Largest spec file accepted (the biggest bundled spec is a few kB)."""

MAX_FILES = 256
"""Most files one program may import, transitively."""


@dataclass
class SpecFile:
    """One parsed file and the blocks visible inside it (its own and those it imports)."""

    abspath: str
    source: SourceFile
    module: A.Module
    comments: list = field(default_factory=list)
    blocks: dict[str, BlockRef] = field(default_factory=dict)


@dataclass(frozen=True)
class BlockRef:
    """A block declaration and the file it was declared in (whose names it sees)."""

    decl: A.BlockDecl
    file: SpecFile


@dataclass
class Program:
    root: SpecFile
    files: dict[str, SpecFile]

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {f.source.path: f.source for f in self.files.values()}


def read_text(path: str) -> str:
    """Read a spec file as text, or raise a coded error (missing, directory, binary, too big)."""
    shown = display_path(path)
    if os.path.isdir(path):
        raise IsADirectorySpecError(f"{shown} is a directory, not a spec file", path=shown)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise FileTooLargeError(
                f"{shown} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}", path=shown
            )
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FileNotFoundSpecError(f"no such file: {shown}", path=shown) from None
    except OSError as exc:
        raise SpecIOError(f"cannot read {shown}: {exc.strerror or exc}", path=shown) from None
    return decode(data, shown)


def decode(data: bytes, shown: str) -> str:
    if b"\x00" in data:
        raise BinaryFileError(f"{shown} is a binary file, not spec text", path=shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BinaryFileError(
            f"{shown} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})",
            path=shown,
        ) from None
    return text.removeprefix("\ufeff")


_PARSED: dict[tuple[str, str, str], tuple[SourceFile, A.Module, list]] = {}
_PARSED_MAX = 64


def parse_file(abspath: str, text: str) -> SpecFile:
    """Parse one file. Parses are memoised on (path, text, cwd): the AST is immutable, so loading
    the same spec again (another --set, an `expect ... with`) skips the parser."""
    key = (abspath, text, os.getcwd())  # the cwd decides how paths are shown
    hit = _PARSED.get(key)
    if hit is not None:
        return SpecFile(abspath, *hit)
    spec = _parse_file(abspath, text)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = (spec.source, spec.module, spec.comments)
    return spec


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


ROOT_MARKER = ".incept-root"
"""A file that marks a directory as the top of a spec tree (specs/ has one)."""


def spec_tree_root(start: str) -> str:
    """The directory imports may not leave: the nearest ancestor of `start` (itself included)
    holding a `.incept-root` marker file, else `start` itself."""
    d = start
    while True:
        if os.path.isfile(os.path.join(d, ROOT_MARKER)):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return start
        d = parent


def load_program(path: str, text: str | None = None) -> Program:
    """Read (or take `text` for) the root spec at `path` and every file it imports."""
    abspath = os.path.abspath(path)
    root = parse_file(abspath, read_text(abspath) if text is None else text)
    files: dict[str, SpecFile] = {abspath: root}
    root_dir = spec_tree_root(os.path.dirname(abspath))
    try:
        _resolve(root, files, root_dir, [])
    except SpecError as err:  # keep the sources of a file that failed to load (not in files)
        loaded = {f.source.path: f.source for f in files.values()}
        raise err.with_sources({**err.sources, **loaded}) from None
    return Program(root, files)


def _resolve(
    f: SpecFile,
    files: dict[str, SpecFile],
    root_dir: str,
    stack: list[tuple[SpecFile, A.ImportDecl]],
) -> None:
    """Load f's imports depth-first and fill f.blocks; `stack` holds the import chain."""
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
    for imp in f.module.imports:
        target = os.path.normpath(os.path.join(os.path.dirname(f.abspath), imp.path))
        if os.path.commonpath([root_dir, target]) != root_dir:
            raise ImportOutsideRootError(
                f"import of {imp.path!r} reaches outside the spec's directory tree "
                f"({display_path(root_dir) or '.'})",
                imp.path_span,
                hint="imports may only name files beside or below the root spec",
            )
        chain = [*stack, (f, imp)]
        if target in [s.abspath for s, _ in chain]:
            start = next(i for i, (s, _) in enumerate(chain) if s.abspath == target)
            hops = chain[start:]
            names = " -> ".join(s.source.path for s, _ in hops) + f" -> {hops[0][0].source.path}"
            raise ImportCycleError(
                f"import cycle: {names}",
                imp.path_span,
                notes=[Note(f"{s.source.path} imports {i.path!r}", i.path_span) for s, i in hops],
            )
        if target not in files:
            if len(files) >= MAX_FILES:
                raise LimitError(f"more than {MAX_FILES} files imported", imp.path_span)
            if not os.path.isfile(target):
                raise ImportNotFoundError(
                    f"imported file not found: {imp.path!r} (looked for "
                    f"{display_path(target)}, relative to {f.source.path})",
                    imp.path_span,
                )
            try:
                files[target] = parse_file(target, read_text(target))
            except SpecError as err:  # unreadable or unparsable: say who imports it
                err.notes = (*err.notes, Note("imported here", imp.path_span))
                raise
            _resolve(files[target], files, root_dir, chain)
        dep = files[target]
        wanted = imp.names if imp.names is not None else tuple(b.name for b in dep.module.blocks)
        spans = imp.name_spans if imp.names is not None else (imp.path_span,) * len(wanted)
        for name, span in zip(wanted, spans, strict=True):
            ref = dep.blocks.get(name) or _network_as_block(dep, name)
            if ref is None:
                raise UnknownNameError(
                    f"{imp.path!r} declares no block `{name}`",
                    span,
                    hint=did_you_mean(name, dep.blocks),
                )
            if name in f.blocks and f.blocks[name] is not ref:
                raise DuplicateNameError(
                    f"block `{name}` is both declared here and imported",
                    span,
                    notes=[Note("declared here", f.blocks[name].decl.span)],
                )
            f.blocks[name] = ref


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
