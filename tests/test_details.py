"""The report's details column: a layer in a few words, initialisers as the spec writes them."""

from __future__ import annotations

import inceptdsl

SPEC = """\
network d {
  input 3 x 16 x 16
  a: conv 8 3x3 stride=2 pad=1 bn=bn() act=relu init=trunc_normal(std=0.01)
  b: conv 8 1x1 init=xavier_uniform()
  c: conv 8 1x1 init=normal(mean=0.5, std=0.02)
  pool: maxpool 3x3 stride=2 ceil=true
  global_avgpool
  flatten
  fc: linear 5 init=trunc_normal(std=0.1, a=-0.2, b=0.2)
}
"""


def test_details_name_the_initialiser_with_its_options() -> None:
    rows = {r.name: r.details for r in inceptdsl.loads(SPEC, filename="d.incept").report().rows}
    assert rows == {
        "a": "8 3x3 s2 p1 bn relu trunc_normal(std=0.01)",
        "b": "8 1x1 xavier_uniform",
        "c": "8 1x1 normal(mean=0.5, std=0.02)",
        "pool": "3x3 s2 ceil",
        "global_avgpool": "",
        "flatten": "",
        "fc": "5 trunc_normal(std=0.1, a=-0.2, b=0.2)",
    }
