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
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .clauses import Clause
from .glossary import is_english, load_glossary
from .index import LoadedIndex
from .lexical import content_words, tokenize
from .models import Encoder
from .runtime import encode_pool

RRF_K = 60
# Words that say what kind of answer is wanted (who leads, how many), not what the question is about.
INTENT_ZH = re.compile(r"(由|是)?(哪个|哪些|哪一个|什么)(部门|单位|机构)(来)?(负责|牵头|主管)?|由谁(来)?(负责|牵头)?|谁(来)?(负责|牵头)|"
                       r"(牵头|负责|责任|主管)(部门|单位)|(是)?什么(时候)?|有哪些|是谁|多少|哪几|怎么(办|样)?|如何|吗|呢|[?？]|"
                       r"哪些(地方|情形|情况|方面|内容|领域)|指(的是)?")
DOC_REF = re.compile(r"(?:〔\d{4}〕)?(?P<a>\d{1,4})\s*号|\b(?:no\.?|number|document|doc\.?)\s*(?P<b>\d{1,4})\b", re.I)
WEIGHTS_ZH = {"e5": 1.0, "use": 0.5, "bm25": 1.0}
WEIGHTS_EN = {"e5": 1.0, "use": 1.0, "bm25": 0.7}


@dataclass(frozen=True)
class Sentence:
    source: str                   # zh-sent (of the clause) or en-sent (of its English rendering)
    text: str
    span: tuple[int, int] | None  # offsets within the clause text, for zh-sent
    score: float                  # dense similarity to the question


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float                  # fused score, higher is better
    signals: dict = field(default_factory=dict)   # per signal: best passage cosine / BM25 score;
                                                  # the top hit also has "coverage" (see Retriever.coverage)
    sentences: tuple[Sentence, ...] = ()          # the clause's sentences, most similar first


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


def topic_of(question: str) -> str:
    """What a Chinese question is about, without the words asking for the kind of answer; English as is."""
    return question if is_english(question) else (INTENT_ZH.sub(" ", question).strip() or question)


class Retriever:
    def __init__(self, index: LoadedIndex, encoders: dict[str, Encoder], *, fusion: str = "z",
                 executor: Executor | None = None):
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
        # the first encoder (e5 through onnxruntime, which runs without holding the GIL) works in a
        # helper thread while the asking thread runs the others and BM25: a question waits for the
        # slowest signal, not for their sum. The helpers are the process's one encode pool, sized from the
        # serving concurrency (runtime.start), shared by every Retriever; `executor` replaces it.
        self._helpers = executor or encode_pool()

    def _clause_max(self, passage_scores: np.ndarray) -> np.ndarray:
        out = np.full(self.n_clauses, -np.inf, dtype=np.float32)
        rows = self.index.retrieval_rows
        np.maximum.at(out, self.index.passage_clause[rows], passage_scores[rows])
        return out

    @cached_property
    def _clause_terms(self) -> tuple[list[set[str]], dict[str, float]]:
        """Per clause, the set of its tokens (clause text and English rendering); and each token's IDF."""
        terms = [set() for _ in range(self.n_clauses)]
        for row, p in enumerate(self.index.passages):
            if p["source"] in ("zh", "en"):
                terms[self.index.passage_clause[row]].update(tokenize(p["text"]))
        df: dict[str, int] = {}
        for t in terms:
            for tok in t:
                df[tok] = df.get(tok, 0) + 1
        n = self.n_clauses
        return terms, {tok: float(np.log((n + 1) / (d + 0.5))) for tok, d in df.items()}

    def warm(self) -> None:
        """Load what is otherwise loaded by the first question (USE's tokenizer, onnxruntime's buffers,
        the clause term sets), so that the first visitor does not wait for it and two first visitors
        do not both build it."""
        _ = self._clause_terms
        for enc in self.encoders.values():
            enc.encode_queries(["warm up 预热"])

    def coverage(self, question: str, clause_index: int) -> float:
        """IDF-weighted share of the question's content words found in the clause (or its rendering).

        A word the documents never use counts with the highest weight: a question about 地铁票价 or a
        passport is not about these documents however close its embedding lands.
        """
        terms, idf = self._clause_terms
        zh_terms = self.glossary.english_terms(question) if is_english(question) else []
        toks = set(tokenize(topic_of(question)))
        # cut_for_search also yields the parts of a long word; score the longest forms only
        toks = {t for t in toks if not any(t != u and t in u for u in toks)} | set(zh_terms)
        if not toks:
            return 0.0
        unknown = float(np.log(self.n_clauses + 1) + 1)
        # a lone character is seldom the topic (搞, 指, 领); it must not decide coverage on its own
        weights = {t: idf.get(t, unknown) * (0.25 if len(t) == 1 else 1.0) for t in toks}
        have = terms[clause_index]
        # an English word is covered when its glossary term is in the Chinese text
        have = have | {zh for zh in zh_terms if zh in self.index.catalog.clauses[clause_index].text}
        return sum(w for t, w in weights.items() if t in have) / sum(weights.values())

    def is_specific(self, question: str, *, max_share: float = 0.08) -> bool:
        """Does the question name anything specific: a noun found in few clauses, or a word in none?

        "什么时候完成？" names nothing (完成 is a common verb); "长春地铁票价？" does (地铁 is in no clause).
        """
        terms, idf = self._clause_terms
        rare = float(np.log((self.n_clauses + 1) / (max_share * self.n_clauses + 0.5)))
        if is_english(question):
            words = [w for w in tokenize(question) if not w.isdigit()]
            return any(w not in idf for w in words) or \
                any(idf.get(t, rare) >= rare for t in self.glossary.english_terms(question))
        topic = INTENT_ZH.sub(" ", question).strip()
        for word, flag in content_words(topic):
            if word not in idf and len(word) > 1:
                return True
            if flag.startswith(("n", "eng")) and idf.get(word, 0.0) >= rare:
                return True
        return False

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
        topic = topic_of(question)
        dense_q = topic + (" " + " ".join(zh_terms) if zh_terms else "")
        texts = {enc_id: dense_q if enc_id == "e5" else topic for enc_id in self.encoders}
        first, *rest = self.encoders
        pending = self._helpers.submit(self.encoders[first].encode_queries, [texts[first]])
        vectors = {enc_id: self.encoders[enc_id].encode_queries([texts[enc_id]]) for enc_id in rest}
        bm25 = self.index.bm25.scores(tokenize(topic) + zh_terms)
        vectors[first] = pending.result()
        per_passage = {}
        for enc_id in self.encoders:
            q, idx = vectors[enc_id], self.index.faiss[enc_id]
            scores, rows = idx.search(q, idx.ntotal)
            s = np.full(idx.ntotal, -1.0, dtype=np.float32)
            s[rows[0][rows[0] >= 0]] = scores[0][rows[0] >= 0]
            per_passage[enc_id] = s
        per_passage["bm25"] = bm25
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
        dense = sum(passage_scores[k] * (1.0 if k == "e5" else 0.5) for k in self.encoders)
        hits = []
        for i in best:
            rows = np.nonzero((self.index.passage_clause == i) & ~self.index.retrieval_rows)[0]
            sents = sorted((Sentence(p["source"], p["text"], tuple(p["span"]) if "span" in p else None,
                                     float(dense[r]))
                            for r in rows for p in (self.index.passages[r],)), key=lambda x: -x.score)
            signals = {k: float(v[i]) for k, v in clause_scores.items()}
            if not hits:  # the refusal decision looks at the best clause only
                signals["coverage"] = self.coverage(question, int(i))
            hits.append(Hit(clauses[i], float(fused[i]), signals, tuple(sents)))
        return hits
