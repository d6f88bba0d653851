"""Parsing a question once: what it asks and what specific things it names (no model needed)."""
import pytest

from assistant.answer.question import parse


@pytest.mark.parametrize("q, asks", [
    ("矿山土壤生态环境恢复治理由哪个部门牵头？", {"lead"}),
    ("村旁边的废矿坑谁来管？", {"lead"}),
    ("污染了环境，修复的钱谁来出？", {"liable"}),
    ("Who has to pay for environmental damage?", {"liable"}),
    ("生态环境损害赔偿权利人是谁？", {"right"}),
    ("那参与单位呢？", {"participants"}),
    ("化肥利用率到2020年要提高到多少？", {"figure"}),
    ("What is the completion date of the soil monitoring network?", {"when"}),   # a deadline, not the date of issue
    ("When was document 41 issued?", {"date"}),
    ("清洁土壤行动计划的主要指标有哪些？", {"figure"}),
    ("这条的原文", {"full_text"}),
    ("省环保厅牵头哪些工作？", {"lead", "tasks_of"}),
])
def test_what_is_asked(q, asks):
    assert asks <= parse(q).asks, parse(q).asks


def test_date_of_issue_is_not_a_deadline():
    assert "date" not in parse("What is the completion date of the soil monitoring network?").asks
    assert "date" not in parse("土壤监测网络什么时候建成？").asks


def test_topic_keeps_words_that_contain_question_characters():
    # 指 of 指标 and 其 of 其他 are not question words
    assert "指标" in parse("清洁土壤行动计划的主要指标有哪些？").topic
    assert not parse("国有企业改革有其他措施吗？").points_back
    assert parse("其牵头单位是谁？").points_back


@pytest.mark.parametrize("q, places", [
    ("辽宁省对搞土壤修复的企业有什么扶持政策？", [("辽宁", "辽宁")]),
    ("Which agency leads research on soil remediation technology in Inner Mongolia?", [("内蒙古", "内蒙古")]),
    ("我家在公主岭种地，我们那儿算不算中部黑土地核心区？", [("公主岭", "吉林")]),
    ("What's the matter with the soil in the west of the province?", []),
])
def test_places(q, places):
    assert [(p.name, p.region) for p in parse(q).places] == places


def test_years_quantities_and_quotes():
    q = parse("到2025年，全省要新建多少个5A级景区？")
    assert q.years == (2025,) and q.quantity == "count"
    assert parse("环境污染让人得了病，按规定每人最高能赔多少钱？").quantity == "money"
    assert parse("长春新区规划面积有多少平方公里？").quantity == "area"
    assert parse("“河长制”在这几个文件里由哪个部门牵头？").quoted == ("河长制",)
    assert parse("“河长制”在这几个文件里由哪个部门牵头？").quantity is None   # 这几个 asks no figure
    assert parse("What's the role of the 'China-Northeast Asia Expo'?").quoted == ("China-Northeast Asia Expo",)
    assert parse("What's the matter with the province's soil?").quoted == ()


@pytest.mark.parametrize("q, office", [
    ("长春市市长叫什么？", "市长"), ("Who is the governor of Jilin province?", "governor"),
    ("What is the name of the environmental protection minister?", "minister"),
    ("生态环境损害赔偿权利人是谁？", None),                     # a party, not the holder of an office
    ("Which office is the leading group's office set up in?", None),
])
def test_the_holder_of_an_office(q, office):
    assert parse(q).office == office


@pytest.mark.parametrize("q, asks", [
    ("Who is supposed to deal with the pile of bad bank loans?", {"lead"}),    # a who-question asks for a party
    ("If the firm was sold, who is on the hook for the cleanup?", {"liable"}),
    ("Who pays for cleaning up polluted land?", {"liable"}),
    ("Who are these notices addressed to?", {"addressees"}),
    ("Who is the governor of Jilin?", set()),                                 # an office holder, not an agency
    ("What does the plan say about bad loans?", set()),
])
def test_an_english_who_question_asks_for_a_party(q, asks):
    assert set(parse(q).asks) & {"lead", "liable", "addressees"} == asks


def test_proper_names_and_sums_of_money_in_english():
    assert parse("What does the Boao Forum for Asia do for Jilin?").names == ("Boao Forum",)
    assert parse("Which big research facilities at Jilin University does the plan mention?").names == ("Jilin University",)
    assert parse("What is the bus fare in Jilin City?").quantity == "money"
    assert parse("What is the minimum wage in Jilin?").quantity == "money"
    assert parse("What pension reforms does the document call for?").quantity is None
    assert parse("What costs are included in the scope of eco-environmental damage compensation?").quantity is None
    # an amount asked as "what <sum> does … pay" or "how much … paid", not only "how much is …"
    assert parse("What fine does a factory pay for dumping waste?").quantity == "money"
    assert parse("What premium do companies pay for the insurance?").quantity == "money"
    assert parse("How much per mu are farmers paid for old mulch film?").quantity == "money"
    assert parse("Who pays for cleaning up polluted land?").quantity is None            # the party, not a sum
    assert parse("What subsidies does the province offer to farmers?").quantity is None  # which, not how much
    assert parse("农户每亩能拿多少补贴？").quantity == "money"
    assert parse("What annual investment amount in yuan is set for it?").quantity == "money"
    assert parse("领导小组的组长是谁？").office == "组长"
    assert parse("有人把草场弄坏了，谁有资格出面找他要赔偿？").asking("right")
    assert parse("有机质要提到多少？耕层要多厚？").many and not parse("秸秆综合利用率是多少？谁牵头？").many


@pytest.mark.parametrize("q, yes", [
    ("外地人在长春怎么办理居住证？", True), ("Where can I register a small business in Jilin?", True),
    ("What documents do I need for a residence permit?", True),
    ("Which national zone does Changchun apply for in independent innovation?", False),   # a policy, not a procedure
    ("赔偿磋商谈不拢怎么办？", False), ("我们有个大项目还在跑前期手续，省里能帮着争取国家的钱吗？", False),
])
def test_a_question_on_how_to_apply(q, yes):
    assert parse(q).procedure is yes


def test_days_relative_to_now():
    assert parse("明天长春天气怎么样？").relative_day == "明天" and parse("Will it rain tomorrow?").relative_day == "tomorrow"
    # 今年 is said for "nowadays": the grain purchase system in force, not a year's figure
    assert parse("今年玉米卖给谁、国家还收不收？").relative_day is None and parse("今年玉米卖给谁？").years == ()
    assert parse("每年1月底前报告什么？").relative_day is None


def test_follow_up_in_the_frame_of_the_last_question():
    q = parse("矿山治理呢？").with_asks(parse("秸秆综合利用率的目标是多少？").asks)
    assert "figure" in q.asks and q.inherited == ("figure",)


def test_a_question_for_a_kind_of_figure_asks_for_a_figure():
    q = parse("多大面积以上的商场改建扩建时必须补建停车场？")
    assert q.quantity == "area" and q.asking("figure")


def test_durations_state_a_figure_but_years_and_dates_do_not():
    from assistant.answer.question import lexicon
    stated = lexicon().quantity["any"]["stated_by"]
    assert stated.search("台账资料保存期限不得少于2年") and stated.search("变更之日起30日内") and stated.search("三十日内")
    assert not stated.search("自2024年11月1日起施行") and not stated.search("到2020年")
