"""Fusing layers into the language's conv units, on the framework-free layer graph.

A module holding exactly a `conv` and a `bn` child (torchvision's BasicConv2d, timm's
ConvNormAct), optionally followed by an activation, is one `conv ... bn=... act=...` unit named
after the module: the torch backend builds such a unit with children `conv` and `bn`, so the
state_dict keys match. A convolution whose only consumer is an activation (Caffe's in-place
ReLU) takes it as `act=`. Activations that are numbered members of a sequence keep their own
unit, since removing one would renumber the members after it.
"""

from __future__ import annotations

from ..ir.ops import ACTIVATIONS
from .model import Layer, LayerGraph, Rec, Sym

BN_FIELD_DEFAULTS = {"eps": 1e-5, "momentum": 0.1, "scale": True, "center": True}


def fuse(graph: LayerGraph) -> None:
    """The fusions, in place."""
    fuse_conv_units(graph)
    if graph.origin == "caffe":
        fuse_caffe_bn(graph)
    fuse_activations(graph)


def fuse_caffe_bn(graph: LayerGraph) -> None:
    """Caffe's Convolution -> BatchNorm (+ Scale) is one `conv ... bn=` unit: a Caffe file has
    no state_dict whose keys the unit's children would change, and the unit has the same
    parameters, buffers and function. Only where the conv's sole consumer is the batch norm,
    in the same scope; the header says how many were fused."""
    consumers = graph.consumers()
    fused = 0
    for layer in list(graph.layers.values()):
        if layer.id not in graph.layers or layer.kind != "bn":
            continue
        conv = graph.layers.get(layer.inputs[0]) if len(layer.inputs) == 1 else None
        if (
            conv is None
            or conv.kind != "conv"
            or "bn" in conv.opts
            or "act" in conv.opts
            or consumers[conv.id] != [layer.id]
            or conv.scopes != layer.scopes
            or conv.aux != layer.aux
            or any(h.tap == conv.id for h in graph.aux_heads)
        ):
            continue
        conv.opts["bn"] = bn_record(layer)
        conv.where = f"{conv.where} + {layer.where}"
        _remove(graph, layer, conv)
        consumers = graph.consumers()
        fused += 1
    if fused:
        graph.header.append(
            f"{fused} Convolution + BatchNorm (+ Scale) pairs are written as one conv unit "
            "with bn= (the same parameters, buffers and function)."
        )


def _remove(graph: LayerGraph, layer: Layer, into: Layer) -> None:
    """Drop `layer` (whose single input is `into`'s output) and let its consumers read `into`."""
    del graph.layers[layer.id]
    for other in graph.layers.values():
        if layer.id in other.inputs:
            other.inputs = tuple(into.id if i == layer.id else i for i in other.inputs)
    if graph.output == layer.id:
        graph.output = into.id
    graph.aux_heads = [
        type(h)(
            h.name,
            into.id if h.tap == layer.id else h.tap,
            into.id if h.output == layer.id else h.output,
            h.weight,
        )
        for h in graph.aux_heads
    ]


def bn_record(bn: Layer) -> Rec | bool:
    """The `bn=` value of a conv unit from a separate `bn` layer's options."""
    fields = tuple(
        (k, bn.opts[k])
        for k in BN_FIELD_DEFAULTS
        if k in bn.opts and bn.opts[k] != BN_FIELD_DEFAULTS[k]
    )
    return Rec("bn", fields) if fields else True


def act_value(act: Layer) -> Sym | Rec:
    """An activation layer as an `act=` value: `relu`, or `leaky_relu(slope=0.2)`."""
    return Rec(act.kind, tuple(sorted(act.opts.items()))) if act.opts else Sym(act.kind)


def _is_numbered(layer: Layer) -> bool:
    return layer.path is not None and layer.path.rsplit(".", 1)[-1].isdigit()


def fuse_conv_units(graph: LayerGraph) -> None:
    by_scope: dict[str, list[Layer]] = {}
    for layer in graph.layers.values():
        if layer.scopes:
            by_scope.setdefault(layer.scopes[-1], []).append(layer)
    consumers = graph.consumers()
    for path, members in by_scope.items():
        if not 2 <= len(members) <= 3:
            continue
        conv, bn, *rest = members
        act = rest[0] if rest else None
        if not (
            conv.kind == "conv"
            and conv.path == f"{path}.conv"
            and "act" not in conv.opts
            and bn.kind == "bn"
            and bn.path == f"{path}.bn"
            and bn.inputs == (conv.id,)
            and consumers[conv.id] == [bn.id]
        ):
            continue
        if act is not None and not (
            act.kind in ACTIVATIONS
            and not act.stateful
            and act.inputs == (bn.id,)
            and consumers[bn.id] == [act.id]
        ):
            continue
        if any(m.aux != conv.aux for m in members):
            continue
        conv.opts["bn"] = bn_record(bn)
        conv.path = path
        conv.scopes = conv.scopes[:-1]
        conv.where = graph.scopes[path].where if path in graph.scopes else path
        _remove(graph, bn, conv)
        if act is not None:
            conv.opts["act"] = act_value(act)
            _remove(graph, act, conv)
        consumers = graph.consumers()


def fuse_activations(graph: LayerGraph) -> None:
    consumers = graph.consumers()
    taps = {h.tap for h in graph.aux_heads}
    for layer in list(graph.layers.values()):
        if layer.id not in graph.layers or layer.kind != "conv" or layer.opts.get("act"):
            continue
        users = consumers[layer.id]
        if len(users) != 1 or layer.id in taps:
            continue
        act = graph.layers[users[0]]
        if (
            act.kind in ACTIVATIONS
            and not act.stateful
            and not _is_numbered(act)
            and act.scopes == layer.scopes
            and act.aux == layer.aux
        ):
            layer.opts["act"] = act_value(act)
            if act.comment and not layer.comment:
                layer.comment = act.comment
            _remove(graph, act, layer)
            consumers = graph.consumers()
