"""Which bundled library file defines a block: the hint for "unknown layer or block" when the
spec forgot the import (`import "@inceptdsl/lib/inception_v3.incept" (InceptionA)`).

The bundled files are scanned for `block NAME` declarations by a line pattern, not parsed: a
hint must stay cheap and cannot fail. The scan is bounded (files and bytes) and done once.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from .roots import BUNDLED, bundled_root

MAX_FILES = 200
MAX_BYTES = 512 * 1024
"""Bounds of the scan: files beyond them are not searched (the bundled library is far below)."""

_BLOCK = re.compile(r"^[ \t]*block[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Block name -> the bundled file (relative, `/`-separated) that first defines it, `lib/`
    first, then the others, each in sorted order."""
    root = bundled_root()
    if root is None:
        return {}
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root.path):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root.path)
        files += [
            name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            for name in sorted(filenames)
            if name.endswith(".incept")
        ]
        if len(files) >= MAX_FILES:
            break
    files = sorted(files[:MAX_FILES], key=lambda f: (not f.startswith("lib/"), f))
    out: dict[str, str] = {}
    for rel in files:
        try:
            with open(os.path.join(root.path, rel), encoding="utf-8", errors="replace") as fh:
                text = fh.read(MAX_BYTES)
        except OSError:
            continue
        for name in _BLOCK.findall(text):
            out.setdefault(name, rel)
    return out


def import_hint(name: str) -> str | None:
    """`add import "@inceptdsl/lib/x.incept" (NAME)` when a bundled file defines block `name`."""
    rel = _index().get(name)
    if rel is None:
        return None
    return f'the bundled library defines it: add `import "@{BUNDLED}/{rel}" ({name})`'
