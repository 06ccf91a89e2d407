"""The server's message loop: frames (frames.py) are parsed and checked here before pygls sees
them, so every request gets an answer and nothing a client sends can stop the server.

What pygls left to chance: a message it could not structure (a negative position) was logged
and never answered; an error reply carried the Python traceback in `data`; `exit` closed stdout
under a loop that still wrote to it ("I/O operation on closed file"). Here a request is answered
with a result or a JSON-RPC error (no `data`), a notification that cannot be handled is dropped
with a line on stderr, and `exit` ends the loop before anything is closed.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import IO, Any

from lsprotocol.types import ResponseError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from .frames import Broken, Frames, header_start

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MAX_POSITION = 2**31 - 1
"""LSP positions are uintegers: 0 to 2**31 - 1."""

MAX_WARNINGS = 100
"""Lines written to stderr about bad input before the rest is counted silently."""


class Log:
    """One-line notes on stderr (an editor shows them in the server's log), capped in number."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        if self.count > MAX_WARNINGS:
            return
        text = message.splitlines()[0][:300] if message else ""
        if self.count == MAX_WARNINGS:
            text += f" (further notes are not shown after {MAX_WARNINGS})"
        try:
            print(f"inceptdsl lsp: {text}", file=self.stream, flush=True)
        except (OSError, ValueError):
            pass


class _LogHandler(logging.Handler):
    """pygls' own log records, as one line each, without tracebacks."""

    def __init__(self, log: Log) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log(record.getMessage())
        except Exception:  # noqa: BLE001 - a log line must never take the server down
            pass


class Writer:
    """stdout for pygls: `close` (sent by `exit`) only stops writing; a client that went away
    marks the writer broken, which ends the loop."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.closed = False
        self.broken = False

    def write(self, data: bytes) -> None:
        if self.closed or self.broken:
            return
        try:
            self.stream.write(data)
            self.stream.flush()
        except (OSError, ValueError):
            self.broken = True

    def close(self) -> None:
        self.closed = True


class Protocol(LanguageServerProtocol):
    """pygls' protocol, whose error replies never carry a traceback."""

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: ResponseError | None = None
    ) -> None:
        if error is not None:
            error = ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)


def run(server: LanguageServer, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[str]) -> int:
    """Serve until `exit` or the end of the input; the process's exit code (0 after
    `shutdown` + `exit`, else 1, as the LSP specifies)."""
    log = Log(stderr)
    pygls_log = logging.getLogger("pygls")
    pygls_log.handlers[:] = [_LogHandler(log)]
    pygls_log.propagate = False
    pygls_log.setLevel(logging.WARNING)
    writer = Writer(stdout)
    protocol = server.protocol
    protocol.set_writer(writer, include_headers=True)
    frames = Frames(stdin.fileno(), log)
    for body in frames:
        if isinstance(body, Broken):
            log(body.reason)
            _reply_error(protocol, None, PARSE_ERROR, f"parse error: {body.reason}")
            continue
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            start = header_start(body)
            if start is not None:
                frames.push_back(body[start:])
            log(f"a message that is not JSON: {type(exc).__name__}")
            _reply_error(protocol, None, PARSE_ERROR, "parse error: the message is not JSON")
            continue
        try:
            _dispatch(server, data, log)
        except SystemExit as stop:  # `exit`: pygls asks the interpreter to stop
            return stop.code if isinstance(stop.code, int) else 1
        if writer.broken:
            log("the client stopped reading the replies; stopping")
            return 1
    return 0 if protocol._shutdown else 1


def _dispatch(server: LanguageServer, data: Any, log: Log) -> None:
    protocol = server.protocol
    problem, msg_id = check_message(data)
    if problem is not None:
        log(problem)
        notification = isinstance(data, dict) and "method" in data and "id" not in data
        if not notification:
            _reply_error(protocol, msg_id, INVALID_REQUEST, problem)
        return
    is_request = "id" in data and "method" in data
    method = data.get("method")
    if protocol._shutdown and method != "exit" and is_request:
        _reply_error(protocol, msg_id, INVALID_REQUEST, "the server is shutting down")
        return
    bad = check_positions(data.get("params"))
    if bad is not None:
        log(f"{method}: {bad}")
        if is_request:
            _reply_error(protocol, msg_id, INVALID_PARAMS, f"{method}: {bad}")
        return
    if method in _NEED_OPEN and not _is_open(server, data.get("params")):
        return  # a change or save of a document the client never opened: nothing to update
    try:
        message = protocol.structure_message(data)
    except Exception:  # noqa: BLE001 - cattrs: the params do not fit the method's types
        problem = f"{method}: the params do not fit the method"
        log(problem)
        if is_request:
            _reply_error(protocol, msg_id, INVALID_PARAMS, problem)
        return
    try:
        protocol.handle_message(message)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the server
        log(f"{method}: {type(exc).__name__}: {exc}")
        if is_request:
            _reply_error(protocol, msg_id, INTERNAL_ERROR, f"{method} failed")


_NEED_OPEN = ("textDocument/didChange", "textDocument/didSave")


def _is_open(server: LanguageServer, params: Any) -> bool:
    from urllib.parse import unquote

    try:
        uri = params["textDocument"]["uri"]
    except (KeyError, TypeError):
        return True  # malformed: structuring reports it
    return isinstance(uri, str) and unquote(uri) in server.workspace.text_documents


def check_message(data: Any) -> tuple[str | None, Any]:
    """(what is wrong with a JSON-RPC message or None, its id where it has a usable one)."""
    if not isinstance(data, dict):
        return "a message that is not a JSON object", None
    msg_id = data.get("id")
    if "id" in data and (isinstance(msg_id, bool) or not isinstance(msg_id, int | str)):
        return "an id that is neither a number nor a string", None
    if isinstance(msg_id, int) and not -(2**53) <= msg_id <= 2**53:
        return "an id out of range", None
    if data.get("jsonrpc") != "2.0":
        return 'a message without "jsonrpc": "2.0"', msg_id
    if "method" in data:
        if not isinstance(data["method"], str):
            return "a method that is not a string", msg_id
        if "params" in data and not isinstance(data["params"], dict | list | type(None)):
            return "params that are neither an object nor an array", msg_id
    elif "id" not in data:
        return "a message with neither a method nor an id", None
    return None, msg_id


def check_positions(params: Any) -> str | None:
    """What is wrong with the positions in `params` (`position`, `range`, the ranges of
    `contentChanges`), or None."""
    if not isinstance(params, dict):
        return None
    found = []
    if "position" in params:
        found.append(("position", params["position"]))
    ranges = [("range", params.get("range"))]
    changes = params.get("contentChanges")
    if isinstance(changes, list):
        ranges += [
            (f"contentChanges[{i}].range", c.get("range"))
            for i, c in enumerate(changes)
            if isinstance(c, dict) and "range" in c
        ]
    for where, rng in ranges:
        if rng is None and where == "range":
            continue
        if not isinstance(rng, dict):
            return f"{where} is not an object"
        found += [(f"{where}.{k}", rng.get(k)) for k in ("start", "end")]
    for name, pos in found:
        if not isinstance(pos, dict):
            return f"{name} is not an object"
        for key in ("line", "character"):
            v = pos.get(key)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_POSITION:
                return f"{name}.{key} must be a whole number from 0 to {MAX_POSITION:,}"
    return None


def _reply_error(protocol: LanguageServerProtocol, msg_id: Any, code: int, message: str) -> None:
    """A JSON-RPC error reply; `"id": null` where the message's id could not be read."""
    reply = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
    protocol._send_data(reply)


def serve_stdio(server: LanguageServer) -> int:
    return run(server, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
