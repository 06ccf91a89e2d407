"""Running the user's model code under a bound: a time limit, and no way out but an error.

`import torch` executes a module, a constructor and a forward: that is its point, so none of
it is sandboxed, but it must end. Inside `bounded(seconds, what)` a SIGALRM raises
`_OutOfTime` (a BaseException, so the user's `except Exception` cannot swallow it) when the
time is up, and for the CLI a watchdog thread ends the process (exit 2, with the same
message) a few seconds later if the main thread is stuck where Python cannot interrupt it (a
C loop, an `except BaseException: pass`). A `sys.exit()` in the user's code becomes an error
too, rather than ending `inceptdsl` with that status and no output.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ..errors import UsageError

DEFAULT_TIMEOUT = 300.0
"""Seconds `import torch` may run the model's code (torchvision's inception_v3 takes ~20 s)."""

GRACE = 5.0
"""Seconds after the limit before the watchdog ends a process the alarm could not stop."""


class _OutOfTime(BaseException):
    """Raised by the alarm in the main thread; a BaseException so that user code passes it on."""


def _timeout_error(seconds: float, what: str) -> UsageError:
    return UsageError(
        f"{what} did not finish within {seconds:g} s",
        hint="if it is merely slow, give it more time with --timeout SECONDS",
    )


@contextmanager
def bounded(seconds: float | None, what: str, hard: bool = False) -> Iterator[None]:
    """Run the body within `seconds` (None: no limit) and turn a `sys.exit()` into an error.
    The alarm needs the main thread; elsewhere only the sys.exit guard applies. `hard` (the
    CLI) adds the watchdog that ends the process: never in a host such as a notebook."""
    armed = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    old = None
    watchdog = None
    if armed:
        assert seconds is not None

        def on_alarm(signum: int, frame: FrameType | None) -> None:
            raise _OutOfTime

        def hard_stop() -> None:
            sys.stderr.write(_timeout_error(seconds, what).render() + "\n")
            sys.stderr.flush()
            os._exit(2)

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        if hard:
            watchdog = threading.Timer(seconds + GRACE, hard_stop)
            watchdog.daemon = True
            watchdog.start()
    try:
        yield
    except _OutOfTime:
        assert seconds is not None
        raise _timeout_error(seconds, what) from None
    except SystemExit as exc:
        raise UsageError(
            f"{what} called sys.exit({exc.code!r})",
            hint="a module to import must not exit: guard its script part with "
            "`if __name__ == '__main__':`",
        ) from None
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            if watchdog is not None:
                watchdog.cancel()
