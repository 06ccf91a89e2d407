"""Property test: `inceptdsl lsp` survives a fuzzing of its stdio protocol (issue 18, class 4).

One real server process takes every example: a few chunks of random framing (bad, short, long
and missing Content-Length headers, junk bytes), random JSON, and LSP messages with random
methods, ids, URIs (/etc/passwd, /dev/zero, a FIFO, junk) and positions (negative, huge, of
the wrong type), framed right or wrong. After each example a valid request must be answered
within the deadline and the process must still run; at the end `shutdown` + `exit` gives 0.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from conftest import SPECS
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support.lsp_client import Client

V3 = SPECS / "inception_v3.incept"
DEADLINE = 10.0
"""Seconds the server may take to answer the probe after one example."""

METHODS = [
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/completion",
    "textDocument/formatting",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didSave",
    "textDocument/didClose",
    "$/cancelRequest",
    "no/suchMethod",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

numbers = st.one_of(
    st.integers(-5, 50),
    st.integers(-(2**63), 2**63),
    st.sampled_from([2**31 - 1, 2**31, -1]),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.none(),
)


def _uris(tmp: Path) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                "file:///etc/passwd",
                "file:///dev/zero",
                (tmp / "fifo.incept").as_uri(),
                V3.resolve().as_uri(),
                "untitled:Untitled-1",
                "file:///",
                "file://host/share/x.incept",
                "",
            ]
        ),
        st.text(max_size=30),
    )


def _messages(tmp: Path) -> st.SearchStrategy[dict[str, Any]]:
    position = st.fixed_dictionaries({"line": numbers, "character": numbers}) | json_values
    document = st.fixed_dictionaries(
        {"uri": _uris(tmp)},
        optional={"text": st.text(max_size=200), "version": numbers, "languageId": st.text()},
    )
    params = st.fixed_dictionaries(
        {"textDocument": document},
        optional={
            "position": position,
            "range": st.fixed_dictionaries({"start": position, "end": position}),
            "contentChanges": st.lists(
                st.fixed_dictionaries(
                    {"text": st.text(max_size=100)},
                    optional={"range": st.fixed_dictionaries({"start": position, "end": position})},
                ),
                max_size=2,
            ),
            "options": json_values,
            "id": numbers,
        },
    )
    return st.fixed_dictionaries(
        {
            "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"]),
            "method": st.sampled_from(METHODS),
        },
        optional={"id": numbers | json_values, "params": params | json_values},
    )


def _frame(body: bytes, delta: int, sep: bytes) -> bytes:
    return b"Content-Length: %d%s" % (len(body) + delta, sep) + body


def _chunks(tmp: Path) -> st.SearchStrategy[bytes]:
    deltas = st.sampled_from([0, 0, 0, -1, 1, -10, 50, 5000])
    seps = st.sampled_from([b"\r\n\r\n", b"\r\n\r\n", b"\n\n", b"\r\n", b""])
    header_values = st.one_of(
        st.integers(-(10**12), 10**12).map(lambda n: str(n).encode()),
        st.binary(max_size=12),
        st.sampled_from([b"abc", b"", b" ", b"0x10", b"1e3", b"\xef\xbc\x91"]),
    )
    return st.one_of(
        st.binary(max_size=300),
        st.builds(lambda v, s: b"Content-Length: " + v + s, header_values, seps),
        st.builds(lambda v, d, s: _frame(json.dumps(v).encode(), d, s), json_values, deltas, seps),
        st.builds(
            lambda m, d, s: _frame(json.dumps(m).encode(), d, s), _messages(tmp), deltas, seps
        ),
    )


def test_the_server_survives_a_fuzzed_protocol() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.mkfifo(tmp / "fifo.incept")
        client = Client()
        uri = client.open(V3, V3.read_text())
        assert client.diagnostics(uri) == []
        probe_uri = (tmp / f"probe-{uuid.uuid4().hex}.incept").as_uri()

        @settings(
            max_examples=150,
            deadline=None,
            database=None,
            # One process takes every example, so a failure leaves it broken: shrinking would
            # only replay timeouts. The first failing example is reported as it was drawn.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.lists(_chunks(tmp), min_size=1, max_size=4))
        def example(chunks: list[bytes]) -> None:
            client.send_raw(b"".join(chunks))
            mid = f"probe-{uuid.uuid4().hex}"
            params = {
                "textDocument": {"uri": probe_uri},
                "position": {"line": 0, "character": 0},
            }
            client._send({"id": mid, "method": "textDocument/hover", "params": params})
            msg = client.reply(mid, timeout=DEADLINE)  # type: ignore[arg-type]
            assert msg.get("result", "missing") is None, (chunks, msg)
            assert client.p.poll() is None, chunks
            client.notes.clear()

        try:
            example()
        finally:
            rc = client.close()
        assert rc == 0, client.stderr()
        assert "Traceback" not in client.stderr(), client.stderr()[-2000:]
