"""Does an English rendering say what its clause says? Checks that need no translation model.

A rendering (data/renderings_en.jsonl) is shown to English readers as the content of a provision, so what
can be checked mechanically is checked for every clause:

- numbers: every number of the clause (years, days, counts, percentages; 万/亿 multiplied out) is in the
  rendering, and the rendering has no number the clause lacks; a month (6月) is named (June);
- units and qualifiers: 100万亩 is "1 million mu", 85%以上 is "85% or above", 90%左右 "about 90%";
- owners: each responsibility statement of the clause is rendered where the Chinese has it, with every unit
  by its glossary English name in its role — a parenthetical as "(Lead: …; participating: …)" or
  "(Responsible: …)", 等 as "and others" —, an inline one ("由省军区牵头,会同…", "省公安厅负责…") in
  one English sentence with "led by" / "together with" / "responsible";
- words: obligation, negation and hedging words carried over (data/fidelity_words.tsv: 严禁/禁止 → prohibit
  or ban, exactly as often; 严格控制 → strictly control; 鼓励 → encourage; 研究 → study; 争取 → seek;
  可以 → may; 应/要 → shall/must …, at least as often).

What no check here can see (a changed scope, a widened exception) is for a reader; these catch the drops.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..ingest.catalog import Catalog
from ..ingest.clauses import Clause
from ..ingest.glossary import load_glossary
from .phrasing import OTHERS_EN
from ..ingest.records import ClauseRecords, Responsibility, Unit

WORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "fidelity_words.tsv"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


@dataclass(frozen=True)
class Problem:
    clause_id: str
    check: str      # missing | numbers | units | qualifiers | months | owners | words
    message: str

    def __str__(self) -> str:
        return f"{self.clause_id}: {self.check}: {self.message}"


@dataclass(frozen=True)
class WordRule:
    name: str
    zh: re.Pattern
    en: re.Pattern
    rule: str       # equal | at-least
    note: str = ""


@lru_cache(maxsize=2)
def load_word_rules(path: Path = WORDS_PATH) -> tuple[WordRule, ...]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, zh, en, rule, *note = line.split("\t")
        if rule not in ("equal", "at-least"):
            raise ValueError(f"{path}:{n}: rule {rule!r} for {name!r}; use 'equal' or 'at-least'")
        out.append(WordRule(name, re.compile(zh), re.compile(en, re.I), rule, note[0] if note else ""))
    return tuple(out)


# ---- numbers -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str = ""        # a measure unit in the English spelling: %, mu, cm, km, tonnes, yuan, jin
    qualifier: str = ""   # above | about | below


ZH_UNITS = {"%": "%", "亩": "mu", "厘米": "cm", "公里": "km", "吨": "tonnes", "元": "yuan", "斤": "jin"}
ZH_QUALIFIERS = {"以上": "above", "左右": "about", "以下": "below", "以内": "below"}
ZH_NUMBER_RE = re.compile(
    r"(?P<a>\d+(?:\.\d+)?)(?:\s*[-—–~至到]\s*(?P<b>\d+(?:\.\d+)?))?(?P<mult>万|亿)?"
    r"(?P<unit>%|亩|厘米|公里|吨|元|斤)?(?P<qual>以上|左右|以下|以内)?")
ZH_MONTH_RE = re.compile(r"(?<![\d个])(\d{1,2})月")
EN_NUMBER_RE = re.compile(
    r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:st|nd|rd|th)?(?:\s+(?P<mult>million|billion))?"
    r"(?:\s*(?P<unit>%|per ?cent\b|mu\b|cm\b|centimet\w+|km\b|kilomet\w+|tonnes?\b|tons?\b|yuan\b|jin\b))?", re.I)
EN_UNIT = {"per cent": "%", "percent": "%", "centimetres": "cm", "centimeters": "cm", "centimetre": "cm",
           "kilometres": "km", "kilometers": "km", "kilometre": "km", "tonne": "tonnes", "ton": "tonnes",
           "tons": "tonnes"}
EN_QUALIFIER_BEFORE = {"above": r"(?:at least|over|more than|above|no less than)\s+$",
                       "about": r"(?:about|around|approximately|roughly|some)\s+$",
                       "below": r"(?:at most|under|below|less than|within|up to|no more than)\s+$"}
EN_QUALIFIER_AFTER = {"above": r"^\s*(?:or|and) (?:above|more|over|higher)",
                      "about": r"^\s*or so\b",
                      "below": r"^\s*(?:or|and) (?:below|less|under|lower)"}
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}


def _cn_number(s: str) -> int | None:
    """十三 → 13, 二十 → 20, 百亿 → 10^10; None when `s` is not a Chinese numeral."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in CN_DIGITS:
            if digit is not None:
                return None
            digit = CN_DIGITS[ch]
        elif ch in ("万", "亿"):
            total = (total + section + (digit or 0)) * CN_UNITS[ch]
            section, digit = 0, None
        elif ch in CN_UNITS:
            section += (1 if digit is None else digit) * CN_UNITS[ch]
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def zh_quantities(text: str) -> list[Quantity]:
    """The clause's numbers with their units and qualifiers; months are left to zh_months."""
    out = []
    for m in ZH_NUMBER_RE.finditer(text):
        if text[m.end("b") if m["b"] else m.end("a"):].startswith("月") and not m["mult"]:
            continue
        mult = {"万": 10_000, "亿": 100_000_000}.get(m["mult"] or "", 1)
        unit, qual = ZH_UNITS.get(m["unit"] or "", ""), ZH_QUALIFIERS.get(m["qual"] or "", "")
        for n in (m["a"], m["b"]):
            if n:
                out.append(Quantity(float(n) * mult, unit, qual))
    return out


def zh_months(text: str) -> set[int]:
    return {int(m[1]) for m in ZH_MONTH_RE.finditer(text) if 1 <= int(m[1]) <= 12}


def zh_numeral_values(text: str) -> set[float]:
    """Values a Chinese numeral in the text may stand for (十三五 → 10, 13, 3, 5 …): what English may write
    in figures ("13th Five-Year Plan") without the clause having those digits."""
    out = set()
    for m in re.finditer(r"[零一二两三四五六七八九十百千万亿]+", text):
        run = m.group(0)
        for i in range(len(run)):
            for j in range(i + 1, len(run) + 1):
                v = _cn_number(run[i:j])
                if v is not None:
                    out.add(float(v))
    return out


def en_quantities(text: str) -> list[Quantity]:
    out = []
    for m in EN_NUMBER_RE.finditer(text):
        value = float(m["n"].replace(",", "")) * {"million": 1e6, "billion": 1e9}.get((m["mult"] or "").lower(), 1)
        unit = (m["unit"] or "").lower()
        unit = EN_UNIT.get(unit, unit)
        before, after = text[max(0, m.start() - 25):m.start()], text[m.end():m.end() + 15]
        qual = next((q for q in EN_QUALIFIER_BEFORE if re.search(EN_QUALIFIER_BEFORE[q], before, re.I)
                     or re.search(EN_QUALIFIER_AFTER[q], after, re.I)), "")
        out.append(Quantity(value, unit, qual))
    return out


def _fmt(v: float) -> str:
    return (f"{v:,.0f}" if v >= 10_000 else f"{v:.0f}") if v == int(v) else f"{v:g}"


def check_numbers(clause_id: str, zh: str, en: str) -> list[Problem]:
    problems = []
    zq, eq = zh_quantities(zh), en_quantities(en)
    zvalues, evalues = {q.value for q in zq}, {q.value for q in eq}
    for v in sorted(zvalues - evalues):
        problems.append(Problem(clause_id, "numbers", f"{_fmt(v)} is in the Chinese text, not in the rendering"))
    allowed = zvalues | zh_numeral_values(zh) | set(map(float, zh_months(zh)))
    for v in sorted(evalues - allowed):
        problems.append(Problem(clause_id, "numbers", f"{_fmt(v)} is in the rendering, not in the Chinese text"))
    for q in zq:
        same = [e for e in eq if e.value == q.value]
        if not same:
            continue
        if q.unit and not any(e.unit == q.unit for e in same):
            problems.append(Problem(clause_id, "units", f"{_fmt(q.value)} should be followed by {q.unit!r}"))
        if q.qualifier and not any(e.qualifier == q.qualifier for e in same):
            problems.append(Problem(clause_id, "qualifiers",
                                    f"{_fmt(q.value)}{q.unit} is qualified '{q.qualifier}' in the Chinese text"))
    for month in sorted(zh_months(zh)):
        if not re.search(rf"\b{MONTHS[month - 1]}\b", en):
            problems.append(Problem(clause_id, "months", f"month {month} ({MONTHS[month - 1]}) is not named"))
    return problems


# ---- owners --------------------------------------------------------------------------------------------

OWNER_STATEMENT_RE = re.compile(r"\((?=\s*(?:lead|participating|responsible)\b)[^()]*\)", re.I)
ROLE_LABEL_RE = re.compile(r"^\s*(lead|participating|responsible)\b[^:]*:", re.I)
ROLE_OF_LABEL = {"lead": "lead", "participating": "participants", "responsible": "responsible"}
INLINE_CUES = {"lead": r"\bled by\b|\blead", "participants": r"together with|in conjunction with|participat",
               "responsible": r"\bresponsible\b"}
def unit_english(u: Unit) -> str:
    return load_glossary().agency_english(u.name)


def owner_statements(en: str) -> list[dict[str, str]]:
    """'(Lead: A; participating: B, C)' → [{'lead': 'A', 'participants': 'B, C'}], in text order."""
    out = []
    for m in OWNER_STATEMENT_RE.finditer(en):
        roles, role = {}, None
        for seg in m.group(0)[1:-1].split(";"):
            label = ROLE_LABEL_RE.match(seg)
            if label:
                role, seg = ROLE_OF_LABEL[label[1].lower()], seg[label.end():]
            if role:
                roles[role] = roles.get(role, "") + " ; " + seg
        out.append(roles)
    return out


def _unit_problems(clause_id: str, r: Responsibility, segments: dict[str, str]) -> list[Problem]:
    problems = []
    for role, u in r.roles():
        name = unit_english(u)
        text = segments.get(role, "")
        if name.lower() not in text.lower():
            where = [k for k, v in segments.items() if name.lower() in v.lower()]
            problems.append(Problem(clause_id, "owners", f"{u.name} ({name}) is not named as {role} in "
                                    f"'{r.raw}'" + (f" (it is named as {where[0]})" if where else "")))
        elif u.et_al:
            others = OTHERS_EN.get(u.others) or (load_glossary().agency_english(u.others) if u.others else "")
            if not re.search(rf"and other{'s' if not others else ''}\b" + (f" {re.escape(others)}" if others else ""),
                             text, re.I):
                problems.append(Problem(clause_id, "owners", f"{u.written}: 等 is not rendered "
                                        f"('and other{' ' + others if others else 's'}') in '{r.raw}'"))
    return problems


def check_owners(clause_id: str, records: ClauseRecords, en: str) -> list[Problem]:
    problems = []
    trailing = [r for r in records.responsibilities if not r.inline]
    statements = owner_statements(en)
    if len(statements) != len(trailing):
        problems.append(Problem(clause_id, "owners", f"the clause has {len(trailing)} responsibility "
                                f"parenthetical(s), the rendering {len(statements)} '(Lead: …)' / '(Responsible: …)'"))
    for r, segments in zip(trailing, statements):
        problems += _unit_problems(clause_id, r, segments)
    parts = re.split(r"(?<=[.;])\s+", en)
    for r in (r for r in records.responsibilities if r.inline):
        names = [unit_english(u).lower() for u in r.units]
        cues = [INLINE_CUES[role] for role in ("lead", "participants", "responsible") if getattr(r, role)]
        if not any(all(n in p.lower() for n in names) and all(re.search(c, p, re.I) for c in cues) for p in parts):
            problems.append(Problem(clause_id, "owners", f"'{r.raw[:40]}…': "
                                    f"{', '.join(u.name for u in r.units)} not rendered in one sentence with their role"))
    return problems


# ---- words ---------------------------------------------------------------------------------------------

def check_words(clause_id: str, zh: str, en: str, rules: tuple[WordRule, ...] | None = None) -> list[Problem]:
    problems = []
    for rule in rules if rules is not None else load_word_rules():
        nz, ne = len(rule.zh.findall(zh)), len(rule.en.findall(en))
        if (rule.rule == "equal" and nz != ne) or (rule.rule == "at-least" and ne < nz):
            zh_words = "、".join(sorted(set(rule.zh.findall(zh)))) or rule.zh.pattern.split("|")[0]
            problems.append(Problem(clause_id, "words", f"{rule.name}: the Chinese says {zh_words} {nz} time(s), "
                                    f"the rendering {ne} ({rule.en.pattern[:60]}…; rule: {rule.rule})"))
    return problems


# ---- all -----------------------------------------------------------------------------------------------

def check_rendering(clause: Clause, records: ClauseRecords, english: str | None) -> list[Problem]:
    """Every problem found with one clause's rendering (a missing rendering is one)."""
    if not english or not english.strip():
        return [Problem(clause.clause_id, "missing", "no English rendering in data/renderings_en.jsonl")]
    return (check_numbers(clause.clause_id, clause.text, english)
            + check_owners(clause.clause_id, records, english)
            + check_words(clause.clause_id, clause.text, english))


def check_renderings(catalog: Catalog, renderings: dict[str, str]) -> list[Problem]:
    """Problems with every clause's rendering, and renderings of clauses that do not exist."""
    problems = [p for c in catalog.clauses
                for p in check_rendering(c, catalog.records_of(c.clause_id), renderings.get(c.clause_id))]
    known = set(catalog.by_id)
    problems += [Problem(cid, "missing", "a rendering of no clause of the corpus") for cid in renderings
                 if cid not in known]
    return problems
