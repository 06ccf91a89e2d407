"""Frameworks for test modules, imported on first use rather than when pytest collects.

`from support.lazy import torch, nn` gives stand-ins that import the real module the first time
an attribute is read (`torch.randn`, `nn.Module`), so collecting the whole suite imports no
torch, TensorFlow, Keras or ONNX (tests/test_collection.py checks it). Use them in function
bodies and annotations (`from __future__ import annotations`); a module-level use, such as a
class deriving from `nn.Module`, imports the framework at collection and belongs in a function
or in a tests/support/ module imported inside the test.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

FRAMEWORK_ROOTS = ("torch", "torchvision", "timm", "tensorflow", "keras", "onnx", "onnxruntime")

_PRIVATE = ("__file__", "__version__", "_dynamo")
"""The private attributes the tests read; any other (`__wrapped__`, `_mock_name`, `_pytest...`)
is one pytest probes on every module-level object while collecting: it is answered without
importing the framework."""


class Lazy:
    """A module, imported when first used. (No instance `__dict__`: monkeypatch.setattr then
    records and restores the real module's attribute.)"""

    __slots__ = ("_lazy_name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_lazy_name", name)

    def _module(self) -> ModuleType:
        return importlib.import_module(object.__getattribute__(self, "_lazy_name"))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") and attr not in _PRIVATE or attr == "pytestmark":
            raise AttributeError(attr)
        return getattr(self._module(), attr)

    def __setattr__(self, attr: str, value: Any) -> None:  # monkeypatch.setattr(torch, ...)
        setattr(self._module(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self._module(), attr)

    def __repr__(self) -> str:
        return f"<lazy {object.__getattribute__(self, '_lazy_name')}>"


torch: Any = Lazy("torch")
nn: Any = Lazy("torch.nn")
F: Any = Lazy("torch.nn.functional")
torchvision: Any = Lazy("torchvision")
timm: Any = Lazy("timm")
keras: Any = Lazy("keras")
layers: Any = Lazy("keras.layers")
tf: Any = Lazy("tensorflow")
onnx: Any = Lazy("onnx")
ort: Any = Lazy("onnxruntime")


def lazy(name: str) -> Any:
    """Any module (a backend module that imports its framework), imported when first used."""
    return Lazy(name)
