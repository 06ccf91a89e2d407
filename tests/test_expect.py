"""expect.py: `expect` declarations checked against the computed figures (`Network.verify`).

The network below is small enough to count by hand:
  s:  conv 4 3x3 pad=1, no bias, BN   params 4*3*9 + 8 = 116, buffers 8, MACs 108 * 64 = 6,912
  fc: linear 10 (after pool + flatten) params 4*10 + 10 = 50, MACs 40
  totals: params 166, buffers 8, variables 174, MACs 6,952, FLOPs 13,904,
  activations 4*8*8 + 4 + 4 + 10 = 274.
With k=8: s 8*27 + 16 = 232 params, 16 buffers; fc 90: params 322.
"""

from __future__ import annotations

import pytest

import inceptdsl
from inceptdsl import errors as E
from inceptdsl.expect import ExpectResult

HEAD = """
block Head(n: int) {
  fc: linear n
}

network e(k: int = 4, head: bool = true) {
  input 3 x 8 x 8
  s: conv k 3x3 pad=1 bias=false bn=true
  global_avgpool
  flatten
  if head {
    h: Head(10)
  }
"""

# (expectation, ok)
CASES: list[tuple[str, bool]] = [
    ("params == 166", True),
    ("params == 167", False),
    ("params == 166.0", True),
    ("params ~= 170 within 4", True),
    ("params ~= 170 within 3", False),
    ("params ~= 162 within 4", True),
    ("params ~= 160 within 4%", True),  # tolerance 6.4, difference 6
    ("params ~= 160 within 3%", False),  # tolerance 4.8
    ("params ~= 1K within 1K", True),
    ("params == 166 within 0", True),
    ("params < 167", True),
    ("params < 166", False),
    ("params <= 166", True),
    ("params > 165", True),
    ("params > 166", False),
    ("params >= 167", False),
    ("params != 166", False),
    ("params != 165", True),
    ("params != 160 within 10", False),
    ("params == 322 with k=8", True),
    ("buffers == 16 with k=8", True),
    ("params == 116 with head=false", True),
    ("params == 232 with k=8, head=false", True),
    ("buffers == 8", True),
    ("variables == 174", True),
    ("macs == 6_952", True),
    ("macs ~= 7K within 1%", True),  # tolerance 70, difference 48
    ("macs ~= 7K within 0.5%", False),  # tolerance 35
    ("flops == 13_904", True),
    ("activations == 274", True),
    ("aux_params == 0", True),
    ("s.params == 116", True),
    ("s.buffers == 8", True),
    ("s.variables == 124", True),
    ("s.macs == 6_912", True),
    ("s.flops == 13_824", True),
    ("s.shape == 4 x 8 x 8", True),
    ("s.shape == 4 x 8 x 7", False),
    ("s.shape != 4 x 8 x 7", True),
    ("s.shape == 8 x 8 x 8 with k=8", True),
    ("h.params == 50", True),  # a block: every node under the label
    ("h.fc.params == 50", True),
    ("h.macs == 40", True),
    ("h.shape == 10", True),  # a block's shape is its output's
    ("flatten.shape == 4", True),
]


def build(lines: list[str], **params: object) -> inceptdsl.Network:
    body = "".join(f'  expect {line} source "test {i}"\n' for i, line in enumerate(lines))
    return inceptdsl.loads(HEAD + body + "}\n", filename="t.incept", **params)


def test_verify_results() -> None:
    results = build([c for c, _ in CASES]).verify()
    assert [r.ok for r in results] == [ok for _, ok in CASES]
    assert all(isinstance(r, ExpectResult) for r in results)
    assert [r.source for r in results] == [f"test {i}" for i in range(len(CASES))]


def test_result_fields() -> None:
    results = build(
        [
            "params ~= 160 within 4%",
            "params == 322 with k=8",
            "s.shape == 4 x 8 x 8",
            "macs ~= 7K within 1K",
        ]
    ).verify()
    pct, with_, shape, absolute = results
    assert (pct.metric, pct.cmp, pct.expected, pct.actual, pct.tolerance) == (
        "params",
        "~=",
        160,
        166,
        "4%",
    )
    assert pct.describe() == "params ~= 160 within 4%"
    assert (with_.actual, with_.with_) == (322, "k=8")
    assert with_.describe() == "params == 322 with k=8"
    assert (shape.metric, shape.expected, shape.actual) == ("s.shape", (4, 8, 8), (4, 8, 8))
    assert shape.describe() == "s.shape == 4x8x8"
    assert (absolute.expected, absolute.tolerance, absolute.actual) == (7000, "1,000", 6952)
    assert absolute.describe() == "macs ~= 7K (7,000) within 1,000"
    assert pct.span.path == "t.incept" and pct.span.line == 14


def test_with_does_not_change_the_network() -> None:
    net = build(["params == 322 with k=8", "params == 166"])
    assert [r.ok for r in net.verify()] == [True, True]
    assert net.report().params == 166


def test_expectations_follow_parameter_overrides() -> None:
    net = build(["params == 166", "s.shape == 8 x 8 x 8"], k=8)
    assert [r.actual for r in net.verify()] == [322, (8, 8, 8)]
    assert [r.ok for r in net.verify()] == [False, True]


def test_approx_without_tolerance_is_an_error() -> None:
    net = build(["params == 166", "params ~= 166"])
    with pytest.raises(E.InvalidValueError) as exc:
        net.verify()
    assert exc.value.code == "E304"
    assert exc.value.message == "`~=` needs a tolerance"
    assert exc.value.hint == "add `within 5%` or `within 1M`"
    assert (exc.value.span.path, exc.value.line) == ("t.incept", 15)


NO_NOPE = "no layer or block named `nope` in network `e`"
EXACT_SHAPE = "a shape is compared exactly; drop `within`"


@pytest.mark.parametrize(
    "line,error,message",
    [
        ("bogus == 1", E.UnknownMetricError, "unknown metric `bogus`"),
        ("s.weights == 1", E.UnknownMetricError, "unknown metric `weights` for `s`"),
        ("nope.params == 1", E.UnknownMetricError, NO_NOPE),
        ("nope.shape == 1 x 1", E.UnknownMetricError, NO_NOPE),
        ("s.shape == 4 x 8 x 8 within 1", E.InvalidValueError, EXACT_SHAPE),
        ("s.shape < 4 x 8 x 8", E.InvalidValueError, "shapes compare with `==` or `!=` only"),
        ("params ~= 1 within -1", E.InvalidValueError, "a tolerance must be a number >= 0, got -1"),
        ('params == "x"', E.InvalidValueError, 'expected a number, got "x"'),
    ],
)  # fmt: skip
def test_declaration_errors(line: str, error: type[E.SpecError], message: str) -> None:
    with pytest.raises(error) as exc:
        build([line]).verify()
    assert exc.value.message == message


def test_metric_hint_suggests_a_name() -> None:
    with pytest.raises(E.UnknownMetricError) as exc:
        build(["param == 166"]).verify()
    assert exc.value.hint is not None and "params" in exc.value.hint


def test_expect_in_a_block_is_an_error() -> None:
    text = (
        'block B {\n  relu\n  expect params == 0 source "x"\n}\n'
        "network n {\n  input 3 x 8 x 8\n  B\n}\n"
    )
    with pytest.raises(E.InvalidValueError) as exc:
        inceptdsl.loads(text, filename="t.incept")
    assert exc.value.message == "`expect` belongs in a network body, not in a block"


def test_expect_inside_if_is_collected_when_taken() -> None:
    text = (
        "network n(big: bool = false) {\n  input 3 x 8 x 8\n  c: conv 2 1x1\n"
        '  if big {\n    expect params == 1 source "never"\n  } else {\n'
        '    expect params == 8 source "hand: 2*3 + 2"\n  }\n}\n'
    )
    results = inceptdsl.loads(text, filename="t.incept").verify()
    assert [(r.source, r.ok) for r in results] == [("hand: 2*3 + 2", True)]


def test_bundled_specs_verify() -> None:
    """Every bundled expectation holds (the spec authors' citations, checked)."""
    from conftest import bundled_specs

    failures = []
    for path in bundled_specs():
        for r in inceptdsl.load(str(path)).verify():
            if not r.ok:
                failures.append(f"{path.name}: {r.describe()} (actual {r.actual})")
    assert failures == []


DERIVED = """
network d(image_size: int = 16, half: int = image_size // 2) {
  input 3 x image_size x half
  c: conv 1 1x1
  expect c.shape == 1 x 16 x 8 source "defaults"
  expect c.shape == 1 x 32 x 16 with image_size=32 source "half follows image_size"
}
"""


def test_with_recomputes_parameters_whose_defaults_depend_on_others() -> None:
    """`with image_size=32` must give the network `loads(..., image_size=32)` gives: `half`
    defaults to image_size // 2 and was not given, so it follows. (Fails while
    Network.with_params passes every bound value, defaults included, as an override.)"""
    assert inceptdsl.loads(DERIVED, filename="t.incept", image_size=32).input_shape == (3, 32, 16)
    results = inceptdsl.loads(DERIVED, filename="t.incept").verify()
    assert [(r.actual, r.ok) for r in results] == [((1, 16, 8), True), ((1, 32, 16), True)]


# ---- cost of `expect` and `with`; parts these parameters leave out --------------------------


def test_figures_are_computed_once_per_network_and_parameter_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inceptdsl import network, report

    reports, builds = [], []
    real_report, real_build = report.build_report, network.build
    monkeypatch.setattr(report, "build_report", lambda *a: reports.append(1) or real_report(*a))
    monkeypatch.setattr(network, "build", lambda *a: builds.append(1) or real_build(*a))
    lines = ["params == 166", "s.params == 116", "h.macs == 40"] * 50
    lines += ["params == 322 with k=8", "buffers == 16 with k=8", "s.params == 232 with k=8"]
    net = build(lines)
    reports.clear(), builds.clear()
    assert all(r.ok for r in net.verify())
    assert (len(reports), len(builds)) == (2, 1)  # the network's and k=8's; k=8 built once


def test_with_variants_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    from inceptdsl import expect

    monkeypatch.setattr(expect, "MAX_VARIANTS", 3)
    net = build([f"params > 0 with k={k}" for k in range(1, 6)])
    with pytest.raises(E.LimitError, match="more than 3 distinct `with`") as exc:
        net.verify()
    assert exc.value.span is not None and exc.value.span.line == 17  # the 4th distinct set
    monkeypatch.setattr(expect, "MAX_VARIANTS", 64)
    monkeypatch.setattr(expect, "MAX_VARIANT_NODES", 12)  # each variant has 6 nodes
    with pytest.raises(E.LimitError, match="more than 12 nodes together"):
        build([f"params > 0 with k={k}" for k in range(1, 6)]).verify()


def test_expectations_about_parts_left_out_are_skipped() -> None:
    net = build(
        ["h.params == 50", "h.fc.shape == 10", "params == 116", "s.params == 116"], head=False
    )
    results = net.verify()
    assert [(r.ok, r.skipped) for r in results] == [
        (True, "`h` is not built with these parameters"),
        (True, "`h` is not built with these parameters"),
        (True, ""),
        (True, ""),
    ]
    with pytest.raises(E.UnknownMetricError, match="no layer or block named `nope`"):
        build(["nope.params == 1"], head=False).verify()  # not conditional: still an error


def test_aux_totals_are_skipped_when_no_conditional_head_is_built() -> None:
    net = inceptdsl.load("googlenet", aux_logits=False)
    by = {r.describe(): r for r in net.verify()}
    assert by["aux_params == 6,379,984"].skipped == "no aux head is built with these parameters"
    assert by["aux1.params == 3,188,968"].skipped == "`aux1` is not built with these parameters"
    assert by["params == 6,624,904 with aux_logits=false"].ok
    assert not by["params == 13,004,888"].ok  # a total at other parameters fails, as it should
