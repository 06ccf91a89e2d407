"""inceptdsl: a spec language and compiler for Inception-style convolutional networks.

    import inceptdsl
    net = inceptdsl.load("specs/inception_v3.incept", num_classes=10)
    net.report().params

The core imports no deep-learning framework; backends are loaded on first use.
"""

from .errors import SpecError
from .network import Network, load, loads

__version__ = "0.1.0"

__all__ = ["Network", "SpecError", "__version__", "load", "loads"]
