"""Reading a trained state_dict from a file, for every backend that takes `--weights`.

A .npz is read with `allow_pickle=False`, a .safetensors file with safetensors' NumPy loader,
anything else as a torch.save file with `torch.load(weights_only=True)`: tensors and
containers only, nothing is unpickled. A checkpoint that nests the state under "state_dict"
is unwrapped. Errors are UsageErrors that name the file and say how to save one that loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from inceptdsl.errors import UsageError

_SAVE_HINT = "save it with torch.save(model.state_dict(), PATH)"


def read_state(path: str) -> Mapping[str, Any]:
    """The state_dict in `path` (NumPy arrays, or torch tensors from a torch file)."""
    if not os.path.isfile(path):
        raise UsageError(f"weights file {path} does not exist or is not a file")
    if path.endswith(".npz"):
        state: Any = _npz(path)
    elif path.endswith(".safetensors"):
        state = _safetensors(path)
    else:
        state = _torch_file(path)
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(k, str) for k in state):
        raise UsageError(
            f"{path} holds a {type(state).__name__}, not a state_dict (a dict of tensors)",
            hint=_SAVE_HINT,
        )
    return state


def _npz(path: str) -> dict[str, Any]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a NumPy .npz file of arrays: {exc}") from None


def _safetensors(path: str) -> dict[str, Any]:
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise UsageError(
            f"reading {path} needs the safetensors package", hint="pip install safetensors"
        ) from None
    try:
        return dict(load_file(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise UsageError(f"{path} is not a safetensors file: {exc}") from None


def _torch_file(path: str) -> Any:
    try:
        import torch
    except ImportError:
        raise UsageError(
            f"reading {path} needs torch (a torch state_dict file)",
            hint="pip install 'inceptdsl[torch]', or give the weights as an .npz file",
        ) from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds (UnpicklingError, RuntimeError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{path} is not a torch state_dict that loads with weights_only=True: {first}",
            hint=_SAVE_HINT,
        ) from None
