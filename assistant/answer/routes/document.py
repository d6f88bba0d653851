"""A document's own facts: title, number, date of issue, issuer, addressees, the national document it
implements — for questions asking for one of these (42号文件的标题, When was document 41 issued?)."""
from __future__ import annotations

import re

from ..agency_names import agency_english
from ...errors import UnknownClause
from ..question import Question
from ..response import Answer, Citation
from ..text import bigrams, overlap
from . import Context

IMPLEMENTED_RE = re.compile(r"《[^》]+》\([^()]*〔\d{4}〕\d+号\)")


def which_document(q: Question, ctx: Context):
    """The document asked about: named by number, by the words of its title, else the best-ranked clause's."""
    if q.doc:
        try:
            return ctx.catalog.document(q.doc)
        except UnknownClause:  # a number that is not one of ours names no document here
            return None
    if not q.english:
        qb = bigrams(q.text)
        scored = [(overlap(qb, d.title) * len(qb) / max(len(bigrams(d.title)), 1), d) for d in ctx.catalog.documents]
        score, doc = max(scored, key=lambda x: x[0])
        if score >= 0.5:
            return doc
    hits = ctx.retriever.search(q.text, top_k=1)
    return ctx.catalog.document(hits[0].clause.doc_key) if hits else None


def answer(q: Question, ctx: Context, *, context_doc: str | None = None) -> Answer | None:
    wanted = q.docfacts
    if not wanted:
        return None
    doc = which_document(q, ctx)
    if doc is None:
        return None
    clause = ctx.catalog.by_id[f"{doc.key}-notice"]
    parts, span = [], None

    def located(text: str) -> tuple[int, int] | None:
        """The first fact found in the notice is the answering span."""
        i = clause.text.find(text)
        return span or ((i, i + len(text)) if i >= 0 else None)

    for k in wanted:
        if k == "title":
            parts.append(f"《{doc.title}》" + (f" (issued with 《{doc.notice_title}》)" if q.english
                                              else f"（以《{doc.notice_title}》印发）"))
            span = located(doc.title)
        elif k == "number":
            parts.append(doc.doc_number)
            span = located(doc.doc_number)
        elif k == "date":
            y, m, d = (int(x) for x in doc.issue_date.split("-"))
            written = f"{y}年{m}月{d}日"
            parts.append(doc.issue_date if q.english else written)
            span = located(written)
        elif k == "issuer":
            name = agency_english(doc.issuer) if q.english else doc.issuer
            note = (" (inferred from the document number: the source page was tampered with)" if q.english
                    else "（据文号推定：来源网页的发文机关处被篡改）") if doc.issuer_inferred else ""
            parts.append(name + note)
        elif k == "addressees":
            parts.append(("; " if q.english else "，").join(doc.addressees))
        elif k == "implements":
            pre = ctx.catalog.by_id.get(f"{doc.key}-preamble")
            m = IMPLEMENTED_RE.search(pre.text) if pre else None
            if m:
                clause, span = pre, (m.start(), m.end())
                parts.append(m.group(0))
    if not parts:
        return None
    # a question for the title names the document otherwise: by its number
    title = doc.doc_number if "title" in wanted else f"《{doc.title}》"
    line = f"{title}: " + "; ".join(parts) if q.english else f"{title}：" + "，".join(parts)
    cit = Citation.of(clause, span=span, english=ctx.renderings.get(clause.clause_id))
    return Answer(q.raw, True, line, (cit,), lang=q.lang, kind="document")
