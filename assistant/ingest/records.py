"""Per-clause records: who is responsible (from the trailing parentheticals) and targets / deadlines.

A responsibility parenthetical closes a paragraph: ``(省农委牵头,省发展改革委、…参与)``. Its segments,
split at the half-width comma, are read by their verb: 牵头 → lead, 参与 / 会同 → participants,
负责 or no verb → responsible units in their order (no lead is invented). ``按职责分工分别负责`` and
``下同`` are kept as notes. A parenthetical covers the text of its clause from the previous
parenthetical (or the clause start) up to itself. Inline statements (``由省军区牵头,会同省政府有关部门``)
and assigned duties (``省公安厅负责指导…的侦查、取证工作；``) are read too, and cover their own sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .clauses import Clause

SEGMENT_VERBS = (("牵头", "lead"), ("参与", "participants"), ("配合", "participants"), ("协助", "participants"),
                 ("协同", "participants"), ("负责", "responsible"), ("指导", "responsible"))
# 牵头单位：X；配合单位：Y — a labelled list, in a parenthetical or as a line of its own
LABELS = (("牵头", "lead"), ("配合", "participants"), ("参与", "participants"), ("协办", "participants"),
          ("责任", "responsible"), ("主要责任", "responsible"), ("实施", "responsible"))
LABEL_RE = re.compile(r"^(?P<label>[\u4e00-\u9fff]{0,4}?(?:牵头|配合|参与|协办|责任|实施)[\u4e00-\u9fff]{0,2}(?:单位|部门))"
                      r"\s*[:：]\s*(?P<units>.+)$")
# a deadline or manner inside a responsibility parenthetical: 5月底前完成, 2019年底前, 长期坚持, 持续推进
DEADLINE_SEG_RE = re.compile(r"(?:\d{1,4}年|\d{1,2}月|年底|底前|前完成|长期|持续|定期|每年|逐年|按季度|及时)")
NOTE_PHRASES = ("按职责分工分别负责", "按职责分工负责", "按照职责分工负责", "分别负责", "下同")
UNIT_HINT = re.compile(r"(省|厅|委|局|办|院|行|政府|部门|管委会|海关|军区|集团|中心|部|署|总队|公司)")
# words of a sentence, never of a body's name: (…由X部门负责) and (尤其是…医院) are text, not records
NOT_A_UNIT = re.compile(r"由|是|的|对|尤其|如|即|将|把|被|其中|包括")
# a unit's name ends as the names of government bodies end: 省国土资源厅, 人民银行长春中心支行, 省供销社, 省审计厅
UNIT_END = re.compile(r"(?:厅|委|局|办|院|行|政府|部门|管委会|委员会|海关|军区|集团|中心|部|署|总队|公司|社|室|所|站|会|"
                      r"办公室|单位|机构|总社|法院|检察院|银行|银保监局|证监局|税务局|团省委|妇联|工会|科协|侨联|残联|红十字会)$")
# a responsibility parenthetical closes the text it covers: at the end of a paragraph, or of a sentence
# or task within it (…任务一。（X牵头，Y参与）任务二…（Z负责）)
PAREN_RE = re.compile(r"[(（](?P<body>[^()（）]+)[)）]")
LABEL_LINE_RE = re.compile(r"^(?:[\u4e00-\u9fff]{0,4}?(?:牵头|配合|参与|责任)[\u4e00-\u9fff]{0,2}(?:单位|部门))\s*[:：]")
CAPTION_RE = re.compile(r"^第[一二三四五六七八九十百零〇\d]+条\s*$")
# a notice's own reading rule: the unit named first leads
FIRST_LEADS_RE = re.compile(r"(?:排在|排列在|列在|列)第一位的?(?:部门|单位|者)为牵头(?:部门|单位)?|排名第一的(?:部门|单位)?为牵头")
INLINE_RE = re.compile(r"由(?P<lead>[^,，。;；由]{2,30}?)牵头(?:[,，]会同(?P<with>[^,，。;；]{2,30}))?")
LOCAL_GOV_RE = re.compile(r"(政府|市|州|县|区)$")
# "省公安厅负责指导…；" — a duty assigned inline, at the start of a sentence or of a ；-separated part
_AGENCY = r"[省市县][\u4e00-\u9fff]{1,10}?(?:厅|委|局|院|办|社)"
INLINE_DUTY_RE = re.compile(rf"(?:^|(?<=[。；;]))(?P<units>{_AGENCY}(?:、{_AGENCY})*)负责(?P<task>[^。；;]+)")


@dataclass(frozen=True)
class Unit:
    name: str           # the unit, without 等: 省发展改革委; a government named by its place gets 政府 (长春市政府)
    et_al: bool         # written with 等 ("省国资委等"): others not named take part too
    local_gov: bool     # a local government rather than a provincial department
    others: str = ""    # what the others are, when the text says: 部门 (等部门), 有关地方政府 (长春市等有关地方政府)

    @property
    def written(self) -> str:
        """The unit as a Chinese list shows it: 省林业厅等部门, 长春市政府等有关地方政府, 省发展改革委."""
        return self.name + ("等" + self.others if self.et_al else "")


@dataclass(frozen=True)
class Responsibility:
    clause_id: str
    raw: str                       # the parenthetical's text, verbatim, without the brackets
    lead: tuple[Unit, ...]
    participants: tuple[Unit, ...]
    responsible: tuple[Unit, ...]  # named without a verb, or with 负责, in their order
    notes: tuple[str, ...]
    start: int                     # offsets of the parenthetical in the document text
    end: int
    covers: tuple[int, int]        # the text it is the responsibility for
    inline: bool = False

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.lead + self.participants + self.responsible

    def roles(self):
        """(role, unit) pairs in the order lead, participants, responsible."""
        return [(role, u) for role in ROLES for u in getattr(self, role)]


ROLES = ("lead", "participants", "responsible")
PLACE_RE = re.compile(r"^[\u4e00-\u9fff]{1,6}(?:市|州|县|区)$")   # 长春市, 延边州: a place, not yet its government
OTHERS_RE = re.compile(r"^(?:(?:有关|相关)?(?:部门|单位|部门和单位|地方政府)|有关地方政府)$")


def _unit(name: str) -> Unit | None:
    """One list item: '省林业厅等部门' → Unit('省林业厅', et_al, others='部门')."""
    name = name.strip()
    et_al, others = False, ""
    head, sep, tail = name.partition("等")
    if sep and head and (not tail or OTHERS_RE.match(tail)):
        name, et_al, others = head, True, tail
        if "政府" in others and PLACE_RE.match(name):  # 长春市等有关地方政府: Changchun's government and others
            name += "政府"
    if not name:
        return None
    return Unit(name, et_al, bool(LOCAL_GOV_RE.search(name)) or "地方政府" in name + others, others)


def _units(text: str) -> tuple[Unit, ...]:
    """'长春市、吉林市政府等' → 长春市政府, 吉林市政府 (and others): a trailing 政府 is shared by the places before it."""
    out = [u for u in (_unit(part) for part in text.split("、")) if u]
    if out and out[-1].name.endswith("政府") and PLACE_RE.match(out[-1].name[:-2]):
        out = [Unit(u.name + "政府", u.et_al, True, u.others) if PLACE_RE.match(u.name) else u for u in out]
    return tuple(out)


def parse_parenthetical(body: str, *, first_leads: bool = False) -> tuple[dict[str, tuple[Unit, ...]], tuple[str, ...]] | None:
    """'省农委牵头,省发展改革委、省财政厅参与' → ({lead, participants, responsible}, notes); None if not one.

    Also labelled lists (牵头单位：X；配合单位：Y, 责任单位：A、B) and a deadline beside them (5月底前完成，牵头考核单位：X),
    kept as a note. `first_leads`: the document's own rule that the unit named first leads (排在第一位的部门为牵头部门)."""
    if "〔" in body or not UNIT_HINT.search(body):
        return None
    roles: dict[str, list[Unit]] = {"lead": [], "participants": [], "responsible": []}
    notes = []
    for seg in re.split(r"[,，;；。]", body):
        seg = seg.strip()
        for phrase in NOTE_PHRASES:
            if phrase in seg:
                notes.append(phrase)
                seg = seg.replace(phrase, "")
        if not seg or FIRST_LEADS_RE.search(seg):   # the reading rule itself (列第一位者为牵头单位)
            continue
        if lab := LABEL_RE.match(seg):
            role = next((r for word, r in LABELS if word in lab["label"]), "responsible")
            units = _units(lab["units"])
            if not units:
                return None
            roles[role] += units
            continue
        if seg.startswith("会同"):
            roles["participants"] += _units(seg[2:])
            continue
        if DEADLINE_SEG_RE.search(seg) and not UNIT_HINT.search(re.sub(r"\d+", "", seg)[:2]):
            notes.append(seg)
            continue
        role = "responsible"
        for verb, r in SEGMENT_VERBS:
            if seg.endswith(verb):
                seg, role = seg[: -len(verb)], r
                break
        units = _units(seg)
        if not units or not all((UNIT_END.search(u.name) or u.local_gov) and not NOT_A_UNIT.search(u.name)
                                for u in units):
            return None
        roles[role] += units
    if not any(roles.values()):
        return None
    if first_leads and roles["responsible"] and not roles["lead"]:
        first, *rest = roles["responsible"]
        roles["lead"], roles["responsible"] = [first], []
        roles["participants"] = rest + roles["participants"]
        notes.append("排在第一位的为牵头")
    return _one_role_each(roles), tuple(notes)


def _one_role_each(roles: dict[str, list[Unit]]) -> dict[str, tuple[Unit, ...]]:
    """A unit named twice in one statement is kept once, in its first role (lead before participants)."""
    seen, out = set(), {}
    for role in ROLES:
        out[role] = tuple(u for u in roles[role] if not (u.name in seen or seen.add(u.name)))
    return out


def clause_responsibilities(clause: Clause, *, first_leads: bool = False) -> list[Responsibility]:
    """Every responsibility statement of one clause, in text order."""
    out = []
    pos = clause.start
    line_start = clause.start
    for line in clause.text.split("\n"):
        found = list(PAREN_RE.finditer(line))
        if LABEL_LINE_RE.match(line):  # 责任单位：省发展改革委、省财政厅 as a line of its own
            found = [re.match(r"^(?P<body>.+?)[。；;]?$", line)]
        for m in found:
            if CAPTION_RE.match(line[:m.start()]):   # 第三条（管理部门）: an article's caption, not a record
                continue
            parsed = parse_parenthetical(m["body"], first_leads=first_leads)
            if not parsed:
                continue
            roles, notes = parsed
            p_start = line_start + m.start()
            out.append(Responsibility(clause.clause_id, m["body"], notes=notes, start=p_start,
                                      end=line_start + m.end(), covers=(pos, p_start), **roles))
            pos = line_start + m.end()
        for dm in INLINE_DUTY_RE.finditer(line):
            out.append(Responsibility(
                clause.clause_id, dm.group(0), lead=(), participants=(), responsible=_units(dm["units"]), notes=(),
                start=line_start + dm.start(), end=line_start + dm.end(),
                covers=(line_start + dm.start(), line_start + dm.end()), inline=True))
        for im in INLINE_RE.finditer(line):
            sent_start = max(line.rfind(c, 0, im.start()) for c in "。;；:：") + 1
            sent_end = min([i for i in (line.find(c, im.end()) for c in "。;；") if i >= 0] or [len(line)])
            lead = _units(im["lead"])
            if lead and all(UNIT_END.search(u.name) and not NOT_A_UNIT.search(u.name) for u in lead):
                out.append(Responsibility(
                    clause.clause_id, im.group(0), lead=lead, participants=_units(im["with"] or ""),
                    responsible=(), notes=(), start=line_start + im.start(), end=line_start + im.end(),
                    covers=(line_start + sent_start, line_start + sent_end), inline=True))
        line_start += len(line) + 1
    return sorted(out, key=lambda r: r.start)


# ---- targets and deadlines -----------------------------------------------------------------------

YEAR_RE = re.compile(r"(?:到|至)?(?P<year>20\d\d)年(?:(?P<month>\d{1,2})月)?(?P<when>年底前|年底|年末|底前|前|起|开始)?")
VALUE_RE = re.compile(
    r"(?P<indicator>[^,，。;；、:：]{2,30}?)(?P<verb>达到|提高到|提高至|下降|降低到|降至|控制在|保持在|稳定在|不低于|不少于|完成|建设|建成)"
    r"(?P<value>\d+(?:\.\d+)?(?:-\d+)?(?:%|万亩|亩|个|支|家|厘米|公里|万吨|吨|亿元|万元|处)?)(?P<qual>以上|左右|以下|以内)?")


@dataclass(frozen=True)
class Target:
    clause_id: str
    kind: str            # "target" (an indicator with a value) or "deadline" (a task with a date)
    indicator: str       # 秸秆综合利用率 / the task for a deadline
    value: str           # 85% ("" for a deadline)
    qualifier: str       # 以上 / 左右 / 以下 / 以内 / ""
    year: int | None
    date: str            # as written: 2020年, 2017年年底前, 2016年6月
    sentence: str        # the sentence it was read from, verbatim
    start: int           # offsets of the sentence in the document text
    end: int


def _sentences(clause: Clause):
    for m in re.finditer(r"[^。;；\n]+[。;；]?", clause.text):
        yield m.group(0), clause.start + m.start()


def clause_targets(clause: Clause) -> list[Target]:
    """Targets (indicator reaches value by year) and dated tasks, from each sentence of a clause."""
    out = []
    if clause.level == "notice":  # its only date is the date of issue
        return out
    carried = None  # the year of the last dated sentence governs the next ones that state a value without one
    for sent, s_start in _sentences(clause):
        years = list(YEAR_RE.finditer(sent))
        values = list(VALUE_RE.finditer(sent))
        if not years and carried is not None and values:
            years = [carried]
        elif not years:
            continue
        if YEAR_RE.search(sent):
            carried = years[-1]
        for v in values:
            governing = [y for y in years if y.start() < v.start()] or years[:1]
            y = governing[-1]
            ind = v["indicator"].lstrip("到年底前,， ")
            ind = re.sub(r"^.*?20\d\d年(?:\d{1,2}月)?(?:年底前|年底|底前|前)?", "", ind) or ind
            value = v["value"]
            if v["verb"] in ("完成", "建设", "建成"):
                # 完成100万亩集中连片盐碱地治理修复: what is counted follows the number
                ind = re.split(r"[,，。;；]", sent[v.end():], maxsplit=1)[0]
            elif v["verb"] in ("下降", "降低到", "降至"):
                value = v["verb"] + value
            if not ind or value.isdigit():
                continue
            out.append(Target(clause.clause_id, "target", ind, value, v["qual"] or "", int(y["year"]),
                              y.group(0).lstrip("到至"), sent.strip(), s_start, s_start + len(sent)))
        if not values:
            y = years[0]
            task = sent[y.end():].lstrip(",， ").rstrip("。;；")
            if y["when"] in ("年底前", "年底", "底前", "前", "年末") or y["month"] or sent.lstrip().startswith(("到", y.group(0))):
                if task:
                    out.append(Target(clause.clause_id, "deadline", task[:60], "", "", int(y["year"]),
                                      y.group(0).lstrip("到至"), sent.strip(), s_start, s_start + len(sent)))
    return out


@dataclass(frozen=True)
class ClauseRecords:
    responsibilities: tuple[Responsibility, ...]
    targets: tuple[Target, ...]


def clause_records(clause: Clause, *, first_leads: bool = False) -> ClauseRecords:
    """`first_leads`: the clause's document says the unit named first leads (see `first_unit_leads`)."""
    return ClauseRecords(tuple(clause_responsibilities(clause, first_leads=first_leads)),
                         tuple(clause_targets(clause)))


def first_unit_leads(document_text: str) -> bool:
    """True when a document states its own reading rule: the unit named first leads."""
    return FIRST_LEADS_RE.search(document_text) is not None


def owners_at(records: ClauseRecords, offset: int) -> Responsibility | None:
    """The responsibility statement that covers document offset `offset`, else the clause's first one."""
    for r in records.responsibilities:
        if r.covers[0] <= offset < r.end:
            return r
    trailing = [r for r in records.responsibilities if not r.inline]
    return trailing[0] if trailing else None


def record_to_dict(r: Responsibility, clause: Clause) -> dict:
    """One responsibility record: plain names by role, each unit with its 等 flag, the text it covers."""
    return {
        "raw": r.raw, "inline": r.inline,
        **{role: [u.name for u in getattr(r, role)] for role in ROLES},
        "units": [{"name": u.name, "role": role, "et_al": u.et_al, "others": u.others, "local_gov": u.local_gov}
                  for role, u in r.roles()],
        "notes": list(r.notes), "start": r.start, "end": r.end, "covers": list(r.covers),
        "span": [r.covers[0] - clause.start, r.covers[1] - clause.start],  # within the clause text
    }


def flat_owners(records: ClauseRecords) -> dict[str, list[str]] | None:
    """The clause's owners as three lists, when that loses nothing: None when a unit is named in two
    statements (twice as lead, or lead in one and participant in another: only the records say which)."""
    names = [u.name for r in records.responsibilities for u in r.units]
    if len(names) != len(set(names)):
        return None
    return {role: [u.name for r in records.responsibilities for u in getattr(r, role)] for role in ROLES}


def clause_to_dict(clause: Clause, records: ClauseRecords) -> dict:
    """A clause and its records as one JSON-ready object (the CLI's and the index's record format).

    `responsibilities` holds one object per statement; the flattened `lead` / `participants` /
    `responsible` are there only when every unit is named once in the clause (see `flat_owners`)."""
    d = {
        "clause_id": clause.clause_id, "doc_number": clause.doc_number, "doc_key": clause.doc_key,
        "title": clause.title, "level": clause.level, "number": clause.number, "label": clause.label,
        "citation": clause.citation, "local_citation": clause.local_citation, "heading": clause.heading,
        "trail": list(clause.trail), "parent_id": clause.parent_id,
        "start": clause.start, "end": clause.end, "text": clause.text,
    }
    d.update(flat_owners(records) or {})
    d["responsibilities"] = [record_to_dict(r, clause) for r in records.responsibilities]
    d["targets"] = [
        {"kind": t.kind, "indicator": t.indicator, "value": t.value, "qualifier": t.qualifier,
         "year": t.year, "date": t.date, "sentence": t.sentence, "start": t.start, "end": t.end}
        for t in records.targets]
    return d
