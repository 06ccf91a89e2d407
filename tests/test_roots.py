"""Where specs come from (inceptdsl/front/roots.py, loader.py): the bundled library by name and as
`@inceptdsl/...`, INCEPTDSL_PATH roots as `@NAME/...`, and imports kept inside their roots on
real paths (symlinks included), with E205's hint naming the ways out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SPECS

import inceptdsl
from inceptdsl.cli import main
from inceptdsl.errors import (
    FileNotFoundSpecError,
    ImportNotFoundError,
    ImportNotSpecError,
    ImportOutsideRootError,
    SpecError,
)
from inceptdsl.front.roots import bundled_root, bundled_specs, library_roots

NET = "network {name} {{\n  input 3 x 8 x 8\n  {body}\n}}\n"
LIB = "block Stem {\n  conv 4 3x3\n}\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_root_is_the_specs_folder() -> None:
    root = bundled_root()
    assert root is not None and root.name == "inceptdsl"
    assert Path(root.path) == SPECS.resolve()
    names = [n for n, _ in bundled_specs()]
    assert "inception_v3" in names and "keras/inception_v3" in names and "lib/googlenet" in names


def test_bundled_networks_load_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nowhere near the specs
    net = inceptdsl.load("inception_v3", num_classes=10)
    assert net.name == "inception_v3"
    assert (
        net.report().params
        == inceptdsl.load(str(SPECS / "inception_v3.incept"), num_classes=10).report().params
    )
    assert inceptdsl.load("keras/inception_v3").name == "keras_inception_v3"
    assert inceptdsl.load("@inceptdsl/googlenet.incept").name == "googlenet"


def test_an_existing_file_wins_over_a_bundled_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "googlenet", NET.format(name="mine", body="relu"))
    assert inceptdsl.load("googlenet").name == "mine"


def test_an_unknown_name_suggests_a_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundSpecError) as exc:
        inceptdsl.load("googlnet")
    assert exc.value.hint is not None and "`googlenet`" in exc.value.hint


def test_user_specs_import_the_bundled_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = write(
        tmp_path / "proj" / "a.incept",
        'import "@inceptdsl/lib/inception_v3.incept" (InceptionA)\n'
        'import "@inceptdsl/inception_v3.incept" (inception_v3)\n'
        + NET.format(name="a", body="conv 192 1x1 -> m: InceptionA(pool_features=32)"),
    )
    net = inceptdsl.load(str(spec))
    assert net.graph.nodes["m.branch1x1"]["params"] == 192 * 64 + 64  # a bias: no defaults
    assert len(net.program.files) == 3  # a.incept, lib/inception_v3 (imported by both), v3


def test_bundled_files_import_relative_to_the_bundled_root(tmp_path: Path) -> None:
    """specs/inception_v3.incept imports "lib/inception_v3.incept": inside @inceptdsl."""
    spec = write(
        tmp_path / "a.incept",
        'import "@inceptdsl/inception_v3.incept" (inception_v3)\n'
        + NET.format(name="a", body="relu"),
    )
    files = inceptdsl.load(str(spec)).program.files
    assert {f.root.name for f in files.values()} == {None, "inceptdsl"}  # type: ignore[union-attr]


def test_inceptdsl_path_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "libs" / "mylib" / "blocks.incept", LIB)
    write(tmp_path / "other" / "mylib" / "blocks.incept", "block Other {\n  relu\n}\n")
    write(tmp_path / "libs" / "inceptdsl" / "x.incept", LIB)
    spec = write(
        tmp_path / "proj" / "a.incept",
        'import "@mylib/blocks.incept" (Stem)\n' + NET.format(name="a", body="Stem"),
    )
    paths = [
        tmp_path / "libs" / "mylib",
        tmp_path / "other" / "mylib",
        tmp_path / "libs" / "inceptdsl",
    ]
    monkeypatch.setenv("INCEPTDSL_PATH", os.pathsep.join(map(str, paths)))
    roots = library_roots()
    assert list(roots) == ["inceptdsl", "mylib"]  # bundled first; the first `mylib` wins
    assert roots["mylib"].path == str((tmp_path / "libs" / "mylib").resolve())
    assert roots["inceptdsl"] == bundled_root()
    assert inceptdsl.load(str(spec)).graph.number_of_nodes() == 2
    monkeypatch.delenv("INCEPTDSL_PATH")
    with pytest.raises(ImportNotFoundError, match="no library root named `@mylib`"):
        inceptdsl.load(str(spec))


@pytest.mark.parametrize(
    ("imp", "error", "message"),
    [
        ("../outside/lib.incept", ImportOutsideRootError, "reaches outside the spec's"),
        ("/etc/passwd.incept", ImportOutsideRootError, "an absolute path"),
        ("~/lib.incept", ImportOutsideRootError, "an absolute path"),
        ("@inceptdsl/../../lib.incept", ImportOutsideRootError, "outside the library root"),
        ("link.incept", ImportOutsideRootError, "through a symbolic link"),
        ("vendor/lib.incept", ImportOutsideRootError, "through a symbolic link"),
        ("notes.txt", ImportNotSpecError, "only `.incept` spec files"),
        ("inside_link.incept", ImportNotSpecError, "a symbolic link to a file that is not"),
        ("@nope/x.incept", ImportNotFoundError, "no library root named `@nope`"),
        ("", ImportNotFoundError, "an empty path"),
    ],
)
def test_imports_stay_inside_their_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, imp: str, error: type, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "outside" / "lib.incept", LIB)
    write(tmp_path / "tree" / "notes.txt", "TOPSECRET\n")
    (tmp_path / "tree" / "link.incept").symlink_to("../outside/lib.incept")
    (tmp_path / "tree" / "inside_link.incept").symlink_to("notes.txt")
    (tmp_path / "tree" / "vendor").symlink_to("../outside")
    spec = write(
        tmp_path / "tree" / "a.incept", f'import "{imp}"\n' + NET.format(name="a", body="relu")
    )
    with pytest.raises(error) as exc:
        inceptdsl.load(str(spec))
    assert message in exc.value.message
    assert exc.value.span is not None and exc.value.span.line == 1
    assert "TOPSECRET" not in exc.value.render()
    if error is ImportOutsideRootError:
        assert exc.value.hint is not None
        assert all(w in exc.value.hint for w in ("@inceptdsl/", "INCEPTDSL_PATH", ".incept-root"))


def test_symlinks_inside_the_tree_are_followed(tmp_path: Path) -> None:
    write(tmp_path / "tree" / "real" / "lib.incept", LIB)
    (tmp_path / "tree" / "alias").symlink_to("real")
    spec = write(
        tmp_path / "tree" / "a.incept",
        'import "alias/lib.incept"\n' + NET.format(name="a", body="Stem"),
    )
    assert inceptdsl.load(str(spec)).graph.number_of_nodes() == 2


def test_a_marker_widens_the_tree(tmp_path: Path) -> None:
    write(tmp_path / ".incept-root", "")
    write(tmp_path / "shared" / "lib.incept", LIB)
    spec = write(
        tmp_path / "proj" / "a.incept",
        'import "../shared/lib.incept"\n' + NET.format(name="a", body="Stem"),
    )
    assert inceptdsl.load(str(spec)).graph.number_of_nodes() == 2


def test_command_line_names_and_library_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", "googlenet"]) == 0
    assert main(["check", "@inceptdsl/keras/xception.incept"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "googlenet: ok (googlenet: 98 nodes, 13,004,888 params)",
        "@inceptdsl/keras/xception.incept: ok (keras_xception: 135 nodes, 22,855,952 params)",
    ]
    assert main(["check", "@inceptdsl/../x.incept"]) == 1
    assert "error[E205]" in capsys.readouterr().err


def test_list_shows_inceptdsl_path_networks_and_where_they_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "mylib" / "net.incept", NET.format(name="mine", body="conv 4 3x3"))
    write(tmp_path / "mylib" / "blocks.incept", LIB)  # a library: not listed
    monkeypatch.setenv("INCEPTDSL_PATH", str(tmp_path / "mylib"))
    assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln.split()[:3] for ln in out if ln.startswith("@mylib/")] == [
        ["@mylib/net.incept", "mine", "112"]
    ]
    assert out[-2:] == [
        f"@inceptdsl (bundled): {SPECS.resolve()}",
        f"@mylib (INCEPTDSL_PATH): {(tmp_path / 'mylib').resolve()}",
    ]


def test_total_size_of_a_programs_files_is_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inceptdsl.front import loader

    monkeypatch.setattr(loader, "MAX_PROGRAM_BYTES", 1000)
    for i in range(3):
        write(tmp_path / f"l{i}.incept", f"block B{i} {{\n  relu\n}}\n# " + "x" * 400 + "\n")
    imports = "".join(f'import "l{i}.incept"\n' for i in range(3))
    spec = write(tmp_path / "a.incept", imports + NET.format(name="a", body="B0"))
    with pytest.raises(SpecError) as exc:
        inceptdsl.load(str(spec))
    assert exc.value.code == "E901" and exc.value.span is not None and exc.value.span.line == 3
