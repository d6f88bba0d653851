"""Ranked clauses → an `Answer`: one direct line, the verbatim provision with the answering span, citations.

No language model: the direct line comes from the clause's parsed records (who leads, who takes part,
targets, dates), the document's own facts (number, date, issuer), or is the clause's best-matching
sentence (by sentence-level dense similarity, precomputed at build), so every word is in the source or
in the glossary. Questions the documents do not answer are refused below a calibrated threshold.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .catalog import Catalog
from .clauses import Clause, find_clause
from .errors import BadQuestion, UnknownClause
from .glossary import is_english, load_glossary, load_renderings
from .intents import (CITE_IN_TEXT, DOCFACT_EN, DOCFACT_ZH, EN_MEASURE, FULL_TEXT, IMPLEMENTED_RE, PART_EN, PART_ZH,
                      REVERSE_EN, REVERSE_ZH, ROLE_LABELS_EN, ROLE_LABELS_ZH, TARGET_EN, TARGET_ZH, WHEN_EN, WHEN_ZH,
                      WHO_EN, WHO_ZH, bigrams, clean_question, is_bare_citation, norm, overlap)
from .phrasing import owners_line, target_line, units_en, units_zh
from .records import Target, owners_at
from .retrieval import Hit, Retriever, Sentence

MAX_QUESTION_CHARS = 500
NOT_COVERED_ZH = "文件中未涉及"
NOT_COVERED_EN = "Not covered by these documents"
# Refuse when the best clause covers less than this IDF-weighted share of the question's content words.
# Calibrated with eval/calibrate.py on the dev set, eval/extra.jsonl and eval/offtopic.jsonl (README).
MIN_COVERAGE = 0.40
RATE_RE = re.compile(r"[\u4e00-\u9fff]{2,12}?率")
REGION_PREFIX = re.compile(r"^(吉林省|全省|我省|本省|吉林|各地|各市)")


@dataclass(frozen=True)
class Citation:
    clause_id: str
    doc_number: str
    title: str
    citation: str
    heading: str
    text: str
    score: float
    span: tuple[int, int] | None = None   # offsets of the answering span within `text`
    english: str | None = None            # unofficial English rendering of the clause, if any

    @classmethod
    def of(cls, clause: Clause, *, score: float = 1.0, span: tuple[int, int] | None = None,
           english: str | None = None) -> "Citation":
        return cls(clause.clause_id, clause.doc_number, clause.title, clause.citation, clause.heading, clause.text,
                   score, span, english)

    def _replace_span(self, span: tuple[int, int] | None = None) -> "Citation":
        """The same citation with the answering span set to `span` (default: the whole text)."""
        from dataclasses import replace
        return replace(self, span=span or (0, len(self.text)))

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("clause_id", "doc_number", "title", "citation", "heading", "text",
                                           "score", "english")}
        d["span"] = list(self.span) if self.span else None
        return d


@dataclass(frozen=True)
class Answer:
    question: str
    found: bool
    answer: str
    citations: tuple[Citation, ...] = ()
    reason: str = ""
    lang: str = "zh"
    kind: str = "general"

    def to_dict(self) -> dict:
        return {"question": self.question, "found": self.found, "answer": self.answer, "lang": self.lang,
                "kind": self.kind, "reason": self.reason, "citations": [c.to_dict() for c in self.citations]}


class Answerer:
    def __init__(self, retriever: Retriever):
        self.retriever = retriever
        self.catalog: Catalog = retriever.index.catalog
        self.glossary = load_glossary()
        self.renderings = load_renderings()
        self.agencies = sorted(self.catalog.unit_names | set(self.glossary.agencies()), key=len, reverse=True)

    # ---- public ----------------------------------------------------------------------------------
    def ask(self, question: str, *, top_k: int = 5, doc: str | None = None) -> Answer:
        q = clean_question(question)
        if len(q) > MAX_QUESTION_CHARS:
            raise BadQuestion(f"the question has {len(q)} characters; the limit is {MAX_QUESTION_CHARS}. "
                              "Ask about one provision at a time.")
        english = is_english(q)
        lang = "en" if english else "zh"
        if not re.search(r"[^\W_]", q):
            return Answer(question, False, "Please type a question." if english else "请输入问题。",
                          reason="empty question", lang=lang, kind="empty")
        cited = self._cited_clause(q)
        if cited and is_bare_citation(q):
            return self._answer_clause(question, q, Hit(cited, 1.0), [], english, kind="lookup")
        facts = self._doc_fact(question, q, english)
        if facts:
            return facts
        reverse = self._reverse(question, q, english)
        if reverse:
            return reverse
        hits = self.retriever.search(q, top_k=max(top_k, 20 if self._asked_rates(q, english) else 1), doc=doc)
        hits = self._prefer_stated_rate(hits, q, english)[:max(top_k, 1)]
        if cited:
            hits = [Hit(cited, hits[0].score if hits else 1.0, {}, self._sentences_of(cited, q, english))] + \
                   [h for h in hits if h.clause.clause_id != cited.clause_id]
        if not hits:
            return Answer(question, False, NOT_COVERED_EN if english else NOT_COVERED_ZH,
                          reason="no clause matches", lang=lang, kind="refusal")
        top = hits[0]
        refuse = self._refusal_reason(top, q, english) if not cited else ""
        if refuse:
            related = tuple(self._citation(h, q, english) for h in hits[:3])
            return Answer(question, False, NOT_COVERED_EN if english else NOT_COVERED_ZH, related,
                          reason=refuse, lang=lang, kind="refusal")
        return self._answer_clause(question, q, top, hits[1:top_k], english)

    # ---- pieces ----------------------------------------------------------------------------------
    @staticmethod
    def _asked_rates(q: str, english: bool) -> list[str]:
        """Rates a Chinese question names (森林覆盖率, 秸秆利用率), without a leading region."""
        if english:
            return []
        return [r for r in (REGION_PREFIX.sub("", m.group(0)) for m in RATE_RE.finditer(q)) if len(r) >= 3]

    @staticmethod
    def _states_rate(clause: Clause, rate: str) -> bool:
        return any(set(rate) <= set(m.group(0)) for m in RATE_RE.finditer(clause.text))

    def _prefer_stated_rate(self, hits: list[Hit], q: str, english: bool) -> list[Hit]:
        """A question for a named rate is answered by the best-ranked clause that states that rate."""
        rates = self._asked_rates(q, english)
        if not rates or not hits:
            return hits
        stating = [h for h in hits if all(self._states_rate(h.clause, r) for r in rates)]
        return stating[:1] + [h for h in hits if not stating or h is not stating[0]]

    def _refusal_reason(self, top: Hit, q: str, english: bool) -> str:
        cov = top.signals.get("coverage", 1.0)
        if cov < MIN_COVERAGE:
            return f"the nearest provision covers {cov:.2f} of the question's terms (threshold {MIN_COVERAGE})"
        for rate in self._asked_rates(q, english):  # 森林覆盖率 needs a provision that states that rate
            if not self._states_rate(top.clause, rate):
                return f"no provision near the question states {rate}"
        return ""

    def _cited_clause(self, q: str) -> Clause | None:
        """A clause the question names by citation (41号文第17条, 40号 二(五)5, measure 64 of document 41)."""
        clauses = list(self.catalog.clauses)
        candidates = [q] + [m.group(0) for m in CITE_IN_TEXT.finditer(norm(q))]
        en = EN_MEASURE.search(q)
        if en:
            doc = en["doc"] or next((c.doc_key for c in clauses if c.level == "measure"), None)
            if doc:
                candidates.append(f"{doc}号 第{en['n']}条")
        for cand in candidates:
            try:
                return find_clause(clauses, cand)
            except UnknownClause:
                continue
        return None

    def _sentences_of(self, clause: Clause, q: str, english: bool) -> tuple[Sentence, ...]:
        """Sentences of a clause scored by bigram overlap only (for clauses reached without retrieval)."""
        from .passages import clause_sentences
        qb = bigrams(q)
        return tuple(sorted((Sentence(p.source, p.text, p.span, overlap(qb, p.text))
                             for p in clause_sentences(clause, english=self.renderings.get(clause.clause_id))),
                            key=lambda s: -s.score))

    def _best_sentence(self, hit: Hit, q: str, english: bool) -> Sentence | None:
        """The answering sentence of the clause: dense similarity plus shared terms with the question."""
        zh = [s for s in hit.sentences if s.source == "zh-sent"]
        if not zh:
            return None
        terms = self.glossary.english_terms(q) if english else []
        qb = bigrams(" ".join(terms)) if english else bigrams(q)
        return max(zh, key=lambda s: s.score + 0.6 * overlap(qb, s.text))

    def _citation(self, hit: Hit, q: str, english: bool, sent: Sentence | None = None) -> Citation:
        c = hit.clause
        sent = sent or self._best_sentence(hit, q, english)
        return Citation.of(c, score=round(hit.score, 6), span=sent.span if sent else None,
                           english=self.renderings.get(c.clause_id))

    def answer_clause(self, question: str, clause: Clause, *, focus: tuple[int, int] | None = None) -> Answer:
        """Answer `question` from one given clause: a follow-up on the previous answer, whose answering
        span (`focus`, offsets within the clause text) stays the subject unless the question moves on."""
        q = clean_question(question)
        english = is_english(q)
        if FULL_TEXT.search(q):
            cit = self._citation(Hit(clause, 1.0), q, english, None)._replace_span()
            return Answer(question, True, clause.text, (cit,), lang="en" if english else "zh", kind="lookup")
        sents = self._sentences_of(clause, q, english)
        if focus:  # the sentence answered last time comes first
            sents = tuple(sorted(sents, key=lambda s: -(s.score + (1.0 if s.span and s.span[0] <= focus[0] < s.span[1]
                                                                     else 0.0))))
        return self._answer_clause(question, q, Hit(clause, 1.0, {}, sents), [], english, focus=focus)

    def _answer_clause(self, question: str, q: str, hit: Hit, others: list[Hit], english: bool, *,
                       kind: str | None = None, focus: tuple[int, int] | None = None) -> Answer:
        c = hit.clause
        rec = self.catalog.records_of(c.clause_id)
        sent = self._best_sentence(hit, q, english) if not focus else next(
            (s for s in hit.sentences if s.source == "zh-sent"), None)
        asks_who = bool((WHO_EN if english else WHO_ZH).search(q))
        asks_part = bool((PART_EN if english else PART_ZH).search(q))
        asks_target = bool((TARGET_EN if english else TARGET_ZH).search(q))
        asks_when = bool((WHEN_EN if english else WHEN_ZH).search(q))
        line, kind, target = None, kind or "general", None
        offset = c.start + sent.span[0] if sent and sent.span else c.start
        owners = owners_at(rec, offset)
        asks_lead = bool(re.search(r"牵头|\blead", q, re.I))
        if asks_part and owners and owners.participants and not asks_lead:
            names = units_en(owners.participants) if english else units_zh(owners.participants)
            line, kind = (f"Participating: {names}" if english else f"{names}参与"), "who"
        elif (asks_who or asks_part) and owners:
            line, kind = owners_line(owners, english=english), "who"
        elif (asks_target or asks_when) and rec.targets:
            in_focus = [t for t in rec.targets if focus and focus[0] <= t.start - c.start < focus[1]]
            t = in_focus[0] if in_focus else \
                self._best_target(rec.targets, q, english, want_deadline=asks_when and not asks_target)
            if t:
                target = t
                sent = Sentence("zh-sent", t.sentence, (t.start - c.start, t.end - c.start), 1.0)
                en = self._best_english(hit)
                line = target_line(t, owners_at(rec, t.start), english=english, rendering=en)
                kind = "target" if t.kind == "target" else "deadline"
        if line is None:
            line = (self._best_english(hit) if english else "") or (sent.text if sent else c.text)
        related = self._related(c, target, others)
        cits = (self._citation(hit, q, english, sent),) + tuple(self._citation(h, q, english) for h in related)
        return Answer(question, True, line, cits, lang="en" if english else "zh", kind=kind)

    def _related(self, clause: Clause, target: Target | None, hits: list[Hit], limit: int = 4) -> list[Hit]:
        """Related provisions: the same indicator stated elsewhere (another year), the parent item when it
        says more than its heading, then the next-ranked clauses of the search."""
        out, seen = [], {clause.clause_id}
        if target is not None and target.kind == "target":
            for c in self.catalog.clauses:
                if c.clause_id not in seen and any(t.indicator == target.indicator and t.year != target.year
                                                   for t in self.catalog.records_of(c.clause_id).targets):
                    out.append(Hit(c, 0.0))
                    seen.add(c.clause_id)
        parent = self.catalog.by_id.get(clause.parent_id) if clause.parent_id else None
        if parent is not None and "\n" in parent.text and parent.clause_id not in seen:
            out.append(Hit(parent, 0.0))
            seen.add(parent.clause_id)
        out += [h for h in hits if h.clause.clause_id not in seen]
        return out[:limit]

    @staticmethod
    def _best_english(hit: Hit) -> str:
        """The rendering sentence most similar to the question ("" when the clause has no rendering)."""
        en = [s for s in hit.sentences if s.source == "en-sent"]
        text = max(en, key=lambda s: s.score).text if en else ""
        return text[:1].upper() + text[1:]

    def _best_target(self, targets, q: str, english: bool, *, want_deadline: bool) -> Target | None:
        terms = self.glossary.english_terms(q) if english else []
        qb = bigrams(" ".join(terms) if english else q)
        pool = [t for t in targets if (t.kind == "deadline") == want_deadline] or list(targets)
        years = {int(y) for y in re.findall(r"20\d\d", q)}
        return max(pool, key=lambda t: overlap(qb, t.indicator + t.sentence) + (0.5 if t.year in years else 0))

    def _doc_fact(self, question: str, q: str, english: bool) -> Answer | None:
        """Number, date, issuer, addressees of a document, or which national document it implements."""
        patterns = DOCFACT_EN if english else DOCFACT_ZH
        wanted = [k for k, rx in patterns.items() if rx.search(q)]
        doc = self._which_document(q, english) if wanted else None
        if doc is None:
            return None
        clause = self.catalog.by_id[f"{doc.key}-notice"]
        parts, span = [], None

        def located(text: str) -> tuple[int, int] | None:
            """The first fact found in the notice is the answering span."""
            i = clause.text.find(text)
            return span or ((i, i + len(text)) if i >= 0 else None)

        for k in wanted:
            if k == "title":
                parts.append(f"《{doc.title}》" + (f" (issued with 《{doc.notice_title}》)" if english
                                                  else f"（以《{doc.notice_title}》印发）"))
                span = located(doc.title)
            elif k == "number":
                parts.append(doc.doc_number)
                span = located(doc.doc_number)
            elif k == "date":
                y, m, d = (int(x) for x in doc.issue_date.split("-"))
                written = f"{y}年{m}月{d}日"
                parts.append(doc.issue_date if english else written)
                span = located(written)
            elif k == "issuer":
                name = self.glossary.agency_english(doc.issuer) if english else doc.issuer
                note = (" (inferred from the document number: the source page was tampered with)" if english
                        else "（据文号推定：来源网页的发文机关处被篡改）") if doc.issuer_inferred else ""
                parts.append(name + note)
            elif k == "addressees":
                parts.append(("; " if english else "，").join(doc.addressees))
            elif k == "implements":
                pre = self.catalog.by_id.get(f"{doc.key}-preamble")
                m = IMPLEMENTED_RE.search(pre.text) if pre else None
                if m:
                    clause, span = pre, (m.start(), m.end())
                    parts.append(m.group(0))
        if not parts:
            return None
        # a question for the title names the document otherwise: by its number
        title = doc.doc_number if "title" in wanted else f"《{doc.title}》"
        line = f"{title}: " + "; ".join(parts) if english else f"{title}：" + "，".join(parts)
        cit = Citation.of(clause, span=span, english=self.renderings.get(clause.clause_id))
        return Answer(question, True, line, (cit,), lang="en" if english else "zh", kind="document")

    def _which_document(self, q: str, english: bool):
        key = self.retriever.doc_reference(q)
        if key:
            return self.catalog.document(key)
        if not english:
            qb = bigrams(q)
            scored = [(overlap(qb, d.title) * len(qb) / max(len(bigrams(d.title)), 1), d) for d in self.catalog.documents]
            score, doc = max(scored, key=lambda x: x[0])
            if score >= 0.5:
                return doc
        hits = self.retriever.search(q, top_k=1)
        return self.catalog.document(hits[0].clause.doc_key) if hits else None

    def _reverse(self, question: str, q: str, english: bool) -> Answer | None:
        """'省环保厅牵头哪些工作？' / 'What does the Provincial Finance Department lead?' → the clauses, cited."""
        if not (REVERSE_EN if english else REVERSE_ZH).search(q):
            return None
        if english:
            names = [zh for zh in self.glossary.english_terms(q) if zh in self.agencies]
        else:
            names = [a for a in self.agencies if a in q] or \
                    [self.glossary.canonical(a) for a in (self.glossary.aliases or {}) if a in q]
        if not names:
            return None
        agency = names[0]
        role = "lead" if re.search(r"牵头|\blead", q, re.I) else \
            "participants" if (PART_EN if english else PART_ZH).search(q) else None
        found = []
        for c in self.catalog.clauses:
            for r in self.catalog.records_of(c.clause_id).responsibilities:
                roles = [k for k in ("lead", "participants", "responsible")
                         if any(u.name == agency for u in getattr(r, k))]
                if roles and (role is None or role in roles):
                    found.append((c, r, roles[0]))
                    break
        name = self.glossary.agency_english(agency) if english else agency
        if not found:
            return Answer(question, False, (f"{name} is not named as "
                                            f"{ROLE_LABELS_EN.get(role, 'responsible for')} any provision" if english
                                            else f"文件中没有{agency}{ROLE_LABELS_ZH.get(role, '负责')}的条款"),
                          reason="no provision names this agency in that role", lang="en" if english else "zh",
                          kind="reverse")
        cits = tuple(Citation.of(c, span=(r.covers[0] - c.start, r.end - c.start),
                                 english=self.renderings.get(c.clause_id)) for c, r, _ in found)
        listing = ("; " if english else "；").join(f"{c.doc_number}{c.local_citation}" for c, _, _ in found[:8])
        more = (f" and {len(found) - 8} more" if english else "等") if len(found) > 8 else ""
        if english:
            line = f"{name} {ROLE_LABELS_EN.get(role, 'is named in')} {len(found)} provision(s): {listing}{more}"
        else:
            line = f"{agency}{ROLE_LABELS_ZH.get(role, '涉及')}{len(found)}项：{listing}{more}"
        return Answer(question, True, line, cits, lang="en" if english else "zh", kind="reverse")


def encoders_for(manifest: dict) -> dict:
    """The encoders an index was built with, loaded offline; a clear error when one is not available."""
    from .errors import IndexError_
    from .models import E5_NAME, USE_NAME, load_e5, load_use
    out = {}
    for spec in manifest["encoders"]:
        if spec["name"] == USE_NAME:
            enc = load_use()
        elif spec["name"] == E5_NAME:
            enc = load_e5()
        elif spec.get("path"):
            enc = load_e5(spec["path"])
        else:
            raise IndexError_(f"the index was built with encoder {spec['name']!r}, which is not available here; "
                              "run `python -m assistant build` to rebuild it with the local models")
        if enc.dim != spec["dim"]:
            raise IndexError_(f"encoder {spec['name']!r} gives {enc.dim}-d vectors, the index holds {spec['dim']}-d; "
                              "run `python -m assistant build` to rebuild it")
        out[spec["id"]] = enc
    return out


def load_answerer(index_dir, *, corpus_dir) -> Answerer:
    from .index import load_index
    index = load_index(index_dir, corpus_dir=corpus_dir)
    retriever = Retriever(index, encoders_for(index.manifest))
    retriever.warm()
    return Answerer(retriever)
