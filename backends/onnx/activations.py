"""The ONNX nodes of every activation function (a test checks this covers the registry's).

Each rule computes the definition in docs/ir.md exactly: gelu is ONNX's exact `Gelu` (opset 20,
not the tanh approximation), hardsigmoid is `HardSigmoid(alpha=1/6, beta=1/2)` = relu6(x+3)/6,
silu is x * sigmoid(x) (ONNX has no Swish before opset 24).
"""

from __future__ import annotations

from collections.abc import Callable

from inceptdsl.errors import InvalidValueError
from inceptdsl.ir.ops import Activation

from .emitter import Emitter

ActRule = Callable[[Emitter, str, Activation, str], str]


def _plain(op_type: str) -> ActRule:
    def rule(e: Emitter, scope: str, a: Activation, x: str) -> str:
        return e.op(scope, op_type, [x])

    return rule


def _relu6(e: Emitter, scope: str, a: Activation, x: str) -> str:
    return e.op(scope, "Clip", [x, e.const(scope, "min", 0.0), e.const(scope, "max", 6.0)])


def _silu(e: Emitter, scope: str, a: Activation, x: str) -> str:
    return e.op(scope, "Mul", [x, e.op(scope, "Sigmoid", [x])])


def _hardsigmoid(e: Emitter, scope: str, a: Activation, x: str) -> str:
    return e.op(scope, "HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)


def _leaky_relu(e: Emitter, scope: str, a: Activation, x: str) -> str:
    return e.op(scope, "LeakyRelu", [x], alpha=float(a.param("slope")))


def _elu(e: Emitter, scope: str, a: Activation, x: str) -> str:
    return e.op(scope, "Elu", [x], alpha=float(a.param("alpha")))


ACTIVATIONS: dict[str, ActRule] = {
    "relu": _plain("Relu"),
    "relu6": _relu6,
    "sigmoid": _plain("Sigmoid"),
    "tanh": _plain("Tanh"),
    "gelu": _plain("Gelu"),
    "silu": _silu,
    "hardswish": _plain("HardSwish"),
    "hardsigmoid": _hardsigmoid,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "mish": _plain("Mish"),
    "softplus": _plain("Softplus"),
}
"""The ONNX rule of every activation, by registry name."""


def activation(e: Emitter, scope: str, a: Activation, x: str) -> str:
    rule = ACTIVATIONS.get(a.fn)
    if rule is None:
        raise InvalidValueError(f"the onnx backend has no activation {a.fn!r}")
    return rule(e, scope, a, x)
