"""Which existing files a command may replace without --force (issue 22 item 10): its own
earlier outputs, in every format it writes, and nothing else (inceptdsl/output_origin.py).

Each format is produced by the real command (in process) and must be recognised, so a change
of a format's first lines that would make the next run refuse its own output fails here; files
a user may have under the same names must not be recognised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inceptdsl import output
from inceptdsl.cli import main
from inceptdsl.errors import UsageError
from inceptdsl.output import write_output
from inceptdsl.output_origin import produced_by_inceptdsl

TINY = "network tiny(c: int = 4) {\n  input 3 x 8 x 8\n  stem: conv c 3x3\n}\n"


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.incept").write_text(TINY)
    return tmp_path / "a.incept"


CORE_OUTPUTS = [
    *(["report", "a.incept", "--format", f, "-o", f"r.{f}"] for f in
      ("table", "csv", "json", "markdown", "html")),
    ["report", "a.incept", "--format", "csv", "--columns", "params,macs", "-o", "cols.csv"],
    *(["graph", "a.incept", "--format", f, "-o", f"g.{f}"] for f in
      ("svg", "html", "dot", "mermaid")),
    *(["sweep", "a.incept", "--param", "c=2,4", "-o", f"s.{f}"] for f in ("csv", "json", "html")),
    ["compile", "a.incept", "--backend", "torch", "-o", "t.py"],
    ["compile", "a.incept", "--backend", "keras", "-o", "k.py"],
]  # fmt: skip


@pytest.mark.parametrize("argv", CORE_OUTPUTS, ids=lambda a: a[-1])
def test_every_output_is_recognised_and_replaced_by_the_next_run(
    spec: Path, argv: list[str]
) -> None:
    assert main(argv) == 0
    out = spec.parent / argv[-1]
    assert out.stat().st_size > 0
    assert produced_by_inceptdsl(str(out)), out.read_bytes()[:200]
    assert main(argv) == 0  # the second run replaces the first's output without --force


@pytest.mark.backend
def test_binary_outputs_are_recognised(spec: Path) -> None:
    """The ONNX model, its external tensor file, and the optimized torch weights."""
    import numpy as np

    from inceptdsl.backends.onnx import files

    np.savez("w.npz", **{"stem.weight": np.ones((4, 3, 3, 3), "f4"), "stem.bias": np.ones(4, "f4")})
    for argv in (
        ["compile", "a.incept", "--backend", "onnx", "-o", "o.onnx"],
        ["compile", "a.incept", "--optimize", "--backend", "torch", "--weights", "w.npz",
         "-o", "opt.py"],
    ):  # fmt: skip
        assert main(argv) == 0
        assert main(argv) == 0
    assert produced_by_inceptdsl("o.onnx") and produced_by_inceptdsl("opt.pt")
    import inceptdsl
    from inceptdsl.backend import get

    big = inceptdsl.load("a.incept", c=64).graph  # a kernel over 1 KiB goes to the .data file
    model = get("onnx").build(big)  # type: ignore[attr-defined]
    for _ in range(2):  # the second command replaces the pair
        with output.command():
            files.write(model, "ext.onnx", threshold=16)
    assert Path("ext.onnx.data").stat().st_size > 1024
    assert produced_by_inceptdsl("ext.onnx.data")
    Path("other.onnx.data").write_bytes(Path("ext.onnx.data").read_bytes())
    assert not produced_by_inceptdsl("other.onnx.data")  # no inceptdsl model points at it


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("model.py", b"import torch\n\nclass Net(torch.nn.Module):\n    pass\n"),
        ("data.csv", b"x,y\n1,2\n"),
        ("names.csv", b"name,label\ncat,1\n"),  # a header like the report's, not its columns
        ("weights.pt", b"PK\x03\x04\x00\x00\x08\x08" + b"\x00" * 20 + b"archive/data.pkl"),
        ("graph.dot", b"digraph G {\n  a -> b;\n}\n"),
        ("notes.md", b"# notes\n\nsome text\n"),
        ("page.html", b"<!DOCTYPE html>\n<html><title>mine</title></html>\n"),
    ],
)
def test_someone_elses_files_are_not_recognised(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert not produced_by_inceptdsl(str(path))
    with output.command(), pytest.raises(UsageError, match="not written by inceptdsl"):
        write_output(str(path), "generated\n")
    assert path.read_bytes() == data
    with output.command(force=True):
        write_output(str(path), "generated\n")
    assert path.read_text() == "generated\n"


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    empty = tmp_path / "out.py"
    empty.write_bytes(b"")  # `touch out.py` first: nothing to lose
    assert produced_by_inceptdsl(str(empty))
    assert not produced_by_inceptdsl(str(tmp_path / "missing"))


def test_outside_a_command_and_fmt_are_not_concerned(tmp_path: Path) -> None:
    """Python callers of write_output (no command scope) and fmt (which rewrites the file it
    was given, `may_replace`) keep their behaviour."""
    path = tmp_path / "data.csv"
    path.write_text("x,y\n")
    write_output(str(path), "a\n")
    assert path.read_text() == "a\n"
    with output.command():
        write_output(str(path), "b\n", inputs=[str(path)], may_replace=str(path))
    assert path.read_text() == "b\n"


def test_openvino_weights_and_tflite_files_are_recognised_by_their_marks(tmp_path: Path) -> None:
    """OpenVINO's X.bin has no header: it is inceptdsl's when X.xml beside it is (the network
    is named `NAME (inceptdsl)`); a .tflite file carries its tensor names after the data."""
    xml = b'<?xml version="1.0"?>\n<net name="tiny (inceptdsl)" version="11">\n'
    (tmp_path / "m.xml").write_bytes(xml)
    (tmp_path / "m.bin").write_bytes(b"\x01\x02" * 100)
    (tmp_path / "u.xml").write_bytes(b'<?xml version="1.0"?>\n<net name="theirs">\n')
    (tmp_path / "u.bin").write_bytes(b"\x01\x02" * 100)
    (tmp_path / "alone.bin").write_bytes(b"\x01\x02" * 100)
    assert produced_by_inceptdsl(str(tmp_path / "m.xml"))
    assert produced_by_inceptdsl(str(tmp_path / "m.bin"))
    assert not produced_by_inceptdsl(str(tmp_path / "u.bin"))
    assert not produced_by_inceptdsl(str(tmp_path / "alone.bin"))
    head = b"\x1c\x00\x00\x00TFL3" + b"\x00" * 200_000
    (tmp_path / "ours.tflite").write_bytes(head + b"inceptdsl_tiny/conv")
    (tmp_path / "theirs.tflite").write_bytes(head + b"model/conv")
    (tmp_path / "fake.tflite").write_bytes(b"not a model " + head + b"inceptdsl_tiny/conv")
    assert produced_by_inceptdsl(str(tmp_path / "ours.tflite"))
    assert not produced_by_inceptdsl(str(tmp_path / "theirs.tflite"))
    assert not produced_by_inceptdsl(str(tmp_path / "fake.tflite"))
