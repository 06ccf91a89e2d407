"""tools/test, the README's test command (issue 26): on a fresh machine it makes what the tests
need or says in one line what to install, before any test runs; .ci/run uses it.

The script runs on a copy of the project in a sandbox whose PATH holds stand-ins: `id` (root
or not), `sudo`, `apt-get` and `chromium` as the case needs, and a `.venv/bin/python` that
records how it was called instead of running pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

TOOLS = ("dirname", "touch", "env", "mkdir", "chmod")


def _sandbox(tmp_path: Path, *, uid: int, sudo: bool, chromium: bool) -> tuple[Path, dict]:
    project = tmp_path / "project"
    (project / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "test", project / "tools" / "test")
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    log = tmp_path / "log"
    bin_ = tmp_path / "bin"
    bin_.mkdir()

    def stub(name: str, body: str) -> None:
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)

    for tool in TOOLS:
        os.symlink(shutil.which(tool) or f"/usr/bin/{tool}", bin_ / tool)
    stub("id", f"echo {uid}")
    stub("apt-get", f'echo "apt-get $*" >> {log}')
    if sudo:
        stub("sudo", f'echo "sudo $*" >> {log}; [ "$1" = -n ] && shift; "$@"')
    if chromium:
        stub("chromium", "exit 0")
        stub("nvim", "exit 0")  # installed with Chromium (tests/test_editors_nvim.py)
    venv = project / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text(f'#!/bin/sh\necho "python $*" >> {log}\n')
    (venv / "python").chmod(0o755)
    return project, {"PATH": str(bin_), "HOME": str(tmp_path), "LANG": "C.UTF-8"}


def _run(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run(
        [bash, str(project / "tools" / "test"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _log(tmp_path: Path) -> list[str]:
    log = tmp_path / "log"
    return log.read_text().splitlines() if log.exists() else []


def test_without_chromium_root_or_sudo_it_stops_at_once_with_the_command(tmp_path: Path) -> None:
    project, env = _sandbox(tmp_path, uid=1000, sudo=False, chromium=False)
    proc = _run(project, env)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "`sudo apt-get install -y chromium neovim`" in lines[0], proc.stderr
    assert _log(tmp_path) == []  # nothing installed, no test run


@pytest.mark.parametrize("uid, sudo", [(0, False), (1000, True)], ids=["root", "sudo"])
def test_it_installs_chromium_as_root_or_with_sudo_then_tests(
    tmp_path: Path, uid: int, sudo: bool
) -> None:
    project, env = _sandbox(tmp_path, uid=uid, sudo=sudo, chromium=False)
    proc = _run(project, env)
    assert proc.returncode == 0, proc.stderr
    log = _log(tmp_path)
    installs = [ln for ln in log if ln.startswith("apt-get")]
    assert installs == ["apt-get update -qq", "apt-get install -y -qq chromium neovim"], log
    assert any(ln.startswith("sudo -n env DEBIAN_FRONTEND") for ln in log) == sudo
    assert log[-1] == "python -m pytest -q -n 2"
    assert "python -m pip install -q -e .[dev]" in log  # a venv without the stamp: installed


def test_with_everything_there_it_runs_pytest_with_the_arguments(tmp_path: Path) -> None:
    project, env = _sandbox(tmp_path, uid=1000, sudo=False, chromium=True)
    assert _run(project, env).returncode == 0
    assert _run(project, env, "-x", "tests/test_cli.py").returncode == 0
    log = _log(tmp_path)
    assert log.count("python -m pip install -q -e .[dev]") == 1  # the second run: up to date
    assert log[-1] == "python -m pytest -x tests/test_cli.py"
    assert not [ln for ln in log if "apt-get" in ln]


def test_readme_quickstart_and_ci_use_the_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = block.strip().splitlines()
    assert len(commands) == 2 and commands[1] == "tools/test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == 'PYTHON="$PY" tools/test'
    assert os.access(ROOT / "tools" / "test", os.X_OK)


def test_a_missing_venv_is_created_with_python(tmp_path: Path) -> None:
    project, env = _sandbox(tmp_path, uid=1000, sudo=False, chromium=True)
    shutil.rmtree(project / ".venv")
    fake = tmp_path / "bin" / "python3.11"
    python = project / ".venv" / "bin" / "python"
    fake.write_text(
        f'#!/bin/sh\necho "python3.11 $*" >> {tmp_path / "log"}\n'
        f"mkdir -p {python.parent}\n"
        f"printf '#!/bin/sh\\necho \"python $*\" >> {tmp_path / 'log'}\\n' > {python}\n"
        f"chmod +x {python}\n"
    )
    fake.chmod(0o755)
    assert _run(project, {**env, "PYTHON": "python3.11"}).returncode == 0
    log = _log(tmp_path)
    assert log[0] == "python3.11 -m venv .venv" and log[-1] == "python -m pytest -q -n 2", log
