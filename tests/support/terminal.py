"""The CLI run in a pseudo-terminal of a fixed width, or through a pipe (tests of what fits a
terminal: test_terminal_width.py, test_families.py)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from conftest import ROOT

CLI = [sys.executable, "-m", "inceptdsl"]


def _tty(columns: int, *args: str) -> list[str]:
    """The CLI's output lines in a pseudo-terminal `columns` wide (styling stripped)."""
    import re

    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1", TERM="xterm")
    proc = subprocess.Popen(
        [*CLI, *args], stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0, out.decode()
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.decode()).replace("\r\n", "\n")
    return text.splitlines()


def _pipe(*args: str) -> str:
    env = dict(os.environ, COLUMNS="80")
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
