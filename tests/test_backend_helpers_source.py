"""The helper sources emit reads as text (backends/common/helpers.py) are what the runtime
modules define: `inspect.getsource` of each helper, in HELPERS order, with the same USES; and
the torch names a spec may not use are nn.Module's own (backends/torch/taken.py)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from inceptdsl.backends.common.helpers import HelperSource


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_helper_texts_equal_the_imported_runtime(backend: str) -> None:
    runtime = importlib.import_module(f"inceptdsl.backends.{backend}.runtime")
    source: HelperSource = importlib.import_module(f"inceptdsl.backends.{backend}.source").RUNTIME
    assert [h.__name__ for h in source.HELPERS] == [h.__name__ for h in runtime.HELPERS]  # type: ignore[attr-defined]
    for h in runtime.HELPERS:
        assert source.text(h.__name__) == inspect.getsource(h), h.__name__
    uses = {k.__name__: [u.__name__ for u in v] for k, v in getattr(runtime, "USES", {}).items()}
    got = {k: list(v) for k, v in source.USES.items()} if uses else {}
    assert got == uses


def test_torch_taken_names_are_nn_modules() -> None:
    from inceptdsl.backends.torch import runtime
    from inceptdsl.backends.torch.taken import MODULE_ATTRS

    live = frozenset(dir(runtime.Indexed()))
    assert sorted(live - MODULE_ATTRS) == [] and sorted(MODULE_ATTRS - live) == []
