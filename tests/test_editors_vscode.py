"""The VS Code extension builds into a .vsix that carries what it needs (issue 22 item 8).

`npm ci && npm run package` in a copy of editors/vscode, as editors/README.md says; then the
.vsix (a zip) must hold the manifest, the grammar and extension.js, and every module that
extension.js requires must resolve from inside the unpacked extension alone (the language
client and its dependencies bundled: copying the bare folder fails for lack of them), without
the packaging tool (a dev dependency). Needs Node.js and npm (this machine kind has both, and
CI runs on it) and the npm registry; where npm is missing it is skipped with the reason, except
under CI, where it fails. About 2 minutes (npm ci ~1.5 min with an empty cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "editors" / "vscode"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        reason = (
            "NOT BUILT: the VS Code .vsix needs Node.js and npm (`apt-get install nodejs npm`); "
            "the extension is untested here"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return npm


def _run(cmd: list[str], cwd: Path) -> None:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"


def test_vsix_builds_and_bundles_its_runtime_dependencies(tmp_path: Path) -> None:
    npm = _npm()
    work = tmp_path / "vscode"
    shutil.copytree(FOLDER, work, ignore=shutil.ignore_patterns("node_modules", "*.vsix"))
    _run([npm, "ci", "--no-audit", "--no-fund"], work)
    _run([npm, "run", "package"], work)
    pkg = json.loads((FOLDER / "package.json").read_text())
    vsix = work / f"{pkg['name']}-{pkg['version']}.vsix"
    assert vsix.is_file()
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        z.extractall(unpacked)
    for member in (
        "extension.vsixmanifest",
        "extension/package.json",
        "extension/extension.js",
        "extension/language-configuration.json",
        "extension/syntaxes/incept.tmLanguage.json",
        "extension/node_modules/vscode-languageclient/package.json",
    ):
        assert member in names, member
    assert not any(n.startswith("extension/node_modules/@vscode/vsce/") for n in names)
    ext = unpacked / "extension"
    assert json.loads((ext / "package.json").read_text())["contributes"] == pkg["contributes"]
    source = (ext / "extension.js").read_text()
    required = set(re.findall(r"require\(\"([^\"]+)\"\)", source)) - {"vscode", "fs", "path"}
    assert "vscode-languageclient/node" in required
    # resolve and load each from the unpacked extension only (not the build folder): the
    # client's own dependencies must be inside the .vsix too; `vscode` is the editor's
    probe = (
        "const Module = require('module'); const orig = Module._load;"
        "const stub = new Proxy(class {}, {"  # any vscode.X is a class (or a stub again)
        "  get: (t, k) => (k === 'prototype' ? t.prototype : stub) });"
        "Module._load = function (r, ...a) {"
        "  return r === 'vscode' ? stub : orig.call(this, r, ...a) };"
        "for (const m of process.argv.slice(1)) {"
        "  require(require.resolve(m, { paths: [process.cwd()] })); }"
        "console.log('ok')"
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NODE_PATH"}
    r = subprocess.run(
        ["node", "-e", probe, *sorted(required)],
        cwd=ext,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
