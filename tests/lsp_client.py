"""A raw JSON-RPC client for `inceptdsl lsp` over stdio (tests and bench/bench_lsp.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


class Client:
    def __init__(self) -> None:
        self.p = subprocess.Popen(
            [sys.executable, "-m", "inceptdsl", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0
        self.notes: list[dict[str, Any]] = []
        self.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        self.notify("initialized", {})

    def _send(self, obj: dict[str, Any]) -> None:
        assert self.p.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **obj}).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def _recv(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        length = 0
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise AssertionError("the server closed its output")
            if line == b"\r\n":
                break
            key, _, value = line.decode().partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        return json.loads(self.p.stdout.read(length))

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        mid = self.next_id
        self._send({"id": mid, "method": method, "params": params})
        while True:
            msg = self._recv()
            if msg.get("id") == mid:
                assert "error" not in msg, msg
                return msg.get("result")
            self.notes.append(msg)

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        """Wait for the next publishDiagnostics for `uri`."""
        while True:
            for i, msg in enumerate(self.notes):
                if (
                    msg.get("method") == "textDocument/publishDiagnostics"
                    and msg["params"]["uri"] == uri
                ):
                    return self.notes.pop(i)["params"]["diagnostics"]
            self.notes.append(self._recv())

    def open(self, path: Path, text: str) -> str:
        uri = path.resolve().as_uri()
        doc = {"uri": uri, "languageId": "incept", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": doc})
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            },
        )

    def close(self) -> None:
        self.request("shutdown", {})
        self.notify("exit", {})
        self.p.wait(timeout=10)
