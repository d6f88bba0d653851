"""Question → ranked clauses: dense (e5, USE) and BM25 signals over passages, fused per clause.

Each signal scores every passage; a clause takes its best passage's score in each signal. Signals
are fused per clause by standardised scores (z-scores over all clauses: how far above the typical
clause) summed with weights. Against reciprocal-rank fusion (RRF, k=60, kept as `fusion="rrf"`) it
keeps the margin of a decisive signal (a BM25 hit that the dense encoders barely separate) and scored
higher on both the dev set and our own held-out questions (README, "Measured").
English questions also go through the zh↔en glossary: the Chinese terms it finds are added to the
BM25 query and to the e5 query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .clauses import Clause
from .glossary import is_english, load_glossary
from .index import LoadedIndex
from .lexical import tokenize
from .models import Encoder

RRF_K = 60
# Words that say what kind of answer is wanted (who leads, how many), not what the question is about.
INTENT_ZH = re.compile(r"(由|是)?(哪个|哪些|哪一个|什么)(部门|单位|机构)(来)?(负责|牵头|主管)?|由谁(来)?(负责|牵头)?|谁(来)?(负责|牵头)|"
                       r"(牵头|负责|责任|主管)(部门|单位)|(是)?什么(时候)?|有哪些|是谁|多少|哪几|怎么(办|样)?|如何|吗|呢|[?？]")
DOC_REF = re.compile(r"(?:〔\d{4}〕)?(?P<a>\d{1,4})\s*号|\b(?:no\.?|number|document|doc\.?)\s*(?P<b>\d{1,4})\b", re.I)
WEIGHTS_ZH = {"e5": 1.0, "use": 0.5, "bm25": 1.0}
WEIGHTS_EN = {"e5": 1.0, "use": 1.0, "bm25": 0.7}


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float                  # fused score, higher is better
    signals: dict = field(default_factory=dict)   # per signal: best passage cosine / BM25 score
    passage: str = ""             # the best-matching passage text (for span finding)


def rrf(s: np.ndarray) -> np.ndarray:
    order = np.argsort(-s, kind="stable")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    return 1.0 / (RRF_K + ranks)


def zscore(s: np.ndarray) -> np.ndarray:
    """Standardised score: how far above the typical clause this one is, comparable across signals."""
    fin = np.isfinite(s)
    mu, sd = s[fin].mean(), s[fin].std() + 1e-9
    return np.where(fin, (s - mu) / sd, -1e9)


FUSIONS = {"z": zscore, "rrf": rrf}


class Retriever:
    def __init__(self, index: LoadedIndex, encoders: dict[str, Encoder], *, fusion: str = "z"):
        missing = set(index.faiss) - set(encoders)
        if missing:
            raise ValueError(f"no encoder given for index signal(s) {sorted(missing)}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion {fusion!r} is not one of {sorted(FUSIONS)}")
        self.fuse = FUSIONS[fusion]
        self.index = index
        self.encoders = encoders
        self.glossary = load_glossary()
        self.n_clauses = len(index.catalog.clauses)

    def _clause_max(self, passage_scores: np.ndarray) -> np.ndarray:
        out = np.full(self.n_clauses, -np.inf, dtype=np.float32)
        np.maximum.at(out, self.index.passage_clause, passage_scores)
        return out

    def doc_reference(self, question: str) -> str | None:
        """The document a question names (41号, No. 41, document 41), if it is one of ours."""
        keys = {d.key for d in self.index.catalog.documents}
        for m in DOC_REF.finditer(question):
            key = m["a"] or m["b"]
            if key in keys:
                return key
        return None

    def signals(self, question: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per signal: (clause scores, passage scores)."""
        english = is_english(question)
        zh_terms = self.glossary.english_terms(question) if english else []
        topic = question if english else (INTENT_ZH.sub(" ", question).strip() or question)
        dense_q = topic + (" " + " ".join(zh_terms) if zh_terms else "")
        per_passage = {}
        for enc_id, enc in self.encoders.items():
            q = enc.encode_queries([dense_q if enc_id == "e5" else topic])
            idx = self.index.faiss[enc_id]
            scores, rows = idx.search(q, idx.ntotal)
            s = np.full(idx.ntotal, -1.0, dtype=np.float32)
            s[rows[0][rows[0] >= 0]] = scores[0][rows[0] >= 0]
            per_passage[enc_id] = s
        per_passage["bm25"] = self.index.bm25.scores(tokenize(topic) + zh_terms)
        return {k: self._clause_max(v) for k, v in per_passage.items()}, per_passage

    def search(self, question: str, *, top_k: int = 5, doc: str | None = None) -> list[Hit]:
        clause_scores, passage_scores = self.signals(question)
        weights = WEIGHTS_EN if is_english(question) else WEIGHTS_ZH
        fused = np.zeros(self.n_clauses, dtype=np.float64)
        allowed = np.isfinite(next(iter(clause_scores.values())))
        doc = doc or self.doc_reference(question)
        if doc:
            allowed &= np.array([c.doc_key == doc for c in self.index.catalog.clauses])
        for name, s in clause_scores.items():
            if name == "bm25" and not np.any(s > 0):
                continue  # no query word is in the vocabulary: BM25 says nothing
            fused += weights.get(name, 1.0) * self.fuse(np.where(allowed, s, -np.inf))
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
