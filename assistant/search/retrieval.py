"""Question → ranked clauses: dense (e5, USE) and BM25 signals over passages, fused per clause.

Each signal scores every passage; a clause takes its best passage's score in each signal. Signals
are fused per clause by standardised scores (z-scores over all clauses: how far above the typical
clause) summed with weights. Against reciprocal-rank fusion (RRF, k=60, kept as `fusion="rrf"`) it
keeps the margin of a decisive signal (a BM25 hit that the dense encoders barely separate) and scored
higher on both the dev set and our own held-out questions (README, "Measured").
English questions also go through the zh↔en glossary: the Chinese terms it finds are added to the
BM25 query and to the e5 query. Their other words go through CC-CEDICT (dictionary.py) to the corpus's own
terms, which join the BM25 query with a fitted lower weight on the clauses that have no English rendering,
and those clauses take English weights of their own (`en_unrendered`, fitted on an index built without
renderings): this is what reaches the clauses of documents that have no rendering.
"""
from __future__ import annotations

import json
import re
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..ingest.clauses import Clause
from .dictionary import Translator, load_cedict
from .encoders import load_config, manifest_specs
from ..ingest.glossary import is_english, load_glossary
from .index import LoadedIndex
from ..errors import DataError
from .models import Encoder
from .query import topic_of
from ..runtime import encode_pool

RRF_K = 60
DOC_REF = re.compile(r"(?:〔\d{4}〕)?(?P<a>\d{1,4})\s*号|\b(?:no\.?|number|document|doc\.?)\s*(?P<b>\d{1,4})\b", re.I)
FUSION_PATH = Path(__file__).resolve().parent.parent / "data" / "fusion.json"


@lru_cache(maxsize=2)
def load_fusion(path: Path = FUSION_PATH) -> dict:
    """Signal weights per question language and the vocabulary bridge's settings, fitted by
    eval/fit_fusion.py on questions other than the ones it is reported on."""
    if not path.exists():
        raise DataError(f"{path} is missing: it holds the fitted fusion weights; restore it from the repository "
                        "or run `python eval/fit_fusion.py --write` to make it")
    return json.loads(path.read_text(encoding="utf-8"))


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
    signals: dict = field(default_factory=dict)   # per signal: best passage cosine / BM25 score
    sentences: tuple[Sentence, ...] = ()          # the clause's sentences, most similar first


def rrf(s: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    order = np.argsort(-s, kind="stable")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    return 1.0 / (RRF_K + ranks)


def zscore(s: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """Standardised score: how far above the typical clause this one is, comparable across signals. The
    typical clause is measured on `background` (the same signal on a sample of clauses scored in full) when
    `s` holds only the nearest ones, else on the finite entries of `s`."""
    fin = np.isfinite(s)
    ref = s[fin] if background is None or not len(background) else background
    mu, sd = ref.mean(), ref.std() + 1e-9
    return np.where(fin, (s - mu) / sd, -1e9)


FUSIONS = {"z": zscore, "rrf": rrf}


EN_WORD = re.compile(r"[a-z][a-z-]{3,}")
HAN_TERM = re.compile(r"[\u4e00-\u9fff]{2,}")


def english_phrases(question: str, zh_terms: list[str], glossary) -> list[str]:
    """The content words of an English question and their adjacent pairs ("bonded zone", "borrow abroad"),
    for the bridge to the documents' Chinese terms; words the glossary already translated are left out."""
    from .lexical import STOPWORDS
    covered = glossary_words(zh_terms, glossary)
    words = [w for w in EN_WORD.findall(question.lower()) if w not in STOPWORDS and w not in covered]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def glossary_words(zh_terms: list[str], glossary) -> set[str]:
    """The English words of the glossary names found in a question (their terms are already in the query)."""
    return {w for zh in zh_terms for w in glossary.to_english(zh).lower().split()}


class Retriever:
    def __init__(self, index: LoadedIndex, encoders: dict[str, Encoder], *, fusion: str = "z",
                 executor: Executor | None = None):
        missing = set(index.faiss) - set(encoders)
        if missing:
            raise ValueError(f"no encoder given for index signal(s) {sorted(missing)}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion {fusion!r} is not one of {sorted(FUSIONS)}")
        self.fuse = FUSIONS[fusion]
        self.fusion = load_fusion()
        self.bridge = index.bridge(self.fusion["bridge"])
        self.bridge_en = index.bridge(self.fusion["bridge_en"])
        self.index = index
        self.encoders = encoders
        self.specs = manifest_specs(index.manifest)   # per encoder: what it embeds, its weight on sentences
        config = load_config()
        self.depth = config["search_depth"]             # passages each dense signal takes from its vector index
        self.background_clauses = config["background_clauses"]
        self.glossary = load_glossary()
        self.n_clauses = len(index.catalog.clauses)
        # the first encoder (e5 through onnxruntime, which runs without holding the GIL) works in a
        # helper thread while the asking thread runs the others and BM25: a question waits for the
        # slowest signal, not for their sum. The helpers are the process's one encode pool, sized from the
        # serving concurrency (runtime.start), shared by every Retriever; `executor` replaces it.
        self._helpers = executor or encode_pool()

    def _clause_max(self, passage_scores: np.ndarray, *, rows: np.ndarray | None = None) -> np.ndarray:
        """Per clause, the best score among its passages (`rows`: which passages; default the retrieval ones)."""
        rows = self.index.retrieval_rows if rows is None else rows
        return self._best_per_clause(np.nonzero(rows)[0], passage_scores[rows])

    def _best_per_clause(self, rows: np.ndarray, scores: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Per clause, the best of `scores` (one per passage row in `rows`), into `out` (default: all -inf)."""
        out = np.full(self.n_clauses, -np.inf, dtype=np.float32) if out is None else out
        np.maximum.at(out, self.index.passage_clause[rows], scores)
        return out

    @cached_property
    def translator(self) -> Translator:
        """CC-CEDICT restricted to this index's BM25 vocabulary (its Chinese terms of two characters or more)."""
        vocab = {t for t in self.index.bm25.vocab if HAN_TERM.fullmatch(t)}
        return Translator(load_cedict(), vocab, per_phrase=self.fusion["dictionary"]["per_phrase"])

    @cached_property
    def unrendered_rows(self) -> np.ndarray:
        """1.0 for the passages of clauses that have no English rendering passage, 0.0 for the others: where the
        dictionary's terms count. A rendered clause is matched by its rendering's own English words (the
        dictionary weighted on every clause lowered English ranking on the rendered documents; README,
        "English questions without renderings")."""
        rendered = np.zeros(self.n_clauses, dtype=bool)
        rendered[[self.index.passage_clause[i] for i, p in enumerate(self.index.passages) if p["source"] == "en"]] = True
        return (~rendered[self.index.passage_clause]).astype(np.float32)

    @cached_property
    def _clause_terms(self) -> tuple[list[set[str]], dict[str, float]]:
        """Per clause, the set of its tokens (clause text and English rendering); and each token's IDF."""
        terms = [set() for _ in range(self.n_clauses)]
        for row, p in enumerate(self.index.passages):
            if p["source"] in ("zh", "en"):
                terms[self.index.passage_clause[row]].update(self.index.tokenizer.tokenize(p["text"]))
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
        if self.fusion["dictionary"]["weight"] and self.unrendered_rows.any():
            _ = self.translator
        for enc in self.encoders.values():
            enc.encode_queries(["warm up 预热"])

    def is_specific(self, question: str, *, max_share: float = 0.08) -> bool:
        """Does the question name anything specific: a noun found in few clauses, or a word in none?

        "什么时候完成？" names nothing (完成 is a common verb); "长春地铁票价？" does (地铁 is in no clause).
        """
        terms, idf = self._clause_terms
        rare = float(np.log((self.n_clauses + 1) / (max_share * self.n_clauses + 0.5)))
        if is_english(question):
            words = [w for w in self.index.tokenizer.tokenize(question) if not w.isdigit()]
            zh = self.glossary.english_terms(question)
            if self.unrendered_rows.any():  # clauses without renderings: their English is the dictionary's
                zh = zh + self.translator.terms(question)
                return any(w not in idf and not self.translator.terms(w) for w in words) or \
                    any(idf.get(t, rare) >= rare for t in zh)
            return any(w not in idf for w in words) or any(idf.get(t, rare) >= rare for t in zh)
        topic = topic_of(question)
        for word, flag in self.index.tokenizer.content_words(topic):
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

    def signals(self, question: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per signal, the clause scores; and the question's vector per encoder. Dense signals score the
        nearest `search_depth` passages of their vector index (a clause with none among them scores -inf, which
        the fusion reads as the lowest score found) — the retrieval passages
        (`e5`, `use`) and, for the sentence-level match a visitor's question often makes, the clause's
        single sentences (`e5_s`); BM25 scores the topic's tokens plus, with lower weights, the documents'
        terms nearest to the question words they never use (see bridge.py) and, for an English question,
        the dictionary's translations of its words (see `lexical`)."""
        english = is_english(question)
        zh_terms = self.glossary.english_terms(question) if english else []
        topic = topic_of(question)
        with_terms = topic + (" " + " ".join(zh_terms) if zh_terms else "")
        texts = {enc_id: with_terms if self.specs[enc_id].glossary_terms else topic for enc_id in self.encoders}
        first, *rest = self.encoders
        pending = self._helpers.submit(self.encoders[first].encode_queries, [texts[first]])
        vectors = {enc_id: self.encoders[enc_id].encode_queries([texts[enc_id]]) for enc_id in rest}
        parts = self.lexical(question, zh_terms=zh_terms)
        bm25 = parts["bm25"] + self.fusion["bridge"]["weight"] * parts["bridge"] \
            + self.fusion["dictionary"]["weight"] * parts["dictionary"]
        vectors[first] = pending.result()
        per_passage = {enc_id: self.index.nearest(enc_id, vectors[enc_id], self.depth) for enc_id in self.encoders}
        per_passage["bm25"] = bm25
        clause_scores = {k: self._clause_max(v) for k, v in per_passage.items()}
        for enc_id in self.encoders:
            clause_scores[f"{enc_id}_s"] = self._clause_max(per_passage[enc_id], rows=self.index.sentence_rows)
        self._complete(clause_scores, vectors, bm25)
        return clause_scores, vectors, self._background(vectors)

    def _complete(self, clause_scores: dict[str, np.ndarray], vectors: dict[str, np.ndarray], bm25: np.ndarray) -> None:
        """Score in full, in every dense signal, each candidate clause — one that some signal found among its
        nearest `depth` passages — that the signal itself did not reach: the fusion then compares the candidates
        on exact scores, and only clauses no signal found take the lowest score found."""
        candidates = np.zeros(self.n_clauses, dtype=bool)
        for enc_id in self.encoders:
            candidates |= np.isfinite(clause_scores[enc_id])
        top = np.argsort(-bm25, kind="stable")[:self.depth]
        candidates[self.index.passage_clause[top[bm25[top] > 0]]] = True
        for enc_id in self.encoders:
            for name, kind in ((enc_id, self.index.retrieval_rows), (f"{enc_id}_s", self.index.sentence_rows)):
                missing = candidates & ~np.isfinite(clause_scores[name])
                rows = np.nonzero(kind & missing[self.index.passage_clause])[0]
                if len(rows):
                    sims = self.index.similarity(enc_id, vectors[enc_id], rows)
                    self._best_per_clause(rows, sims, out=clause_scores[name])

    @cached_property
    def _sample(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The clauses the z fusion measures a dense signal's typical score on when the vector index returns
        only the nearest passages: every clause up to `background_clauses`, else that many spread evenly over
        the catalog; and the passage rows of those clauses per signal (retrieval passages, sentences)."""
        n = self.n_clauses
        sample = np.unique(np.linspace(0, n - 1, min(n, self.background_clauses)).round().astype(np.int64))
        member = np.isin(self.index.passage_clause, sample)
        return sample, {"": np.nonzero(member & self.index.retrieval_rows)[0],
                        "_s": np.nonzero(member & self.index.sentence_rows)[0]}

    def _background(self, vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per dense signal, the sample clauses' scores computed in full (clause position → score, -inf for a
        clause with no passage of that kind); empty when the search already scored every passage."""
        if all(self.index.faiss[e].ntotal <= self.depth for e in self.encoders):
            return {}
        sample, rows = self._sample
        out = {}
        for enc_id in self.encoders:
            for suffix, r in rows.items():
                out[enc_id + suffix] = self._best_per_clause(r, self.index.similarity(enc_id, vectors[enc_id], r))
        return out

    def lexical(self, question: str, *, zh_terms: list[str] | None = None,
                dictionary: bool | None = None) -> dict[str, np.ndarray]:
        """The parts of the BM25 signal, per passage, before they are weighted (`fusion.json`) and summed:
        `bm25` the question's own tokens (and the glossary's terms for its English names); `bridge` the
        documents' terms nearest to the words they never use; `dictionary` CC-CEDICT's translations of an
        English question's other words into the corpus's terms, on the clauses without a rendering (zeros for
        a Chinese question). A term already in the query is not counted twice. `dictionary`: compute that part
        even when its weight is 0 (for fitting the weight); default only when it is weighted."""
        english = is_english(question)
        if zh_terms is None:
            zh_terms = self.glossary.english_terms(question) if english else []
        topic = topic_of(question)
        tokens = self.index.tokenizer.tokenize(topic) + zh_terms
        zero = np.zeros(len(self.index.passages), dtype=np.float32)
        out = {"bm25": self.index.bm25.scores(tokens), "bridge": zero, "dictionary": zero}
        unknown = english_phrases(question, zh_terms, self.glossary) if english else \
            [w for w, _ in self.index.tokenizer.content_words(topic) if len(w) >= 2 and w not in self.index.bm25.vocab]
        near = []
        if unknown and self.bridge is not None:
            bridge = self.bridge_en if english else self.bridge
            near = [t for t in bridge.near_terms(unknown, self.encoders) if t not in tokens]
            if near:
                out["bridge"] = self.index.bm25.scores(near)
        if dictionary is None:
            dictionary = bool(self.fusion["dictionary"]["weight"])
        if english and dictionary and self.unrendered_rows.any():
            skip = glossary_words(zh_terms, self.glossary)
            translated = [t for t in self.translator.terms(question, skip=skip) if t not in tokens and t not in near]
            if translated:
                out["dictionary"] = self.index.bm25.scores(translated) * self.unrendered_rows
        return out

    @cached_property
    def unrendered_clauses(self) -> np.ndarray:
        """True for the clauses without an English rendering passage."""
        out = np.ones(self.n_clauses, dtype=bool)
        out[self.index.passage_clause[self.unrendered_rows == 0]] = False
        return out

    def clause_weights(self, question: str) -> dict[str, np.ndarray | float]:
        """Each signal's fusion weight: per language (`fusion.json` zh / en); for an English question the
        clauses without a rendering take the weights fitted on an index built without renderings
        (`en_unrendered`): there the English question meets only Chinese text, and the signals that carry
        across languages count differently."""
        if not is_english(question):
            return self.fusion["zh"]
        en, other = self.fusion["en"], self.fusion.get("en_unrendered")
        if other is None or not self.unrendered_clauses.any():
            return en
        return {k: np.where(self.unrendered_clauses, other.get(k, 0.0), en.get(k, 0.0)) for k in {*en, *other}}

    @staticmethod
    def _typical(background: np.ndarray | None, sample: np.ndarray | None, allowed: np.ndarray) -> np.ndarray | None:
        """The background scores of the allowed sample clauses, a clause without such passages at the lowest."""
        if background is None:
            return None
        b = background[sample[allowed[sample]]]
        fin = np.isfinite(b)
        return np.where(fin, b, b[fin].min()) if fin.any() else None

    def search(self, question: str, *, top_k: int = 5, doc: str | None = None) -> list[Hit]:
        fused, clause_scores, vectors = self.fused(question, doc=doc)
        best = [i for i in np.argsort(-fused, kind="stable")[:top_k] if np.isfinite(fused[i])]
        clauses = self.index.catalog.clauses
        hits = []
        for i in best:
            rows = np.nonzero((self.index.passage_clause == i) & ~self.index.retrieval_rows)[0]
            dense = sum(self.specs[k].sentence_weight * self.index.similarity(k, vectors[k], rows) for k in self.encoders)
            sents = sorted((Sentence(p["source"], p["text"], tuple(p["span"]) if "span" in p else None,
                                     float(score))
                            for r, score in zip(rows, dense) for p in (self.index.passages[r],)),
                           key=lambda x: -x.score)
            signals = {k: float(v[i]) for k, v in clause_scores.items()}
            hits.append(Hit(clauses[i], float(fused[i]), signals, tuple(sents)))
        return hits

    def fused(self, question: str, *, doc: str | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per clause, the fused score (-inf outside the document asked about, `doc` or the one the question
        names); and the signals and question vectors it was fused from."""
        clause_scores, vectors, background = self.signals(question)
        sample = self._sample[0] if background else None
        weights = self.clause_weights(question)
        fused = np.zeros(self.n_clauses, dtype=np.float64)
        allowed = np.isfinite(clause_scores["bm25"])  # BM25 scores every clause that has a retrieval passage
        doc = doc or self.doc_reference(question)
        if doc:
            allowed &= np.array([c.doc_key == doc for c in self.index.catalog.clauses])
        for name, s in clause_scores.items():
            if name == "bm25" and not np.any(s > 0):
                continue  # no query word is in the vocabulary: BM25 says nothing
            w = weights.get(name)
            if w is None or not np.any(w) or not np.any(np.isfinite(s) & allowed):
                continue  # a signal not used in this language, or with nothing to score (no sentences)
            # a clause without sentences, or with no passage among the nearest: the lowest score found
            vals = np.where(np.isfinite(s), s, np.min(s[np.isfinite(s)]))
            fused += w * self.fuse(np.where(allowed, vals, -np.inf), self._typical(background.get(name), sample, allowed))
        fused[~allowed] = -np.inf
        return fused, clause_scores, vectors
