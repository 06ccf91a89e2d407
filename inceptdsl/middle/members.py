"""Families and their members. A network's first `choice[...]` parameter names its members
(`efficientnet(variant: choice["b0", ..., "b7"] = "b0")`); `inceptdsl list` shows them, a
sweep takes them as a dimension, and a spec argument may name one: `efficientnet_b3` is the
bundled `efficientnet` with `variant="b3"`, for every command that loads a spec (cli._load) and
for `inceptdsl.load`.
A file or bundled spec of that name wins, so a name never changes meaning when a family is
added beside it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import FileNotFoundSpecError, SpecError, UsageError
from ..front import ast as A
from ..front.loader import Program, load_program
from ..front.roots import SUFFIX, bundled_root, resolve_spec
from ..lower.binding import network_params
from ..names import did_you_mean
from .param_types import members

MAX_CANDIDATES = 8
"""Most bundled families one spec argument is tried as (one per `_` in it)."""


@dataclass(frozen=True)
class Family:
    """A network's member parameter and its members, in declared order."""

    param: str
    members: tuple[str, ...]
    default: str | None


def family_of(path: str) -> Family | None:
    """The family the spec at `path` declares (None: a single network, or not one network)."""
    return family_in(load_program(path))


def family_in(program: Program) -> Family | None:
    """The family a loaded program's network is (None: a single network)."""
    nets = program.root.module.networks
    if len(nets) != 1:
        return None
    for p in network_params(nets[0], program.root):
        names = members(p.type)
        if names is not None:
            default = p.default.value if isinstance(p.default, A.String) else None
            return Family(p.name, names, default if default in names else None)
    return None


@dataclass(frozen=True)
class Member:
    """What a spec argument that names a member resolves to."""

    spec: str
    """The bundled family's name (`efficientnet`)."""
    param: str
    member: str


def resolve_member(arg: str) -> Member | None:
    """The member a spec argument FAMILY_MEMBER names, when no file or bundled spec is called
    `arg` and the bundled family FAMILY has the member MEMBER; None when `arg` is no such name.
    A name whose family exists but whose member does not is E002 with the closest member."""
    root = bundled_root()
    if root is None or os.path.lexists(arg) or "_" not in arg or arg.startswith("@"):
        return None
    try:
        if resolve_spec(arg)[1] is not None:
            return None  # a bundled spec of that very name
    except SpecError:
        return None
    near: list[str] = []
    lists: list[str] = []
    cuts = [i for i, c in enumerate(arg) if c == "_"][:MAX_CANDIDATES]
    for i in cuts:
        spec, member = arg[:i], arg[i + 1 :]
        path = os.path.join(root.path, spec + SUFFIX)
        if not member or not os.path.isfile(path) or resolve_spec(spec)[1] is None:
            continue
        fam = family_of(path)
        if fam is None:
            continue
        if member in fam.members:
            return Member(spec, fam.param, member)
        near += [f"{spec}_{m}" for m in fam.members]
        lists.append(f"{spec}'s members: {', '.join(fam.members)}")
    if near:
        hint = did_you_mean(arg, near)
        raise FileNotFoundSpecError(
            f"no such file or bundled network: {arg}",
            path=arg,
            hint=(hint + " " if hint else "") + "; ".join(lists),
        )
    return None


def with_member(arg: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A spec argument and its `--set` values, a member's name resolved: (`efficientnet`,
    {"variant": "b3", ...}) for `efficientnet_b3`. Setting the member parameter as well is a
    usage error, even to the same value: one of the two would be ignored."""
    m = resolve_member(arg)
    if m is None:
        return arg, dict(params)
    if m.param in params:
        raise UsageError(
            f"{arg} is {m.spec} with {m.param}={m.member}: setting {m.param} as well "
            "contradicts it",
            hint=f"name the family instead ({m.spec} with {m.param}=...), or drop the "
            f"{m.param} value",
        )
    return m.spec, {m.param: m.member, **params}
