"""From a visitor's words to the documents' words: each question word the documents never use (网速, 坏账,
苞米) is matched to the documents' own terms nearest in meaning (宽带, 不良贷款, 玉米) by the multilingual
encoders, and those terms join the lexical (BM25) query with a lower weight.

The vocabulary is derived from the corpus at build time — every content word jieba finds in a clause —
and embedded once per encoder (files `vocab.json` + `vocab.<encoder>.npy` in the build folder). Nothing
here is a hand list: a new document brings its own vocabulary.
"""
from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ingest.catalog import Catalog
from .lexical import Tokenizer, default_tokenizer

VOCAB_FILE = "vocab.json"
CACHE_WORDS = 4096  # question words whose nearest terms are kept
WORD_RE = re.compile(r"[\u4e00-\u9fff]{2,}")


def corpus_terms(catalog: Catalog, *, tokenizer: Tokenizer | None = None) -> list[str]:
    """The documents' content words (nouns, verbs, adjectives as jieba tags them), two characters or more;
    cut by `tokenizer` (the index's, default the module's)."""
    tokenizer = tokenizer or default_tokenizer()
    terms = set()
    for c in catalog.clauses:
        terms.update(w for w, _ in tokenizer.content_words(c.text) if WORD_RE.fullmatch(w))
    return sorted(terms)


def embed_vocabulary(catalog: Catalog, encoders: dict, *, previous: dict | None = None,
                     tokenizer: Tokenizer | None = None) -> tuple[list[str], dict]:
    """The vocabulary and its vectors per encoder id; vectors of terms already embedded by the same encoder
    (`previous`: encoder id → term → vector, see `read_vocabulary`) are reused (a rebuild embeds only new terms)."""
    terms = corpus_terms(catalog, tokenizer=tokenizer)
    old = previous or {}
    out = {}
    for enc_id, enc in encoders.items():
        known = old.get(enc_id, {})
        todo = [t for t in terms if t not in known]
        fresh = dict(zip(todo, _encode(enc, todo)))
        out[enc_id] = np.array([known[t] if t in known else fresh[t] for t in terms],
                               dtype=np.float32).reshape(-1, enc.dim)
    return terms, out


def write_vocabulary(folder: Path, terms: list[str], vectors: dict, names: dict) -> None:
    """`vocab.json` (terms and the encoder names) and `vocab.<encoder>.npy` in a build folder."""
    (folder / VOCAB_FILE).write_text(json.dumps({"terms": terms, "encoders": names}, ensure_ascii=False),
                                     encoding="utf-8")
    for enc_id, vecs in vectors.items():
        np.save(folder / f"vocab.{enc_id}.npy", vecs)


def _encode(enc, terms: list[str]) -> np.ndarray:
    return np.vstack([enc.encode_terms(terms[i:i + 128]) for i in range(0, len(terms), 128)]) if terms \
        else np.zeros((0, enc.dim), dtype=np.float32)


def read_vocabulary(folder: Path, names: dict) -> dict:
    """Per encoder id, term → vector from an earlier build by the same encoder (empty when there is none)."""
    path = folder / VOCAB_FILE
    if not path.is_file():
        return {}
    meta = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict):  # written by another version of this program: nothing to reuse
        return {}
    out = {}
    for enc_id, name in names.items():
        vec_path = folder / f"vocab.{enc_id}.npy"
        if meta.get("encoders", {}).get(enc_id) == name and vec_path.is_file():
            vecs = np.load(vec_path)
            if len(vecs) == len(meta["terms"]):
                out[enc_id] = dict(zip(meta["terms"], vecs))
    return out


@dataclass(frozen=True)
class Bridge:
    terms: tuple[str, ...]
    vectors: dict            # encoder id → (n_terms, dim) normalised vectors
    min_similarity: dict     # encoder id → cosine from which a term counts as near
    per_word: int = 2        # terms taken per unknown word
    _cache: OrderedDict = field(default_factory=OrderedDict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def near_terms(self, words: list[str], encoders: dict) -> list[str]:
        """The documents' terms nearest to each of `words`: above every encoder's floor on at least one
        encoder, ranked by their summed margins over the floors. A word's terms are kept (bounded LRU, shared
        by the serving threads): the same everyday words come back from many visitors, and each costs an
        encode per encoder otherwise."""
        if not words or not self.terms:
            return []
        with self._lock:
            known = {w: self._cache[w] for w in words if w in self._cache}
            for w in known:
                self._cache.move_to_end(w)
        todo = [w for w in dict.fromkeys(words) if w not in known]
        if todo:
            fresh = self._nearest(todo, encoders)
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > CACHE_WORDS:
                    self._cache.popitem(last=False)
            known.update(fresh)
        return [t for w in words for t in known[w]]

    def _nearest(self, words: list[str], encoders: dict) -> dict[str, tuple[str, ...]]:
        margins = np.zeros((len(words), len(self.terms)), dtype=np.float32)
        near = np.zeros((len(words), len(self.terms)), dtype=bool)
        for enc_id, floor in self.min_similarity.items():
            sims = encoders[enc_id].encode_queries(words) @ self.vectors[enc_id].T
            margins += (sims - floor) / max(1.0 - floor, 1e-6)
            near |= sims >= floor
        return {w: tuple(self.terms[j] for j in [j for j in np.argsort(-margins[i]) if near[i, j]][:self.per_word])
                for i, w in enumerate(words)}
