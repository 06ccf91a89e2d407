"""Opening an Optuna storage from a URL, with a heartbeat so that a worker killed mid-trial
does not leave its trial RUNNING forever.

Any SQLAlchemy URL Optuna's RDBStorage takes: `sqlite:///search.db` (one machine, or a
shared disk with working locks), `postgresql://user:pass@host/db`, `mysql+pymysql://...`.
Each running trial records a heartbeat every HEARTBEAT seconds; a trial silent for GRACE
seconds is marked FAIL by the next worker that starts a trial (Optuna's `fail_stale_trials`,
run by `study.optimize`), and RetryHeartbeatStaleTrialCallback queues it again (same
parameters, once), so the study still reaches its number of trials.

`journal:///search.log` (relative, as sqlite's three slashes; `journal:////abs/search.log`):
Optuna's journal file storage, for a shared file system without a database server; a dead
worker is found by a lock instead of a heartbeat's clock (journal.py).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

from ..errors import StudyStorageError
from ..front.source import printable

HEARTBEAT = 5
"""Seconds between a running trial's heartbeats."""
GRACE = 30
"""Seconds without a heartbeat after which a running trial is taken as dead."""
RETRIES = 1
"""How often a dead worker's trial is queued again."""
RACE_TRIES = 8
JOURNAL = "journal:///"
_RACES = ("UNIQUE constraint", "already exists", "database is locked", "Duplicate entry")


def open_storage(url: str, heartbeat: int = HEARTBEAT, grace: int = GRACE) -> Any:
    """An RDBStorage for `url` with heartbeats, or StudyStorageError (E703) naming the URL
    (its password hidden) and why it could not be opened."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    shown = printable(shown_url(url), 300)
    if url.startswith(JOURNAL):
        return _journal(url, shown, heartbeat)
    if "://" not in url:
        raise StudyStorageError(
            f"--storage {shown}: not a database URL",
            hint="e.g. --storage sqlite:///search.db, journal:///search.log or "
            "postgresql://user@host/db",
        )
    try:
        for attempt in range(RACE_TRIES):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return RDBStorage(
                        url,
                        heartbeat_interval=heartbeat,
                        grace_period=grace,
                        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                            max_retry=RETRIES
                        ),
                    )
            except Exception as err:
                # workers started together race to create the tables (the loser sees a
                # duplicate alembic version or a locked file): the tables exist, try again
                if attempt + 1 == RACE_TRIES or not any(m in _reason(err) for m in _RACES):
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover
    except ImportError:
        raise StudyStorageError(
            f"--storage {shown}: the database driver for this URL is not installed",
            hint="install it (PostgreSQL: pip install psycopg2-binary; MySQL: pymysql)",
        ) from None
    except Exception as err:  # SQLAlchemy's errors: connection refused, no such file, ...
        raise StudyStorageError(
            f"--storage {shown}: cannot open the storage: {_reason(err)}",
            hint="check the URL, that the server answers, and (sqlite) that the directory "
            "exists and is writable",
        ) from None


def _journal(url: str, shown: str, heartbeat: int) -> Any:
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    try:
        from .journal import journal_storage
    except ImportError:  # pragma: no cover - Windows: no fcntl
        raise StudyStorageError(
            f"--storage {shown}: the journal storage needs POSIX file locks (fcntl), which "
            "this system does not have",
            hint="use a database: --storage sqlite:///search.db",
        ) from None

    path = url[len(JOURNAL) :]
    if not path or path.endswith("/"):
        raise StudyStorageError(
            f"--storage {shown}: no file named after {JOURNAL}",
            hint="e.g. --storage journal:///search.log (relative) or journal:////abs/search.log",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's experimental callback
            callback = RetryHeartbeatStaleTrialCallback(max_retry=RETRIES)
        return journal_storage(path, heartbeat, callback)
    except (OSError, ValueError) as err:  # no such directory, not writable, not a journal
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise StudyStorageError(
            f"--storage {shown}: cannot open the journal: {printable(reason[:300])}",
            hint="check that the directory exists and is writable, and that the file is "
            "an Optuna journal",
        ) from None


def shown_url(url: str) -> str:
    """`url` with its password replaced by ***."""
    head, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    cred, _, host = rest.partition("@")
    user, colon, _ = cred.partition(":")
    return f"{head}://{user}{':***' if colon else ''}@{host}"


def _reason(err: Exception) -> str:
    """The driver's one-line reason, without SQLAlchemy's background link."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip().splitlines()
    return printable((text[0] if text else type(err).__name__)[:300])
