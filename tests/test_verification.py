"""The verification report (tools/verification.py, docs/verification.md) and the negative
fixture of BN-Inception's Figure 5.

- docs/verification.md is what tools/verification.py generates from the specs now (a spec
  edit that changes a figure, a citation or a header comment must come with the regenerated
  report), and every expectation in it holds.
- The report's parts are checked on their own: citation kinds, header extraction, the
  GoogLeNet Table 1 rows, the Markdown tables' shape, the Inception-v3 parameter components
  against the breakdown measured on torchvision (references.md section 3.1).
- The generator is generic: no network name, spec file name or paper figure in its Python
  (tools/verification.toml and the specs hold them), and it is not part of the package.
- BN-Inception's Figure 5, written literally, fails `verify` at exactly the rows whose printed
  sizes contradict the figure's own columns, with the located E501 message.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SPECS

import inceptdsl
from inceptdsl.cli import main

sys.path.insert(0, str(ROOT))
from tools import verification as V  # noqa: E402

DOC = ROOT / "docs" / "verification.md"
FIXTURE = ROOT / "tests" / "fixtures" / "bn_inception_figure5_literal.incept"


@pytest.fixture(scope="module")
def built() -> tuple[str, bool]:
    return V.build()


def test_committed_report_is_current(built: tuple[str, bool]) -> None:
    text, _ = built
    assert DOC.read_text(encoding="utf-8") == text, (
        f"docs/verification.md is stale: run `{V.COMMAND}` and review the diff"
    )


def test_every_expectation_in_the_report_holds(built: tuple[str, bool]) -> None:
    text, ok = built
    assert ok
    assert "**FAIL**" not in text
    n = sum(len(inceptdsl.load(str(p)).verify()) for p in V.bundled_specs())
    assert f"**{n} of {n} expectations hold** in {len(V.bundled_specs())} specs." in text


def test_every_bundled_spec_has_a_row_and_a_section(built: tuple[str, bool]) -> None:
    text, _ = built
    for p in V.bundled_specs():
        rel = p.relative_to(SPECS).as_posix()
        assert f"| [`{rel}`](#{V._anchor(rel)}) |" in text
        assert f'<a id="{V._anchor(rel)}"></a>' in text
        assert f"### `specs/{rel}`" in text


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_tables_are_rectangular(built: tuple[str, bool]) -> None:
    text, _ = built
    tables = 0
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            tables += 1
            width = _cells(lines[i - 1])
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                assert _cells(lines[j]) == width, lines[j]
                j += 1
    assert tables >= len(V.bundled_specs()) + 3


def test_tool_check_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v.md"
    assert V.main(["-o", str(out)]) == 0
    assert V.main(["--check", "-o", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    capsys.readouterr()
    assert V.main(["--check", "-o", str(out)]) == 1
    assert "not current; run `python tools/verification.py -o docs/verification.md`" in (
        capsys.readouterr().err
    )
    assert V.main(["--check", "-o", str(tmp_path / "missing.md")]) == 1


def test_the_generator_knows_no_network_spec_or_figure() -> None:
    source = (ROOT / "tools" / "verification.py").read_text(encoding="utf-8")
    code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith("#"))
    names = {p.stem for p in SPECS.rglob("*.incept")} | {
        inceptdsl.load(str(p)).name for p in V.bundled_specs()
    }
    assert [n for n in sorted(names) if re.search(rf"\b{n}\b", code)] == []
    assert re.findall(r"\b\d{1,3}(?:[,_]\d{3})+\b|\b\d{5,}\b", code) == []  # no figures
    assert not (ROOT / "inceptdsl" / "verification.py").exists()
    assert "verification" not in main.__globals__["_parser"]().format_help()


# ---- parts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("paper Table 1: inception (5b) 7x7x1024", "paper"),
        ("Table 1 row inception (3a): 128M ops", "paper"),
        ("Xception paper Table 3: 22,855,952 parameters; keras Xception trainable", "paper"),
        ("Rethinking paper Table 3: BN-Inception 2.0 Bn ops", "paper"),
        ("torchvision googlenet(aux_logits=True): sum of parameters", "reference"),
        ("TF-slim inception_v1_base: trainable variables", "reference"),
        ("pretrainedmodels bninception: BN running mean + var", "reference"),
        ("derived: timm inception_resnet_v2 less 20 x 338,240", "derived"),
        ("computed here; equal to timm legacy_xception", "derived"),
    ],
)
def test_kind_of_citation(source: str, kind: str) -> None:
    assert V.kind(source) == kind


def test_header_comment_stops_at_the_first_statement() -> None:
    text = '# One.\n#   two\n#\n# Three.\n\nimport "x"\n# not header\nnetwork n {}\n'
    assert V.header_comment(text) == "One.\n  two\n\nThree."
    assert V.header_comment("network n {}\n") == ""


def test_table1_rows(built: tuple[str, bool]) -> None:
    text, _ = built
    section = re.split(r"\n#{2,3} ", text.split("## GoogLeNet, Table 1 row by row", 1)[1])[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    names = [r.split(" | ")[0][2:] for r in rows]
    assert names == [
        "convolution 7x7/2", "convolution 3x3/1", "inception (3a)", "inception (3b)",
        "inception (4a)", "inception (4b)", "inception (4c)", "inception (4d)",
        "inception (4e)", "inception (5a)", "inception (5b)", "linear",
    ]  # fmt: skip
    by = dict(zip(names, rows, strict=True))
    # The exceptions are shown as such, with the printed figure and the computed one.
    assert "| 34,000,000 | 118,013,952 |" in by["convolution 7x7/2"]
    assert "≠ ± 1,000,000 ok" in by["convolution 7x7/2"]
    assert "with separable_conv1=true: 34,019,328 ok" in by["convolution 7x7/2"]
    assert "| 54,000,000 | 51,079,168 |" in by["inception (5a)"]
    assert "≈ ± 11% ok" in by["inception (4c)"]
    exceptions = ("convolution 7x7/2", "inception (5a)")
    assert all("≈ ± 1,000,000 ok" in by[n] for n in names if n not in exceptions)


def test_inception_v3_components_match_the_measured_breakdown() -> None:
    # references.md 3.1, torchvision inception_v3 with aux: conv weights 24,307,040 (21,751,136
    # without aux), BN gamma+beta 36,224 (34,432), Linear 2,818,000 (2,049,000).
    c = V.components(inceptdsl.load(str(SPECS / "inception_v3.incept")))
    assert c["conv weights"] == 21_751_136
    assert c["aux conv weights"] == 24_307_040 - 21_751_136
    assert c["BN gamma"] + c["BN beta"] == 34_432
    assert c["aux BN gamma"] + c["aux BN beta"] == 36_224 - 34_432
    assert c["classifier weights"] + c["classifier biases"] == 2_049_000
    assert c["aux classifier weights"] + c["aux classifier biases"] == 2_818_000 - 2_049_000


def test_xception_section_states_the_search(built: tuple[str, bool]) -> None:
    text, _ = built
    section = text.split("## The Xception paper's Inception V3: 23,626,728", 1)[1]
    keras = "| keras InceptionV3: trainable (conv, BN beta, Dense 1000) | 23,817,352 | +190,624 |"
    assert keras in section
    assert "32,768 subsets" in section
    assert "**No decomposition gives 23,626,728 exactly.**" in section


# ---- BN-Inception, Figure 5 as printed -------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_figure5_literal_fails_verify_at_the_contradicting_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", str(FIXTURE.relative_to(ROOT))]) == 0  # well-formed; only figures differ
    capsys.readouterr()
    assert main(["verify", str(FIXTURE.relative_to(ROOT))]) == 1
    captured = capsys.readouterr()
    text = FIXTURE.read_text(encoding="utf-8")
    errors = [ln for ln in captured.err.splitlines() if "error[" in ln]
    rel = "tests/fixtures/bn_inception_figure5_literal.incept"
    wrong = [
        ("inception_3c", "576x28x28", "576x14x14"),
        ("inception_4c", "576x14x14", "608x14x14"),
        ("inception_4d", "576x14x14", "608x14x14"),
        ("inception_4e", "1024x14x14", "1056x7x7"),
    ]
    assert errors == [
        f"{rel}:{_line_of(text, f'expect {block}.shape')}:3: error[E501]: expectation failed: "
        f"{block}.shape == {printed}, actual {actual}"
        for block, printed, actual in wrong
    ]
    assert captured.out.splitlines()[-1] == "7 passed, 4 failed"


def test_figure5_literal_rows_that_agree_pass() -> None:
    results = inceptdsl.load(str(FIXTURE)).verify()
    ok = {r.metric.split(".")[0] for r in results if r.ok}
    assert ok == {
        "stem", "inception_3a", "inception_3b", "inception_4a", "inception_4b",
        "inception_5a", "inception_5b",
    }  # fmt: skip
