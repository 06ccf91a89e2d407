"""Optuna's journal storage (one append-only file, for a shared file system without a
database server) with the dead-worker detection it lacks: Optuna's heartbeat is implemented
for RDBStorage only (JournalStorage is no BaseHeartbeat in Optuna 5.1).

Instead of a clock, a lock: a worker that runs a trial holds an exclusive `flock` on a file of
its own in `<journal>.workers/` for as long as the process lives, and records that file in the
trial (system attribute LOCK_ATTR, with the trial's number). The kernel (or, on NFS, the
server's lock manager) releases the lock when the process dies, SIGKILL and out-of-memory
included; so when another worker, starting a trial, can take the lock of a RUNNING trial,
that trial's worker is dead, exactly: no grace period, no clock shared between machines. The
trial is then failed and retried as with the database heartbeat (storage.py); the journal's
total order lets only the first of two workers that fail it at once retry it.

As with RDBStorage's heartbeat, a trial whose worker died before recording its lock (between
Optuna creating the trial and the trial's first heartbeat call, while the sampler runs) is not
detected and stays RUNNING.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

from ..output import new_lock_file

LOCK_ATTR = "inceptdsl:worker_lock"
"""The trial's system attribute: `{"trial": number, "lock": file name in the lock folder}`."""


def journal_storage(path: str, interval: int, callback: Callable[..., None] | None) -> Any:
    """A JournalStorage on the file `path` whose stale trials are those of dead workers;
    `interval`: seconds between the (cheap) heartbeat calls Optuna makes."""
    from optuna.storages import JournalStorage
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    folder = path + ".workers"
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise FileNotFoundError(2, "no such directory", os.path.dirname(path))
    _check_journal(path)
    os.makedirs(folder, exist_ok=True)  # its parent exists: only the lock folder is made

    class LockedJournalStorage(JournalStorage, BaseHeartbeat):
        """JournalStorage + BaseHeartbeat: a running trial is stale when its worker's lock is
        free."""

        def __init__(self) -> None:
            super().__init__(JournalFileBackend(path))
            self._recorded: set[int] = set()
            self._mine: str | None = None
            self._pid = os.getpid()

        def record_heartbeat(self, trial_id: int) -> None:
            if trial_id in self._recorded:
                return
            name = self._own_lock()
            number = self.get_trial(trial_id).number
            self.set_trial_system_attr(trial_id, LOCK_ATTR, {"trial": number, "lock": name})
            self._recorded.add(trial_id)

        def _own_lock(self) -> str:
            if self._mine is None or self._pid != os.getpid():
                name = f"{uuid.uuid4().hex}.lock"
                lock = os.path.join(folder, name)
                fd = new_lock_file(lock)
                fcntl.flock(fd, fcntl.LOCK_EX)  # held (fd never closed) until the process ends
                # at a normal exit every trial of this worker has finished: no lock needed
                atexit.register(_remove, lock)
                self._mine, self._pid = name, os.getpid()
            return self._mine

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            stale = []
            for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
                rec = t.system_attrs.get(LOCK_ATTR)
                # a retried trial inherits its failed trial's attributes: not its lock
                if not isinstance(rec, dict) or rec.get("trial") != t.number:
                    continue
                if rec.get("lock") != self._mine and _dead(folder, str(rec.get("lock"))):
                    stale.append(t._trial_id)
            return stale

        def get_heartbeat_interval(self) -> int | None:
            return interval

        def get_heartbeat_stale_trial_callback(self) -> Callable[..., None] | None:
            return callback

    return LockedJournalStorage()


def _check_journal(path: str) -> None:
    """ValueError unless `path` is missing, empty or starts with an Optuna journal record
    (Optuna reads a bad file without complaint, then fails at the first write)."""
    try:
        with open(path, "rb") as f:
            first = f.readline(1 << 16)
    except FileNotFoundError:
        return
    if not first:
        return
    try:
        rec = json.loads(first)
    except ValueError:
        rec = None
    if not isinstance(rec, dict) or "op_code" not in rec:
        raise ValueError("the file is not an Optuna journal")


def _dead(folder: str, name: str) -> bool:
    """Whether the worker that holds the lock file `name` is dead: its lock can be taken (then
    the file is removed), or the file is gone (removed that way before)."""
    if os.path.basename(name) != name or not name.endswith(".lock"):
        return False  # not a lock file of ours: leave the trial alone
    path = os.path.join(folder, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # flock needs no write access
    except FileNotFoundError:
        return True
    except OSError:  # a symlink (ELOOP) or unreadable: not a lock of ours
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        _remove(path)
        return True
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
