"""The verification report (docs/verification.md): every bundled spec set against what its
papers claim and what its reference implementation has, with the reason for every difference.

    python tools/verification.py -o docs/verification.md    # rewrite the report
    python tools/verification.py --check                     # exit 1 if it is not current

Repository tooling, not part of the installed package. Why generated: the claims live in the
specs, as `expect` declarations whose `source` cites the paper or the reference implementation,
and the explanations live in the specs' header comments (house style). A hand-written report
would drift from both; this one is rebuilt from them, and tests/test_verification.py compares
it with the committed file. No framework is imported: every number printed is computed by
inceptdsl from the specs.

This module knows no particular network, spec file or paper figure. Sections: a summary with
one row per spec; one section per spec (its header comment, then every expectation with its
actual value); the row-by-row tables and the decompositions of published figures that
tools/verification.toml describes; and what the aux heads add.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inceptdsl.errors import SpecError
from inceptdsl.expect import ExpectResult
from inceptdsl.ir import inputs
from inceptdsl.middle.evaluate import format_value
from inceptdsl.network import Network, load
from inceptdsl.output import write_output
from inceptdsl.report import Report

REPO = Path(__file__).resolve().parent.parent
SPECS_DIR = REPO / "specs"
DATA = Path(__file__).resolve().with_suffix(".toml")
DEFAULT_OUTPUT = REPO / "docs" / "verification.md"
COMMAND = "python tools/verification.py -o docs/verification.md"


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
    """Every spec that declares a network (files with blocks only are libraries), in path
    order."""
    return sorted(p for p in root.rglob("*.incept") if _declares_network(p))


def _declares_network(path: Path) -> bool:
    from inceptdsl.front.loader import load_program

    return bool(load_program(str(path)).root.module.networks)


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


def _row_table(table: dict[str, Any], specs: list[SpecResult]) -> list[str]:
    spec = next((s for s in specs if s.rel == table["spec"]), None)
    if spec is None:
        return []
    prefix = table["source_prefix"]
    metrics = [c["metric"] for c in table["columns"]]
    rows: dict[str, dict[str, list[ExpectResult]]] = {}
    for r in spec.results:
        metric = r.metric.rsplit(".", 1)[-1]
        if not r.source.startswith(prefix) or metric not in metrics:
            continue
        row = r.source[len(prefix) :].split(":", 1)[0]
        rows.setdefault(row, {}).setdefault(metric, []).append(r)
    header = [table["row_header"]]
    for c in table["columns"]:
        header += [c["printed"], c["computed"], "Δ", "check"]
    lines = [
        f"## {table['title']}",
        "",
        *table["intro"].strip().splitlines(),
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|---:|---:|---|" * len(metrics),
    ]
    for row, by_metric in rows.items():
        cells = [_cell(row)]
        for metric in metrics:
            cells += _row_cells(by_metric.get(metric, []))
        lines.append("| " + " | ".join(cells) + " |")
    ok = all(r.ok for m in rows.values() for rs in m.values() for r in rs)
    n = sum(len(rs) for m in rows.values() for rs in m.values())
    lines += ["", f"{n} row expectations, {'all hold' if ok else 'NOT ALL HOLD'}.", ""]
    return lines


def _row_cells(results: list[ExpectResult]) -> list[str]:
    """printed, computed, delta, check for one metric of one row."""
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


def components(net: Network) -> dict[str, int]:
    """A network's parameter components, each a count the literature may or may not include:
    conv weights, per-channel vectors (conv bias, BN beta, BN gamma: one per conv output
    channel each), BN running stats, the classifier (the last linear layer), one more class,
    and the same for the aux heads."""
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
        "one more class (in features + 1)": fc_w // fc_b + 1 if fc_b else 0,
        "aux conv weights": aux_w,
        "aux conv biases": aux_ch,
        "aux BN beta": aux_ch,
        "aux BN gamma": aux_ch,
        "aux BN running stats": 2 * aux_ch,
        "aux classifier weights": aux_fc_w,
        "aux classifier biases": aux_fc_b,
    }


def _decomposition(d: dict[str, Any], specs: list[SpecResult]) -> list[str]:
    by = {s.rel: s for s in specs}
    need = {c["spec"] for c in d["candidates"] if "spec" in c} | {x["spec"] for x in d["layouts"]}
    if not need <= set(by):
        return []
    target = d["target"]
    layouts = {x["label"]: components(by[x["spec"]].net) for x in d["layouts"]}
    candidates: list[tuple[str, int]] = []
    for c in d["candidates"]:
        if "layout" in c:
            value = sum(layouts[c["layout"]][n] for n in c["components"])
        else:
            net = by[c["spec"]].net
            rep = net.with_params(**c["with"]).report() if c.get("with") else by[c["spec"]].report
            value = rep.totals()[c["metric"]]
        candidates.append((c["label"], value))
    lines = [
        f"## {d['title']}",
        "",
        *d["intro"].strip().splitlines(),
        "",
        f"| candidate | params | Δ to {target:,} |",
        "|---|---:|---:|",
    ]
    for label, v in candidates:
        lines.append(f"| {_cell(label)} | {v:,} | {v - target:+,} |")
    exact, nearest = [], []
    for label, c in layouts.items():
        names = list(c)
        for bits in itertools.product((0, 1), repeat=len(names)):
            total = sum(c[n] for b, n in zip(bits, names, strict=True) if b)
            picked = [n for b, n in zip(bits, names, strict=True) if b]
            if total == target:
                exact.append((label, picked))
            nearest.append((abs(total - target), total, label, picked))
    nearest.sort(key=lambda t: (t[0], t[2], t[3]))
    first = next(iter(layouts.values()))
    lines += [
        "",
        f"Every sum of a subset of these components was tried ({2 ** len(first):,} subsets for "
        f"each of the {' and the '.join(layouts)}): "
        + ", ".join(f"{n} ({v:,})" for n, v in first.items())
        + ".",
        "",
    ]
    if exact:
        for label, picked in exact:
            lines.append(f"- **Exact**: {label}: {' + '.join(picked)}.")
    else:
        _, total, label, picked = nearest[0]
        lines.append(
            f"**No decomposition gives {target:,} exactly.** The nearest is the {label}'s "
            f"{' + '.join(picked)} = {total:,} ({total - target:+,}, "
            f"{100 * (total - target) / target:+.2f}%). " + " ".join(d["note"].split())
        )
    return [*lines, ""]


def render(specs: list[SpecResult], data: dict[str, Any] | None = None) -> str:
    failed = sum(not r.ok for s in specs for r in s.results)
    total = sum(len(s.results) for s in specs)
    lines = [
        "# Verification report",
        "",
        f"<!-- Generated by `{COMMAND}` from the specs and tools/verification.toml; do not "
        "edit by hand. "
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
    data = data if data is not None else load_data()
    for s in specs:
        lines += _spec_section(s)
        for table in data.get("row_table", []):
            if table["spec"] == s.rel:
                lines += _row_table(table, specs)
    lines += _aux(specs)
    for d in data.get("decomposition", []):
        lines += _decomposition(d, specs)
    return "\n".join(lines).rstrip() + "\n"


def load_data(path: Path = DATA) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def build(root: Path = SPECS_DIR) -> tuple[str, bool]:
    """The report's Markdown, and whether every expectation holds."""
    specs = collect(root)
    return render(specs), all(s.ok for s in specs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write or check docs/verification.md.")
    ap.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    ap.add_argument(
        "--check", action="store_true", help="exit 1 if OUT (default docs/verification.md) is stale"
    )
    args = ap.parse_args(argv)
    text, ok = build()
    if args.check:
        path = Path(args.output) if args.output else DEFAULT_OUTPUT
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"{path}: not current; run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{path}: current")
    elif args.output:
        try:
            write_output(args.output, text)
        except SpecError as err:  # as the CLI reports it: E004, exit 2, no traceback
            print(err.render(), file=sys.stderr)
            return err.exit_code
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if not ok:
        print("some expectations fail: see the report", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
