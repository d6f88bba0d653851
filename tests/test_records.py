"""Responsibility and target records, on every parenthetical of the real documents."""
import re

import pytest

from assistant.ingest.records import parse_parenthetical

TRAILING = re.compile(r"\(([^()]*)\)$")


def test_every_trailing_parenthetical_is_parsed(catalog):
    expected = {}
    for doc in catalog.documents:
        for line in doc.body.split("\n"):
            if TRAILING.search(line):
                expected[doc.key] = expected.get(doc.key, 0) + 1
    got = {}
    for c in catalog.clauses:
        for r in catalog.records_of(c.clause_id).responsibilities:
            if not r.inline:
                got[c.doc_key] = got.get(c.doc_key, 0) + 1
                assert r.units, r.raw
    assert got == expected == {"40": 28, "41": 88, "42": 9}


@pytest.mark.parametrize("raw, lead, participants, responsible, notes", [
    ("省农委牵头,省发展改革委、省财政厅参与", ["省农委"], ["省发展改革委", "省财政厅"], [], []),
    ("省工业和信息化厅、省环保厅、省农委负责", [], [], ["省工业和信息化厅", "省环保厅", "省农委"], []),
    ("省编办、省政务公开协调办、省政府办公厅等", [], [], ["省编办", "省政务公开协调办", "省政府办公厅"], []),
    ("长春市等有关地方政府,省发展改革委", [], [], ["长春市政府", "省发展改革委"], []),
    ("省国资委,长春市、吉林市政府等", [], [], ["省国资委", "长春市政府", "吉林市政府"], []),
    ("省商务厅,通化市、白山市政府", [], [], ["省商务厅", "通化市政府", "白山市政府"], []),
    ("省环保厅、省农委按职责分工分别负责,下同", [], [], ["省环保厅", "省农委"], ["按职责分工分别负责", "下同"]),
    ("省农委牵头,省国土资源厅、省林业厅等部门参与", ["省农委"], ["省国土资源厅", "省林业厅"], [], []),
    ("省科技厅,长春市政府", [], [], ["省科技厅", "长春市政府"], []),
])
def test_parenthetical_forms(raw, lead, participants, responsible, notes):
    roles, got_notes = parse_parenthetical(raw)
    assert [u.name for u in roles["lead"]] == lead
    assert [u.name for u in roles["participants"]] == participants
    assert [u.name for u in roles["responsible"]] == responsible
    assert list(got_notes) == notes


@pytest.mark.parametrize("raw", ["国发〔2016〕31号", "市、区", "PPP", "小区"])
def test_other_parentheses_are_not_responsibilities(raw):
    assert parse_parenthetical(raw) is None


def test_et_al_and_local_governments(catalog):
    r = catalog.records_of("41-1.2.10").responsibilities[0]
    assert [(u.name, u.et_al, u.local_gov) for u in r.responsible] == [
        ("省林业厅", False, False), ("省财政厅", False, False), ("省人力资源社会保障厅", True, False),
        ("有关地方政府", False, True)]
    assert not r.lead


def test_inline_lead_with_huitong(catalog):
    [r] = [r for r in catalog.records_of("42-4.1").responsibilities if r.inline]
    assert [u.name for u in r.lead] == ["省军区"] and [u.name for u in r.participants] == ["省政府有关部门"]


def test_paragraph_level_owners_differ_within_a_clause(catalog):
    # 40号 二(六)2 has two paragraphs with different leads: each covers its own text
    rs = catalog.records_of("40-2.6.2").responsibilities
    assert [u.name for r in rs for u in r.lead] == ["省环保厅", "省国土资源厅"]
    c = catalog.by_id["40-2.6.2"]
    pos = c.start + c.text.index("污染地块名录")
    from assistant.ingest.records import owners_at
    assert owners_at(catalog.records_of(c.clause_id), pos).lead[0].name == "省国土资源厅"


def test_targets(catalog):
    ts = [t for c in catalog.clauses for t in catalog.records_of(c.clause_id).targets]
    by = {(t.indicator, t.year): t for t in ts if t.kind == "target"}
    assert by[("受污染耕地安全利用率", 2020)].qualifier == "左右"
    assert by[("受污染耕地安全利用率", 2030)].value == "95%"
    assert by[("各市(州)污水处理厂污泥无害化处置率", 2020)].date == "2020年年底前"
    assert by[("集中连片盐碱地治理修复", 2020)].value == "100万亩"
    deadlines = {(t.clause_id, t.date) for t in ts if t.kind == "deadline"}
    assert ("42-3.4", "2017年3月") in deadlines and ("40-2.7.2", "2017年") in deadlines
    assert not [t for t in ts if t.clause_id.endswith("notice")]


def test_inline_duties_are_records(catalog):
    rs = [r for r in catalog.records_of("42-4.2").responsibilities if r.inline]
    assert len(rs) == 10
    c = catalog.by_id["42-4.2"]
    from assistant.ingest.records import owners_at
    pos = c.start + c.text.index("侦查、取证")
    assert [u.name for u in owners_at(catalog.records_of("42-4.2"), pos).responsible] == ["省公安厅"]
    assert [u.name for u in rs[-1].responsible] == ["省国土资源厅", "省住房城乡建设厅", "省水利厅", "省农委", "省林业厅"]


# ---- owner fields per record (issue 11) ---------------------------------------------------------------

def _json_records(catalog):
    from assistant.ingest.records import clause_to_dict
    return [clause_to_dict(c, catalog.records_of(c.clause_id)) for c in catalog.clauses]


def test_no_name_twice_in_a_record_and_no_et_al_in_names(catalog):
    for d in _json_records(catalog):
        for r in d["responsibilities"]:
            names = r["lead"] + r["participants"] + r["responsible"]
            assert len(names) == len(set(names)), (d["clause_id"], r["raw"])
            assert [u["name"] for u in r["units"]] == names
            assert not any("等" in n for n in names), (d["clause_id"], names)
        if "lead" in d:  # flattened fields only when every unit is named once in the clause
            flat = d["lead"] + d["participants"] + d["responsible"]
            assert len(flat) == len(set(flat)), d["clause_id"]


def test_statements_stay_apart(catalog):
    d = {x["clause_id"]: x for x in _json_records(catalog)}
    # 40号 二(四)2: two paragraphs, two statements; 省工业和信息化厅 takes part in one and leads the other
    first, second = d["40-2.4.2"]["responsibilities"]
    assert first["lead"] == ["省环保厅"] and "省工业和信息化厅" in first["participants"]
    assert second["lead"] == ["省环保厅", "省工业和信息化厅"] and second["participants"] == ["省发展改革委"]
    assert "lead" not in d["40-2.4.2"]  # flattening would name 省环保厅 twice and 省工业和信息化厅 in two roles
    # 40号 四(五): publicity (省委宣传部 leads) and disclosure/litigation (省环保厅 leads) are two groups
    pub, lit = d["40-4.5"]["responsibilities"]
    assert pub["lead"] == ["省委宣传部"] and "省环保厅" in pub["participants"]
    assert lit["lead"] == ["省环保厅"] and lit["participants"][:2] == ["省检察院", "省法院"]
    text = d["40-4.5"]["text"]
    assert text[slice(*lit["span"])].lstrip().startswith("推进信息公开和公益诉讼")
    assert d["40-2.3"]["lead"] == ["省国土资源厅"]  # one statement: the flat fields are that statement's


def test_et_al_is_a_flag_and_shared_government_is_split(catalog):
    d = {x["clause_id"]: x for x in _json_records(catalog)}
    [r] = d["40-2.6.1"]["responsibilities"]
    assert r["participants"] == ["省国土资源厅", "省环保厅", "省林业厅"]
    assert [(u["name"], u["et_al"], u["others"]) for u in r["units"] if u["et_al"]] == [("省林业厅", True, "部门")]
    [r] = d["41-1.2.5"]["responsibilities"]
    assert r["responsible"] == ["省国资委", "长春市政府", "吉林市政府"]
    assert [u["name"] for u in r["units"] if u["et_al"]] == ["吉林市政府"]
    [r] = d["41-3.9.61"]["responsibilities"]
    assert r["responsible"][:5] == ["长春市政府", "吉林市政府", "四平市政府", "辽源市政府", "白城市政府"]
    assert all(u["local_gov"] for u in r["units"][:5])


def test_agency_table_rows_are_per_statement(catalog):
    from assistant.answer.tables import agency_rows
    rows = agency_rows(catalog)
    keys = [(r["agency"], r["role"], r["clause_id"], r["heading"], r["statement"]) for r in rows]
    assert len(keys) == len(set(keys))
    roles = {}
    for r in rows:
        roles.setdefault((r["agency"], r["clause_id"], r["heading"], r["statement"]), set()).add(r["role"])
    assert all(len(v) == 1 for v in roles.values())
    assert not any("等" in r["agency"] for r in rows)
    # two statements of one clause are told apart by what they cover
    tasks = {r["heading"] for r in rows if r["clause_id"] == "40-4.5"}
    assert len(tasks) == 2 and any(t.startswith("推进信息公开和公益诉讼") for t in tasks)
