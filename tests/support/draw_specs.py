"""Specs the diagram tests share: the reference networks every format is checked on, and a
spec with hostile strings wherever a spec can put text (tests/test_draw.py and
tests/test_draw_browser.py)."""

from __future__ import annotations

import json

REFERENCE = ["googlenet", "inception_v3", "inception_v4", "inception_resnet_v2"]


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</svg><script>alert(3)</script>",
    '"]; n0 -> n1 [label="x',
    "end\\n subgraph x; click n0 call alert(4)",
    "]-->|x| n9[",
    "{}<>&\"'`#;%|",
]


def hostile_spec() -> str:
    """Every hostile string in the places a spec can put text: the `source` citation, comments,
    and (as far as the grammar allows) names; the file name is hostile too."""
    sources = "\n".join(f"  expect params > 0 source {json.dumps(s)}" for s in HOSTILE)
    return (
        "# " + " ".join(HOSTILE) + "\n"
        "network hostile {\n"
        "  input 3 x 8 x 8\n"
        "  script: conv 4 1x1   # </svg><script>alert(5)</script>\n"
        "  img_onerror: conv 4 1x1\n"
        f"{sources}\n"
        "}\n"
    )
