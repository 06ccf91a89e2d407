"""`inceptdsl lsp` over a protocol that goes wrong (issue 18, classes 2 to 4): the ordinary end
of a session, broken framing, positions out of range and a failing handler, each over the real
stdio protocol. After every broken message the server must still answer a valid request."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SPECS
from support.lsp_client import Client

V3 = SPECS / "inception_v3.incept"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """One server for the framing and position cases: each must leave it able to go on."""
    c = Client()
    yield c
    assert c.close() == 0, c.stderr()


def frame(obj: Any, length: int | None = None) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def hover(mid: int, uri: str = "file:///nowhere.incept", line: int = 0) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": mid,
        "method": "textDocument/hover",
        "params": {"textDocument": {"uri": uri}, "position": {"line": line, "character": 0}},
    }


def answers(client: Client) -> None:
    """The server still answers a valid request, with a result."""
    msg = client.reply(client.send_request("textDocument/hover", hover(0)["params"]))
    assert msg.get("result", "missing") is None, msg


def test_shutdown_and_exit_end_cleanly() -> None:
    c = Client()
    uri = c.open(V3, V3.read_text())
    assert c.diagnostics(uri) == []
    assert c.close() == 0
    assert c.p.returncode == 0
    assert "closed file" not in c.stderr() and "internal error" not in c.stderr(), c.stderr()


def test_exit_without_shutdown_is_code_1() -> None:
    c = Client()
    c.notify("exit", {})
    assert c.p.wait(timeout=30) == 1
    assert "Traceback" not in c.stderr() and "internal error" not in c.stderr(), c.stderr()


@pytest.mark.parametrize(
    "junk",
    [
        pytest.param(b"Content-Length: abc\r\n\r\n{}", id="length-not-a-number"),
        pytest.param(b"Content-Length: -5\r\n\r\n{}", id="negative-length"),
        pytest.param(b"Content-Length: 99999999999999999999\r\n\r\n", id="huge-length"),
        pytest.param(frame(hover(900), 10), id="length-shorter-than-the-body"),
        pytest.param(frame(hover(901), 5000), id="length-longer-than-the-body"),
        pytest.param(b"Content-Length: 40\r\n\r\n", id="header-without-a-body"),
        pytest.param(b"Content-Length: 3\r\n\r\n", id="body-swallows-the-next-header"),
        pytest.param(b"\x00\xff garbage without a line end " * 1000, id="binary-junk"),
        pytest.param(frame([1, 2, 3]), id="json-array"),
        pytest.param(frame({"jsonrpc": "2.0", "id": [1], "method": "x"}), id="bad-id"),
        pytest.param(b'Content-Length: 9\r\n\r\n"\xff\xfe\xfd\xfc\xfb\xfa"', id="not-utf8"),
        pytest.param(frame(None, 200_000)[:-4] + b"[" * 200_000, id="deep-nesting"),
    ],
)
def test_bad_framing_recovers(client: Client, junk: bytes) -> None:
    client.send_raw(junk)
    answers(client)
    assert client.p.poll() is None


def test_a_body_cut_by_the_end_of_input_exits_with_a_message() -> None:
    c = Client()
    assert c.p.stdin is not None
    c.send_raw(b'Content-Length: 100\r\n\r\n{"jsonrpc": "2.0", ')
    c.p.stdin.close()
    assert c.p.wait(timeout=30) == 1
    assert "the input ended inside a message" in c.stderr(), c.stderr()


@pytest.mark.parametrize(
    "position",
    [
        {"line": -1, "character": 0},
        {"line": 0, "character": -7},
        {"line": 2**40, "character": 0},
        {"line": 1.5, "character": 0},
        {"line": "1", "character": 0},
        {"line": True, "character": 0},
        None,
    ],
)
def test_positions_out_of_range_are_answered(client: Client, position: Any) -> None:
    uri = client.open(V3, V3.read_text())
    client.diagnostics(uri)
    for method in ("textDocument/hover", "textDocument/definition", "textDocument/completion"):
        params = {"textDocument": {"uri": uri}, "position": position}
        msg = client.reply(client.send_request(method, params))
        assert msg["error"]["code"] == -32602, msg
        assert "data" not in msg["error"]
    answers(client)


def test_a_position_past_the_end_is_fine(client: Client) -> None:
    uri = client.open(V3, V3.read_text())
    client.diagnostics(uri)
    params = {"textDocument": {"uri": uri}, "position": {"line": 2**31 - 1, "character": 2**31 - 1}}
    assert client.request("textDocument/hover", params) is None
    assert client.request("textDocument/definition", params) is None
    assert client.request("textDocument/completion", params)["items"]


# A server whose hover handler has a bug: the error reply must say so without a traceback.
FAILING = """
import sys
import inceptdsl.lsp.server as server
def broken(*args):
    raise ValueError("a bug in hover")
server.hover = broken
from inceptdsl.cli import main
sys.exit(main(["lsp"]))
"""


def test_an_error_reply_carries_no_traceback() -> None:
    c = Client([sys.executable, "-c", FAILING])
    try:
        uri = c.open(V3, V3.read_text())
        c.diagnostics(uri)
        msg = c.reply(c.send_request("textDocument/hover", hover(0, uri)["params"]))
        assert msg["error"]["code"] == -32603, msg
        assert "Traceback" not in json.dumps(msg) and "data" not in msg["error"], msg
        assert "Traceback" not in c.stderr(), c.stderr()
        answers(c)
    finally:
        assert c.close() == 0
