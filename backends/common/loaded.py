"""Emitted source turned into a live module (what `build` runs), shared by torch and keras.

`build` emits the source and executes it, so a built model is exactly the emitted file. Each
distinct text is executed once; the oldest are dropped past `KEEP` (their models still work),
so a long session building many variants does not grow without bound.
"""

from __future__ import annotations

import hashlib
import linecache
import sys
import types

KEEP = 64  # distinct sources kept compiled per backend

_MODULES: dict[str, dict[str, types.ModuleType]] = {}


def load_source(source: str, network: str, backend: str) -> types.ModuleType:
    """The module defined by emitted `source`, executed once per distinct text."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = f"_inceptdsl_{backend}_{network}_{digest}"
    modules = _MODULES.setdefault(backend, {})
    if name in modules:
        return modules[name]
    filename = f"<inceptdsl {backend}: {network} {digest}>"
    module = types.ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    sys.modules[name] = module
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - validated source
    modules[name] = module
    while len(modules) > KEEP:
        old = modules.pop(next(iter(modules)))
        sys.modules.pop(old.__name__, None)
        linecache.cache.pop(old.__file__ or "", None)
    return module
