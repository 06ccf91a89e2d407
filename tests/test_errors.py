"""Errors that need files a committed diagnostic cannot be: missing files, directories, binary
bytes, several files importing each other, generated deep or huge input.

Each test builds its files in tmp_path, runs the real command line from there (so paths read
`a.incept`, as a user would see them) and asserts the exact rendered text and exit code.
test_diagnostics.py checks that every code listed there as tested here appears in this file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from inceptdsl import loads
from inceptdsl.cli import main
from inceptdsl.errors import SpecError, SpecErrors
from inceptdsl.front.loader import MAX_FILE_BYTES
from inceptdsl.front.parse import MAX_EXPR_DEPTH, MAX_TREE_DEPTH
from inceptdsl.lower import MAX_NESTING

NET = "network t {\n  input 3 x 8 x 8\n  relu\n}\n"


Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `inceptdsl ARGS...` in tmp_path; returns (exit code, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str]:
        rc = main(list(argv))
        return rc, capsys.readouterr().err

    return run


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ---- E0xx: reading files ---------------------------------------------------------------------


def test_missing_file_is_E002_exit_2(cli: Cli) -> None:
    assert cli("check", "nope.incept") == (
        2,
        "nope.incept: error[E002]: no such file: nope.incept\n",
    )


def test_directory_is_E003_exit_2(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()  # `check DIR` checks the specs under it; `report` needs a file
    assert cli("report", "specs") == (
        2,
        "specs: error[E003]: specs is a directory, not a spec file\n",
    )


def test_unreadable_path_is_E001_exit_2(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "a.incept", NET)
    assert cli("check", "a.incept/b.incept") == (
        2,
        "a.incept/b.incept: error[E001]: cannot read a.incept/b.incept: Not a directory\n",
    )


# ---- E1xx: files that are not spec text ------------------------------------------------------


def test_binary_file_is_E105(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "model.incept", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert cli("check", "model.incept") == (
        1,
        "model.incept: error[E105]: model.incept is a binary file, not spec text\n",
    )


def test_non_utf8_file_is_E105_with_the_byte(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "latin1.incept", "network café {}\n".encode("latin-1"))
    assert cli("check", "latin1.incept") == (
        1,
        "latin1.incept: error[E105]: latin1.incept is not UTF-8 text (byte 11 is 0xe9)\n",
    )


def test_binary_import_names_the_importing_line(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "blob.incept", b"\x00\x01\x02")
    write(tmp_path / "main.incept", 'import "blob.incept"\n' + NET)
    assert cli("check", "main.incept") == (
        1,
        "blob.incept: error[E105]: blob.incept is a binary file, not spec text\n"
        "  note: main.incept:1:8: imported here\n"
        '   1 | import "blob.incept"\n'
        "     |        ^^^^^^^^^^^^^\n",
    )


def test_syntax_error_in_an_import_shows_both_files(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "lib.incept", "block B {\n  conv 8 1x1 $\n}\n")
    write(tmp_path / "main.incept", 'import "lib.incept"\n' + NET)
    assert cli("check", "main.incept") == (
        1,
        "lib.incept:2:14: error[E102]: unexpected character '$'\n"
        " 2 |   conv 8 1x1 $\n"
        "   |              ^\n"
        "  note: main.incept:1:8: imported here\n"
        '   1 | import "lib.incept"\n'
        "     |        ^^^^^^^^^^^^\n",
    )


@pytest.mark.parametrize("text", ["", "\n\n", "   \t\n", "# nothing yet\n"])
def test_empty_file_is_E104(cli: Cli, tmp_path: Path, text: str) -> None:
    write(tmp_path / "empty.incept", text)
    assert cli("check", "empty.incept") == (
        1,
        "empty.incept: error[E104]: the file is empty: it declares no network, block or import\n"
        "  hint: a spec starts with `network NAME(...) { ... }` or `block NAME { ... }`\n",
    )


def test_truncated_file_is_E103(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "cut.incept", "network t {\n  input 3 x 8 x 8\n  conv 8 3x3 stride=")
    assert cli("check", "cut.incept") == (
        1,
        "cut.incept:3:20: error[E103]: the file ends in the middle of a declaration\n"
        " 3 |   conv 8 3x3 stride=\n"
        "   |                    ^\n"
        "  hint: expected '(', '+', '-', '[', 'in', 'not', 'prev', a \"string\", ...\n",
    )


def test_file_cut_inside_a_size_is_E103(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "cut.incept", "network t {\n  input 3 x 8 x 8\n  conv 8 3x")
    assert cli("check", "cut.incept") == (
        1,
        "cut.incept:3:10: error[E103]: the file ends in the middle of a declaration, inside `3x`\n"
        " 3 |   conv 8 3x\n"
        "   |          ^^\n"
        "  hint: the file looks cut short\n",
    )


def test_every_truncation_of_a_spec_is_a_located_syntax_error() -> None:
    """Cut a real spec after every line: each prefix is a clean E1xx or E2xx, never a crash."""
    text = Path("specs/lib/inception_v3.incept").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    codes = set()
    for n in range(1, len(lines)):
        prefix = "".join(lines[:n])
        try:
            loads(prefix, "specs/lib/cut.incept")
        except SpecError as err:
            codes.add(err.code)
            assert err.code[:2] in ("E1", "E2"), (n, err.render())
    assert "E106" in codes  # cut after a complete line: the `}`s are missing (E106)


# ---- E2xx: imports across files --------------------------------------------------------------


def test_import_cycle_across_two_files_lists_every_hop(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "a.incept", 'import "b.incept"\n' + NET)
    write(tmp_path / "b.incept", 'import "a.incept"\nblock B { relu }\n')
    assert cli("check", "a.incept") == (
        1,
        "b.incept:1:8: error[E204]: import cycle: a.incept -> b.incept -> a.incept\n"
        ' 1 | import "a.incept"\n'
        "   |        ^^^^^^^^^^\n"
        "  note: a.incept:1:8: a.incept imports 'b.incept'\n"
        '   1 | import "b.incept"\n'
        "     |        ^^^^^^^^^^\n"
        "  note: b.incept:1:8: b.incept imports 'a.incept'\n"
        '   1 | import "a.incept"\n'
        "     |        ^^^^^^^^^^\n",
    )


def test_import_outside_the_marked_root_is_E205(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "specs" / ".incept-root", "")
    write(tmp_path / "secret.incept", "block S { relu }\n")
    write(tmp_path / "specs" / "sub" / "net.incept", 'import "../../secret.incept"\n' + NET)
    assert cli("check", "specs/sub/net.incept") == (
        1,
        "specs/sub/net.incept:1:8: error[E205]: import of '../../secret.incept' reaches outside "
        "the spec's directory tree (specs)\n"
        ' 1 | import "../../secret.incept"\n'
        "   |        ^^^^^^^^^^^^^^^^^^^^^\n"
        "  hint: import bundled files as `@inceptdsl/...`, a directory NAME on INCEPTDSL_PATH "
        "as `@NAME/...`, or put a `.incept-root` file in a directory above both files\n",
    )


def test_import_inside_the_marked_root_is_allowed(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "specs" / ".incept-root", "")
    write(tmp_path / "specs" / "lib" / "b.incept", "block B { relu }\n")
    net = NET.replace("relu", "B")
    write(tmp_path / "specs" / "sub" / "net.incept", 'import "../lib/b.incept"\n' + net)
    assert cli("check", "specs/sub/net.incept") == (0, "")


def test_import_not_found_is_E203(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "net.incept", 'import "lib/blocks.incept"\n' + NET)
    assert cli("check", "net.incept") == (
        1,
        "net.incept:1:8: error[E203]: imported file not found: 'lib/blocks.incept' (looked for "
        "lib/blocks.incept, relative to net.incept)\n"
        ' 1 | import "lib/blocks.incept"\n'
        "   |        ^^^^^^^^^^^^^^^^^^^\n",
    )


def test_imported_name_that_does_not_exist_is_E201(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "lib.incept", "block Stem { relu }\nblock Head { relu }\n")
    write(tmp_path / "net.incept", 'import "lib.incept" (Stem, Hed)\n' + NET)
    assert cli("check", "net.incept") == (
        1,
        "net.incept:1:28: error[E201]: 'lib.incept' declares no block or function `Hed`\n"
        ' 1 | import "lib.incept" (Stem, Hed)\n'
        "   |                            ^^^\n"
        "  hint: did you mean `Head`?\n",
    )


def test_block_both_imported_and_declared_is_E202(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "lib.incept", "block Stem { relu }\n")
    write(tmp_path / "net.incept", 'import "lib.incept"\nblock Stem { relu }\n' + NET)
    assert cli("check", "net.incept") == (
        1,
        "net.incept:1:8: error[E202]: block `Stem` is both declared here and imported\n"
        ' 1 | import "lib.incept"\n'
        "   |        ^^^^^^^^^^^^\n"
        "  note: net.incept:2:7: declared here\n"
        "   2 | block Stem { relu }\n"
        "     |       ^^^^\n",
    )


# ---- several errors at once ------------------------------------------------------------------


def test_independent_errors_are_reported_together() -> None:
    text = "network t {\n  input 3 x 8 x 8\n  cnv 8 1x1\n  rleu\n  maxpol 2x2\n}\n"
    with pytest.raises(SpecErrors) as exc:
        loads(text, "t.incept")
    assert [(e.code, e.message, e.line) for e in exc.value.errors] == [
        ("E201", "unknown layer or block `cnv`", 3),
        ("E201", "unknown layer or block `rleu`", 4),
        ("E201", "unknown layer or block `maxpol`", 5),
    ]
    assert exc.value.code == "E201"


def test_reported_errors_are_capped_at_20(cli: Cli, tmp_path: Path) -> None:
    body = "".join(f"  nolayer{i}\n" for i in range(25))
    write(tmp_path / "many.incept", "network t {\n  input 3 x 8 x 8\n" + body + "}\n")
    rc, err = cli("check", "many.incept")
    assert rc == 1
    assert err.count("error[E201]") == SpecErrors.MAX_ERRORS == 20
    assert "`nolayer19`" in err and "`nolayer20`" not in err


# ---- E9xx: limits stop absurd input quickly --------------------------------------------------


def test_file_over_the_size_limit_is_E901(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "big.incept", "#" * (MAX_FILE_BYTES + 1))
    assert cli("check", "big.incept") == (
        1,
        f"big.incept: error[E901]: big.incept is {MAX_FILE_BYTES + 1:,} bytes; the limit is "
        f"{MAX_FILE_BYTES:,}\n",
    )


def test_text_over_the_size_limit_is_E901() -> None:
    with pytest.raises(SpecError) as exc:
        loads("#" * (MAX_FILE_BYTES + 1), "big.incept")
    assert str(exc.value) == (
        f"big.incept: error[E901]: big.incept is {MAX_FILE_BYTES + 1:,} characters; the limit is "
        f"{MAX_FILE_BYTES:,}"
    )


def _first_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as exc:
        loads(text, "deep.incept")
    return exc.value


def test_deep_expression_is_E904_not_a_recursion_error() -> None:
    terms = "+".join(["1"] * (MAX_EXPR_DEPTH + 2))
    err = _first_error(f"network t {{\n  input 3 x 8 x 8\n  conv ({terms}) 1x1\n}}\n")
    assert (err.code, err.message, err.line) == (
        "E904",
        "an expression nests more than 100 operators deep",
        3,
    )
    assert err.hint == "compute it in steps with `let`"


@pytest.mark.parametrize("op", ["- ", "not "])
def test_long_unary_chain_is_E904(op: str) -> None:
    err = _first_error(f"network t {{\n  input 3 x 8 x 8\n  let v = {op * 5000}1\n}}\n")
    assert (err.code, err.message) == ("E904", "an expression nests more than 100 operators deep")


def test_long_else_if_chain_is_E904() -> None:
    chain = "if false { relu }" + " else if false { relu }" * (MAX_TREE_DEPTH + 10)
    err = _first_error(f"network t {{\n  input 3 x 8 x 8\n  {chain}\n}}\n")
    assert (err.code, err.message) == ("E904", "the spec nests more than 300 levels deep")


def test_blocks_nesting_through_calls_is_E904() -> None:
    n = MAX_NESTING + 20
    blocks = (
        "".join(f"block B{i} {{ {{ B{i + 1} }} }}\n" for i in range(n)) + f"block B{n} {{ relu }}\n"
    )
    err = _first_error(blocks + NET.replace("relu", "B0"))
    assert (err.code, err.message) == (
        "E904",
        "blocks, groups and branches nest more than 100 levels deep "
        "(counting through the blocks called)",
    )


def test_long_chain_of_block_definitions_is_checked_without_recursion() -> None:
    n = 3000
    blocks = "".join(f"block B{i} {{ B{i + 1} }}\n" for i in range(n)) + f"block B{n} {{ B0 }}\n"
    err = _first_error(blocks + NET)
    assert err.code == "E206"
    assert err.message.startswith("block recursion: B0 -> B1 -> B2 -> ")
    assert err.message.endswith(f" -> B{n} -> B0")


def test_exponential_block_expansion_stops_at_the_node_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """30 levels of blocks that call the level below twice would expand to 2**30 layers: no
    pass before lowering expands them, and lowering stops at the node limit (lowered here to
    keep the test fast; the real limit is timed below)."""
    monkeypatch.setattr("inceptdsl.lower.limits.MAX_NODES", 5_000)
    levels = "".join(f"block L{i + 1} {{\n  a: L{i}\n  b: L{i}\n}}\n" for i in range(30))
    err = _first_error("block L0 { relu }\n" + levels + NET.replace("relu", "L30"))
    assert (err.code, err.message) == ("E902", "the network expands to more than 5,000 nodes")


def test_node_limit_is_reached_in_a_few_seconds() -> None:
    """The real limit (100,000 nodes) costs about a second of CPU; allow ten (CPU time, so a
    busy machine does not make the test flaky)."""
    start = time.process_time()
    err = _first_error("network t {\n  input 3 x 8 x 8\n  repeat 400 { repeat 400 { relu } }\n}\n")
    assert (err.code, err.message) == ("E902", "the network expands to more than 100,000 nodes")
    assert time.process_time() - start < 10


def test_repeat_over_the_limit_is_E900() -> None:
    err = _first_error("network t {\n  input 3 x 8 x 8\n  repeat 100_001 { relu }\n}\n")
    assert (err.code, err.message) == ("E900", "`repeat 100001` exceeds the limit of 100,000")


# ---- command-line parameters -----------------------------------------------------------------


def test_set_of_an_unknown_parameter_is_E306(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "net.incept", NET.replace("network t", "network t(width: int = 8)"))
    assert cli("check", "--set", "widht=4", "net.incept") == (
        1,
        "net.incept: error[E306]: network `t` has no parameter `widht`\n"
        "  hint: did you mean `width`?\n",
    )


@pytest.mark.parametrize("item", ["width", "=4", "width=", "2x=4"])
def test_malformed_set_is_E004_exit_2(cli: Cli, tmp_path: Path, item: str) -> None:
    write(tmp_path / "net.incept", NET.replace("network t", "network t(width: int = 8)"))
    assert cli("check", "--set", item, "net.incept") == (
        2,
        f"error[E004]: --set expects name=value, got {item!r}\n",
    )
