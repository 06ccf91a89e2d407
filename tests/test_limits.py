"""Work limits stop absurd specs before the work, not after (issue 25): the budget is known
before a `repeat` or block call runs, before `with` variants are built, before imports are
parsed, and a suggestion compares a bounded number of names.

The first tests count the work done before the error (deterministic: each failed before the
fix, when the limit's whole worth of work was done first); the last ones time the real CLI in a
child process, in CPU seconds above a baseline run in the same way."""

from __future__ import annotations

import bisect
import difflib
import random
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inceptdsl import SpecError, loads
from inceptdsl.check.budget import PER_ITEM, Estimate
from inceptdsl.front.loader import load_program
from inceptdsl.lower import MAX_REPEAT, Lowerer
from inceptdsl.names import MAX_CANDIDATES, _nearest, did_you_mean

NESTED_EMPTY = (
    'network t {\n  input 3 x 8 x 8\n  repeat 100000 as "a{n}" {\n'
    '    repeat 100000 as "b{n}" { }\n  }\n}\n'
)
NESTED_RELU = "network t {\n  input 3 x 8 x 8\n  repeat 400 {\n    repeat 400 { relu }\n  }\n}\n"
NESTED_LOOPS = (
    "network t {\n  input 3 x 8 x 8\n  for i in range(100000) {\n"
    "    for j in range(100000) { }\n  }\n}\n"
)
NESTED_RELU_LOOPS = (
    "network t {\n  input 3 x 8 x 8\n  for i in range(400) {\n"
    "    for j in range(400) { relu }\n  }\n}\n"
)


def _doubling_blocks(levels: int) -> str:
    blocks = ["block L0 { }"] + [
        f"block L{i} {{ L{i - 1} -> L{i - 1} }}" for i in range(1, levels + 1)
    ]
    return "\n".join(blocks) + f"\nnetwork t {{\n  input 3 x 8 x 8\n  L{levels}\n}}\n"


def _doubling_blocks_with_arguments(levels: int) -> str:
    """Every call has its own argument values, so a bound per block and arguments would be as
    long as the expansion itself: the value-blind bound catches it."""
    blocks = ["block L0(n: int) { }"] + [
        f"block L{i}(n: int) {{ L{i - 1}(n * 2) -> L{i - 1}(n * 2 + 1) }}"
        for i in range(1, levels + 1)
    ]
    return "\n".join(blocks) + f"\nnetwork t {{\n  input 3 x 8 x 8\n  L{levels}(1)\n}}\n"


class _Work:
    """Counts the expansion steps and nodes lowering does (nodes made one by one or as the
    copies of a repeated chain, lower/copies.py)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.steps = self.nodes = 0
        tick, node = Lowerer._tick, Lowerer._node

        def counted_tick(lw: Lowerer, span: Any, steps: int = 1) -> None:
            self.steps += steps
            tick(lw, span, steps)

        def counted_node(lw: Lowerer, *args: Any, **kwargs: Any) -> str:
            self.nodes += 1
            return node(lw, *args, **kwargs)

        def counted_copies(lw: Lowerer, *args: Any) -> str | None:
            assert lw.g is not None
            before = len(lw.g)
            out = copies(lw, *args)
            self.nodes += len(lw.g) - before
            return out

        copies = Lowerer._copies
        monkeypatch.setattr(Lowerer, "_tick", counted_tick)
        monkeypatch.setattr(Lowerer, "_node", counted_node)
        monkeypatch.setattr(Lowerer, "_copies", counted_copies)


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as exc:
        loads(text, "t.incept")
    return exc.value


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        (NESTED_EMPTY, "E905", 3),
        (_doubling_blocks(40), "E905", 44),
        (_doubling_blocks_with_arguments(40), "E905", 44),
        (NESTED_RELU, "E902", 3),
        (NESTED_LOOPS, "E905", 3),
        (NESTED_RELU_LOOPS, "E902", 3),
    ],
    ids=[
        "nested_empty_repeats",
        "doubling_blocks",
        "doubling_blocks_with_arguments",
        "nested_relu_repeats",
        "nested_empty_loops",
        "nested_relu_loops",
    ],
)
def test_limit_stops_before_the_work(
    monkeypatch: pytest.MonkeyPatch, text: str, code: str, line: int
) -> None:
    work = _Work(monkeypatch)
    err = _error(text)
    assert (err.code, err.line) == (code, line)
    assert work.steps < 100 and work.nodes < 100, (work.steps, work.nodes)
    assert err.hint is not None and "at least" in err.hint and "before it" not in err.hint


def test_a_block_call_counts_the_steps_of_one_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    """budget.BLOCK_CALL is what lowering counts for a block call and a `for` iteration and what
    the estimate charges for them (one definition, read where it is used): raised by 4, both
    counts grow by 4 for each of the 2 calls and 3 iterations."""
    from inceptdsl.check import budget
    from inceptdsl.lower import network_decl

    text = (
        "block B { relu }\nnetwork t {\n  input 3 x 8 x 8\n  B\n  B\n"
        "  for i in range(3) { relu }\n  let k = 1\n}\n"
    )

    def counts() -> tuple[int, int]:
        with monkeypatch.context() as m:
            work = _Work(m)
            net = loads(text)
        body = network_decl(net.program).body.stmts[1:]
        return work.steps, Estimate(MAX_REPEAT).body(body, net.params, net.program.root).steps

    steps, estimate = counts()
    assert estimate <= steps
    monkeypatch.setattr(budget, "BLOCK_CALL", budget.BLOCK_CALL + 4)
    assert counts() == (steps + 4 * 5, estimate + 4 * 5)


def test_the_node_limit_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is a lower bound: a network of exactly MAX_NODES nodes builds, one more node
    is refused, before the repeat runs when the repeat would pass it."""
    monkeypatch.setattr("inceptdsl.lower.limits.MAX_NODES", 5_000)
    repeat = "  repeat 7 {\n    repeat 714 { relu }\n  }\n"
    head = "network t {\n  input 3 x 8 x 8\n"
    assert len(loads(head + "  relu\n" + repeat + "}\n").graph) == 5_000
    work = _Work(monkeypatch)
    err = _error(head + "  relu\n  relu\n" + repeat + "}\n")
    assert (err.code, err.line, work.nodes) == ("E902", 5, 3)
    err = _error(head + repeat + "  relu\n  relu\n}\n")
    assert (err.code, err.line) == ("E902", 7)  # after the repeat: found by counting


LOOPS_IN_A_MERGE = (
    "network t {\n  input 3 x 8 x 8\n  for i, c in enumerate([4, 8]) {\n"
    "    concat {\n      for k in [1, 3, 5] { conv (c + k) k x k pad=k // 2 -> relu }\n"
    "      { for j in range(i + 1) { conv c 1x1 } }\n    }\n  }\n}\n"
)


@pytest.mark.parametrize(
    "name",
    [
        "inception_v3",
        "googlenet",
        "inception_resnet_v2",
        "keras/xception",
        "inception_v4",
        "cnn/efficientnet_b0",
        "efficientnet",  # `for` loops over stage tables, from here on
        "convnext",
        "regnet",
        "loops_in_a_merge",
    ],
)
def test_the_estimate_never_exceeds_the_work(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """What the estimate says a network costs at least is at most what lowering counts."""
    from inceptdsl import load
    from inceptdsl.lower import network_decl

    work = _Work(monkeypatch)
    net = loads(LOOPS_IN_A_MERGE) if name == "loops_in_a_merge" else load(name)
    decl = network_decl(net.program)
    body = decl.body.stmts[1:]  # lowering makes the input node and runs the rest
    cost = Estimate(MAX_REPEAT).body(body, net.params, net.program.root)
    assert 0 < cost.steps <= work.steps
    assert 0 < cost.nodes + 1 <= len(net.graph) == work.nodes
    assert cost.nodes + 1 > len(net.graph) // 2  # and is not vacuous


def test_the_node_limit_is_exact_in_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("inceptdsl.lower.limits.MAX_NODES", 5_000)
    loops = "  for i in range(7) {\n    for j in range(714) { relu }\n  }\n"
    head = "network t {\n  input 3 x 8 x 8\n"
    assert len(loads(head + "  relu\n" + loops + "}\n").graph) == 5_000
    work = _Work(monkeypatch)
    err = _error(head + "  relu\n  relu\n" + loops + "}\n")
    assert (err.code, err.line, work.nodes) == ("E902", 5, 3)


def test_a_loop_is_estimated_per_item_or_without_its_names() -> None:
    """Up to budget.PER_ITEM items, each iteration is estimated with the item bound; a longer
    list once without the loop's names, which hide an outer name of the same spelling (the
    outer `n = 100000` would make 300,000 relus of this loop, which makes 3)."""
    head = "network t {\n  input 3 x 8 x 8\n  let n = 100000\n"
    assert len(loads(head + "  for n in range(3) { repeat n { relu } }\n}\n").graph) == 4
    long = head + "  for n in range(PER) { repeat n { relu } }\n}\n"
    assert len(loads(long.replace("PER", str(PER_ITEM + 1))).graph) == 1 + PER_ITEM * 65 // 2
    program = load_program("t.incept", head + "  for k in [2, 3] { repeat k { relu } }\n}\n")
    loop = program.root.module.networks[0].body.stmts[2]
    cost = Estimate(MAX_REPEAT).loop(loop, {}, program.root)  # type: ignore[arg-type]
    assert cost.nodes == 5  # 2 + 3 relus, each iteration with its k


def test_unknown_counts_are_bounded_by_their_cheapest_case() -> None:
    """A count from a shape, or an `if` on one, is not known before lowering: the estimate takes
    the least it could be, and lowering's own counting still stops it."""
    text = (
        "network t {\n  input 3 x 8 x 8\n  repeat 1000 {\n"
        "    let k = in.channels * 100\n"
        "    if in.channels > 1 { repeat k { relu } } else { }\n  }\n}\n"
    )
    program = load_program("t.incept", text)
    decl = program.root.module.networks[0]
    repeat = decl.body.stmts[1].units[0].core  # type: ignore[union-attr]
    cost = Estimate(MAX_REPEAT).body(repeat.body.stmts, {}, program.root)
    assert (cost.steps, cost.nodes) == (6, 0)  # the `let` (a binding) and the `if` statement
    assert _error(text).code == "E902"  # 1000 x 300 relus, found by counting


def test_block_arguments_reach_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    work = _Work(monkeypatch)
    err = _error(
        "block B(n: int) { repeat n { relu } }\n"
        "network t(k: int = 1000) {\n  input 3 x 8 x 8\n  repeat 200 { B(k) }\n}\n"
    )
    assert (err.code, err.line, work.nodes) == ("E902", 4, 1)
    assert err.hint is not None and "200,000 nodes" in err.hint


def test_with_variants_are_charged_before_any_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("inceptdsl.expect.MAX_VARIANT_NODES", 5_000)
    built = []
    from inceptdsl.network import Network

    real = Network.with_params
    monkeypatch.setattr(
        Network, "with_params", lambda self, *a, **k: built.append(k) or real(self, *a, **k)
    )
    expects = "".join(f'  expect params == 0 with n={k} source "x"\n' for k in range(2, 30))
    net = loads(
        "network t(n: int = 1) {\n  input 3 x 8 x 8\n  repeat 2000 { relu }\n" + expects + "}\n"
    )
    with pytest.raises(SpecError) as exc:
        net.verify()
    assert (exc.value.code, exc.value.line, built) == ("E900", 6, [])
    assert exc.value.hint is not None and "at least 6,003 nodes" in exc.value.hint


def test_verify_charges_the_variants_before_the_network_is_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`verify` (network.load_to_verify) charges the sets of the expectations outside any `if`
    before building the network itself; `load` does not (nothing is verified)."""
    from inceptdsl.network import load, load_to_verify

    monkeypatch.setattr("inceptdsl.expect.MAX_VARIANT_NODES", 5_000)
    expects = "".join(f'  expect params == 0 with n={k} source "x"\n' for k in range(2, 5))
    spec = tmp_path / "t.incept"
    spec.write_text(
        "network t(n: int = 1) {\n  input 3 x 8 x 8\n  repeat 2000 { relu }\n" + expects + "}\n"
    )
    work = _Work(monkeypatch)
    with pytest.raises(SpecError) as exc:
        load_to_verify(str(spec))
    assert (exc.value.code, exc.value.line, work.nodes) == ("E900", 6, 0)
    assert exc.value.render().startswith(f"{spec}:6:")  # located, with its source
    assert len(load(str(spec)).graph) == 2001 and work.nodes == 2001
    guarded = spec.read_text().replace(expects, "  if n > 1 {\n" + expects + "  }\n")
    spec.write_text(guarded)  # under an `if`: charged only once built (not taken here)
    assert load_to_verify(str(spec)).verify().ok


def test_expectations_about_layers_do_not_compute_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The totals (a report: longer than building a 100,000-node network) are computed only
    when an expectation reads one."""
    from inceptdsl.network import Network

    reports = []
    real = Network.report
    monkeypatch.setattr(Network, "report", lambda self, *a, **k: reports.append(1) or real(self))
    head = "network t {\n  input 3 x 8 x 8\n  repeat 3 { relu }\n"
    layer = '  expect relu_1.params == 0 source "x"\n'
    assert loads(head + layer + "}\n").verify().ok and reports == []
    assert loads(head + layer + '  expect params == 0 source "x"\n}\n').verify().ok
    assert reports == [1]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            "  for i in range(100000) {\n    if i >= 0 { let a = 1\n let b = 2 }\n  }\n",
            "inside the `for` at line 3: check the lengths of loop lists",
        ),
        (
            "  repeat 100000 {\n    if in.channels > 0 { let a = 1\n let b = 2 }\n  }\n",
            "inside the `repeat 100000` at line 3: check repeat counts",
        ),
        (
            "  repeat 3 { }\n  B\n}\nblock B {\n  repeat 100000 {\n"
            "    if in.channels > 0 { let a = 1\n let b = 2 }\n  }\n",
            "inside the `repeat 100000` at line 7: check repeat counts",
        ),
    ],
    ids=["loop", "repeat", "repeat_in_a_block_after_another"],
)
def test_a_limit_found_by_counting_says_what_was_expanding(body: str, words: str) -> None:
    """Where the estimate cannot see (an `if` on values it does not know), lowering's counting
    stops the spec; its hint names the innermost repeat or loop then running."""
    err = _error("network t {\n  input 3 x 8 x 8\n" + body + "}\n")
    assert err.code == "E905" and err.hint is not None and words in err.hint, err.hint
    assert "before it" not in err.hint and "at least" not in err.hint  # found by counting


def test_a_limit_found_by_counting_in_block_calls_alone_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No repeat or loop is running when the step limit is passed inside doubling block calls
    whose work the estimate cannot see (each of the 128 calls of L0 runs 1,000 steps of empty
    groups under an `if` on the input's channels, counted as nothing): the hint names block
    calls alone. (A limit of 100,000 steps keeps the test short.)"""
    monkeypatch.setattr("inceptdsl.lower.limits.MAX_STEPS", 100_000)
    groups = "    { } -> { } -> { } -> { } -> { } -> { } -> { } -> { } -> { }\n" * 100
    blocks = ["block L0 {\n  if in.channels > 0 {\n" + groups + "  }\n}"] + [
        f"block L{i} {{ L{i - 1} -> L{i - 1} }}" for i in range(1, 8)
    ]
    err = _error("\n".join(blocks) + "\nnetwork t {\n  input 3 x 8 x 8\n  L7\n}\n")
    assert (err.code, err.hint) == (
        "E905",
        "check blocks that call blocks many times, even empty ones",
    )
    assert err.line in range(3, 103)  # in L0


def test_a_limit_before_the_work_says_what_to_check() -> None:
    loop = _error(NESTED_LOOPS).hint or ""
    assert "this `for` over 100,000 items" in loop and "lengths of loop lists" in loop
    assert "repeat counts" not in loop
    call = _error(_doubling_blocks(40)).hint or ""
    assert "this call of `L40`" in call and "repeat counts" not in call
    assert "repeat counts" in (_error(NESTED_EMPTY).hint or "")


def test_a_function_call_tree_is_named_as_the_work() -> None:
    fns = "fn f0(v: int) -> int = v + 1\n" + "".join(
        f"fn f{i}(v: int) -> int = f{i - 1}(v) + f{i - 1}(v)\n" for i in range(1, 30)
    )
    err = _error(fns + "network t(k: int = f29(1)) {\n  input 3 x 8 x 8\n  relu\n}\n")
    assert err.code == "E905" and "functions that call functions" in (err.hint or "")
    lists = _error(
        "network t {\n  input 3 x 8 x 8\n  for i in range(99999) {\n"
        "    let r = len(range(99999))\n  }\n}\n"
    )
    assert lists.code == "E905" and "`range(...)` sizes" in (lists.hint or "")


def test_with_variants_that_fit_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("inceptdsl.expect.MAX_VARIANT_NODES", 5_000)
    net = loads(
        "network t(n: int = 1) {\n  input 3 x 8 x 8\n  repeat n { relu }\n"
        '  expect params == 0 with n=2000 source "x"\n'
        '  expect params == 0 with n=2998 source "x"\n}\n'
    )
    assert net.verify().ok


def test_imports_are_charged_by_bytes_before_any_is_parsed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("inceptdsl.front.loader.MAX_PROGRAM_BYTES", 3_000)
    parsed = []
    import inceptdsl.front.loader as loader

    real = loader._parse_file
    monkeypatch.setattr(loader, "_parse_file", lambda p, t: parsed.append(p) or real(p, t))
    lib = "".join(f"block B{{i}}_{j} {{ relu }}\n" for j in range(50))  # about 1 kB
    for i in range(20):
        (tmp_path / f"lib{i}.incept").write_text(lib.replace("{i}", str(i)))
    imports = "".join(f'import "lib{i}.incept"\n' for i in range(20))
    spec = tmp_path / "t.incept"
    spec.write_text(imports + "network t {\n  input 3 x 8 x 8\n  relu\n}\n")
    with pytest.raises(SpecError) as exc:
        load_program(str(spec))
    assert (exc.value.code, exc.value.line) == ("E901", 3)
    assert [Path(p).name for p in parsed] == ["t.incept"]


def test_a_suggestion_compares_a_bounded_number_of_names(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = difflib.get_close_matches
    monkeypatch.setattr(
        difflib, "get_close_matches", lambda w, p, **k: seen.append(len(p)) or real(w, p, **k)
    )
    names = ["relu"] + [f"relu_{i}" for i in range(1, 99_990)]
    assert did_you_mean("relu_99990", names) == "did you mean `relu_9999`?"
    assert did_you_mean("RELU_5", names) == "did you mean `relu_5`?"
    assert did_you_mean("conv_3", [*names, "conv_2"]) == "did you mean `conv_2`?"
    assert seen and max(seen) <= MAX_CANDIDATES


def _nearest_by_sorting(name: str, pool: set[str]) -> set[str]:
    """names._nearest as it was (two sorts with a key function): the oracle."""
    if len(pool) <= MAX_CANDIDATES:
        return pool
    half = MAX_CANDIDATES // 4
    out: set[str] = set()
    for key in (str.lower, lambda s: s[::-1].lower()):
        ordered = sorted(pool, key=key)
        i = bisect.bisect_left([key(c) for c in ordered], key(name))
        out.update(ordered[max(0, i - half) : i + half])
    return out


@pytest.mark.parametrize("alphabet", ["aAbB_1", "ab_1", "aAİıßẞ_", "ab1"])
def test_the_bounded_suggestion_compares_the_same_names_as_before(alphabet: str) -> None:
    """A pool of lowercase ASCII names is sorted without a key function (names._nearest): the
    same names are compared as with the keys (others, with ties between names equal but for
    case, or non-ASCII names whose lowercase is longer, still use the keys), so the suggestion
    is the same."""
    rnd = random.Random(alphabet)
    for _ in range(60):
        pool = {
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 5)))
            for _ in range(rnd.randint(0, 3000))
        }
        name = "".join(rnd.choice(alphabet + "AB") for _ in range(rnd.randint(1, 5)))
        assert _nearest(name, pool) == _nearest_by_sorting(name, pool), (name, len(pool))
    names = {"relu"} | {f"relu_{i}" for i in range(1, 99_990)}
    for name in ("relu_99990", "Relu_12", "zzz", "a", "5_uler"):
        assert _nearest(name, names) == _nearest_by_sorting(name, names)


@pytest.mark.parametrize("name", ["googlenet", "inception_v3", "efficientnet", "plain_layers"])
def test_lazy_figures_are_the_sums_of_every_node_under_a_path(name: str) -> None:
    """expect.Figures reads a node from the graph and sums scopes on first use (lazy, the
    network's own) or sums everything at once (a `with` variant's): both give, for every node,
    scope and label, the sums of the nodes named the path or under `path.` (counted here one
    by one), and the same shapes and names."""
    from inceptdsl import load
    from inceptdsl.expect import Figures
    from inceptdsl.ir import nodes

    net = loads(PLAIN_LAYERS, "t.incept") if name == "plain_layers" else load(name)
    every = list(nodes(net.graph))
    paths = {
        ".".join(n.name.split(".")[:i]) for n in every for i in range(1, n.name.count(".") + 2)
    }
    paths |= set(net.labels) | {"nope", "b.nope"}
    assert any("." in n.name for n in every) and any("." not in n.name for n in every)
    lazy, eager = Figures.of(net, lazy=True), Figures.of(net)
    for path in sorted(paths):
        under = [n for n in every if n.name == path or n.name.startswith(path + ".")]
        want = (
            (
                sum(n.params for n in under),
                sum(n.buffers for n in under),
                sum(n.macs for n in under),
            )
            if under
            else None
        )
        assert lazy.sums(path) == eager.sums(path) == want, path
    for n in every:
        assert lazy.shape(n.name) == eager.shape(n.name) == tuple(n.shape)
    assert lazy.shape("nope") is eager.shape("nope") is None
    assert set(lazy.node_names()) == set(eager.node_names()) == {n.name for n in every}


# ---- a layer without arguments is built once per input shape and defaults ----------------

PLAIN_LAYERS = (
    "network t {\n  input 3 x 32 x 32\n  repeat 3 { relu -> bn -> maxpool 2x2 }\n"
    '  defaults bn(eps=0.01)\n  repeat 2 as "s{n}" { bn -> relu }\n'
    "  b: { defaults bn(momentum=0.2)\n bn -> bn }\n  B\n  B\n}\n"
    "block B {\n  defaults bn(eps=0.5)\n  bn -> relu6\n}\n"
)


def _graph(net: Any) -> tuple[Any, ...]:
    from inceptdsl.ir import info, nodes

    return (list(nodes(net.graph)), info(net.graph), dict(net.labels))


@pytest.mark.parametrize("name", ["googlenet", "inception_v3", "efficientnet", "plain_layers"])
def test_a_reused_layer_makes_the_same_graph(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Exactness of the reuse (expand._plain_layer): the same nodes, attributes, shapes, costs,
    spans, edges and labels as building every layer, across shapes and `defaults` scopes."""
    from inceptdsl import load

    def build() -> Any:
        return loads(PLAIN_LAYERS, "t.incept") if name == "plain_layers" else load(name)

    reused = build()
    monkeypatch.setattr(Lowerer, "_plain_layer", lambda *a: None)
    assert _graph(reused) == _graph(build())


def test_a_layer_without_arguments_is_built_once_per_input_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = []
    real = Lowerer._node_figures
    monkeypatch.setattr(
        Lowerer, "_node_figures", lambda lw, op, *a: built.append(op) or real(lw, op, *a)
    )
    net = loads(PLAIN_LAYERS, "t.incept")
    attrs = {n.name: n.attrs for n in _graph(net)[0]}
    assert (attrs["s2.bn"].eps, attrs["b.1"].eps, attrs["b.1"].momentum) == (0.01, 0.01, 0.2)
    assert (attrs["bn_3"].eps, attrs["bn_4"].eps, attrs["bn_4"].momentum) == (0.5, 0.5, 0.1)
    # 3 shapes in the first repeat; s2.bn is s1.bn's; b.0 and b.1 are two calls; each call
    # of B makes its `defaults` anew (not reused: a conservative key)
    assert [str(op) for op in built].count("batchnorm") == 3 + 1 + 2 + 2
    built.clear()
    loads("network t {\n  input 3 x 8 x 8\n  repeat 1000 { relu }\n}\n")
    assert len(built) == 2  # the input and one relu


COPIES = (
    "network t {\n  input 3 x 32 x 32\n  relu_7: bn\n  repeat 12 { relu }\n"
    "  repeat 3 { relu -> bn }\n  defaults bn(eps=0.01)\n  repeat 5 { bn -> relu }\n"
    "  g: { repeat 3 { relu } }\n  r: repeat 3 { relu }\n  repeat 2 { repeat 3 { hardswish } }\n"
    "  repeat 0 { relu }\n  repeat 1 { relu }\n  B\n"
    "  head: aux from relu_3 weight=0.3 { repeat 3 { relu } -> global_avgpool }\n"
    "  repeat 4 { global_avgpool }\n  repeat 4 { relu6 -> flatten }\n  repeat 2 { relu }\n}\n"
    "block B {\n  defaults bn(eps=0.5)\n  repeat 4 { bn }\n}\n"
)
"""Repeats of plain layers: one layer, chains, a shape that changes in the first copies only
(gap) or in every one (flatten, then the same), under `defaults`, in a group, an indexed scope,
nested repeats, no or one copy, in a block, in an aux head, around a name already taken."""


def _every_part(net: Any, work: _Work) -> tuple[Any, ...]:
    g = net.graph
    succ = {n: list(g.succ[n].items()) for n in g}
    pred = {n: list(g.pred[n].items()) for n in g}
    return (*_graph(net), succ, pred, dict(g.graph), net.warnings, work.steps, work.nodes)


@pytest.mark.parametrize("name", ["copies", "googlenet", "efficientnet", "convnext"])
def test_bulk_copies_make_the_same_graph(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Exactness of lower/copies.py: the same nodes (attributes, shapes, costs, spans, order),
    edges (order and index), labels, graph attributes, warnings, steps and node count as
    lowering every copy."""
    from inceptdsl import load

    def build() -> tuple[Any, ...]:
        with monkeypatch.context() as m:
            work = _Work(m)
            net = loads(COPIES, "t.incept") if name == "copies" else load(name)
            return _every_part(net, work)

    made = []
    real = Lowerer._copies
    monkeypatch.setattr(Lowerer, "_copies", lambda lw, *a: made.append(out := real(lw, *a)) or out)
    bulk = build()
    monkeypatch.setattr(Lowerer, "_copies", lambda *a: None)
    assert bulk == build()
    if name == "copies":
        assert sum(x is not None for x in made) >= 8  # the bulk path was taken


def test_the_copies_of_a_plain_layer_are_made_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`repeat 1000 { relu -> bn }` builds its first relu and bn as layers and the other 999
    pairs at once."""
    layers = []
    real = Lowerer._layer
    monkeypatch.setattr(Lowerer, "_layer", lambda lw, *a: layers.append(1) or real(lw, *a))
    net = loads("network t {\n  input 3 x 8 x 8\n  repeat 1000 { relu -> bn }\n}\n")
    assert (len(layers), len(net.graph)) == (2, 2001)
    # the estimate stops such a repeat before it runs; without it, the copies that would pass
    # the limit are lowered one by one, and the error is the same node's
    monkeypatch.setattr("inceptdsl.lower.limits.MAX_NODES", 2_000)
    monkeypatch.setattr(Lowerer, "_precharge", lambda *a, **k: None)
    spec = "network t {\n  input 3 x 8 x 8\n  relu\n  repeat 1999 { relu }\n}\n"
    layers.clear()
    err = _error(spec)
    assert (err.code, err.line, err.column, len(layers)) == ("E902", 4, 17, 1 + 1_999)
    monkeypatch.setattr(Lowerer, "_copies", lambda *a: None)
    assert str(_error(spec)) == str(err)


# ---- CPU time of the real CLI --------------------------------------------------------------


def _cpu(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """CPU seconds of one `inceptdsl` child process, its exit code and stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(
        [sys.executable, "-m", "inceptdsl", *args], cwd=cwd, capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, p.returncode, p.stderr


def _huge_cases(d: Path) -> dict[str, tuple[list[str], str, str, float]]:
    """name -> (arguments, expected code, the baseline spec's file name, the bound in CPU s
    above the baseline's)."""
    (d / "imp").mkdir()
    for i in range(20):
        line = f"block B{i}_{{}} {{{{ relu }}}}\n"
        (d / f"imp/lib{i}.incept").write_text("".join(line.format(j) for j in range(11_000)))
    files = {
        "ok.incept": "network t {\n  input 3 x 8 x 8\n  relu\n}\n",
        "a.incept": NESTED_EMPTY,
        "b.incept": _doubling_blocks(40),
        "c.incept": NESTED_RELU,
        "g.incept": NESTED_LOOPS,
        "e.incept": "".join(f'import "imp/lib{i}.incept"\n' for i in range(20))
        + "network t {\n  input 3 x 8 x 8\n  relu\n}\n",
        "big.incept": "network t(n: int = 1) {\n  input 3 x 8 x 8\n  repeat 99000 { relu }\n"
        '  expect params == 0 source "x"\n}\n',
        "d.incept": "network t(n: int = 1) {\n  input 3 x 8 x 8\n  repeat 99000 { relu }\n"
        + "".join(f'  expect params == 0 with n={k + 2} source "x"\n' for k in range(300))
        + "}\n",
        "f.incept": "network t {\n  input 3 x 8 x 8\n  repeat 99990 { relu }\n"
        '  expect relu_99990.params == 0 source "x"\n}\n',
        "f_ok.incept": "network t {\n  input 3 x 8 x 8\n  repeat 99990 { relu }\n"
        '  expect relu_9999.params == 0 source "x"\n}\n',
    }
    for name, text in files.items():
        (d / name).write_text(text)
    return {
        "nested_empty_repeats": (["check", "a.incept"], "E905", "ok.incept", 1.0),
        "doubling_blocks": (["check", "b.incept"], "E905", "ok.incept", 0.75),
        "nested_relu_repeats": (["check", "c.incept"], "E902", "ok.incept", 1.0),
        "nested_empty_loops": (["check", "g.incept"], "E905", "ok.incept", 0.3),
        "twenty_large_imports": (["check", "e.incept"], "E901", "ok.incept", 1.0),
        "with_variants": (["verify", "d.incept"], "E900", "ok.incept", 1.0),
        "suggestion_over_100k_names": (["verify", "f.incept"], "E502", "f_ok.incept", 0.75),
        "unknown_node_on_99990_nodes": (["verify", "f.incept"], "E502", "ok.incept", 1.0),
    }


@pytest.mark.parametrize(
    "name",
    [
        "nested_empty_repeats",
        "doubling_blocks",
        "nested_relu_repeats",
        "nested_empty_loops",
        "twenty_large_imports",
        "with_variants",
        "suggestion_over_100k_names",
        "unknown_node_on_99990_nodes",
    ],
)
def test_limit_errors_come_within_a_second_of_cpu(name: str, tmp_path: Path) -> None:
    """Issue 25's table: each absurd input ends with its error within its bound of CPU more than
    a baseline that does the legitimate part of the work (start-up; for the suggestion, building
    and verifying the same 99,990-node network). Each bound fails at the figure before the fix
    (docs/security.md has the measured table). The last is not a limit error: `verify` builds
    the valid 99,990-node network for its names: 1.05 to 1.33 s before its copies were made in
    bulk (1.2 to 1.4 s at load 10), 0.5 to 1.0 s after at load 10 (median 0.56): its bound is
    the 1 s target. CPU time still grows under load on a shared machine, so a case gets up to
    3 trials and passes at the first within its bound (before the fix, none was)."""
    args, code, base, bound = _huge_cases(tmp_path)[name]
    trials = []
    for _ in range(3):
        base_cpu, base_rc, base_err = _cpu([args[0], base], tmp_path)
        assert base_rc == 0, base_err
        cpu, rc, err = _cpu(args, tmp_path)
        assert (rc, f"error[{code}]" in err) == (1, True), err
        trials.append((cpu, base_cpu))
        if cpu - base_cpu < bound:
            return
    pytest.fail(f"over {bound} CPU s above the baseline in 3 trials: {trials}")


def test_a_variant_stops_before_the_work_outside_its_edits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A pending `remove` or `replace` can take away what a body makes, so the estimate is not
    used in its scope; elsewhere in a variant it is."""
    (tmp_path / "p.incept").write_text(
        "network p {\n  input 3 x 8 x 8\n  stem: conv 4 1x1\n"
        "  big: {\n    repeat 400 { repeat 400 { relu } }\n  }\n}\n"
    )
    (tmp_path / "v.incept").write_text(
        'import "p.incept" (p)\nnetwork v extends p {\n  replace stem with conv 8 1x1\n}\n'
    )
    work = _Work(monkeypatch)
    with pytest.raises(SpecError) as exc:
        load_program_and_build(tmp_path / "v.incept")
    assert exc.value.code == "E902" and work.nodes < 100, work.nodes
    (tmp_path / "w.incept").write_text(
        'import "p.incept" (p)\nnetwork w extends p {\n  remove big\n}\n'
    )
    assert len(load_program_and_build(tmp_path / "w.incept").graph) == 2  # input, stem


def load_program_and_build(path: Path) -> Any:
    from inceptdsl import load

    return load(str(path))


def test_a_variant_of_a_parent_over_the_limit_says_the_parent_is(tmp_path: Path) -> None:
    """Where a limit stops depends on the path taken, so the parent alone failing with the same
    limit is enough to clear the edit."""
    (tmp_path / "p.incept").write_text(
        "network p {\n  input 3 x 8 x 8\n  big: {\n    repeat 400 { repeat 400 { relu } }\n  }\n}\n"
    )
    (tmp_path / "v.incept").write_text(
        'import "p.incept" (p)\nnetwork v extends p {\n  remove big.0\n}\n'
    )
    with pytest.raises(SpecError) as exc:
        load_program_and_build(tmp_path / "v.incept")
    assert exc.value.code == "E902" and exc.value.line == 2
    assert exc.value.message.startswith("`p` fails on its own with its default arguments")


def test_a_chain_of_imports_is_charged_by_bytes_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """lib0 imports lib1 imports lib2 ...: the import lines are read ahead of the parser."""
    monkeypatch.setattr("inceptdsl.front.loader.MAX_PROGRAM_BYTES", 3_000)
    parsed = []
    import inceptdsl.front.loader as loader

    real = loader._parse_file
    monkeypatch.setattr(loader, "_parse_file", lambda p, t: parsed.append(p) or real(p, t))
    for i in range(20):
        body = "".join(f"block B{i}_{j} {{ relu }}\n" for j in range(50))
        (tmp_path / f"lib{i}.incept").write_text(f'# lib {i}\nimport "lib{i + 1}.incept"\n' + body)
    (tmp_path / "lib20.incept").write_text("block End { relu }\n")
    spec = tmp_path / "t.incept"
    spec.write_text('import "lib0.incept"\nnetwork t {\n  input 3 x 8 x 8\n  relu\n}\n')
    with pytest.raises(SpecError) as exc:
        load_program(str(spec))
    assert (exc.value.code, exc.value.line) == ("E901", 1)
    assert "lib2.incept" in exc.value.message
    assert [Path(p).name for p in parsed] == ["t.incept"]
    monkeypatch.setattr("inceptdsl.front.loader.MAX_PROGRAM_BYTES", 512 * 1024)
    assert len(load_program(str(spec)).files) == 22  # under the limit, the chain loads
