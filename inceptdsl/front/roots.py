"""Where spec files may come from: spec trees, the bundled library and INCEPTDSL_PATH roots.

A spec is data and reads only what it is allowed to: an import names a `.incept` file either
relative to the importing file, inside the same root, or as `@NAME/path` inside a named library
root. Roots:

- a spec tree: the nearest ancestor of the root spec's real directory (itself included) that
  holds a `.incept-root` marker file, else that directory;
- `@inceptdsl`: the bundled library (inceptdsl/specs in an installed package; in a source
  checkout the top-level specs/ folder, which pyproject.toml ships as that package data);
- `@NAME` for each directory on INCEPTDSL_PATH (os.pathsep-separated), NAME being the
  directory's own name. The bundled name wins over a directory called `inceptdsl`, and an
  earlier entry over a later one with the same name, as with PATH.

Every path is resolved with realpath before it is checked against the root's real path, so a
symlink (a file, or a directory such as `tree/vendor -> /elsewhere`) cannot lead outside.
Bundled networks are also known by name (`inception_v3`, `keras/inception_v3`): the path
below the bundled root without `.incept`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import (
    FileNotFoundSpecError,
    ImportNotFoundError,
    ImportNotSpecError,
    ImportOutsideRootError,
    LimitError,
    SpecError,
)
from ..names import did_you_mean
from .source import Span, display_path

ROOT_MARKER = ".incept-root"
"""A file that marks a directory as the top of a spec tree (specs/ has one)."""

SUFFIX = ".incept"
BUNDLED = "inceptdsl"
PATH_VARIABLE = "INCEPTDSL_PATH"

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_BUNDLED_NAME = re.compile(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*\Z")

WAYS_OUT = (
    f"import bundled files as `@{BUNDLED}/...`, a directory NAME on {PATH_VARIABLE} as "
    f"`@NAME/...`, or put a `{ROOT_MARKER}` file in a directory above both files"
)


@dataclass(frozen=True)
class Root:
    """A directory that imports may not leave: `name` is None for a spec tree, else the name
    it is imported by (`inceptdsl`, or an INCEPTDSL_PATH entry's)."""

    path: str  # real path
    name: str | None = None
    origin: str = ""  # how it was found: "bundled", PATH_VARIABLE, or "" for a spec tree

    def contains(self, real: str) -> bool:
        return real == self.path or real.startswith(self.path.rstrip(os.sep) + os.sep)

    def describe(self) -> str:
        """How messages name the root: `@inceptdsl`, or the tree's path."""
        return f"@{self.name}" if self.name else (display_path(self.path) or ".")


def _is_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, ROOT_MARKER))


@lru_cache(maxsize=1)
def bundled_root() -> Root | None:
    """The bundled library's root: inceptdsl/specs when installed, else the source tree's
    specs/ beside the package (pyproject maps it to inceptdsl/specs); it holds a marker."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # inceptdsl/, not front/
    for candidate in (os.path.join(here, "specs"), os.path.join(os.path.dirname(here), "specs")):
        if _is_dir(candidate):
            return Root(os.path.realpath(candidate), BUNDLED, "bundled")
    return None  # pragma: no cover - a broken install


def library_roots() -> dict[str, Root]:
    """Every named root: the bundled one, then INCEPTDSL_PATH's directories (first wins)."""
    roots: dict[str, Root] = {}
    bundled = bundled_root()
    if bundled is not None:
        roots[BUNDLED] = bundled
    for entry in os.environ.get(PATH_VARIABLE, "").split(os.pathsep):
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        name = os.path.basename(real)
        if _NAME.match(name) and name not in roots:
            roots[name] = Root(real, name, PATH_VARIABLE)
    return roots


def tree_root(real_dir: str) -> Root:
    """The spec tree of a root spec in `real_dir`: the nearest ancestor (itself included)
    holding a `.incept-root` marker file, else `real_dir` itself."""
    d = real_dir
    while True:
        if _is_dir(d):
            return Root(d)
        parent = os.path.dirname(d)
        if parent == d:
            return Root(real_dir)
        d = parent


def _bad_path(raw: str) -> str | None:
    if not raw:
        return "an empty path"
    if "\x00" in raw or any(ord(c) < 32 for c in raw):
        return "a path with control characters"
    return None


def resolve_import(
    raw: str, importer: str, root: Root, span: Span | None, what: str = "import of"
) -> tuple[str, Root]:
    """The real path and root of `import "raw"` in the file at real path `importer`, which lies
    in `root`. Raises E203 (no such file or library), E205 (outside the root) or E210 (not a
    spec file); nothing outside the root is opened. `what` starts the messages."""
    bad = _bad_path(raw)
    if bad is not None:
        raise ImportNotFoundError(f"{what} {raw!r}: {bad}", span)
    if raw.startswith("@"):
        lib, _, rest = raw[1:].partition("/")
        roots = library_roots()
        if lib not in roots:
            raise ImportNotFoundError(
                f"{what} {raw!r}: no library root named `@{lib}`",
                span,
                hint=did_you_mean(lib, roots)
                or f"the roots are: {', '.join('@' + r for r in roots)}; add a directory to "
                f"{PATH_VARIABLE} to import it as `@NAME/...`",
            )
        root, base, rel = roots[lib], roots[lib].path, rest
    else:
        base, rel = os.path.dirname(importer), raw
    if os.path.isabs(rel) or rel.startswith("~"):
        raise ImportOutsideRootError(
            f"{what} {raw!r}: an absolute path; imports are relative to the importing file",
            span,
            hint=WAYS_OUT,
        )
    target = os.path.normpath(os.path.join(base, rel))
    _inside(target, raw, root, span, what, through_link=False)
    if not os.path.lexists(target):
        where = "" if raw.startswith("@") else f", relative to {display_path(importer)}"
        raise ImportNotFoundError(
            f"imported file not found: {raw!r} (looked for {display_path(target)}{where})", span
        )
    real = os.path.realpath(target)
    _inside(real, raw, root, span, what, through_link=True)
    return real, root


def _inside(
    path: str, raw: str, root: Root, span: Span | None, what: str, through_link: bool
) -> None:
    """Raise E205 unless `path` lies in `root`, E210 unless it is a `.incept` file; checked on
    the path as written, then again once symlinks are resolved."""
    if not root.contains(path):
        how = " through a symbolic link" if through_link else ""
        verb = "leads" if through_link else "reaches"
        raise ImportOutsideRootError(
            f"{what} {raw!r} {verb} outside {_tree(root)}{how}", span, hint=WAYS_OUT
        )
    if not path.endswith(SUFFIX):
        raise ImportNotSpecError(
            f"{what} {raw!r}: a symbolic link to a file that is not a `{SUFFIX}` spec file"
            if through_link
            else f"{what} {raw!r}: only `{SUFFIX}` spec files can be imported",
            span,
        )


def _tree(root: Root) -> str:
    if root.name:
        return f"the library root `@{root.name}`"
    return f"the spec's directory tree ({root.describe()})"


def resolve_spec(arg: str) -> tuple[str, Root | None]:
    """What a spec argument (command line, `inceptdsl.load`) names: `@NAME/path.incept` in a
    library root, an existing path, or a bundled network's name (`inception_v3`). Returns the
    path to read and the library root it lies in (None: a spec tree decides its root)."""
    bad = _bad_path(arg)
    if arg.startswith("@") and bad is None:
        try:
            return resolve_import(arg, "", Root("/"), None, what="spec")
        except ImportNotFoundError as err:
            raise FileNotFoundSpecError(err.message, path=arg, hint=err.hint) from None
        except SpecError as err:
            err._path = arg
            raise
    if bad is None and not os.path.lexists(arg) and _BUNDLED_NAME.match(arg):
        bundled = bundled_root()
        if bundled is not None:
            path = os.path.join(bundled.path, arg + SUFFIX)
            if os.path.isfile(path):
                return os.path.realpath(path), bundled
    return arg, None


def bundled_hint(arg: str) -> str | None:
    """For a spec argument that names nothing: the closest bundled name, if any is close."""
    names = [name for name, _ in bundled_specs()]
    near = did_you_mean(arg.removesuffix(SUFFIX), names)
    return near and near + " (a bundled spec; `inceptdsl list` shows them all)"


MAX_WALKED = 100_000
"""Most directory entries one walk looks at (`list --dir /` would otherwise read the disk)."""

MAX_WALK_DEPTH = 32
"""Deepest directory nesting a walk enters (the bundled library nests one level)."""


def spec_files(root: str) -> list[str]:
    """Every entry below `root` named `*.incept` that is not a directory (FIFOs and links
    included: the caller decides what to read), sorted by path components. The walk is
    iterative, never follows a symlinked directory (a link loop cannot trap it) and stops with
    E900 past MAX_WALKED entries or MAX_WALK_DEPTH levels."""
    found: list[str] = []
    seen = 0
    stack = [(root, 0)]
    while stack:
        d, depth = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError:
            continue  # unreadable: nothing to list there
        for e in entries:
            seen += 1
            if seen > MAX_WALKED:
                raise LimitError(
                    f"more than {MAX_WALKED:,} files and directories under {root}", path=root
                )
            if e.is_dir(follow_symlinks=False):
                if depth >= MAX_WALK_DEPTH:
                    raise LimitError(
                        f"directories nest more than {MAX_WALK_DEPTH} deep under {root}",
                        path=root,
                    )
                stack.append((e.path, depth + 1))
            elif e.name.endswith(SUFFIX):
                found.append(e.path)
    return sorted(found, key=lambda p: os.path.relpath(p, root).split(os.sep))


def bundled_specs() -> list[tuple[str, str]]:
    """(name, path) of every bundled file (libraries included), in name order."""
    root = bundled_root()
    if root is None:
        return []
    out = []
    for p in spec_files(root.path):
        rel = os.path.relpath(p, root.path)
        out.append((rel.removesuffix(SUFFIX).replace(os.sep, "/"), p))
    return out
