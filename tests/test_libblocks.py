"""The missing-import hint: a block the bundled library defines, called without its import."""

from __future__ import annotations

import pytest

import inceptdsl
from inceptdsl.libblocks import import_hint

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
