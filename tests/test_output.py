"""inceptdsl/output.py: what is written where, and what is left when writing fails.

Each kind of target (none, a regular file, read-only, private, a symlink, a FIFO, a character
device, an input, a directory) against its documented outcome; the temporary file is not
predictable (a planted symlink at a guessed name is never followed); a full disk, SIGTERM and
SIGKILL in the middle of a write leave the target as it was and no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from inceptdsl import output
from inceptdsl.errors import UsageError
from inceptdsl.output import write_output


def _listing(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_output(str(tmp_path / "a.py"), "x = 1\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.py").read_text() == "x = 1\n"
    assert stat.S_IMODE((tmp_path / "a.py").stat().st_mode) == 0o640
    assert _listing(tmp_path) == ["a.py"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_replacing_keeps_the_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "a.py"
    target.write_text("old\n")
    target.chmod(mode)
    write_output(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert _listing(tmp_path) == ["a.py"]


def test_read_only_file_is_refused_and_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text("old\n")
    target.chmod(0o444)
    with pytest.raises(UsageError, match="read-only"):
        write_output(str(target), "new\n")
    assert target.read_text() == "old\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("keep\n")
    (tmp_path / "a.py").symlink_to("secret")
    with pytest.raises(UsageError, match="symbolic link"):
        write_output(str(tmp_path / "a.py"), "new\n")
    assert (tmp_path / "a.py").is_symlink()
    assert (tmp_path / "secret").read_text() == "keep\n"


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to("nowhere")
    with pytest.raises(UsageError, match="symbolic link"):
        write_output(str(tmp_path / "a.py"), "new\n")
    assert not (tmp_path / "nowhere").exists()


def test_input_is_refused_even_through_a_hard_link(tmp_path: Path) -> None:
    spec = tmp_path / "a.incept"
    spec.write_text("network n {}\n")
    os.link(spec, tmp_path / "b.py")
    for target in (spec, tmp_path / "b.py", tmp_path / "." / "a.incept"):
        with pytest.raises(UsageError, match="input of this command"):
            write_output(str(target), "x\n", inputs=[str(spec)])
    assert spec.read_text() == "network n {}\n"
    write_output(str(spec), "network m {}\n", inputs=[str(spec)], may_replace=str(spec))
    assert spec.read_text() == "network m {}\n"


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write_output(str(tmp_path), "x\n")


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        write_output(str(tmp_path / "no" / "a.py"), "x\n")


def test_fifo_with_a_reader_is_written_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    for _ in range(200):  # wait until the reader has the FIFO open
        try:
            write_output(str(fifo), "through the pipe\n")
            break
        except UsageError:
            threading.Event().wait(0.01)
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_fifo_without_a_reader_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError, match="no process reads"):
        write_output(str(tmp_path / "pipe"), "x\n")


def test_character_devices_are_written_not_replaced() -> None:
    before = os.stat("/dev/null")
    write_output("/dev/null", "discarded\n")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    with pytest.raises(UsageError, match="No space left on device"):
        write_output("/dev/full", "x\n")


def test_planted_symlink_at_the_temporary_name_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names are random; even a correct guess (forced here) is skipped, never followed."""
    (tmp_path / "victim").write_text("keep\n")
    names = iter(["guessed", "guessed", "fresh"])
    monkeypatch.setattr(output.secrets, "token_hex", lambda n: next(names))
    (tmp_path / ".a.py.guessed.tmp").symlink_to("victim")
    write_output(str(tmp_path / "a.py"), "new\n")
    assert (tmp_path / "a.py").read_text() == "new\n"
    assert (tmp_path / "victim").read_text() == "keep\n"
    assert _listing(tmp_path) == [".a.py.guessed.tmp", "a.py", "victim"]


def test_mkstemp_fallback_when_o_tmpfile_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(output.os, "O_TMPFILE", raising=False)
    (tmp_path / "a.py").write_text("old\n")
    write_output(str(tmp_path / "a.py"), "new\n")
    assert (tmp_path / "a.py").read_text() == "new\n"
    assert _listing(tmp_path) == ["a.py"]


@pytest.mark.parametrize("tmpfile", [True, False], ids=["o_tmpfile", "mkstemp"])
def test_full_disk_leaves_the_target_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmpfile: bool
) -> None:
    if not tmpfile:
        monkeypatch.delattr(output.os, "O_TMPFILE", raising=False)
    (tmp_path / "a.py").write_text("old\n")

    def full(fd: int, raw: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "_write_all", full)
    with pytest.raises(UsageError, match="No space left on device"):
        write_output(str(tmp_path / "a.py"), "new\n")
    assert (tmp_path / "a.py").read_text() == "old\n"
    assert _listing(tmp_path) == ["a.py"]


CHILD = """
import os, signal, sys
from inceptdsl import output
# SIGHUP as the test says, not as inherited (under `nohup` the suite itself ignores it)
ignored = sys.argv[4:] == ["ignored"]
signal.signal(signal.SIGHUP, signal.SIG_IGN if ignored else signal.SIG_DFL)
if sys.argv[3] == "mkstemp":
    del output.os.O_TMPFILE
real = output._write_all
def die(fd, raw):
    real(fd, raw[: len(raw) // 2])
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
    real(fd, raw[len(raw) // 2 :])
output._write_all = die
output.write_output(sys.argv[1], "new contents\\n" * 1000)
"""


@pytest.mark.parametrize("how", ["o_tmpfile", "mkstemp"])
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT", "SIGKILL"])
def test_a_signal_mid_write_leaves_the_target_and_no_temporary(
    tmp_path: Path, sig: str, how: str
) -> None:
    target = tmp_path / "out.py"
    target.write_text("old\n")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(target), sig, how],
        capture_output=True,
        timeout=60,
    )
    if sig == "SIGINT":
        assert proc.returncode != 0 and b"KeyboardInterrupt" in proc.stderr
    else:
        assert proc.returncode == -getattr(signal, sig), proc.stderr
    assert target.read_text() == "old\n"
    leftover = [n for n in _listing(tmp_path) if n != "out.py"]
    if sig == "SIGKILL" and how == "mkstemp":
        # Nothing can run on SIGKILL: the named temporary stays (the documented limit).
        assert len(leftover) == 1 and leftover[0].startswith(".out.py.")
    else:
        assert leftover == []


def test_signal_handlers_are_restored() -> None:
    before = {s: signal.getsignal(s) for s in output._SIGNALS}
    write_output("/dev/null", "x")
    assert {s: signal.getsignal(s) for s in output._SIGNALS} == before


def test_dash_is_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    write_output("-", "to stdout\n")
    assert capsysbinary.readouterr().out == b"to stdout\n"


def test_every_writer_goes_through_output_py() -> None:
    """No other module of the package or tools/ opens a file for writing or renames one."""
    import ast

    from conftest import ROOT

    def writes(node: ast.Call) -> bool:
        f = node.func
        if isinstance(f, ast.Attribute):
            owner = ast.unparse(f.value)
            if f.attr in ("write_text", "write_bytes"):
                return True
            if owner == "os" and f.attr in ("replace", "rename", "link", "symlink"):
                return True
            if owner == "shutil" and f.attr in ("copy", "copy2", "copyfile", "copytree", "move"):
                return True
        if ast.unparse(f) in ("open", "os.open", "io.open"):
            text = ast.unparse(node)
            return "devnull" not in text and any(
                m in text for m in ("'w", "'a", "'x", "O_WRONLY", "O_RDWR", "O_CREAT")
            )
        return False

    bad = []
    for path in [*(ROOT / "inceptdsl").rglob("*.py"), *(ROOT / "tools").glob("*.py")]:
        if path.name == "output.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and writes(node):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert bad == []


# ---- one command: its inputs and its outputs (issue 18) ---------------------------------------


def test_a_command_refuses_its_inputs_by_identity(tmp_path: Path) -> None:
    """An input is refused through a hard link and through a symlinked directory; a file read
    by nobody is written."""
    (tmp_path / "w.npz").write_bytes(b"trained")
    os.link(tmp_path / "w.npz", tmp_path / "hard.npz")
    (tmp_path / "via").symlink_to(tmp_path)
    with output.command(inputs=[str(tmp_path / "w.npz"), str(tmp_path / "missing")]):
        for target in ("w.npz", "hard.npz", "via/w.npz"):
            with pytest.raises(UsageError, match="is an input of this command"):
                write_output(str(tmp_path / target), b"onnx")
        write_output(str(tmp_path / "other.onnx"), b"onnx")
    assert (tmp_path / "w.npz").read_bytes() == b"trained"
    assert (tmp_path / "other.onnx").read_bytes() == b"onnx"
    write_output(str(tmp_path / "w.npz"), b"outside a command: not an input")


def test_add_inputs_counts_for_the_running_command_only(tmp_path: Path) -> None:
    (tmp_path / "w.npz").write_text("weights\n")
    output.add_inputs([str(tmp_path / "w.npz")])  # no command: nothing to remember
    with output.command():
        output.add_inputs([str(tmp_path / "w.npz")])
        with pytest.raises(UsageError, match="is an input"):
            write_output(str(tmp_path / "w.npz"), "x\n")
    with output.command(force=True):  # w.npz is not inceptdsl's: replaced only so
        write_output(str(tmp_path / "w.npz"), "x\n")
    assert (tmp_path / "w.npz").read_text() == "x\n"


def test_a_command_refuses_the_python_files_it_executed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import torch m.py:build -o m.py` must not overwrite the module it ran: every loaded
    module's file is an input."""
    (tmp_path / "executed_here.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    importlib.import_module("executed_here")
    try:
        with output.command(), pytest.raises(UsageError, match="is an input"):
            write_output(str(tmp_path / "executed_here.py"), "spec\n")
    finally:
        sys.modules.pop("executed_here", None)
    assert (tmp_path / "executed_here.py").read_text() == "VALUE = 1\n"


def test_two_outputs_of_one_command_may_not_be_the_same_file(tmp_path: Path) -> None:
    with output.command():
        write_output(str(tmp_path / "o.pt"), "source\n")
        with pytest.raises(UsageError, match="two outputs of this command"):
            write_output(str(tmp_path / "." / "o.pt"), b"weights")
    assert (tmp_path / "o.pt").read_text() == "source\n"


def test_claim_refuses_a_collision_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "in.npz").write_bytes(b"trained")
    with output.command(inputs=[str(tmp_path / "in.npz")]):
        with pytest.raises(UsageError, match=r"same file \([^ ]*o\.pt\)"):
            output.claim([str(tmp_path / "o.pt"), str(tmp_path / "o.pt")])
    with output.command(inputs=[str(tmp_path / "in.npz")]):
        with pytest.raises(UsageError, match="is an input"):
            output.claim([str(tmp_path / "o.py"), str(tmp_path / "in.npz")])
    assert _listing(tmp_path) == ["in.npz"]
    with output.command():  # what was claimed is then written, once each
        output.claim([str(tmp_path / "o.py"), str(tmp_path / "o.pt")])
        write_output(str(tmp_path / "o.py"), "source\n")
        write_output(str(tmp_path / "o.pt"), b"weights")
        with pytest.raises(UsageError, match="two outputs"):
            write_output(str(tmp_path / "o.py"), "again\n")


def test_is_regular_target(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert output.is_regular_target(str(tmp_path / "f"))
    assert output.is_regular_target(str(tmp_path / "new"))
    assert not output.is_regular_target("-")
    assert not output.is_regular_target("/dev/null")
    assert not output.is_regular_target(str(tmp_path))


@pytest.mark.parametrize("how", ["o_tmpfile", "mkstemp"])
def test_a_write_under_an_ignored_sighup_completes(tmp_path: Path, how: str) -> None:
    """Under `nohup`, a hangup during a write is ignored, as the user asked (issue 26)."""
    target = tmp_path / "out.py"
    target.write_text("old\n")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(target), "SIGHUP", how, "ignored"],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == "new contents\n" * 1000
    assert _listing(tmp_path) == ["out.py"]


def test_an_ignored_signal_stays_ignored_after_a_write() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with output.cleanup_on_signals():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_verification_tool_reports_a_write_failure_as_e004(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """tools/verification.py is an -o writer too: a missing directory is E004, exit 2, no
    traceback (issue 25)."""
    from conftest import ROOT

    monkeypatch.syspath_prepend(str(ROOT))
    from tools import verification

    monkeypatch.setattr(verification, "build", lambda: ("# report\n", True))
    assert verification.main(["-o", str(tmp_path / "nodir" / "x.md")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E004]: cannot write ") and "does not exist" in err
    assert verification.main(["-o", str(tmp_path / "x.md")]) == 0
    assert (tmp_path / "x.md").read_text() == "# report\n"


def test_a_command_replaces_a_spec_file_only_with_force(tmp_path: Path) -> None:
    """`compile -o other.incept` must not destroy someone's spec (issue 22 item 10); fmt, which
    rewrites its own file, and writes outside a command are not concerned."""
    spec = tmp_path / "other.incept"
    spec.write_text("network other {}\n")
    with output.command(), pytest.raises(UsageError, match="is a spec file"):
        write_output(str(spec), "generated\n")
    assert spec.read_text() == "network other {}\n"
    with output.command():
        write_output(str(spec), "formatted\n", inputs=[str(spec)], may_replace=str(spec))
        write_output(str(tmp_path / "new.incept"), "imported\n")  # nothing there yet
    with output.command(force=True):
        write_output(str(spec), "generated\n")
    assert spec.read_text() == "generated\n"


@pytest.mark.backend
def test_onnx_external_data_is_not_put_beside_a_device(tmp_path: Path) -> None:
    """A model written with its tensors in OUT.data: through a link to /dev/null, OUT.data
    would be created beside the link (for `-o /dev/null` as root: /dev/null.data)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    from backends.onnx.files import write

    raw = np.full(512, 0.5, dtype=np.float32).tobytes()
    weight = helper.make_tensor("w", TensorProto.FLOAT, [512], raw, raw=True)
    graph = helper.make_graph([], "g", [], [], initializer=[weight])
    model = helper.make_model(graph)
    link = tmp_path / "out.onnx"
    link.symlink_to("/dev/null")
    with pytest.raises(UsageError, match="not a regular file"):
        write(model, str(link), threshold=0)
    assert _listing(tmp_path) == ["out.onnx"]
    written = write(model, str(tmp_path / "real.onnx"), threshold=0)
    assert written == [str(tmp_path / "real.onnx"), str(tmp_path / "real.onnx.data")]
    kept = onnx.load(str(tmp_path / "real.onnx"), load_external_data=False)
    assert kept.graph.initializer[0].data_location == TensorProto.EXTERNAL


def test_import_torch_knows_its_module_files_without_importing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import torch pkg.m.build -o pkg/m.py` is refused even where the model ran in another
    process: the files a dotted name names on sys.path are inputs, found without importing."""
    from inceptdsl.cli import _module_files

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("raise SystemExit('never imported')\n")
    (tmp_path / "pkg" / "m.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = {os.path.relpath(f, tmp_path) for f in _module_files("pkg.m.build")}
    assert found == {"pkg/__init__.py", "pkg/m.py"}
    assert _module_files("models.py:build") == ["models.py"]
    assert "pkg" not in sys.modules
