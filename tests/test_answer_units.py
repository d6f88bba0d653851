"""Answer building blocks that need no model: owners and target lines, dates, follow-up detection, tables."""
import pytest

from assistant.answer.question import parse
from assistant.answer.phrasing import date_english, owners_line, target_line
from assistant.answer.conversation import is_short, points_back
from assistant.answer.tables import agency_rows, target_rows, to_csv


def test_owners_line_both_languages(catalog):
    [r] = catalog.records_of("40-2.3").responsibilities
    assert owners_line(r, english=False) == "省国土资源厅牵头（省环保厅、省林业厅、省住房城乡建设厅参与）"
    assert owners_line(r, english=False, nested=True) == "省国土资源厅牵头，省环保厅、省林业厅、省住房城乡建设厅参与"
    assert owners_line(r, english=True).startswith("Lead: Provincial Department of Land and Resources; participating:")
    [r41] = catalog.records_of("41-2.7.35").responsibilities
    assert owners_line(r41, english=False) == "长春市政府等有关地方政府、省发展改革委"   # no lead is invented
    assert "Changchun Municipal Government and other relevant local governments" in owners_line(r41, english=True)


def test_target_line(catalog):
    rec = catalog.records_of("40-2.5.5")
    [t] = [t for t in rec.targets if t.indicator == "秸秆综合利用率"]
    zh = target_line(t, rec.responsibilities[0], english=False)
    assert zh.startswith("到2020年，秸秆综合利用率达到85%以上（省农委、省住房城乡建设厅牵头")
    en = target_line(t, rec.responsibilities[0], english=True)
    assert en.startswith("85% or above") and "by 2020" in en and "Provincial Agriculture Commission" in en


@pytest.mark.parametrize("date, en", [("2017年年底前", "by end-2017"), ("2016年6月", "June 2016"),
                                      ("到2020年", "by 2020"), ("2017年起", "from 2017"), ("2018年", "2018")])
def test_date_english(date, en):
    assert date_english(date) == en


@pytest.mark.parametrize("q, yes", [("那参与单位呢？", True), ("这条的原文", True), ("and who leads it?", True),
                                    ("矿山土壤生态环境恢复治理由哪个部门牵头？", False), ("What is the straw target?", False)])
def test_points_back(q, yes):
    assert points_back(q) is yes


def test_is_short():
    assert is_short("by when?") and not is_short("What is the comprehensive straw utilization target for 2020?")


@pytest.mark.parametrize("q, bare", [("41号文第17条", True), ("measure 64 of document 41", True),
                                     ("41号文件第52条", True), ("41号第52条", True), ("东北振兴措施第52条", True),
                                     ("40号文二(五)5", True), ("41号文第17条的原文", True),
                                     ("41号文第17条由谁负责？", False), ("41号第52条讲的宽带谁牵头？", False)])
def test_bare_citation(catalog, q, bare):
    from assistant.answer.routes import Context, lookup
    from assistant.ingest.glossary import load_glossary
    ctx = Context(catalog, load_glossary(), {}, retriever=None)
    found = lookup.cited_clause(parse(q), ctx)
    assert found is not None, q
    assert lookup.is_bare(parse(q), found[1]) is bare


@pytest.mark.parametrize("q, context_doc, cid", [
    ("41号文件第52条", None, "41-2.8.52"), ("41号第52条", None, "41-2.8.52"), ("东北振兴措施第52条", None, "41-2.8.52"),
    ("measure 52 of document 41", None, "41-2.8.52"), ("40号文二(五)5", None, "40-2.5.5"),
    ("40号文第二部分第（五）项第5目", None, "40-2.5.5"),
    ("第52条", "41", "41-2.8.52"),                                  # the document of the conversation
    ("第二部分第（五）项第5目", "40", "40-2.5.5"), ("二(五)5的原文", "40", "40-2.5.5"),
    ("清洁土壤行动计划二(五)5", "42", "40-2.5.5"),                  # a title named beats the conversation's
])
def test_citation_forms_people_type(catalog, q, context_doc, cid):
    from assistant.answer.routes import Context, lookup
    from assistant.ingest.glossary import load_glossary
    ctx = Context(catalog, load_glossary(), {}, retriever=None)
    found = lookup.cited_clause(parse(q), ctx, context_doc=context_doc)
    assert found is not None and found[0].clause_id == cid and lookup.is_bare(parse(q), found[1])


def test_a_part_without_a_document_is_no_citation(catalog):
    from assistant.answer.routes import Context, lookup
    from assistant.ingest.glossary import load_glossary
    ctx = Context(catalog, load_glossary(), {}, retriever=None)
    assert lookup.cited_clause(parse("二(五)5"), ctx) is None                 # which document's? none named
    assert lookup.cited_clause(parse("秸秆综合利用率的目标是多少？"), ctx, context_doc="40") is None


@pytest.mark.parametrize("q, context_doc, cid", [
    ("清洁土壤行动计划的主要指标有哪些？", None, "40-1.p3"),       # a labelled paragraph, its document by title
    ("清洁土壤行动计划总体要求中，对东部土壤提了什么要求？", None, "40-1"),   # a part with text of its own
    ("主要指标是什么？", "40", "40-1.p3"),                          # the document of the conversation
    ("加快推进不良贷款处置 责任单位", None, "41-4.12.78"),          # a heading long enough to name one provision
    ("41号文 加快推进不良贷款处置", None, "41-4.12.78"),
    ("加快推进不良贷款处置", "40", "41-4.12.78"),     # one provision in the library has it, whatever the conversation
])
def test_a_provision_named_by_its_heading(catalog, q, context_doc, cid):
    from assistant.answer.routes import Context, lookup
    from assistant.ingest.glossary import load_glossary
    ctx = Context(catalog, load_glossary(), {}, retriever=None)
    found = lookup.cited_clause(parse(q), ctx, context_doc=context_doc)
    assert found is not None and found[0].clause_id == cid, q


@pytest.mark.parametrize("q, context_doc", [
    ("主要指标有哪些？", None),          # a heading most plans have, no document named: which plan's?
    ("清洁土壤行动计划的重点任务有哪些？", None),   # a bare part heading: its content is in its items
    ("生态环境损害赔偿的主要指标", "42"),     # 42 has no such heading
    ("40号文 加快推进不良贷款处置", None),    # the heading is 41's, the document named is 40
])
def test_a_heading_that_names_no_one_provision_is_no_citation(catalog, q, context_doc):
    from assistant.answer.routes import Context, lookup
    from assistant.ingest.glossary import load_glossary
    ctx = Context(catalog, load_glossary(), {}, retriever=None)
    assert lookup.cited_clause(parse(q), ctx, context_doc=context_doc) is None


def test_agency_table_accepts_aliases(catalog):
    rows = agency_rows(catalog, "省环境保护厅")
    assert rows and all(r["agency"] == "省环保厅" for r in rows)
    assert {"lead", "participants", "responsible"} >= {r["role"] for r in rows}
    assert any(r["clause_id"] == "40-2.2" and r["role"] == "lead" for r in rows)


def test_targets_table_and_csv(catalog):
    rows = target_rows(catalog)
    straw = [r for r in rows if r["indicator"] == "秸秆综合利用率"]
    assert straw[0]["value"] == "85%" and straw[0]["lead"] == "省农委、省住房城乡建设厅"
    text = to_csv(rows)
    assert text.splitlines()[0].startswith("kind,indicator,value,qualifier,year") and "秸秆综合利用率" in text


@pytest.mark.parametrize("q, title", [
    # the phrasings the patterns were written for
    ("42号文件的标题是什么？", True), ("吉政发〔2016〕40号文件叫什么？", True), ("What is the title of document No. 42?", True),
    ("What is document 41 called?", True), ("领导小组叫什么？", False), ("What is the leading group called?", False),
    ("41号文的文号？", False),
    # other ways of asking for a document's title
    ("40号文件的全称是什么？", True), ("请问41号文的名称", True), ("吉政发〔2016〕42号的题目是什么", True),
    ("42号文件叫什么名字？", True), ("40号通知的标题", True), ("What's the full name of document 40?", True),
    ("Give me the title of No. 41", True), ("document 42 title?", True), ("What is plan No. 40 called?", True),
    ("What is the title of Ji Zheng Fa [2016] No. 40?", True),
    # names of other things, and other questions about a document
    ("省环保厅的全称是什么？", False), ("生态环境损害赔偿工作领导小组的名称", False), ("领导小组叫什么名字？", False),
    ("这项工作叫什么？", False), ("What is the name of the leading group?", False), ("Who leads the leading group?", False),
    ("What is the document number of No. 41?", False), ("秸秆综合利用率的目标是多少？", False),
    ("What is the full name of the Provincial Environmental Protection Department?", False),
    ("title of the leading group", False),
])
def test_title_questions(q, title):
    assert ("title" in parse(q).asks) is title


def test_chat_reply_labels_a_line_from_the_rendering():
    from assistant.answer.answerer import Answer, Citation
    from ui import UNOFFICIAL, Page
    english = "Sub-item 5: turning waste into resources. By 2020 the comprehensive straw utilization rate reaches 85%."
    cit = Citation("40-2.5.5", "吉政发〔2016〕40号", "t", "《t》第二部分", "h", "秸秆", 1.0, None, english)
    from_rendering = Answer("q", True, "By 2020 the comprehensive straw utilization rate reaches 85%", (cit,), lang="en")
    assert UNOFFICIAL in Page.reply_text(from_rendering)
    from_records = Answer("q", True, "Lead: Provincial Agriculture Commission", (cit,), lang="en")
    assert UNOFFICIAL not in Page.reply_text(from_records)
    assert UNOFFICIAL not in Page.reply_text(Answer("q", True, "省农委牵头", (cit,), lang="zh"))


def test_the_page_tells_the_three_outcomes_apart(catalog):
    from assistant.serve.render import evidence_html
    from assistant.answer.response import Answer, Citation
    cit = Citation.of(catalog.by_id["40-2.7.2"])
    answered = evidence_html(Answer("q", True, "省环保厅牵头", (cit,)), "zh")
    not_stated = evidence_html(Answer("q", False, "文件中未涉及：…辽宁", (cit,), reason="最接近的条款未涉及辽宁",
                                      kind="not_stated"), "zh")
    off_topic = evidence_html(Answer("q", False, "文件中未涉及：…", (), reason="这些文件中没有与该问题相关的条款",
                                     kind="off_topic"), "en")
    assert "data-outcome" not in answered and cit.citation in answered
    assert "data-outcome='not_stated'" in not_stated and "辽宁" in not_stated and "最接近的条款（不作为答案）" in not_stated
    assert "data-outcome='off_topic'" in off_topic and "Not about these documents" in off_topic
    assert "Nearest provisions" not in off_topic
