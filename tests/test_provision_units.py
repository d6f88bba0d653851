"""The direct line's choice of clause and sentence, with no model: sentences scored by shared words."""
import pytest

from assistant.ingest.glossary import load_glossary, load_renderings
from assistant.answer.question import parse
from assistant.search.retrieval import Hit
from assistant.answer.routes import Context, provision


@pytest.fixture(scope="module")
def ctx(catalog):
    return Context(catalog, load_glossary(), load_renderings(), None)


def hit(ctx, clause_id, q):
    clause = ctx.catalog.by_id[clause_id]
    return Hit(clause, 1.0, {}, provision.sentences_of(clause, q, ctx))


def test_an_english_when_question_is_matched_on_the_rendering(ctx):
    """'by what date' names no Chinese term of its own: the time is looked for in the rendering's sentences
    on what the question names (the January report of 40-4.1), not in any sentence sharing 土壤."""
    q = parse("How often does the province's soil coordination body have to report on progress, and by what date?")
    assert provision.states_what_is_asked(q, hit(ctx, "40-4.1", q), ctx)
    a = provision.answer(q, hit(ctx, "40-4.1", q), [], ctx)
    assert a.kind == "deadline" and "January" in a.answer


def test_the_date_of_issue_is_no_deadline(ctx):
    """The notice's date (2016年12月8日) is when the document was issued; the deadline is in the provision."""
    q = parse("42号方案的试点什么时候全面完成？")
    assert not provision.states_what_is_asked(q, hit(ctx, "42-notice", q), ctx)
    assert provision.states_what_is_asked(q, hit(ctx, "42-3.6", q), ctx)


def test_a_question_naming_two_years_gets_the_figure_of_each(ctx):
    q = parse("40号文受污染耕地安全利用率2020年和2030年分别要求多少？")
    a = provision.answer(q, hit(ctx, "40-1.p3", q), [], ctx)
    assert a.kind == "target" and "90%" in a.answer and "95%" in a.answer
    assert a.answer.index("2020") < a.answer.index("2030")


def test_a_question_for_every_deadline_gets_each_of_them(ctx):
    q = parse("40号文对土壤污染状况详查有哪些时间要求？")
    a = provision.answer(q, hit(ctx, "40-2.7.1", q), [], ctx)
    assert a.kind == "deadline" and "2018年年底前" in a.answer and "2020年年底前" in a.answer and ";；" not in a.answer


def test_an_english_deadline_line_is_the_rendering_of_its_year(ctx):
    """The monitoring network is due by end-2020; the rendering's sentence on end-2017 is another step."""
    q = parse("What is the completion date of the soil monitoring network?")
    a = provision.answer(q, hit(ctx, "40-2.7.3", q), [], ctx)
    assert a.kind == "deadline" and a.answer.startswith("By end-2020") and "2017" not in a.answer


def test_an_english_line_is_a_whole_statement_not_a_label_or_the_list_of_agencies(ctx):
    from assistant.answer.routes.provision import english_units
    units = [u for u, _ in english_units(ctx.renderings["41-2.8.52"], {})]
    assert units == ["Measure 52: the Broadband Jilin strategy: all-fibre network cities and wireless broadband."]
    q = parse("measure 52 of document 41")
    assert provision.best_english(hit(ctx, "41-2.8.52", q), ctx) == \
        "The Broadband Jilin strategy: all-fibre network cities and wireless broadband."
    # a clause with a parenthetical after each of its steps: no piece of one is a statement
    assert not any("Provincial" in u.split(":")[0] or u.startswith("(") or u.endswith(")")
                   for u, _ in english_units(ctx.renderings["42-2.4"], {}))


def test_who_pays_in_english_is_the_sentence_naming_the_liable_party(ctx):
    q = parse("Who pays for cleaning up a contaminated site?")
    a = provision.answer(q, hit(ctx, "40-2.4.4", q), [], ctx)
    assert a.kind == "liable" and "lies with the unit or individual that caused the soil pollution" in a.answer


def test_a_question_for_a_figure_and_its_lead_gets_the_figure_with_the_lead(ctx):
    q = parse("俺想牵头搞个有机大米基地，省里打算建多少个有机、绿色食品基地？")   # 牵头 here is the asker's
    assert q.asking("figure") and q.asking("lead")
    a = provision.answer(q, hit(ctx, "40-2.5.6", q), [], ctx)
    assert "20个" in a.answer and "27个" in a.answer and "省农委" in a.answer


def test_may_the_verb_is_no_month_and_a_few_shared_words_are_no_topic(ctx):
    """40-2.6.1 ('other construction may not occupy it', a deadline for classifying farmland) says nothing of
    when pumped-storage plants start construction."""
    q = parse("When are the two planned pumped-storage hydro plants supposed to start construction?")
    assert not provision.states_what_is_asked(q, hit(ctx, "40-2.6.1", q), ctx)
    assert provision.TIME_EN.search("Complete it by May 2018") and not provision.TIME_EN.search("it may not")


def test_the_liable_party_is_read_from_a_verb_not_a_noun(ctx):
    """赔偿 in 赔偿资金 (the compensation money) names no one who pays; 由赔偿义务人承担 does."""
    q = parse("污染了环境，修复的钱谁来出？")
    a = provision.answer(q, hit(ctx, "42-2.5", q), [], ctx)
    assert a.kind == "liable" and a.answer.endswith("由赔偿义务人承担。"), a.answer


def test_an_english_question_for_a_count_finds_it_in_the_rendering(ctx):
    """'How many … towns': the clause states a count (22个特色示范镇) in a rendering sentence with most of the
    question's words; the glossary names none of them."""
    q = parse("How many special demonstration towns is Jilin building under its new urbanization push?")
    assert provision.states_what_is_asked(q, hit(ctx, "41-2.8.50", q), ctx)
    assert not provision.states_what_is_asked(q, hit(ctx, "41-3.9.58", q), ctx)


@pytest.mark.parametrize("q, cid, said", [
    # a figure and who is responsible: the sentence stating the figure (no target was read from it) and its owners
    ("41号文第6条,首批混合所有制改革试点要选多少家地方国有企业?由谁负责?", "41-1.2.6", ["选择10家以上", "省国资委"]),
    # a time and who leads: the deadline and its lead
    ("覆盖所有县(市、区)的土壤环境质量监测网络什么时候建成?谁牵头?", "40-2.7.3", ["2020年年底", "省环保厅牵头"]),
    # the target the question's words name (利用起来 of 资源化利用率), not the sentence's first
    ("那些大的养殖场,牲口粪便这些废物到2020年得利用起来多少?", "40-2.5.2", ["100%"]),
    # a question naming none of a sentence's targets more than another: all of them
    ("这些年黑土越种越薄，省里说要把土层养到多厚、地力提到啥样？", "40-2.1", ["2%", "20厘米"]),
    # two questions for two figures
    ("黑土地里头的有机质到2020年要提到多少?耕地那层土要多厚?", "40-2.1", ["2%", "20厘米"]),
])
def test_the_line_states_each_thing_asked(ctx, q, cid, said):
    p = parse(q)
    a = provision.answer(p, hit(ctx, cid, p), [], ctx)
    assert all(s in a.answer for s in said), a.answer
