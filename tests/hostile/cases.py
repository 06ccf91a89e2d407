"""The hostile-input corpus: every class of issue 11 (and more found since), one scenario each.

Each case is a file tree, a command and the exit code it must end with; its golden
(tests/hostile/NAME.golden) holds the exact stderr (and stdout where the case shows it). The
scenario's layout: `tree/` is the spec tree the command runs in, `outside/` holds files a spec
must not reach (a `secret.txt` whose words must never appear in any output), `tmp/` is TMPDIR
and HOME.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from support.harness import Case, Fifo, Link, Mode, Result

SECRET = "TOPSECRET the content of a file that is not a spec\n"

TINY = """\
network tiny(c: int = 4) {
  input 3 x 8 x 8
  stem: conv c 3x3
  expect params == 112 source "3*3*3*4 + 4"
}
"""

LIB = "block Stem {\n  conv 4 3x3\n}\n"


def _net(body: str, head: str = "") -> str:
    return f"{head}network tiny {{\n  input 3 x 8 x 8\n{body}}}\n"


_SWEEP_NET = (
    'network tiny(w: int = 1, tag: str = "a") {\n  input 3 x 8 x 8\n  conv (4 * w) 3x3\n}\n'
)
"""A network with an int and a string parameter, for the sweep cases."""


def _outside(**extra: object) -> dict:
    return {"outside/secret.txt": SECRET, "outside/lib.incept": LIB, **extra}


def _absent(r: Result, path: str) -> None:
    assert not (r.root / path).exists(), f"{r.case.name}: {path} was created"


def _no_secret(r: Result) -> None:
    assert "TOPSECRET" not in r.out + r.err


def _mode(path: str, mode: int) -> object:
    def check(r: Result) -> None:
        assert stat.S_IMODE(os.stat(r.root / path).st_mode) == mode

    return check


def _char_device(path: str) -> object:
    def check(r: Result) -> None:
        assert stat.S_ISCHR(os.stat(path).st_mode)

    return check


def _fast(seconds: float) -> object:
    def check(r: Result) -> None:
        assert r.seconds < seconds, f"{r.case.name}: {r.seconds:.1f} s"

    return check


def _bounded(limit: int) -> object:
    def check(r: Result) -> None:
        assert len(r.err) < limit, f"{r.case.name}: {len(r.err):,} bytes of stderr"

    return check


def _stdout_has(text: str) -> object:
    def check(r: Result) -> None:
        assert text in r.out

    return check


def _compile_to(out: str) -> list[str]:
    return ["compile", "a.incept", "--backend", "torch", "-q", "-o", out]


def _empty_blocks(levels: int) -> str:
    lines = ["block E0 {}"]
    lines += [f"block E{i} {{ " + " -> ".join([f"E{i - 1}"] * 10) + " }" for i in range(1, levels)]
    return "\n".join(lines) + "\n" + _net(f"  E{levels - 1}\n")


def _big_library(i: int) -> str:
    """A library of about 250 kB that costs almost nothing to parse (one long comment)."""
    return f"block B{i} {{\n  relu\n}}\n# " + "x" * (250 * 1024) + "\n"


def _deep_dirs(depth: int) -> dict:
    return {"tree/d/" + "/".join(["x"] * depth) + "/n.incept": TINY}


CASES: list[Case] = [
    # ---- code execution: nothing the tool reads is unpickled or evaluated -------------------
    Case(
        "spec_is_data_not_code",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv __import__('os').system('touch pwned') 3x3\n")},
        check=lambda r: _absent(r, "tree/pwned"),
    ),
    # ---- reads outside the spec tree ---------------------------------------------------------
    Case(
        "import_symlink_to_a_file_outside",
        ["check", "a.incept"],
        {
            **_outside(),
            "tree/lib.incept": Link("../outside/lib.incept"),
            "tree/a.incept": _net("  Stem\n", 'import "lib.incept"\n'),
        },
        check=_no_secret,
    ),
    Case(
        "import_through_a_symlinked_directory",
        ["check", "a.incept"],
        {
            **_outside(),
            "tree/vendor": Link("../outside"),
            "tree/a.incept": _net("  Stem\n", 'import "vendor/lib.incept"\n'),
        },
    ),
    Case(
        "import_of_a_file_that_is_not_a_spec",
        ["check", "a.incept"],
        {
            **_outside(),
            "tree/notes.txt": SECRET,
            "tree/a.incept": _net("  relu\n", 'import "notes.txt"\n'),
        },
        check=_no_secret,
    ),
    Case(
        "import_symlink_to_a_non_spec_outside",
        ["check", "a.incept"],
        {
            **_outside(),
            "tree/x.incept": Link("../outside/secret.txt"),
            "tree/a.incept": _net("  relu\n", 'import "x.incept"\n'),
        },
        check=_no_secret,
    ),
    Case(
        "import_symlink_to_a_non_spec_inside",
        ["check", "a.incept"],
        {
            "tree/notes.txt": SECRET,
            "tree/x.incept": Link("notes.txt"),
            "tree/a.incept": _net("  relu\n", 'import "x.incept"\n'),
        },
        check=_no_secret,
    ),
    Case(
        "import_absolute_path",
        ["check", "a.incept"],
        {**_outside(), "tree/a.incept": _net("  Stem\n", 'import "/etc/passwd.incept"\n')},
    ),
    Case(
        "import_dotdot",
        ["check", "a.incept"],
        {**_outside(), "tree/a.incept": _net("  Stem\n", 'import "../outside/lib.incept"\n')},
    ),
    Case(
        "import_out_of_the_bundled_root",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  relu\n", 'import "@inceptdsl/../../x.incept"\n')},
    ),
    Case(
        "import_unknown_library_root",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  relu\n", 'import "@nowhere/x.incept"\n')},
    ),
    Case(
        "import_path_with_an_escape_sequence",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  relu\n", 'import "\x1b[31mx.incept"\n')},
    ),
    Case(
        "import_of_a_fifo",
        ["check", "a.incept"],
        {"tree/p.incept": Fifo(), "tree/a.incept": _net("  relu\n", 'import "p.incept"\n')},
        exit=2,
    ),
    Case(
        "list_dir_with_a_symlink_outside",
        ["list", "--dir", "."],
        {**_outside(), "tree/ok.incept": TINY, "tree/x.incept": Link("../outside/secret.txt")},
        exit=2,
        stdout=True,
        check=_no_secret,
    ),
    # ---- outputs ---------------------------------------------------------------------------
    Case(
        "output_read_only_file_is_refused",
        _compile_to("out.py"),
        {"tree/a.incept": TINY, "tree/out.py": Mode("keep me\n", 0o444)},
        exit=2,
        memory=None,
    ),
    Case(
        "output_private_file_keeps_its_mode",
        _compile_to("out.py"),
        {"tree/a.incept": TINY, "tree/out.py": Mode("# an earlier inceptdsl output\n", 0o600)},
        exit=0,
        may_change=("tree/out.py",),
        check=_mode("tree/out.py", 0o600),
        memory=None,
    ),
    Case(
        "output_symlink_is_refused",
        _compile_to("out.py"),
        {**_outside(), "tree/a.incept": TINY, "tree/out.py": Link("../outside/secret.txt")},
        exit=2,
        memory=None,
    ),
    Case(
        "output_fifo_without_reader",
        _compile_to("out.fifo"),
        {"tree/a.incept": TINY, "tree/out.fifo": Fifo()},
        exit=2,
        memory=None,
    ),
    Case(
        "output_dev_null_is_written_not_replaced",
        _compile_to("/dev/null"),
        {"tree/a.incept": TINY},
        exit=0,
        check=_char_device("/dev/null"),
        memory=None,
    ),
    Case(
        "output_dev_stdout_on_a_pipe",
        [],
        {"tree/a.incept": TINY},
        shell="$INCEPTDSL compile a.incept --backend torch -q -o /dev/stdout | head -c 40",
        exit=0,
        stdout=True,
        memory=None,
    ),
    Case(
        "output_dash_is_stdout",
        _compile_to("-"),
        {"tree/a.incept": TINY},
        exit=0,
        check=_stdout_has("class Tiny(nn.Module)"),
        memory=None,
    ),
    Case(
        "output_over_the_input_spec",
        _compile_to("a.incept"),
        {"tree/a.incept": TINY},
        exit=2,
        memory=None,
    ),
    Case(
        "output_over_an_imported_file",
        _compile_to("lib.incept"),
        {"tree/lib.incept": LIB, "tree/a.incept": _net("  Stem\n", 'import "lib.incept"\n')},
        exit=2,
        memory=None,
    ),
    Case(
        "output_hard_link_of_the_input",
        _compile_to("out.py"),
        {"tree/a.incept": TINY},
        shell="ln a.incept out.py && $INCEPTDSL compile a.incept --backend torch -q -o out.py",
        exit=2,
        may_change=("tree/out.py",),  # the hard link the shell made
        memory=None,
    ),
    Case(
        "output_in_a_missing_directory",
        _compile_to("no/such/dir/out.py"),
        {"tree/a.incept": TINY},
        exit=2,
        memory=None,
    ),
    Case(
        "output_to_a_full_disk",
        _compile_to("/dev/full"),
        {"tree/a.incept": TINY},
        exit=2,
        memory=None,
    ),
    Case(
        "report_to_a_full_disk",
        [],
        {"tree/a.incept": TINY},
        shell="$INCEPTDSL report a.incept > /dev/full",
        exit=2,
    ),
    Case(
        "report_to_a_closed_stdout",
        [],
        {"tree/a.incept": TINY},
        shell="$INCEPTDSL report a.incept >&-",
        exit=0,
    ),
    Case(
        "report_into_a_pipe_closed_early",
        [],
        {"tree/a.incept": TINY},
        shell="$INCEPTDSL report a.incept | head -c 10 >/dev/null",
        exit=0,
    ),
    Case(
        "fmt_through_a_symlink_is_refused",
        ["fmt", "link.incept"],
        {"tree/real.incept": "network tiny {\n  input 3 x 8 x 8\n  conv   4 3x3\n}\n"}
        | {"tree/link.incept": Link("real.incept")},
        exit=2,
    ),
    # ---- hangs and memory --------------------------------------------------------------------
    Case(
        "empty_blocks_calling_empty_blocks",
        ["check", "a.incept"],
        {"tree/a.incept": _empty_blocks(9)},
        check=_fast(20),
    ),
    Case(
        "nested_empty_repeats",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  repeat 100000 { repeat 100000 { repeat 100000 { } } }\n")},
        check=_fast(20),
    ),
    Case(
        "lets_in_a_long_repeat",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  repeat 100000 {\n" + "    let a = 1\n" * 50 + "  }\n")},
        check=_fast(20),
    ),
    Case(
        "loop_over_a_huge_range",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  for i in range(10 ** 12) { relu }\n")},
        check=_fast(20),
    ),
    Case(
        "nested_empty_loops",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  for i in range(99999) { for j in range(99999) { } }\n")},
        check=_fast(20),
    ),
    Case(
        "long_lists_built_in_a_loop",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  for i in range(99999) {\n    let r = len(range(99999))\n  }\n")},
        check=_fast(20),
    ),
    Case(
        "function_call_tree",
        ["check", "a.incept"],
        {
            "tree/a.incept": "fn f0(v: int) -> int = v + 1\n"
            + "".join(f"fn f{i}(v: int) -> int = f{i - 1}(v) + f{i - 1}(v)\n" for i in range(1, 31))
            + _net("  conv f30(1) 1x1\n")
        },
        check=_fast(20),
    ),
    Case(
        "power_tower",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv (10 ** 10 ** 10 ** 10) 1x1\n")},
        check=_fast(20),
    ),
    Case(
        "expect_with_amplification",
        ["verify", "a.incept"],
        {
            "tree/a.incept": TINY.replace(
                "}\n",
                "".join(f'  expect params > 0 with c={i + 1} source "x"\n' for i in range(100))
                + "}\n",
            )
        },
        check=_fast(30),
    ),
    Case(
        "two_thousand_expects",
        ["verify", "a.incept"],
        {
            "tree/a.incept": TINY.replace(
                "}\n", '  expect stem.params == 112 source "x"\n' * 2000 + "}\n"
            )
        },
        exit=0,
        check=_fast(30),
    ),
    Case(
        "many_large_imports",
        ["check", "a.incept"],
        {
            **{f"tree/lib{i}.incept": _big_library(i) for i in range(4)},
            "tree/a.incept": _net("  B0\n", "".join(f'import "lib{i}.incept"\n' for i in range(4))),
        },
        check=_fast(30),
    ),
    Case("fifo_as_the_spec", ["check", "p.incept"], {"tree/p.incept": Fifo()}, exit=2),
    Case("character_device_as_the_spec", ["check", "/dev/zero"], exit=2),
    Case(
        "fifo_in_list_dir",
        ["list", "--dir", "."],
        {"tree/ok.incept": TINY, "tree/p.incept": Fifo()},
        exit=2,
        stdout=True,
    ),
    Case(
        "list_dir_with_a_link_loop",
        ["list", "--dir", "."],
        {"tree/ok.incept": TINY, "tree/loop": Link("."), "tree/self.incept": Link("self.incept")},
        exit=2,
        stdout=True,
        check=_fast(30),
    ),
    Case("list_dir_nested_too_deep", ["list", "--dir", "."], _deep_dirs(40), exit=1),
    # ---- no internal errors ------------------------------------------------------------------
    Case(
        "huge_digit_literal",
        ["check", "a.incept"],
        {"tree/a.incept": _net(f"  conv {'9' * 5000} 3x3\n")},
        check=_bounded(2000),
    ),
    Case(
        "huge_digit_size",
        ["check", "a.incept"],
        {"tree/a.incept": _net(f"  conv 4 {'9' * 5000}x3\n")},
        check=_bounded(2000),
    ),
    Case(
        "huge_percentage",
        ["verify", "a.incept"],
        {"tree/a.incept": TINY.replace('source "3', f'within {"9" * 5000}% source "3')},
        check=_bounded(2000),
    ),
    Case(
        "infinite_number_literal",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  dropout 1e999\n")},
    ),
    Case(
        "input_size_bool",
        ["check", "a.incept"],
        {"tree/a.incept": "network n {\n  input (true, 8, 8)\n  conv 4 3x3\n}\n"},
    ),
    Case(
        "input_size_string",
        ["check", "a.incept"],
        {"tree/a.incept": 'network n {\n  input ("3", 8, 8)\n  conv 4 3x3\n}\n'},
    ),
    Case(
        "input_size_float",
        ["check", "a.incept"],
        {"tree/a.incept": "network n {\n  input (3.5, 8, 8)\n  conv 4 3x3\n}\n"},
    ),
    Case(
        "input_size_none",
        ["check", "a.incept"],
        {"tree/a.incept": "network n {\n  input (none, 8, 8)\n  conv 4 3x3\n}\n"},
    ),
    Case(
        "input_size_tuple",
        ["check", "a.incept"],
        {"tree/a.incept": "network n {\n  input ((1, 2), 8, 8)\n  conv 4 3x3\n}\n"},
    ),
    Case("set_inf", ["check", "--set", "c=inf", "a.incept"], {"tree/a.incept": TINY}),
    Case(
        "set_infinite_suffixed", ["check", "--set", "c=1e999K", "a.incept"], {"tree/a.incept": TINY}
    ),
    Case(
        "set_huge_digits",
        ["check", "--set", "c=" + "9" * 5000, "a.incept"],
        {"tree/a.incept": TINY},
    ),
    Case("set_fullwidth_digits", ["check", "--set", "c=１６", "a.incept"], {"tree/a.incept": TINY}),
    Case(
        "set_escape_sequence", ["check", "--set", "c=\x1b[2J", "a.incept"], {"tree/a.incept": TINY}
    ),
    Case(
        "aux_tapped_from_an_aux_head",
        ["check", "a.incept"],
        {
            "tree/a.incept": _net(
                "  c1: conv 8 3x3\n  a1: aux from c1 { conv 4 1x1 }\n"
                "  a2: aux from a1 { conv 2 1x1 }\n"
            )
        },
    ),
    Case(
        "aux_head_inside_an_aux_head",
        ["check", "a.incept"],
        {
            "tree/a.incept": _net(
                "  c1: conv 8 3x3\n  a1: aux from c1 {\n    conv 4 1x1\n"
                "    a2: aux from c1 { conv 2 1x1 }\n  }\n"
            )
        },
    ),
    Case(
        "markup_in_a_source_string",
        ["verify", "a.incept"],
        {"tree/a.incept": TINY.replace('"3*3*3*4 + 4"', '"[/] [bold red]red[/] [link=x]y"')},
        exit=0,
        stdout=True,
    ),
    Case(
        "markup_in_a_file_name",
        ["verify", "[bold red]x[/].incept"],
        {"tree/[bold red]x[/].incept": TINY},
        exit=0,
        stdout=True,
    ),
    Case(
        "deleted_working_directory",
        [],
        {"tree/a.incept": TINY},
        shell="mkdir gone && cd gone && rmdir ../gone && $INCEPTDSL check $PWD/../a.incept "
        "&& $INCEPTDSL check a.incept",
        exit=2,
    ),
    Case(
        "deleted_working_directory_bundled_name",
        [],
        shell="mkdir gone && cd gone && rmdir ../gone && $INCEPTDSL check googlenet",
        exit=0,
        stdout=True,
    ),
    # ---- terminal injection ------------------------------------------------------------------
    Case(
        "escape_sequence_in_code",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv 4 3x3 \x1b]0;owned\x07\x1b[2J\n")},
    ),
    Case(
        "escape_sequence_in_a_source_string",
        ["verify", "a.incept"],
        {
            "tree/a.incept": TINY.replace("== 112", "== 1").replace(
                '"3*3', '"\x1b[2J\x1b]0;x\x073*3'
            )
        },
        stdout=True,
    ),
    Case(
        "bidi_override_in_a_comment",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv 4 3x3 bad=1  # \u202e}\u2066 evil\n")},
    ),
    Case(
        "escape_sequence_in_a_file_name",
        ["check", "\x1b[31mred.incept"],
        {"tree/\x1b[31mred.incept": _net("  conv 4 3x3 bad=1\n")},
    ),
    Case(
        "c1_control_and_zero_width_in_a_name",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  st\u200bem: conv 4 3x3\n  x\x9b: relu\n")},
    ),
    # ---- unhelpful ---------------------------------------------------------------------------
    Case(
        "lone_cr_line_ends",
        ["check", "a.incept"],
        {"tree/a.incept": "network n {\r  input 3 x 8 x 8\r  conv 4 3x3 bad=1\r}\n"},
    ),
    Case(
        "u2028_line_end",
        ["check", "a.incept"],
        {"tree/a.incept": "network n {\n  input 3 x 8 x 8\u2028  conv 4 3x3\n  relu bad=1\n}\n"},
    ),
    Case(
        "crlf_line_ends_are_fine",
        ["check", "a.incept"],
        {"tree/a.incept": TINY.replace("\n", "\r\n").replace("3x3", "3x3 bad=1")},
    ),
    Case(
        "huge_line",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv 4 3x3 " + "relu -> " * 30000 + "bad=$\n")},
        check=_bounded(1000),
    ),
    Case(
        "huge_line_of_comment_before_an_error",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv 4 3x3 bad=1 # " + "x" * 200_000 + "\n")},
        check=_bounded(1000),
    ),
    Case(
        "unterminated_string",
        ["verify", "a.incept"],
        {"tree/a.incept": TINY.replace('"3*3*3*4 + 4"', '"3*3*3*4 + 4')},
    ),
    Case(
        "unterminated_string_at_the_end",
        ["check", "a.incept"],
        {"tree/a.incept": TINY + 'import "lib'},
    ),
    Case(
        "fullwidth_digits",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv １６ 3x3\n")},
    ),
    Case(
        "arabic_indic_digits",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv ٤ 3x3\n")},
    ),
    Case(
        "byte_order_mark_inside",
        ["check", "a.incept"],
        {"tree/a.incept": _net("  conv 4\ufeff 3x3\n")},
    ),
    Case(
        "block_named_like_a_layer",
        ["check", "a.incept"],
        {"tree/a.incept": "block relu {\n  conv 4 1x1\n}\n" + _net("  relu\n")},
    ),
    Case(
        "huge_name",
        ["check", "a.incept"],
        {"tree/a.incept": _net(f"  {'n' * 5000}: conv 4 3x3\n")},
        check=_bounded(2000),
    ),
    Case(
        "huge_string",
        ["verify", "a.incept"],
        {"tree/a.incept": TINY.replace('"3*3*3*4 + 4"', '"' + "s" * 100_000 + '"')},
        check=_bounded(2000),
    ),
    Case(
        "many_errors_are_capped",
        ["check", "a.incept"],
        {"tree/a.incept": _net("".join(f"  layer{i} 3x3\n" for i in range(100)))},
        check=_bounded(20_000),
    ),
    Case(
        "backend_aux_head_name",
        ["compile", "a.incept", "--backend", "torch", "-q"],
        {
            "tree/a.incept": "block B {\n  c: conv 4 1x1\n  h: aux from c { conv 2 1x1 }\n}\n"
            + _net("  b: B\n")
        },
        memory=None,
    ),
    Case(
        "backend_network_name",
        ["compile", "a.incept", "--backend", "torch", "-q"],
        {"tree/a.incept": "network class {\n  input 3 x 8 x 8\n  conv 4 3x3\n}\n"},
        memory=None,
    ),
    Case(
        "googlenet_without_aux_heads",
        ["verify", "--set", "aux_logits=false", "googlenet"],
        stdout=True,
    ),
    Case("bundled_name_with_a_typo", ["check", "incepton_v3"], exit=2),
    # ---- sweep: values and constraints from the command line --------------------------------
    Case(
        "sweep_escape_sequences_in_choice_values",
        ["sweep", "a.incept", "--param", "tag=\x1b[2J\x1b]0;owned\x07,<script>x</script>"],
        {"tree/a.incept": _SWEEP_NET},
        exit=0,
        stdout=True,
    ),
    Case(
        "sweep_deeply_nested_where",
        ["sweep", "a.incept", "--param", "w=1,2", "--where", "(" * 500 + "macs < 1" + ")" * 500],
        {"tree/a.incept": _SWEEP_NET},
    ),
    Case(
        "sweep_output_through_a_link",
        ["sweep", "a.incept", "--param", "w=1,2", "-o", "out.csv"],
        {"tree/a.incept": _SWEEP_NET, "tree/out.csv": Link("../outside/secret.txt"), **_outside()},
        exit=2,
    ),
]


def scenario_root(tmp: Path, case: Case) -> Path:
    return tmp / case.name
