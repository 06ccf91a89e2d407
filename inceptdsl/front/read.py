"""Reading spec files: regular files only, size-limited, UTF-8 text, never blocking.

A spec path may name anything: a FIFO (opening it for reading would wait for a writer forever),
a character device (/dev/zero never ends), a directory, a file that grows while it is read.
Files are opened non-blocking, checked with fstat on the open descriptor (so what is checked is
what is read), and read up to the size limit plus one byte. An import is read from its resolved
real path with `inside=` its root: the final component is not followed (O_NOFOLLOW) and, where
/proc shows it, the path of the opened descriptor must still lie in the root, so swapping a
directory for a symlink between the check and the read does not lead outside.
"""

from __future__ import annotations

import errno
import os
import stat

from ..errors import (
    BinaryFileError,
    FileNotFoundSpecError,
    FileTooLargeError,
    IsADirectorySpecError,
    SpecIOError,
)
from .source import display_path

MAX_FILE_BYTES = 256 * 1024
"""Largest spec file accepted (the biggest bundled spec is 13 kB)."""

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_bytes(
    path: str, shown: str | None = None, inside: str | None = None, limit: int = MAX_FILE_BYTES
) -> bytes:
    """The bytes of the regular file at `path`, or a coded error (missing, directory, not a
    regular file, more than `limit` bytes, unreadable, moved outside `inside`). `shown` names
    it in errors."""
    shown = shown if shown is not None else display_path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if inside is not None:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundSpecError(f"no such file: {shown}", path=shown) from None
    except IsADirectoryError:
        raise IsADirectorySpecError(
            f"{shown} is a directory, not a spec file", path=shown
        ) from None
    except OSError as exc:
        raise _io_error(shown, exc) from None
    try:
        if inside is not None and not _opened_inside(fd, inside):
            raise SpecIOError(f"cannot read {shown}: it moved while being opened", path=shown)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectorySpecError(f"{shown} is a directory, not a spec file", path=shown)
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise SpecIOError(f"{shown} is {kind}, not a regular file", path=shown)
        if st.st_size > limit:
            raise _too_large(shown, st.st_size, limit)
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:  # it grew while being read
            raise _too_large(shown, len(data), limit)
        return data
    except OSError as exc:
        raise _io_error(shown, exc) from None
    finally:
        os.close(fd)


def read_text(path: str, shown: str | None = None, inside: str | None = None) -> str:
    """Read a spec file as text, or raise a coded error (see read_bytes and decode)."""
    shown = shown if shown is not None else display_path(path)
    return decode(read_bytes(path, shown, inside), shown)


def _opened_inside(fd: int, root: str) -> bool:
    """Whether the file open as `fd` lies below `root` (true where /proc cannot tell)."""
    try:
        actual = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return True
    return actual == root or actual.startswith(root.rstrip(os.sep) + os.sep)


def decode(data: bytes, shown: str) -> str:
    if b"\x00" in data:
        raise BinaryFileError(f"{shown} is a binary file, not spec text", path=shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BinaryFileError(
            f"{shown} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})",
            path=shown,
        ) from None
    return text.removeprefix("\ufeff")


def _too_large(shown: str, size: int, limit: int) -> FileTooLargeError:
    return FileTooLargeError(f"{shown} is {size:,} bytes; the limit is {limit:,}", path=shown)


def _io_error(shown: str, exc: OSError) -> SpecIOError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    if exc.errno == errno.ELOOP:
        reason = "too many levels of symbolic links"
    return SpecIOError(f"cannot read {shown}: {reason}", path=shown)
