"""One block per class: instances whose structure differs in a part are written as one body.

ResNet's Bottleneck with and without a `downsample`, timm's Block8 whose last instance has no
ReLU, Xception's module without the skip of its last instance: the hand-written specs write
each as one block with an `if` (resnet18's `if stride != 1 ...`) or an `act` parameter. Here
the bodies of a class's instances are merged into one shape: a unit some instances lack is
`if has_PART { ... }`, an activation some lack is a unit whose kind becomes an `act` parameter
(`none` where it is absent), and a residual some lack is `if has_residual { residual { ... } }
else { ... }`. Each instance is then fitted to the shape; the part it lacks is a `wild` copy
whose values block recovery fills from the other instances (blocks.py). When a body does not
fit (a unit that moved, a merge of another arity), the class keeps one block per structure.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from ..ir.ops import ACTIVATIONS
from .units import UIf, ULayer, UMerge, Unit, UResidual, UScope, walk


class NoFit(Exception):
    """The bodies differ in a way one block with `if`s and `act` parameters cannot write."""


def is_act(u: Unit) -> bool:
    """A bare activation layer (no arguments or options): its kind may be a parameter."""
    return (
        isinstance(u, ULayer)
        and (u.layer.kind in ACTIVATIONS or u.layer.kind == "none")
        and not u.layer.args
        and not u.layer.opts
    )


def _key(u: Unit) -> tuple[Any, ...]:
    if is_act(u):
        assert isinstance(u, ULayer)
        return ("act", u.label)
    if isinstance(u, ULayer):
        return ("layer", u.label, u.layer.kind)
    if isinstance(u, UScope):
        return ("scope", u.label, u.cls, u.group, None if u.group else u.block)
    if isinstance(u, UMerge):
        return ("merge", u.layer.kind, len(u.branches))
    if isinstance(u, UResidual):
        return ("residual",)
    if isinstance(u, UIf):
        return ("if", u.what)
    return ("other", id(u))


def _what(u: Unit) -> str:
    if isinstance(u, (ULayer, UScope)) and (u.label or u.seg):
        return str(u.label or u.seg)
    return u.layer.kind if isinstance(u, (ULayer, UMerge)) else "part"


def _union1(a: Unit, b: Unit) -> Unit:
    if isinstance(a, UScope) and isinstance(b, UScope) and a.group:
        return replace(a, body=union(a.body, b.body))
    if isinstance(a, UMerge) and isinstance(b, UMerge):
        return replace(
            a, branches=[union(x, y) for x, y in zip(a.branches, b.branches, strict=True)]
        )
    if isinstance(a, UResidual) and isinstance(b, UResidual):
        return replace(a, main=union(a.main, b.main), shortcut=union(a.shortcut, b.shortcut))
    return a


def union(a: list[Unit], b: list[Unit]) -> list[Unit]:
    """A shape that every body fitted to `a` and `b` fits (`a` may be a shape already)."""
    if len(a) == 1 and isinstance(a[0], UIf) and a[0].what == "residual":
        r = a[0]
        if len(b) == 1 and isinstance(b[0], UResidual):
            return [replace(r, then=[_union1(r.then[0], b[0])])]
        return [replace(r, other=union(r.other, b))]
    for x, y in ((a, b), (b, a)):
        if (
            len(x) == 1
            and isinstance(x[0], UResidual)
            and not any(isinstance(u, (UResidual, UIf)) for u in y)
        ):
            main = union(x[0].main, y)
            return [UIf(True, [replace(x[0], main=main)], main, "residual")]
    out: list[Unit] = []
    i = j = 0
    while i < len(a) or j < len(b):
        ua = a[i] if i < len(a) else None
        ub = b[j] if j < len(b) else None
        if ua is not None and ub is not None and _key(ua) == _key(ub):
            out.append(_union1(ua, ub))
            i, j = i + 1, j + 1
            continue
        if isinstance(ua, UIf):
            if ub is not None and _key(ua.then[0]) == _key(ub):
                out.append(replace(ua, then=[_union1(ua.then[0], ub)]))
                j += 1
            else:
                out.append(ua)
            i += 1
            continue
        a_extra = ua is not None and (ub is None or _key(ub) in [_key(x) for x in a[i + 1 :]])
        b_extra = ub is not None and (ua is None or _key(ua) in [_key(x) for x in b[j + 1 :]])
        if a_extra == b_extra:
            if ua is not None and ub is not None and is_act(ua) != is_act(ub):
                a_extra, b_extra = is_act(ua), is_act(ub)
            else:
                raise NoFit
        extra = ua if a_extra else ub
        assert extra is not None
        out.append(extra if is_act(extra) else UIf(True, [extra], [], _what(extra)))
        if a_extra:
            i += 1
        else:
            j += 1
    return out


def wild(units: list[Unit]) -> list[Unit]:
    """A copy of `units` standing for a part an instance lacks (its values are not its own)."""
    out = copy.deepcopy(units)
    for u in walk(out):
        if isinstance(u, (ULayer, UScope, UResidual, UIf)):
            u.wild = True
    return out


def _none_act(s: ULayer) -> ULayer:
    return replace(s, layer=replace(s.layer, kind="none"), wild=False)


def _fit1(s: Unit, b: Unit) -> Unit:
    if isinstance(s, UScope) and isinstance(b, UScope) and s.group:
        b.body = fit(s.body, b.body)
    elif isinstance(s, UMerge) and isinstance(b, UMerge):
        b.branches = [fit(x, y) for x, y in zip(s.branches, b.branches, strict=True)]
    elif isinstance(s, UResidual) and isinstance(b, UResidual):
        b.main, b.shortcut = fit(s.main, b.main), fit(s.shortcut, b.shortcut)
    return b


def fit(shape: list[Unit], body: list[Unit]) -> list[Unit]:
    """`body` written in `shape`'s form: its own units, `if`s saying which parts it has."""
    out: list[Unit] = []
    j = 0
    for s in shape:
        b = body[j] if j < len(body) else None
        if isinstance(s, UIf) and s.what == "residual":
            if isinstance(b, UResidual):
                r = _fit1(s.then[0], b)
                assert isinstance(r, UResidual)
                out.append(UIf(True, [r], copy.deepcopy(r.main), "residual"))
                j += 1
            else:
                main = fit(s.other, body[j:])
                r = copy.deepcopy(s.then[0])
                assert isinstance(r, UResidual)
                r.wild, r.main, r.shortcut = True, copy.deepcopy(main), wild(r.shortcut)
                out.append(UIf(False, [r], main, "residual"))
                j = len(body)
        elif isinstance(s, UIf):
            if b is not None and _key(b) == _key(s.then[0]):
                out.append(UIf(True, [_fit1(s.then[0], b)], [], s.what))
                j += 1
            else:
                out.append(UIf(False, wild(s.then), [], s.what))
        elif b is not None and _key(b) == _key(s):
            out.append(_fit1(s, b))
            j += 1
        elif isinstance(s, ULayer) and is_act(s):
            out.append(_none_act(s))
        else:
            raise NoFit
    if j != len(body):
        raise NoFit
    return out


def unify(instances: list[UScope]) -> bool:
    """Rewrite the instances' bodies into one shape; False (nothing changed) when they do
    not fit one."""
    order = sorted(instances, key=lambda u: -len(walk(u.body)))
    try:
        shape = order[0].body
        for u in order[1:]:
            shape = union(shape, u.body)
        bodies = [fit(shape, copy.deepcopy(u.body)) for u in instances]
    except NoFit:
        return False
    for u, body in zip(instances, bodies, strict=True):
        u.body = body
    return True
