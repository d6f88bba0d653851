#!/usr/bin/env python3
"""Fit the off-topic thresholds of assistant/answerability.py on question files, and report them on others.

    .venv/bin/python eval/fit_answerability.py                       # fit on the default sets, report all
    .venv/bin/python eval/fit_answerability.py --fit a.jsonl b.jsonl --write

A question is off-topic when the best clause is below every threshold at once (fused score, USE cosine,
e5 cosine). The thresholds are searched on a grid of the fitting questions' own values, minimising
3 × false refusals + false answers: refusing an answerable question is the worst error. Questions that
the not-stated checks already refuse (another province, a year or figure not given) take no part in the
fit. The sets named by --report are never fitted on; their line shows how the thresholds carry over.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.answer.answerer import load_answerer  # noqa: E402
from assistant.answer.answerability import PARAMS_PATH, Confidence  # noqa: E402
from assistant.ingest.corpus import DEFAULT_CORPUS_DIR  # noqa: E402
from assistant.search.index import DEFAULT_INDEX_DIR  # noqa: E402
from assistant.answer.question import parse  # noqa: E402

FIT = ["eval/dev.jsonl", "eval/extra.jsonl", "eval/offtopic.jsonl", "eval/train/visitors_train.jsonl"]
REPORT = ["eval/desk.jsonl"]
NEVER = Confidence(-1e9, -1e9, -1e9, 0.0)
COST_FALSE_REFUSAL = 3


def rows_of(answerer, paths):
    """Per question: answerable?, refused by a not-stated check?, and the best clause's signals."""
    out = []
    for path in paths:
        with open(ROOT / path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for line in lines:
            if not line.strip():
                continue
            item = json.loads(line)
            q = parse(item["question"])
            if answerer.routed(q) is not None:
                continue  # answered before retrieval (a citation, a document fact): no off-topic decision
            hits, cited = answerer.ranked(q)
            if cited:
                continue
            _, decision = answerer.choose(q, hits)
            top = hits[0]
            out.append({"answerable": bool(item["gold_quotes"]), "not_stated": decision.outcome == "not_stated",
                        "fused": top.score, "use": top.signals.get("use", 1.0), "e5": top.signals.get("e5", 1.0),
                        "grounding": answerer.answerability.grounding(q),
                        "id": item["id"], "question": item["question"], "path": path})
    return out


def errors(rows, c: Confidence):
    fr = sum(1 for r in rows if r["answerable"] and not r["not_stated"] and _off(r, c))
    fa = sum(1 for r in rows if not r["answerable"] and not r["not_stated"] and not _off(r, c))
    return fr, fa


def _off(r, c: Confidence) -> bool:
    if r["grounding"] is not None and r["grounding"] < c.min_grounding_en:
        return True
    return r["fused"] < c.max_fused and r["use"] < c.max_use and r["e5"] < c.max_e5


def fit(rows) -> Confidence:
    """The thresholds with the least cost; among equals, the most permissive (fewest refusals)."""
    negs = [r for r in rows if not r["answerable"] and not r["not_stated"]]
    grid = {k: sorted({r[k] + 1e-6 for r in negs}) + [-1e9] for k in ("fused", "use", "e5")}
    grid["grounding"] = sorted({r["grounding"] + 1e-6 for r in negs if r["grounding"] is not None}) + [0.0]
    best = None
    for f, u, e, g in itertools.product(grid["fused"], grid["use"], grid["e5"], grid["grounding"]):
        c = Confidence(f, u, e, g)
        fr, fa = errors(rows, c)
        refused = sum(_off(r, c) for r in rows)
        key = (COST_FALSE_REFUSAL * fr + fa, refused)
        if best is None or key < best[0]:
            best = (key, c)
    return best[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fit", nargs="+", default=FIT)
    ap.add_argument("--report", nargs="+", default=REPORT)
    ap.add_argument("--write", action="store_true", help=f"store the fitted thresholds in {PARAMS_PATH.name}")
    a = ap.parse_args(argv)
    answerer = load_answerer(DEFAULT_INDEX_DIR, corpus_dir=DEFAULT_CORPUS_DIR)
    answerer.answerability.confidence = NEVER
    fit_rows = rows_of(answerer, a.fit)
    c = fit(fit_rows)
    print(f"fitted on {', '.join(a.fit)}: max_fused={c.max_fused:.4f} max_use={c.max_use:.4f} max_e5={c.max_e5:.4f} "
          f"min_grounding_en={c.min_grounding_en:.4f}")
    for label, paths in (("fit", a.fit), ("report", a.report)):
        for path in paths:
            rows = fit_rows if label == "fit" else rows_of(answerer, [path])
            rows = [r for r in rows if r["path"] == path]
            fr, fa = errors(rows, c)
            n_pos = sum(r["answerable"] for r in rows)
            n_neg = len(rows) - n_pos
            caught = sum(1 for r in rows if not r["answerable"] and r["not_stated"])
            print(f"  [{label}] {Path(path).name}: off-topic false refusals {fr}/{n_pos}; negatives answered {fa}/{n_neg}"
                  f" (not-stated checks caught {caught})")
            for r in rows:
                if (r["answerable"] and not r["not_stated"] and _off(r, c)) or \
                        (not r["answerable"] and not r["not_stated"] and not _off(r, c)):
                    kind = "refused" if r["answerable"] else "answered"
                    g = "-" if r["grounding"] is None else f"{r['grounding']:.2f}"
                    print(f"     {kind}: {r['id']} fused={r['fused']:.2f} use={r['use']:.3f} e5={r['e5']:.3f} grounding={g} "
                          f"{r['question'][:50]}")
    if a.write:
        PARAMS_PATH.write_text(json.dumps({"off_topic": {"max_fused": round(c.max_fused, 4), "max_use": round(c.max_use, 4),
                                                         "max_e5": round(c.max_e5, 4),
                                                         "min_grounding_en": round(c.min_grounding_en, 4)},
                                           "fitted_on": a.fit}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {PARAMS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
