"""Question → ranked clauses: dense (e5, USE) and BM25 signals over passages, fused per clause.

Each signal scores every passage; a clause takes its best passage's score in each signal; the
signals are fused by weighted reciprocal rank (RRF, k=60). Weighted RRF needs no score calibration
between cosine and BM25 and was the best of the fusions measured on the dev set (see README).
English questions also go through the zh↔en glossary: the Chinese terms it finds are added to the
BM25 query and to the e5 query.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .clauses import Clause
from .glossary import is_english, load_glossary
from .index import LoadedIndex
from .lexical import tokenize
from .models import Encoder

RRF_K = 60
WEIGHTS_ZH = {"e5": 1.0, "use": 0.5, "bm25": 1.0}
WEIGHTS_EN = {"e5": 1.0, "use": 1.0, "bm25": 0.7}


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float                  # fused score (weighted RRF), higher is better
    signals: dict = field(default_factory=dict)   # per signal: best passage cosine / BM25 score
    passage: str = ""             # the best-matching passage text (for span finding)


class Retriever:
    def __init__(self, index: LoadedIndex, encoders: dict[str, Encoder]):
        missing = set(index.faiss) - set(encoders)
        if missing:
            raise ValueError(f"no encoder given for index signal(s) {sorted(missing)}")
        self.index = index
        self.encoders = encoders
        self.glossary = load_glossary()
        self.n_clauses = len(index.catalog.clauses)

    def _clause_max(self, passage_scores: np.ndarray) -> np.ndarray:
        out = np.full(self.n_clauses, -np.inf, dtype=np.float32)
        np.maximum.at(out, self.index.passage_clause, passage_scores)
        return out

    def signals(self, question: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per signal: (clause scores, passage scores)."""
        english = is_english(question)
        zh_terms = self.glossary.english_terms(question) if english else []
        dense_q = question + (" " + " ".join(zh_terms) if zh_terms else "")
        per_passage = {}
        for enc_id, enc in self.encoders.items():
            q = enc.encode_queries([dense_q if enc_id == "e5" else question])
            idx = self.index.faiss[enc_id]
            scores, rows = idx.search(q, idx.ntotal)
            s = np.full(idx.ntotal, -1.0, dtype=np.float32)
            s[rows[0][rows[0] >= 0]] = scores[0][rows[0] >= 0]
            per_passage[enc_id] = s
        per_passage["bm25"] = self.index.bm25.scores(tokenize(question) + zh_terms)
        return {k: self._clause_max(v) for k, v in per_passage.items()}, per_passage

    def search(self, question: str, *, top_k: int = 5, doc: str | None = None) -> list[Hit]:
        clause_scores, passage_scores = self.signals(question)
        weights = WEIGHTS_EN if is_english(question) else WEIGHTS_ZH
        fused = np.zeros(self.n_clauses, dtype=np.float64)
        allowed = np.isfinite(next(iter(clause_scores.values())))
        if doc:
            allowed &= np.array([c.doc_key == doc for c in self.index.catalog.clauses])
        for name, s in clause_scores.items():
            if name == "bm25" and not np.any(s > 0):
                continue  # no query word is in the vocabulary: BM25 says nothing
            order = np.argsort(-np.where(allowed, s, -np.inf), kind="stable")
            ranks = np.empty(self.n_clauses)
            ranks[order] = np.arange(1, self.n_clauses + 1)
            fused += weights.get(name, 1.0) / (RRF_K + ranks)
        fused[~allowed] = -np.inf
        best = [i for i in np.argsort(-fused, kind="stable")[:top_k] if np.isfinite(fused[i])]
        clauses = self.index.catalog.clauses
        hits = []
        for i in best:
            rows = np.nonzero(self.index.passage_clause == i)[0]
            lead = max(rows, key=lambda r: passage_scores.get("e5", passage_scores["bm25"])[r])
            hits.append(Hit(clauses[i], float(fused[i]), {k: float(v[i]) for k, v in clause_scores.items()},
                            self.index.passages[lead]["text"]))
        return hits
