"""Writing output files: the one place that writes a file the user named (compile -o, fmt, tools).

What `write_output(path, data)` does with what is at `path`:

- nothing there: the file is created atomically (below), with mode 0666 less the umask;
- a regular file: replaced atomically, keeping its mode (and owner, where allowed), unless it is
  one of the inputs (the spec being compiled or a file it imports: `-o a.incept` would destroy
  the spec; see `command` below) or read-only (no write permission bit, or not writable by the
  user: it stays unchanged, for root too);
- a character device or a FIFO (`/dev/null`, `/dev/stdout` on a terminal or pipe, a named
  pipe), also through a symlink: written to, never replaced. A device cannot be "replaced"
  without destroying it (as root, replacing /dev/null breaks the system); writing is what the
  user asks for. A FIFO with no reader is refused instead of waiting forever;
- a symlink to anything else, a directory, a block device, a socket: refused. Following a link
  to a regular file would let whoever made the link choose which file is overwritten (the
  classic attack on shared directories); `-o -` writes to stdout.

Atomically means: the data goes to a temporary file in the target's directory with a name
nobody can predict or pre-create (O_TMPFILE, which has no name until it is complete, or else
mkstemp's O_EXCL random name), is fsynced, and is renamed over the target; the directory is
fsynced too. A failure (a full disk, a signal: SIGINT, SIGTERM, SIGHUP) removes the temporary
file and leaves the target as it was. SIGKILL cannot be caught: with O_TMPFILE it leaves
nothing behind (an unnamed file is freed by the kernel), with the fallback at most a
`.NAME.XXXXXXXX.tmp` file. A signal the process inherited as ignored (SIGHUP under `nohup`)
stays ignored: the write completes.

One command (`with command():`, entered by the CLI around every command) knows its inputs and
its outputs: every file it read (`add_inputs`: the spec and its imports, weights files) and
every Python file it executed (the modules loaded in the process, `import torch`'s module
among them) is refused as a target, by identity (device and inode: a hard link, a symlinked
directory or another spelling of the path is the same file); and no two outputs of one command
may be the same file (`claim` reserves the outputs of a command that writes several before the
first is written, so that nothing is written at all when two of them collide). An existing
`.incept` file, or any other existing file that inceptdsl did not write (a user's own
`model.py`, trained `weights.pt` or `data.csv`: output_origin.py says how inceptdsl's own
outputs are recognised), is replaced only when the command was given `--force`.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import secrets
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .errors import UsageError
from .front.source import display_path

STDOUT = "-"


class _Interrupted(BaseException):
    """Raised by the signal handlers installed while a file is written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


Key = tuple[str, str] | tuple[str, int, int]
"""What identifies a file: ("path", its real path) or ("inode", device, inode)."""


@dataclass
class _Command:
    """The files one command read (by identity, with the path to show) and those it wrote or
    reserved (each a set of keys)."""

    inputs: dict[tuple[int, int], str] = field(default_factory=dict)
    force: bool = False
    claimed: list[tuple[str, frozenset[Key]]] = field(default_factory=list)
    written: list[tuple[str, frozenset[Key]]] = field(default_factory=list)


_COMMAND: contextvars.ContextVar[_Command | None] = contextvars.ContextVar(
    "inceptdsl_output_command", default=None
)


@contextlib.contextmanager
def command(inputs: Iterable[str] = (), force: bool = False) -> Iterator[None]:
    """The scope of one command: inside it, write_output refuses the command's inputs (these,
    those added by `add_inputs`, the Python files loaded), a second write to one file, and an
    existing spec file (`.incept`) unless `force` (`--force`)."""
    token = _COMMAND.set(_Command(force=force))
    try:
        add_inputs(inputs)
        yield
    finally:
        _COMMAND.reset(token)


def add_inputs(paths: Iterable[str]) -> None:
    """Record files the running command read (a missing one is skipped: it cannot be
    overwritten); outside `command()` this does nothing."""
    cmd = _COMMAND.get()
    if cmd is None:
        return
    for p in paths:
        ident = _identity(p)
        if ident is not None:
            cmd.inputs.setdefault(ident, p)


def claim(paths: Iterable[str], hint: str | None = None) -> None:
    """Reserve the outputs of a command that writes several files, before it writes any: a
    target that is refused (an input, a link, a directory) or that is the same file as another
    output raises UsageError now, with nothing written. Outside `command()`: checked only."""
    cmd = _COMMAND.get()
    for path in paths:
        if path == STDOUT:
            continue
        _check_target(path)
        keys = _keys(path)
        if cmd is not None:
            _check_unique(path, keys, [*cmd.claimed, *cmd.written], hint)
            cmd.claimed.append((path, keys))


def is_regular_target(path: str) -> bool:
    """Whether `path` names a regular file or nothing yet (not `-`, a device or a FIFO): where
    a command may put a second file beside it (OUT.pt, OUT.data)."""
    if path == STDOUT:
        return False
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode)


def _keys(path: str) -> frozenset[Key]:
    keys: set[Key] = {("path", os.path.realpath(path))}
    ident = _identity(path)
    if ident is not None:
        keys.add(("inode", *ident))
    return frozenset(keys)


def _check_unique(
    path: str,
    keys: frozenset[Key],
    earlier: list[tuple[str, frozenset[Key]]],
    hint: str | None = None,
) -> None:
    """Refuse `path` when it is the same file as an earlier output of the command."""
    for other, other_keys in earlier:
        if keys & other_keys:
            shown = display_path(path)
            if display_path(other) != shown:
                shown = f"{display_path(other)} and {shown}"
            raise UsageError(
                f"two outputs of this command would be the same file ({shown})",
                hint=hint or "write the outputs to different files",
            )


def _record_write(path: str) -> None:
    """Before writing `path` in a command: refuse it if the command wrote it already; a
    reservation of it (`claim`) is used up."""
    cmd = _COMMAND.get()
    if cmd is None or path == STDOUT:
        return
    keys = _keys(path)
    _check_unique(path, keys, cmd.written)
    cmd.claimed = [(p, k) for p, k in cmd.claimed if not keys & k]
    cmd.written.append((path, keys))


def _after_write(path: str) -> None:
    """A new file's identity is known once written: add it to the command's record."""
    cmd = _COMMAND.get()
    if cmd is None or not cmd.written:
        return
    p, keys = cmd.written[-1]
    cmd.written[-1] = (p, keys | _keys(path))


def _command_inputs() -> dict[tuple[int, int], str]:
    """The running command's inputs: the files it read and every Python file it loaded."""
    cmd = _COMMAND.get()
    if cmd is None:
        return {}
    out = dict(cmd.inputs)
    for module in list(sys.modules.values()):
        f = getattr(module, "__file__", None)
        if isinstance(f, str):
            ident = _identity(f)
            if ident is not None:
                out.setdefault(ident, f)
    return out


def write_output(
    path: str, data: str | bytes, *, inputs: Iterable[str] = (), may_replace: str | None = None
) -> None:
    """Write `data` to `path` (`-`: stdout) as the module docstring says. `inputs` are files the
    output must not replace (besides the running command's, see `command`); `may_replace` is
    the one input that may be (fmt rewrites its file). Raises UsageError (exit 2) for a target
    that is refused or cannot be written."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path == STDOUT:
        _write_stdout(raw)
        return
    st = _check_target(path, inputs, may_replace)
    _record_write(path)
    if st is None:
        _replace(path, raw, None)
    elif stat.S_ISREG(st.st_mode):
        _replace(path, raw, st)
    else:
        _write_stream(path, raw)
    _after_write(path)


def _check_target(
    path: str, inputs: Iterable[str] = (), may_replace: str | None = None
) -> os.stat_result | None:
    """What is at `path` (None: nothing), after refusing what may not be written there: a
    link to anything but a device or FIFO, a directory, a block device, a socket, an input, a
    read-only file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot(path, exc) from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        try:
            target = os.stat(path)
        except OSError:
            target = None
        if target is None or not (stat.S_ISCHR(target.st_mode) or stat.S_ISFIFO(target.st_mode)):
            raise UsageError(
                f"{path} is a symbolic link; inceptdsl does not replace links or write "
                "through them to files",
                hint="give the path of the file itself, or `-o -` to write to stdout",
            )
        st = target
    if st is None or stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return st
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a directory")
    elif not stat.S_ISREG(st.st_mode):
        kind = "a block device" if stat.S_ISBLK(st.st_mode) else "not a regular file"
        raise UsageError(f"{path} is {kind}; inceptdsl writes regular files only")
    else:
        _check_not_input(path, st, inputs, may_replace)
        _check_not_a_spec(path, may_replace)
        if not st.st_mode & 0o222 or not os.access(path, os.W_OK):  # root too: no w bit
            raise UsageError(
                f"{path} is read-only; it was left unchanged",
                hint="make it writable (chmod u+w) or write elsewhere",
            )
        _check_ours(path, may_replace)
    return st


def _check_not_input(
    path: str, st: os.stat_result, inputs: Iterable[str], may_replace: str | None
) -> None:
    allowed = _identity(may_replace) if may_replace is not None else None
    known = {**_command_inputs(), **{i: p for p in inputs if (i := _identity(p)) is not None}}
    for ident, p in known.items():
        if ident == (st.st_dev, st.st_ino) and ident != allowed:
            raise UsageError(
                f"{path} is an input of this command ({display_path(p)}); refusing to overwrite it",
                hint="write the output to another file",
            )


SPEC_SUFFIX = ".incept"


def _check_not_a_spec(path: str, may_replace: str | None) -> None:
    """In a command, an existing spec file is someone's work, not a build product: replaced
    only with --force (`compile -o other.incept` would destroy it without asking)."""
    cmd = _COMMAND.get()
    if cmd is None or cmd.force or may_replace is not None:
        return
    if path.lower().endswith(SPEC_SUFFIX):
        raise UsageError(
            f"{path} is a spec file ({SPEC_SUFFIX}); inceptdsl does not replace one unless asked",
            hint="give --force to replace it, or write the output to another file",
        )


def _check_ours(path: str, may_replace: str | None) -> None:
    """In a command, an existing file that inceptdsl did not write is someone's work: replaced
    only with --force."""
    from .output_origin import produced_by_inceptdsl

    cmd = _COMMAND.get()
    if cmd is None or cmd.force or may_replace is not None:
        return
    if any(_keys(path) & keys for _, keys in cmd.written):
        return  # this command wrote it: refused as "two outputs" (_check_unique) instead
    if not produced_by_inceptdsl(path):
        raise UsageError(
            f"{path} exists and was not written by inceptdsl; it is not replaced unless asked",
            hint="give --force to replace it, or write the output to another file",
        )


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _cannot(path: str, exc: OSError) -> UsageError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return UsageError(f"cannot write {path}: {reason}")


def _write_all(fd: int, raw: bytes) -> None:
    view = memoryview(raw)
    while view:
        view = view[os.write(fd, view) :]


def _write_stdout(raw: bytes) -> None:
    out = sys.stdout
    out.flush()
    try:
        _write_all(out.fileno(), raw)
    except (AttributeError, OSError, ValueError):  # no real descriptor (captured in tests)
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(raw)
        else:
            out.write(raw.decode("utf-8"))
        out.flush()


def _write_stream(path: str, raw: bytes) -> None:
    """Write into a character device or FIFO: opened without O_CREAT or O_TRUNC; a FIFO is
    opened non-blocking, so one that nobody reads is an error, not a hang."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UsageError(f"cannot write {path}: it is a FIFO that no process reads") from None
        raise _cannot(path, exc) from None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            raise UsageError(f"cannot write {path}: it changed while being opened")
        os.set_blocking(fd, True)
        _write_all(fd, raw)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        os.close(fd)


def _replace(path: str, raw: bytes, old: os.stat_result | None) -> None:
    directory = os.path.dirname(path) or "."
    name = os.path.basename(path)
    mode = stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask()
    try:  # every step below is relative to this descriptor, not to the directory's path
        dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise UsageError(f"cannot write {path}: directory {directory} does not exist") from None
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        with cleanup_on_signals():
            tmp: str | None = None
            try:
                tmp = _temporary(dfd, directory, name, raw, mode, old)
                os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                tmp = None
                with contextlib.suppress(OSError):
                    os.fsync(dfd)
            except OSError as exc:
                raise _cannot(path, exc) from None
            finally:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp, dir_fd=dfd)
    finally:
        os.close(dfd)


def _fill(fd: int, raw: bytes, mode: int, old: os.stat_result | None) -> None:
    _write_all(fd, raw)
    os.fchmod(fd, mode)
    if old is not None:
        _keep_owner(fd, old)
    os.fsync(fd)


_FULL = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG") if hasattr(errno, n))


def _temporary(
    dfd: int, directory: str, name: str, raw: bytes, mode: int, old: os.stat_result | None
) -> str:
    """Write the data to a new file in the directory and return its (random) name: an unnamed
    O_TMPFILE file linked in once complete, else mkstemp's O_EXCL file."""
    o_tmpfile = getattr(os, "O_TMPFILE", 0)
    if o_tmpfile:
        try:
            fd = os.open(".", o_tmpfile | os.O_WRONLY | os.O_CLOEXEC, 0o600, dir_fd=dfd)
        except OSError as exc:
            if exc.errno in _FULL:
                raise
            fd = -1  # not supported here (file system, kernel): use a named file
        if fd >= 0:
            try:
                _fill(fd, raw, mode, old)
                return _link_unnamed(fd, dfd, name)
            except OSError as exc:
                if exc.errno in _FULL:
                    raise
            finally:
                os.close(fd)
    fd, tmp_path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        _fill(fd, raw, mode, old)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
    finally:
        os.close(fd)
    return os.path.basename(tmp_path)


def _link_unnamed(fd: int, dfd: int, name: str) -> str:
    """Give the complete unnamed file a random name (linkat through /proc, following the
    descriptor's link; a dir_fd makes CPython call linkat rather than link)."""
    for _ in range(100):
        tmp = f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            os.link(
                f"/proc/self/fd/{fd}", tmp, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=True
            )
            return tmp
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "could not name the temporary file")


def _keep_owner(fd: int, old: os.stat_result) -> None:
    """Give the new file the old one's owner and group where the OS allows it (as root, or
    a group the user is in); otherwise the new file is the user's."""
    if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):
            os.fchown(fd, old.st_uid, old.st_gid)
        with contextlib.suppress(OSError):
            os.fchown(fd, -1, old.st_gid)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n))


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM, SIGHUP and SIGINT raise inside it, so its `finally`
    clauses run (the writer removes its temporary file, `view` its exported model); the signal
    is then delivered as it would have been. A signal inherited as ignored (SIG_IGN: SIGHUP
    under `nohup`) is left alone, so it stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Interrupted(signum)

    previous = {
        s: signal.signal(s, handler) for s in _SIGNALS if signal.getsignal(s) != signal.SIG_IGN
    }
    try:
        yield
    except _Interrupted as exc:
        for s, h in previous.items():
            signal.signal(s, h)
        previous = {}
        signal.raise_signal(exc.signum)  # the original disposition: exit, or KeyboardInterrupt
        raise KeyboardInterrupt from None  # a handler that returned: stop anyway
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def new_lock_file(path: str) -> int:
    """Create the empty file `path` for a lock (it must not exist: nothing is replaced, a
    symlink is not followed) and return a descriptor open for reading, to `flock`. Not an
    output: the search's journal workers hold one each (inceptdsl/search/journal.py)."""
    return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
