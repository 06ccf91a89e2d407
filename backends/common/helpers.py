"""The runtime helpers a backend copies into emitted source, read as text from its runtime.py.

Emitted files carry the source of the helpers they use (backends/torch/runtime.py,
backends/keras/runtime.py). Those modules import their framework, so `emit` does not import
them: it parses the file instead, and a `Helper` is the name of one top-level function or
class. This keeps writing source free of torch and TensorFlow; only building imports them.
"""

from __future__ import annotations

import ast
from functools import cached_property
from pathlib import Path


class Helper(str):
    """A runtime helper, by name (what `ctx.helpers` collects)."""

    __slots__ = ()

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return str(self)


class HelperSource:
    """The helpers defined at the top level of one runtime.py: `source.ConvBN` is a `Helper`,
    `source.text(h)` its source as `inspect.getsource` gives it, `HELPERS` their order in the
    emitted file and `USES` the helpers each one calls (both as the module declares them)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def _module(self) -> ast.Module:
        return ast.parse(self.path.read_text(encoding="utf-8"), str(self.path))

    @cached_property
    def _texts(self) -> dict[str, str]:
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        texts = {}
        for node in self._module.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                texts[node.name] = "".join(lines[first - 1 : node.end_lineno])
        return texts

    def _value(self, name: str) -> ast.expr:
        for node in self._module.body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    assert node.value is not None
                    return node.value
        raise AttributeError(f"{self.path} assigns no {name}")

    def _names(self, expr: ast.expr) -> tuple[Helper, ...]:
        assert isinstance(expr, ast.Tuple | ast.List), ast.dump(expr)
        return tuple(self[e.id] for e in expr.elts if isinstance(e, ast.Name))

    @cached_property
    def HELPERS(self) -> tuple[Helper, ...]:  # noqa: N802 - the module's own name
        return self._names(self._value("HELPERS"))

    @cached_property
    def USES(self) -> dict[str, tuple[Helper, ...]]:  # noqa: N802 - the module's own name
        expr = self._value("USES")
        assert isinstance(expr, ast.Dict)
        return {
            self[k.id]: self._names(v)
            for k, v in zip(expr.keys, expr.values, strict=True)
            if isinstance(k, ast.Name)
        }

    def __getitem__(self, name: str) -> Helper:
        if name not in self._texts:
            raise KeyError(f"{self.path} defines no helper {name!r}")
        return Helper(name)

    def __getattr__(self, name: str) -> Helper:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(str(exc)) from None

    def text(self, helper: str) -> str:
        """The helper's source, from its first decorator to its last line."""
        return self._texts[helper]
