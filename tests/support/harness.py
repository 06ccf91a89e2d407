"""Run the real `inceptdsl` on a hostile scenario and record everything a promise depends on.

A scenario is a small file tree (specs, symlinks, FIFOs, outputs, "secret" files outside the
spec tree) and a command line. It runs in a fresh interpreter (`python -m inceptdsl`) with its
own TMPDIR and HOME inside the scenario, an address-space limit and a timeout, so a hang or a
memory blow-up fails the case instead of the test run. Before and after, every entry of the
tree is fingerprinted (type, mode, content or link target), so any file the command changed is
known. Paths in the output are normalised (`$CASE`, `$REPO`) for goldens.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shlex
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inceptdsl.front.source import printable

REPO = Path(__file__).resolve().parent.parent.parent  # tests/support/harness.py

MEMORY_LIMIT = 3 * 1024**3
"""Address space one case may use (the interpreter with the core takes about 0.5 GB)."""


@dataclass(frozen=True)
class Link:
    """A symbolic link to `target` (relative targets are relative to the link's directory)."""

    target: str


@dataclass(frozen=True)
class Fifo:
    """A named pipe that nobody writes to or reads from."""


@dataclass(frozen=True)
class Mode:
    """A regular file with `text` and permission bits `mode`."""

    text: str
    mode: int


Entry = str | bytes | Link | Fifo | Mode


@dataclass
class Case:
    """One scenario. `argv` runs as `inceptdsl ARGV` in `cwd` (relative to the scenario);
    `shell`, when given, is a /bin/sh command line instead, with $INCEPTDSL set to the
    command. `may_change` lists the paths the command is allowed to create or modify."""

    name: str
    argv: list[str]
    files: dict[str, Entry] = field(default_factory=dict)
    exit: int = 1
    cwd: str = "tree"
    shell: str | None = None
    may_change: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    stdout: bool = False
    """Whether the golden records stdout (tables of `verify`, emitted source) too."""
    memory: int | None = MEMORY_LIMIT
    """Address-space limit (None: the framework backends reserve far more than they use)."""
    check: Callable[[Result], None] | None = None


@dataclass
class Result:
    case: Case
    root: Path
    rc: int
    out: str
    err: str
    seconds: float
    changed: list[str]

    def golden(self) -> str:
        shown = self.case.shell or " ".join(["inceptdsl", *map(shlex.quote, self.case.argv)])
        shown = printable(shown, 200)
        text = f"$ {shown}\nexit {self.rc}\n--- stderr\n{self.err}"
        if self.case.stdout:
            text += f"--- stdout\n{self.out}"
        return normalise(text, self.root)


def build(root: Path, files: dict[str, Entry]) -> None:
    (root / "tree").mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir(exist_ok=True)
    for rel, entry in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(entry, Link):
            os.symlink(entry.target, path)
        elif isinstance(entry, Fifo):
            os.mkfifo(path)
        elif isinstance(entry, Mode):
            path.write_text(entry.text, encoding="utf-8")
            path.chmod(entry.mode)
        elif isinstance(entry, bytes):
            path.write_bytes(entry)
        else:
            path.write_text(entry, encoding="utf-8")


def fingerprint(root: Path) -> dict[str, tuple]:
    """Every entry below root (links not followed): kind, mode and content or link target."""
    out: dict[str, tuple] = {}
    for d, dirs, names in os.walk(root):
        for n in dirs + names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), digest)
            else:
                out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode))
    return out


def _limits(memory: int | None) -> Callable[[], None]:
    def apply() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


def run(case: Case, root: Path) -> Result:
    build(root, case.files)
    before = fingerprint(root)
    command = [sys.executable, "-m", "inceptdsl"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root / "tmp"),
        "TMPDIR": str(root / "tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": "",
        "LANG": "C.UTF-8",
        "COLUMNS": "120",
        "INCEPTDSL": shlex.join(command),
        **case.env,
    }
    args: list[str] | str = [*command, *case.argv]
    if case.shell is not None:
        args = ["/bin/sh", "-c", case.shell]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            args,
            cwd=root / case.cwd,
            env=env,
            capture_output=True,
            timeout=case.timeout,
            preexec_fn=_limits(case.memory),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{case.name}: still running after {case.timeout} s") from None
    seconds = time.monotonic() - start
    after = fingerprint(root)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    changed = [c for c in changed if not c.startswith(("tmp", case.cwd + "/gone"))]
    return Result(
        case,
        root,
        proc.returncode,
        proc.stdout.decode("utf-8", "backslashreplace"),
        proc.stderr.decode("utf-8", "backslashreplace"),
        seconds,
        changed,
    )


def normalise(text: str, root: Path) -> str:
    text = text.replace(str(root.resolve()), "$CASE").replace(str(root), "$CASE")
    return text.replace(str(REPO), "$REPO")


_LOCATED = re.compile(r"^(?P<path>[^\s:][^:]*)(?P<pos>:\d+:\d+)?: error\[(?P<code>E\d{3})\]")
FILE_LEVEL = {"E001", "E002", "E003", "E004", "E104", "E105", "E205", "E207", "E210", "E306"}
FILE_LEVEL |= {"E900", "E901"}
"""Codes that may be about a whole file or the command line (no line:column)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

MAX_STDERR = 64 * 1024


def assert_promises(r: Result) -> None:
    """What every command promises whatever the input (issue 11's list)."""
    name = r.case.name
    assert r.rc in (0, 1, 2), f"{name}: exit {r.rc}\n{r.err[-2000:]}"
    assert "internal error" not in r.err and "Traceback" not in r.err, f"{name}: {r.err[-2000:]}"
    assert "Exception ignored" not in r.err, f"{name}: {r.err[-2000:]}"
    assert len(r.err) <= MAX_STDERR, f"{name}: {len(r.err):,} bytes of stderr"
    for stream, text in (("stderr", r.err), ("stdout", r.out)):
        bad = _CONTROL.search(text)
        assert bad is None, f"{name}: raw control character {bad.group()!r} on {stream}"
    allowed = set(r.case.may_change)
    assert [c for c in r.changed if c not in allowed] == [], f"{name}: changed {r.changed}"
    errors = [ln for ln in r.err.splitlines() if "error[E" in ln and not ln.startswith(" ")]
    if r.rc == 1 and "would reformat" not in r.out:  # `fmt --check` fails without an error
        assert errors, f"{name}: exit 1 without a coded error\n{r.err[-2000:]}"
    for line in errors:
        m = _LOCATED.match(line)
        if line.startswith("error[E004]"):
            continue  # command-line usage: about no file
        assert m is not None, f"{name}: error without a location: {line[:300]}"
        if m.group("code") not in FILE_LEVEL:
            assert m.group("pos"), f"{name}: error without line:column: {line[:300]}"
