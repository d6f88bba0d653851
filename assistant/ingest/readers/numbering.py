"""Word automatic numbering → the marker a reader sees printed (一、 （一） 1. ①).

Word stores 一、 of a numbered heading not as text but as (list, level) on the paragraph; the printed
marker comes from word/numbering.xml: the level's format (chineseCounting, decimal …) and its pattern
(lvlText "%1、", "（%1）"). Counters run per list (w:numId), and a level restarts when a level above
it is used — Word's default; explicit w:lvlRestart is not read.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CN_DIGITS = "零一二三四五六七八九"
CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"


def _chinese(n: int, digits: str = CN_DIGITS, units: str = "十百千") -> str:
    """1 → 一, 10 → 十, 11 → 十一, 20 → 二十, 105 → 一百零五 (n < 10000)."""
    if n <= 0 or n >= 10000:
        return str(n)
    out, zero = "", False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        d, n = divmod(n, power)
        if d:
            out += (digits[0] if zero and out else "") + digits[d] + unit
            zero = False
        elif out:
            zero = True
    return out[1:] if out.startswith(digits[1] + units[0]) and digits is CN_DIGITS else out


def _letters(n: int, base: str) -> str:
    """1 → a, 26 → z, 27 → aa (Word repeats the letter)."""
    return base[(n - 1) % 26] * ((n - 1) // 26 + 1) if n > 0 else str(n)


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                       (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + sym, n - value
    return out


FORMATS = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "decimalEnclosedCircle": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "decimalEnclosedParen": lambda n: chr(0x2474 + n - 1) if 1 <= n <= 20 else f"({n})",
    "decimalEnclosedFullstop": lambda n: chr(0x2488 + n - 1) if 1 <= n <= 20 else f"{n}.",
    "chineseCounting": _chinese,
    "chineseCountingThousand": _chinese,
    "taiwaneseCounting": _chinese,
    "japaneseCounting": _chinese,
    "chineseLegalSimplified": lambda n: _chinese(n, CN_LEGAL, "拾佰仟"),
    "ideographDigital": lambda n: "".join("〇一二三四五六七八九"[int(d)] for d in str(n)),
    "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[n - 1] if 1 <= n <= 10 else str(n),
    "ideographZodiac": lambda n: "子丑寅卯辰巳午未申酉戌亥"[n - 1] if 1 <= n <= 12 else str(n),
    "lowerLetter": lambda n: _letters(n, "abcdefghijklmnopqrstuvwxyz"),
    "upperLetter": lambda n: _letters(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}
FORMATS["decimalEnclosedCircleChinese"] = FORMATS["decimalEnclosedCircle"]


@dataclass(frozen=True)
class Level:
    fmt: str
    text: str      # lvlText, e.g. "%1、"
    start: int
    suffix: str    # what follows the marker: "" (tab or nothing: layout, not text) or " "
    legal: bool    # isLgl: every level shown as decimal


def _val(el: ET.Element | None, default: str = "") -> str:
    return el.get(W + "val", default) if el is not None else default


def _levels(abstract: ET.Element) -> dict[int, Level]:
    out = {}
    for lvl in abstract.findall(W + "lvl"):
        start = _val(lvl.find(W + "start"), "1")
        out[int(lvl.get(W + "ilvl", "0"))] = Level(
            fmt=_val(lvl.find(W + "numFmt"), "decimal"), text=_val(lvl.find(W + "lvlText")),
            start=int(start) if start.lstrip("-").isdigit() else 1,
            suffix=" " if _val(lvl.find(W + "suff"), "tab") == "space" else "",
            legal=lvl.find(W + "isLgl") is not None and _val(lvl.find(W + "isLgl"), "true") not in ("0", "false"))
    return out


class Numbering:
    """Markers for the numbered paragraphs of one document, in document order (the counters are state)."""

    def __init__(self, numbering: ET.Element | None, styles: ET.Element | None):
        self.lists: dict[str, dict[int, Level]] = {}
        self.style_num: dict[str, tuple[str | None, str | None, str | None]] = {}  # numId, ilvl, basedOn
        self.counters: dict[str, dict[int, int]] = {}
        self.rendered = 0
        self.unsupported: set[str] = set()
        if numbering is not None:
            abstracts = {a.get(W + "abstractNumId"): _levels(a) for a in numbering.findall(W + "abstractNum")}
            for num in numbering.findall(W + "num"):
                levels = dict(abstracts.get(_val(num.find(W + "abstractNumId")), {}))
                for over in num.findall(W + "lvlOverride"):
                    ilvl = int(over.get(W + "ilvl", "0"))
                    if (lvl := over.find(W + "lvl")) is not None:  # a whole level redefined for this list
                        wrapper = ET.Element(W + "abstractNum")
                        wrapper.append(lvl)
                        levels.update(_levels(wrapper))
                    if (start := over.find(W + "startOverride")) is not None and ilvl in levels:
                        lv = levels[ilvl]
                        levels[ilvl] = Level(lv.fmt, lv.text, int(_val(start, "1")), lv.suffix, lv.legal)
                self.lists[num.get(W + "numId")] = levels
        if styles is not None:
            for st in styles.findall(W + "style"):
                num_pr = st.find(f"{W}pPr/{W}numPr")
                based = _val(st.find(W + "basedOn")) or None
                self.style_num[st.get(W + "styleId")] = (
                    _val(num_pr.find(W + "numId")) if num_pr is not None else None,
                    _val(num_pr.find(W + "ilvl")) if num_pr is not None else None, based)

    def _from_style(self, style: str | None) -> tuple[str | None, str | None]:
        seen = set()
        while style and style not in seen and style in self.style_num:
            seen.add(style)
            num_id, ilvl, based = self.style_num[style]
            if num_id is not None:
                return num_id, ilvl
            style = based
        return None, None

    def marker(self, p: ET.Element) -> str:
        """The printed marker of paragraph `p` ("" when it is not numbered); advances the counters."""
        ppr = p.find(W + "pPr")
        num_pr = ppr.find(W + "numPr") if ppr is not None else None
        style_num, style_ilvl = self._from_style(_val(ppr.find(W + "pStyle")) if ppr is not None else None)
        num_id = _val(num_pr.find(W + "numId")) if num_pr is not None and num_pr.find(W + "numId") is not None else style_num
        ilvl_s = _val(num_pr.find(W + "ilvl")) if num_pr is not None and num_pr.find(W + "ilvl") is not None else style_ilvl
        ilvl = int(ilvl_s) if ilvl_s and ilvl_s.isdigit() else 0
        levels = self.lists.get(num_id or "0")
        if not levels or ilvl not in levels:  # numId 0 means "numbering removed"
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else levels[ilvl].start
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        lvl = levels[ilvl]
        if lvl.fmt == "bullet":
            return ""  # a bullet glyph (often a Symbol-font code point) is decoration, not a clause marker
        text = lvl.text
        for k in range(9, -1, -1):
            if f"%{k + 1}" in text:
                n = counters.get(k, levels[k].start if k in levels else 1)
                fmt = "decimal" if lvl.legal and k < ilvl else (levels[k].fmt if k in levels else "decimal")
                if fmt not in FORMATS and fmt != "none":
                    self.unsupported.add(fmt)
                text = text.replace(f"%{k + 1}", "" if fmt == "none" else FORMATS.get(fmt, str)(n))
        self.rendered += 1
        return text + lvl.suffix if text else ""

    def notes(self) -> list[str]:
        out = []
        if self.rendered:
            out.append(f"{self.rendered} numbered paragraph(s): markers rendered from word/numbering.xml")
        if self.unsupported:
            out.append(f"numbering format(s) {', '.join(sorted(self.unsupported))} rendered as decimal numbers")
        return out
