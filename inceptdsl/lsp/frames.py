"""The LSP base protocol's framing (`Content-Length: N`, a blank line, N bytes of JSON) read
from a byte stream that may be malformed, so one bad frame costs one message, never the session.

pygls' reader trusts the framing: `Content-Length: abc`, a length shorter than its body or a
body cut short left it alive and answering nothing. Here every frame is checked, and a broken
one is skipped up to the next header. Resynchronising relies on one fact: the bytes
`Content-Length: <digits>` followed by a line end never occur in valid JSON (a raw line end
cannot be inside a JSON string, and `Content-Length` is no JSON token), so where they appear
inside a body the body was cut short and the next message starts there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

MAX_BODY = 16 * 1024 * 1024
"""Largest message accepted: a 256 kB spec (read.MAX_FILE_BYTES), JSON-escaped, fits many times."""

MAX_LINE = 8 * 1024
"""Longest header line kept; a longer run of bytes without a line end is junk."""

NAME = b"content-length:"
_HEADER_IN_BODY = re.compile(rb"content-length:[ \t]*[0-9]+[ \t]*\r?\n", re.IGNORECASE)
_CHUNK = 65536


class Broken:
    """A frame that held no message: the reason, for the log and the parse-error reply."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Frames:
    """Message bodies read from file descriptor `fd`; `warn` is told about skipped bytes."""

    def __init__(self, fd: int, warn: Callable[[str], None]) -> None:
        self.fd = fd
        self.warn = warn
        self.buf = bytearray()
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = os.read(self.fd, _CHUNK)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _line(self) -> bytes | None:
        """The next line (with its line end), or None at the end of the input."""
        searched = 0
        while True:
            i = self.buf.find(b"\n", searched)
            if i >= 0:
                line = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return line
            if len(self.buf) > MAX_LINE:
                # Junk without line ends: drop it, keeping a tail a header may start in.
                self.warn(f"skipped {len(self.buf) - len(NAME):,} bytes without a line end")
                del self.buf[: -len(NAME)]
            searched = len(self.buf)
            if not self._fill():
                if self.buf.strip():
                    self.warn(f"the input ended inside a header ({len(self.buf)} bytes)")
                return None

    def __iter__(self) -> Iterator[bytes | Broken]:
        """Each body in turn, or a Broken where a frame held no message."""
        length: int | None = None
        junk = 0  # lines since the last message that were no Content-Length header
        while True:
            line = self._line()
            if line is None:
                return
            if not line.strip():  # the blank line that ends the headers
                if length is None:
                    if junk:
                        self.warn(f"skipped {junk} line(s) without a Content-Length header")
                        junk = 0
                    continue
                junk = 0
                body = self._body(length)
                length = None
                if body is None:
                    return
                yield body
                continue
            at = line.lower().rfind(NAME)  # the last one: junk may precede a header
            if at < 0:
                if length is None:
                    junk += 1
                continue  # another header (Content-Type) or junk
            value = line[at + len(NAME) :].strip()
            if value.isdigit() and 0 < int(value) <= MAX_BODY:
                length = int(value)
            else:
                shown = value[:40].decode("ascii", "backslashreplace")
                self.warn(
                    f"bad Content-Length {shown!r} (1 to {MAX_BODY:,} expected); "
                    "skipping to the next header"
                )
                length = None

    def _body(self, n: int) -> bytes | Broken | None:
        """`n` bytes, or a Broken where a header shows up first, or None at the end of input."""
        scanned = 0
        while True:
            end = min(n, len(self.buf))
            m = _HEADER_IN_BODY.search(self.buf, max(0, scanned - 64), end)
            if m is not None:
                del self.buf[: m.start()]
                return Broken(f"a message cut short after {m.start():,} of {n:,} bytes")
            if end == n:
                break
            scanned = end
            if not self._fill():
                self.warn(f"the input ended inside a message ({len(self.buf):,} of {n:,} bytes)")
                return None
        body = bytes(self.buf[:n])
        del self.buf[:n]
        return body

    def push_back(self, data: bytes) -> None:
        """Read `data` again, first (the part of a broken body where a header may start)."""
        self.buf[:0] = data


def header_start(body: bytes) -> int | None:
    """Where a header may start in a body that is no JSON: the first `Content-Length:`, or a
    tail that begins one (the rest arrives after it)."""
    low = body.lower()
    at = low.find(NAME)
    if at >= 0:
        return at
    for k in range(min(len(NAME) - 1, len(low)), 0, -1):
        if low.endswith(NAME[:k]):
            return len(low) - k
    return None
