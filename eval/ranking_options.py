#!/usr/bin/env python3
"""Ranking options measured against the fusion in use: does a signal the fusion lacks rank unseen questions better?

    .venv/bin/python eval/ranking_options.py                  # every option, the default sets
    .venv/bin/python eval/ranking_options.py --only prf heading

Each option adds one clause score to the z fusion of `Retriever.fused` (standardised over the clauses, like the
others), with a weight picked from a grid on the fitting sets (dev, extra, train) by hit@1 + 0.5 × hit@5 — the
objective of fit_fusion.py. It is reported on desk, which it never sees, and on each fitting set with the weight
fitted on the other two (leave one set out: the figure for questions of a kind it was not fitted on). For desk
the line also shows the ceiling: what the option would give with the weight that suits desk best.
The options (issue 10, "a visitor's words reach the documents' words"):

- `learned`   the fusion itself learned, not grid-searched: a listwise logistic model (softmax over the clauses,
              L2 towards zero) over each encoder's score on each kind of passage apart (Chinese passages, English
              renderings, Chinese and English single sentences) and BM25's parts apart, per language;
- `prf`       pseudo-relevance feedback: e5's question vector moved towards the mean vector of the first three
              clauses (Rocchio, 0.5), scored again;
- `centroid`  e5 on each clause's mean passage vector (a clause as a whole, not its best passage);
- `heading`   the clause's own heading as a field: the share of its character bigrams (IDF-weighted) the question has;
- `phrases`   e5 on windows of two comma-separated pieces of long sentences (a visitor asks about one phrase of
              a sentence listing several);
- `document`  a document prior: the mean fused score of each document's best three clauses, standardised;
- `adapter`   a linear map of e5's question vector learned on the fitting questions (softmax over clauses).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.ingest.glossary import is_english  # noqa: E402
from assistant.search.encoders import for_manifest as encoders_for  # noqa: E402
from assistant.search.index import DEFAULT_INDEX_DIR, load_index  # noqa: E402
from assistant.search.retrieval import Retriever  # noqa: E402

FIT = ["eval/dev.jsonl", "eval/extra.jsonl", "eval/train/visitors_train.jsonl"]
REPORT = ["eval/desk.jsonl"]
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
SOURCES = ("zh", "en", "zh-sent", "en-sent")
MARK = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.．、]|——)")
HAN = re.compile(r"[^\u4e00-\u9fff]")
PIECE = re.compile(r"[^,，;；]+[,，;；]?")


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def z(s: np.ndarray) -> np.ndarray:
    fin = np.isfinite(s)
    s = np.where(fin, s, s[fin].min() if fin.any() else 0.0)
    return (s - s.mean()) / (s.std() + 1e-9)


class Study:
    """The questions of every set with what each option needs: the fused scores, the question vectors and
    the per-clause score of each signal on each kind of passage."""

    def __init__(self, index_dir: Path, paths: list[str]):
        self.index = load_index(index_dir)
        self.encoders = encoders_for(self.index.manifest)
        self.r = Retriever(self.index, self.encoders)
        self.clauses = self.index.catalog.clauses
        self.n = len(self.clauses)
        self.source = np.array([p["source"] for p in self.index.passages])
        self.rows = {}
        for path in paths:
            self.rows[path] = [self._row(q) for q in _questions(path) if q["gold_quotes"]]

    def clause_max(self, rows: np.ndarray, scores: np.ndarray, clause_of: np.ndarray | None = None) -> np.ndarray:
        out = np.full(self.n, -np.inf)
        np.maximum.at(out, (self.index.passage_clause if clause_of is None else clause_of)[rows], scores[rows])
        return out

    def _row(self, q: dict) -> dict:
        fused, signals, vectors = self.r.fused(q["question"])
        all_rows = np.arange(len(self.source))
        per_source = {}
        for enc_id, v in vectors.items():
            sims = self.index.similarity(enc_id, v, all_rows)
            for s in SOURCES:
                per_source[f"{enc_id}:{s}"] = self.clause_max(np.nonzero(self.source == s)[0], sims)
        for part, scores in self.r.lexical(q["question"]).items():
            for s in ("zh", "en"):
                per_source[f"{part}:{s}"] = self.clause_max(np.nonzero(self.source == s)[0], scores)
        gold = [i for i, c in enumerate(self.clauses) if any(norm(g) in norm(c.text) for g in q["gold_quotes"])]
        return {"q": q["question"], "lang": "en" if is_english(q["question"]) else "zh", "gold": gold,
                "fused": np.where(np.isfinite(fused), fused, -1e9), "vectors": vectors, "per_source": per_source}


def _questions(path: str) -> list[dict]:
    with open(ROOT / path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---- the options: each gives, per question row, one more clause score ---------------------------------

def prf(st: Study, fitting: list[dict]):
    vecs = st.index.faiss["e5"].reconstruct_n(0, st.index.faiss["e5"].ntotal)
    retrieval = np.nonzero(st.index.retrieval_rows)[0]
    centroid = _centroids(st, vecs)

    def score(row):
        top = np.argsort(-row["fused"], kind="stable")[:3]
        q = row["vectors"]["e5"][0] + 0.5 * centroid[top].mean(0)
        return st.clause_max(retrieval, vecs @ (q / np.linalg.norm(q)))
    return score


def _centroids(st: Study, vecs: np.ndarray) -> np.ndarray:
    rows = np.nonzero(np.isin(st.source, ["zh", "zh-sent"]) & (np.abs(vecs).sum(1) > 0))[0]
    out = np.zeros((st.n, vecs.shape[1]))
    np.add.at(out, st.index.passage_clause[rows], vecs[rows])
    return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-9)


def centroid(st: Study, fitting: list[dict]):
    c = _centroids(st, st.index.faiss["e5"].reconstruct_n(0, st.index.faiss["e5"].ntotal))
    return lambda row: c @ row["vectors"]["e5"][0]


def _bigrams(s: str) -> set[str]:
    s = HAN.sub("|", s)
    return {s[i:i + 2] for i in range(len(s) - 1) if "|" not in s[i:i + 2]}


def heading(st: Study, fitting: list[dict]):
    own = [_bigrams(c.label or MARK.sub("", c.trail[-1])) if c.trail else set() for c in st.clauses]
    df: dict[str, int] = {}
    for b in own:
        for x in b:
            df[x] = df.get(x, 0) + 1
    idf = {x: math.log((st.n + 1) / (d + 0.5)) for x, d in df.items()}

    def score(row):
        qb = _bigrams(row["q"])
        return np.array([sum(idf[x] for x in b & qb) / (sum(idf[x] for x in b) + 1e-9) if b else 0.0 for b in own])
    return score


def phrases(st: Study, fitting: list[dict], *, longer_than: int = 40):
    texts, clause_of = [], []
    for row, p in enumerate(st.index.passages):
        if p["source"] == "zh-sent" and len(p["text"]) > longer_than:
            pieces = PIECE.findall(p["text"])
            for a in range(len(pieces)):
                texts.append("".join(pieces[a:a + 2]).strip())
                clause_of.append(st.index.passage_clause[row])
    vecs = st.encoders["e5"].encode_passages(texts)
    clause_of = np.array(clause_of)
    every = np.arange(len(texts))
    return lambda row: np.maximum(st.clause_max(every, vecs @ row["vectors"]["e5"][0], clause_of),
                                  row["per_source"]["e5:zh-sent"])


def document(st: Study, fitting: list[dict]):
    doc = np.array([c.doc_key for c in st.clauses])
    keys = sorted(set(doc))

    def score(row):
        means = np.array([np.sort(row["fused"][doc == k])[::-1][:3].mean() for k in keys])
        zs = (means - means.mean()) / (means.std() + 1e-9)
        return zs[np.searchsorted(keys, doc)]
    return score


def adapter(st: Study, fitting: list[dict], *, l2: float = 0.01, steps: int = 60, tau: float = 0.05):
    import torch
    vecs = st.index.faiss["e5"].reconstruct_n(0, st.index.faiss["e5"].ntotal)
    rows = np.nonzero(np.isin(st.source, ["zh", "en", "zh-sent"]))[0]
    pv = torch.tensor(vecs[rows])
    pc = torch.tensor(st.index.passage_clause[rows])

    def clause_scores(q):
        return torch.full((st.n,), -1e4).scatter_reduce(0, pc, pv @ q, reduce="amax")
    d = pv.shape[1]
    w = torch.eye(d, requires_grad=True)
    opt = torch.optim.Adam([w], lr=1e-3)
    qs = torch.tensor(np.stack([r["vectors"]["e5"][0] for r in fitting]))
    for _ in range(steps):
        opt.zero_grad()
        q = qs @ w.T
        q = q / q.norm(dim=1, keepdim=True)
        loss = sum(torch.logsumexp(clause_scores(q[i]) / tau, 0) - torch.logsumexp(clause_scores(q[i])[r["gold"]] / tau, 0)
                   for i, r in enumerate(fitting)) / len(fitting) + l2 * ((w - torch.eye(d)) ** 2).sum()
        loss.backward()
        opt.step()
    w = w.detach()

    def score(row):
        q = torch.tensor(row["vectors"]["e5"][0]) @ w.T
        s = clause_scores(q / q.norm()).numpy()
        return np.where(s > -1e3, s, -np.inf)
    return score


LEARNS = {"adapter"}   # options fitted on the questions themselves: left-out sets are scored by one learned without them
OPTIONS = {"prf": prf, "centroid": centroid, "heading": heading, "phrases": phrases, "document": document,
           "adapter": adapter}


# ---- fitting and reporting -------------------------------------------------------------------------------

def hits(rows: list[dict], scores: list[np.ndarray]) -> tuple[float, float]:
    h1 = h5 = 0
    for row, s in zip(rows, scores):
        top = list(np.argsort(-s, kind="stable")[:5])
        h1 += top[0] in row["gold"]
        h5 += any(g in top for g in row["gold"])
    return h1 / max(len(rows), 1), h5 / max(len(rows), 1)


def fit_weight(rows: list[dict], extra: list[np.ndarray]) -> float:
    def objective(w):
        h1, h5 = hits(rows, [r["fused"] + w * z(e) for r, e in zip(rows, extra)])
        return h1 + 0.5 * h5
    return max(WEIGHTS, key=lambda w: (objective(w), -w))   # ties: the smaller weight


def measure_option(st: Study, name: str, make) -> None:
    def scores(fitting: list[dict]) -> dict[str, list[np.ndarray]]:
        """Per set, the option's clause scores per question; an option that learns learns on `fitting` only."""
        score = make(st, fitting)
        return {p: [score(r) for r in st.rows[p]] for p in st.rows}

    fitting = [r for p in FIT for r in st.rows[p]]
    extra = scores(fitting)
    w = fit_weight(fitting, [e for p in FIT for e in extra[p]])
    cells = []
    for p in FIT:   # the weight fitted on the two other fitting sets; a learning option learned on them too
        others = [q for q in FIT if q != p]
        ex = scores([r for q in others for r in st.rows[q]]) if name in LEARNS else extra
        w_cv = fit_weight([r for q in others for r in st.rows[q]], [e for q in others for e in ex[q]])
        cells.append(_cell(p, st.rows[p], [r["fused"] + w_cv * z(e) for r, e in zip(st.rows[p], ex[p])]))
    for p in REPORT:
        cells.append(_cell(p, st.rows[p], [r["fused"] + w * z(e) for r, e in zip(st.rows[p], extra[p])]))
        # the ceiling: the weight that would suit the held-out set best (never used, only to show what is there)
        best = max(WEIGHTS, key=lambda v: (hits(st.rows[p], [r["fused"] + v * z(e) for r, e in zip(st.rows[p], extra[p])]), -v))
        h1, h5 = hits(st.rows[p], [r["fused"] + best * z(e) for r, e in zip(st.rows[p], extra[p])])
        cells.append(f"(its best weight on it, {best}: {h1:.2f}/{h5:.2f})")
    print(f"{name:9s} w={w:<4} " + "  ".join(cells))


def learned(st: Study, *, l2: float = 1.0) -> None:
    from scipy.optimize import minimize
    names = {"zh": ["e5:zh", "e5:zh-sent", "use:zh", "bm25:zh", "bridge:zh"],
             "en": ["e5:zh", "e5:en", "e5:zh-sent", "e5:en-sent", "use:zh", "use:en", "bm25:zh", "bm25:en",
                    "bridge:zh", "dictionary:zh"]}

    def matrix(row):
        cols = [row["per_source"][k] for k in names[row["lang"]]]
        return np.stack([z(c) if np.isfinite(c).any() and np.nanstd(np.where(np.isfinite(c), c, np.nan)) > 0
                         else np.zeros(st.n) for c in cols], 1)

    def fit(rows, lang):
        xs = [(matrix(r), r["gold"]) for r in rows if r["lang"] == lang]

        def loss(w):
            total, grad = l2 * w @ w, 2 * l2 * w
            for x, gold in xs:
                s = x @ w
                p = np.exp(s - s.max())
                p /= p.sum()
                pg = p[gold]
                total -= np.log(pg.sum() + 1e-12)
                grad -= x[gold].T @ pg / pg.sum() - x.T @ p
            return total, grad
        w0 = np.zeros(len(names[lang]))
        w0[0] = 1.0
        return minimize(loss, w0, jac=True, method="L-BFGS-B").x

    def scores(rows, train):
        w = {lang: fit(train, lang) for lang in names}
        return [matrix(r) @ w[r["lang"]] for r in rows]
    fitting = [r for p in FIT for r in st.rows[p]]
    cells = [_cell(p, st.rows[p], scores(st.rows[p], [r for q in FIT if q != p for r in st.rows[q]])) for p in FIT]
    cells += [_cell(p, st.rows[p], scores(st.rows[p], fitting)) for p in REPORT]
    print(f"{'learned':9s} {'':6s} " + "  ".join(cells))


def _cell(path: str, rows: list[dict], scores: list[np.ndarray]) -> str:
    h1, h5 = hits(rows, scores)
    en = [(r, s) for r, s in zip(rows, scores) if r["lang"] == "en"]
    e1, _ = hits([r for r, _ in en], [s for _, s in en])
    return f"{Path(path).stem[:8]:8s} {h1:.2f}/{h5:.2f} (en {e1:.2f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    ap.add_argument("--only", nargs="+", choices=["learned", *OPTIONS], help="these options only")
    a = ap.parse_args(argv)
    st = Study(a.index, FIT + REPORT)
    print("hit@1/hit@5 of the ranking (en: hit@1 of the English questions); fitting sets left out in turn, desk held out")
    print(f"{'in use':9s} {'':6s} " + "  ".join(_cell(p, st.rows[p], [r['fused'] for r in st.rows[p]]) for p in FIT + REPORT))
    for name in a.only or ["learned", *OPTIONS]:
        if name == "learned":
            learned(st)
        else:
            measure_option(st, name, OPTIONS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
