"""torch's "No CUDA runtime is found" warning kept out of `compile --backend openvino --int8`.

NNCF imports its torch extensions while it quantizes even an OpenVINO model, and importing
torch.utils.cpp_extension logs that warning (torch's logging, on stderr) wherever a CUDA
toolkit is found but no GPU is usable: it says nothing about the model being compiled. Only
that message of that logger is dropped, and only while NNCF runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

LOGGER = "torch.utils.cpp_extension"
MESSAGE = "No CUDA runtime is found"


class _NoCudaRuntime(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(MESSAGE)


@contextlib.contextmanager
def no_cuda_warning() -> Iterator[None]:
    """Run the block with torch's "No CUDA runtime is found" log line filtered out."""
    logger = logging.getLogger(LOGGER)
    only = _NoCudaRuntime()
    logger.addFilter(only)
    try:
        yield
    finally:
        logger.removeFilter(only)
