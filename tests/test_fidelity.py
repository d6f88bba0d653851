"""Every English rendering says what its clause says, as far as assistant/fidelity.py can check (fast)."""
import re

import pytest

from assistant.ingest.catalog import Catalog
from assistant.answer.fidelity import (Problem, check_rendering, check_renderings, en_quantities, load_word_rules,
                                owner_statements, zh_numeral_values, zh_quantities, Quantity)
from assistant.ingest.glossary import load_renderings

CATALOG = Catalog.load()
RENDERINGS = load_renderings()


@pytest.mark.parametrize("clause_id", [c.clause_id for c in CATALOG.clauses])
def test_every_clause_has_a_faithful_rendering(clause_id):
    c = CATALOG.by_id[clause_id]
    problems = check_rendering(c, CATALOG.records_of(clause_id), RENDERINGS.get(clause_id))
    assert problems == [], "\n".join(map(str, problems))


def test_no_rendering_of_a_clause_that_does_not_exist():
    assert check_renderings(CATALOG, RENDERINGS) == []
    [p] = check_renderings(CATALOG, {**RENDERINGS, "40-9.9": "Item (9): nothing."})
    assert (p.clause_id, p.check) == ("40-9.9", "missing")
    # a clause without a rendering is a failure, not a skip
    without = {k: v for k, v in RENDERINGS.items() if k != "40-2.3"}
    assert [(p.clause_id, p.check) for p in check_renderings(CATALOG, without)] == [("40-2.3", "missing")]


def problems_of(clause_id: str, english: str) -> list[Problem]:
    return check_rendering(CATALOG.by_id[clause_id], CATALOG.records_of(clause_id), english)


def planted(clause_id: str, old: str, new: str) -> list[Problem]:
    en = RENDERINGS[clause_id]
    assert old in en, f"the planted change needs {old!r} in the rendering of {clause_id}"
    return problems_of(clause_id, en.replace(old, new, 1))


# ---- planted mistakes: each is caught, and by the right check ------------------------------------------

def test_a_dropped_ban_fails():
    # 40-2.6.1 bans edible crops on strict-control farmland (严禁种植食用农产品): drop that limb
    problems = planted("40-2.6.1", ", strictly prohibit growing edible agricultural products there", "")
    assert [p.check for p in problems] == ["words"] and "prohibit" in problems[0].message
    assert "the Chinese says 不得、严禁、禁止 3 time(s), the rendering 2" in problems[0].message


def test_an_added_ban_fails():
    # 严格控制 (strictly control) is not a ban: rendering it "no new …" adds one and drops "strictly control"
    problems = planted("40-4.2", "strictly control new enterprises", "no new enterprises")
    assert {p.message.split(":")[0] for p in problems} == {"prohibit", "strictly-control", "strict"}


def test_a_changed_year_fails():
    problems = planted("40-2.5.2", "In 2017 complete", "In 2018 complete")
    assert [(p.check, p.message) for p in problems] == [
        ("numbers", "2017 is in the Chinese text, not in the rendering"),
        ("numbers", "2018 is in the rendering, not in the Chinese text")]


def test_a_missing_agency_fails():
    problems = planted("40-2.3", ", Provincial Forestry Department", "")
    assert [p.check for p in problems] == ["owners"] and problems[0].message.startswith("省林业厅 (Provincial Forestry")


def test_an_agency_in_the_wrong_role_fails():
    en = RENDERINGS["40-2.3"].replace("Lead: Provincial Department of Land and Resources; participating: ",
                                      "Lead: Provincial Environmental Protection Department; participating: "
                                      "Provincial Department of Land and Resources, ")
    messages = [p.message for p in problems_of("40-2.3", en)]
    assert any(m.startswith("省国土资源厅") and "it is named as participants" in m for m in messages)


def test_a_missing_statement_and_a_dropped_et_al_fail():
    en = RENDERINGS["40-2.4.2"]
    first = owner_statements(en)
    assert len(first) == 2
    dropped = re.sub(r" \(Lead: [^()]*\)", "", en, count=1)
    assert any("2 responsibility parenthetical(s), the rendering 1" in p.message for p in problems_of("40-2.4.2", dropped))
    problems = planted("40-2.6.1", "Provincial Forestry Department and other departments", "Provincial Forestry Department")
    assert [p.check for p in problems] == ["owners"] and "等 is not rendered" in problems[0].message


def test_inline_owners_need_their_role_in_one_sentence():
    problems = planted("42-4.1", "led by the Provincial Military District together with", "for the Provincial Military District and")
    assert [p.check for p in problems] == ["owners"] and "省军区" in problems[0].message


@pytest.mark.parametrize("clause_id, old, new, check", [
    ("40-1.p3", "about 90%", "90%", "qualifiers"),                       # 90%左右
    ("40-2.2", "over 10,000 mu", "10,000 mu", "qualifiers"),             # 1万亩以上
    ("40-2.2", "1 million mu", "1 million hectares", "units"),           # 100万亩
    ("42-3.1", "in June 2016", "in July 2016", "months"),                # 2016年6月
    ("40-4.1", "end of January", "end of the year", "months"),           # 1月底前
    ("41-2.5.28", "247", "274", "numbers"),
    ("41-2.7.36", "study setting up", "set up", "words"),                # 研究设立: study, not decided
    ("41-2.7.39", "seek early approval", "obtain early approval", "words"),  # 争取
    ("40-2.5.6", "encourage the building", "the building", "words"),     # 鼓励
    ("40-4.5", "may bring lawsuits", "bring lawsuits", "words"),         # 可以
    ("40-3.1", "It must include", "It includes", "words"),               # 要
    ("42-1.3", "shall be pursued", "is pursued", "words"),               # 应
])
def test_planted_changes_are_caught(clause_id, old, new, check):
    assert check in {p.check for p in planted(clause_id, old, new)}


# ---- the pieces ----------------------------------------------------------------------------------------

def test_word_table_has_the_pairs_the_check_promises():
    rules = {r.name: r for r in load_word_rules()}
    for zh, name, en in [("严禁", "prohibit", "strictly prohibited"), ("禁止", "prohibit", "a ban on"),
                         ("严格控制", "strictly-control", "strictly control"), ("鼓励", "encourage", "encourages"),
                         ("研究", "study", "study"), ("争取", "seek", "seek"), ("可以", "may", "may"),
                         ("应", "must", "shall"), ("要", "must", "must"), ("必须", "must", "must")]:
        assert rules[name].zh.search(zh) and rules[name].en.search(en), (zh, en)
    assert rules["prohibit"].rule == "equal"
    for not_must in ("主要任务", "重要基地", "需要修复", "要求", "应急预案", "应用", "相应标准"):
        assert not rules["must"].zh.search(not_must), not_must
    assert not rules["prohibit"].en.search("Zhong Ban Fa [2015] No. 57")


@pytest.mark.parametrize("zh, quantities", [
    ("到2020年力争完成100万亩集中连片盐碱地治理修复", [Quantity(2020), Quantity(1e6, "mu")]),
    ("完成土地复垦治理1万亩以上", [Quantity(1e4, "mu", "above")]),
    ("受污染耕地安全利用率达到90%左右", [Quantity(90, "%", "about")]),
    ("推动组建3-5支社会化专业队伍", [Quantity(3), Quantity(5)]),
    ("2016年6月,省政府成立", [Quantity(2016)]),     # the month is checked as a month
    ("耕层平均厚度达到20厘米以上", [Quantity(20, "cm", "above")]),
])
def test_chinese_quantities(zh, quantities):
    assert zh_quantities(zh) == quantities


@pytest.mark.parametrize("en, quantities", [
    ("remediate 1 million mu by 2020", [Quantity(1e6, "mu"), Quantity(2020)]),
    ("over 10,000 mu", [Quantity(1e4, "mu", "above")]),
    ("reaches about 90% and 95% or above", [Quantity(90, "%", "about"), Quantity(95, "%", "above")]),
    ("20 cm or above", [Quantity(20, "cm", "above")]),
])
def test_english_quantities(en, quantities):
    assert en_quantities(en) == quantities


def test_chinese_numerals_allow_figures_in_english():
    assert {13.0, 5.0} <= zh_numeral_values("“十三五”期间") and 1e10 in zh_numeral_values("增产百亿斤粮")
