"""runtime.py's helpers as source text (common/helpers.py): emitting never imports TensorFlow."""

from pathlib import Path

from ..common.helpers import HelperSource

RUNTIME = HelperSource(Path(__file__).with_name("runtime.py"))
