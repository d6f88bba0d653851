"""The answer cache: keyed by the question as parsed, the filter, top_k and the index version; bounded; dropped
when the version changes; thread-safe (fast: no models)."""
import threading

import pytest

from assistant.serve.cache import AnswerCache
from assistant.answer.response import Answer


def answer(text="a"):
    return lambda: Answer("q", True, text)


def test_the_same_question_as_parsed_is_a_hit_and_names_the_question_as_asked():
    c = AnswerCache(8)
    first = c.get_or_answer("秸秆目标？", "v1", answer("85%"))
    again = c.get_or_answer("  秸秆目标?  ", "v1", answer("never computed"))   # NFKC ？→?, spaces collapsed
    assert again.answer == first.answer == "85%" and again.question == "  秸秆目标?  "
    assert (c.stats().hits, c.stats().misses) == (1, 1)


@pytest.mark.parametrize("change", [dict(doc="41"), dict(top_k=3), dict(kind="chat")])
def test_the_filter_top_k_and_kind_are_part_of_the_key(change):
    c = AnswerCache(8)
    c.get_or_answer("q", "v1", answer("all"))
    assert c.get_or_answer("q", "v1", answer("other"), **change).answer == "other"


def test_a_new_version_drops_every_answer():
    c = AnswerCache(8)
    c.get_or_answer("q", "v1", answer("old"))
    assert c.get_or_answer("q", "v2", answer("new")).answer == "new"
    assert c.stats().size == 1 and c.get_or_answer("q", "v2", answer("x")).answer == "new"


def test_it_is_bounded_least_recently_used_first():
    c = AnswerCache(2)
    for q in ("a", "b"):
        c.get_or_answer(q, "v", answer(q))
    c.get_or_answer("a", "v", answer("x"))          # a used: b is the oldest
    c.get_or_answer("c", "v", answer("c"))
    assert c.stats().size == 2
    assert c.get_or_answer("a", "v", answer("x")).answer == "a"
    assert c.get_or_answer("b", "v", answer("recomputed")).answer == "recomputed"


def test_capacity_zero_caches_nothing_and_a_negative_one_is_refused():
    c = AnswerCache(0)
    c.get_or_answer("q", "v", answer("1"))
    assert c.get_or_answer("q", "v", answer("2")).answer == "2"
    with pytest.raises(ValueError, match="negative"):
        AnswerCache(-1)


def test_threads_asking_at_once_count_every_lookup():
    c = AnswerCache(16)

    def ask(i):
        for k in range(200):
            c.get_or_answer(f"q{k % 10}", "v", answer(str(k % 10)))
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = c.stats()
    assert s.hits + s.misses == 1600 and s.size == 10 and s.hits >= 1600 - 8 * 10
