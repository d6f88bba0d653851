"""Whether the documents answer: each mismatch that makes a question 'not stated', and what is no mismatch."""
import pytest

from assistant.answer.answerability import NOT_STATED, Answerability, Confidence
from assistant.ingest.glossary import load_renderings
from assistant.answer.question import parse
from assistant.search.retrieval import Hit

ALWAYS_CONFIDENT = Confidence(-1e9, -1e9, -1e9, 0.0)


@pytest.fixture(scope="module")
def judge(catalog):
    return Answerability(catalog, renderings=load_renderings(), confidence=ALWAYS_CONFIDENT)


def decide(judge, catalog, question, clause_id):
    return judge.decide(parse(question), [Hit(catalog.by_id[clause_id], 10.0, {"e5": 0.9, "use": 0.5})])


@pytest.mark.parametrize("q, cid, reason_has", [
    ("辽宁省对搞土壤修复的企业有什么扶持政策？", "40-2.7.2", "辽宁"),                       # another province
    ("浙江省的生态环境损害赔偿绩效评估由哪个部门组织？", "42-2.4", "浙江"),                # named elsewhere, not here
    ("到2025年，全省要新建多少个5A级景区？", "41-2.6.34", "2025"),                       # a year not stated
    ("What output value should Jilin's soil remediation industry reach by 2035?", "40-2.7.2", "2035"),
    ("煤矿去产能以后，分流的职工每人能拿多少安置补偿金？", "41-2.5.25", "金额"),           # no sum of money
    ("长春新区规划面积有多少平方公里？", "41-3.9.57", "面积"),
    ("“河长制”在这几个文件里由哪个部门牵头？", "40-2.6.3", "河长制"),                     # a name never used
    ("吉林省城市生活垃圾分类覆盖率目标是多少？", "40-2.5.4", "城市生活垃圾分类覆盖率"),     # a rate not stated
    ("吉林大学的录取分数线是多少？", "41-2.7.41", "录取分数线"),                          # an indicator not stated
    ("长春市市长叫什么？", "41-2.4.20", "市长"),                                        # an office holder not named
    ("Who is the governor of Jilin province?", "42-2.4", "governor"),
    ("What is the bus fare in Jilin City?", "41-3.10.65", "sum of money"),            # no sum of money
    ("What is the PM2.5 carbon intensity target for 2020?", "40-1.p2", "carbon"),    # a word no provision uses
    ("What does the Boao Forum for Asia do for Jilin?", "41-preamble", "Boao Forum"),  # a name never used
    ("外地人在长春怎么办理居住证？", "41-3.9.58", "程序"),                              # no procedure described
    ("Where can I register a small business in Jilin?", "40-2.5.5", "procedure"),
    ("明天长春的空气质量怎么样？", "40-2.4.1", "明天"),                                  # a day relative to now
    ("Will it rain in Changchun tomorrow?", "40-2.5.5", "tomorrow"),
    ("What fine in yuan does a company face if it skips soil monitoring?", "40-2.4.1", "sum of money"),
    ("Which provincial governor signed off the revitalization measures?", "41-preamble", "governor"),
    ("要新建多少个5A级景区？", "41-2.6.34", "数量"),          # 新建一批: "a number of" states no count
])
def test_not_stated_names_the_mismatch(judge, catalog, q, cid, reason_has):
    d = decide(judge, catalog, q, cid)
    assert d.outcome == NOT_STATED and reason_has in d.reason, d


@pytest.mark.parametrize("q, cid", [
    ("我家在公主岭种地，我们那儿算不算中部黑土地核心区？", "40-2.1"),     # a place in Jilin
    ("到2020年农膜回收率要达到多少？", "40-2.5.1"),                      # the rate is stated (its year carried)
    ("2020年秸秆综合利用率要达到多少？", "40-2.5.5"),
    ("吉林省的秸秆综合利用率目标是多少？", "40-2.5.5"),
    ("化肥利用率到2020年要提高到多少？", "40-2.5.1"),
    ("2016年印发的清洁土壤行动计划由谁负责落实？", "40-3.2"),             # the documents' own year
    ("Which department handles the Made in China 2025 measure?", "41-2.4.17"),  # 2025 in a name
    ("项目负责和服务推进机制实行几级联动部署？", "41-2.8.55"),            # 三级: a count in words
    ("Are any new high-speed rail lines towards Liaoning being planned?", "41-3.9.60"),
    ("What is the straw target?", "40-2.5.5"),                                       # an indicator it states
    ("What harmless-disposal rate must sewage sludge from city wastewater plants reach by end-2020?", "40-2.4.3"),
    ("Which big research facilities at Jilin University does the plan mention?", "41-2.7.41"),  # a name it uses
    ("生态环境损害赔偿权利人是谁？", "42-1.2.d1"),                                      # a party, not an office
    ("企业去哪办理手续？", "41-1.1.1"),                                # it describes 受理 and 办理: not refused
    ("各市州污水处理厂污泥无害化处置率的目标值和时限是怎么定的？", "40-2.4.3"),   # 目标值 asks, names nothing
    ("清洁土壤行动计划中化肥利用率的目标是多少？到哪一年？", "40-2.5.1"),   # the plan's title is no part of the rate
    ("What cleanup goals are set for land polluted by oil drilling mud?", "40-2.2"),   # clean + up: words it uses
    ("项目负责和服务推进机制实行三级联动，是哪三级？", "41-2.8.55"),
    # a name shortened with its completion in brackets: 白(城)齐(齐哈尔)兴(安盟) names Qiqihar and Hinggan League
    ("Is there a cross-provincial ecological zone involving Baicheng, Qiqihar and Hinggan League?", "41-3.9.61"),
])
def test_answerable_is_not_refused(judge, catalog, q, cid):
    assert decide(judge, catalog, q, cid).found


def test_off_topic_needs_every_signal_weak():
    c = Confidence(max_fused=8.0, max_use=0.3, max_e5=0.85)
    weak = Hit(None, 5.0, {"use": 0.1, "e5": 0.8})
    assert c.off_topic(weak)
    assert not c.off_topic(Hit(None, 5.0, {"use": 0.1, "e5": 0.9}))   # e5 confident: answered
    assert not c.off_topic(Hit(None, 9.0, {"use": 0.1, "e5": 0.8}))   # stands out of the clauses: answered


def test_a_lower_clause_that_states_the_figure_is_judged_off_topic_by_the_top_one(catalog):
    """The clause chosen for stating the deadline may be weak on every signal; whether the question is about
    these documents at all is read from the top-ranked clause."""
    judge = Answerability(catalog, renderings=load_renderings(), confidence=Confidence(8.0, 0.3, 0.85))
    q = parse("42号方案的试点什么时候全面完成？")
    chosen = Hit(catalog.by_id["42-3.6"], 2.0, {"use": 0.16, "e5": 0.83})
    top = Hit(catalog.by_id["42-notice"], 9.0, {"use": 0.24, "e5": 0.84})
    assert judge.decide(q, [chosen]).outcome == "off_topic"
    assert judge.decide(q, [chosen], confidence_of=top).found


def test_a_clause_naming_the_place_asked_about(judge, catalog):
    q = parse("Are any new high-speed rail lines towards Liaoning being planned?")
    assert judge.names_the_places(q, Hit(catalog.by_id["41-3.9.60"], 1.0))        # 与辽宁沿海经济带合作
    assert not judge.names_the_places(q, Hit(catalog.by_id["41-2.8.45"], 1.0))    # railways, no Liaoning
    assert judge.names_the_places(parse("What is the straw target?"), Hit(catalog.by_id["41-2.8.45"], 1.0))
