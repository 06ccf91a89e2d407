"""Labels for the unit tree, chosen so that lowering the spec gives every node its module path.

This applies the language's naming rules (docs/language.md, "Names"; the one namespace rule is
lower/scopes.py's Namespace, used here too) to the unit tree: a label names its unit; in a
labelled group, unlabelled members are numbered 0, 1, ...; elsewhere an unlabelled layer gets
its layer name (`relu`, `relu_1`, ...) and merges get `concat`, `add`, ...; a name is used once
per scope. Units that hold state must get their module's name; stateless ones keep their
module's name where it is free (for readability) and otherwise go unlabelled, or get a fresh
label where a generated name would take a name that a later unit needs.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError, UnsupportedModelError
from ..lower.scopes import Namespace
from .units import UAux, ULayer, UMerge, Unit, URepeat, UResidual, UScope, walk


class _Namespace(Namespace):
    """Lowering's namespace rule (lower/scopes.py), plus the labels this namespace must keep
    (units that hold state): a generated name may not take one of those."""

    def __init__(self, prefix: str, indexed: bool, required: set[str]) -> None:
        super().__init__(prefix, indexed)
        self.required = required

    def duplicate(self, name: str, where: Any) -> SpecError:
        return UnsupportedModelError(
            f"two units would both be named `{self.prefix}{name}` ({where})"
        )

    def generated(self, base: str, where: Any) -> str:
        name = self.peek_generated(base)
        if name in self.required:
            raise UnsupportedModelError(
                f"the generated name `{self.prefix}{name}` of a {base} ({where}) is also the "
                "name of a module that holds state",
                hint="rename that module",
            )
        return super().generated(base, where)

    def fresh(self, base: str) -> str:
        """A label of `base`'s form that is neither taken nor required."""
        n = 0
        while True:
            name = base if n == 0 else f"{base}_{n}"
            if name not in self.taken and name not in self.required:
                return name
            n += 1


def _required(body: list[Unit]) -> set[str]:
    """Labels that units of this namespace must have (not looking into labelled scopes)."""
    out: set[str] = set()
    for u in body:
        if isinstance(u, ULayer) and u.required and u.seg and not u.seg.isdigit():
            out.add(u.seg)
        elif isinstance(u, UScope) and u.seg and not u.seg.isdigit():
            out.add(u.seg)
        elif isinstance(u, UScope) and not u.seg:
            out |= _required(u.body)
        elif isinstance(u, UMerge):
            for b in u.branches:
                out |= _required(b)
        elif isinstance(u, UResidual):
            out |= _required(u.main) | _required(u.shortcut)
        elif isinstance(u, UAux):
            out.add(u.name)
    return out


def _where(u: ULayer) -> str:
    return u.layer.where or u.layer.id


def _name_layer(u: ULayer, ns: _Namespace) -> None:
    seg = u.seg
    if seg is not None and seg.isdigit():
        if ns.indexed and int(seg) == ns.next_index and seg not in ns.taken:
            u.label = None
            u.name = ns.index(_where(u))
            return
        if u.required and ns.indexed and seg in ns.taken:
            raise UnsupportedModelError(
                f"{_where(u)}: its number in the sequence {ns.prefix.rstrip('.') or 'network'} "
                "cannot be kept (the members before it are not used in order)",
                u.layer.span,
            )
        if not u.required:
            seg = None
    # A numbered member after a gap (ConvNeXt's block.2, after a Permute that holds nothing)
    # keeps its number as a quoted label: `"2": layernorm`.
    if u.required:
        assert seg is not None
        u.label = seg
        u.name = ns.claim(seg, _where(u))
        return
    if seg is not None and seg == u.layer.kind and ns.peek_generated(seg) == seg:
        seg = None  # `relu: relu`: the generated name is the module's name anyway
    if seg is not None and seg not in ns.taken and seg not in ns.required:
        u.label = seg
        u.name = ns.claim(seg, _where(u))
        return
    base = u.layer.kind
    if ns.indexed or ns.peek_generated(base) in ns.required:
        u.label = ns.fresh(base)
        u.name = ns.claim(u.label, _where(u))
        return
    u.label = None
    u.name = ns.generated(base, _where(u))


def _structure_in_sequence(ns: _Namespace, what: str) -> UnsupportedModelError:
    return UnsupportedModelError(
        f"{what} inside the numbered sequence {ns.prefix.rstrip('.')}: the spec would number "
        "it and its members, unlike the model"
    )


def name_body(body: list[Unit], ns: _Namespace) -> None:
    for u in body:
        if isinstance(u, ULayer):
            _name_layer(u, ns)
        elif isinstance(u, UScope):
            if not u.seg:  # the unlabelled call of an aux head's body
                u.label, u.name = None, ns.prefix.rstrip(".")
                name_body(u.body, ns)
                continue
            if u.seg.isdigit():
                if not (ns.indexed and int(u.seg) == ns.next_index):
                    raise UnsupportedModelError(
                        f"module {u.path}: its number in the sequence cannot be kept (the "
                        "members before it are not used in order)"
                    )
                u.label = None
                u.name = ns.index(u.path)
            else:
                u.label = u.seg
                u.name = ns.claim(u.seg, u.path)
            child = _Namespace(u.name + ".", u.group, _required(u.body))
            name_body(u.body, child)
        elif isinstance(u, URepeat):
            name_body([u.unit], ns)
        elif isinstance(u, UMerge):
            if ns.indexed:
                raise _structure_in_sequence(ns, f"a {u.layer.kind}")
            for b in u.branches:
                name_body(b, ns)
            u.name = ns.generated(u.layer.kind, u.layer.where or u.layer.kind)
        elif isinstance(u, UResidual):
            if ns.indexed:
                raise _structure_in_sequence(ns, "a residual add")
            name_body(u.main, ns)
            if u.scale is not None:
                ns.generated("scale", "the residual's scale")
            name_body(u.shortcut, ns)
            u.name = ns.generated("add", u.layer.where or "add")
            if u.act is not None:
                u.name = ns.generated(u.act, "the residual's activation")
        elif isinstance(u, UAux):
            ns.claim(u.name, f"aux head {u.name}")
            child = _Namespace(ns.prefix + u.name + ".", False, _required(u.body))
            name_body(u.body, child)


def place_aux(body: list[Unit], auxes: list[UAux]) -> list[Unit]:
    """`body` with each aux head right after the top-level unit that computes its tap."""
    out = list(body)
    for aux in auxes:
        pos = None
        for i, u in enumerate(out):
            if isinstance(u, UAux):
                continue
            ids = {x.layer.id for x in walk([u]) if isinstance(x, (ULayer, UMerge))}
            ids |= {x.output for x in walk([u]) if isinstance(x, (UScope, UResidual))}
            if aux.tap in ids:
                pos = i
        if pos is None:
            pos = -1  # the tap is the network input
        j = pos + 1
        while j < len(out) and isinstance(out[j], UAux):
            j += 1
        out.insert(j, aux)
    return out


def name_network(body: list[Unit]) -> None:
    """Label every unit of the network body (aux heads placed) and record full names."""
    ns = _Namespace("", False, _required(body))
    name_body(body, ns)
    outputs: dict[str, str] = {}
    for u in walk(body):
        if isinstance(u, UScope) and u.name and u.output not in outputs:
            outputs[u.output] = u.name
        elif isinstance(u, (ULayer, UMerge)) and u.layer.id not in outputs:
            outputs[u.layer.id] = u.name
        elif isinstance(u, UResidual) and u.output not in outputs:
            outputs[u.output] = u.name
    for u in body:
        if isinstance(u, UAux):
            u.tap_name = outputs.get(u.tap, "input")
