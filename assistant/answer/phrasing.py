"""How answers are worded: owners, targets and dates, in Chinese or English (glossary names)."""
from __future__ import annotations

import re

from .agency_names import agency_english
from ..ingest.glossary import load_glossary
from ..ingest.records import Responsibility, Target


def units_zh(units) -> str:
    return "、".join(u.written for u in units)


OTHERS_EN = {"部门": "departments", "单位": "units", "有关部门": "relevant departments"}


def unit_en(u) -> str:
    """'省林业厅等部门' → 'Provincial Forestry Department and other departments'; a unit the glossary does
    not list is named from its parts (agency_names.py)."""
    name = agency_english(u.name)
    if not u.et_al:
        return name
    if not u.others:
        return f"{name} and others"
    return f"{name} and other {OTHERS_EN.get(u.others) or agency_english(u.others)}"


def units_en(units) -> str:
    return ", ".join(unit_en(u) for u in units)


def lead_parts_en(r: Responsibility) -> list[str]:
    """'Lead: …' and 'participating: …', as both an English answer line and a rendering's statement give them."""
    parts = []
    if r.lead:
        parts.append(f"Lead: {units_en(r.lead)}")
    if r.participants:
        parts.append(f"participating: {units_en(r.participants)}")
    return parts


def statement_en(r: Responsibility) -> str:
    """A responsibility parenthetical as a rendering gives it, in its place: '(Lead: …; participating: …)',
    '(Responsible: …; relevant local governments)'. assistant/fidelity.py checks renderings against it."""
    label = "Responsible"
    if any("分别负责" in n or "按职责分工" in n for n in r.notes):
        label += ", each according to its division of duties"
    if "下同" in r.notes:
        label += ", the same below"
    parts = lead_parts_en(r)
    if r.responsible:
        # 省林业厅、省财政厅等,有关地方政府: departments and local governments stay apart, as the comma keeps them
        groups, prev = [], None
        for u in r.responsible:
            if prev is None or u.local_gov != prev:
                groups.append([])
            groups[-1].append(u)
            prev = u.local_gov
        parts.append(f"{label}: " + "; ".join(units_en(g) for g in groups))
    return "(" + "; ".join(parts) + ")"


def owners_line(r: Responsibility, *, english: bool, nested: bool = False) -> str:
    """省国土资源厅牵头（省环保厅、省林业厅参与） / Lead: …; participating: …

    `nested`: for use inside brackets — 省国土资源厅牵头，省环保厅参与.
    """
    if english:
        parts = lead_parts_en(r)
        if r.responsible:
            parts.append(f"Responsible: {units_en(r.responsible)}")
        return "; ".join(parts)
    if r.lead:
        line = f"{units_zh(r.lead)}牵头"
        if r.participants:
            line += f"，{units_zh(r.participants)}参与" if nested else f"（{units_zh(r.participants)}参与）"
        return line
    notes = "，".join(r.notes)
    return units_zh(r.responsible) + ((f"，{notes}" if nested else f"（{notes}）") if notes else "")


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def date_english(date: str) -> str:
    """2017年年底前 → by end-2017; 2016年6月 → June 2016; 到2020年 → by 2020."""
    m = re.search(r"(20\d\d)年(?:(\d{1,2})月)?", date)
    if not m:
        return date
    if m[2]:
        return f"{MONTHS[int(m[2]) - 1]} {m[1]}"
    if "底" in date or "末" in date:
        return f"by end-{m[1]}"
    if "起" in date or "开始" in date:
        return f"from {m[1]}"
    return f"by {m[1]}" if date.startswith(("到", "至")) or "前" in date else m[1]


def target_line(t: Target, owners: Responsibility | None, *, english: bool, rendering: str = "") -> str:
    if english and t.kind == "deadline":
        when = date_english(t.date)
        # a clause without a rendering: the Chinese sentence states what is due (and its figures)
        line = rendering if rendering and str(t.year) in rendering else f"{when}: {rendering or t.sentence}"
        return line + (f" ({owners_line(owners, english=True)})" if owners else "")
    if not english and t.kind == "deadline":
        return t.sentence + (f"（{owners_line(owners, english=False, nested=True)}）" if owners else "")
    if english:
        g = load_glossary()
        ind = g.to_english(t.indicator) or next(
            (g.to_english(k) for k in sorted(g.zh_to_en, key=len, reverse=True) if len(k) > 1 and k in t.indicator),
            t.indicator)
        qual = {"以上": " or above", "左右": " or so", "以下": " or below", "以内": " or less"}.get(t.qualifier, "")
        value = t.value
        fall = re.match(r"(下降|降低到|降至)(.+)", value)
        if fall:  # 下降10% → down 10%; 降至… → down to …; with the baseline year the indicator names (比2013年)
            base = re.search(r"比(20\d\d)年", t.indicator)
            value = ("down " if fall[1] == "下降" else "down to ") + fall[2] + (f" from {base[1]}" if base else "")
        line = f"{value}{qual} {ind} {date_english(t.date if '底' in t.date else '到' + t.date)}".strip()
        return line + (f" ({owners_line(owners, english=True)})" if owners else "")
    verb = "" if t.value.startswith(("下降", "降")) else "达到"
    line = f"{'到' if not t.date.startswith(('到', '至')) and '前' not in t.date and '底' not in t.date else ''}" \
           f"{t.date}，{t.indicator}{verb}{t.value}{t.qualifier}"
    return line + (f"（{owners_line(owners, english=False, nested=True)}）" if owners else "")
