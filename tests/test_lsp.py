"""`inceptdsl lsp` end to end over stdio with a raw JSON-RPC client: diagnostics at the right
range (with hints), hover, go to definition across imports, completion and formatting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SPECS
from lsp_client import Client

from inceptdsl.cli import main

V3 = SPECS / "inception_v3.incept"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    yield c
    c.close()


def _line_of(text: str, needle: str) -> tuple[int, int]:
    for i, line in enumerate(text.splitlines()):
        if needle in line:
            return i, line.index(needle)
    raise AssertionError(needle)


def test_diagnostics_on_open_at_the_right_range(client: Client) -> None:
    text = V3.read_text().replace("InceptionA(pool_features=32)", "InceptionAA(pool_features=32)")
    uri = client.open(V3, text)
    [d] = client.diagnostics(uri)
    line, col = _line_of(text, "InceptionAA")
    assert d["range"] == {
        "start": {"line": line, "character": col},
        "end": {"line": line, "character": col + len("InceptionAA")},
    }
    assert d["code"] == "E201" and d["severity"] == 1
    assert "unknown layer or block `InceptionAA`" in d["message"]
    assert "hint: did you mean `InceptionA`?" in d["message"]
    # Fixing it clears the diagnostics.
    client.change(uri, V3.read_text(), 2)
    assert client.diagnostics(uri) == []


def test_shape_error_is_located(client: Client) -> None:
    text = V3.read_text().replace(
        "Conv2d_2b_3x3: conv 64 3x3 pad=1", "Conv2d_2b_3x3: conv 64 999x999"
    )
    assert text != V3.read_text()
    uri = client.open(V3, text)
    [d] = client.diagnostics(uri)
    line, _ = _line_of(text, "999x999")
    assert d["range"]["start"]["line"] == line and d["code"].startswith("E4")


def test_hover_shows_shape_params_macs(client: Client) -> None:
    text = V3.read_text()
    uri = client.open(V3, text)
    assert client.diagnostics(uri) == []
    line, col = _line_of(text, "Mixed_5b:")
    res = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": col + 2}},
    )
    value = res["contents"]["value"]
    assert "**Mixed_5b** — block" in value
    assert "output `256x35x35`" in value and "params 255,904" in value and "MACs " in value


def test_definition_across_imports(client: Client) -> None:
    text = V3.read_text()
    uri = client.open(V3, text)
    client.diagnostics(uri)
    line, col = _line_of(text, "InceptionA(")
    loc = client.request(
        "textDocument/definition",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": col + 3}},
    )
    lib = (SPECS / "lib" / "inception_v3.incept").resolve()
    assert loc["uri"] == lib.as_uri()
    target = lib.read_text().splitlines()[loc["range"]["start"]["line"]]
    assert target.startswith("block InceptionA(")


def test_completion_and_formatting(client: Client) -> None:
    text = V3.read_text()
    uri = client.open(V3, text)
    client.diagnostics(uri)
    line, col = _line_of(text, "Conv2d_1a_3x3: conv 32 3x3")
    res = client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": col + 27}},
    )
    labels = {i["label"] for i in res["items"]}
    assert {"InceptionA", "InceptionE", "conv", "maxpool", "stride=", "network"} <= labels
    messy = text.replace("Conv2d_1a_3x3: conv 32 3x3", "Conv2d_1a_3x3:   conv 32   3x3", 1)
    uri = client.open(V3, messy)
    client.diagnostics(uri)
    edits = client.request(
        "textDocument/formatting",
        {"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}},
    )
    assert len(edits) == 1 and edits[0]["newText"] == text


SMALL = """import "@inceptdsl/lib/inception_v3.incept" (InceptionB)

network Small {
  input 3 x 4 x 4
  stem: conv 32 3x3
  mix: InceptionB()
}
"""


def test_error_inside_a_library_block_is_shown_on_the_call(client: Client, tmp_path: Path) -> None:
    """Issue 22: the error is raised in the bundled library; the open file must show it too."""
    spec = tmp_path / "small.incept"
    spec.write_text(SMALL)
    assert main(["check", str(spec)]) == 1  # the CLI fails on it: the editor must not say "fine"
    uri = client.open(spec, SMALL)
    [d] = client.diagnostics(uri)
    line, col = _line_of(SMALL, "InceptionB()")
    assert d["range"]["start"] == {"line": line, "character": col}
    assert d["code"] == "E403" and d["severity"] == 1
    assert "conv kernel 3x3 is larger than its padded input" in d["message"]
    assert "in block `InceptionB` called here" in d["message"]
    lib = (SPECS / "lib" / "inception_v3.incept").resolve()
    lib_line, lib_col = _line_of(lib.read_text(), "conv 384 3x3 stride=2")
    [rel] = d["relatedInformation"]
    assert rel["location"]["uri"] == lib.as_uri()
    assert rel["location"]["range"]["start"] == {"line": lib_line, "character": lib_col}
    assert rel["message"].startswith("conv kernel 3x3 is larger")
    client.change(uri, SMALL.replace("3 x 4 x 4", "3 x 64 x 64"), 2)
    assert client.diagnostics(uri) == []
