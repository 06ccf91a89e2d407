"""Variants against their parents: `inceptdsl diff PARENT VARIANT` shows exactly the blocks a
variant changes, and nothing else.

Each case names the blocks (depth 1) the variant is meant to change, with the marker the diff
gives them (`~` changed, `-` only in the parent, `+` only in the variant). A variant that
changes one more block than it says, or fewer, fails here: the diff is how a user reviews a
variant, so it must be exactly the edit.
"""

from __future__ import annotations

import pytest
from conftest import SPECS

from inceptdsl.cli import main

NINE_MODULES = {f"inception{m}" for m in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")}

# (parent, variant, {block: marker}, total params delta or None)
CASES = [
    # The paper's 5x5 in the third branch of the nine modules; stem, pools, aux heads and the
    # head are torchvision's. 16 more weights per (in, out) pair of the nine 5x5s.
    ("googlenet", "variants/googlenet_5x5", dict.fromkeys(NINE_MODULES, "~"), 380_928),
    # One block type swapped: the twenty Inception-ResNet-B blocks (timm's `repeat_1`).
    (
        "inception_resnet_v2",
        "variants/inception_resnet_v2_b_v1",
        {"repeat_1": "~"},
        -20 * (1_126_784 - 788_544),
    ),
    # Half width: every layer's width or every block's output changes, the head included.
    (
        "inception_v3",
        "variants/inception_v3_half",
        dict.fromkeys(
            [
                "Conv2d_1a_3x3",
                "Conv2d_2a_3x3",
                "Conv2d_2b_3x3",
                "maxpool1",
                "Conv2d_3b_1x1",
                "Conv2d_4a_3x3",
                "maxpool2",
                "Mixed_5b",
                "Mixed_5c",
                "Mixed_5d",
                "Mixed_6a",
                "Mixed_6b",
                "Mixed_6c",
                "Mixed_6d",
                "Mixed_6e",
                "AuxLogits",
                "Mixed_7a",
                "Mixed_7b",
                "Mixed_7c",
                "avgpool",
                "dropout",
                "flatten",
                "fc",
            ],
            "~",
        ),
        7_505_088 - 27_161_264,
    ),
    # CIFAR: a stride-1 stem without pools, one module per stage, no aux head, 10 classes.
    (
        "inception_v3",
        "variants/inception_v3_cifar",
        {
            # the input itself differs (32x32): the structural diff compares shapes too
            "input": "~",
            **dict.fromkeys(
                ["Conv2d_1a_3x3", "Conv2d_2b_3x3", "Conv2d_4a_3x3", "Mixed_5b", "Mixed_5c"], "~"
            ),
            **dict.fromkeys(["Mixed_6a", "Mixed_6b", "Mixed_7a", "Mixed_7b", "fc"], "~"),
            **dict.fromkeys(
                [
                    "Conv2d_2a_3x3",
                    "maxpool1",
                    "Conv2d_3b_1x1",
                    "maxpool2",
                    "Mixed_5d",
                    "Mixed_6c",
                    "Mixed_6d",
                    "Mixed_6e",
                    "AuxLogits",
                    "Mixed_7c",
                    "dropout",
                ],
                "-",
            ),
        },
        None,
    ),
    # Not a variant but the same question: what the paper's Table 1 changes in the released
    # Inception-v3 (stem, Figure 5's 3x3, a fifth 17x17 module; Mixed_6e is 160 wide there).
    (
        "inception_v3",
        "inception_v3_paper",
        {
            "Conv2d_3b_1x1": "-",
            "maxpool2": "-",
            "Conv2d_4a_3x3": "~",
            "Mixed_5b": "~",
            "Mixed_5c": "~",
            "Mixed_5d": "~",
            "Mixed_6e": "~",
            "Conv2d_3b_3x3": "+",
            "Conv2d_4b_3x3": "+",
            "Mixed_6f": "+",
        },
        25_954_248 + 3_326_696 - 27_161_264,
    ),
]


def _diff(capsys: pytest.CaptureFixture[str], a: str, b: str) -> list[str]:
    assert main(["diff", str(SPECS / f"{a}.incept"), str(SPECS / f"{b}.incept")]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    ("parent", "variant", "changed", "delta"),
    [pytest.param(*c, id=c[1]) for c in CASES],
)
def test_diff_shows_exactly_the_changed_blocks(
    capsys: pytest.CaptureFixture[str],
    parent: str,
    variant: str,
    changed: dict[str, str],
    delta: int | None,
) -> None:
    lines = _diff(capsys, parent, variant)
    rows = {ln.split()[1]: ln[0] for ln in lines[3:] if ln[:2] in ("~ ", "+ ", "- ")}
    assert rows == changed
    total = next(ln for ln in lines if ln.startswith("total")).split()
    if delta is not None:
        assert total[3] == f"{delta:+,}"
    assert lines[-1].startswith(f"{len(changed)} of ")


def test_a_spec_against_itself_differs_nowhere(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _diff(capsys, "variants/googlenet_5x5", "variants/googlenet_5x5")
    assert "(no block differs)" in lines
