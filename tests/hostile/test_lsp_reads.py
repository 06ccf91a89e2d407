"""`inceptdsl lsp` reads only what the client sent and the `.incept` imports inside the roots
(issue 18, class 1): the real server process runs under an audit hook that logs every file it
opens, and requests about documents nobody opened (`/etc/passwd`, `/dev/zero`, a FIFO, a spec
beside the open one) must be answered without opening them."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.lsp_client import Client

# Started as `python -c HOOKED LOG`: every `open` (builtins, io, os.open) and directory listing
# the server makes is written to LOG before it happens.
HOOKED = """
import os, sys
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
        path = os.fsencode(os.path.abspath(os.fsdecode(args[0])))
        os.write(log, event.encode() + b" " + path + b"\\n")
sys.addaudithook(hook)
from inceptdsl.cli import main
sys.exit(main(["lsp"]))
"""

LIB = "block Stem() {\n  conv 8 3x3\n}\n"
MAIN = 'import "lib.incept" (Stem)\n\nnetwork Net {\n  input 3x32x32\n  stem: Stem()\n}\n'


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    t = tmp_path / "tree"
    t.mkdir()
    (t / ".incept-root").write_text("")
    (t / "lib.incept").write_text(LIB)
    (t / "secret.incept").write_text("network Secret { input 3x8x8 }\n")
    os.mkfifo(t / "fifo.incept")
    (tmp_path / "outside.incept").write_text(LIB)
    (tmp_path / "private.txt").write_text("root:x:0:0\n")
    return t


@pytest.fixture
def hooked(tmp_path: Path, tree: Path) -> Iterator[tuple[Client, Path]]:
    log = tmp_path / "opened.log"
    c = Client([sys.executable, "-c", HOOKED, str(log)], root=tree)  # the tree is the workspace
    yield c, log
    assert c.close() == 0


def _code_dirs() -> list[str]:
    """Where the interpreter may load code from: sys.path without the working directory."""
    cwd = os.getcwd()
    dirs = {os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)}
    dirs.add(os.path.realpath(os.path.dirname(__import__("inceptdsl").__file__)))
    dirs.add(os.path.realpath(sys.base_prefix))
    return sorted(d for d in dirs if d != os.path.realpath(cwd))


def _position(uri: str, line: int = 0, character: int = 0) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def test_requests_about_unopened_documents_read_nothing(
    tree: Path, hooked: tuple[Client, Path]
) -> None:
    client, log = hooked
    main = tree / "main.incept"
    main_uri = client.open(main, MAIN)  # never written to disk: the client's text is the file
    assert client.diagnostics(main_uri) == []
    evil_uri = client.open(tree / "evil.incept", MAIN.replace("lib.incept", "../outside.incept"))
    [d] = client.diagnostics(evil_uri)
    assert d["code"] == "E205"  # outside the tree: refused, and (below) never opened

    unopened = [
        "file:///etc/passwd",
        "file:///dev/zero",
        (tree / "fifo.incept").as_uri(),
        (tree / "secret.incept").as_uri(),
        (tree.parent / "private.txt").as_uri(),
    ]
    for uri in unopened:
        assert client.request("textDocument/hover", _position(uri)) is None
        assert client.request("textDocument/definition", _position(uri)) is None
        assert client.request("textDocument/completion", _position(uri))["items"] == []
        formatting = {"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}}
        assert client.request("textDocument/formatting", formatting) == []
        client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        client.change(uri, "network X { input 3x8x8 }\n", 2)
    # Still serving, and the open document is still analysed.
    line = MAIN.splitlines().index("  stem: Stem()")
    shown = client.request("textDocument/hover", _position(main_uri, line, 3))
    assert "**stem**" in shown["contents"]["value"]
    assert not [m for m in client.notes if m.get("method") == "textDocument/publishDiagnostics"]

    events = [line.split(" ", 1) for line in log.read_text().splitlines()]
    code = _code_dirs()
    lib = str((tree / "lib.incept").resolve())
    unexpected = sorted(
        f"{event} {p}"
        for event, p in events
        if p != lib
        and not (any(p == d or p.startswith(d + os.sep) for d in code) and ".incept" not in p)
        # The import system lists sys.path's '' (the working directory) and names a path hook.
        and not (event != "open" and p == os.getcwd())
        and not p.endswith("__path_hook__")
        # Installed distributions' metadata (entry points): an editable install keeps its
        # egg-info in the source tree, which may be the working directory.
        and not os.path.dirname(p).endswith((".egg-info", ".dist-info"))
    )
    assert unexpected == [], unexpected
    assert ["open", lib] in events  # the hook does see spec reads
