"""The built wheel works on its own: the bundled library is package data, loaded by name.

Builds the wheel (`pip wheel`, no build isolation: the build tools are installed), installs it
without `-e` into a fresh virtual environment that sees the installed dependencies through a
.pth file but not the source tree, and from a temporary directory outside the repository runs
`inceptdsl list`, `inceptdsl report inception_v3` and compiles user specs that import
`@inceptdsl/...`. The figures must equal the editable install's (this process's).

USER_SPECS lists the user specs compiled there, each with the figures the editable install
computes for it: a spec that `extends` a bundled network is one more entry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT

import inceptdsl
from inceptdsl.cli import main

USER_SPECS = {
    "imports_a_bundled_library.incept": """\
import "@inceptdsl/lib/inception_v3.incept" (InceptionA, InceptionB)

network cifar_mixer(num_classes: int = 10) {
  input 3 x 32 x 32
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  stem: conv 192 3x3 pad=1
  a: InceptionA(pool_features=32)
  b: InceptionB
  pool: global_avgpool
  flatten
  fc: linear num_classes
}
""",
    "wraps_a_bundled_network.incept": """\
import "@inceptdsl/googlenet.incept" (googlenet)

network googlenet_10(num_classes: int = 10) {
  input 3 x 224 x 224
  googlenet(num_classes=num_classes, aux_logits=false)
}
""",
}


IGNORED = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis")


def _dependency_dirs() -> list[str]:
    """Where the installed dependencies live (the wheel venv sees them, not the source)."""
    import lark
    import networkx
    import pydantic
    import rich
    import torch

    dirs = {str(Path(m.__file__).resolve().parent.parent) for m in (lark, networkx, pydantic, rich)}
    dirs.add(str(Path(torch.__file__).resolve().parent.parent))
    return sorted(dirs)


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # a copy: building in place would leave build/ in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*IGNORED))
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        check=True, capture_output=True, timeout=600, cwd=base,
    )  # fmt: skip
    (wheel,) = dist.glob("inceptdsl-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "deps.pth").write_text("\n".join(_dependency_dirs()) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q",
         str(wheel)],
        check=True, capture_output=True, timeout=600, cwd=base,
    )  # fmt: skip
    work = base / "elsewhere"
    work.mkdir()
    for name, text in USER_SPECS.items():
        (work / name).write_text(text, encoding="utf-8")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(base), "TMPDIR": str(base)}
    return venv, env, work


def _run(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["inceptdsl", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_the_wheel_holds_the_bundled_library(wheel_env: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, work = wheel_env
    where = subprocess.run(
        ["python", "-c", "import inceptdsl, inceptdsl.front.roots as r; "
         "print(inceptdsl.__file__); print(r.bundled_root().path)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert all(p.startswith(str(venv)) for p in where), where  # not the source tree
    specs = Path(where[1])
    shipped = sorted(p.relative_to(specs).as_posix() for p in specs.rglob("*.incept"))
    source = sorted(
        p.relative_to(ROOT / "specs").as_posix() for p in (ROOT / "specs").rglob("*.incept")
    )
    assert shipped == source and (specs / ".incept-root").is_file()
    assert not (specs.parent / "verification.py").exists()  # repository tooling, not shipped


def test_list_from_the_wheel_equals_the_editable_install(
    wheel_env: tuple[Path, dict[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    venv, env, work = wheel_env
    out = _run(env, work, "list").stdout.splitlines()
    assert main(["list"]) == 0
    mine = capsys.readouterr().out.splitlines()
    assert out[:-1] == mine[:-1]  # every row; the last line says where the specs live
    site = sysconfig.get_paths()["purelib"]
    assert out[-1].startswith("@inceptdsl (bundled): ") and str(venv) in out[-1], (out[-1], site)


def test_report_by_name_from_the_wheel_equals_the_editable_install(
    wheel_env: tuple[Path, dict[str, str], Path],
) -> None:
    venv, env, work = wheel_env
    got = json.loads(_run(env, work, "report", "inception_v3", "--format", "json").stdout)
    want = json.loads(inceptdsl.load("inception_v3").report().to_json(None))
    assert got == want
    assert got["totals"]["params"] == 27_161_264  # torchvision inception_v3(aux_logits=True)


@pytest.mark.parametrize("name", sorted(USER_SPECS))
def test_a_user_spec_importing_the_bundled_library_compiles(
    wheel_env: tuple[Path, dict[str, str], Path], tmp_path: Path, name: str
) -> None:
    venv, env, work = wheel_env
    out = work / (Path(name).stem + ".py")
    _run(env, work, "compile", name, "--backend", "torch", "-q", "-o", out.name)
    (tmp_path / name).write_text(USER_SPECS[name], encoding="utf-8")
    ours = inceptdsl.load(str(tmp_path / name))
    assert out.read_text(encoding="utf-8") == ours.emit("torch")
    got = json.loads(_run(env, work, "report", name, "--format", "json").stdout)
    assert got["totals"] == json.loads(ours.report().to_json(None))["totals"]
    os.remove(out)
