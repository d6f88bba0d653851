"""One document's paragraphs → `Document`: its facts (number, title, issuer, date, addressees, attachments)
and where its body lies, for any issuer and layout of Chinese official documents.

Three shapes are read, told apart by the text itself, never by a known issuer:

* a notice that publishes an attached text (…关于印发《X》的通知, a government order 令第N号 that promulgates
  a regulation): title lines, number, addressees, the notice, signature and date, then the attachment's
  title lines and its body — the body is the attachment;
* a document that is its own text (意见, 决定, 方案 …): title lines, number, addressees, the body, then the
  signature and date at the end;
* either without a number, a date or addressees: a document without a number is cited by its title and date.

The text of the `Document` keeps every source paragraph verbatim, one a line (title lines joined into one),
so that clause texts downstream are slices of it. Page chrome (site headers, 来源/发布时间 lines, links,
print and share buttons) is dropped by the rules in `data/page_chrome.txt`, and metadata lines become facts
a document's own header does not state.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import CorpusError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CN_DATE_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "O": 0, "０": 0}
# 吉政发〔2016〕40号, 国办发[2019]35号, 长府办发（2019）7号 — any issuer's prefix, any bracket
NUMBER_RE = re.compile(r"^(?P<prefix>[\u4e00-\u9fff]{1,12})\s*[〔\[［(（【](?P<year>\d{4})[〕\]］)）】]\s*第?"
                       r"(?P<serial>\d{1,5})\s*号$")
# 吉林省人民政府令 第268号 (one line or two), 第268号 under a 令 heading
ORDER_RE = re.compile(r"^(?P<prefix>[\u4e00-\u9fff]{2,24}令)?\s*[(（]?第\s*(?P<serial>\d{1,5})\s*号[)）]?$")
DATE_RE = re.compile(r"^[(（]?(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日[)）]?$")
CN_DATE_RE = re.compile(r"^[(（]?(?P<y>[〇○零O０一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,3})月"
                        r"(?P<d>[一二三四五六七八九十]{1,3})日[)）]?$")
SENTENCE_PUNCT = set(",，。;；:：!！?？")
ADDRESSEES_RE = re.compile(r"^[^。；;]{2,160}[:：]$")
ATTACHMENT_LINE_RE = re.compile(r"^附\s*件\s*(?P<n>\d{0,2})\s*[:：]?\s*(?P<rest>.*)$")
PUBLISHES_RE = re.compile(r"(?:印发|转发|颁布|发布|公布)[《“\"]?(?P<name>.+?)[》”\"]?的(?:通知|决定|公告)$")
ISSUER_SUFFIXES = ("人民政府", "人民政府办公厅", "人民政府办公室", "办公厅", "办公室", "厅", "委员会", "委", "局",
                   "国务院", "政府", "部", "署", "总局", "中心支行", "分行", "海关", "人民代表大会常务委员会")
# (此件公开发布), (本文有删减): a short note in brackets after the date, not part of any title
PUBLIC_NOTE_RE = re.compile(r"^[(（][^()（）。，,；;]{2,20}[)）]$")
# the note under the title of a regulation: how and when it was made and amended
PROMULGATION_RE = re.compile(r"^[(（][^()（）]*?\d{4}年\d{1,2}月\d{1,2}日[^()（）]*?(?:公布|发布|通过|施行|修正|修订)"
                             r"(?:[^()（）]|[(（][^()（）]*[)）])*[)）]$")
NUMBER_IN_TEXT_RE = re.compile(r"(?:\d日)?(?P<prefix>[\u4e00-\u9fff]{2,24}令)第(?P<serial>\d{1,5})号|"
                               r"(?P<prefix2>[\u4e00-\u9fff]{1,12})〔(?P<year>\d{4})〕(?P<serial2>\d{1,5})号")
DATE_IN_TEXT_RE = re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日")
BYLINE_RE = re.compile(r"^[(（][^()（）]{2,40}[)）]$")   # (民政部　一九九七年一月二十八日) under an attached title


@dataclass(frozen=True)
class Facts:
    """What a document's own text says about it, and how each fact was found."""

    doc_number: str = ""
    prefix: str = ""
    year: str = ""
    serial: str = ""
    title_lines: tuple[str, ...] = ()
    notice_title: str = ""
    title: str = ""
    issuer: str = ""
    issuer_from: str = ""          # title | signature | number prefix | header | ""
    issue_date: str = ""
    addressees: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Layout:
    """Where the parts of a document lie in its list of paragraphs (indices, end exclusive)."""

    notice: tuple[int, int]        # title, number, addressees and (for a publishing notice) its text and date
    attachment_title: tuple[int, int] | None   # the attached text's title lines; None when the body is the document's own
    body: tuple[int, int]
    date_at: int | None            # the paragraph holding the date of issue
    appendix: tuple[int, int] | None = None   # attachments printed after the signature and date (附件 …)


@lru_cache(maxsize=1)
def issuer_prefixes() -> dict[str, str]:
    """Number prefix → issuer, for when the document's own text does not name its issuer (data/issuers.tsv)."""
    out = {}
    for line in (DATA_DIR / "issuers.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            prefix, issuer = line.split("\t")[:2]
            out[prefix.strip()] = issuer.strip()
    return out


@lru_cache(maxsize=1)
def chrome_rules() -> tuple[re.Pattern, ...]:
    """Patterns of whole paragraphs that are page chrome, never document text (data/page_chrome.txt)."""
    return tuple(re.compile(line) for line in (DATA_DIR / "page_chrome.txt").read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#"))


METADATA_RE = re.compile(r"^(?P<label>索引号|主题分类|发文机关|发布机构|成文日期|发文字号|发布日期|发布时间|标题|主题词|"
                         r"文号|来源|信息来源|公文种类|有效性|生效日期|时效)\s*[:：]\s*(?P<value>.*)$")


FRONT_MATTER_RE = re.compile(r"^(?P<label>[^:：]{1,12})\s*[:：]\s*(?P<value>.*)$")


def drop_chrome(pars: list[str]) -> tuple[list[str], dict[str, str], int]:
    """(paragraphs without page chrome, metadata label → value found on the way, how many were dropped).

    A saved page may open with a front-matter block between two --- lines (label: value lines, the way
    Markdown exports keep a page's metadata): its lines become metadata. Markdown heading marks (# ) and
    quoted lines (> …, a saver's note) are not document text."""
    rules = chrome_rules()
    out, meta, dropped = [], {}, 0
    if pars and pars[0].strip() == "---" and "---" in pars[1:30]:
        end = pars.index("---", 1)
        for p in pars[1:end]:
            if m := FRONT_MATTER_RE.match(p):
                meta.setdefault(m["label"].strip(), m["value"].strip())
        dropped += end + 1
        pars = pars[end + 1:]
    for p in pars:
        if p.startswith(">"):
            dropped += 1
            continue
        p = re.sub(r"^#{1,6}\s+", "", p)
        m = METADATA_RE.match(re.sub(r"[ \u3000]", "", p[:12]) + p[12:])   # 主 题 词： is 主题词：
        if m and len(p) <= 120:
            meta.setdefault(m["label"], m["value"].strip())
            dropped += 1
        elif any(r.search(p) for r in rules):
            dropped += 1
        else:
            out.append(p)
    return out, meta, dropped


def parse_date(par: str) -> str | None:
    """'2016年11月28日' / '二〇一六年十一月二十八日' / '（2019年3月15日）' → ISO date, else None."""
    if m := DATE_RE.match(par):
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    elif m := CN_DATE_RE.match(par):
        from .clauses import cn_to_int
        y = int("".join(str(CN_DATE_DIGITS[c]) for c in m["y"]))
        mo, d = cn_to_int(m["m"]), cn_to_int(m["d"])
    else:
        return None
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def number_of(par: str) -> re.Match | None:
    return NUMBER_RE.match(par) or ORDER_RE.match(par)


def canonical_number(m: re.Match) -> str:
    """The number as citations print it: 国办发〔2019〕35号, 吉林省人民政府令第268号."""
    if "year" in m.groupdict():
        return f"{m['prefix']}〔{m['year']}〕{m['serial']}号"
    return f"{m['prefix'] or ''}第{m['serial']}号"


def is_title_line(par: str) -> bool:
    """A title line: short, and no sentence punctuation (titles hold 、《》（）, never ，。；：)."""
    return len(par) <= 60 and not (SENTENCE_PUNCT & set(par)) and not number_of(par) and parse_date(par) is None


def is_marker_line(par: str) -> bool:
    from .clauses import marker_of
    return marker_of(par) is not None


def issuer_from_title(title: str) -> str:
    """国务院办公厅关于… / 国务院办公厅转发民政部关于… → the issuer named before 关于 (and before 转发 / 印发)."""
    head = title.split("关于")[0] if "关于" in title else ""
    head = re.split(r"转发|印发|批转", head)[0]
    return head if head.endswith(ISSUER_SUFFIXES) else ""


def _signature_before(pars: list[str], date_at: int) -> tuple[int, str]:
    """The signature lines just above a date line: (index of the first, the issuer named) — (date_at, "") if none."""
    i = date_at
    while i > 0 and len(pars[i - 1]) <= 40 and not (SENTENCE_PUNCT & set(pars[i - 1])) \
            and pars[i - 1].endswith(ISSUER_SUFFIXES) and date_at - i < 3:
        i -= 1
    names = [p for p in pars[i:date_at]]
    return i, (names[0] if names else "")


def locate(pars: list[str]) -> tuple[Layout, dict]:
    """Find title, number, addressees, notice, attachment and body in a document's paragraphs."""
    n = len(pars)
    found: dict = {}
    # the header: title lines and the number (either order), then addressees
    i = 0
    title_at: list[int] = []
    while i < n and i < 12:
        p = pars[i]
        if (m := number_of(p)) and "number" not in found:
            found["number"] = (i, m)
        elif ORDER_RE.match(p.replace(" ", "")) and "number" not in found:
            found["number"] = (i, ORDER_RE.match(p.replace(" ", "")))
        elif (d := parse_date(p)) and "number" not in found and title_at and i <= title_at[-1] + 1:
            found.setdefault("header_date", (i, d))   # (2019年3月15日) printed under the title
        elif title_at and p == pars[title_at[-1]] and i == title_at[-1] + 1:
            found["repeated_title"] = i        # the title printed twice (a page heading, then the text's own)
        elif title_at and PROMULGATION_RE.match(p) and "promulgation" not in found:
            found["promulgation"] = i          # (2012年8月31日上海市人民政府令第85号公布 根据…修正)
        elif is_title_line(p) and not is_marker_line(p) and ("number" not in found or not title_at
                                                             or found["number"][0] > title_at[-1]):
            if title_at and i != title_at[-1] + 1 and "number" not in found:
                break
            title_at.append(i)
        else:
            break
        i += 1
    # an order's heading line (吉林省人民政府令) then 第N号 on the next line
    if "number" in found and found["number"][1]["prefix"] is None and title_at and \
            pars[title_at[-1]].endswith("令") and title_at[-1] == found["number"][0] - 1:
        found["order_heading"] = title_at.pop()
    header_end = i
    if header_end < n and ADDRESSEES_RE.match(pars[header_end]) and len(pars[header_end]) <= 160:
        found["addressees"] = header_end
        header_end += 1
    found["title_at"] = title_at
    title = "".join(pars[j] for j in title_at)
    publishes = PUBLISHES_RE.search(title) or ("order_heading" in found) or \
        ("number" in found and found["number"][1]["prefix"] and str(found["number"][1]["prefix"]).endswith("令"))
    # dates after the header
    dates = [(j, d) for j in range(header_end, n) if (d := parse_date(pars[j]))]
    if publishes and dates:
        date_at = dates[0][0]
        j = date_at + 1
        while j < n and PUBLIC_NOTE_RE.match(pars[j]):
            j += 1
        k = j
        attach_lines = []
        while k < n and (ATTACHMENT_LINE_RE.match(pars[k]) and not ATTACHMENT_LINE_RE.match(pars[k])["rest"]):
            k += 1   # a bare 附件 / 附件1 line above the attachment's title
        while k < n and len(pars[k]) <= 60 and not (SENTENCE_PUNCT & set(pars[k])) and not is_marker_line(pars[k]) \
                and not BYLINE_RE.match(pars[k]):
            attach_lines.append(k)
            k += 1
        if attach_lines and k < n:
            found["date"] = (date_at, dates[0][1])
            return Layout((0, date_at + 1), (attach_lines[0], k), (k, n), date_at), found
    # a document that is its own text: the signature and date close it, at the end or before its attachments
    end, date_at, appendix = n, None, None
    last = dates[-1][0] if dates else None
    if last is not None:
        k = last + 1
        while k < n and PUBLIC_NOTE_RE.match(pars[k]):
            k += 1
        if k == n or (ATTACHMENT_LINE_RE.match(pars[k]) and not ATTACHMENT_LINE_RE.match(pars[k])["rest"]):
            date_at, appendix = last, ((k, n) if k < n else None)
    if date_at is not None:
        found["date"] = (date_at, parse_date(pars[date_at]))
        end, signer = _signature_before(pars, date_at)
        if signer:
            found["signature"] = signer
        while end > header_end and (m := ATTACHMENT_LINE_RE.match(pars[end - 1])) and m["rest"]:
            end -= 1   # 附件：X — the list of attachments above the signature
    elif "header_date" in found:
        found["date"] = found["header_date"]
    return Layout((0, header_end), None, (header_end, end), date_at, appendix), found


def read_facts(pars: list[str], layout: Layout, found: dict, *, tampered: bool = False,
               meta: dict | None = None) -> Facts:
    meta = meta or {}
    notes = []
    num = found.get("number")
    m = num[1] if num else None
    doc_number = canonical_number(m) if m else ""
    if m is not None and "year" not in m.groupdict() and not m["prefix"] and "order_heading" in found:
        doc_number = pars[found["order_heading"]] + doc_number
    if not doc_number and (meta_number := meta.get("发文字号") or meta.get("文号") or meta.get("number")):
        if mm := number_of(meta_number.strip()):
            m, doc_number = mm, canonical_number(mm)
            notes.append("number from the page's metadata")
    if not doc_number and "promulgation" in found:
        note = pars[found["promulgation"]]
        if mm := NUMBER_IN_TEXT_RE.search(note):
            doc_number = mm.group(0).split("日", 1)[-1] if mm["prefix"] else mm.group(0)
            m = number_of(doc_number) if mm["prefix2"] else ORDER_RE.match(doc_number)
            notes.append("number from the note under the title (the text as first made)")
    title_lines = tuple(pars[j] for j in found["title_at"])
    notice_title = "".join(title_lines)
    if not notice_title and "order_heading" in found:     # 云南省人民政府令 (第231号 below it)
        notice_title = pars[found["order_heading"]]
    if not notice_title and (meta_title := meta.get("标题")):
        notice_title = meta_title
        notes.append("title from the page's metadata")
    if layout.attachment_title:
        title = "".join(pars[slice(*layout.attachment_title)])
    else:
        title = notice_title
    issuer, issuer_from = "", ""
    if not tampered and (t := issuer_from_title(notice_title)):
        issuer, issuer_from = t, "title"
    elif not tampered and "order_heading" in found:
        issuer, issuer_from = pars[found["order_heading"]].removesuffix("令"), "title"
    elif not tampered and found.get("signature"):
        issuer, issuer_from = found["signature"], "signature"
    prefix = (m["prefix"] or "") if m else ""
    if not issuer and prefix.endswith("令"):     # 上海市人民政府令第85号: the order names its issuer
        issuer, issuer_from = prefix.removesuffix("令"), "order"
    if not issuer and prefix:
        if by_prefix := issuer_prefixes().get(prefix):
            issuer, issuer_from = by_prefix, "number prefix"
            notes.append(f"issuer inferred from the document number prefix {prefix}"
                         + (": the page's issuer name was replaced by spam" if tampered else ""))
    if not issuer and (meta_issuer := meta.get("发文机关") or meta.get("发布机构") or meta.get("发布单位")):
        issuer, issuer_from = meta_issuer, "header"
        notes.append("issuer from the page's metadata")
    if not issuer:
        notes.append("issuer not stated in the text and not known from the number")
    date = found.get("date", (None, ""))[1]
    if not date and "promulgation" in found and (dm := DATE_IN_TEXT_RE.search(pars[found["promulgation"]])):
        date = parse_date(dm.group(0)) or ""
    if not date and (meta_date := meta.get("成文日期") or meta.get("发布日期")):
        date = parse_date(meta_date.strip()) or _iso(meta_date)
        if date:
            notes.append("date from the page's metadata")
    addressees = ()
    if "addressees" in found:
        line = pars[found["addressees"]].rstrip(":：")
        addressees = tuple(a for a in re.split(r"[,，]", line) if a)
    attachments = _attachments(pars)
    return Facts(doc_number, prefix, (m.groupdict().get("year") or "") if m else "",
                 m["serial"] if m else "", title_lines, notice_title, title, issuer, issuer_from, date,
                 addressees, attachments, tuple(notes))


def _iso(value: str) -> str:
    m = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value.strip())
    return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" if m else ""


def _attachments(pars: list[str]) -> tuple[str, ...]:
    """Titles listed after 附件： (one line, or numbered lines after it)."""
    out = []
    for i, p in enumerate(pars):
        m = ATTACHMENT_LINE_RE.match(p)
        if not m or len(p) > 80:
            continue
        rest = m["rest"].strip()
        if rest:
            out.append(re.sub(r"^\d{1,2}\s*[.．、]\s*", "", rest))
            for q in pars[i + 1:i + 10]:
                if mm := re.match(r"^\d{1,2}\s*[.．、]\s*(.+)$", q):
                    if len(q) <= 60 and not (SENTENCE_PUNCT & set(q)):
                        out.append(mm[1])
                        continue
                break
            break
    return tuple(dict.fromkeys(x.strip("《》") for x in out))


def check_readable(pars: list[str], *, source: str) -> None:
    """Refuse text that is not a document: too little of it, or hardly any Chinese."""
    text = "".join(pars)
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    if han < 40:
        raise CorpusError(f"{source}: {han} Chinese characters after the page chrome was removed; this is not the "
                          "text of a Chinese official document (give the document itself: .txt, .html, .docx or .pdf)")
