"""A provision asked for by its citation: 41号文第17条, 41号文件第52条, 东北振兴措施第52条, 第52条 (with a document
in context), measure 52 of document 41, 40号文二(五)5, 第二部分第(五)项第5目 (with a document in context); or by its
heading, the way a drafter names one (清洁土壤行动计划的主要指标, 加快推进不良贷款处置). Only the citation (and words
asking for its text) makes a lookup; a question that also asks something ("41号第17条由谁负责？") is answered from
that clause."""
from __future__ import annotations

import re

from ...ingest.clauses import Clause, find_clause
from ...errors import UnknownClause
from ...search.passages import is_heading_only
from ..question import Question
from ..response import Answer
from ...search.retrieval import Hit
from ..text import bigrams, norm, overlap
from . import Context, provision

CITE_IN_TEXT = re.compile(r"(?:[\u4e00-\u9fff]{1,8}〔\d{4}〕)?\d{1,4}号(?:文件|文)?\s*的?(?:前言|序言|结语|印发通知)?"
                          r"(?:第?[一二三四五六七八九十]+(?:部分|、)?)?"
                          r"(?:第?\([一二三四五六七八九十]+\)项?)?(?:第?\d{1,3}条?)?(?:第?\(\d{1,3}\)目?)?")
# a citation within a document, without the document's number: 第二部分第(五)项第5目, 二(五)5
LOCAL_CITE = re.compile(r"第[一二三四五六七八九十]+部分(?:第?\([一二三四五六七八九十]+\)项?)?(?:第?\d{1,3}目?)?|"
                        r"[一二三四五六七八九十]+(?:部分)?第?\([一二三四五六七八九十]+\)项?(?:第?\d{1,3}目?)?")
MEASURE_ZH = re.compile(r"第\s*(?P<n>\d{1,3})\s*条")
MEASURE_EN = re.compile(r"\b(?:measure|article|item)\s+(?:no\.?\s*)?(?P<n>\d{1,3})\b", re.I)
# what may stand beside a bare citation: the words asking for its text
# the number a heading is printed with: 一、 (五) 5. ——
HEADING_MARK = re.compile(r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d{1,3}[.、]|——)")
# A heading this short (总体要求, 主要指标, 保障措施) is one most plans have: it names a provision only together
# with its document (by number, by its title's words, or the document in context).
GENERIC_HEADING = 6
MIN_HEADING = 4
FILLER = re.compile(r"原文|全文|内容|条款|规定|具体|是什么|是啥|讲的?(是)?(什么|啥)|说的?(是)?(什么|啥)|写的?(是)?(什么|啥)|"
                    r"请|给出|显示|查看|看看|一下|的|了|吗|呢|是|[\s?？。,，:：!！]|"
                    r"\b(show|me|the|text|of|what|is|does|say|says|full|in|please|give|provision)\b", re.I)


def _document_named(q: Question, ctx: Context, before: str) -> str | None:
    """The document a citation belongs to: named by number, by words of its title, or the only document
    that numbers its measures straight through."""
    if q.doc:
        return q.doc
    key = _document_titled(ctx, before)
    if key:
        return key
    measured = {c.doc_key for c in ctx.catalog.clauses if c.level == "measure"}
    return measured.pop() if len(measured) == 1 else None


def _document_titled(ctx: Context, before: str) -> str | None:
    """The document whose title the words before a citation name (东北振兴措施), if any."""
    words = bigrams(before)
    if len(words) >= 2:
        score, key = max((overlap(words, d.title + d.notice_title), d.key) for d in ctx.catalog.documents)
        if score >= 0.5:
            return key
    return None


def heading(clause: Clause) -> str:
    """The clause's own heading without its number: the label of a labelled paragraph (主要指标), or the heading
    its text opens with (加快推进不良贷款处置 of "78.加快推进不良贷款处置。"); "" for a clause without one."""
    if clause.label:
        return norm(clause.label).strip(" :：")
    if not clause.trail or clause.level in ("notice", "preamble", "closing"):
        return ""
    own = norm(clause.trail[-1]).rstrip("…").strip()
    if not norm(clause.text).startswith(own):
        return ""   # an unlabelled paragraph: the trail's last heading is its parent's
    return HEADING_MARK.sub("", own).rstrip("。:：,，").strip()


def named_headings(catalog) -> list[tuple[str, Clause]]:
    """(heading, clause) of each clause whose heading is long enough to name it and that has content of its own
    (a bare part heading, 二、重点任务, has its content in its items)."""
    out = []
    for c in catalog.clauses:
        h = heading(c)
        if len(h) >= MIN_HEADING and not is_heading_only(c, bool(catalog.children(c.clause_id))):
            out.append((h, c))
    return out


def headed_clause(q: Question, ctx: Context, *, context_doc: str | None = None) -> tuple[Clause, str] | None:
    """(clause, its heading) when the question names a provision by its whole heading: the longest heading it
    contains, if one clause with content has it in the document the question names — or, when it names none, in
    the library (a heading long enough to name one provision) or in the conversation's document; None otherwise."""
    text = norm(q.text)
    found = [(h, c) for h, c in ctx.headings if h in text]
    if not found:
        return None
    longest = max(len(h) for h, _ in found)
    h = next(h for h, _ in found if len(h) == longest)
    having = [c for hh, c in found if hh == h]
    doc = q.doc or _document_titled(ctx, text[:text.index(h)])
    if doc is None and (len(having) > 1 or len(h) < GENERIC_HEADING):
        doc = context_doc   # the conversation's document tells a heading several documents have
    named = [c for c in having if doc is None or c.doc_key == doc]
    if len(named) != 1 or (len(h) < GENERIC_HEADING and doc is None):
        return None
    return named[0], h


def cited_clause(q: Question, ctx: Context, *, context_doc: str | None = None) -> tuple[Clause, str] | None:
    """(clause, the citation as written) when the question names a clause by its citation or its heading;
    None otherwise."""
    text = norm(q.text)
    clauses = list(ctx.catalog.clauses)
    for cand in [m.group(0) for m in CITE_IN_TEXT.finditer(text)]:
        try:
            return find_clause(clauses, cand), cand
        except UnknownClause:
            continue
    local = None if q.english else LOCAL_CITE.search(text)
    if local:
        doc = q.doc or _document_titled(ctx, text[:local.start()]) or context_doc
        if doc:
            try:
                return find_clause(clauses, CITE_IN_TEXT.match(f"{doc}号{local.group(0)}").group(0)), text[:local.end()]
            except UnknownClause:
                pass
    m = MEASURE_EN.search(text) if q.english else MEASURE_ZH.search(text)
    if m:
        doc = _document_named(q, ctx, text[:m.start()]) or context_doc
        if doc:
            try:
                return find_clause(clauses, f"{doc}号 第{m['n']}条"), text[:m.end()]
            except UnknownClause:
                return None
    return None if q.english else headed_clause(q, ctx, context_doc=context_doc)


def is_bare(q: Question, written: str) -> bool:
    """Nothing but the citation and words asking for its text."""
    rest = norm(q.text).replace(written, " ", 1)
    rest = re.sub(r"\b(?:of|in)\s+(?:document|doc\.?|no\.?)\s*\d{1,4}\b|\d{1,4}号(?:文件|文)?", " ", rest, flags=re.I)
    rest = MEASURE_EN.sub(" ", rest)
    return len(FILLER.sub("", rest)) <= 2 or bigrams(FILLER.sub("", rest)) <= bigrams(written)


def answer(q: Question, ctx: Context, *, context_doc: str | None = None) -> Answer | None:
    found = cited_clause(q, ctx, context_doc=context_doc)
    if not found or not is_bare(q, found[1]):
        return None
    clause = found[0]
    hit = Hit(clause, 1.0, {}, provision.sentences_of(clause, q, ctx))
    return provision.answer(q, hit, [], ctx, kind="lookup")
