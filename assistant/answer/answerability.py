"""Whether the documents answer a question: answered, not stated (with the mismatch named), or off-topic.

A question is *not stated* when it names something specific that the best provisions lack: a place outside
the documents' jurisdiction, a year for which no figure is given, a kind of figure (a sum of money, an
area, a share) that the provision never states, or a quoted name the documents never use. It is
*off-topic* when retrieval itself is not confident that any provision is about it (see `Confidence`).
Everything else is answered. The decision reads the parsed question and the ranked clauses, never the
vocabulary of one question; its thresholds are fitted by eval/fit_answerability.py and stored in
data/answerability.json.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..ingest.catalog import Catalog
from ..search.dictionary import Cedict
from ..errors import DataError
from ..search.lexical import STOPWORDS
from .question import Question, lexicon, states_quantity
from ..search.retrieval import Hit
from .text import bigrams

PARAMS_PATH = Path(__file__).resolve().parent.parent / "data" / "answerability.json"
ANSWERED, NOT_STATED, OFF_TOPIC = "answered", "not_stated", "off_topic"
YEAR_IN_TEXT = re.compile(r"(?<!\d)(20\d\d|19\d\d)(?!\d)")
# an indicator the question names: the run of characters ending in 率 (a rate), 线 (a line: 分数线), 价 (a
# price), 额 (an amount), 值 (a value) or 指数 (an index), cut at particles, years and punctuation
RATE_RE = re.compile(r"[\u4e00-\u9fff]{1,16}?(?:率|线|价|额|值|指数)")
# the words of an English question naming what its target or rate is for: "carbon emission reduction target"
INDICATOR_EN = re.compile(r"((?:[a-z][a-z-]+ ){1,4})(?:targets?|rates?|ratios?|goals?)\b", re.I)
MIN_TITLE_RUN = 4   # characters of a document's title that, in a question, name the document
RATE_CUT = re.compile(r"[的年要是和与及、在为把将对]|\d|\W")
QUANTITY_EN = {"money": "sum of money", "percent": "share or percentage", "area": "area", "count": "number",
               "any": "figure"}
QUANTITY_ZH = {"money": "金额", "percent": "比例或百分比", "area": "面积", "count": "数量", "any": "具体数值"}


@dataclass(frozen=True)
class Decision:
    outcome: str          # answered | not_stated | off_topic
    reason: str = ""      # why not answered, in the question's language; names the mismatch

    @property
    def found(self) -> bool:
        return self.outcome == ANSWERED


@dataclass(frozen=True)
class Confidence:
    """Off-topic when the best clause is weak on every dense signal at once — its fused standardised score
    (how far above the typical clause it stands), USE's cosine and e5's cosine all below their thresholds —
    or, for an English question, when too few of its words occur in the documents' English (`grounding`): their
    renderings, and for a clause without one the dictionary's glosses of its words — a question on ski resorts
    or work permits uses words no provision's English uses.
    One strong signal is enough to answer: refusing an answerable question is the worst error."""
    max_fused: float
    max_use: float
    max_e5: float
    min_grounding_en: float = 0.0

    def off_topic(self, hit: Hit, *, grounding: float | None = None) -> bool:
        s = hit.signals
        if grounding is not None and grounding < self.min_grounding_en:
            return True
        return hit.score < self.max_fused and s.get("use", 1.0) < self.max_use and s.get("e5", 1.0) < self.max_e5


@lru_cache(maxsize=2)
def load_confidence(path: Path = PARAMS_PATH) -> Confidence:
    if not path.exists():
        raise DataError(f"{path} is missing: it holds the fitted off-topic thresholds; restore it from the "
                        "repository or run `python eval/fit_answerability.py --write` to make it")
    p = json.loads(path.read_text(encoding="utf-8"))["off_topic"]
    return Confidence(p["max_fused"], p["max_use"], p["max_e5"], p.get("min_grounding_en", 0.0))


def _stem(word: str) -> str:
    """A crude English stem, enough to match 'resorts' with 'resort' and 'funded' with 'fund'."""
    for suffix in ("ies", "es", "s", "ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[:-len(suffix)]
    return word


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


NATIONAL = "全国"   # the jurisdiction of an issuer of no province
ABROAD = "国外"     # the region of places outside China (data/places.tsv)


def gloss_stems(texts, dictionary: Cedict) -> set[str]:
    """The stems of the English words of the dictionary's senses of the words of Chinese `texts`: what a
    clause without a rendering is about, in English, for the grounding check."""
    from ..search.lexical import tokenize
    words = {w for t in texts for w in tokenize(t)}
    english = " ".join(sense for w in words for sense in dictionary.senses(w))
    return {_stem(w) for w in re.findall(r"[a-z]+", english.lower())}


class Answerability:
    def __init__(self, catalog: Catalog, *, renderings: dict | None = None, confidence: Confidence | None = None,
                 dictionary: Cedict | None = None):
        """`dictionary`: glosses the clauses that have no rendering, for English questions on them (without
        it, and without renderings, English questions are not checked for grounding)."""
        self.catalog = catalog
        self.confidence = confidence or load_confidence()
        corpus = "".join(d.text for d in catalog.documents)
        self._corpus_flat = _flat(corpus)
        renderings = renderings or {}
        self._renderings = renderings
        unrendered = [c for c in catalog.clauses if c.clause_id not in renderings]
        # a quoted English name can only be looked up when every clause has a rendering to look in
        self._english_flat = _flat(" ".join(renderings.values())) if renderings and not unrendered else ""
        english = " ".join(renderings.values())
        self._english_stems = {_stem(w) for w in re.findall(r"[a-z]+", english.lower())}
        if dictionary is not None and unrendered:
            self._english_stems |= gloss_stems((c.text for c in unrendered), dictionary)
        # each document's jurisdiction: the province its issuer belongs to (吉林省人民政府 → 吉林, 上海市崇明区… →
        # 上海); an issuer of no province (国务院, a ministry) governs the whole country
        regions = {region for _, zh, region in lexicon().places if region == zh and region != ABROAD}
        self.home = {d.key: next((r for r in regions if d.issuer.startswith(r)), NATIONAL) for d in catalog.documents}

    def grounding(self, q: Question) -> float | None:
        """Share of an English question's content words that the documents' English (renderings, glosses)
        uses (None for Chinese questions, or when there is no English to compare with)."""
        if not q.english or not self._english_stems:
            return None
        words = [w for w in re.findall(r"[a-z]+", q.text.lower()) if len(w) >= 3 and w not in STOPWORDS]
        if not words:
            return None
        return sum(_stem(w) in self._english_stems for w in words) / len(words)

    def context(self, hit: Hit) -> str:
        """What a clause says, for these checks: its text and the headings and text of the items above it
        (a year or a place stated in the parent item governs its sub-items)."""
        parts, c = [hit.clause.text], hit.clause
        while c.parent_id:
            c = self.catalog.by_id[c.parent_id]
            parts.append(c.text)
        return "\n".join(parts)

    def decide(self, q: Question, hits: list[Hit], *, cited: bool = False, confidence_of: Hit | None = None) -> Decision:
        """The outcome for `q` answered from `hits[0]`; whether the question is off-topic is read from
        `confidence_of` (the top-ranked clause, when the answer comes from another) or else `hits[0]`."""
        if not hits:
            return Decision(OFF_TOPIC, "no provision matches" if q.english else "没有相关条款")
        top = hits[0]
        text = self.context(top)
        for check in (self._place, self._quoted, self._named, self._office, self._procedure, self._day, self._year,
                      self._rate, self._indicator_en, self._quantity):
            reason = check(q, top, text)
            if reason:
                return Decision(NOT_STATED, reason)
        if not cited and self.confidence.off_topic(confidence_of or top, grounding=self.grounding(q)):
            return Decision(OFF_TOPIC, "no provision of these documents is about this question" if q.english
                            else "这些文件中没有与该问题相关的条款")
        return Decision(ANSWERED)

    def names_the_places(self, q: Question, hit: Hit) -> bool:
        """Does the clause name every place of the question outside its document's jurisdiction?"""
        return not self._place(q, hit, self.context(hit))

    # ---- the mismatches -------------------------------------------------------------------------
    def _place(self, q: Question, top: Hit, text: str) -> str:
        """A place outside the documents' jurisdiction that the provision does not name."""
        home = self.home.get(top.clause.doc_key, NATIONAL)
        doc = self.catalog.document(top.clause.doc_key)
        # a name shortened with its completion in brackets is still the name: 白(城)齐(齐哈尔)兴(安盟) names 齐齐哈尔
        joined = re.sub(r"[()（）]", "", text)
        for p in q.places:
            if p.name in text or p.name in joined or p.region == home or (home == NATIONAL and p.region != ABROAD):
                continue
            if q.english:
                return (f"the nearest provision is from {'a national' if home == NATIONAL else 'a ' + self._english(home)} "
                        f"document ({doc.doc_number or doc.title}) and does not concern {p.written}")
            return f"{doc.cited_as}是{'全国性' if home == NATIONAL else home}的文件，最接近的条款未涉及{p.written}"
        return ""

    @staticmethod
    def _english(region: str) -> str:
        return next((en for en, zh, r in lexicon().places if zh == region and en != zh and en.isascii()), region)

    def _quoted(self, q: Question, top: Hit, text: str) -> str:
        """A name the question quotes (“河长制”, 《…》, 'China-Northeast Asia Expo') that the documents never
        use: in their Chinese text, or for an English question in their English renderings (when a clause
        has none, an English quotation cannot be checked and is let through)."""
        for term in q.quoted:
            where = self._english_flat if q.english else self._corpus_flat
            if q.english and not where:
                continue
            if _flat(term) not in where:
                return (f"these documents never mention “{term}”" if q.english else f"这些文件中没有出现“{term}”")
        return ""

    def _named(self, q: Question, top: Hit, text: str) -> str:
        """A proper name of an English question (China-Northeast Asia Expo) with a word that the documents'
        English never uses: an organisation, event or programme these documents do not mention."""
        if not self._english_stems:
            return ""
        for name in q.names:
            missing = [w for w in re.findall(r"[a-z]+", name.lower()) if _stem(w) not in self._english_stems]
            if missing:
                return f"these documents never mention “{name}”"
        return ""

    def _office(self, q: Question, top: Hit, text: str) -> str:
        """A question for the holder of an office (省长, minister) that the provision does not name (its
        Chinese text, or for an English question its rendering; a clause without one is let through)."""
        if not q.office:
            return ""
        if not q.english:
            return "" if q.office in text else f"最接近的条款没有写明{q.office}是谁"
        english = self._renderings.get(top.clause.clause_id)
        if english is None or re.search(rf"\b{re.escape(q.office)}", english, re.I):
            return ""
        return f"the nearest provision names no {q.office}"

    def _procedure(self, q: Question, top: Hit, text: str) -> str:
        """A question on how or when to apply or register, when the provision describes no applying,
        registering or issuing (read in its Chinese text, for both languages)."""
        if not q.procedure or lexicon().procedure["stated_by"].search(top.clause.text):
            return ""
        return ("the nearest provision describes no application or registration procedure" if q.english
                else "最接近的条款没有规定申请、报名或办理的程序")

    def _day(self, q: Question, top: Hit, text: str) -> str:
        """A day or week named relative to now (明天, this week): documents of fixed dates never speak of it."""
        if not q.relative_day:
            return ""
        issued = sorted({d.issue_date[:4] for d in self.catalog.documents if d.issue_date})
        if q.english:
            return f"these documents (issued in {', '.join(issued)}) say nothing about {q.relative_day}"
        return f"这些文件（{'、'.join(issued)}年印发）没有关于“{q.relative_day}”的内容"

    def _year(self, q: Question, top: Hit, text: str) -> str:
        """A year for which the provision states nothing (the documents' own year of issue is no mismatch)."""
        stated = sorted({int(y) for y in YEAR_IN_TEXT.findall(text)})
        issued = {int(d.issue_date[:4]) for d in self.catalog.documents if d.issue_date}
        for year in q.years:
            if year in stated or year in issued:
                continue
            if q.english:
                have = f"; it states {', '.join(map(str, stated))}" if stated else "; it states no year"
                return f"the provision nearest the question gives nothing for {year}{have}"
            have = f"只规定了{'、'.join(f'{y}年' for y in stated)}" if stated else "未规定年份"
            return f"最接近的条款{have}，未规定{year}年"
        return ""

    def _rate(self, q: Question, top: Hit, text: str) -> str:
        """A rate the question names (城市生活垃圾分类覆盖率) for which the provision states no figure."""
        if q.english or not q.asking("figure"):
            return ""
        stated = [t.indicator for t in self.catalog.records_of(top.clause.clause_id).targets]
        topic = self._without_titles(lexicon().figure_words_zh.sub(" ", q.topic))   # 目标值 names no indicator
        for part in RATE_CUT.split(topic):
            for m in RATE_RE.finditer(part):
                rate = m.group(0)
                if rate in text or any(len(bigrams(rate) & bigrams(i)) >= 0.8 * len(bigrams(rate)) for i in stated):
                    continue
                return f"最接近的条款没有规定{rate}"
        return ""

    def _without_titles(self, text: str) -> str:
        """`text` without the words of a document's title it holds (清洁土壤行动计划中化肥利用率 → 中化肥利用率): a
        question naming the plan does not name an indicator of that name."""
        for title in {t for d in self.catalog.documents for t in (d.title, d.notice_title) if t}:
            i = 0
            while i <= len(text) - MIN_TITLE_RUN:
                j = i + MIN_TITLE_RUN
                if text[i:j] in title:
                    while j < len(text) and text[i:j + 1] in title:
                        j += 1
                    text = text[:i] + " " + text[j:]
                i += 1
        return text

    def _uses_english(self, word: str) -> bool:
        """Do the documents' English use this word — or, for a compound (cleanup, farmland), both its parts?"""
        known = self._english_stems
        return _stem(word) in known or word in known or any(
            (a in known or _stem(a) in known) and (b in known or _stem(b) in known)
            for a, b in ((word[:k], word[k:]) for k in range(3, len(word) - 1)))

    def _indicator_en(self, q: Question, top: Hit, text: str) -> str:
        """The indicator an English question asks the target or rate of, when one of its words is a word the
        documents' English never uses (carbon emission reduction target): no provision sets it."""
        if not q.english or not q.asking("figure") or not self._english_stems:
            return ""
        for m in INDICATOR_EN.finditer(q.text):
            words = [w for w in re.findall(r"[a-z]+", m.group(1).lower()) if w not in STOPWORDS and len(w) >= 3]
            missing = [w for w in words if not self._uses_english(w)]
            if missing:
                return f"these documents set no target or rate for {' '.join(words)}"
        return ""

    def _quantity(self, q: Question, top: Hit, text: str) -> str:
        """A kind of figure (money, area, share, count) that the provision does not state."""
        if not q.quantity:
            return ""
        if states_quantity(q, text):   # with the article's lead-in: an item's sum may be there (…处…元以下罚款)
            return ""
        return (f"the provision nearest the question states no {QUANTITY_EN[q.quantity]}" if q.english
                else f"最接近的条款没有规定{QUANTITY_ZH[q.quantity]}")
