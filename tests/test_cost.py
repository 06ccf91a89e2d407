"""cost.py: parameters, buffers and MACs of each op, worked out by hand, and the bundled specs'
totals against the reference implementations' published counts (exact).

Conventions (docs/ir.md): params = trainable; buffers = BN running mean + var; MACs = conv +
linear multiply-accumulates, inference path, aux heads excluded; FLOPs = 2 x MACs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, SPECS, bundled_specs, spec_id

import inceptdsl
from inceptdsl.ir import ops as O
from inceptdsl.middle import cost

# ---- per op, through the cost functions -----------------------------------------------------


def test_conv_plain() -> None:
    # 3 -> 8 channels, 3x3, no bias, on 10x10 -> 8x8: weights 8*3*3*3 = 216,
    # MACs 216 * 8 * 8 = 13,824.
    a = O.ConvAttrs(out_channels=8, kernel=(3, 3), bias=False)
    assert cost.cost_of(O.Op.CONV2D, a, [(3, 10, 10)], (8, 8, 8)) == (216, 0, 13_824)


def test_conv_bias_adds_params_not_macs() -> None:
    a = O.ConvAttrs(out_channels=8, kernel=(3, 3), bias=True)
    assert cost.cost_of(O.Op.CONV2D, a, [(3, 10, 10)], (8, 8, 8)) == (224, 0, 13_824)


@pytest.mark.parametrize(
    "scale,center,params",
    [(True, True, 216 + 16), (True, False, 216 + 8), (False, True, 216 + 8), (False, False, 216)],
)
def test_conv_bn_variants(scale: bool, center: bool, params: int) -> None:
    bn = O.BatchNormAttrs(scale=scale, center=center)
    a = O.ConvAttrs(out_channels=8, kernel=(3, 3), bias=False, bn=bn)
    # Buffers are running mean + var whatever is learnable: 2 * 8.
    assert cost.cost_of(O.Op.CONV2D, a, [(3, 10, 10)], (8, 8, 8)) == (params, 16, 13_824)


def test_conv_groups() -> None:
    # 8 -> 16, groups 4: each output sees 2 input channels. 16*2*3*3 = 288 weights;
    # 6x6 output: 288 * 36 = 10,368 MACs.
    a = O.ConvAttrs(out_channels=16, kernel=(3, 3), groups=4, bias=False, pads=(1, 1, 1, 1))
    assert cost.cost_of(O.Op.CONV2D, a, [(8, 6, 6)], (16, 6, 6)) == (288, 0, 10_368)
    # Depthwise: groups = channels.
    a = O.ConvAttrs(out_channels=8, kernel=(3, 3), groups=8, bias=True)
    assert cost.cost_of(O.Op.CONV2D, a, [(8, 6, 6)], (8, 4, 4)) == (8 * 9 + 8, 0, 8 * 9 * 16)


def test_conv_rectangular_kernel() -> None:
    # Inception-v3's 1x7: 128 -> 192, 17x17: 192*128*7 = 172,032 weights.
    a = O.ConvAttrs(out_channels=192, kernel=(1, 7), bias=False)
    assert cost.cost_of(O.Op.CONV2D, a, [(128, 17, 17)], (192, 17, 17)) == (
        172_032,
        0,
        172_032 * 289,
    )


def test_sepconv_with_multiplier() -> None:
    # in 4, multiplier 2, out 6, 3x3, 5x5 output: depthwise 4*2*9 = 72, pointwise 8*6 = 48;
    # MACs (72 + 48) * 25 = 3,000.
    a = O.SepConvAttrs(out_channels=6, kernel=(3, 3), depth_multiplier=2, bias=False)
    assert cost.cost_of(O.Op.SEPCONV2D, a, [(4, 5, 5)], (6, 5, 5)) == (120, 0, 3_000)
    a = O.SepConvAttrs(
        out_channels=6, kernel=(3, 3), depth_multiplier=2, bias=True, bn=O.BatchNormAttrs()
    )
    assert cost.cost_of(O.Op.SEPCONV2D, a, [(4, 5, 5)], (6, 5, 5)) == (120 + 6 + 12, 12, 3_000)


def test_sepconv_multiplier_one() -> None:
    # Xception-style 728 -> 728 3x3 at 19x19: 728*9 + 728*728 weights.
    a = O.SepConvAttrs(out_channels=728, kernel=(3, 3), bias=False)
    w = 728 * 9 + 728 * 728
    assert cost.cost_of(O.Op.SEPCONV2D, a, [(728, 19, 19)], (728, 19, 19)) == (w, 0, w * 361)


def test_linear() -> None:
    assert cost.cost_of(O.Op.LINEAR, O.LinearAttrs(out_features=10), [(2048,)], (10,)) == (
        20_490,
        0,
        20_480,
    )
    assert cost.cost_of(
        O.Op.LINEAR, O.LinearAttrs(out_features=10, bias=False), [(2048,)], (10,)
    ) == (
        20_480,
        0,
        20_480,
    )


@pytest.mark.parametrize(
    "scale,center,params",
    [(True, True, 64), (True, False, 32), (False, True, 32), (False, False, 0)],
)
def test_batchnorm(scale: bool, center: bool, params: int) -> None:
    a = O.BatchNormAttrs(scale=scale, center=center)
    assert cost.cost_of(O.Op.BATCHNORM, a, [(32, 7, 7)], (32, 7, 7)) == (params, 64, 0)


def test_stateless_ops_cost_nothing() -> None:
    """Every node of an op other than conv, linear, the norms and layer scale costs nothing (no
    params, no buffers, no MACs), whatever its shapes: checked on every test spec of
    tests/ops/."""
    stateful = {O.Op.CONV2D, O.Op.SEPCONV2D, O.Op.BATCHNORM, O.Op.LINEAR}
    stateful |= {O.Op.LAYERNORM, O.Op.GROUPNORM, O.Op.LAYER_SCALE}
    seen = set()
    for spec in sorted((ROOT / "tests" / "ops").glob("*.incept")):
        g = inceptdsl.load(str(spec)).graph
        for name, d in g.nodes(data=True):
            if d["op"] not in stateful:
                seen.add(d["op"])
                assert (d["params"], d["buffers"], d["macs"]) == (0, 0, 0), (spec.name, name)
    assert seen == set(O.Op) - stateful


def test_flops_per_mac() -> None:
    assert cost.FLOPS_PER_MAC == 2


# ---- per op, end to end through a spec --------------------------------------------------------

SMALL = """
network small {
  input 3 x 10 x 10
  c1: conv 8 3x3 bias=false
  c2: conv 8 3x3 pad=1 bn=bn(scale=false) bias=false
  c3: conv 16 3x3 groups=4 pad=1
  s: sepconv 6 3x3 multiplier=2 pad=1 bias=false
  b: bn affine=false
  global_avgpool
  flatten
  fc: linear 5
}
"""


def test_costs_through_a_spec() -> None:
    net = inceptdsl.loads(SMALL, filename="t.incept")
    g = net.graph
    got = {n: (g.nodes[n]["params"], g.nodes[n]["buffers"], g.nodes[n]["macs"]) for n in g}
    assert got == {
        "input": (0, 0, 0),
        "c1": (216, 0, 13_824),  # 8*3*9; 8x8 out
        "c2": (8 * 8 * 9 + 8, 16, 8 * 8 * 9 * 64),  # BN beta only
        "c3": (16 * 2 * 9 + 16, 0, 16 * 2 * 9 * 64),
        "s": (16 * 2 * 9 + 32 * 6, 0, (16 * 2 * 9 + 32 * 6) * 64),
        "b": (0, 12, 0),
        "global_avgpool": (0, 0, 0),
        "flatten": (0, 0, 0),
        "fc": (6 * 5 + 5, 0, 30),
    }
    rep = net.report()
    assert rep.params == sum(p for p, _, _ in got.values())
    assert rep.buffers == 16 + 12
    assert rep.macs == sum(m for _, _, m in got.values())
    assert rep.flops == 2 * rep.macs
    assert all(r.flops == 2 * r.macs for r in rep.rows)


def test_sepconv_layer_defaults_to_bias() -> None:
    # The `sepconv` layer's bias option defaults to true (keras SeparableConv2D's use_bias).
    net = inceptdsl.loads(
        "network n {\n  input 4 x 5 x 5\n  s: sepconv 6 3x3\n}\n", filename="t.incept"
    )
    assert net.graph.nodes["s"]["params"] == 4 * 9 + 4 * 6 + 6


# ---- the bundled specs against their references (exact) ------------------------------------

# spec id -> [(parameter overrides, params, buffers, macs or None)], each figure from the
# reference implementation the spec reproduces.
REFERENCE: dict[str, list[tuple[dict[str, object], int, int, int | None]]] = {
    # torchvision googlenet(aux_logits=True / False, init_weights=True).
    "googlenet": [
        ({}, 13_004_888, 15_072, 1_498_376_192),
        ({"aux_logits": False}, 6_624_904, 14_560, 1_498_376_192),
    ],
    # torchvision inception_v3(aux_logits=True / False).
    "inception_v3": [
        ({}, 27_161_264, 36_224, 5_713_216_096),
        ({"aux_logits": False}, 23_834_568, 34_432, 5_713_216_096),
    ],
    # timm inception_v4, inception_resnet_v2.
    "inception_v4": [({}, 42_679_816, 63_168, 12_253_974_624)],
    "inception_resnet_v2": [({}, 55_843_464, 60_544, 13_155_794_016)],
    # keras.applications: trainable / non-trainable weight counts.
    "keras/inception_v3": [({}, 23_817_352, 34_432, None)],
    "keras/inception_resnet_v2": [({}, 55_813_192, 60_544, None)],
    "keras/xception": [({}, 22_855_952, 54_528, None)],
    # TF-slim inception_v1 (num_classes=0: no logits; 1001: slim's ImageNet head).
    "inception_v1_slim": [
        ({"num_classes": 0}, 5_592_624, 14_560, None),
        ({"num_classes": 1001}, 6_618_649, 14_560, None),
    ],
    # The README's CIFAR variant: torchvision's own modules assembled the same way
    # (BasicConv2d 3->32, 32->64, 64->192 3x3 pad 1; InceptionA(192, 32), InceptionA(256, 64),
    # InceptionB(288), InceptionC(768, 128), InceptionD(768), InceptionE(1280), pool, Linear(2048,
    # 10)) on a 1x3x32x32 input: sum of parameters, BN running stats, FlopCounterMode / 2.
    "variants/inception_v3_cifar": [({}, 9_877_930, 15_936, 1_759_265_792)],
    # pretrainedmodels bninception(num_classes=1000, pretrained=None): sum of parameters, BN
    # running stats, FlopCounterMode / 2 on 1x3x224x224.
    "bn_inception": [({}, 11_295_240, 20_032, 2_032_600_064)],
    # torchvision alexnet, vgg16, resnet18 (weights=None): the same three figures.
    "cnn/alexnet": [({}, 61_100_840, 0, 714_188_480)],
    "cnn/vgg16": [({}, 138_357_544, 0, 15_470_264_320)],
    "cnn/resnet18": [({}, 11_689_512, 9_600, 1_814_073_344)],
    # GoogLeNet as in the paper: no reference implementation; by hand from Table 1's channel
    # columns: weights 6,990,272 (5x5s, fc included) + 7,280 conv biases + 1,000 fc biases;
    # aux heads 3,188,840 + 3,190,888; MACs 1,582,671,872 (papers.md's 1.583G). The separable
    # first layer: 9,472 -> 2,776 params, 118,013,952 -> 34,019,328 MACs.
    "googlenet_paper": [
        ({}, 13_378_280, 0, 1_582_671_872),
        ({"aux_logits": False}, 6_998_552, 0, 1_582_671_872),
        ({"separable_conv1": True}, 13_371_584, 0, 1_498_677_248),
    ],
    # No reference implementation: the figures the spec computes (pinned; see its header).
    "inception_resnet_v1": [({}, 22_756_328, 27_040, 6_206_361_696)],
    # Inception-v3 as Table 1 lays it out: torchvision's 23,834,568 (no aux) + 2,119,680, the
    # differences itemised in the spec's header; aux head as torchvision's (3,326,696).
    "inception_v3_paper": [
        ({}, 29_280_944, 40_320, 6_352_562_784),
        ({"aux_logits": False}, 25_954_248, 38_528, 6_352_562_784),
    ],
    # torchvision googlenet with 5x5s: + 380,928 params (references.md section 5), + 16 x
    # 5,268,480 MACs; the BNs are the same.
    "variants/googlenet_5x5": [
        ({}, 13_385_816, 15_072, 1_582_671_872),
        ({"aux_logits": False}, 7_005_832, 14_560, 1_582_671_872),
    ],
    # timm inception_resnet_v2 with v1's B blocks: 20 x 338,240 fewer params, 20 x 320 fewer BN
    # channels (2 stats each).
    "variants/inception_resnet_v2_b_v1": [({}, 49_078_664, 54_144, 11_202_616_416)],
    # torchvision Inception3 built with a conv_block that halves every width, fc 1024 -> 1000
    # (aux on): sum of parameters, BN running stats, FlopCounterMode / 2.
    "variants/inception_v3_half": [({}, 7_505_088, 18_112, 1_433_611_440)],
    # torchvision efficientnet_b0, shufflenet_v2_x1_0 (weights=None) and timm
    # inception_next_tiny (pretrained=False): sum of parameters, BN running stats,
    # FlopCounterMode / 2 on 1x3x224x224 (references.md section 9; tests/test_fidelity_zoo.py
    # measures them again).
    "cnn/efficientnet_b0": [({}, 5_288_548, 42_016, 385_814_752)],
    # The family spec: torchvision efficientnet_b0 .. b7(weights=None), parameters and BN
    # running mean + var counted on torchvision 0.29's modules (tests/test_fidelity_efficientnet.py
    # compares every state_dict shape); b0's MACs as above.
    "efficientnet": [
        ({"variant": "b0"}, 5_288_548, 42_016, 385_814_752),
        ({"variant": "b1"}, 7_794_184, 62_048, None),
        ({"variant": "b2"}, 9_109_994, 67_568, None),
        ({"variant": "b3"}, 12_233_232, 87_296, None),
        ({"variant": "b4"}, 19_341_616, 125_200, None),
        ({"variant": "b5"}, 30_389_784, 172_736, None),
        ({"variant": "b6"}, 43_040_704, 224_432, None),
        ({"variant": "b7"}, 66_347_960, 310_720, None),
    ],
    "cnn/shufflenet_v2_x1_0": [({}, 2_278_604, 16_180, 144_907_992)],
    "inception_next_tiny": [({}, 28_055_680, 14_784, 4_188_634_272)],
    # torchvision convnext_tiny and convnext_small (weights=None): sum of parameters (no
    # buffers), FlopCounterMode / 2 on 1x3x224x224 (tests/test_fidelity_convnext.py measures
    # them again at 64x64).
    "convnext": [
        ({}, 28_589_128, 0, 4_455_531_264),
        ({"variant": "small"}, 50_223_688, 0, 8_683_712_256),
    ],
    # The family spec: torchvision regnet_y_400mf .. regnet_x_800mf (weights=None): sum of
    # parameters, BN running mean + var, FlopCounterMode / 2 on 1x3x224x224
    # (tests/test_fidelity_regnet.py compares every state_dict shape).
    "regnet": [
        ({"variant": "y_400mf"}, 4_344_144, 27_152, 401_842_848),
        ({"variant": "y_800mf"}, 6_432_512, 30_432, 833_856_256),
        ({"variant": "y_1_6gf"}, 11_202_430, 52_672, 1_612_076_160),
        ({"variant": "y_3_2gf"}, 19_436_338, 66_160, 3_176_482_752),
        ({"variant": "y_8gf"}, 39_381_472, 86_528, 8_473_070_592),
        ({"variant": "x_400mf"}, 5_495_976, 37_856, 413_812_608),
        ({"variant": "x_800mf"}, 7_259_656, 37_312, 799_699_712),
    ],
    # torchvision inception_v3 with torchvision.ops.SqueezeExcitation(C, C // 16) after each of
    # its eleven modules (tests/test_fidelity_zoo.py): + 1,661,620 params, + 1,650,944 MACs.
    "variants/se_inception_v3": [
        ({}, 28_822_884, 36_224, 5_714_867_040),
        ({"aux_logits": False}, 25_496_188, 34_432, 5_714_867_040),
    ],
}

PRESENT = {spec_id(p): p for p in bundled_specs()}
CASES = [
    pytest.param(PRESENT[sid], overrides, params, buffers, macs, id=f"{sid}-{i}")
    for sid, rows in REFERENCE.items()
    if sid in PRESENT
    for i, (overrides, params, buffers, macs) in enumerate(rows)
]


@pytest.mark.parametrize("path,overrides,params,buffers,macs", CASES)
def test_bundled_spec_matches_reference(
    path: Path, overrides: dict[str, object], params: int, buffers: int, macs: int | None
) -> None:
    rep = inceptdsl.load(str(path), **overrides).report()
    assert (rep.params, rep.buffers) == (params, buffers)
    if macs is not None:
        assert rep.macs == macs
        assert rep.flops == 2 * macs


def test_every_bundled_spec_has_reference_figures() -> None:
    """A new spec must come with its reference counts (add them to REFERENCE above)."""
    assert sorted(set(PRESENT) - set(REFERENCE)) == []


def test_reference_specs_are_found() -> None:
    # The spec list is not empty and is keyed the way REFERENCE is.
    assert "inception_v3" in PRESENT and "googlenet" in PRESENT
    assert all((SPECS / f"{sid}.incept").is_file() for sid in PRESENT)
