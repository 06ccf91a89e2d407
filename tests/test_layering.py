"""The core's layering, checked on the source (an AST scan of every import in inceptdsl/**/*.py).

1. No module under inceptdsl/ imports a framework (torch, tensorflow, keras, jax) or the
   backends package (`inceptdsl.backends`, i.e. backends/), at any level: backends are plugins
   found through entry points by backend.py, never imported by name.
2. The pipeline stages are ordered (STAGES below: text -> parse -> AST -> loader -> values
   -> IR (the op registry) -> evaluation, shapes, costs -> checks -> lowering -> Network ->
   reports and tools -> CLI).
   A module may import its own stage or an earlier one. Importing a later stage is allowed
   only *deferred* (inside a function, or under `if TYPE_CHECKING:`) and only where FACADES
   lists it: `Network` is the public object whose methods (`report()`, `verify()`,
   `to_torch()`) reach the later stages on first use, which keeps `import inceptdsl` light.
   Any other later-stage import fails this test, as does a module with no stage.

The rule was derived from the imports as they are: every module-level import already points
to an earlier stage, and the only later-stage imports are network.py's deferred ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "inceptdsl"

STAGES = [
    "front",  # inceptdsl/front/: the front end, one stage per module below
    "front.source",
    "errors",
    "names",
    "front.read",
    "front.roots",
    "front.libblocks",  # the bundled library's block names, for the missing-import hint
    "front.braces",  # matching braces by indentation, for a parse error's location
    "front.parse",
    "front.ast",
    "front.transform",
    "front.loader",
    "front.lexer",  # syntax highlighting's rules from the grammar (the registry's names passed in)
    "middle",  # inceptdsl/middle/: the middle end's flat modules, one stage each
    "middle.values",
    "middle.layer_params",  # a parameter of type act standing as a layer
    "middle.loops",  # what a `for` iteration binds and how its copy is named
    "ir",
    "highlight",  # the Pygments lexer: front.lexer's rules with the op registry's names
    "middle.param_types",  # parameter types and the check of a value against one
    "middle.functions",  # calls of the functions a spec declares
    "middle.evaluate",
    "middle.shapes",
    "middle.cost",
    "middle.details",
    "fit",  # fitting a text table to a terminal's width
    "middle.memory",
    "check",
    "middle.variant_errors",  # where a variant's error belongs (lowering hands it what it needs)
    "lower",
    "middle.members",  # a family's members, and a spec argument that names one
    "optimize",  # eval-only optimization passes over the IR, with their weight maps
    "network",
    "report",
    "expect",
    "diff",
    "fmt",
    "starter",
    "backend",
    "output_origin",  # whether an existing file is inceptdsl's to replace without --force
    "output",
    "importers",  # inceptdsl import: layer graph -> spec text, verified by loading it back
    "draw",
    "present",  # renderers of the results (reports, verification, diffs) for people
    "progress",
    "lsp",
    "cli.commands",  # inceptdsl/cli/: the command line; its package is the stage "cli"
    "cli.optimize",
    "sweep",  # design-space sweeps: lowers a program per point, writes tables and pages
    "search",  # Optuna search over a sweep's space: pruning, shared studies, trainers
    "",  # the package itself (inceptdsl/__init__.py: the public API, re-exports network)
    "cli",
    "__main__",
]
FACADES = {
    "network": {"report", "expect", "backend", "draw", "present", "diff"},
    "report": {"present"},  # _repr_html_: notebooks
    "expect": {"present"},  # Verification._repr_html_
    "diff": {"present"},  # Diff.__repr__ (its summary) and _repr_html_
}
# Folders that group stages to show the pipeline: each module in one is its own stage
# ("front.parse"), ordered in STAGES like any other.
GROUPS = {"front", "middle", "cli"}
FORBIDDEN = ("torch", "tensorflow", "keras", "jax", "inceptdsl.backends")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    where = ROOT.joinpath(*name.split("."))
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(absolute module imported, deferred?, line) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    deferred_nodes: set[int] = set()
    for node in ast.walk(tree):
        is_func = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        is_type_checking = isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        if is_func or is_type_checking:
            deferred_nodes.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        deferred = id(node) in deferred_nodes
        if isinstance(node, ast.Import):
            out += [(a.name, deferred, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:  # `from .front import ast`: a name may be a module
                sub = f"{target}.{a.name}"
                name = sub if node.module is None or _is_module(sub) else target
                out.append((name, deferred, node.lineno))
    return out


def _stage(module: str) -> str | None:
    """`inceptdsl.check.types` -> "check"; `inceptdsl` -> ""; not a module of ours -> None."""
    if module != "inceptdsl" and not module.startswith("inceptdsl."):
        return None
    parts = module.removeprefix("inceptdsl").removeprefix(".").split(".")
    first = parts[0]
    if first in GROUPS and len(parts) > 1:  # inceptdsl.front.parse.x -> "front.parse"
        return f"{first}.{parts[1]}"
    return first if (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").exists() else ""


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_stage() -> None:
    missing = sorted({_stage(_module_name(p)) for p in FILES} - set(STAGES))
    assert missing == [], "add new modules to STAGES in pipeline order"


def test_no_module_imports_a_framework_or_the_backends() -> None:
    bad = [
        f"{p.relative_to(ROOT)}:{line}: imports {name}"
        for p in FILES
        for name, _, line in _imports(p)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert bad == []


def test_stages_import_only_earlier_stages() -> None:
    bad = []
    for p in FILES:
        here = _stage(_module_name(p))
        assert here is not None
        for name, deferred, line in _imports(p):
            there = _stage(name)
            if there is None or STAGES.index(there) <= STAGES.index(here):
                continue
            if deferred and there in FACADES.get(here, set()):
                continue
            kind = "deferred " if deferred else ""
            bad.append(f"{p.relative_to(ROOT)}:{line}: {here} makes a {kind}import of {name}")
    assert bad == []


def test_the_scan_sees_imports_of_every_kind() -> None:
    """The scanner itself: relative, package-relative, deferred and TYPE_CHECKING imports."""
    found = {(name, deferred) for name, deferred, _ in _imports(PACKAGE / "network.py")}
    assert ("inceptdsl.lower", False) in found
    assert ("inceptdsl.report", True) in found
    assert ("inceptdsl.backend", True) in found
    assert ("inceptdsl.front.ast", False) in {
        (n, d) for n, d, _ in _imports(PACKAGE / "lower" / "expand.py")
    }
    checks = {n for n, _, _ in _imports(PACKAGE / "check" / "check_recursion.py")}
    assert {"inceptdsl.errors", "inceptdsl.check.resolve_names"} <= checks


def test_a_group_folder_s_modules_are_stages_of_their_own() -> None:
    """front/, middle/ and cli/ show the pipeline: each module in one is ordered on its own, so
    the front end's parse still comes before its loader and a group is no single stage."""
    assert _stage("inceptdsl.front.parse") == "front.parse"
    assert _stage("inceptdsl.middle.cost") == "middle.cost"
    assert _stage("inceptdsl.cli") == "cli"
    assert _stage("inceptdsl.cli.commands") == "cli.commands"
    assert _stage("inceptdsl.check.types") == "check"
    assert STAGES.index("front.parse") < STAGES.index("front.loader") < STAGES.index("middle")
    assert STAGES.index("middle.cost") < STAGES.index("cli.commands") < STAGES.index("cli")


def test_every_package_is_in_the_wheel() -> None:
    """pyproject.toml lists the wheel's packages by name: a new package under inceptdsl/ (as
    lower/ became) must be listed, or the installed wheel cannot import it."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    on_disk = {_module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert on_disk - listed == set()


def test_no_module_reads_another_stage_s_private_names() -> None:
    """A module imports only public names from another stage's modules (a renderer in present/
    reads what the results' modules export, not their helpers: htmlreport.py once took
    report.py's `_text`, `_params_line` and `_memory_line`); within a stage it may share them."""
    bad = []
    for p in FILES:
        module = _module_name(p)
        package = module if p.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.module is None:
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module])
            else:
                target = node.module
            if _stage(target) in (None, _stage(module)):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private:
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno}: {target}: {', '.join(private)}")
    assert bad == []


def test_the_renderers_depend_on_the_results_not_the_reverse() -> None:
    """The results' modules reach present/ only through FACADES' deferred imports (notebook
    reprs, `to_html()`); present/ comes after every results module in STAGES."""
    results = ("report", "expect", "diff", "network")
    assert all(STAGES.index("present") > STAGES.index(r) for r in results)
    for r in results:
        for p in FILES:
            if _stage(_module_name(p)) != r:
                continue
            for name, deferred, line in _imports(p):
                if _stage(name) == "present":
                    assert deferred and "present" in FACADES.get(r, set()), f"{p}:{line}"
