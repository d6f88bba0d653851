"""`python -m assistant …` — a thin face over the library. Domain errors become messages and exit codes."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .catalog import Catalog
from .corpus import DEFAULT_CORPUS_DIR
from .errors import AssistantError
from .records import clause_to_dict


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_clauses(args) -> int:
    cat = Catalog.load(args.corpus)
    if args.doc:
        cat.document(args.doc)  # a clear error for an unknown document
    for c in cat.clauses:
        if args.doc and c.doc_key != args.doc:
            continue
        if args.json:
            _print_json(clause_to_dict(c, cat.records_of(c.clause_id)))
        else:
            depth = len(c.trail) - 1 if c.level not in ("notice", "preamble", "closing") else 0
            print(f"{'  ' * depth}{c.clause_id:<12} {c.local_citation:<28} {c.text.splitlines()[0][:50]}")
    return 0


def format_clause(c, rec) -> str:
    lines = [c.citation, c.heading, "", c.text]
    for r in rec.responsibilities:
        parts = []
        for label, units in (("牵头", r.lead), ("参与", r.participants), ("负责", r.responsible)):
            if units:
                parts.append(f"{label}: {'、'.join(u.name + ('等' if u.et_al else '') for u in units)}")
        lines.append(f"  责任: {'; '.join(parts)}" + (f" ({'，'.join(r.notes)})" if r.notes else ""))
    for t in rec.targets:
        lines.append(f"  {'目标' if t.kind == 'target' else '时限'}: {t.date} {t.indicator} {t.value}{t.qualifier}")
    return "\n".join(lines)


def cmd_show(args) -> int:
    cat = Catalog.load(args.corpus)
    c = cat.find(" ".join(args.id))
    if args.json:
        _print_json(clause_to_dict(c, cat.records_of(c.clause_id)))
    else:
        print(format_clause(c, cat.records_of(c.clause_id)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assistant", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR, help="folder of gazette pages (*.txt)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("clauses", help="print the clause tree")
    s.add_argument("--doc", help="only this document (40, 41, 42)")
    s.add_argument("--json", action="store_true", help="one JSON object per clause per line")
    s.set_defaults(func=cmd_clauses)

    s = sub.add_parser("show", help="print one clause by id (40-2.5.5) or citation ('40号 二(五)5', '41号 第17条')")
    s.add_argument("id", nargs="+")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        return 0
