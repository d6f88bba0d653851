#!/usr/bin/env python3
"""Fit the per-language signal weights of the retrieval fusion (assistant/data/fusion.json) on question
files, and report hit@1 / hit@5 of the ranking alone on others.

    .venv/bin/python eval/fit_fusion.py                 # fit on the default sets, report all
    .venv/bin/python eval/fit_fusion.py --write         # store the weights
    .venv/bin/python eval/fit_fusion.py --index index/no-renderings --langs en --unrendered --write

Signals (per clause, standardised over all clauses, then weighted and summed): e5 and USE on the retrieval
passages, e5 on the clause's single sentences (`e5_s`), BM25 with the vocabulary bridge and, for English,
the CC-CEDICT translations of the question's words (`dictionary`, its weight inside BM25). e5 is fixed at 1;
the others are searched on a grid, maximising hit@1 + 0.5 × hit@5 over the fitting questions of that
language, summed over the indexes given (`--index`). English questions on clauses without a rendering have
weights of their own (`en_unrendered`, with the dictionary weight), fitted with `--unrendered` on an index built
with `build --no-renderings`; the dictionary's terms count only on those clauses. The sets named by --report
are never fitted on.
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.search.encoders import for_manifest as encoders_for  # noqa: E402
from assistant.ingest.glossary import is_english  # noqa: E402
from assistant.search.index import DEFAULT_INDEX_DIR, load_index  # noqa: E402
from assistant.search.retrieval import FUSION_PATH, Retriever, load_fusion, zscore  # noqa: E402

FIT = ["eval/dev.jsonl", "eval/extra.jsonl", "eval/train/visitors_train.jsonl"]
REPORT = ["eval/desk.jsonl"]
GRID = {"e5_s": (0.0, 0.5, 1.0), "use": (0.0, 0.25, 0.5, 1.0), "bm25": (0.25, 0.5, 0.7, 1.0)}
DICTIONARY_GRID = (0.0, 0.1, 0.25, 0.4, 0.5, 0.75, 1.0)   # English only: weight of the translated terms inside BM25


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def standardised(retriever, paths):
    """Per answerable question: (language, gold clause positions, {signal: standardised clause scores})."""
    clauses = retriever.index.catalog.clauses
    out = {}
    for path in paths:
        rows = []
        with open(ROOT / path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for line in lines:
            q = json.loads(line) if line.strip() else None
            if not q or not q["gold_quotes"]:
                continue
            gold = [i for i, c in enumerate(clauses) if any(norm(g) in norm(c.text) for g in q["gold_quotes"])]
            scores = retriever.signals(q["question"])[0]
            english = is_english(q["question"])
            if english:  # BM25 once per dictionary weight: the translated terms are weighted inside it
                parts = retriever.lexical(q["question"], dictionary=True)
                base = parts["bm25"] + retriever.fusion["bridge"]["weight"] * parts["bridge"]
                for wd in DICTIONARY_GRID:
                    scores[f"bm25@{wd}"] = retriever._clause_max(base + np.float32(wd) * parts["dictionary"])
            z = {}
            for name, s in scores.items():
                if name.startswith("bm25") and not np.any(s > 0):
                    z[name] = np.zeros_like(s)
                    continue
                z[name] = zscore(np.where(np.isfinite(s), s, np.min(s[np.isfinite(s)])))
            rows.append(("en" if english else "zh", gold, z))
        out[path] = rows
    return out


def hits(rows, weights) -> tuple[float, float]:
    """hit@1, hit@5 of the fused ranking; `weights["dictionary"]` picks the BM25 computed with that weight."""
    h1 = h5 = 0
    for _, gold, z in rows:
        bm25 = f"bm25@{weights['dictionary']}" if "dictionary" in weights else "bm25"
        fused = sum(w * z[bm25 if k == "bm25" else k] for k, w in weights.items() if w and k != "dictionary")
        top = list(np.argsort(-fused, kind="stable")[:5])
        h1 += top[0] in gold
        h5 += any(g in top for g in gold)
    return h1 / max(len(rows), 1), h5 / max(len(rows), 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fit", nargs="+", default=FIT)
    ap.add_argument("--report", nargs="+", default=REPORT)
    ap.add_argument("--index", nargs="+", type=Path, default=[DEFAULT_INDEX_DIR],
                    help="index folders to fit on together (default: the index)")
    ap.add_argument("--langs", nargs="+", default=["zh", "en"], choices=["zh", "en"], help="languages to fit")
    ap.add_argument("--fix-signals", action="store_true",
                    help="keep the signal weights of fusion.json and fit only the dictionary weight (English)")
    ap.add_argument("--unrendered", action="store_true",
                    help="fit the English weights of clauses without a rendering (`en_unrendered`, with the "
                         "dictionary weight); give an index built with `build --no-renderings`")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    fusion = load_fusion()
    data = {}
    for folder in a.index:
        index = load_index(folder)
        retriever = Retriever(index, encoders_for(index.manifest))
        data[folder] = standardised(retriever, a.fit + a.report)
    for lang in a.langs:
        grid = {**GRID, "dictionary": DICTIONARY_GRID} if lang == "en" else GRID
        key = "en_unrendered" if a.unrendered and lang == "en" else lang
        current = {**fusion.get(key, fusion[lang]), "dictionary": fusion["dictionary"]["weight"]} if lang == "en" \
            else fusion[lang]
        if a.fix_signals:
            grid = {k: (current[k],) if k != "dictionary" else v for k, v in grid.items()}
        fit_rows = {folder: [r for p in a.fit for r in data[folder][p] if r[0] == lang] for folder in a.index}
        best = None
        for values in itertools.product(*grid.values()):
            w = {"e5": 1.0, **dict(zip(grid, values))}
            score = 0.0
            for rows in fit_rows.values():
                h1, h5 = hits(rows, w)
                score += h1 + 0.5 * h5
            if best is None or score > best[0] + 1e-9:
                best = (score, w)
        w = best[1]
        print(f"{key}: fitted {w} (was {current})")
        for folder in a.index:
            for path in a.fit + a.report:
                rows = [r for r in data[folder][path] if r[0] == lang]
                label = "report" if path in a.report else "fit"
                (h1, h5), (b1, b5) = hits(rows, w), hits(rows, current)
                print(f"  [{label}] {str(folder):22s} {Path(path).name:22s} n={len(rows):3d} hit@1 {h1:.2f} "
                      f"hit@5 {h5:.2f}   (current weights: {b1:.2f} / {b5:.2f})")
        if lang == "en":
            fusion["dictionary"] = {**fusion["dictionary"], "weight": w.pop("dictionary")}
        fusion[key] = w
    if a.write:
        FUSION_PATH.write_text(json.dumps(fusion, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FUSION_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
