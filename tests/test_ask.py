"""End to end with the real models: build an index, ask, score (slow)."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def answerer(index_dir):
    from assistant.answer.answerer import load_answerer
    from assistant.ingest.corpus import DEFAULT_CORPUS_DIR
    return load_answerer(index_dir, corpus_dir=DEFAULT_CORPUS_DIR)


@pytest.mark.parametrize("q, cid, answer_has", [
    ("矿山土壤生态环境恢复治理由哪个部门牵头？", "40-2.3", "省国土资源厅牵头（省环保厅、省林业厅、省住房城乡建设厅参与）"),
    ("Which agency leads mine restoration?", "40-2.3", "Provincial Department of Land and Resources"),
    ("秸秆综合利用率的目标是多少？", "40-2.5.5", "85%"),
    ("What is the straw target?", "40-2.5.5", "85%"),
])
def test_the_two_examples_in_both_languages(answerer, q, cid, answer_has):
    a = answerer.ask(q)
    assert a.found and a.citations[0].clause_id == cid
    assert answer_has in a.answer
    c = a.citations[0]
    assert c.citation.startswith("《吉林省清洁土壤行动计划》（吉政发〔2016〕40号）第二部分")
    s, e = c.span
    assert 0 <= s < e <= len(c.text)


def test_batch_json_one_line_per_input_in_order(index_dir):
    qs = ["What is the straw target?", "", "   ", "长春新区规划面积有多少平方公里？", "41号 第17条"]
    p = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "--batch", "-", "--index", str(index_dir)],
                       input="\n".join(qs) + "\n", capture_output=True, text=True, cwd=ROOT, check=True)
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["question"] for r in rows] == qs
    assert rows[0]["found"] and not rows[1]["found"] and not rows[3]["found"]
    assert rows[4]["citations"][0]["clause_id"] == "41-2.4.17"
    for r in rows:
        assert set(r) >= {"question", "found", "answer", "citations"}


def test_dev_set_targets(index_dir):
    cmd = f"{sys.executable} -m assistant ask --json --batch - --index {index_dir}"
    p = subprocess.run([sys.executable, "eval/score.py", "eval/dev.jsonl", "--cmd", cmd,
                        "--min-hit1", "0.95", "--min-hit5", "1.0", "--min-mrr", "0.96",
                        "--max-false-refuse", "0", "--min-refuse", "0.6"],   # d003 (长春地铁票价) is a known miss: test_known_off_topic_misses
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]


@pytest.mark.parametrize("q", ["辽宁省对搞土壤修复的企业有什么扶持政策？", "我的养老金每个月能领多少钱？",
                               "What is Shanghai's 2020 target for groundwater remediation?", "吉林省森林覆盖率目标是多少？",
                               "吉林省省长是谁？", "What is the minimum wage in Jilin?",
                               "What role does the China-Northeast Asia Expo play in Jilin's opening-up measures?",
                               "How do I apply for a work permit as a foreign employee in Changchun?",
                               "明天长春天气怎么样？"])
def test_refusals_say_so_and_offer_related(answerer, q):
    a = answerer.ask(q)
    assert not a.found and a.answer.startswith(("文件中未涉及", "Not covered by these documents"))
    assert a.reason and a.reason in a.answer and a.kind in ("not_stated", "off_topic")


@pytest.mark.xfail(strict=True, reason="known miss (issue 10 note): a short off-topic question whose words sit near "
                   "the documents' (地铁 ~ 轨道交通) is answered; no signal here separates it from colloquial questions "
                   "without refusing answerable ones. Strict: passes only while the miss remains.")
@pytest.mark.parametrize("q", ["长春地铁票价怎么定的？"])
def test_known_off_topic_misses(answerer, q):
    assert not answerer.ask(q).found


def test_document_facts(answerer):
    a = answerer.ask("《吉林省清洁土壤行动计划》的文号和印发日期？")
    assert a.found and a.answer.endswith("吉政发〔2016〕40号，2016年11月28日")
    a = answerer.ask("Which State Council opinion do the measures in Ji Zheng Fa [2016] No. 41 implement?")
    assert "国发〔2016〕62号" in a.answer and a.citations[0].clause_id == "41-preamble"
    a = answerer.ask("Who issued document 42?")
    assert "Jilin Provincial People's Government" in a.answer and "inferred" in a.answer
    a = answerer.ask("42号文件的标题是什么？")
    assert a.answer.startswith("吉政发〔2016〕42号：《吉林省生态环境损害赔偿制度改革试点工作实施方案》") and a.kind == "document"
    span = a.citations[0].span
    assert a.citations[0].text[span[0]:span[1]] == "吉林省生态环境损害赔偿制度改革试点工作实施方案"
    a = answerer.ask("What is the title of document No. 40?")
    assert a.answer.startswith("吉政发〔2016〕40号: 《吉林省清洁土壤行动计划》")
    # a name that is not a document's title is not answered with one
    assert answerer.ask("生态环境损害赔偿工作领导小组叫什么？").kind != "document"


def test_reverse_lookup(answerer, catalog):
    a = answerer.ask("省财政厅牵头哪些工作？")
    assert a.found and a.kind == "reverse"
    assert [c.clause_id for c in a.citations] == ["40-4.3"]
    en = answerer.ask("What does the Provincial Finance Department lead?")
    assert [c.clause_id for c in en.citations] == ["40-4.3"] and en.answer.startswith("Provincial Finance Department")


def test_lookup_by_citation_in_questions(answerer):
    assert answerer.ask("41号文第17条").citations[0].clause_id == "41-2.4.17"
    assert answerer.ask("measure 64 of document 41").citations[0].clause_id == "41-3.10.64"
    a = answerer.ask("42号文第二部分第（三）项的责任单位有哪些？")
    assert a.citations[0].clause_id == "42-2.3" and a.answer.startswith("省环保厅、省法院")


def test_english_answers_carry_the_rendering(answerer):
    a = answerer.ask("What does the baseline survey cover in the eastern Changbai Mountain forest zone?")
    top = a.citations[0]
    assert top.clause_id == "42-2.1" and "forest stand types" in a.answer
    assert top.english and "baseline survey" in top.english


def test_conversation_follow_ups(answerer):
    from assistant.answer.conversation import Conversation
    conv = Conversation(answerer)
    assert conv.ask("矿山土壤生态环境恢复治理由哪个部门牵头？").citations[0].clause_id == "40-2.3"
    a = conv.ask("那参与单位呢？")
    assert a.answer == "省环保厅、省林业厅、省住房城乡建设厅参与" and a.citations[0].clause_id == "40-2.3"
    a = conv.ask("这条的原文")
    assert a.answer == answerer.catalog.by_id["40-2.3"].text
    conv.ask("What is the straw target?")
    a = conv.ask("and by when?")
    assert "by 2020" in a.answer.lower() and a.citations[0].clause_id == "40-2.5.5"
    a = conv.ask("沈阳市城区老工业区搬迁改造有什么支持政策？")       # specific words of its own: not a follow-up
    assert not a.found


def test_who_pays_is_answered_with_the_liable_party(answerer):
    a = answerer.ask("被污染的地块谁负责出钱治理？")
    assert a.found and a.kind == "liable" and "由造成土壤污染的单位或个人负责" in a.answer
    a = answerer.ask("污染了环境，修复的钱谁来出？")
    assert a.found and a.kind == "liable" and "赔偿义务人" in a.answer
    en = answerer.ask("Who has to pay for environmental damage?")
    assert en.found and en.kind == "liable" and re.search(r"\b(pay|liable|bear|compensat)", en.answer, re.I)


def test_follow_ups_say_what_the_clause_does_not_state(answerer):
    from assistant.answer.conversation import Conversation
    conv = Conversation(answerer)
    first = conv.ask("生态环境损害赔偿权利人是谁？")
    a = conv.ask("那什么时候完成？")
    assert a.found and a.answer.startswith("该条未规定完成时限") and a.citations[0].clause_id == first.citations[0].clause_id
    conv = Conversation(answerer)
    first = conv.ask("Who is the compensation claimant for eco-environmental damage?")
    a = conv.ask("and by when?")
    assert a.answer == "This provision sets no deadline." and a.citations[0].clause_id == first.citations[0].clause_id
    a = conv.ask("那谁参与？")
    assert a.answer.startswith("该条未列出参与单位") and a.citations[0].clause_id == first.citations[0].clause_id


def test_a_follow_up_naming_a_new_topic_is_asked_in_the_frame_of_the_last(answerer):
    from assistant.answer.conversation import Conversation
    conv = Conversation(answerer)
    assert conv.ask("秸秆综合利用率的目标是多少？").citations[0].clause_id == "40-2.5.5"
    a = conv.ask("矿山治理呢？")
    assert a.found and a.citations[0].clause_id == "40-2.3"


@pytest.mark.parametrize("q, cid", [("41号文件第52条", "41-2.8.52"), ("41号第52条", "41-2.8.52"),
                                    ("东北振兴措施第52条", "41-2.8.52"), ("measure 52 of document 41", "41-2.8.52"),
                                    ("40号文二(五)5", "40-2.5.5"), ("40号文第二部分第（五）项第5目", "40-2.5.5")])
def test_citation_forms_people_type(answerer, q, cid):
    a = answerer.ask(q)
    assert a.found and a.kind == "lookup" and a.citations[0].clause_id == cid


def test_measure_number_from_the_conversation(answerer):
    from assistant.answer.conversation import Conversation
    conv = Conversation(answerer)
    conv.ask("41号文第17条")
    assert conv.ask("第52条").citations[0].clause_id == "41-2.8.52"
    conv.ask("秸秆综合利用率的目标是多少？")
    a = conv.ask("第二部分第(五)项第5目")
    assert a.kind == "lookup" and a.citations[0].clause_id == "40-2.5.5"


@pytest.mark.parametrize("q, figure", [("化肥利用率到2020年要提高到多少？", "40%"), ("到2020年农膜回收率要达到多少？", "80%"),
                                       ("2020年秸秆综合利用率要达到多少？", "85%")])
def test_a_target_answer_states_the_rate_asked(answerer, q, figure):
    a = answerer.ask(q)
    assert a.found and a.kind == "target" and figure in a.answer


@pytest.mark.parametrize("q, cid, said", [
    # the target whose rendering words the question names, in those words (not the first of the clause's sentence)
    ("What share of large farms should have waste treatment facilities by 2020?", "40-2.5.2",
     "the share of large-scale farms (compounds) with supporting waste treatment facilities 75% or above"),
    ("How much plastic film should be recycled by 2020?", "40-2.5.1", "film recovery rate of 80% or above"),
    ("What is the target for fertilizer use efficiency?", "40-2.5.1", "fertilizer utilization rate raised to 40%"),
])
def test_an_english_target_answer_is_the_one_asked_in_the_renderings_words(answerer, q, cid, said):
    a = answerer.ask(q)
    assert a.found and a.kind == "target" and a.citations[0].clause_id == cid
    assert said in a.answer and a.answer.startswith("By 2020"), a.answer


@pytest.mark.parametrize("q, cid, figures", [
    ("清洁土壤行动计划的主要指标有哪些？", "40-1.p3", ["2020", "90%", "2030", "95%"]),
    # English: the rendering's own sentence names each indicator (the glossary called two of them "farming")
    ("What goals are set for big livestock farms dealing with manure and waste by 2020?", "40-2.5.2",
     ["90%", "75%", "100%", "supporting waste treatment facilities"]),
])
def test_a_question_for_every_target_lists_them(answerer, q, cid, figures):
    a = answerer.ask(q)
    assert a.found and a.citations[0].clause_id == cid
    assert all(f in a.answer for f in figures), a.answer
    first = a.citations[0]            # the span quoted and highlighted holds every target listed
    quoted = first.text[first.span[0]:first.span[1]]
    assert all(f in quoted for f in figures if f[0].isdigit()), quoted


def test_not_stated_gives_the_reason_and_the_nearest_provisions(answerer):
    a = answerer.ask("辽宁省对搞土壤修复的企业有什么扶持政策？")
    assert not a.found and a.kind == "not_stated" and "辽宁" in a.reason and a.citations
    a = answerer.ask("到2025年，全省要新建多少个5A级景区？")
    assert not a.found and "2025" in a.reason


def test_a_place_outside_the_province_is_answered_from_the_close_clause_naming_it(answerer):
    a = answerer.ask("Are any new high-speed rail lines towards Liaoning being planned?")
    assert a.found and a.citations[0].clause_id == "41-3.9.60"
    assert not answerer.ask("辽宁省对搞土壤修复的企业有什么扶持政策？").found      # named by no close clause


def test_an_agency_with_a_topic_is_not_a_list_of_its_provisions(answerer):
    a = answerer.ask("What does the Provincial Environmental Protection Department have to do about tailings ponds?")
    assert a.found and a.kind != "reverse" and len(a.citations) <= 5
    assert answerer.ask("What does the Provincial Finance Department lead?").kind == "reverse"


def test_200_threads_asking_at_once_get_the_answers_of_one_thread(answerer):
    """Real models: e5 in the shared pool, USE under one BLAS thread, BM25 and coverage through jieba."""
    import threading
    qs = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
          if line.strip()][:20]
    alone = {q: answerer.ask(q).to_dict() for q in qs}
    n = 200
    start = threading.Barrier(n)
    got: list = [None] * n

    def ask(i):
        start.wait()
        got[i] = (qs[i % len(qs)], answerer.ask(qs[i % len(qs)]).to_dict())

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert all(g is not None for g in got), "a thread did not finish"
    differ = [q for q, d in got if d != alone[q]]
    assert not differ, f"{len(differ)} of {n} answers differ from one thread's, e.g. {differ[0]!r}"
