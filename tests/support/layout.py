"""What the emitted-source layout tests share: ruff with the project's configuration, a check
that files are ruff-clean, specs with long names, and a spec with degenerate edges (an
identity-only aux head, an identity output)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


EDGES = """
network edges {
  input 3 x 8 x 8
  a: conv 4 3x3 pad=1
  side: aux from a weight=0.5 { identity }
  b: conv 4 1x1 act=relu
  out: identity
}
"""


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("ruff")
    found = str(exe) if exe.exists() else shutil.which("ruff")
    assert found, "ruff is a dev dependency: pip install -e '.[dev]'"
    config = ["--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    cmd = [found, args[0], *config, *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)


def assert_ruff_clean(files: list[Path], check: bool = True) -> None:
    paths = [str(f) for f in files]
    fmt = ruff("format", "--check", "--diff", *paths)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    if check:
        lint = ruff("check", *paths)
        assert lint.returncode == 0, lint.stdout + lint.stderr


def _long_spec(label: str, network: str | None = None) -> str:
    return f"""network {network or label + "_net"} {{
  input 3 x 16 x 16
  {label}: {{
    {label}_a: conv 8 3x3 stride=2 pad=same bias=false bn=bn(scale=false, eps=0.001) act=relu
    {label}_b: avgpool 3x3 stride=2 pad=same count_pad=false
    {label}_c: sepconv 12 3x3 pad=same multiplier=2 bias=false bn=bn(eps=0.001) act=relu6
    {label}_d: concat {{
      {label}_e: conv 8 1x1
      {label}_f: maxpool 3x3 stride=1 pad=same
    }}
  }}
  {label}_aux: aux from {label}.{label}_d weight=0.3333333 {{
     flatten
     fc: linear 3
  }}
  {label}_aux2: aux from {label}.{label}_d weight=0.3333333 {{
     flatten
     fc: linear 3
  }}
}}
"""
