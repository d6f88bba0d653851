"""Gazette page → clean `Document`s: page chrome and spam out, issuer restored and flagged.

The page holds paragraphs separated by runs of spaces or newlines. Documents are separated by the
gazette's stamp line (``2020-05-22 00:00:00 第2期``). Each document is an official notice:
title lines, the document number, the addressees, the notice body, (signature), the date, then the
attachment: its title lines and its body. The text of a cleaned document keeps each source
paragraph verbatim, one per line.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..errors import CorpusContaminated, CorpusError
from .notice import locate, number_of, read_facts

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS_DIR = PACKAGE_DIR.parent / "corpus"
LEXICON_PATH = PACKAGE_DIR / "data" / "spam_lexicon.txt"

# Page chrome of the gazette site: whole paragraphs that are navigation, never document text.
NAV_LINES = {"站群导航", "AQI", "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染", "返回顶部", "•"}
STAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})? 第\d+期$")
PARA_SPLIT_RE = re.compile(r"[ \t\u3000]*\n[\s]*| {2,}")
SENTENCE_PUNCT = set(",，。;；:：!！?？")


@dataclass(frozen=True)
class SpamLexicon:
    words: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]

    def find(self, text: str) -> tuple[str, int] | None:
        """The first spam word or pattern in `text` and its position, or None."""
        hits = [(text.find(w), w) for w in self.words if w in text]
        hits += [(m.start(), m.group(0)) for p in self.patterns if (m := p.search(text))]
        if not hits:
            return None
        pos, word = min(hits)
        return word, pos


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> SpamLexicon:
    words, patterns = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("re:"):
            patterns.append(re.compile(line[3:]))
        else:
            words.append(line)
    return SpamLexicon(tuple(words), tuple(patterns))


@dataclass(frozen=True)
class Document:
    """One official document: its notice and its attachment, cleaned."""

    key: str                    # short key used in ids and filters: the serial number, e.g. "40"
    doc_number: str             # 吉政发〔2016〕40号
    notice_title: str           # 吉林省人民政府关于印发吉林省清洁土壤行动计划的通知
    title: str                  # the attachment's title: 吉林省清洁土壤行动计划
    issuer: str
    issuer_inferred: bool       # True when the page's issuer was tampered with and the name was inferred
    issue_date: str             # ISO date
    addressees: tuple[str, ...]
    text: str                   # cleaned text: notice lines, the attachment title, the body; one paragraph a line
    notice_span: tuple[int, int]
    body_span: tuple[int, int]
    source: str                 # file name of the page it came from
    notes: tuple[str, ...] = field(default=())
    attachments: tuple[str, ...] = ()   # titles listed after 附件：
    publishes: bool = True      # a notice publishing an attached text (the body); False: the document is its own text
    number_prefix: str = ""     # 吉政发 of 吉政发〔2016〕40号
    number_year: str = ""

    @property
    def cited_as(self) -> str:
        """How citations name the document: 《title》（number）, or 《title》（date） without a number."""
        if self.doc_number:
            return f"《{self.title}》（{self.doc_number}）"
        if self.issue_date:
            y, m, d = (int(x) for x in self.issue_date.split("-"))
            return f"《{self.title}》（{y}年{m}月{d}日）"
        return f"《{self.title}》"

    @property
    def notice(self) -> str:
        return self.text[slice(*self.notice_span)]

    @property
    def body(self) -> str:
        return self.text[slice(*self.body_span)]


def split_paragraphs(page: str) -> list[str]:
    return [p.strip(" \t\u3000") for p in PARA_SPLIT_RE.split(page)]


def strip_spam(par: str, lexicon: SpamLexicon) -> tuple[str, bool]:
    """Remove page-level spam from one paragraph: (what is left, whether spam was removed).

    Two forms are known: a brand injected at the start of a line (where the issuer's name stood, or
    alone as the signature) and a line of gambling links. Spam anywhere else is left in place, so that
    `check_clean` refuses the corpus instead of this function silently rewriting a sentence.
    """
    hit = lexicon.find(par)
    if hit is None:
        return par, False
    word, pos = hit
    if pos == 0:
        rest = par[len(word):].strip()
        if not rest or lexicon.find(rest) is None:
            return rest, True
    tokens = par.split()
    if len(tokens) > 1 and all(lexicon.find(t) for t in tokens) and not (SENTENCE_PUNCT & set(par)):
        return "", True
    return par, False


def clean_paragraphs(page: str, lexicon: SpamLexicon) -> list[list[tuple[str, bool]]]:
    """Page → chunks (one per gazette article) of (paragraph, tampered) pairs, chrome and spam lines out."""
    chunks: list[list[tuple[str, bool]]] = [[]]
    for par in split_paragraphs(page):
        par = par.lstrip("•").strip()
        if not par or par in NAV_LINES:
            continue
        if STAMP_RE.match(par):
            chunks.append([])
            continue
        par, tampered = strip_spam(par, lexicon)
        chunks[-1].append((par, tampered))  # an emptied slot is kept: it marks a tampered issuer line
    return [c for c in chunks if any(p for p, _ in c)]


def parse_chunk(chunk: list[tuple[str, bool]], *, source: str) -> Document | None:
    """One article of the gazette page → Document, or None when it holds no document number."""
    pars = [p for p, _ in chunk if p]
    if not any(number_of(p) for p in pars[:12]):
        return None
    return make_document(pars, source=source, tampered=any(t for _, t in chunk))


def make_document(pars: list[str], *, source: str, tampered: bool = False, meta: dict | None = None,
                  key: str | None = None) -> Document:
    """A document's paragraphs (page chrome already out) → Document; its key is the serial of its number
    unless `key` is given. Raises CorpusError when the paragraphs hold no document body."""
    layout, found = locate(pars)
    facts = read_facts(pars, layout, found, tampered=tampered, meta=meta)
    if layout.body[0] >= layout.body[1]:
        raise CorpusError(f"{source}: no body text after the title and header of {facts.notice_title or 'the document'}"
                          " — nothing to cite")
    title_at = set(found["title_at"])
    head = [p for j, p in enumerate(pars[slice(*layout.notice)]) if j not in title_at]
    notice_lines = ([facts.notice_title] if facts.title_lines else []) + head
    notice_text = "\n".join(notice_lines)
    parts = [notice_text] if notice_text else []
    if layout.attachment_title:
        parts.append(facts.title)
    body_start = len("\n".join(parts)) + (1 if parts else 0)
    # attachments printed after the signature are provisions too: they follow the body, the signature last
    body_pars = pars[slice(*layout.body)] + (pars[slice(*layout.appendix)] if layout.appendix else [])
    body_text = "\n".join(body_pars)
    parts.append(body_text)
    tail = pars[layout.body[1]:layout.appendix[0] if layout.appendix else len(pars)]
    text = "\n".join(parts + tail)
    issuer = facts.issuer
    notice_title = facts.notice_title if not issuer or facts.notice_title.startswith(issuer) or \
        not layout.attachment_title else issuer + facts.notice_title
    return Document(
        key=key or facts.serial, doc_number=facts.doc_number, notice_title=notice_title, title=facts.title,
        issuer=issuer, issuer_inferred=facts.issuer_from == "number prefix", issue_date=facts.issue_date,
        addressees=facts.addressees, text=text, notice_span=(0, len(notice_text)),
        body_span=(body_start, body_start + len(body_text)), source=source, notes=facts.notes,
        attachments=facts.attachments, publishes=layout.attachment_title is not None,
        number_prefix=facts.prefix, number_year=facts.year)


def qualified_key(doc: Document) -> str:
    """A key for a document whose serial is taken: series and year before it (吉政发2016n40), no hyphen
    (clause ids are <key>-<path>); a document without a number gets a short digest of its text."""
    if doc.doc_number:
        return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]", "", f"{doc.number_prefix}{doc.number_year}n{doc.key}")
    return "d" + hashlib.sha256(doc.text.encode()).hexdigest()[:6]


def check_clean(doc: Document, lexicon: SpamLexicon) -> None:
    """Raise CorpusContaminated if any spam survives in any field of `doc`."""
    for name in ("doc_number", "notice_title", "title", "issuer", "text"):
        value = getattr(doc, name)
        hit = lexicon.find(value)
        if hit:
            word, pos = hit
            raise CorpusContaminated(word, f"{doc.source} {doc.doc_number} field {name}",
                                     value[max(0, pos - 20):pos + 20])
    for a in doc.addressees:
        if hit := lexicon.find(a):
            raise CorpusContaminated(hit[0], f"{doc.source} {doc.doc_number} addressees", a)


def parse_page(page: str, *, source: str, lexicon: SpamLexicon | None = None) -> list[Document]:
    lexicon = lexicon or load_lexicon()
    docs = [d for c in clean_paragraphs(page, lexicon) if (d := parse_chunk(c, source=source))]
    for d in docs:
        check_clean(d, lexicon)
    return docs


def corpus_files(corpus_dir: Path = DEFAULT_CORPUS_DIR) -> list[Path]:
    files = sorted(Path(corpus_dir).glob("*.txt"))
    if not files:
        raise CorpusError(f"no *.txt page in {corpus_dir}; put the gazette page(s) there")
    return files


def corpus_sha256(corpus_dir: Path = DEFAULT_CORPUS_DIR) -> str:
    h = hashlib.sha256()
    for f in corpus_files(corpus_dir):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(LEXICON_PATH.read_bytes())
    return h.hexdigest()


def load_documents(corpus_dir: Path = DEFAULT_CORPUS_DIR) -> list[Document]:
    """Every document of every page in `corpus_dir`, cleaned and checked, keys made unique."""
    docs = []
    for f in corpus_files(corpus_dir):
        docs += parse_page(f.read_text(encoding="utf-8"), source=f.name)
    if not docs:
        raise CorpusError(f"no document (no line like 吉政发〔2016〕40号) found in {corpus_dir}")
    seen: dict[str, int] = {}
    for d in docs:
        seen[d.key] = seen.get(d.key, 0) + 1
    out = []
    for d in docs:
        if seen[d.key] > 1:  # the same serial from two series or years: qualify the key
            d = replace(d, key=qualified_key(d))
        out.append(d)
    if len({d.key for d in out}) != len(out):
        dup = sorted({d.doc_number for d in out if sum(x.doc_number == d.doc_number for x in out) > 1})
        raise CorpusError(f"document(s) {', '.join(dup)} appear twice in {corpus_dir}; keep one copy")
    return out


