"""`inceptdsl view`: the ONNX export served by Netron, offline, on localhost.

Netron's `wait()` (which blocks until Ctrl-C) is replaced by a client that fetches what the
browser would: the viewer page, which must name the model, and the model bytes, which must be
the ONNX backend's export with block-scoped node names. Nothing opens a browser.
"""

from __future__ import annotations

import re
import socket
import urllib.request
from pathlib import Path
from typing import Any

import netron
import pytest
from support.lazy import onnx

from inceptdsl.cli import main

SPEC = """\
network viewed {
  input 3 x 16 x 16
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  stem: conv 8 3x3 pad=1
  mixed: concat {
    a: conv 4 1x1
    b: conv 4 1x1 -> conv 4 3x3 pad=1
  }
  global_avgpool
  flatten
  fc: linear 5
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def _serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, dict[str, Any]]:
    """Run `inceptdsl view`; what Netron served: the page and the model's bytes."""
    spec = tmp_path / "viewed.incept"
    spec.write_text(SPEC, encoding="utf-8")
    port = _free_port()
    seen: dict[str, Any] = {}

    def client() -> None:
        base = f"http://localhost:{port}"
        try:
            page = urllib.request.urlopen(base + "/", timeout=10).read().decode()
            seen["page"] = page
            match = re.search(r'<meta name="file" content="(/data/[^"]+)">', page)
            assert match, "the page names no model"
            seen["model"] = urllib.request.urlopen(base + match[1], timeout=10).read()
        finally:
            netron.stop(("localhost", port))

    monkeypatch.setattr(netron, "wait", client)
    monkeypatch.chdir(tmp_path)
    rc = main(["view", str(spec), "--port", str(port), "--no-browser", *extra])
    return rc, seen


def test_view_serves_the_onnx_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc, seen = _serve(tmp_path, monkeypatch)
    assert rc == 0
    assert '<meta name="file" content="/data/viewed.onnx">' in seen["page"]
    model = onnx.load_from_string(seen["model"])
    names = {n.name for n in model.graph.node}
    assert any(n.startswith("mixed.b.") for n in names), sorted(names)  # block path kept
    assert {v.name for v in model.graph.value_info} >= {"stem", "mixed.concat"}  # shapes
    assert list(tmp_path.iterdir()) == [tmp_path / "viewed.incept"]  # nothing left behind


def test_view_keeps_the_file_with_o(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc, seen = _serve(tmp_path, monkeypatch, "-o", "kept.onnx")
    assert rc == 0
    assert (tmp_path / "kept.onnx").read_bytes() == seen["model"]


def test_view_refuses_to_replace_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, seen = _serve(tmp_path, monkeypatch, "-o", "viewed.incept")
    assert rc == 2 and not seen
    assert (tmp_path / "viewed.incept").read_text(encoding="utf-8") == SPEC
