"""Building the model to import: MODULE_PATH (`torchvision.models.googlenet`, `file.py:build`)
resolved and called, recording each module's constructor arguments on the way.

Executing the user's code is the point of `inceptdsl import torch` (the spec it writes stays
data). The constructor arguments are read from each module's `__init__` frame when it calls
`nn.Module.__init__`: they only name the parameters of recovered blocks (torchvision's
`Inception(ch1x1, ch3x3red, ...)`), so a module that changes them first merely gets other names.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from torch import nn

from inceptdsl.errors import UsageError

Init = tuple[dict[str, Any], dict[str, Any]]  # (arguments, signature defaults)
_SCALARS = (bool, int, float)


def resolve(target: str) -> Callable[..., Any]:
    """The callable named by `target`: a dotted path, or `path/to/file.py:function`."""
    if ":" in target:
        file, _, attr = target.rpartition(":")
        if not file.endswith(".py") or not os.path.isfile(file):
            raise UsageError(f"{file!r} is not a Python file", hint="write FILE.py:FUNCTION")
        name = "_inceptdsl_import_" + os.path.splitext(os.path.basename(file))[0]
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise UsageError(f"cannot load {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - the user's file failed: say so, briefly
            raise _import_failed(file, exc) from None
        obj = getattr(module, attr, None)
        if obj is None:
            raise UsageError(f"{file} defines no {attr!r}")
    else:
        parts = target.split(".")
        obj = None
        # An attribute of a package wins over its submodule of the same name
        # (torchvision.models.googlenet is the function, not the module googlenet.py).
        for i in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                obj = None
                continue
            except Exception as exc:  # noqa: BLE001 - found, but its module code failed
                raise _import_failed(".".join(parts[:i]), exc) from None
            for attr in parts[i:]:
                obj = getattr(obj, attr, None)
                if obj is None:
                    break
            if obj is not None:
                break
        if obj is None:
            try:
                obj = importlib.import_module(target)
            except ImportError as exc:
                raise UsageError(f"cannot import {target!r}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - found, but its module code failed
                raise _import_failed(target, exc) from None
    if not callable(obj):
        raise UsageError(
            f"{target} is not callable (a module?)",
            hint="name the function or class that builds the model, e.g. "
            "timm.models.inception_v4.inception_v4",
        )
    return obj


def _import_failed(name: str, exc: Exception) -> UsageError:
    """The user's module raised while it was imported (its error, in one line)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return UsageError(f"{name} failed to import: {type(exc).__name__}: {text}"[:2000])


def _is_config(v: Any) -> bool:
    """A plain record of settings passed to a constructor: not a module, class or callable."""
    return (
        hasattr(v, "__dict__")
        and not isinstance(v, (type, nn.Module))
        and not callable(v)
        and len(vars(v)) <= 64
    )


def construct(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[nn.Module, dict[int, Init]]:
    """Call `fn(**kwargs)`; the nn.Module it returns and each module's recorded arguments."""
    inits: dict[int, Init] = {}
    original = nn.Module.__init__

    def recording_init(self: nn.Module, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw)
        frame: FrameType | None = sys._getframe(1)
        outer = None
        while frame is not None and frame.f_code.co_name == "__init__":
            if frame.f_locals.get("self") is not self:
                break
            outer = frame
            frame = frame.f_back
        if outer is None or id(self) in inits:
            return
        try:
            sig = inspect.signature(type(self).__init__)
        except (TypeError, ValueError):
            return
        values: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        for name, p in sig.parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            v = outer.f_locals.get(name)
            if isinstance(v, _SCALARS):
                values[name] = v
            elif _is_config(v):  # a config record (EfficientNet's MBConvConfig): its fields
                for attr, x in vars(v).items():
                    if isinstance(x, _SCALARS) and not attr.startswith("_"):
                        values.setdefault(attr, x)
            if p.default is not p.empty and isinstance(p.default, _SCALARS):
                defaults[name] = p.default
        inits[id(self)] = (values, defaults)

    nn.Module.__init__ = recording_init  # type: ignore[method-assign]
    try:
        model = fn(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's constructor failed
        raise UsageError(f"building the model failed: {type(exc).__name__}: {exc}") from None
    finally:
        nn.Module.__init__ = original  # type: ignore[method-assign]
    if not isinstance(model, nn.Module):
        raise UsageError(f"the callable returned {type(model).__name__}, not a torch.nn.Module")
    return model, inits
