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

from .errors import CorpusContaminated, CorpusError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CORPUS_DIR = PACKAGE_DIR.parent / "corpus"
LEXICON_PATH = PACKAGE_DIR / "data" / "spam_lexicon.txt"

# Page chrome of the gazette site: whole paragraphs that are navigation, never document text.
NAV_LINES = {"站群导航", "AQI", "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染", "返回顶部", "•"}
STAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})? 第\d+期$")
PARA_SPLIT_RE = re.compile(r"[ \t\u3000]*\n[\s]*| {2,}")
DOC_NUMBER_RE = re.compile(r"^(?P<prefix>[\u4e00-\u9fff]{1,8})〔(?P<year>\d{4})〕(?P<serial>\d{1,4})号$")
DATE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
SENTENCE_PUNCT = set(",，。;；:：!！?？")
# Issuers by document-number prefix, for when the issuer's name on the page cannot be trusted.
ISSUER_BY_PREFIX = {
    "吉政发": "吉林省人民政府",
    "吉政函": "吉林省人民政府",
    "吉政办发": "吉林省人民政府办公厅",
    "吉政办函": "吉林省人民政府办公厅",
}
ISSUER_SUFFIXES = ("人民政府", "人民政府办公厅", "办公厅", "厅", "委员会", "局", "办公室")


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

    @property
    def notice(self) -> str:
        return self.text[slice(*self.notice_span)]

    @property
    def body(self) -> str:
        return self.text[slice(*self.body_span)]


def split_paragraphs(page: str) -> list[str]:
    return [p.strip(" \t\u3000") for p in PARA_SPLIT_RE.split(page)]


def _strip_spam(par: str, lexicon: SpamLexicon) -> tuple[str, bool]:
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
        par, tampered = _strip_spam(par, lexicon)
        chunks[-1].append((par, tampered))  # an emptied slot is kept: it marks a tampered issuer line
    return [c for c in chunks if any(p for p, _ in c)]


def _join_title(lines: list[str]) -> str:
    return "".join(lines)


def _issuer_from_title(title: str) -> str:
    head = title.split("关于")[0] if "关于" in title else ""
    return head if head.endswith(ISSUER_SUFFIXES) else ""


def parse_chunk(chunk: list[tuple[str, bool]], *, source: str) -> Document | None:
    """One article of the page → Document, or None when it holds no document number."""
    pars = [p for p, _ in chunk]
    number_at = next((i for i, p in enumerate(pars) if DOC_NUMBER_RE.match(p)), None)
    if number_at is None:
        return None
    tampered = any(t for _, t in chunk)
    m = DOC_NUMBER_RE.match(pars[number_at])
    title_lines = [p for p in pars[:number_at] if p]
    date_at = next((i for i in range(number_at + 1, len(pars)) if DATE_RE.match(pars[i])), None)
    if not title_lines or date_at is None:
        raise CorpusError(
            f"{source}: document {pars[number_at]} has no title lines before its number or no date line "
            "(YYYY年M月D日) after its notice; the page is not in the gazette format this parser reads")
    notice_pars = [p for p in pars[number_at + 1:date_at] if p]
    addressees_line = notice_pars[0] if notice_pars and notice_pars[0].endswith((":", "：")) else ""
    rest = [p for p in pars[date_at + 1:] if p]
    # Attachment title: the short lines without sentence punctuation that open the attachment.
    n_title = 0
    while n_title < len(rest) and len(rest[n_title]) <= 40 and not (SENTENCE_PUNCT & set(rest[n_title])):
        n_title += 1
    if n_title == 0 or n_title == len(rest):
        raise CorpusError(f"{source}: document {pars[number_at]} has no attachment title or no body after its date")
    notice_title_text = _join_title(title_lines)
    attachment_title = _join_title(rest[:n_title])
    body_pars = rest[n_title:]

    issuer = _issuer_from_title(notice_title_text)
    notes = []
    inferred = False
    if tampered or not issuer:
        issuer = ISSUER_BY_PREFIX.get(m["prefix"], "")
        inferred = True
        notes.append(f"issuer inferred from the document number prefix {m['prefix']}: "
                     "the page's issuer name was replaced by spam" if tampered else
                     f"issuer inferred from the document number prefix {m['prefix']}")
    notice_title = notice_title_text if notice_title_text.startswith(issuer) else issuer + notice_title_text

    notice_lines = [notice_title_text, pars[number_at], *notice_pars, pars[date_at]]
    notice_text = "\n".join(notice_lines)
    body_text = "\n".join(body_pars)
    text = notice_text + "\n" + attachment_title + "\n" + body_text
    body_start = len(notice_text) + 1 + len(attachment_title) + 1
    y, mo, d = (int(g) for g in DATE_RE.match(pars[date_at]).groups())
    addressees = tuple(a for a in re.split(r"[,，]", addressees_line.rstrip(":：")) if a)
    return Document(
        key=m["serial"], doc_number=pars[number_at], notice_title=notice_title, title=attachment_title,
        issuer=issuer, issuer_inferred=inferred, issue_date=f"{y:04d}-{mo:02d}-{d:02d}",
        addressees=addressees, text=text, notice_span=(0, len(notice_text)),
        body_span=(body_start, len(text)), source=source, notes=tuple(notes))


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
            m = DOC_NUMBER_RE.match(d.doc_number)
            d = replace(d, key=f"{m['prefix']}{m['year']}-{m['serial']}")
        out.append(d)
    if len({d.key for d in out}) != len(out):
        dup = sorted({d.doc_number for d in out if sum(x.doc_number == d.doc_number for x in out) > 1})
        raise CorpusError(f"document(s) {', '.join(dup)} appear twice in {corpus_dir}; keep one copy")
    return out


