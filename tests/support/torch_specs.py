"""Small specs that together use every IR op, and the helpers the backend, fidelity and
cross-framework tests build and feed torch models of them with (torch is imported on first use).

The bundled specs only use the ops the reference models need; these exercise the rest (LRN,
separable convs, partial batch norm, TF `same` padding with the odd pixel bottom/right,
ceil-mode and count_pad pooling, residual scale/add, identity, aux heads, dotted and numbered
names). tests/test_backend_torch_specs.py checks that they cover every op.
"""

from __future__ import annotations

import networkx as nx

import inceptdsl

from .lazy import nn, torch

SPECS: dict[str, str] = {
    # v3-style stem and modules: conv units, valid/explicit pads, max/avg pools, concat, fc.
    "branches": """
network branches(num_classes: int = 7) {
  input 3 x 32 x 32
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  stem: conv 16 3x3 stride=2
  Mixed: concat {
    branch1x1: conv 8 1x1
    branch5x5_1: conv 8 1x1 -> branch5x5_2: conv 8 5x5 pad=2
    branch7: conv 8 1x7 pad=(0, 3) -> conv 8 7x1 pad=(3, 0)
    avgpool 3x3 stride=1 pad=1 -> branch_pool: conv 8 1x1
    maxpool 3x3 stride=1 pad=1
  }
  global_avgpool
  dropout 0.5
  flatten
  fc: linear num_classes
}
""",
    # TF 'same' padding on even sizes (asymmetric pads), separable convs with partial BN,
    # LRN, keras-style count_pad=false average pooling, relu6/sigmoid/tanh/gelu/silu.
    "tfsame": """
network tfsame {
  input 3 x 16 x 16
  stem: conv 8 3x3 stride=2 pad=same bias=false bn=bn(scale=false, eps=0.001) act=relu
  pool: maxpool 3x3 stride=2 pad=same
  sep: sepconv 12 3x3 pad=same multiplier=2 bias=false bn=bn(eps=0.001) act=relu6
  sep2: sepconv 8 3x3 stride=2 pad=same bias=true
  norm: bn scale=false center=false
  lrn 3 alpha=0.001 beta=0.5 k=2.0
  a1: sigmoid
  avg: avgpool 3x3 stride=2 pad=same count_pad=false
  concat { tanh
    gelu
    silu
  }
  gmax: global_maxpool
  flatten
  fc: linear 4 bias=false
}
""",
    # Inception-ResNet: residual scale then add, repeat (numbered names), identity, a final
    # block without activation, ceil-mode pooling, adaptive pooling and BN on features.
    "residual": """
network resnetlike {
  input 3 x 19 x 19
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  stem: conv 16 3x3 stride=2
  pool: maxpool 3x3 stride=2 ceil=true
  features: repeat 2 {
    residual scale=0.17 {
      concat {
        branch0: conv 8 1x1
        branch1: { conv 8 1x1
          conv 8 3x3 pad=1
        }
      }
      conv2d: conv 16 1x1 bias=true bn=none act=none
    }
    relu
  }
  skip: identity
  tail: residual scale=1.0 {
    conv 16 1x1 bias=true bn=none act=none
  }
  avgpool 2x2 stride=2 ceil=true count_pad=false
  adaptive_avgpool 2x2
  feat_bn: bn eps=0.01 momentum=0.3
  flatten
  head: linear 6
}
""",
    # GoogLeNet-style: two training-only aux heads (adaptive pool, fc, dropout), ceil pooling.
    "auxnet": """
network auxnet(num_classes: int = 5) {
  input 3 x 32 x 32
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  conv1: conv 16 3x3 stride=2 pad=1
  maxpool1: maxpool 3x3 stride=2 ceil=true
  block1: conv 16 3x3 pad=1
  aux1: aux from block1 weight=0.3 {
    adaptive_avgpool 4x4
    conv: conv 8 1x1
    flatten
    fc1: linear 32
    relu
    dropout 0.7
    fc2: linear num_classes
  }
  block2: conv 24 3x3 pad=1
  aux2: aux from block2 weight=0.3 {
    adaptive_avgpool 4x4
    conv: conv 8 1x1
    flatten
    fc1: linear 32
    relu
    dropout 0.7
    fc2: linear num_classes
  }
  global_avgpool
  flatten
  fc: linear num_classes
}
""",
    # The ops of the newer bundled specs (efficientnet_b0, shufflenet_v2_x1_0,
    # inception_next_tiny, se_inception_v3): an SE gate (multiply), channel split halves and
    # shuffle, depthwise convs, InceptionNeXt's (C - 3g, g, g, g) split, a layer scale at its
    # block's path, drop path on a residual and LayerNorm on a vector.
    "modern": """
network modern(num_classes: int = 5) {
  input 3 x 16 x 16
  stem: conv 16 3x3 stride=2 pad=1 bias=false bn=true act=silu
  se: multiply {
    identity
    { global_avgpool -> fc1: conv 4 1x1 -> relu -> fc2: conv 16 1x1 -> sigmoid }
  }
  unit: concat split=2 {
    identity
    branch2: { conv 8 1x1 bias=false -> bn -> relu -> dwconv 3x3 pad=1 bias=false -> bn }
  }
  shuffle 2
  blk: residual {
    token_mixer: concat split=(10, 2, 2, 2) {
      identity
      dwconv_hw: dwconv 3x3 pad=1
      dwconv_w: dwconv 1x5 pad=(0, 2)
      dwconv_h: dwconv 5x1 pad=(2, 0)
    }
    norm: bn
    fc: conv 16 1x1
    gamma: layer_scale init=0.5
    drop_path 0.1
  }
  global_avgpool
  flatten
  head_norm: layernorm eps=1e-6
  fc: linear num_classes
}
""",
    # Numbered names at the top level (nn.Sequential style) and a feature-map output.
    "numbered": """
network numbered {
  input 3 x 12 x 12
  repeat 2 as "{i}" {
    c: conv 4 3x3 pad=1 act=relu
  }
  last: conv 6 1x1
}
""",
}


def load(name: str, **params: object) -> nx.DiGraph:
    """The IR graph of small spec `name`."""
    return inceptdsl.loads(SPECS[name], filename=f"{name}.incept", **params).graph


def randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BN non-trivial running stats and affine values, so BN handling is tested."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                if m.weight is not None:
                    m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
    return model


def example(g: nx.DiGraph, batch: int = 2, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, *g.graph["input_shape"], generator=gen)
