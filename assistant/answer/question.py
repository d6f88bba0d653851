"""A question, parsed once: its language, its topic, what it asks for, and the specific things it names
(a document, a clause, a place, a year, the kind of figure wanted, quoted terms).

Every later step reads this one value instead of matching the raw text again. The words that say what is
asked live in data/question_words.json; the places in data/places.tsv.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..ingest.glossary import CJK_RE, is_english
from ..search.query import alternatives, intent_zh, question_words, topic_of

DATA = Path(__file__).resolve().parent.parent / "data"
YEAR_RE = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
# quoted names: “河长制”, 《…》, 'China-Northeast Asia Expo' (an apostrophe inside a word is no quote)
QUOTED_RE = re.compile(r"[“「『《]([^”」』》]{2,40})[”」』》]|(?<![A-Za-z])['‘\"]([^'’\"]{2,40})['’\"](?![A-Za-z])")
# a proper name in an English question: two or more capitalised words (China-Northeast Asia Expo, Changbai
# Mountain), not the question's first word
NAME_EN_RE = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’]*(?:[- ][A-Z][\w'’]*)+")
DOC_REF_RE = re.compile(r"(?:〔\d{4}〕)?(?P<a>\d{1,4})\s*号|\b(?:no\.?|number|document|doc\.?)\s*(?P<b>\d{1,4})\b",
                        re.I)
DOCFACTS = ("title", "number", "date", "issuer", "addressees", "implements")


def clean_question(text: str | None) -> str:
    """What a question says, safe for every tokenizer: NFKC, lone surrogates replaced, control, format
    (zero-width, bidi) and private-use characters dropped, runs of white space (U+3000 too) folded."""
    text = (text or "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates → ?
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Place:
    name: str        # as the gazetteer writes it in Chinese: 辽宁, 沈阳, 内蒙古
    region: str      # the province it belongs to, or 国外
    written: str     # as the question wrote it (辽宁省, Inner Mongolia)


@dataclass(frozen=True)
class Lexicon:
    asks: dict            # kind → {"zh": compiled, "en": compiled}
    intent_zh: re.Pattern
    points_back: dict     # zh / en → compiled
    quantity: dict        # class → {"zh", "en", "stated_by"} compiled
    places: tuple         # (pattern text, Place-ish tuple (zh, region)), longest first
    office: dict          # zh / en → compiled: a question asking who holds an office; group "title"
    procedure: dict       # zh / en → compiled: a question asking how or when to apply; "stated_by" → compiled
    many: dict            # zh / en → compiled: a question asking for every item of its kind (哪些, what are the)
    relative_days: dict   # zh / en → compiled: a day or week relative to now (明天, next week)
    figure_words_zh: re.Pattern  # the plain words asking for a figure (目标值, 多少): no indicator's name


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = question_words()
    asks = {k: {"zh": alternatives(v["zh"], english=False), "en": alternatives(v["en"], english=True)} for k, v in raw["asks"].items()}
    quantity = {k: {"zh": alternatives(v["zh"], english=False), "en": alternatives(v["en"], english=True),
                    "stated_by": re.compile(v["stated_by"])} for k, v in raw["quantity"].items()}
    places = []
    for line in (DATA / "places.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        zh, en, region = line.split("\t")
        places.append((zh, zh, region))
        places += [(v.strip(), zh, region) for v in en.split("|") if v.strip()]
    places.sort(key=lambda p: -len(p[0]))
    titles = raw["office"]["titles"]
    office = {lang: re.compile(raw["office"]["asks"][lang].replace("TITLE", "(?P<title>" + "|".join(titles[lang]) + ")"),
                               re.I) for lang in ("zh", "en")}
    return Lexicon(asks, intent_zh(),
                   {lang: re.compile("|".join(raw["points_back"][lang]), re.I) for lang in ("zh", "en")},
                   quantity, tuple(places), office,
                   {"zh": alternatives(raw["procedure"]["zh"], english=False), "en": alternatives(raw["procedure"]["en"], english=True),
                    "stated_by": re.compile(raw["procedure"]["stated_by"])},
                   {lang: alternatives(raw["many"][lang], english=lang == "en") for lang in ("zh", "en")},
                   {lang: alternatives(raw["relative_time"]["days"][lang], english=lang == "en") for lang in ("zh", "en")},
                   alternatives(sorted((w for w in raw["asks"]["figure"]["zh"] if len(w) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w)),
                               key=len, reverse=True), english=False))


@dataclass(frozen=True)
class Question:
    raw: str                     # as typed
    text: str                    # cleaned (clean_question)
    lang: str                    # zh | en
    topic: str                   # what it is about: the text without the words asking for the kind of answer
    asks: frozenset = frozenset()        # lead, participants, liable, right, figure, when, full_text, tasks_of,
                                         # title, number, date, issuer, addressees, implements
    doc: str | None = None       # the document it names by number (41号, No. 41), if any
    years: tuple[int, ...] = ()
    places: tuple[Place, ...] = ()
    quantity: str | None = None  # the kind of figure it asks for: money, percent, area, count, any
    quoted: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # proper names of an English question (China-Northeast Asia Expo)
    office: str | None = None    # the office whose holder it asks for (省长, minister)
    procedure: bool = False      # asks how or when to apply, register, get something issued
    many: bool = False           # asks for every item of its kind (哪些时间要求, what are the deadlines), or asks
                                 # several questions at once (有机质要提到多少？耕层要多厚？)
    relative_day: str | None = None  # a day or week it names relative to now (明天, this week)
    points_back: bool = False    # written as a follow-up (那…呢, 这条, "and …", "it")
    inherited: tuple[str, ...] = field(default=(), compare=False)  # asks carried over from the previous question

    @property
    def english(self) -> bool:
        return self.lang == "en"

    def asking(self, *kinds: str) -> bool:
        return any(k in self.asks for k in kinds)

    @property
    def docfacts(self) -> list[str]:
        return [k for k in DOCFACTS if k in self.asks]

    @property
    def subject(self) -> str:
        """What the question names besides what it asks for and how it points back: "矿山治理" of
        "矿山治理呢？", nothing of "and who takes part?"."""
        lex = lexicon()
        rest = lex.points_back[self.lang].sub(" ", self.text)
        for rx in lex.asks.values():
            rest = rx[self.lang].sub(" ", rest)
        if not self.english:
            rest = lex.intent_zh.sub(" ", rest)
        return re.sub(r"[\s\W]+", " ", rest).strip()

    def with_asks(self, asks) -> "Question":
        """The same question asking, besides, what `asks` names (a follow-up in the frame of the last one)."""
        extra = tuple(a for a in asks if a not in self.asks and a not in DOCFACTS)
        return replace(self, asks=self.asks | set(extra), inherited=extra)


def _asks(text: str, lang: str) -> frozenset:
    lex = lexicon()
    out = {k for k, rx in lex.asks.items() if rx[lang].search(text)}
    if "date" in out and "when" in out:
        out.discard("when")   # "when was it issued" asks for the date of issue, not a deadline
    return frozenset(out)


def _places(text: str) -> tuple[Place, ...]:
    found, rest = [], text
    for pattern, zh, region in lexicon().places:
        english = not CJK_RE.search(pattern)
        rx = re.compile(rf"\b{re.escape(pattern)}\b", re.I) if english else re.compile(re.escape(pattern))
        m = rx.search(rest)
        if m:
            found.append(Place(zh, region, m.group(0)))
            rest = rest[:m.start()] + " " * len(m.group(0)) + rest[m.end():]
    return tuple(found)


def _quantity(text: str, lang: str) -> str | None:
    for kind, rx in lexicon().quantity.items():  # most specific first, "any" last
        if rx[lang].search(text):
            return kind
    return None


def _names(text: str, lang: str, places: tuple[Place, ...]) -> tuple[str, ...]:
    """The proper names of an English question, without those that are only a place (the place check's):
    "Inner Mongolia's" is left to it, "Jilin University" is a name."""
    if lang != "en":
        return ()
    out = []
    for m in NAME_EN_RE.finditer(text):
        rest = m.group(0)
        for p in places:
            rest = re.sub(re.escape(p.written), " ", rest, flags=re.I)
        if re.search(r"[A-Z]", rest):
            out.append(m.group(0))
    return tuple(out)


def _office(text: str, lang: str) -> str | None:
    m = lexicon().office[lang].search(text)
    return m.group("title") if m else None


def states_quantity(q: Question, text: str) -> bool:
    """Does `text` state a figure of the kind the question asks for (a sum, an area, a count)?"""
    return bool(q.quantity) and bool(lexicon().quantity[q.quantity]["stated_by"].search(unicodedata.normalize("NFKC", text)))


# the kinds of answer that name a party: an English question asking "who …" and none of them asks who does it
PARTY_KINDS = frozenset({"lead", "participants", "liable", "right", "addressees", "issuer"})
WHO_EN = re.compile(r"(?:^|[,;:]\s*)who\b", re.I)


def _asks_several_figures(text: str, lang: str) -> bool:
    """Do two or more of a question's sentences ask for a figure (有机质要提到多少？耕层要多厚？)? A question of one
    sentence is not read twice."""
    parts = [part for part in re.split(r"[?？]", text) if part.strip()]
    return len(parts) >= 2 and sum(1 for part in parts if "figure" in _asks(part, lang) or _quantity(part, lang)) >= 2


def parse(raw: str | None) -> Question:
    text = clean_question(raw)
    lang = "en" if is_english(text) else "zh"
    doc = next(((m["a"] or m["b"]) for m in DOC_REF_RE.finditer(text)), None)
    quantity, asks = _quantity(text, lang), _asks(text, lang)
    if lang == "en" and not asks & PARTY_KINDS and WHO_EN.search(text) and not _office(text, lang):
        asks = asks | {"lead"}   # "Who is supposed to deal with …": in a provision, the agencies responsible
    if quantity:  # a question for a kind of figure (多大面积, how many hectares) asks for a figure
        asks = asks | {"figure"}
    places = _places(text)
    return Question(
        raw=raw or "", text=text, lang=lang, topic=topic_of(text), asks=asks, doc=doc,
        years=tuple(int(y) for y in YEAR_RE.findall(text)), places=places, quantity=quantity,
        quoted=tuple(m.group(1) or m.group(2) for m in QUOTED_RE.finditer(text)),
        names=_names(text, lang, places), office=_office(text, lang),
        procedure=bool(lexicon().procedure[lang].search(text)),
        many=bool(lexicon().many[lang].search(text)) or _asks_several_figures(text, lang),
        relative_day=(m.group(0) if (m := lexicon().relative_days[lang].search(text)) else None),
        points_back=bool(lexicon().points_back[lang].search(text)))
