"""Property test: hostile variants of valid specs, files and command lines keep every promise.

Hypothesis builds a scenario from a valid spec by mutations of each class in issue 11 (control
and escape sequences, bidi and line-separator characters, rich markup, lone CRs, huge and
non-ASCII literals, truncations, unterminated strings, empty blocks and nested repeats, aux
heads on aux heads, names shadowing layers, `expect ... with` floods, hostile `--set` values,
imports through symlinks out of the tree, of non-spec files and of FIFOs) and runs a command on
it in a fresh interpreter (tests/support/harness.py). Whatever it is, the run must end with exit
0, 1 or 2, print no internal error or traceback, locate every error, keep stderr under 64 kB and
every raw control character off the terminal, finish within its time and memory bounds, and
change no file (the whole tree, outside files included, is fingerprinted before and after; only
`fmt` may rewrite its spec).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.harness import Case, Fifo, Link, assert_promises, run

BASES = [
    """\
network tiny(c: int = 8, aux: bool = true) {
  input 3 x 16 x 16
  stem: conv c 3x3 pad=1 act=relu
  if aux {
    head: aux from stem weight=0.3 { global_avgpool -> flatten -> linear 10 }
  }
  pool: maxpool 2x2 stride=2
  fc: global_avgpool -> flatten -> linear 10
  expect stem.params == 224 source "3*3*3*8 + 8"
  expect params > 0 with c=4 source "smaller"
}
""",
    """\
import "lib.incept"
block Mix(n: int) {
  concat {
    a: conv n 1x1
    b: conv n 1x1 -> conv n 3x3 pad=1
  }
}
network lib_user {
  input 3 x 8 x 8
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  s: Stem
  repeat 2 as "m{n}" { Mix(4) }
  expect m1.shape == 8 x 6 x 6 source "concat of two 4-channel branches"
}
""",
]
LIB = "block Stem {\n  conv 4 3x3\n}\n"

HOSTILE = [
    "\x1b[2J",
    "\x1b]0;owned\x07",
    "\x9b31m",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u2028",
    "\u2029",
    "\r",
    "\r\n",
    "\x0b",
    "\x00",
    "\ufeff",
    "[/]",
    "[bold red]",
    "１６",
    "٤",
    '"',
    '"unterminated',
    "{",
    "}",
    "(",
    "9" * 5000,
    "1e999",
    "1e999K",
    "9" * 300 + "x3",
    "n" * 3000,
    "# " + "x" * 3000,
    "repeat 100000 { repeat 100000 { } }",
    "block relu { conv 4 1x1 }",
    "x: aux from head { relu }",
    'import "../outside/secret.txt"',
    'import "link.incept"',
    'import "pipe.incept"',
    'import "/etc/hostname"',
    'import "@inceptdsl/../../x.incept"',
    'expect params == 1 with c=3 source "\x1b[31m"',
    "input (true, 8, 8)",
    "input ((1, 2), 3.5, none)",
]

SET_VALUES = ["inf", "-inf", "nan", "1e999K", "9" * 5000, "１６", "\x1b[2J", "[/]", "3x0", "-1"]
COMMANDS = [["check"], ["report"], ["verify"], ["ir"], ["fmt", "--check"], ["fmt"]]


@st.composite
def scenarios(draw: st.DrawFn) -> Case:
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["insert", "line", "truncate", "number"]))
        pos = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:pos] + draw(st.sampled_from(HOSTILE)) + text[pos:]
        elif kind == "line":
            at = text.rfind("\n", 0, max(pos, 1)) + 1
            text = text[:at] + "  " + draw(st.sampled_from(HOSTILE)) + "\n" + text[at:]
        elif kind == "truncate":
            text = text[:pos]
        else:
            text = text.replace(" 10", " " + draw(st.sampled_from(HOSTILE[-20:])), 1)
    command = draw(st.sampled_from(COMMANDS))
    argv = [*command]
    if command[0] != "fmt" and draw(st.booleans()):
        name = draw(st.sampled_from(["c", "aux", "num_classes"]))
        argv += ["--set", f"{name}={draw(st.sampled_from(SET_VALUES))}"]
    argv.append("a.incept")
    files = {
        "tree/a.incept": text.encode("utf-8", "surrogatepass"),
        "tree/lib.incept": LIB,
        "tree/link.incept": Link("../outside/lib.incept"),
        "tree/pipe.incept": Fifo(),
        "outside/secret.txt": "TOPSECRET\n",
        "outside/lib.incept": LIB,
    }
    return Case(
        "property",
        argv,
        files,
        may_change=("tree/a.incept",) if command == ["fmt"] else (),
        timeout=60,
    )


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_hostile_variants_keep_every_promise(case: Case) -> None:
    with tempfile.TemporaryDirectory() as d:
        result = run(case, Path(d) / "s")
        assert_promises(result)
        assert "TOPSECRET" not in result.out + result.err
