"""Lexical matching: jieba tokens into BM25 (bm25s), so document numbers, agencies and numbers match exactly.

Every `Tokenizer` cuts with a jieba dictionary of its own: jieba's words, the glossary's terms and the
words it was given (an index's agency names, see `tokenizer_for`). jieba's process-wide dictionary is
never changed, so how a text is cut does not depend on which index the process loaded last.
The module-level `tokenize`, `content_words` and `add_words` use one default tokenizer (jieba's words
and the glossary's terms).
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

# Question words and particles: they say what is asked, not what it is about.
STOPWORDS = set("""的 了 和 与 及 是 在 由 对 把 被 要 将 等 吗 呢 啊 吧 么 哪 哪个 哪些 哪一 哪一级 什么 多少 几 几个 几支 怎么
怎么办 怎样 如何 为什么 谁 是否 有没有 有 没有 这 那 这个 那个 这条 一下 请问 请 告诉 我 我们 你 文件 中 上 下 里
the a an of to in on for and or is are be by what which who whom when how does do did will should must with as at from
that this these those it its any has have had was were been being can could would shall may might there
their they them his her our your my me about into over under than then so if not no yes all each every some
many much more most very also just only own same such too say said says tell me please
document documents provision provisions clause clauses article articles text call calls mention mentions
文件 规定 条款 提到 原文""".split())
TOKEN_RE = re.compile(r"[\w\u4e00-\u9fff%.〔〕-]+")
# A user word's frequency: high enough that jieba keeps the whole name (省国土资源厅) as one word.
WORD_FREQ = 2_000_000

# Tokenizers are built under one lock: two first callers would otherwise both load jieba (1.3 s, 60 MB).
_lock = threading.RLock()
_base_jieba = None
_default: "Tokenizer | None" = None


def _base():
    """jieba's dictionary with the glossary's terms, and jieba's part-of-speech table: loaded once per
    process (jieba's own load takes ~1.3 s and 60 MB; each Tokenizer copies the word table in ~20 ms)."""
    global _base_jieba
    with _lock:
        if _base_jieba is None:
            import jieba
            import jieba.posseg
            jieba.setLogLevel(logging.WARNING)  # once: its "Building prefix dict" lines are not ours to print
            tk = jieba.Tokenizer()
            tk.initialize()
            from ..ingest.glossary import load_glossary
            for w in load_glossary().zh_to_en:  # the documents' own terms and agencies stay whole
                if len(w) >= 2:
                    tk.add_word(w, freq=WORD_FREQ)
            # the tag table is only read: every Tokenizer shares it
            _base_jieba = tk, jieba.posseg.dt.word_tag_tab
        return _base_jieba


class Tokenizer:
    """jieba's cut_for_search and part-of-speech tagger over a dictionary that belongs to this object.

    Safe to use from many threads once built (cutting only reads the dictionary)."""

    def __init__(self, words: Iterable[str] = ()):
        import jieba
        import jieba.posseg
        base, tags = _base()
        self._jieba = jieba.Tokenizer()
        self._jieba.FREQ, self._jieba.total = dict(base.FREQ), base.total
        self._jieba.initialized = True
        # a POSTokenizer built the usual way reads jieba's tag file again (50 MB); this one shares the table
        self._pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
        self._pos.tokenizer, self._pos.word_tag_tab = self._jieba, tags
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> None:
        """Teach this tokenizer whole names (省国土资源厅) so they stay one token."""
        for w in words:
            self._jieba.add_word(w, freq=WORD_FREQ)

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        out = []
        for tok in self._jieba.cut_for_search(text):
            tok = tok.strip()
            if tok and tok not in STOPWORDS and TOKEN_RE.fullmatch(tok):
                out.append(tok)
        return out

    def content_words(self, text: str) -> list[tuple[str, str]]:
        """(word, part of speech) for the words of `text` that are not stopwords (jieba's tagger)."""
        text = unicodedata.normalize("NFKC", text).lower()
        return [(p.word, p.flag) for p in self._pos.cut(text)
                if p.word.strip() and p.word not in STOPWORDS and TOKEN_RE.fullmatch(p.word)]


@lru_cache(maxsize=4)
def _tokenizer_for(words: frozenset[str]) -> Tokenizer:
    return Tokenizer(sorted(words))


def tokenizer_for(words: Iterable[str]) -> Tokenizer:
    """The tokenizer with these user words (an index's agency names), built once per process."""
    with _lock:
        return _tokenizer_for(frozenset(words))


def default_tokenizer() -> Tokenizer:
    """The tokenizer of the module-level functions: jieba's words and the glossary's terms."""
    global _default
    if _default is not None:  # built: no lock on every call
        return _default
    with _lock:
        if _default is None:
            _default = Tokenizer()
        return _default


def add_words(words) -> None:
    """Teach the default tokenizer whole names (省国土资源厅) so they stay one token.

    An index's names go to the index's own tokenizer (`LoadedIndex.tokenizer`), not here."""
    default_tokenizer().add_words(words)


def tokenize(text: str) -> list[str]:
    """`text` cut by the default tokenizer, without stopwords and punctuation."""
    return default_tokenizer().tokenize(text)


def content_words(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) for the words of `text` that are not stopwords (the default tokenizer)."""
    return default_tokenizer().content_words(text)


def passage_tokens(texts: list[str], tokenizer: Tokenizer) -> list[list[str]]:
    """What BM25 indexes of each passage: its tokens, or one placeholder for a passage that has none."""
    return [tokenizer.tokenize(t) or ["∅"] for t in texts]


class BM25Index:
    """bm25s over passages cut by one tokenizer: the same one cuts the passages at build and the queries."""

    def __init__(self, model, tokenizer: Tokenizer | None = None):
        self.model = model
        self.tokenizer = tokenizer or default_tokenizer()

    @classmethod
    def build(cls, texts: list[str], *, tokenizer: Tokenizer | None = None) -> "BM25Index":
        tokenizer = tokenizer or default_tokenizer()
        return cls.from_tokens(passage_tokens(texts, tokenizer), tokenizer=tokenizer)

    @classmethod
    def from_tokens(cls, tokens: list[list[str]], *, tokenizer: Tokenizer | None = None) -> "BM25Index":
        """The index of passages already cut (`passage_tokens`): what a store that keeps tokens loads."""
        import bm25s
        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index(tokens, show_progress=False)
        return cls(model, tokenizer)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder))

    @classmethod
    def load(cls, folder: Path, *, tokenizer: Tokenizer | None = None) -> "BM25Index":
        import bm25s
        return cls(bm25s.BM25.load(str(folder)), tokenizer)

    @property
    def vocab(self) -> dict:
        return self.model.vocab_dict

    def scores(self, query: str | list[str]) -> np.ndarray:
        toks = self.tokenizer.tokenize(query) if isinstance(query, str) else query
        vocab = self.model.vocab_dict
        toks = [t for t in toks if t in vocab]
        n = self.model.scores["num_docs"]
        if not toks:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.model.get_scores(toks), dtype=np.float32)
