"""The verification report (`inceptdsl verification`, docs/verification.md): every bundled spec
set against what its papers claim and what its reference implementation has, with the reason
for every difference.

Why generated: the claims live in the specs, as `expect` declarations whose `source` cites the
paper or the reference implementation, and the explanations live in the specs' header comments
(house style). A hand-written report would drift from both; this one is rebuilt from them, and
a test compares it with the committed file. No framework is imported: the reference
implementations' figures are the constants the specs cite (measured once, recorded in the
shared references), and every number this module prints is computed by inceptdsl itself.

Sections: a summary with one row per spec; one section per spec (its header comment, then every
expectation with its actual value); GoogLeNet's Table 1 row by row (the `expect`s of
specs/googlenet_paper.incept whose source starts with "Table 1 row"); what the aux heads add;
and the Xception paper's Inception V3 count (23,626,728) against every decomposition of the
Inception-v3 specs' parameters.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .evaluate import format_value
from .expect import ExpectResult
from .ir import inputs
from .network import Network, load
from .report import Report

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
DEFAULT_OUTPUT = SPECS_DIR.parent / "docs" / "verification.md"
COMMAND = "inceptdsl verification -o docs/verification.md"

# The spec whose expectations are checked row by row against GoogLeNet's Table 1, and the
# source prefix that marks those expectations.
TABLE1_SPEC = "googlenet_paper.incept"
TABLE1_PREFIX = "Table 1 row "

# Xception paper (Chollet 2017, arXiv:1610.02357), Table 3: "Inception V3 23,626,728".
XCEPTION_TABLE3_V3 = 23_626_728


@dataclass(frozen=True)
class SpecResult:
    """One bundled spec: its path relative to the specs root, network, report and results."""

    rel: str
    net: Network
    report: Report
    results: list[ExpectResult]
    header: str

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def bundled_specs(root: Path = SPECS_DIR) -> list[Path]:
    """Every spec that declares a network (specs/lib holds shared blocks), in path order."""
    return sorted(p for p in root.rglob("*.incept") if "lib" not in p.relative_to(root).parts)


def header_comment(text: str) -> str:
    """The comment lines at the top of a spec, without `#`: the spec's own explanation.

    Stops at the first line that is neither a comment nor blank; blank lines and lone `#`
    separate paragraphs.
    """
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        body = stripped[1:] if stripped.startswith("#") else ""
        lines.append(body[1:] if body.startswith(" ") else body)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def kind(source: str) -> str:
    """What an expectation's citation is: `paper`, `reference` (an implementation or a table
    measured on one) or `derived` (arithmetic on other figures, or computed here)."""
    s = source.lower()
    if s.startswith(("derived", "computed")):
        return "derived"
    head = s.split(":", 1)[0]
    if s.startswith(("paper", "table ", "figure ", "section ")) or " paper" in head:
        return "paper"
    return "reference"


def collect(root: Path = SPECS_DIR) -> list[SpecResult]:
    out = []
    for path in bundled_specs(root):
        net = load(str(path))
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        out.append(SpecResult(rel, net, net.report(), net.verify(), header_comment(text)))
    return out


# ---- formatting ---------------------------------------------------------------------------------


def _num(v: Any) -> str:
    if isinstance(v, tuple):
        return "x".join(str(x) for x in v)
    if isinstance(v, bool):
        return format_value(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return format_value(v)


def _cell(s: str) -> str:
    """Text for a Markdown table cell."""
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;")


def _delta(r: ExpectResult) -> str:
    a, e = r.actual, r.expected
    if isinstance(a, tuple) or isinstance(e, tuple) or isinstance(e, bool):
        return "" if a == e else "differs"
    d = a - e
    if d == 0:
        return "0"
    text = f"{d:+,}" if isinstance(d, int) else f"{d:+,.6g}"
    return f"{text} ({100 * d / e:+.1f}%)" if e else text


def _expectation(r: ExpectResult) -> str:
    cmp = {"~=": "≈", "!=": "≠", "<=": "≤", ">=": "≥"}.get(r.cmp, r.cmp)
    text = f"`{r.metric}` {cmp} {_num(r.expected)}"
    if r.tolerance:
        text += f" ± {r.tolerance}"
    if r.with_:
        text += f" (with {r.with_})"
    return text


def _status(r: ExpectResult) -> str:
    return "ok" if r.ok else "**FAIL**"


def _blockquote(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        body = line.replace("<", "&lt;")
        # A `*` is a list marker at the start of a line and literal anywhere else.
        lead = len(body) - len(body.lstrip())
        rest = body[lead:]
        marker = ""
        if rest.startswith(("* ", "- ")):
            marker, rest = rest[:2], rest[2:]
        rest = rest.replace("*", "\\*")
        if rest.startswith("#"):
            rest = "\\" + rest
        out.append(f"> {body[:lead]}{marker}{rest}".rstrip())
    return out


def _totals_line(rep: Report) -> str:
    aux = ""
    if rep.aux_heads:
        aux = (
            f" (aux heads {', '.join(rep.aux_heads)}: {rep.aux_params:,} params, "
            f"{rep.aux_buffers:,} buffers; without them {rep.params - rep.aux_params:,})"
        )
    return (
        f"Computed: **{rep.params:,}** params{aux}, {rep.buffers:,} buffers, "
        f"**{rep.macs:,}** MACs ({rep.macs / 1e9:.3f} G), input "
        f"{'x'.join(map(str, rep.input_shape))}."
    )


def _claims(results: Iterable[ExpectResult], want: str) -> str:
    """The whole-network expectations of one kind, for a summary cell."""
    parts = []
    for r in results:
        if kind(r.source) != want or "." in r.metric:
            continue
        mark = "" if r.ok else " **FAIL**"
        parts.append(f"{_cell(_expectation(r))}{mark}")
    return "<br>".join(parts) if parts else "–"


# ---- sections -----------------------------------------------------------------------------------


def _summary(specs: list[SpecResult]) -> list[str]:
    lines = [
        "## Summary",
        "",
        "One row per bundled spec. *Paper* and *reference* list the spec's whole-network",
        "expectations by what they cite (per-layer ones are in the spec's section); every one",
        "of them is checked against the computed figures. Params include the aux heads' (the",
        "aux column says how many); MACs are the inference path's, without the aux heads.",
        "",
        "| spec | network | params | aux | buffers | MACs | paper claims | reference "
        "implementation | expects |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for s in specs:
        rep = s.report
        passed = sum(r.ok for r in s.results)
        status = f"{passed}/{len(s.results)}" + ("" if s.ok else " **FAIL**")
        lines.append(
            f"| [`{s.rel}`](#{_anchor(s.rel)}) | {s.net.name} | {rep.params:,} | "
            f"{rep.aux_params:,} | {rep.buffers:,} | {rep.macs:,} | "
            f"{_claims(s.results, 'paper')} | {_claims(s.results, 'reference')} | {status} |"
        )
    return lines


def _anchor(rel: str) -> str:
    return "spec-" + re.sub(r"[^a-z0-9]+", "-", rel.lower()).strip("-")


def _spec_section(s: SpecResult) -> list[str]:
    lines = [f'<a id="{_anchor(s.rel)}"></a>', "", f"### `specs/{s.rel}` ({s.net.name})", ""]
    if s.header:
        lines += [*_blockquote(s.header), ""]
    lines += [_totals_line(s.report), ""]
    if not s.results:
        return [*lines, "No expectations.", ""]
    lines += [
        "| | cites | expectation | actual | Δ | source |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in s.results:
        lines.append(
            f"| {_status(r)} | {kind(r.source)} | {_cell(_expectation(r))} | {_num(r.actual)} "
            f"| {_cell(_delta(r))} | {_cell(r.source)} |"
        )
    return [*lines, ""]


def _table1(specs: list[SpecResult]) -> list[str]:
    spec = next((s for s in specs if s.rel == TABLE1_SPEC), None)
    if spec is None:
        return []
    rows: dict[str, dict[str, list[ExpectResult]]] = {}
    for r in spec.results:
        if not r.source.startswith(TABLE1_PREFIX) or r.metric.rsplit(".", 1)[-1] == "shape":
            continue
        row = r.source[len(TABLE1_PREFIX) :].split(":", 1)[0]
        rows.setdefault(row, {}).setdefault(r.metric.rsplit(".", 1)[-1], []).append(r)
    lines = [
        "## GoogLeNet, Table 1 row by row",
        "",
        f"From `specs/{TABLE1_SPEC}`: each row of *Going deeper with convolutions*, Table 1,",
        "that prints figures, against the spec's layer or block. *Printed* is the table's",
        "figure; *check* is how it is compared: `≈ ± tol` within a tolerance, `≠` where the",
        "printed figure is an exception the layer cannot reach (its arithmetic is in the spec's",
        "header, quoted above and repeated in the sources), `=` an exact figure from the row's",
        "own sizes, and *with ...* the same row on the spec built with other parameters. The",
        "tolerances and every exception are justified in the spec's header (previous section).",
        "",
        "| Table 1 row | ops printed | ops (MACs) computed | Δ | check | params printed | "
        "params computed | Δ | check |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for row, metrics in rows.items():
        cells = [row]
        for metric in ("macs", "params"):
            cells += _table1_cells(metrics.get(metric, []))
        lines.append("| " + " | ".join(_cell(c) if i == 0 else c for i, c in enumerate(cells)))
        lines[-1] += " |"
    ok = all(r.ok for m in rows.values() for rs in m.values() for r in rs)
    n = sum(len(rs) for m in rows.values() for rs in m.values())
    lines += ["", f"{n} row expectations, {'all hold' if ok else 'NOT ALL HOLD'}.", ""]
    return lines


def _table1_cells(results: list[ExpectResult]) -> list[str]:
    """printed, computed, delta, check for one metric of one Table 1 row."""
    if not results:
        return ["", "", "", ""]
    plain = [r for r in results if not r.with_]
    printed = next((r for r in plain if r.cmp in ("~=", "!=")), plain[0] if plain else results[0])
    checks = []
    for r in results:
        cmp = {"~=": "≈", "!=": "≠"}.get(r.cmp, r.cmp)
        tol = f" ± {r.tolerance}" if r.tolerance else ""
        val = "" if r is printed else f" {_num(r.expected)}"
        at = f" with {r.with_}: {_num(r.actual)}" if r.with_ else ""
        checks.append(f"{cmp}{val}{tol}{at} {'ok' if r.ok else '**FAIL**'}")
    return [
        _num(printed.expected),
        _num(printed.actual),
        _cell(_delta(printed)),
        _cell("; ".join(checks)).replace("\\*\\*FAIL\\*\\*", "**FAIL**"),
    ]


def _aux(specs: list[SpecResult]) -> list[str]:
    lines = [
        "## What the aux heads add",
        "",
        "Auxiliary classifiers run only in training; their parameters are in a model's",
        "parameter count (torchvision counts them unless they are dropped) but not in its",
        "inference MACs. The same network with and without them:",
        "",
        "| spec | aux heads | aux params | aux buffers | aux MACs (training only) | params "
        "without aux |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for s in specs:
        rep = s.report
        if not rep.aux_heads:
            continue
        lines.append(
            f"| `{s.rel}` | {', '.join(rep.aux_heads)} | {rep.aux_params:,} | "
            f"{rep.aux_buffers:,} | {rep.aux_macs:,} | {rep.params - rep.aux_params:,} |"
        )
    return [*lines, ""]


def inception_v3_components(net: Network) -> dict[str, int]:
    """Inception-v3's parameter components, each a count the literature may or may not include:
    conv weights, per-channel vectors (conv bias, BN beta, BN gamma: one per conv output
    channel each), BN running stats, the classifier, and the same for the aux head."""
    g = net.graph
    w = ch = aux_w = aux_ch = fc_w = fc_b = aux_fc_w = aux_fc_b = 0
    for name, d in g.nodes(data=True):
        attrs, aux = d["attrs"], d.get("aux")
        if d["op"].value == "conv2d":
            cin = g.nodes[inputs(g, name)[0]]["shape"][0]
            k = attrs.out_channels * cin // attrs.groups * attrs.kernel[0] * attrs.kernel[1]
            if aux:
                aux_w, aux_ch = aux_w + k, aux_ch + attrs.out_channels
            else:
                w, ch = w + k, ch + attrs.out_channels
        elif d["op"].value == "linear":
            fin = g.nodes[inputs(g, name)[0]]["shape"][0]
            if aux:
                aux_fc_w, aux_fc_b = aux_fc_w + fin * attrs.out_features, attrs.out_features
            else:
                fc_w, fc_b = fin * attrs.out_features, attrs.out_features
    return {
        "conv weights": w,
        "conv biases": ch,
        "BN beta": ch,
        "BN gamma": ch,
        "BN running stats": 2 * ch,
        "classifier weights": fc_w,
        "classifier biases": fc_b,
        "a 1001st class (2048 + 1)": fc_w // fc_b + 1 if fc_b else 0,
        "aux conv weights": aux_w,
        "aux conv biases": aux_ch,
        "aux BN beta": aux_ch,
        "aux BN gamma": aux_ch,
        "aux BN running stats": 2 * aux_ch,
        "aux classifier weights": aux_fc_w,
        "aux classifier biases": aux_fc_b,
    }


def _xception_v3(specs: list[SpecResult]) -> list[str]:
    by = {s.rel: s for s in specs}
    need = ("inception_v3.incept", "keras/inception_v3.incept", "inception_v3_paper.incept")
    if not all(n in by for n in need):
        return []
    tv, keras, paper = (by[n] for n in need)
    target = XCEPTION_TABLE3_V3
    candidates: list[tuple[str, int]] = [
        ("keras InceptionV3: trainable (conv, BN beta, Dense 1000)", keras.report.params),
        ("keras InceptionV3: count_params (+ moving mean/variance)", keras.report.variables),
    ]
    k0 = keras.net.with_params(num_classes=0).report()
    t0 = tv.net.with_params(aux_logits=False).report()
    tn = tv.net.with_params(aux_logits=False, num_classes=0).report()
    p0 = paper.net.with_params(aux_logits=False).report()
    candidates += [
        ("keras InceptionV3 no top: trainable", k0.params),
        ("keras InceptionV3 no top: count_params", k0.variables),
        ("keras InceptionV3 with 1001 classes: trainable", keras.report.params + 2048 + 1),
        ("torchvision inception_v3, no aux (BN gamma and beta, fc 1000)", t0.params),
        ("torchvision inception_v3 with aux", tv.report.params),
        ("torchvision inception_v3, no aux, no fc", tn.params),
        ("torchvision inception_v3, no aux: params + BN running stats", t0.variables),
        ("Table 1 layout (inception_v3_paper), no aux", p0.params),
    ]
    comps = inception_v3_components(tv.net)
    comps_paper = inception_v3_components(paper.net)
    for label, c in (("released layout", comps), ("Table 1 layout", comps_paper)):
        candidates.append(
            (
                f"{label}: conv weights + classifier weights and biases",
                c["conv weights"] + c["classifier weights"] + c["classifier biases"],
            )
        )
    lines = [
        "## The Xception paper's Inception V3: 23,626,728",
        "",
        "Chollet, *Xception* (arXiv:1610.02357), Table 3 gives 22,855,952 parameters for",
        'Xception and 23,626,728 for Inception V3 (ImageNet, 1000 classes, "no fully-connected',
        "layers\"). The first is `specs/keras/xception.incept`'s count exactly (Keras'",
        "trainable weights, the classifier included; see its section). The second is checked",
        "here against the Inception-v3 specs' counts:",
        "",
        "| candidate | params | Δ to 23,626,728 |",
        "|---|---:|---:|",
    ]
    for label, v in candidates:
        lines.append(f"| {_cell(label)} | {v:,} | {v - target:+,} |")
    exact, nearest = [], []
    for label, c in (("released layout", comps), ("Table 1 layout", comps_paper)):
        names = list(c)
        for bits in itertools.product((0, 1), repeat=len(names)):
            total = sum(c[n] for b, n in zip(bits, names, strict=True) if b)
            picked = [n for b, n in zip(bits, names, strict=True) if b]
            if total == target:
                exact.append((label, picked))
            nearest.append((abs(total - target), total, label, picked))
    nearest.sort(key=lambda t: (t[0], t[2], t[3]))
    n_sub = 2 ** len(comps)
    lines += [
        "",
        f"Every sum of a subset of these components was tried ({n_sub:,} subsets for each of",
        "the released layout and the Table 1 layout): "
        + ", ".join(f"{n} ({v:,})" for n, v in comps.items())
        + ".",
        "",
    ]
    if exact:
        for label, picked in exact:
            lines.append(f"- **Exact**: {label}: {' + '.join(picked)}.")
    else:
        d, total, label, picked = nearest[0]
        base = comps["conv weights"] + comps["classifier weights"]
        lines.append(
            f"**No decomposition gives {target:,} exactly.** The nearest is the {label}'s "
            f"{' + '.join(picked)} = {total:,} ({total - target:+,}, "
            f"{100 * (total - target) / target:+.2f}%). The released model's conv weights and "
            f"1000-class classifier weights alone are {base:,} ({base - target:+,}): the paper "
            "counted some other model or convention, and does not say which. Its figure is "
            f"{100 * (target - 22_855_952) / 22_855_952:.2f}% above Xception's 22,855,952 (the "
            'paper\'s "within 3.5%").'
        )
    return [*lines, ""]


def render(specs: list[SpecResult]) -> str:
    failed = sum(not r.ok for s in specs for r in s.results)
    total = sum(len(s.results) for s in specs)
    lines = [
        "# Verification report",
        "",
        f"<!-- Generated by `{COMMAND}` from the specs; do not edit by hand. "
        "tests/test_verification.py checks that it is current. -->",
        "",
        "Every bundled spec against what its papers claim and what its reference",
        "implementation has. The figures are inceptdsl's; the claims are the specs' `expect`",
        "declarations, each citing its source (papers, or reference implementations measured",
        "once: torchvision, timm, keras.applications, pretrainedmodels, TF-slim); the",
        "explanations are the specs' header comments. No framework runs to make this page.",
        "",
        "Conventions: **params** are trainable parameters (torch's `parameters()`, Keras'",
        "trainable weights), aux heads included; **buffers** are BN running mean + variance",
        "elements; **MACs** are conv and linear multiply-accumulates of one sample on the",
        "inference path (aux heads excluded) = torchvision's `_ops` = half of torch's",
        '`FlopCounterMode` (papers\' "multiply-adds" and "ops"). Δ = computed − cited.',
        "",
        f"**{total - failed} of {total} expectations hold** in {len(specs)} specs"
        + ("." if not failed else f"; **{failed} fail**."),
        "",
        *_summary(specs),
        "",
        "## The specs",
        "",
    ]
    for s in specs:
        lines += _spec_section(s)
        if s.rel == TABLE1_SPEC:
            lines += _table1(specs)
    lines += _aux(specs)
    lines += _xception_v3(specs)
    return "\n".join(lines).rstrip() + "\n"


def build(root: Path = SPECS_DIR) -> tuple[str, bool]:
    """The report's Markdown, and whether every expectation holds."""
    specs = collect(root)
    return render(specs), all(s.ok for s in specs)
