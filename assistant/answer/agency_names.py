"""English names of agencies the glossary does not list, composed from parts: a place or level (省, 市, 县,
长春, 吉林市…) + a body (发展改革委, 财政局, 海关…).

The parts come from the glossary itself: each of its agencies is split where a level character or a place
stands (省财政厅 = 省 + 财政厅 → "{} Finance Department"; 人民银行长春中心支行 = 人民银行 + 长春 + 中心支行 →
"People's Bank of China {} Central Sub-branch"), and each body into a field + an administrative suffix
(财政 + 厅 → Finance + Department). A new name is composed from a known body with another place or level
(市财政厅, 四平海关), a known field with another suffix (市财政局 → Municipal Bureau of Finance), or, for a
field the glossary has never seen, CC-CEDICT's glosses of its words (县农业农村局 → County Bureau of Agriculture
and Rural Area). A name with a part that is none of these is left in Chinese (None): no English is guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..search.dictionary import Cedict, load_cedict
from ..ingest.glossary import Glossary, load_glossary
from .question import lexicon

LEVELS = {"省": "Provincial", "市": "Municipal", "县": "County", "州": "Prefectural", "区": "District"}
# administrative suffixes, longest first: what kind of body an agency is
SUFFIXES = (("管委会", "Administrative Committee"), ("委员会", "Commission"), ("办公室", "Office"),
            ("厅", "Department"), ("局", "Bureau"), ("委", "Commission"), ("办", "Office"), ("部", "Department"),
            ("署", "Administration"), ("中心", "Centre"))
CJK = re.compile(r"[\u4e00-\u9fff]")
SMALL = {"and", "of", "the", "for", "a", "an", "in", "on", "to"}


@dataclass(frozen=True)
class Parts:
    places: dict      # zh place (长春, 长春市, 吉林市) → English (Changchun, Jilin City)
    templates: dict   # (before, after) around the slot → English with "{}" for the slot's English
    fields: dict      # 财政 → Finance; 住房城乡建设 → Housing and Urban-Rural Development


def _slot_english(slot: str, places: dict) -> str | None:
    """English of what stands in a name's slot: a level (省 → Provincial) or a place, with its level
    (长春市 → Changchun Municipal, 延边州 → Yanbian Prefectural, 长春 → Changchun)."""
    if slot in LEVELS:
        return LEVELS[slot]
    if slot[-1:] in LEVELS and slot[:-1] in places:
        base = re.sub(r" (?:City|Prefecture|County|District|Province)$", "", places[slot[:-1]])
        return f"{base} {LEVELS[slot[-1]]}"
    return places.get(slot)


def _names_a_place(template: str, places: dict) -> bool:
    """Whether a name's English, its slot taken out, still names a place: then it is that place's body, and
    another level or place put in the slot would be wrong."""
    return any(re.search(rf"\b{re.escape(en)}\b", template) for en in set(places.values()))


@lru_cache(maxsize=1)
def parts() -> Parts:
    """The places, slot templates and fields found in the glossary's agencies (read once)."""
    g = load_glossary()
    places = {zh: en for zh, en, _ in _place_rows(g)}
    templates, fields = {}, {}
    for zh in g.agencies():
        en = g.to_english(zh)
        for slot in sorted({s for s in list(LEVELS) + list(places) if s in zh}, key=len, reverse=True):
            slot_en = _slot_english(slot, places)
            if not slot_en or slot_en not in en:
                continue
            i = zh.index(slot)
            before, after = zh[:i], zh[i + len(slot):]
            if not after:
                continue
            template = en.replace(slot_en, "{}", 1)
            if _names_a_place(template, places):
                break  # 省法院 → "Jilin {} Higher People's Court" belongs to Jilin's court: no template for 县法院
            templates.setdefault((before, after), template)
            if before:
                break
            rest = en.replace(slot_en, "", 1).strip()
            for suffix, word in SUFFIXES:
                if after.endswith(suffix) and len(after) > len(suffix):
                    m = re.fullmatch(rf"(.+) {word}|{word} of (.+)", rest)
                    if m:
                        fields.setdefault(after[:-len(suffix)], m[1] or m[2])
                    break
            break
    return Parts(places, templates, fields)


def _place_rows(g: Glossary):
    """Places of the glossary and of the question lexicon (places.tsv, its first English name), with and
    without 市."""
    for zh, kind in g.kinds.items():
        if kind == "place":
            yield zh, g.to_english(zh), kind
            if zh.endswith("市"):
                yield zh[:-1], re.sub(r" City$", "", g.to_english(zh)), kind
    seen = set(g.kinds)
    for written, zh, _ in reversed(lexicon().places):  # the lexicon sorts longest first: its first variant last
        if written != zh and not CJK.search(written):
            seen.add(zh)
            yield zh, written, "place"


def _title(words: str) -> str:
    return " ".join(w if w in SMALL else w[:1].upper() + w[1:] for w in words.split())


def gloss_field(zh: str, cedict: Cedict) -> str | None:
    """English of a field the glossary does not know, from CC-CEDICT: the longest headwords first, each
    word's first sense that is not a verb phrase ("to build"), joined with 'and'; None when a part has no
    entry."""
    words, i = [], 0
    while i < len(zh):
        for j in range(min(len(zh), i + 8), i + 1, -1):
            if zh[i:j] in cedict.senses_of:
                words.append(zh[i:j])
                i = j
                break
        else:
            return None
    glosses = []
    for w in words:
        senses = [s.split(";")[0].strip() for s in cedict.senses(w)]
        noun = next((s for s in senses if s and not s.startswith("to ")), None) or \
            next((s.removeprefix("to ") for s in senses if s), None)
        if not noun:
            return None
        glosses.append(_title(noun))
    return " and ".join(glosses)


def compose(zh: str, *, cedict: Cedict | None = None) -> str | None:
    """English for an agency name from its parts, or None when a part is unknown (see the module doc)."""
    p = parts()
    for (before, after), template in sorted(p.templates.items(), key=lambda t: -len(t[0][0]) - len(t[0][1])):
        if zh.startswith(before) and zh.endswith(after) and len(zh) > len(before) + len(after):
            slot_en = _slot_english(zh[len(before):len(zh) - len(after)], p.places)
            if slot_en:
                return template.format(slot_en)
    slot_en, body = "", zh
    for slot in sorted(list(LEVELS) + list(p.places), key=len, reverse=True):
        for candidate in (slot + "市", slot + "州", slot + "县", slot):
            if zh.startswith(candidate) and len(zh) > len(candidate) and _slot_english(candidate, p.places):
                slot_en, body = _slot_english(candidate, p.places), zh[len(candidate):]
                break
        if slot_en:
            break
    if not slot_en:
        return None
    cedict = cedict or load_cedict()
    for suffix, word in SUFFIXES:
        if body.endswith(suffix) and len(body) > len(suffix):
            field_zh = body[:-len(suffix)]
            field_en = p.fields.get(field_zh) or gloss_field(field_zh, cedict)
            return f"{slot_en} {word} of {field_en}" if field_en else None
    # without a suffix only a body that is one dictionary word (海关, 法院) is safe to gloss
    body_en = gloss_field(body, cedict) if body in cedict.senses_of else None
    return f"{slot_en} {body_en}" if body_en else None


def agency_english(zh: str) -> str:
    """The glossary's English for an agency, else one composed from its parts, else the Chinese name."""
    g = load_glossary()
    en = g.agency_english(zh)
    if en != zh:
        return en
    return compose(g.canonical(zh)) or zh
