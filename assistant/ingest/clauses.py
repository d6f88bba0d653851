"""Documents → citable `Clause` tree, following the official hierarchy of Chinese government documents.

Markers rank 一、 (part) > (一) (item) > 1. (sub-item) > (1) (sub-sub-item) > —— (dash item). A clause
is a numbered provision: its marker paragraph plus the unnumbered paragraphs that continue it. Labelled
paragraphs (``基本原则:…``) are clauses of their own, and so are the preamble before the first part, a
closing paragraph after the last provision, and the notice. Nothing here knows the expected headings:
levels come from the marker types, and numbering that runs across the whole document (doc 41's
measures 1.–88.) is detected from the numbers themselves.

Citation forms (``《title》（doc number）`` + a local part):
  part 第二部分 · item 第二部分第（三）项 · sub-item 第二部分第（五）项第5条 · sub-sub-item …第（1）目 ·
  document-wide numbered measure 第17条 · dash item or labelled paragraph: its parent + “its title” ·
  preamble 前言 · closing 结语 · notice: 《notice title》（doc number）.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .corpus import Document
from ..errors import UnknownClause

CN_DIGITS = "一二三四五六七八九"
CN_NUM = r"[一二三四五六七八九十百零〇]+"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# (type, regex); the order is the official rank, highest first. Chapters, sections and articles are the
# layout of regulations and orders (第三章 / 第一节 / 第十二条); parts to dash items that of notices and plans.
MARKERS = (
    ("attachment", re.compile(r"^附\s*件\s*(?P<n>\d{0,2})\s*[:：]?$")),
    ("chapter", re.compile(rf"^第(?P<n>{CN_NUM}|\d{{1,3}})章")),
    ("section", re.compile(rf"^第(?P<n>{CN_NUM}|\d{{1,3}})节")),
    ("article", re.compile(rf"^第(?P<n>{CN_NUM}|\d{{1,3}})条")),
    ("part", re.compile(rf"^(?P<n>{CN_NUM})、")),
    ("item", re.compile(rf"^[(（](?P<n>{CN_NUM})[)）]")),
    ("box", re.compile(r"^专栏\s*(?P<n>\d{1,2}|[一二三四五六七八九十]{1,3})")),
    ("subitem", re.compile(r"^(?P<n>\d{1,3})(?:[.．﹒](?!\d)|、)")),
    ("subsubitem", re.compile(r"^[(（](?P<n>\d{1,3})[)）]")),
    ("circled", re.compile(rf"^(?P<n>[{CIRCLED}])")),
    ("dash", re.compile(r"^——")),
)
RANK = {name: i for i, (name, _) in enumerate(MARKERS)}
LABEL_RE = re.compile(r"^(?P<label>[\u4e00-\u9fff]{2,8})[:：]")
TRAIL_SEP = " › "


def cn_to_int(s: str) -> int:
    """Chinese numeral up to 999: 十 → 10, 十四 → 14, 二十三 → 23, 一百零二 → 102."""
    if s.isdigit():
        return int(s)
    s = s.replace("零", "").replace("〇", "")
    if "百" in s:
        hundreds, _, rest = s.partition("百")
        return (CN_DIGITS.index(hundreds) + 1 if hundreds else 1) * 100 + (cn_to_int(rest) if rest else 0)
    if not s:
        return 0
    if "十" not in s:
        return CN_DIGITS.index(s) + 1
    tens, _, ones = s.partition("十")
    return (CN_DIGITS.index(tens) + 1 if tens else 1) * 10 + (CN_DIGITS.index(ones) + 1 if ones else 0)


@dataclass(frozen=True)
class Clause:
    clause_id: str          # stable: "<doc key>-<path>", e.g. 40-2.5.5, 41-1.2.17, 40-1.p2, 42-notice
    doc_key: str
    doc_number: str
    title: str              # the document's (attachment's) title
    level: str              # notice | preamble | part | item | subitem | measure | subsubitem | dash | paragraph | closing
    number: str             # as printed: 二 / 三 / 5 / 17; "" for unnumbered clauses
    label: str              # run-in title of a dash item or labelled paragraph, else ""
    trail: tuple[str, ...]  # headings from the part down to this clause
    local_citation: str     # 第二部分第（五）项第5条
    citation: str           # 《吉林省清洁土壤行动计划》（吉政发〔2016〕40号）第二部分第（五）项第5条
    text: str               # verbatim; equals document.text[start:end]
    start: int
    end: int
    parent_id: str | None

    @property
    def heading(self) -> str:
        return TRAIL_SEP.join(self.trail)


def _heading_of(par: str, limit: int = 24) -> str:
    """Short heading of a marker paragraph: its first sentence, cut at a comma when long."""
    first = re.split(r"[。:：]", par, maxsplit=1)[0]
    if len(first) > limit:
        first = re.split(r"[,，;；]", first, maxsplit=1)[0]
    return first if len(first) <= limit + 8 else first[:limit] + "…"


def _is_heading_only(par: str) -> bool:
    """A title line whose body follows in the next paragraphs, e.g. (三)推动东部地区土壤生态功能提升。"""
    return len(par) <= 40 and "。" not in par.rstrip("。") and not re.search(r"[;；:：]", par)


def marker_of(par: str) -> tuple[str, str] | None:
    for name, rx in MARKERS:
        if m := rx.match(par):
            return name, m.groupdict().get("n") or ""
    return None


@dataclass
class _Node:
    """A clause under construction."""

    level: str
    number: str
    label: str
    start: int
    end: int
    parent: "_Node | None"
    heading: str
    rank: int
    path: str = ""
    heading_only: bool = False
    continued: bool = False


def _paragraph_spans(doc: Document) -> list[tuple[int, int]]:
    spans, pos = [], doc.body_span[0]
    for par in doc.body.split("\n"):
        spans.append((pos, pos + len(par)))
        pos += len(par) + 1
    return spans


def _build_nodes(doc: Document) -> list[_Node]:
    nodes: list[_Node] = []
    stack: list[_Node] = []
    spans = _paragraph_spans(doc)
    if not any(marker_of(doc.text[s:e]) for s, e in spans):
        # a layout without any numbering this parser knows: each paragraph is a provision of its own,
        # cited by its place (第3段) — a readable document is never refused for its layout
        return [_Node("para", str(i + 1), "", s, e, None, _heading_of(doc.text[s:e]), 99)
                for i, (s, e) in enumerate(spans)]
    for start, end in spans:
        par = doc.text[start:end]
        mk = marker_of(par)
        if mk:
            level, number = mk
            while stack and stack[-1].rank >= RANK[level]:
                stack.pop()
            label = _heading_of(par[2:]) if level == "dash" else ""
            node = _Node(level, number, label, start, end, stack[-1] if stack else None,
                         _heading_of(par), RANK[level], heading_only=_is_heading_only(par))
            stack.append(node)
            nodes.append(node)
            continue
        article = next((n for n in reversed(stack) if n.level == "article"), None)
        if article is not None and stack[-1] is not article and stack[-1].level != "kuan":
            # a paragraph after an article's items is the article's next 款 (第十二条第二款), not the last item's
            while stack[-1] is not article:
                stack.pop()
            n_kuan = 1 + sum(1 for n in nodes if n.parent is article and n.level == "kuan")
            node = _Node("kuan", str(n_kuan + 1), "", start, end, article, _heading_of(par), RANK["article"] + 0.5)
            stack.append(node)
            nodes.append(node)
            continue
        lab = LABEL_RE.match(par)
        if lab or not nodes or (not stack and nodes[-1].level != "preamble"):
            level = "paragraph" if lab else ("preamble" if not nodes else "closing")
            nodes.append(_Node(level, "", lab["label"] if lab else "", start, end,
                               stack[-1] if stack else None, lab["label"] if lab else "", 99))
            continue
        nodes[-1].end = end          # continues the clause before it
        nodes[-1].continued = True
    _split_closing(nodes, doc)
    return nodes


def _split_closing(nodes: list[_Node], doc: Document) -> None:
    """Make the document's final paragraph a closing clause when it cannot be a continuation.

    It is one when the last provision had its own text on its marker line and no other provision of
    its kind in the document ever continues into a second paragraph (doc 41's closing exhortation
    after measure 88 — a measure is one paragraph everywhere else).
    """
    last = nodes[-1]
    if not last.continued or last.heading_only or last.level in ("preamble", "paragraph", "closing", "para",
                                                                    "article", "attachment", "chapter", "section"):
        return
    if any(n.continued for n in nodes[:-1] if n.level == last.level):
        return
    cut = doc.text.rfind("\n", last.start, last.end)
    if cut < 0:
        return
    if doc.text[last.start:cut].count("\n"):  # more than one continuation paragraph: leave as it is
        return
    nodes.append(_Node("closing", "", "", cut + 1, last.end, None, "", 99))
    last.end, last.continued = cut, False


def _numbering_is_global(nodes: list[_Node], level: str) -> bool:
    """True when numbers of `level` run on across parents (1…88) instead of restarting in each."""
    nums = [int(n.number) for n in nodes if n.level == level]
    parents = {id(n.parent) for n in nodes if n.level == level}
    return len(parents) > 1 and nums == list(range(1, len(nums) + 1))


def _local_part(node: _Node, global_levels: set[str]) -> str:
    if node.level in ("article", "para", "chapter", "attachment"):
        # articles run through a regulation (第十二条 whatever its chapter); paragraphs through a document
        return {"article": f"第{node.number}条", "para": f"第{node.number}段", "chapter": f"第{node.number}章",
                "attachment": f"附件{node.number}"}[node.level]
    if node.level == "section":
        own = f"第{node.number}节"
    elif node.level == "kuan":
        own = f"第{'一二三四五六七八九十'[int(node.number) - 1] if int(node.number) <= 10 else node.number}款"
    elif node.level == "box":
        own = f"专栏{node.number}"
    elif node.level == "circled":
        own = node.number
    elif node.level == "part":
        own = f"第{node.number}部分"
    elif node.level == "item":
        own = f"第（{node.number}）项"
    elif node.level in ("subitem", "measure"):
        own = f"第{node.number}条"
        if node.level == "measure":
            return own
    elif node.level == "subsubitem":
        own = f"第（{node.number}）目"
    elif node.level in ("dash", "paragraph"):
        own = f"“{node.label}”"
    else:
        return {"preamble": "前言", "closing": "结语"}[node.level]
    return (_local_part(node.parent, global_levels) if node.parent else "") + own


def _path_part(node: _Node, siblings_before: int) -> str:
    if node.level in ("chapter", "section", "article"):
        return f"{node.level[:3]}{cn_to_int(node.number)}"
    if node.level == "kuan":
        return f"k{node.number}"
    if node.level in ("attachment", "box", "para"):
        return f"{node.level[:3]}{node.number or siblings_before + 1}"
    if node.level == "circled":
        return f"o{CIRCLED.index(node.number) + 1}"
    if node.level == "part":
        return str(cn_to_int(node.number))
    if node.level == "item":
        return str(cn_to_int(node.number))
    if node.level in ("subitem", "measure", "subsubitem"):
        return node.number
    return ("d" if node.level == "dash" else "p") + str(siblings_before + 1)


def document_clauses(doc: Document) -> list[Clause]:
    """The notice and every clause of `doc`'s body, in document order."""
    nodes = _build_nodes(doc)
    global_levels = {lv for lv in ("subitem",) if _numbering_is_global(nodes, lv)}
    for n in nodes:
        if n.level in global_levels:
            n.level = "measure"
    prefix = doc.cited_as
    head = "印发通知" if doc.publishes else "文头"
    if doc.doc_number.startswith(doc.notice_title):   # an order: 云南省人民政府令第231号 names itself
        notice_cited = doc.doc_number
    else:
        notice_cited = f"《{doc.notice_title}》（{doc.doc_number}）" if doc.doc_number else f"《{doc.notice_title}》"
    out = [Clause(f"{doc.key}-notice", doc.key, doc.doc_number, doc.title, "notice", "", "", (head,),
                  head, notice_cited, doc.notice, *doc.notice_span, None)] if doc.notice else []
    counts: dict[tuple[int, str], int] = {}
    for n in nodes:
        key = (id(n.parent), n.level)
        before = counts.get(key, 0)
        counts[key] = before + 1
        if n.level in ("preamble", "closing"):
            n.path = n.level
        else:
            own = _path_part(n, before)
            n.path = f"{n.parent.path}.{own}" if n.parent else own
        trail, p = [], n
        while p:
            if p.heading:
                trail.append(p.heading)
            p = p.parent
        local = _local_part(n, global_levels)
        out.append(Clause(
            clause_id=f"{doc.key}-{n.path}", doc_key=doc.key, doc_number=doc.doc_number, title=doc.title,
            level=n.level, number=n.number, label=n.label, trail=tuple(reversed(trail)) or (local,),
            local_citation=local, citation=prefix + local, text=doc.text[n.start:n.end],
            start=n.start, end=n.end,
            parent_id=f"{doc.key}-{n.parent.path}" if n.parent else None))
    return out


def all_clauses(docs: list[Document]) -> list[Clause]:
    return [c for d in docs for c in document_clauses(d)]


# ---- lookup by id or by citation form ------------------------------------------------------------

_CITE_RE = re.compile(
    rf"^(?:第?(?P<part>{CN_NUM})(?:部分|、)?)?"
    rf"(?:第?\((?P<item>{CN_NUM})\)项?)?"
    r"(?:第?(?P<sub>\d{1,3})条?)?"
    r"(?:第?\((?P<subsub>\d{1,3})\)目?)?$")
_DOC_RE = re.compile(r"(?:(?P<pre>[\u4e00-\u9fff]{1,8}〔\d{4}〕|[\u4e00-\u9fff]{2,24}令第)?(?P<key>\d{1,5})号(?:文件|文)?|(?:document|doc\.?|no\.?)\s*(?P<key2>\d{1,4}))",
                     re.IGNORECASE)


_NAMED = {"前言": "preamble", "序言": "preamble", "preamble": "preamble", "结语": "closing",
          "closing": "closing", "印发通知": "notice", "通知": "notice", "notice": "notice"}
_NAMED_PART = re.compile("|".join(sorted(_NAMED, key=len, reverse=True)), re.IGNORECASE)


def parse_citation(query: str) -> tuple[str, tuple[int | None, int | None, int | None, int | None]] | None:
    """'40号 二(五)5' / '41号 第17条' / '吉政发〔2016〕40号第二部分第（三）项' → (doc key, (part, item, sub, subsub))."""
    q = unicodedata.normalize("NFKC", query).strip()
    m = _DOC_RE.search(q)
    if not m:
        return None
    key = m["key"] or m["key2"]
    rest = re.sub(r"[\s《》]|文件|文", "", q[:m.start()] + q[m.end():])
    c = _CITE_RE.match(rest)
    if not c or not any(c.groupdict().values()):
        return None
    part = cn_to_int(c["part"]) if c["part"] else None
    item = cn_to_int(c["item"]) if c["item"] else None
    return key, (part, item, int(c["sub"]) if c["sub"] else None, int(c["subsub"]) if c["subsub"] else None)


def _doc_key(clauses: list[Clause], m: re.Match) -> str:
    """The key of the document a citation names: by its full number when given (国办发〔2019〕4号), else its serial."""
    key = m["key"] or m["key2"]
    if m["pre"]:
        number = f"{m['pre']}{key}号"
        for c in clauses:
            if unicodedata.normalize("NFKC", c.doc_number) == number:
                return c.doc_key
    return key


_ARTICLE_RE = re.compile(rf"^(?:第(?:{CN_NUM}|\d+)章)?(?:第(?:{CN_NUM}|\d+)节)?第(?P<n>{CN_NUM}|\d+)条(?P<rest>.*)$")


def _norm_cite(s: str) -> str:
    return re.sub(r"[\s《》“”\"]|文件|文", "", unicodedata.normalize("NFKC", s))


def _by_local_citation(clauses: list[Clause], key: str, q: str, doc: re.Match) -> Clause | None:
    """A clause of document `key` by its own citation form: 第十二条, 第三章第十二条 (articles run through the
    chapters), 第12条第（一）项, 附件1第二部分, 第3段."""
    rest = _norm_cite(q[:doc.start()] + q[doc.end():])
    mine = [c for c in clauses if c.doc_key == key]
    for c in mine:
        if _norm_cite(c.local_citation) == rest:
            return c
    if m := _ARTICLE_RE.match(rest):
        n = cn_to_int(m["n"])
        for c in mine:
            if c.level == "article" and cn_to_int(c.number) == n:
                if not m["rest"]:
                    return c
                tail = _norm_cite(c.local_citation) + m["rest"]
                return next((x for x in mine if _norm_cite(x.local_citation) == tail), None)
    return None


def find_clause(clauses: list[Clause], query: str) -> Clause:
    """A clause by its id (40-2.5.5) or citation form (40号 二(五)5, 41号 第17条); UnknownClause if none."""
    q = query.strip()
    for c in clauses:
        if c.clause_id == q:
            return c
    named = _NAMED_PART.search(q)
    doc = _DOC_RE.search(unicodedata.normalize("NFKC", q))
    if named and doc:
        cid = f"{doc['key'] or doc['key2']}-{_NAMED[named.group(0).lower()]}"
        for c in clauses:
            if c.clause_id == cid:
                return c
    parsed = parse_citation(q)
    if parsed:
        key, (part, item, sub, subsub) = parsed
        key = _doc_key(clauses, doc) if doc else key
        want = [str(x) for x in (part, item, sub, subsub) if x is not None]
        if part is None and item is None and sub is not None and subsub is None:
            # 第1条 in a document numbered in measures is measure 1, not the part whose path is also "1"
            for c in clauses:
                if c.doc_key == key and c.level == "measure" and c.clause_id.rsplit(".", 1)[-1] == str(sub):
                    return c
        for c in clauses:
            if c.doc_key != key or c.level in ("notice", "preamble", "closing", "paragraph", "dash"):
                continue
            path = c.clause_id.split("-", 1)[1].split(".")
            if c.level == "measure" and part is None and item is None and sub is not None:
                if path[-1] == str(sub) and subsub is None:
                    return c
                continue
            if path == want:
                return c
    if doc and (c := _by_local_citation(clauses, _doc_key(clauses, doc), unicodedata.normalize("NFKC", q), doc)):
        return c
    raise UnknownClause(
        f"no clause {query!r}: use a clause id such as 40-2.5.5 (see `python -m assistant clauses`) "
        "or a citation form such as '40号 二(五)5' or '41号 第17条'")
