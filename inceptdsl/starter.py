"""The starter variant `inceptdsl new NAME --from PARENT` writes: a network that extends a
bundled one, with the edits a user can make and the parent's top-level units as comments."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from .front.roots import tree_root
from .network import load


def import_path(parent: Path, specs_dir: Path, out: Path) -> str:
    """How `out` imports `parent`: relative when both lie in one spec tree (the bundled
    `specs/`, marked by `.incept-root`), else through the bundled root, `@inceptdsl/...`."""
    out_dir = out.resolve().parent
    root = Path(tree_root(os.path.realpath(out_dir)).path)
    parent = parent.resolve()
    if parent.is_relative_to(root):
        return Path(os.path.relpath(parent, out_dir)).as_posix()
    return "@inceptdsl/" + parent.relative_to(specs_dir.resolve()).as_posix()


def starter_variant(
    name: str,
    parent: str,
    parent_path: Path,
    specs_dir: Path,
    out: Path,
    params: Mapping[str, str] | None = None,
) -> str:
    """The variant's text; `params` are string arguments of the `extends` (a family's member:
    `extends efficientnet(variant="b3")`)."""
    params = dict(params or {})
    net = load(str(parent_path), **params)
    units: list[str] = []
    for node in net.graph.nodes:
        top = node.split(".")[0]
        if top != "input" and top not in units:
            units.append(top)
    imp = import_path(parent_path, specs_dir, out)
    args = (
        "(" + ", ".join(f"{k}={json.dumps(v)}" for k, v in params.items()) + ")" if params else ""
    )
    lines = [
        f"# {name}: a variant of {parent} ({imp}), written by `inceptdsl new`.",
        "# Edit the parent without restating it; paths are its IR names (`inceptdsl ir PARENT`):",
        "#   replace PATH with UNIT              e.g. `replace NAME with conv 64 3x3 pad=1`",
        "#   insert LABEL: UNIT before|after PATH",
        "#   remove PATH, PATH, ...              (aux heads too)",
        "#   defaults LAYER(opt=value)           wins over the parent's own defaults",
        "# `inceptdsl diff PARENT THIS` shows what changed. This network has the parent's",
        f"# parameters; `extends {parent}(name=value)` changes their defaults.",
        f'import "{imp}" ({parent})',
        "",
        f"network {name} extends {parent}{args} {{",
    ]
    lines += _wrapped(f"{parent}'s top-level units: " + ", ".join(units) + ".")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _wrapped(text: str, width: int = 96) -> list[str]:
    out, line = [], "  #"
    for word in text.split():
        if len(line) + 1 + len(word) > width:
            out.append(line)
            line = "  #"
        line += " " + word
    return [*out, line]
