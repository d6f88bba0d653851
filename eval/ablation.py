#!/usr/bin/env python3
"""Retrieval-only ablation: hit@1 / hit@5 of the ranked clauses for each fusion and for each signal
alone (e5, USE, BM25), on question files.

    .venv/bin/python eval/ablation.py eval/dev.jsonl eval/extra.jsonl
    .venv/bin/python eval/ablation.py --index index/no-renderings --lang en eval/desk.jsonl
    .venv/bin/python eval/ablation.py --depth 64 --depth 256 eval/desk.jsonl   # passages each dense signal takes
"""
import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.search.encoders import for_manifest as encoders_for  # noqa: E402
from assistant.search.index import DEFAULT_INDEX_DIR, load_index  # noqa: E402
from assistant.search.retrieval import FUSIONS, Retriever  # noqa: E402


def norm(s):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def gold_rank(ranked, clauses, q):
    return next((i + 1 for i, c in enumerate(ranked[:5])
                 if any(norm(g) in norm(clauses[c].text) for g in q["gold_quotes"])), None)


def rank_of(hits, q):
    return next((i + 1 for i, h in enumerate(hits) if any(norm(g) in norm(h.clause.text) for g in q["gold_quotes"])),
                None)


def report(path, label, ranks):
    h1 = sum(k == 1 for k in ranks) / len(ranks)
    h5 = sum(k is not None for k in ranks) / len(ranks)
    print(f"{Path(path).name:12s} {label:11s} retrieval hit@1={h1:.2f} hit@5={h5:.2f} (n={len(ranks)})")


def main(paths, *, index_dir=DEFAULT_INDEX_DIR, lang=None, depths=()):
    index = load_index(index_dir)
    encoders = encoders_for(index.manifest)
    clauses = index.catalog.clauses
    for path in paths:
        with open(path, encoding="utf-8") as f:
            qs = [json.loads(line) for line in f if line.strip()]
        qs = [q for q in qs if q["gold_quotes"] and (lang is None or q["lang"] == lang)]
        r = Retriever(index, encoders)
        alone = {}
        for q in qs:
            for name, s in r.signals(q["question"])[0].items():
                alone.setdefault(name, []).append(gold_rank(list(np.argsort(-s, kind="stable")), clauses, q))
        for name, ranks in alone.items():
            report(path, f"{name} alone", ranks)
        for fusion in FUSIONS:
            r = Retriever(index, encoders, fusion=fusion)
            ranks = []
            for q in qs:
                ranks.append(rank_of(r.search(q["question"], top_k=5), q))
            report(path, f"fusion={fusion}", ranks)
        for depth in depths:  # the z fusion with each dense signal searching only its `depth` nearest passages
            r = Retriever(index, encoders)
            r.depth = depth
            report(path, f"depth={depth}", [rank_of(r.search(q["question"], top_k=5), q) for q in qs])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=["eval/dev.jsonl", "eval/extra.jsonl"])
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    ap.add_argument("--lang", choices=["zh", "en"], help="only the questions of this language")
    ap.add_argument("--depth", type=int, action="append", default=[],
                    help="also rank with each dense signal searching only this many nearest passages (repeatable)")
    a = ap.parse_args()
    main(a.paths, index_dir=a.index, lang=a.lang, depths=a.depth)
