"""An agency's provisions: '省环保厅牵头哪些工作？', 'What does the Provincial Finance Department lead?'.

Only when the agency is all the question is about: "What does the environment department need to do about
tailings ponds?" names a topic and is answered from the clause on tailings ponds, not with a list."""
from __future__ import annotations

import re

from ..agency_names import agency_english
from ..question import Question, lexicon
from ..response import Answer, Citation
from . import Context

ROLE_LABELS_ZH = {"lead": "牵头", "participants": "参与", "responsible": "负责"}
ROLE_LABELS_EN = {"lead": "leads", "participants": "takes part in", "responsible": "is responsible for"}


def _agency(q: Question, ctx: Context) -> tuple[str, str] | None:
    """(the agency as the documents name it, the words naming it in the question)."""
    if q.english:
        for en, zh in ctx.glossary.en_to_zh:
            if zh in ctx.agencies and re.search(rf"\b{re.escape(en)}\b", q.text.lower()):
                return zh, en
        return None
    for a in ctx.agencies:
        if a in q.text:
            return a, a
    for alias in (ctx.glossary.aliases or {}):
        if alias in q.text:
            return ctx.glossary.canonical(alias), alias
    return None


def _only_the_agency(q: Question, written: str, tokenize) -> bool:
    """Once the agency and the words asking for its tasks are taken out, nothing else is asked about."""
    rest = q.text.lower().replace(written.lower(), " ")
    lex = lexicon()
    for kind in ("tasks_of", "lead", "participants"):
        rest = lex.asks[kind][q.lang].sub(" ", rest)
    rest = lex.intent_zh.sub(" ", rest) if not q.english else rest
    return not [t for t in tokenize(rest) if len(t) > 1 and t not in {"provincial", "department", "commission",
                                                                        "bureau", "office", "工作", "任务", "事情"}]


def answer(q: Question, ctx: Context, *, context_doc: str | None = None) -> Answer | None:
    if not q.asking("tasks_of"):
        return None
    found_agency = _agency(q, ctx)
    if not found_agency or not _only_the_agency(q, found_agency[1], ctx.retriever.index.tokenizer.tokenize):
        return None
    agency = found_agency[0]
    role = "lead" if re.search(r"牵头|\blead", q.text, re.I) else "participants" if q.asking("participants") else None
    found = []
    for c in ctx.catalog.clauses:
        for r in ctx.catalog.records_of(c.clause_id).responsibilities:
            roles = [k for k in ("lead", "participants", "responsible") if any(u.name == agency for u in getattr(r, k))]
            if roles and (role is None or role in roles):
                found.append((c, r, roles[0]))
                break
    name = agency_english(agency) if q.english else agency
    if not found:
        return Answer(q.raw, False, (f"{name} is not named as {ROLE_LABELS_EN.get(role, 'responsible for')} "
                                     "any provision" if q.english
                                     else f"文件中没有{agency}{ROLE_LABELS_ZH.get(role, '负责')}的条款"),
                      reason="no provision names this agency in that role", lang=q.lang, kind="not_stated")
    cits = tuple(Citation.of(c, span=(r.covers[0] - c.start, r.end - c.start),
                             english=ctx.renderings.get(c.clause_id)) for c, r, _ in found)
    listing = ("; " if q.english else "；").join(f"{c.doc_number}{c.local_citation}" for c, _, _ in found[:8])
    more = (f" and {len(found) - 8} more" if q.english else "等") if len(found) > 8 else ""
    if q.english:
        line = f"{name} {ROLE_LABELS_EN.get(role, 'is named in')} {len(found)} provision(s): {listing}{more}"
    else:
        line = f"{agency}{ROLE_LABELS_ZH.get(role, '涉及')}{len(found)}项：{listing}{more}"
    return Answer(q.raw, True, line, cits, lang=q.lang, kind="reverse")
