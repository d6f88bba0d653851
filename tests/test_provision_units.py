"""The direct line's choice of clause and sentence, with no model: sentences scored by shared words."""
import pytest

from assistant.glossary import load_glossary, load_renderings
from assistant.question import parse
from assistant.retrieval import Hit
from assistant.routes import Context, provision


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
