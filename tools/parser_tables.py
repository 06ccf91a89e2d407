"""Generate inceptdsl/front/parser_tables.json: the LALR tables of grammar.lark as plain JSON data.

    python tools/parser_tables.py            # rewrite the file
    python tools/parser_tables.py --check    # exit 1 if it is not current

Why: analysing the grammar takes about 0.3 s, too slow for every CLI start. Lark's own cache
(`cache=True`) is a pickle in the shared temp directory under a predictable name, so a file
planted there by another user would run code in the next `inceptdsl` process. These tables
are plain JSON data in the package itself, as trusted as the code beside them, and are used only
when their fingerprint (grammar text, grammar options, Lark version) matches; otherwise the
parser is built from the grammar. tests/test_parser_tables.py keeps the file current.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lark.grammar import Rule
from lark.lark import _LOAD_ALLOWED_OPTIONS
from lark.lexer import TerminalDef

from inceptdsl.front.parse import build_parser, grammar_fingerprint
from inceptdsl.output import write_output

TARGET = Path(__file__).resolve().parent.parent / "inceptdsl" / "front" / "parser_tables.json"
COMMAND = "python tools/parser_tables.py"


def render() -> str:
    """The file's text: deterministic (same grammar and Lark version, same bytes). JSON turns
    the tables' integer keys into strings; parse.py turns them back."""
    data, memo = build_parser().memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in _LOAD_ALLOWED_OPTIONS}
    _canonical(data["parser"]["parser"])
    lexer_conf = data["parser"]["lexer_conf"]
    lexer_conf["g_regex_flags"] = int(lexer_conf["g_regex_flags"])  # set again when loading
    tables = {"fingerprint": grammar_fingerprint(), "data": data, "memo": memo}
    return json.dumps(tables, separators=(",", ":")) + "\n"


def _canonical(table: dict) -> None:
    """Number the parse table's tokens in name order and its states in breadth-first order from
    the start states (following shifts in token order): Lark numbers both in set-iteration
    order, which changes with the hash seed, and the file must not."""
    names = table["tokens"]
    tok = {old: new for new, old in enumerate(sorted(names, key=lambda i: names[i]))}
    states = table["states"]
    order: dict[int, int] = {}
    queue = [table["start_states"][k] for k in sorted(table["start_states"])]
    while queue:
        st = queue.pop(0)
        if st in order:
            continue
        order[st] = len(order)
        for _tok, (kind, arg) in sorted(states[st].items(), key=lambda kv: names[kv[0]]):
            if kind == 0 and arg not in order:
                queue.append(arg)
    for st in states:  # unreachable states (none expected) keep a stable place at the end
        order.setdefault(st, len(order))
    table["tokens"] = {tok[i]: names[i] for i in sorted(names, key=lambda i: tok[i])}
    table["states"] = {
        order[st]: {
            tok[t]: (kind, order[arg] if kind == 0 else arg)
            for t, (kind, arg) in sorted(states[st].items(), key=lambda kv: tok[kv[0]])
        }
        for st in sorted(states, key=lambda s: order[s])
    }
    for key in ("start_states", "end_states"):
        table[key] = {k: order[v] for k, v in sorted(table[key].items())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the file is not current")
    args = ap.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else None
    if args.check:
        if current != text:
            print(f"{TARGET}: not current; run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        write_output(str(TARGET), text)
        print(f"wrote {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
