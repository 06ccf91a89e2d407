"""TensorFlow's native log lines kept out of `compile --backend tflite`'s output.

TF_CPP_MIN_LOG_LEVEL (set before TensorFlow is imported) hides TF's own C++ logging, but not
the lines its libraries print through absl before absl::InitializeLog() when they load
("oneDNN custom operations are on", twice), nor the converter's MLIR passes
("fully_quantize: 0, ..."): those go straight to file descriptor 2. So the import and the
conversion run with descriptor 2 sent to a temporary file, which is written back to stderr if
they fail, so a crash still explains itself. TF_ENABLE_ONEDNN_OPTS=0 would silence the first
line too, but it changes how TensorFlow computes: not done.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Run the block with file descriptor 2 (and Python's stdout, where the converter prints
    the saved model's signature) captured; on an exception, stderr gets what was captured."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = True
        try:
            with (
                open(os.devnull, "w") as null,
                contextlib.redirect_stdout(null),
                warnings.catch_warnings(),
            ):
                # the int8 converter warns that the float input has no statistics: it is
                # float32 by design (docs/deploy.md: a drop-in for the fp32 file)
                warnings.filterwarnings("ignore", "Statistics for quantized inputs")
                yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                sink.seek(0)
                sys.stderr.write(sink.read().decode(errors="replace"))


def tensorflow() -> Any:
    """The tensorflow module, imported without its load-time log lines."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_hidden():
        import tensorflow as tf
    return tf
