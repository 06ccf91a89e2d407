"""A raw JSON-RPC client for `inceptdsl lsp` over stdio (tests and bench/bench_lsp.py).

Every wait has a deadline (a server that hangs fails the test instead of hanging it), raw bytes
can be sent (the hostile tests break the framing on purpose), and the server's stderr is kept
in a file (a pipe nobody drains would block the server once full)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMEOUT = 30.0
"""Seconds any one answer may take (a cold start imports the package first)."""


class Timeout(AssertionError):
    pass


class Client:
    def __init__(
        self,
        argv: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
        initialize: bool = True,
        root: Path | None = None,
    ) -> None:
        self.stderr_file = tempfile.TemporaryFile()
        self.p = subprocess.Popen(
            list(argv) if argv is not None else [sys.executable, "-m", "inceptdsl", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=env,
        )
        self.next_id = 0
        self.notes: list[dict[str, Any]] = []
        self.buf = b""
        if initialize:
            init: dict[str, Any] = {"processId": None, "rootUri": None, "capabilities": {}}
            if root is not None:  # as editors send it: the folder that is open
                uri = root.resolve().as_uri()
                init["rootUri"] = uri
                init["workspaceFolders"] = [{"uri": uri, "name": root.name}]
            self.request("initialize", init)
            self.notify("initialized", {})

    # ---- the wire ------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def _send(self, obj: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **obj}).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _more(self, deadline: float) -> None:
        assert self.p.stdout is not None
        fd = self.p.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise Timeout("no answer from the server before the deadline")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError("the server closed its output")
        self.buf += chunk

    def _recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._more(deadline)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n"):
            key, _, value = line.decode().partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        assert length is not None, head
        while len(self.buf) < length:
            self._more(deadline)
        body, self.buf = self.buf[:length], self.buf[length:]
        msg: dict[str, Any] = json.loads(body)
        return msg

    # ---- messages --------------------------------------------------------------------------

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def send_request(self, method: str, params: Any) -> int:
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def reply(self, mid: int, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The whole response to request `mid` (result or error); other messages are kept."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(max(0.0, deadline - time.monotonic()))
            if msg.get("id") == mid and "method" not in msg:
                return msg
            self.notes.append(msg)

    def request(self, method: str, params: Any) -> Any:
        msg = self.reply(self.send_request(method, params))
        assert "error" not in msg, msg
        return msg.get("result")

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        """Wait for the next publishDiagnostics for `uri`."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, msg in enumerate(self.notes):
                if (
                    msg.get("method") == "textDocument/publishDiagnostics"
                    and msg["params"]["uri"] == uri
                ):
                    diags: list[dict[str, Any]] = self.notes.pop(i)["params"]["diagnostics"]
                    return diags
            self.notes.append(self._recv(max(0.0, deadline - time.monotonic())))

    def open(self, path: Path, text: str) -> str:
        uri = path.resolve().as_uri()
        self.open_uri(uri, text)
        return uri

    def open_uri(self, uri: str, text: str) -> None:
        doc = {"uri": uri, "languageId": "incept", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": doc})

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            },
        )

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def close(self) -> int:
        """`shutdown` + `exit`, as every editor ends a session; the exit code."""
        try:
            self.request("shutdown", None)
            self.notify("exit", {})
            assert self.p.stdin is not None
            self.p.stdin.close()
            return self.p.wait(timeout=TIMEOUT)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
