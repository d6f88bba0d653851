#!/usr/bin/env python3
"""English questions alone, under each configuration of the bridge to the Chinese clauses: with the hand
renderings (the index built as usual) or without (`python -m assistant build --no-renderings --index
index/no-renderings`), each with the CC-CEDICT dictionary on (its fitted weight in fusion.json, glosses for
the off-topic check) or off (weight 0, no glosses).

    .venv/bin/python eval/english.py                       # dev, desk, extra, offtopic
    .venv/bin/python eval/english.py --frozen              # and the frozen sets (at the end of a change)

Per set and configuration: answerable English questions (n), hit@1 / hit@5 of the answer's citations and
false refusals as eval/score.py counts them, negatives refused, and hit@1 / hit@5 of the ranking alone
(`Retriever.search`, before the answer layer).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))
from assistant.answer.answerer import Answerer  # noqa: E402
from assistant.search.encoders import for_manifest as encoders_for  # noqa: E402
from assistant.answer.answerability import Answerability  # noqa: E402
from assistant.search.dictionary import load_cedict  # noqa: E402
from assistant.ingest.glossary import is_english  # noqa: E402
from assistant.search.index import DEFAULT_INDEX_DIR, load_index  # noqa: E402
from assistant.search.retrieval import Retriever  # noqa: E402
from score import norm  # noqa: E402

SETS = ["eval/dev.jsonl", "eval/desk.jsonl", "eval/extra.jsonl", "eval/offtopic.jsonl"]
FROZEN = ["eval/frozen/visitors.jsonl", "eval/frozen/issue10.jsonl"]


def english_questions(path: str) -> list[dict]:
    with open(ROOT / path, encoding="utf-8") as f:
        qs = [json.loads(line) for line in f if line.strip()]
    return [q for q in qs if q.get("lang", "en" if is_english(q["question"]) else "zh") == "en"]


def answerer_for(index, *, dictionary: bool) -> Answerer:
    retriever = Retriever(index, encoders_for(index.manifest))
    if not dictionary:
        retriever.fusion = {**retriever.fusion, "dictionary": {**retriever.fusion["dictionary"], "weight": 0.0}}
    answerer = Answerer(retriever)
    unrendered = any(c.clause_id not in answerer.renderings for c in answerer.catalog.clauses)
    answerer.answerability = Answerability(answerer.catalog, renderings=answerer.renderings,
                                           dictionary=load_cedict() if dictionary and unrendered else None)
    return answerer


def rank_of(texts: list[str], gold: list[str]) -> int | None:
    return next((i + 1 for i, t in enumerate(texts[:5]) if any(g in norm(t) for g in gold)), None)


def score(answerer: Answerer, qs: list[dict]) -> dict:
    answerable = [q for q in qs if q["gold_quotes"]]
    out = {"n": len(answerable), "h1": 0, "h5": 0, "false_refusals": 0, "neg": len(qs) - len(answerable),
           "refused": 0, "r1": 0, "r5": 0, "misses": []}
    for q in qs:
        a = answerer.ask(q["question"])
        gold = [norm(g) for g in q["gold_quotes"]]
        if not gold:
            out["refused"] += not a.found
            continue
        rank = rank_of([c.text for c in a.citations], gold) if a.found else None
        out["h1"] += rank == 1
        out["h5"] += rank is not None
        out["false_refusals"] += not a.found
        ranked = rank_of([h.clause.text for h in answerer.retriever.search(q["question"], top_k=5)], gold)
        out["r1"] += ranked == 1
        out["r5"] += ranked is not None
        if rank != 1:
            out["misses"].append(f"{q['id']} {'REFUSED' if not a.found else f'@{rank}'} {q['question'][:70]}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="*", default=SETS)
    ap.add_argument("--frozen", action="store_true", help="also the frozen sets (scored once, at the end of a change)")
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="the index built with renderings")
    ap.add_argument("--no-renderings-index", type=Path, default=DEFAULT_INDEX_DIR / "no-renderings",
                    help="the index built with `build --no-renderings`")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the questions not answered at rank 1")
    a = ap.parse_args(argv)
    sets = a.sets + (FROZEN if a.frozen else [])
    print(f"{'configuration':34s} {'set':16s} {'n':>3s} {'hit@1':>6s} {'hit@5':>6s} {'falseRef':>8s} "
          f"{'negRefused':>10s} {'rank@1':>6s} {'rank@5':>6s}")
    for label, folder in (("renderings on", a.index), ("renderings off", a.no_renderings_index)):
        index = load_index(folder)
        for dictionary in (False, True):
            answerer = answerer_for(index, dictionary=dictionary)
            name = f"{label}, dictionary {'on' if dictionary else 'off'}"
            for path in sets:
                s = score(answerer, english_questions(path))
                n = s["n"] or 1
                print(f"{name:34s} {Path(path).name:16s} {s['n']:3d} {s['h1'] / n:6.2f} {s['h5'] / n:6.2f} "
                      f"{s['false_refusals']:8d} {s['refused']:>4d}/{s['neg']:<5d} {s['r1'] / n:6.2f} {s['r5'] / n:6.2f}",
                      flush=True)
                if a.verbose:
                    for m in s["misses"]:
                        print("      " + m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
