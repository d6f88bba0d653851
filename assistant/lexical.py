"""Lexical matching: jieba tokens into BM25 (bm25s), so document numbers, agencies and numbers match exactly."""
from __future__ import annotations

import logging
import re
import unicodedata
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


@lru_cache(maxsize=1)
def _jieba():
    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    from .glossary import load_glossary
    for w in load_glossary().zh_to_en:  # the documents' own terms and agencies stay whole
        if len(w) >= 2:
            jieba.add_word(w, freq=2_000_000)
    return jieba


def add_words(words) -> None:
    """Teach jieba whole names (省国土资源厅) so they stay one token."""
    jb = _jieba()
    for w in words:
        jb.add_word(w, freq=2_000_000)


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for tok in _jieba().cut_for_search(text):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and TOKEN_RE.fullmatch(tok):
            out.append(tok)
    return out


def content_words(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) for the words of `text` that are not stopwords (jieba's tagger)."""
    import jieba.posseg
    _jieba()
    text = unicodedata.normalize("NFKC", text).lower()
    return [(p.word, p.flag) for p in jieba.posseg.cut(text)
            if p.word.strip() and p.word not in STOPWORDS and TOKEN_RE.fullmatch(p.word)]


class BM25Index:
    def __init__(self, model):
        self.model = model

    @classmethod
    def build(cls, texts: list[str]) -> "BM25Index":
        import bm25s
        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index([tokenize(t) or ["∅"] for t in texts], show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        import bm25s
        return cls(bm25s.BM25.load(str(folder)))

    @property
    def vocab(self) -> dict:
        return self.model.vocab_dict

    def scores(self, query: str | list[str]) -> np.ndarray:
        toks = tokenize(query) if isinstance(query, str) else query
        vocab = self.model.vocab_dict
        toks = [t for t in toks if t in vocab]
        n = self.model.scores["num_docs"]
        if not toks:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.model.get_scores(toks), dtype=np.float32)
