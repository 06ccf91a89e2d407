"""The `inceptdsl` command line: every subcommand on a small spec with figures known by hand,
exit codes (0 ok, 1 bad spec, 2 usage/I-O, 3 internal error), and the promise that no command
prints a Python traceback for a bad spec.

The tiny spec is written to tmp_path (not taken from specs/, which other work changes) and the
commands run from there, so paths in the output are just `tiny.incept`.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, bundled_specs

import inceptdsl
from inceptdsl import backend
from inceptdsl.cli import main
from inceptdsl.middle.members import family_of

# 3x32x32 -> conv 16 3x3 pad=1: 3*3*3*16 + 16 = 448 params, 16*32*32*27 = 442,368 MACs;
# linear 16 -> 10: 170 params, 160 MACs.
TINY = """\
network tiny(num_classes: int = 10) {
  input 3 x 32 x 32
  stem: conv 16 3x3 pad=1 act=relu
  pool: global_avgpool
  flatten
  fc: linear num_classes
  expect params == 618 source "448 conv + 170 linear"
  expect stem.shape == 16 x 32 x 32 source "pad=1 keeps 32x32"
}
"""
REPORT_KEYS = [
    "schema",
    "network",
    "input_shape",
    "parameters",
    "conventions",
    "totals",
    "subtotals",
    "aux_heads",
    "depth",
    "memory",
    "columns",
    "rows",
]

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `inceptdsl ARGS...` in tmp_path (holding tiny.incept); returns (rc, stdout, stderr)."""
    (tmp_path / "tiny.incept").write_text(TINY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        rc = main(list(argv))
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def test_check(cli: Cli) -> None:
    assert cli("check", "tiny.incept") == (0, "tiny.incept: ok (tiny: 5 nodes, 618 params)\n", "")


def test_check_with_set(cli: Cli) -> None:
    # linear 16 -> 100: 1,700 params
    assert cli("check", "--set", "num_classes=100", "tiny.incept") == (
        0,
        "tiny.incept: ok (tiny: 5 nodes, 2,148 params)\n",
        "",
    )


def test_check_several_files_stops_at_the_first_bad_one(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "bad.incept").write_text("network b {\n  input 3 x 8 x 8\n  rlu\n}\n")
    rc, out, err = cli("check", "tiny.incept", "bad.incept")
    assert (rc, out) == (1, "tiny.incept: ok (tiny: 5 nodes, 618 params)\n")
    assert err.startswith("bad.incept:3:3: error[E201]: unknown layer or block `rlu`\n")


def test_report_json_has_the_documented_keys(cli: Cli) -> None:
    rc, out, err = cli("report", "--format", "json", "tiny.incept")
    assert (rc, err) == (0, "")
    doc = json.loads(out)
    assert list(doc) == REPORT_KEYS
    assert doc["schema"] == "inceptdsl.report/1"
    assert (doc["network"], doc["input_shape"], doc["parameters"]) == (
        "tiny",
        [3, 32, 32],
        {"num_classes": 10},
    )
    assert doc["totals"]["params"] == 618
    assert doc["totals"]["macs"] == 442_368 + 160
    assert (doc["aux_heads"], doc["depth"]) == ([], None)
    assert [r["name"] for r in doc["rows"]] == ["stem", "pool", "flatten", "fc"]


def test_report_json_with_depth_and_set(cli: Cli) -> None:
    rc, out, _ = cli(
        "report", "--format", "json", "--depth", "1", "--set", "num_classes=3", "tiny.incept"
    )
    doc = json.loads(out)
    assert (rc, doc["depth"], doc["parameters"]) == (0, 1, {"num_classes": 3})
    assert doc["totals"]["params"] == 448 + 16 * 3 + 3


@pytest.mark.parametrize("depth", [[], ["--depth", "1"]])
def test_report_csv(cli: Cli, depth: list[str]) -> None:
    rc, out, err = cli("report", "--format", "csv", *depth, "tiny.incept")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert (rc, err) == (0, "")
    assert [(r["name"], r["params"]) for r in rows if r["name"] != "total"] == [
        ("stem", "448"),
        ("pool", "0"),
        ("flatten", "0"),
        ("fc", "170"),
    ]


@pytest.mark.parametrize("depth", [[], ["--depth", "1"]])
def test_report_markdown(cli: Cli, depth: list[str]) -> None:
    cols = ["--columns", "name,op,output,params,buffers,macs"]
    rc, out, err = cli("report", "--format", "markdown", *cols, *depth, "tiny.incept")
    assert (rc, err) == (0, "")
    assert out.startswith("# tiny\n")
    assert "| stem | conv2d | 16x32x32 | 448 | 0 | 442,368 |\n" in out
    assert "| **total** |  |  | **618** | **0** | **442,528** |\n" in out


@pytest.mark.parametrize("depth", [[], ["--depth", "1"]])
def test_report_table(cli: Cli, depth: list[str]) -> None:
    rc, out, err = cli("report", *depth, "tiny.incept")
    assert (rc, err) == (0, "")
    assert out.startswith("tiny  (input 3x32x32)\n")
    assert out.split("\n")[2].split() == [
        *("stem", "conv2d", "3x32x32", "16x32x32", "16", "3x3", "p1", "relu"),
        *("448", "72.49%", "0", "442,368", "99.96%", "16,384", "65,536"),
    ]


def test_verify_passing(cli: Cli) -> None:
    rc, out, err = cli("verify", "tiny.incept")
    assert (rc, err) == (0, "")
    assert out.endswith("2 passed, 0 failed\n")


def test_verify_failing_prints_E501_and_exits_1(cli: Cli) -> None:
    rc, out, err = cli("verify", "--set", "num_classes=100", "tiny.incept")
    assert rc == 1
    assert out.endswith("1 passed, 1 failed\n")
    assert err == (
        "tiny.incept:7:3: error[E501]: expectation failed: params == 618, actual 2,148\n"
        ' 7 |   expect params == 618 source "448 conv + 170 linear"\n'
        "   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    )


def test_ir(cli: Cli) -> None:
    rc, out, err = cli("ir", "tiny.incept")
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "network tiny input=3x32x32 output=%fc"
    assert lines[-1] == (
        "%fc : 10 = linear[bias=true, init=none, out_features=10](%flatten)  "
        "# params=170 buffers=0 macs=160 @ tiny.incept:6:7"
    )


def test_diff(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "wide.incept").write_text(TINY.replace("conv 16", "conv 32"), encoding="utf-8")
    rc, out, err = cli("diff", "tiny.incept", "wide.incept")
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[:2] == ["--- tiny.incept (tiny)", "+++ wide.incept (tiny)"]
    # conv 32: 896 params; linear 32 -> 10: 330 params, 320 MACs
    assert [line.split() for line in lines[3:11]] == [
        ["~", "stem", "448", "896", "+448", "+100.00%", "0"]
        + ["442,368", "884,736", "+442,368", "+100.00%", "16x32x32", "->", "32x32x32"],
        ["~", "stem:", "shape", "16x32x32", "->", "32x32x32,", "out_channels", "16", "->", "32,"]
        + ["params", "448", "->", "896"],
        ["~", "pool", "0", "0", "0", "0%", "0", "0", "0", "0", "0%", "16x1x1", "->", "32x1x1"],
        ["~", "pool:", "shape", "16x1x1", "->", "32x1x1"],
        ["~", "flatten", "0", "0", "0", "0%", "0", "0", "0", "0", "0%", "16", "->", "32"],
        ["~", "flatten:", "shape", "16", "->", "32"],
        ["~", "fc", "170", "330", "+160", "+94.12%", "0", "160", "320", "+160", "+100.00%", "10"],
        ["~", "fc:", "params", "170", "->", "330,", "macs", "160", "->", "320"],
    ]
    assert lines[11].split() == ["total", "618", "1,226", "+608", "+98.38%", "0"] + [
        "442,528",
        "885,056",
        "+442,528",
        "+100.00%",
    ]
    assert lines[-1] == (
        "4 of 5 blocks differ (depth 1): 0 added, 0 removed, 4 changed; 4 layers differ"
    )


def test_list_shows_every_bundled_spec_with_its_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["spec", "network", "params", "buffers", "MACs"]
    expected = []
    for p in bundled_specs():
        name = p.relative_to(SPECS).with_suffix("").as_posix()  # the name it loads by
        fam = family_of(str(p))
        for member in fam.members if fam else (None,):
            set_ = {fam.param: member} if fam and member else {}
            rep = inceptdsl.load(str(p), **set_).report()
            expected.append(
                [
                    f"{name}_{member}" if member else name,  # a member's name loads it too
                    rep.network,
                    *(f"{k}={v}" for k, v in set_.items()),
                    f"{rep.params:,}",
                    f"{rep.buffers:,}",
                    f"{rep.macs:,}",
                ]
            )
            if member:
                assert main(["report", expected[-1][0], "--format", "json"]) == 0
                shown = json.loads(capsys.readouterr().out)
                assert shown["parameters"][fam.param] == member
                assert shown["totals"]["params"] == rep.params
    assert [line.split() for line in lines[1 : len(expected) + 1]] == expected
    efficientnet = [row[0] for row in expected if row[1] == "efficientnet"]
    assert efficientnet == [f"efficientnet_b{i}" for i in range(8)]
    assert lines[len(expected) + 1 :] == [
        "",
        "One row per family member: `convnext_tiny` is `convnext --set variant=tiny`.",
        f"@inceptdsl (bundled): {SPECS}",
    ]


def test_list_dir(cli: Cli) -> None:
    rc, out, err = cli("list", "--dir", ".")
    assert (rc, err) == (0, "")
    assert out.splitlines()[1].split() == ["tiny.incept", "tiny", "618", "0", "442,528"]
    assert out.splitlines()[-1] == f". (directory): {Path.cwd()}"


@pytest.mark.skipif(
    not (ROOT / "inceptdsl" / "fmt.py").exists(), reason="the formatter is not there yet"
)
def test_fmt_check(cli: Cli, tmp_path: Path) -> None:
    messy = tmp_path / "messy.incept"
    messy.write_text(TINY.replace("stem: conv 16 3x3", "stem:conv  16   3x3"), encoding="utf-8")
    before = messy.read_text(encoding="utf-8")
    assert cli("fmt", "--check", "messy.incept") == (1, "messy.incept: would reformat\n", "")
    assert messy.read_text(encoding="utf-8") == before
    assert cli("fmt", "messy.incept") == (0, "messy.incept: reformatted\n", "")
    assert cli("fmt", "--check", "messy.incept") == (0, "", "")


def test_compile_unknown_backend_is_a_usage_error(cli: Cli) -> None:
    names = ", ".join(backend.available()) or "none is installed"
    rc, out, err = cli("compile", "--backend", "nosuch", "tiny.incept")
    assert (rc, out) == (2, "")
    assert err.startswith(
        f"error[E004]: no backend named 'nosuch' (registered backends: {names})\n"
    )


def test_malformed_set_is_a_usage_error(cli: Cli) -> None:
    assert cli("report", "--set", "num_classes", "tiny.incept") == (
        2,
        "",
        "error[E004]: --set expects name=value, got 'num_classes'\n",
    )


def test_missing_file_is_exit_2(cli: Cli) -> None:
    assert cli("report", "nope.incept") == (
        2,
        "",
        "nope.incept: error[E002]: no such file: nope.incept\n",
    )


def test_argparse_usage_error_exits_2(cli: Cli) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("report", "--format", "xml", "tiny.incept")
    assert exc.value.code == 2


def test_debug_shows_the_exception(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "bad.incept").write_text("network b {\n  input 3 x 8 x 8\n  rlu\n}\n")
    with pytest.raises(inceptdsl.SpecError):
        cli("--debug", "check", "bad.incept")


@pytest.mark.parametrize("where", ["before", "after the command", "last"])
def test_global_flags_go_anywhere(cli: Cli, tmp_path: Path, where: str) -> None:
    """--debug and -q/--quiet are read wherever they stand (before a `--`)."""
    (tmp_path / "bad.incept").write_text("network b {\n  input 3 x 8 x 8\n  rlu\n}\n")
    place = {
        "before": lambda flag, cmd: [flag, *cmd],
        "after the command": lambda flag, cmd: [cmd[0], flag, *cmd[1:]],
        "last": lambda flag, cmd: [*cmd, flag],
    }[where]
    with pytest.raises(inceptdsl.SpecError):
        cli(*place("--debug", ["check", "bad.incept"]))
    loud = cli("compile", "tiny.incept", "--backend", "torch", "-o", "a.py")
    assert loud[0] == 0 and "params" in loud[2]  # the report after compile
    for flag in ("-q", "--quiet"):
        quiet = cli(*place(flag, ["compile", "tiny.incept", "--backend", "torch", "-o", "b.py"]))
        assert quiet == (0, "", "wrote b.py (tiny, backend torch)\n")
    assert (tmp_path / "a.py").read_text() == (tmp_path / "b.py").read_text()


def test_global_flags_stop_at_a_double_dash(cli: Cli, tmp_path: Path) -> None:
    """After `--` a `-q` is an argument (here a file name), not the flag."""
    (tmp_path / "-q").write_text(TINY, encoding="utf-8")
    rc, out, _ = cli("check", "--", "-q")
    assert (rc, out) == (0, "-q: ok (tiny: 5 nodes, 618 params)\n")


def test_internal_error_is_exit_3_without_traceback(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("inceptdsl.cli.load", boom)
    assert cli("check", "tiny.incept") == (
        3,
        "",
        "inceptdsl: internal error: RuntimeError: boom\n"
        "  this is a bug in inceptdsl, not in your spec; rerun with --debug for details\n",
    )


def test_python_dash_m_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "inceptdsl", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        f"inceptdsl {inceptdsl.__version__}\n",
        "",
    )


# ---- no traceback for any diagnostic, whatever the command -----------------------------------

DIAGNOSTICS = sorted((ROOT / "tests" / "diagnostics").glob("*.incept"))
PLAIN = [p for p in DIAGNOSTICS if not p.read_text(encoding="utf-8").startswith("# inceptdsl ")]


@pytest.mark.parametrize(
    "command", [["report"], ["report", "--format", "json"], ["verify"], ["ir"], ["diff"]]
)
@pytest.mark.parametrize(
    "path", [p for p in PLAIN if not p.name.startswith("E902")], ids=lambda p: p.stem
)
def test_every_command_renders_the_same_diagnostic(
    path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad spec fails the same way in every command as in `check` (the golden .err), with
    nothing on stdout. (E902 is left out only because it takes a second to reach the limit.)"""
    rel = str(path.relative_to(ROOT))
    args = [*command, rel, rel] if command == ["diff"] else [*command, rel]
    rc = main(args)
    out, err = capsys.readouterr()
    assert (rc, out) == (1, "")
    assert err == path.with_suffix(".err").read_text(encoding="utf-8")


@pytest.mark.parametrize("depth", ["0", "-1", "x"])
def test_depth_must_be_a_positive_whole_number(
    cli: Cli, depth: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("report", "--depth", depth, "tiny.incept")
    assert exc.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"inceptdsl report: error: argument --depth: expected a whole number >= 1, got '{depth}'\n"
    )


def test_list_dir_that_does_not_exist_is_E002(cli: Cli) -> None:
    assert cli("list", "--dir", "nowhere") == (
        2,
        "",
        "nowhere: error[E002]: no such directory: nowhere\n",
    )


def test_list_dir_that_is_a_file_is_E004(cli: Cli) -> None:
    assert cli("list", "--dir", "tiny.incept") == (
        2,
        "",
        "error[E004]: --dir expects a directory, got the file tiny.incept\n",
    )
