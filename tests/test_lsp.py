"""`inceptdsl lsp` end to end over stdio with a raw JSON-RPC client: diagnostics at the right
range (with hints), hover, go to definition across imports, completion and formatting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS
from support.lsp_client import Client

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


def _at(client: Client, method: str, uri: str, line: int, col: int) -> Any:
    params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}
    return client.request(method, params)


def test_hover_in_a_file_with_errors(client: Client) -> None:
    """Issue 22: a shape error further down leaves blocks and layers to hover."""
    text = V3.read_text().replace(
        "Conv2d_2b_3x3: conv 64 3x3 pad=1", "Conv2d_2b_3x3: conv 64 999x999"
    )
    uri = client.open(V3, text)
    assert client.diagnostics(uri)
    line, col = _line_of(text, "InceptionA(pool_features=32)")
    value = _at(client, "textDocument/hover", uri, line, col + 2)["contents"]["value"]
    assert "**InceptionA**(pool_features: int) — block, declared in" in value
    assert "lib/inception_v3.incept:" in value
    line, col = _line_of(text, "conv 64 999x999")
    value = _at(client, "textDocument/hover", uri, line, col + 1)["contents"]["value"]
    assert value.startswith("**conv** — layer: ")


GOOGLENET_5X5 = SPECS / "variants" / "googlenet_5x5.incept"


def test_hover_and_definition_on_edit_paths_and_the_parent(client: Client) -> None:
    text = GOOGLENET_5X5.read_text()
    uri = client.open(GOOGLENET_5X5, text)
    assert client.diagnostics(uri) == []
    parent_text = (SPECS / "googlenet.incept").read_text()
    line, col = _line_of(text, "inception3a.branch3.1 with")
    # The segment under the cursor picks the path: the block call, then its branch's 2nd unit.
    value = _at(client, "textDocument/hover", uri, line, col + 2)["contents"]["value"]
    assert value.startswith("**inception3a** — block, ") and "(in the parent `googlenet`)" in value
    assert "output `256x28x28`" in value  # googlenet's inception3a: 64 + 128 + 32 + 32 channels
    value = _at(client, "textDocument/hover", uri, line, col + len("inception3a.branch3.1") - 1)
    value = value["contents"]["value"]
    parent_part, variant_part = value.split("in this variant: ")
    assert parent_part.startswith("**inception3a.branch3.1** — conv2d 32 3x3 ")
    assert variant_part.startswith("**inception3a.branch3.1** — conv2d 32 5x5 ")
    loc = _at(client, "textDocument/definition", uri, line, col + 2)
    assert loc["uri"] == (SPECS / "googlenet.incept").resolve().as_uri()
    target = parent_text.splitlines()[loc["range"]["start"]["line"]]
    assert "inception3a: Inception(" in target
    # `extends googlenet`: hover describes the parent, definition goes to it.
    line, col = _line_of(text, "extends googlenet")
    col += len("extends ")
    value = _at(client, "textDocument/hover", uri, line, col + 1)["contents"]["value"]
    assert value.startswith("**googlenet** — the parent network")
    loc = _at(client, "textDocument/definition", uri, line, col + 1)
    assert loc["uri"] == (SPECS / "googlenet.incept").resolve().as_uri()
    assert parent_text.splitlines()[loc["range"]["start"]["line"]].startswith("network googlenet(")


REMOVE = Path(__file__).parent / "fixtures" / "diff" / "remove.incept"


def test_hover_and_definition_on_a_removed_unit(client: Client) -> None:
    text = REMOVE.read_text()
    uri = client.open(REMOVE, text)
    assert client.diagnostics(uri) == []
    line, col = _line_of(text, "m2.b1")
    value = _at(client, "textDocument/hover", uri, line, col + 4)["contents"]["value"]
    assert "**m2.b1** — conv2d" in value and "(in the parent `base`)" in value
    assert "output `16x16x16`" in value  # Mod(16) after the 2x2 pool of 32x32
    assert "in this variant" not in value  # it is removed here
    loc = _at(client, "textDocument/definition", uri, line, col + 4)
    base = REMOVE.with_name("base.incept")
    assert loc["uri"] == base.resolve().as_uri()
    assert "b1: conv c 1x1" in base.read_text().splitlines()[loc["range"]["start"]["line"]]


def test_completion_of_parent_paths_after_an_edit_keyword(client: Client) -> None:
    text = GOOGLENET_5X5.read_text()
    uri = client.open(GOOGLENET_5X5, text)
    assert client.diagnostics(uri) == []
    for version, (typed, expected) in enumerate(
        [
            ("  remove ", ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a"]),
            ("  remove aux1, inception3a.", ["branch1", "branch2", "branch3", "branch4", "concat"]),
            ("  replace inception3a.branch3.", ["0", "1"]),
        ],
        start=2,
    ):
        edited = text.replace("\n  expect params", f"\n{typed}\n  expect params", 1)
        client.change(uri, edited, version)
        assert client.diagnostics(uri)  # a half-typed edit does not parse: the last good
        # analysis knows the parent
        line, _ = _line_of(edited, typed)
        items = _at(client, "textDocument/completion", uri, line, len(typed))["items"]
        labels = [i["label"] for i in items]
        assert labels[: len(expected)] == expected, labels


def test_error_in_an_import_with_no_place_in_the_open_file(client: Client, tmp_path: Path) -> None:
    """An imported file's error that no call or import line of the document leads to is shown
    at the document's first line (with the place as related information), never hidden."""
    lib = tmp_path / "lib.incept"
    lib.write_text("block B() {\n  conv 8 3x3\n}\nblock C() {\n  frobnicate 3\n}\n")
    spec = tmp_path / "m.incept"
    text = 'import "lib.incept" (B)\nnetwork N {\n  input 3x8x8\n  B()\n}\n'
    spec.write_text(text)
    assert main(["check", str(spec)]) == 1
    uri = client.open(spec, text)
    [d] = client.diagnostics(uri)
    assert d["range"]["start"] == {"line": 0, "character": 0}
    assert d["message"].startswith("unknown layer or block `frobnicate`")
    assert "lib.incept:5:3" in d["message"]
    [rel] = d["relatedInformation"]
    assert rel["location"]["uri"] == lib.resolve().as_uri()
    assert rel["location"]["range"]["start"] == {"line": 4, "character": 2}


def test_a_half_typed_line_keeps_the_imported_blocks(client: Client) -> None:
    """While a line being typed does not parse, hover, definition and completion still know
    the blocks the last parse imported (the document's own lines have moved: not those)."""
    text = V3.read_text()
    uri = client.open(V3, text)
    assert client.diagnostics(uri) == []
    typing = text.replace("  Mixed_5b:", "  Mixed_5a: Incep(((\n  Mixed_5b:", 1)
    client.change(uri, typing, 2)
    [d] = client.diagnostics(uri)
    assert d["code"].startswith("E1")  # a syntax error: nothing parsed this time
    line, col = _line_of(typing, "InceptionA(pool_features=32)")
    value = _at(client, "textDocument/hover", uri, line, col + 2)["contents"]["value"]
    assert value.startswith("**InceptionA**(pool_features: int) — block, declared in")
    loc = _at(client, "textDocument/definition", uri, line, col + 2)
    assert loc["uri"] == (SPECS / "lib" / "inception_v3.incept").resolve().as_uri()
    line, col = _line_of(typing, "Incep(((")
    items = _at(client, "textDocument/completion", uri, line, col + 5)["items"]
    assert {"InceptionA", "InceptionE"} <= {i["label"] for i in items}


def test_hover_on_an_insert_target_compares_parent_and_variant(client: Client) -> None:
    spec = REMOVE.with_name("insert.incept")
    text = spec.read_text()
    uri = client.open(spec, text)
    assert client.diagnostics(uri) == []
    line, col = _line_of(text, "Mod(32) after m2")
    value = _at(client, "textDocument/hover", uri, line, col + 15)["contents"]["value"]
    assert value.startswith("**m2** — block, 6 layers") and value.endswith(
        "the same in this variant"
    )
    line, col = _line_of(text, "0.2 before fc")
    value = _at(client, "textDocument/hover", uri, line, col + 12)["contents"]["value"]
    parent_part, variant_part = value.split("in this variant: ")
    # m3 (Mod(32): 3 branches x 32 channels) now feeds fc: 96 x 10 + 10 params, not 48 x 10 + 10.
    assert "params 490 " in parent_part and "params 970 " in variant_part


EFFICIENTNET = SPECS / "efficientnet.incept"


def test_hover_in_a_loop_shows_a_name_at_each_iteration(client: Client) -> None:
    text = EFFICIENTNET.read_text()
    uri = client.open(EFFICIENTNET, text)
    assert client.diagnostics(uri) == []
    line, col = _line_of(text, "make_divisible(c * width)")
    value = _at(client, "textDocument/hover", uri, line, col + 15)["contents"]["value"]
    # B0's stage table: (t, c, n) = (1, 16, 1), (6, 24, 2), (6, 40, 2), (6, 80, 3), ...
    assert value == (
        "**c** = 16 (i=0, j=0), 24 (i=1, j=0), 24 (i=1, j=1), 40 (i=2, j=0), 40 (i=2, j=1), "
        "80 (i=3, j=0), 80 (i=3, j=1), 80 (i=3, j=2), ... (16 iterations)"
    )
    value = _at(client, "textDocument/hover", uri, line, col + 19)["contents"]["value"]
    assert value == "**width** = 1.0 (the same in all 16 iterations)"
    # on the loop's header, a name it binds: one value per iteration of that loop
    line, col = _line_of(text, "for i, (e, k, s, c, n) in")
    value = _at(client, "textDocument/hover", uri, line, col + 17)["contents"]["value"]
    assert value == (
        "**c** = 16 (i=0), 24 (i=1), 40 (i=2), 80 (i=3), 112 (i=4), 192 (i=5), 320 (i=6)"
    )
    # control: B1's depths (x1.1, rounded up) give 23 blocks, and its widths are B0's
    b1 = text.replace('] = "b0",', '] = "b1",', 1)
    assert b1 != text
    client.change(uri, b1, 2)
    assert client.diagnostics(uri) == []
    line, col = _line_of(b1, "make_divisible(c * width)")
    value = _at(client, "textDocument/hover", uri, line, col + 15)["contents"]["value"]
    assert value.startswith("**c** = 16 (i=0, j=0), 16 (i=0, j=1), 24 (i=1, j=0)")
    assert value.endswith("... (23 iterations)")


def test_hover_definition_and_completion_of_functions(client: Client) -> None:
    text = EFFICIENTNET.read_text()
    uri = client.open(EFFICIENTNET, text)
    assert client.diagnostics(uri) == []
    line, col = _line_of(text, "make_divisible(c * width)")
    value = _at(client, "textDocument/hover", uri, line, col + 3)["contents"]["value"]
    decl = next(i for i, ln in enumerate(text.splitlines()) if ln.startswith("fn make_divisible"))
    assert value.startswith(
        "**make_divisible**(v: float, d: int = ...) -> int — function, declared in "
    )
    assert value.endswith(f"efficientnet.incept:{decl + 1}")
    loc = _at(client, "textDocument/definition", uri, line, col + 3)
    assert loc["range"]["start"]["line"] == decl
    items = _at(client, "textDocument/completion", uri, line, col)["items"]
    by_label = {i["label"]: i for i in items}
    assert by_label["make_divisible"]["detail"] == "fn make_divisible(v: float, d: int) -> int"
    assert by_label["member"]["kind"] == 3  # Function
    assert by_label["min"]["detail"] == "built-in function"
    assert {"for", "in", "fn"} <= set(by_label)


UNICODE = """fn f(v: int) -> int = v

network n {
  input 3 x 8 x 8
  conv(["é😀😀😀", f(8)][1], 1x1) -> {bad}
}
"""
"""An é (1 UTF-16 unit, 2 UTF-8 bytes) and three emoji (2 UTF-16 units, 4 UTF-8 bytes each)
before `f`, on its line; `nosuch` (the error) after the same text on its line, once replaced."""


def _units(text: str, encoding: str) -> int:
    """How many units the client counts in `text` (Python's codecs, not the server's code)."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


@pytest.mark.parametrize(
    ("offered", "agreed"),
    [
        (None, "utf-16"),  # no general.positionEncodings: UTF-16, LSP's default
        (["utf-16"], "utf-16"),
        (["utf-8", "utf-16"], "utf-8"),
        (["utf-32", "utf-16"], "utf-32"),
        (["latin-1"], "utf-16"),  # nothing the server knows: UTF-16
    ],
)
def test_positions_count_the_negotiated_units(
    tmp_path: Path, offered: list[str] | None, agreed: str
) -> None:
    """Diagnostics, hover and go-to-definition count columns in the encoding agreed at
    `initialize`, so a name after non-ASCII text on its line is where the editor shows it."""
    c = Client(initialize=False)
    try:
        caps: dict[str, Any] = {"general": {"positionEncodings": offered}} if offered else {}
        init = c.request("initialize", {"processId": None, "rootUri": None, "capabilities": caps})
        c.notify("initialized", {})
        assert init["capabilities"]["positionEncoding"] == agreed
        text = UNICODE.replace("{bad}", "nosuch")
        uri = c.open(tmp_path / "u.incept", text)
        [d] = c.diagnostics(uri)
        line, col = _line_of(text, "nosuch")
        start = _units(text.splitlines()[line][:col], agreed)
        assert d["code"] == "E201"
        assert d["range"] == {
            "start": {"line": line, "character": start},
            "end": {"line": line, "character": start + len("nosuch")},
        }
        text = UNICODE.replace("{bad}", "relu")
        c.change(uri, text, 2)
        assert c.diagnostics(uri) == []
        line, col = _line_of(text, "f(8)")  # `f` is one character: off by one is `(`
        at = {"line": line, "character": _units(text.splitlines()[line][:col], agreed)}
        where = {"textDocument": {"uri": uri}, "position": at}
        hover = c.request("textDocument/hover", where)
        assert hover is not None and "**f**(v: int) -> int" in hover["contents"]["value"]
        loc = c.request("textDocument/definition", where)
        assert loc["range"]["start"] == {"line": 0, "character": len("fn ")}
    finally:
        c.close()
