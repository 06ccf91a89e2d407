"""Progress on stderr for steps that can take seconds (ONNX export, Keras builds, verifying
many files): a rich spinner or bar on a terminal, nothing when piped or with -q, so logs and
goldens never see it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

QUIET = False
"""Set by the CLI's -q."""


def _live() -> bool:
    return not QUIET and sys.stderr.isatty()


@contextlib.contextmanager
def step(description: str) -> Iterator[None]:
    """A spinner with `description` while the block runs."""
    if not _live():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(description):
        yield


def track(items: Iterable[T], description: str, total: int) -> Iterator[T]:
    """Iterate `items` with a progress bar (only for more than one item)."""
    if not _live() or total < 2:
        yield from items
        return
    from rich.progress import track as rich_track

    yield from rich_track(
        items, description=description, total=total, transient=True, console=_console()
    )


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def silence_frameworks() -> None:
    """-q: keep TensorFlow's C++ and absl start-up logs out of the output (set before import)."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
