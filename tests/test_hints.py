"""Hints that must be right when followed: the missing import of a bundled block (E201), the
end of a residual branch (E402) in a network body and in a block."""

from __future__ import annotations

import pytest

import inceptdsl
from inceptdsl.front.libblocks import import_hint

SPEC = """\
network mine {
  input 3 x 35 x 35
  conv 192 1x1
  InceptionA(pool_features=32)
}
"""


def test_the_hint_names_the_import_line_and_following_it_works() -> None:
    with pytest.raises(inceptdsl.SpecError) as err:
        inceptdsl.loads(SPEC, filename="mine.incept")
    hint = err.value.hint or ""
    assert hint.endswith('`import "@inceptdsl/lib/inception_v3.incept" (InceptionA)`')
    line = hint.split("`")[1]
    net = inceptdsl.loads(line + "\n" + SPEC, filename="mine.incept")
    assert net.graph.nodes[net.graph.graph["output"]]["shape"] == (256, 35, 35)


def test_other_blocks_and_unknown_names() -> None:
    assert 'inception_resnet_v2.incept" (Block35)' in (import_hint("Block35") or "")
    assert import_hint("NoSuchBlockAnywhere") is None
    # A typo of a layer keeps its did-you-mean.
    with pytest.raises(inceptdsl.SpecError) as err:
        inceptdsl.loads("network n {\n input 3 x 8 x 8\n maxpol 2x2\n}\n", filename="n.incept")
    assert err.value.hint == "did you mean `maxpool`?"


RESIDUAL = """\
network tiny {
  input 3 x 32 x 32
  conv 16 3x3 pad=1
  residual {
    conv 32 3x3 pad=1
  }
}
"""


def _hinted_end(text: str) -> str:
    with pytest.raises(inceptdsl.SpecError) as err:
        inceptdsl.loads(text, filename="r.incept")
    assert err.value.code == "E402"
    return (err.value.hint or "").split("`")[1]


def test_the_residual_hint_in_a_network_body_gives_the_number_and_it_works() -> None:
    end = _hinted_end(RESIDUAL)
    assert end == "conv 16 1x1"  # not `in.channels`: that is the network input's 3 here
    fixed = RESIDUAL.replace("conv 32 3x3 pad=1", f"conv 32 3x3 pad=1 -> {end}")
    assert inceptdsl.loads(fixed, filename="r.incept").report().params > 0


def test_the_residual_hint_in_a_block_gives_in_channels_and_it_works() -> None:
    block = "block Res {\n  residual {\n    conv 32 3x3 pad=1\n  }\n}\n"
    text = block + RESIDUAL.replace("  residual {\n    conv 32 3x3 pad=1\n  }\n", "  Res\n")
    end = _hinted_end(text)
    assert end == "conv in.channels 1x1"
    fixed = text.replace("conv 32 3x3 pad=1", f"conv 32 3x3 pad=1 -> {end}")
    assert inceptdsl.loads(fixed, filename="r.incept").report().params > 0
