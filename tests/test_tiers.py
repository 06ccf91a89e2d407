"""Every test file has a tier, and the cheap tiers never import a framework.

`pytest -m core` is the fast tier a contributor runs after each change: it stays fast only if
no ``core`` (or ``slow``) test imports torch, TensorFlow or ONNX behind its back.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT
from tiers import FRAMEWORKS, TIER_OF, TIERS

TESTS = ROOT / "tests"


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "golden" not in p.parts)


def test_every_test_file_has_a_tier() -> None:
    missing = [str(p.relative_to(ROOT)) for p in _test_files() if p.name not in TIER_OF]
    assert not missing, f"add these to tests/tiers.py: {missing}"


def test_every_listed_file_exists() -> None:
    names = {p.name for p in _test_files()}
    assert not sorted(set(TIER_OF) - names)


def _marked_elsewhere(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a test function carries a tier marker other than core/slow."""
    for d in fn.decorator_list:
        text = ast.unparse(d)
        if any(text == f"pytest.mark.{t}" for t in TIERS if t not in ("core", "slow")):
            return True
    return False


def _framework_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every framework import outside a test marked with a heavier tier."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _marked_elsewhere(node):
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if _is_framework(a.name))
        elif isinstance(node, ast.ImportFrom) and node.module and _is_framework(node.module):
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.module == "support.lazy":
            found.extend((node.lineno, f"support.lazy.{a.name}") for a in node.names)
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func).endswith("importorskip")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and _is_framework(str(node.args[0].value))
        ):
            found.append((node.lineno, str(node.args[0].value)))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _is_framework(module: str) -> bool:
    return module.split(".")[0] in FRAMEWORKS


def test_cheap_tiers_import_no_framework() -> None:
    bad = []
    for p in _test_files():
        if TIER_OF.get(p.name) in ("core", "slow"):
            for line, mod in _framework_imports(ast.parse(p.read_text(), str(p))):
                bad.append(f"{p.relative_to(ROOT)}:{line}: imports {mod}")
    assert not bad, "mark the test @pytest.mark.backend or move the file:\n" + "\n".join(bad)


def test_the_checker_sees_an_import_inside_a_test() -> None:
    """Control: the scan finds a nested import and respects a heavier tier's marker."""
    src = (
        "import pytest\n"
        "def test_a():\n    import torch\n"
        "@pytest.mark.backend\ndef test_b():\n    import tensorflow\n"
        "def test_c():\n    pytest.importorskip('onnx')\n"
        "from support.lazy import torch\n"
    )
    assert _framework_imports(ast.parse(src)) == [
        (3, "torch"),
        (8, "onnx"),
        (9, "support.lazy.torch"),
    ]
