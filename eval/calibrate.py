#!/usr/bin/env python3
"""Refusal calibration: top-clause signals for answerable vs. unanswerable questions, and error rates.

    .venv/bin/python eval/calibrate.py eval/dev.jsonl eval/extra.jsonl eval/offtopic.jsonl

Prints, for each candidate threshold on the best clause's coverage of the question's content words, the
false refusals (answerable questions refused) and false answers (negatives answered).
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.answer import load_answerer  # noqa: E402
from assistant.corpus import DEFAULT_CORPUS_DIR  # noqa: E402
from assistant.index import DEFAULT_INDEX_DIR  # noqa: E402


def main(paths):
    qs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            qs += [json.loads(line) for line in f if line.strip()]
    ans = load_answerer(DEFAULT_INDEX_DIR, corpus_dir=DEFAULT_CORPUS_DIR)
    rows = []
    for q in qs:
        hits = ans.retriever.search(q["question"], top_k=1)
        s = hits[0].signals
        rows.append((bool(q["gold_quotes"]), s["coverage"], s["e5"], q["id"], q["question"]))
    for pos, cov, e5, qid, text in sorted(rows, key=lambda r: r[1]):
        print(f"{'POS' if pos else 'NEG'} coverage={cov:.3f} e5={e5:.3f} {qid} {text[:40]}")
    n_pos = sum(r[0] for r in rows)
    n_neg = len(rows) - n_pos
    print(f"\n{n_pos} answerable, {n_neg} unanswerable")
    for t in [0.30 + 0.025 * i for i in range(17)]:
        refused = [r for r in rows if r[1] < t]
        fr = sum(r[0] for r in refused)
        fa = n_neg - sum(not r[0] for r in refused)
        print(f"threshold {t:.3f}: false refusals {fr}/{n_pos}, false answers {fa}/{n_neg}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["eval/dev.jsonl", "eval/extra.jsonl", "eval/offtopic.jsonl"])
