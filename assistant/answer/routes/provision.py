"""Answer from one provision: the direct line for what the question asks, the answering span, citations.

The direct line is read from the clause, never composed freely: who leads or takes part (its
responsibility records), who pays or has a right (the sentence naming that party), which figure and by
when (its target records), or its best-matching sentence. When the clause does not state what is asked
(a deadline, a participant, an owner), the line says so instead of offering an unrelated sentence.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ...ingest.clauses import Clause
from ...search.dictionary import QUESTION_STOP, content_stems
from ..phrasing import date_english, owners_line, target_line, units_en, units_zh
from ..question import Question, lexicon, states_quantity
from ...ingest.records import Target, owners_at
from ..response import Answer, Citation
from ...search.query import question_words
from ...search.retrieval import Hit, Sentence
from ..text import bigrams, overlap
from . import Context

# a rendering's structural label, which the citation states: "Measure 52: ", "Item (2): ", "Sub-item 5: "
STRUCTURE_EN = re.compile(r"^(?:Measure|Item|Sub-item|Step|Part|Article|Section|Paragraph)\s+\(?\w{1,4}\)?:\s*")
# a rendering's responsibility parenthetical, "(Lead: …; participating: …)", "(Responsible: …)"; who leads is
# answered from the records, and the parenthetical is no answer to anything else
RESPONSIBLE_EN = re.compile(r"\((?:Lead|Responsible|Participating)\b(?:[^()]|\([^()]*\))*\)", re.I)
MANY = 4  # deadlines or targets listed at most for a question asking for all of them
DIGITS = re.compile(r"\d")
TIME_RE = re.compile(r"\d{4}年|\d{1,2}月|年底|年末|月底|季度|每年|年内|半年|前完成")
# a time in a clause's English rendering: a year, a month (May only as a date), the end of a period, a recurrence
TIME_EN = re.compile(r"\b(?:19|20)\d\d\b|\b(?:january|february|march|april|june|july|august|september|october|"
                     r"november|december)\b|\bmay \d|\b(?:in|by|before|until|from|of) may\b|\bend[- ]of\b|\bend-\d|\b(?:each|every) (?:year|quarter|month)\b|"
                     r"\b(?:annually|quarterly|yearly)\b", re.I)


@lru_cache(maxsize=2)
def _states(lang: str = "zh") -> dict[str, re.Pattern]:
    """How a sentence states the party that pays or has a right, in the clause (zh) or its rendering (en)."""
    raw = question_words()["states" if lang == "zh" else "states_en"]
    return {k: re.compile(v, re.I) for k, v in raw.items()}


def sentences_of(clause: Clause, q: Question, ctx: Context) -> tuple[Sentence, ...]:
    """A clause's sentences scored by bigram overlap with the question (for clauses reached without
    retrieval: a citation lookup, a follow-up)."""
    from ...search.passages import clause_sentences
    qb = question_bigrams(q, ctx)
    return tuple(sorted((Sentence(p.source, p.text, p.span, overlap(qb, p.text))
                         for p in clause_sentences(clause, english=ctx.renderings.get(clause.clause_id))),
                        key=lambda s: -s.score))


def question_bigrams(q: Question, ctx: Context) -> set[str]:
    """What a sentence of the clause is compared with: the topic's bigrams, or for an English question the
    bigrams of the Chinese glossary terms it names."""
    return bigrams(" ".join(ctx.glossary.english_terms(q.text))) if q.english else bigrams(q.topic)


def best_sentence(hit: Hit, q: Question, ctx: Context, *, pattern: re.Pattern | None = None) -> Sentence | None:
    """The answering sentence: dense similarity plus shared terms; among the sentences matching `pattern`
    when one does."""
    zh = [s for s in hit.sentences if s.source == "zh-sent"]
    if pattern is not None:
        zh = [s for s in zh if pattern.search(s.text)] or zh
    if not zh:
        return None
    qb = question_bigrams(q, ctx)
    return max(zh, key=lambda s: s.score + 0.6 * overlap(qb, s.text))


def best_english(hit: Hit, ctx: Context, *, pattern: re.Pattern | None = None) -> str:
    """The rendering sentence most similar to the question, among those matching `pattern` when one does
    ("" when the clause has no rendering). A label ("Measure 52:", "the Broadband Jilin strategy:") is read
    with the sentence it introduces; the responsibility parenthetical is left out."""
    scores = {s.text: s.score for s in hit.sentences if s.source == "en-sent"}
    units = english_units(ctx.renderings.get(hit.clause.clause_id) or "", scores)
    if pattern is not None:
        units = [u for u in units if pattern.search(u[0])] or units
    text = STRUCTURE_EN.sub("", max(units, key=lambda u: u[1])[0]) if units else ""
    return text[:1].upper() + text[1:]


def english_units(rendering: str, scores: dict[str, float]) -> list[tuple[str, float]]:
    """(text, score) of a rendering's sentences in order, without its responsibility parentheticals and with a
    label joined to what it introduces; a unit's score is the best similarity to the question of the scored
    sentences (the index's) it holds (0 when it holds none)."""
    from ...search.passages import en_sentences
    units, pending = [], []
    for sent in en_sentences(RESPONSIBLE_EN.sub(" ", rendering)):
        pending.append(sent)
        if not sent.endswith(":"):
            units.append(" ".join(pending))
            pending = []
    if pending:
        units.append(" ".join(pending))
    return [(u, max((v for t, v in scores.items() if t in u), default=0.0)) for u in units]


PIECE_EN = re.compile(r"[^,;]+")
LEADING_EN = re.compile(r"^(?:and|with|while|but)\s+(?:an?\s+|the\s+)?", re.I)


def _figure_re(t: Target) -> re.Pattern | None:
    m = re.search(r"\d+(?:\.\d+)?", t.value)
    return re.compile(rf"(?<![\d.]){re.escape(m[0])}(?![\d.])") if m else None


def english_piece(ctx: Context, t: Target) -> tuple[str, str]:
    """The sentence of the clause's rendering that states the target's figure, and the piece of it (between
    commas and semicolons) that does — "the share of large-scale farms (compounds) with supporting waste treatment
    facilities 75% or above", without a leading "and"/"with"; ("", "") when the clause has no rendering or its
    rendering words the figure otherwise."""
    figure = _figure_re(t)
    if figure is None:
        return "", ""
    for unit, _ in english_units(ctx.renderings.get(t.clause_id) or "", {}):
        for piece in PIECE_EN.findall(unit):
            if figure.search(piece):
                return unit, LEADING_EN.sub("", piece.strip().rstrip(".")).strip()
    return "", ""


def english_target_line(t: Target, owners, ctx: Context) -> str:
    """A target in English in the rendering's words for its indicator ("By 2020, the share of large-scale farms
    (compounds) with supporting waste treatment facilities 75% or above"), with its owners; "" for a deadline or a
    clause whose rendering does not state the figure."""
    piece = english_piece(ctx, t)[1] if t.kind == "target" else ""
    if not piece:
        return ""
    if not (t.year and str(t.year) in piece):
        when = date_english(t.date if "底" in t.date else "到" + t.date)
        piece = f"{when[:1].upper()}{when[1:]}, {piece}" if when else piece
    return piece + (f" ({owners_line(owners, english=True)})" if owners else "")


def english_share(q: Question, text: str) -> float:
    """The share of an English question's content words (their first five letters) that `text` has."""
    words = _en_roots(q.subject)
    return len(words & _en_roots(text)) / len(words) if words else 0.0


def english_stating(hit: Hit, ctx: Context, targets: list[Target]) -> str:
    """The sentences of the clause's rendering that state these targets' figures, in order; "" unless they state
    every one (a clause without a rendering, or a rendering that words a figure otherwise)."""
    units = [u for u, _ in english_units(ctx.renderings.get(hit.clause.clause_id) or "", {})]
    figures = [_figure_re(t) for t in targets]
    if not units or not all(figures):
        return ""
    text = " ".join(u for u in units if any(f.search(u) for f in figures))
    return text if all(f.search(text) for f in figures) else ""


def best_target(targets, q: Question, ctx: Context, *, want_deadline: bool) -> Target | None:
    """The target whose indicator the question names (not merely the first of a shared sentence): the share of
    the indicator the question names, and of the question the indicator names (牲口粪便…利用起来多少 names
    利用 of 废弃物资源化利用率, not 规模养殖比重)."""
    qb = question_bigrams(q, ctx)
    pool = [t for t in targets if (t.kind == "deadline") == want_deadline] or list(targets)
    if not pool:
        return None
    # a figure question on a clause with deadlines only: the deadline whose sentence states a figure of the kind
    stated_by = lexicon().quantity[q.quantity or "any"]["stated_by"] if q.asking("figure") and not want_deadline else None
    return max(pool, key=lambda t: naming(t, q, ctx, qb) + 0.5 * (t.year in q.years) + 0.1 * overlap(qb, t.sentence)
               + (1.0 if stated_by and stated_by.search(unicodedata.normalize("NFKC", t.sentence)) else 0.0))


def naming(t: Target, q: Question, ctx: Context, qb: set[str] | None = None) -> float:
    """How much the question names the target's indicator: the share of the indicator it names and of the
    question the indicator names; in English, of the rendering's words for it."""
    qb = question_bigrams(q, ctx) if qb is None else qb
    return named_share(t.indicator, qb) + 0.5 * named_share(q.topic, bigrams(t.indicator)) \
        + (_english_named(q, ctx, t) if q.english else 0.0)


def _english_named(q: Question, ctx: Context, t: Target) -> float:
    """How much of an English question the rendering's words for a target name: its piece, then its sentence."""
    unit, piece = english_piece(ctx, t)
    return english_share(q, piece) + 0.5 * english_share(q, unit)


def named_share(indicator: str, qb: set[str]) -> float:
    """How much of a target's indicator the question names (share of its bigrams in the question's)."""
    ib = bigrams(indicator)
    return len(ib & qb) / len(ib) if ib else 0.0


def states_what_is_asked(q: Question, hit: Hit, ctx: Context, *, loosely: bool = False) -> bool:
    """Does the clause state what the question asks for: the party that pays or has the right (who-pays
    questions), a figure for the indicator it names (figure questions), or a time in a sentence on what it
    names (when questions)? `loosely`: also a figure of the kind asked in a sentence on what the question
    names, when no clause has a parsed target for it."""
    if q.asking("liable", "right"):
        pattern = _states()["liable" if q.asking("liable") else "right"]
        return any(s.source == "zh-sent" and pattern.search(s.text) for s in hit.sentences)
    qb = question_bigrams(q, ctx)
    for t in ctx.catalog.records_of(hit.clause.clause_id).targets:
        if q.asking("figure") and t.kind == "target" and named_share(t.indicator, qb) >= 0.8:
            return True
        # English: the rendering's sentence stating the figure has most of the question's words
        if q.english and q.asking("figure") and t.kind == "target" and english_share(q, english_piece(ctx, t)[0]) >= 0.5:
            return True
    if q.english and q.asking("figure") and q.quantity and _english_states_quantity(q, hit, ctx):
        return True
    if loosely and q.asking("figure") and q.quantity:
        # a figure of the kind asked (a sum, an area, a number of days) in a sentence on what the question names
        stated_by = lexicon().quantity[q.quantity]["stated_by"]
        if any(s.source == "zh-sent" and stated_by.search(unicodedata.normalize("NFKC", s.text))
               and overlap(qb, s.text) >= 0.3 for s in hit.sentences):
            return True
    if q.asking("when") and not q.asking("figure"):
        if hit.clause.level == "notice":
            return False  # its date is the date of issue (the document route's), not a deadline
        if q.english and any(s.source == "en-sent" for s in hit.sentences):
            # a time in a sentence of the rendering sharing two words with the question, in a rendering on what
            # the question names (its own words: the glossary's Chinese terms of an English question are too
            # few to tell, and "by what date" brings 日期 into them)
            en = [s.text for s in hit.sentences if s.source == "en-sent"]
            words = _en_roots(q.subject)
            return any(TIME_EN.search(s) and len(words & _en_roots(s)) >= min(2, len(words)) for s in en) \
                and len(words & _en_roots(" ".join(en))) >= 0.3 * len(words)
        return any(s.source == "zh-sent" and TIME_RE.search(s.text) and overlap(qb, s.text) >= 0.3
                   for s in hit.sentences)
    return False


def _english_states_quantity(q: Question, hit: Hit, ctx: Context) -> bool:
    """An English question for a kind of figure (how many towns): the clause states a figure of that kind and a
    sentence of its rendering with a number has most of the question's words (22 distinctive demonstration towns)."""
    if not states_quantity(q, hit.clause.text):
        return False
    units = english_units(ctx.renderings.get(hit.clause.clause_id) or "", {})
    return any(DIGITS.search(u) and english_share(q, u) >= 0.5 for u, _ in units)


def _figure_sentence(hit: Hit, q: Question, ctx: Context) -> Sentence | None:
    """The sentence of the clause stating a figure of the kind asked (any figure for 多少): 首批选择10家…"""
    stated_by = lexicon().quantity[q.quantity or "any"]["stated_by"]
    found = best_sentence(hit, q, ctx, pattern=stated_by)
    if found is None:
        return None
    # a number, not the article 一 of 一个窗口 or 一站式
    figures = [m.group(0) for m in stated_by.finditer(unicodedata.normalize("NFKC", found.text))]
    return found if any(re.search(r"\d|[二三四五六七八九十两]", f) for f in figures) else None


def _with_owners(line: str, owners, q: Question) -> str:
    """A line and, after it, who leads and takes part."""
    if q.english:
        return f"{line.rstrip('. ')} ({owners_line(owners, english=True)})"
    return f"{line.rstrip('。；;')}（{owners_line(owners, english=False, nested=True)}）"


def _en_roots(text: str) -> set[str]:
    """The first five letters of an English text's content words: 'province' and 'provincial' meet."""
    return {w[:5] for w in content_stems(text, stop=QUESTION_STOP) if len(w) >= 3}


def citation(hit: Hit, q: Question, ctx: Context, sent: Sentence | None = None) -> Citation:
    c = hit.clause
    sent = sent or best_sentence(hit, q, ctx)
    return Citation.of(c, score=round(hit.score, 6), span=sent.span if sent else None,
                       english=ctx.renderings.get(c.clause_id))


def _not_stated_line(what: str, q: Question) -> str:
    en = {"when": "This provision sets no deadline.", "participants": "This provision names no participating units.",
          "owners": "This provision names no lead or responsible unit.",
          "liable": "This provision does not say who pays.", "figure": "This provision states no figure."}
    zh = {"when": "该条未规定完成时限。", "participants": "该条未列出参与单位。", "owners": "该条未写明牵头或责任单位。",
          "liable": "该条未写明由谁承担费用或责任。", "figure": "该条未规定具体数值。"}
    return (en if q.english else zh)[what]


def answer(q: Question, hit: Hit, others: list[Hit], ctx: Context, *, kind: str | None = None,
           focus: tuple[int, int] | None = None, follow_up: bool = False) -> Answer:
    """Answer `q` from `hit`'s clause. `focus`: the span answered last time (a follow-up keeps it as its
    subject); `follow_up`: the clause is fixed, so what it does not state is said to be not stated."""
    c = hit.clause
    lang = q.lang
    if q.asking("full_text"):
        cit = citation(hit, q, ctx)
        return Answer(q.raw, True, c.text, (cit.whole(),), lang=lang, kind="lookup")
    rec = ctx.catalog.records_of(c.clause_id)
    states = _states()
    sent = next((s for s in hit.sentences if s.source == "zh-sent" and s.span and focus
                 and s.span[0] <= focus[0] < s.span[1]), None) or best_sentence(hit, q, ctx)
    offset = c.start + sent.span[0] if sent and sent.span else c.start
    owners = owners_at(rec, offset)
    line, target, kind = None, None, kind or "general"
    if q.asking("liable", "right"):
        which = "liable" if q.asking("liable") else "right"
        named = [s for s in hit.sentences if s.source == "zh-sent" and states[which].search(s.text)]
        if named:
            sent = best_sentence(hit, q, ctx, pattern=states[which])
            line = (best_english(hit, ctx, pattern=_states("en")[which]) if q.english else "") or sent.text
            kind = "liable"
        elif follow_up:
            line, kind = _not_stated_line("liable", q), "liable"
    if line is None and q.asking("participants") and not q.asking("lead"):
        if owners and owners.participants:
            names = units_en(owners.participants) if q.english else units_zh(owners.participants)
            line, kind = (f"Participating: {names}" if q.english else f"{names}参与"), "who"
        elif follow_up:
            line, kind = _not_stated_line("participants", q) + (" " + owners_line(owners, english=q.english)
                                                                if owners else ""), "who"
    # a question for a figure or a time and its lead (建多少个…基地，谁牵头; 什么时候建成？谁牵头) is answered with the
    # target, the deadline or the sentence stating the figure, and its lead
    counted = _figure_sentence(hit, q, ctx) if q.asking("figure") and not rec.targets else None
    figure_first = (q.asking("figure", "when") and bool(rec.targets)) or counted is not None
    if line is None and q.asking("lead", "participants") and not figure_first:
        if owners:
            line, kind = owners_line(owners, english=q.english), "who"
        elif follow_up:
            line, kind = _not_stated_line("owners", q), "who"
    if line is None and q.asking("figure", "when"):
        want_deadline = q.asking("when") and not q.asking("figure")
        # the target answered last time stays the subject; its date answers "by when" too
        in_focus = [t for t in rec.targets if focus and focus[0] <= t.start - c.start < focus[1]
                    and (want_deadline or t.kind == "target")]
        t = in_focus[0] if in_focus else best_target(rec.targets, q, ctx, want_deadline=want_deadline)
        if t is not None:  # a target's date answers "by when" too
            target = t
            sent = Sentence("zh-sent", t.sentence, (t.start - c.start, t.end - c.start), 1.0)
            # a question naming several years (2020年和2030年分别…) is answered for each year the clause states
            ts = [t]
            if len(set(q.years)) > 1:
                ts = sorted([t] + [u for u in rec.targets if u != t and u.indicator == t.indicator
                                   and u.kind == t.kind and u.year in q.years], key=lambda u: u.year or 0)
            elif q.many and not in_focus:
                # "有哪些时间要求", "主要指标有哪些", "what goals …": every deadline or target of the clause (of the
                # year asked), in the clause's order
                ts = [u for u in rec.targets if u.kind == t.kind and (not q.years or u.year in q.years)][:MANY] or [t]
            elif not in_focus and t.kind == "target":
                # a question that names none of a sentence's targets more than another (土层养到多厚、地力提到啥样
                # of 有机质 2% and 耕层厚度 20厘米) is answered with all of them, not with the first
                same = [u for u in rec.targets if u.kind == "target" and u.start == t.start and u.year == t.year]
                if len(same) > 1 and sum(naming(u, q, ctx) >= naming(t, q, ctx) - 1e-9 for u in same) > 1:
                    ts = same[:MANY]
            if len(ts) > 1:  # the quote and its highlight hold every target listed
                a, b = min(u.start for u in ts) - c.start, max(u.end for u in ts) - c.start
                sent = Sentence("zh-sent", c.text[a:b], (a, b), 1.0)
            stating = english_stating(hit, ctx, ts) if q.english and len(ts) > 1 else ""
            if stating:  # the rendering's own sentences name each indicator better than the glossary's words
                owners = owners_at(rec, ts[-1].start)
                line = stating + (f" ({owners_line(owners, english=True)})" if owners else "")
            else:
                lines = [(english_target_line(u, owners_at(rec, u.start) if u is ts[-1] else None, ctx) if q.english else "")
                         or target_line(u, owners_at(rec, u.start) if u is ts[-1] else None, english=q.english,
                                        rendering=best_english(hit, ctx, pattern=re.compile(rf"\b{u.year}\b") if u.year else None))
                         for u in ts]
                line = ("; " if q.english else "；").join([x.rstrip("。;；. ") for x in lines[:-1]] + lines[-1:])
            kind = "target" if t.kind == "target" else "deadline"
        elif counted is not None:  # a figure stated in a sentence, not read as a target (选择10家, 2支队伍): the
            sent, kind = counted, "general"   # sentence itself ("target" is a parsed target's line)
            line = (best_english(hit, ctx, pattern=DIGITS) if q.english else "") or counted.text
            if q.asking("lead", "participants") and owners:
                line = _with_owners(line, owners, q)
        elif want_deadline:
            timed = best_sentence(hit, q, ctx, pattern=TIME_RE)
            if timed is not None and TIME_RE.search(timed.text):
                sent, kind = timed, "deadline"
                line = (best_english(hit, ctx, pattern=TIME_EN) if q.english else "") or timed.text
                if q.asking("lead", "participants") and owners:
                    line = _with_owners(line, owners, q)
            else:
                kind = "deadline"
                line = _not_stated_line("when", q) + ("" if follow_up else " " + (
                    (best_english(hit, ctx) if q.english else "") or (sent.text if sent else c.text)))
    if line is None and figure_first and q.asking("lead", "participants") and owners:
        line, kind = owners_line(owners, english=q.english), "who"
    if line is None:
        line = (best_english(hit, ctx) if q.english else "") or (sent.text if sent else c.text)
    related = related_hits(c, target, others, ctx)
    cits = (citation(hit, q, ctx, sent),) + tuple(citation(h, q, ctx) for h in related)
    return Answer(q.raw, True, line, cits, lang=lang, kind=kind)


def related_hits(clause: Clause, target: Target | None, hits: list[Hit], ctx: Context, limit: int = 4) -> list[Hit]:
    """Related provisions: the same indicator stated elsewhere (another year), the parent item when it
    says more than its heading, then the next-ranked clauses of the search."""
    out, seen = [], {clause.clause_id}
    if target is not None and target.kind == "target":
        for c in ctx.catalog.clauses:
            if c.clause_id not in seen and any(t.indicator == target.indicator and t.year != target.year
                                               for t in ctx.catalog.records_of(c.clause_id).targets):
                out.append(Hit(c, 0.0))
                seen.add(c.clause_id)
    parent = ctx.catalog.by_id.get(clause.parent_id) if clause.parent_id else None
    if parent is not None and "\n" in parent.text and parent.clause_id not in seen:
        out.append(Hit(parent, 0.0))
        seen.add(parent.clause_id)
    out += [h for h in hits if h.clause.clause_id not in seen]
    return out[:limit]
