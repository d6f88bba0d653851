"""The index contract with a deterministic fake embedder: save → load → search, checks, atomic builds."""
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import BuildInProgress, IndexError_
from assistant.search.index import build_index, build_lock, live_folder, load_index, make_faiss
from assistant.search.models import Encoder
from assistant.search.retrieval import Retriever


class FakeEncoder(Encoder):
    """Bag of hashed character bigrams: deterministic, instant, and similar texts get similar vectors."""

    def __init__(self, dim=64, name="fake-bigrams"):
        self.dim, self.name, self.calls = dim, name, 0

    def _enc(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for j in range(len(t) - 1):
                h = int(hashlib.md5(t[j:j + 2].encode()).hexdigest()[:8], 16)
                out[i, h % self.dim] += 1
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out

    def encode_queries(self, texts):
        return self._enc(texts)

    def encode_passages(self, texts, *, progress=False):
        return self._enc(texts)


@pytest.fixture
def built(tmp_path, catalog):
    enc = {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}
    folder = build_index(catalog, enc, tmp_path / "index")
    return tmp_path / "index", folder, enc


def test_save_load_search_roundtrip(built):
    index_dir, folder, enc = built
    ix = load_index(index_dir)
    assert ix.manifest["counts"]["clauses"] == len(ix.catalog.clauses)
    assert {e["id"]: e["dim"] for e in ix.manifest["encoders"]} == {"e5": 64, "use": 48}
    hits = Retriever(ix, enc).search("推广秸秆还田、机收捡拾打捆等措施,促进秸秆综合利用", top_k=3)
    assert hits[0].clause.clause_id == "40-2.5.5"
    assert [h.clause.clause_id for h in Retriever(load_index(index_dir), enc).search("秸秆综合利用率", top_k=3)] == \
        [h.clause.clause_id for h in Retriever(ix, enc).search("秸秆综合利用率", top_k=3)]


@pytest.mark.parametrize("question", ["推广秸秆还田、机收捡拾打捆等措施,促进秸秆综合利用", "矿山土壤生态环境恢复治理",
                                      "Which agency leads mine restoration?", "生态环境损害赔偿"])
def test_searching_the_nearest_passages_ranks_as_scoring_every_one(built, question):
    """Each dense signal takes only its `depth` nearest passages from the vector index; the candidates are then
    scored in full and the z fusion's typical score comes from a sample scored in full, so the ranking and the
    scores of the hits are those of scoring every vector — here with a sample of a third of the clauses."""
    index_dir, folder, enc = built
    ix = load_index(index_dir)
    everything = Retriever(ix, enc)
    everything.depth = ix.faiss["e5"].ntotal
    nearest = Retriever(ix, enc)
    nearest.depth, nearest.background_clauses = 32, len(ix.catalog.clauses)
    q = enc["e5"].encode_queries([question])
    assert np.isinf(ix.nearest("e5", q, 32)).sum() == ix.faiss["e5"].ntotal - 32
    full, top = everything.search(question, top_k=5), nearest.search(question, top_k=5)
    assert [h.clause.clause_id for h in top] == [h.clause.clause_id for h in full]
    assert np.allclose([h.score for h in top], [h.score for h in full], atol=1e-4)
    assert [s.text for s in top[0].sentences] == [s.text for s in full[0].sentences]
    sampled = Retriever(ix, enc)
    sampled.depth, sampled.background_clauses = 32, len(ix.catalog.clauses) // 3
    assert {h.clause.clause_id for h in sampled.search(question, top_k=5)[:2]} & {h.clause.clause_id for h in full[:2]}


def test_faiss_equals_bruteforce(built):
    index_dir, folder, enc = built
    ix = load_index(index_dir)
    # brute force over the passages embedded afresh: row i of the index must be passage i
    vecs = enc["e5"].encode_passages([p["text"] for p in ix.passages])
    assert np.allclose(ix.faiss["e5"].reconstruct_n(0, ix.faiss["e5"].ntotal), vecs, atol=1e-6)
    q = enc["e5"].encode_queries(["矿山土壤生态环境恢复治理"])
    scores, rows = ix.faiss["e5"].search(q, 10)
    exact = vecs @ q[0]
    brute = np.argsort(-exact, kind="stable")[:10]
    assert np.allclose(scores[0], exact[brute], atol=1e-5)
    # the rows are the passages that have those scores (ties may come in another order), each once
    assert len(set(rows[0])) == 10 and np.allclose(exact[rows[0]], scores[0], atol=1e-5)
    assert set(rows[0]) <= set(np.nonzero(exact >= exact[brute[-1]] - 1e-5)[0])


def test_ivf_above_threshold_recalls_exact(tmp_path):
    from assistant.search.index import read_faiss
    import faiss
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(50, 32)).astype(np.float32)
    v = centers[rng.integers(0, 50, 6000)] + 0.5 * rng.normal(size=(6000, 32)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact = make_faiss(v)
    faiss.write_index(make_faiss(v, exact_limit=1000), str(tmp_path / "ivf.faiss"))
    approx = read_faiss(tmp_path / "ivf.faiss")
    assert type(approx).__name__ == "IndexIVFFlat" and approx.nprobe >= 16
    assert np.allclose(approx.reconstruct_n(0, 5), v[:5])
    q = v[:50] + 0.01
    _, a = exact.search(q, 10)
    _, b = approx.search(q, 10)
    assert np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)]) >= 0.95


def test_a_rebuild_reuses_each_passages_own_vector(tmp_path, catalog):
    """An encoder without sentence vectors leaves sentence rows zero; an English rendering of one sentence is
    both a passage and a sentence with the same text (the same key): the rebuild must reuse the passage's
    vector, not the sentence's zero row (which once zeroed two USE passages after every add)."""
    from assistant.ingest.glossary import load_renderings
    use = FakeEncoder(48, "fake-48")
    use.sentences = False
    enc = {"e5": FakeEncoder(), "use": use}
    first = build_index(catalog, enc, tmp_path / "index", english=load_renderings())
    again = build_index(catalog, enc, tmp_path / "index", english=load_renderings())
    from assistant.search.index import read_faiss
    passages = load_index(tmp_path / "index").passages
    v1, v2 = (read_faiss(f / "use.faiss").reconstruct_n(0, len(passages)) for f in (first, again))
    keys = [p["key"] for p in passages]
    shared = {k for k in keys if keys.count(k) > 1}
    assert any(p["key"] in shared and p["source"] == "en" for p in passages)  # the case exists in the corpus
    assert np.array_equal(v1, v2)
    assert json.loads((again / "manifest.json").read_text())["encoders"][1]["embedded"] == 0


def test_rebuild_reembeds_only_changed(built, catalog):
    index_dir, folder, enc = built
    fresh = {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}
    folder2 = build_index(catalog, fresh, index_dir)
    assert fresh["e5"].calls == 0 and fresh["use"].calls == 0
    m = json.loads((folder2 / "manifest.json").read_text())
    assert all(e["embedded"] == 0 for e in m["encoders"])
    assert live_folder(index_dir) == folder2
    assert len(list(index_dir.glob("build-*"))) <= 2   # older builds pruned


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "e5.faiss").write_bytes((f / "e5.faiss").read_bytes()[:100]), "checksum"),
    (lambda f: (f / "e5.faiss").write_bytes(b""), "checksum"),
    (lambda f: (f / "passages.jsonl").write_text("", encoding="utf-8"), "checksum"),
    (lambda f: (f / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda f: (f / "manifest.json").write_text("{", encoding="utf-8"), "unreadable"),
    (lambda f: _edit_manifest(f, format_version=99), "index format 99"),
    (lambda f: (f / "bm25" / "params.index.json").unlink(), "missing"),
])
def test_damaged_index_is_refused_with_the_fix(built, damage, message):
    index_dir, folder, _ = built
    damage(folder)
    with pytest.raises(IndexError_, match=message) as e:
        load_index(index_dir)
    assert "python -m assistant build" in str(e.value)


def test_flipped_byte_is_detected(built):
    index_dir, folder, _ = built
    data = bytearray((folder / "use.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "use.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexError_, match="checksum"):
        load_index(index_dir)


def test_changed_corpus_is_stale(built, tmp_path):
    index_dir, folder, _ = built
    from assistant.ingest.corpus import DEFAULT_CORPUS_DIR
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = (DEFAULT_CORPUS_DIR / "000_084d63c18fb0a30d.txt").read_text(encoding="utf-8")
    (corpus / "page.txt").write_text(page.replace("85%以上", "86%以上"), encoding="utf-8")
    with pytest.raises(IndexError_, match="changed since the index was built"):
        load_index(index_dir, corpus_dir=corpus)


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexError_, match="python -m assistant build"):
        load_index(tmp_path / "nothing")


def test_unknown_encoder_is_refused(built):
    index_dir, folder, _ = built
    from assistant.search.encoders import for_manifest as encoders_for
    with pytest.raises(IndexError_, match="not available here"):
        encoders_for(load_index(index_dir).manifest)


def test_wrong_dimension_encoder_is_refused(built, monkeypatch):
    """An index of 64-d e5 vectors, and the local e5 now gives 32-d ones: refused, with the fix."""
    from assistant.search import encoders
    index_dir, folder, _ = built
    manifest = load_index(index_dir).manifest
    for spec, model in zip(manifest["encoders"], ("multilingual-e5-small", "usem3")):
        spec["model"] = model
    monkeypatch.setitem(encoders.MODELS, "multilingual-e5-small", lambda: FakeEncoder(32, "e5"))
    monkeypatch.setitem(encoders.MODELS, "usem3", lambda: FakeEncoder(48, "use"))
    with pytest.raises(IndexError_, match="gives 32-d vectors, the index holds 64-d") as e:
        encoders.for_manifest(manifest)
    assert "python -m assistant build" in str(e.value)
    monkeypatch.setitem(encoders.MODELS, "multilingual-e5-small", lambda: FakeEncoder(64, "e5"))
    assert {k: e.dim for k, e in encoders.for_manifest(manifest).items()} == {"e5": 64, "use": 48}  # matching


def test_manifest_records_each_encoders_model_and_settings(built):
    """The encoders and their retrieval settings come from data/encoders.json through the manifest; a manifest
    written before they were recorded (names only) reads as the configured models."""
    from assistant.search import encoders; from assistant.search import models
    index_dir, folder, _ = built
    manifest = load_index(index_dir).manifest
    config = {s.id: s for s in encoders.load_config()["encoders"]}
    for spec in manifest["encoders"]:
        assert spec["glossary_terms"] == config[spec["id"]].glossary_terms
        assert spec["sentence_weight"] == config[spec["id"]].sentence_weight
    legacy = {"encoders": [{"id": "a", "name": models.E5_NAME, "dim": 384}, {"id": "b", "name": models.USE_NAME, "dim": 512}]}
    specs = encoders.manifest_specs(legacy)
    assert (specs["a"].model, specs["a"].glossary_terms) == ("multilingual-e5-small", True)
    assert (specs["b"].model, specs["b"].sentence_weight) == ("usem3", 0.5)


def _edit_manifest(folder, **changes):
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    m.update(changes)
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def test_bench_scale_curve_prints_figures():
    out = subprocess.run([sys.executable, "-m", "assistant", "bench", "--scale-only", "--sizes", "3000"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+3000\s", line)]
    assert [(r[1], r[2]) for r in rows] == [("384", "IndexFlatIP"), ("512", "IndexFlatIP")], out
    for _, _, _, build_s, p50_ms, recall in rows:
        assert float(build_s) >= 0 and 0 < float(p50_ms) < 1000
        assert float(recall) == 1.0, out  # exact search finds the exact top 10: recall@10 is 1.000


def test_records_that_do_not_match_vectors_are_refused(built):
    index_dir, folder, _ = built
    lines = (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "passages.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    from assistant.search.index import _sha256
    _edit_manifest(folder, files={**json.loads((folder / "manifest.json").read_text())["files"],
                                  "passages.jsonl": _sha256(folder / "passages.jsonl")})
    with pytest.raises(IndexError_, match="vectors"):
        load_index(index_dir)


def test_english_sentences_do_not_break_after_abbreviations():
    from assistant.search.passages import en_sentences
    text = "Document number Ji Zheng Fa [2016] No. 42. Measures (e.g. straw use) apply; see Art. 3: done"
    assert en_sentences(text) == ["Document number Ji Zheng Fa [2016] No. 42.", "Measures (e.g. straw use) apply;",
                                  "see Art. 3:", "done"]


def test_stale_reason_says_when_make_run_must_build(tmp_path, built, catalog):
    from assistant.search.index import stale_reason
    index_dir, folder, _ = built
    assert "CURRENT is missing" in stale_reason(tmp_path / "nowhere")
    assert stale_reason(index_dir) is None  # built from this corpus by this program: nothing to do
    some = catalog.clauses[5].clause_id  # the program now derives other passages (here: a new rendering)
    assert "differ" in stale_reason(index_dir, english={some: "A rendering the index has not seen. Second one."})
    (folder / "e5.faiss").write_bytes(b"damaged")
    assert "build" in stale_reason(index_dir)


def test_damaged_live_build_is_reembedded_not_reused(built, catalog, caplog):
    """The vectors of a live build whose file fails its checksum are not copied into the next build: it
    embeds everything again, and says why."""
    index_dir, folder, _ = built
    data = bytearray((folder / "e5.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "e5.faiss").write_bytes(bytes(data))
    fresh = {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}
    with caplog.at_level(logging.WARNING, logger="assistant.search.index"):
        folder2 = build_index(catalog, fresh, index_dir)
    m = json.loads((folder2 / "manifest.json").read_text(encoding="utf-8"))
    # every passage re-embedded, each text once (a one-sentence clause is a passage and a sentence)
    n = len({p["text"] for p in load_index(index_dir).passages})
    assert n < m["counts"]["passages"]
    assert fresh["e5"].calls == n and fresh["use"].calls == 0  # use.faiss was sound: reused
    e5 = next(e for e in m["encoders"] if e["id"] == "e5")
    assert e5["embedded"] == n and "checksum" in e5["not_reused"]
    assert "e5 vectors were not reused" in caplog.text and "checksum" in caplog.text
    load_index(index_dir)


def test_a_second_build_is_refused_while_one_runs(built, catalog):
    index_dir, folder, enc = built
    running = index_dir / ".tmp-build-20990101T000000-abcdef"  # the temporary folder of the running build
    with build_lock(index_dir):
        running.mkdir()
        with pytest.raises(BuildInProgress, match=rf"another build is writing .*pid {os.getpid()}.*wait") as e:
            build_index(catalog, enc, index_dir)
        assert e.value.exit_code == 3
        assert running.is_dir() and live_folder(index_dir) == folder  # the refused build touched nothing
    build_index(catalog, enc, index_dir)  # the lock is free again; that build died: its folder is pruned
    assert not running.exists()


TWO_BUILDS = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from assistant.ingest.catalog import Catalog
from assistant.errors import BuildInProgress
from assistant.search.index import build_index
from tests.test_index import FakeEncoder
catalog, enc = Catalog.load(), {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}
deadline = time.time() + 120
while not Path(sys.argv[2]).exists():  # both start building at the same moment
    if time.time() > deadline:
        sys.exit("the test never said go")
    time.sleep(0.005)
try:
    build_index(catalog, enc, sys.argv[1])
    print("done")
except BuildInProgress as e:
    print(f"refused: {e}")
"""


def test_two_builds_at_once_leave_one_good_index_and_a_message(tmp_path, catalog):
    index_dir, go = tmp_path / "index", tmp_path / "go"
    root = str(Path(__file__).resolve().parent.parent)
    procs = [subprocess.Popen([sys.executable, "-c", TWO_BUILDS, str(index_dir), str(go), root],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    (index_dir).mkdir()
    go.touch()
    outs = sorted(p.communicate(timeout=300)[0].strip() for p in procs)
    assert outs[0] == "done" and outs[1].startswith("refused: another build is writing"), outs
    assert "wait for it to finish" in outs[1]
    ix = load_index(index_dir)
    assert ix.manifest["counts"]["clauses"] == len(catalog.clauses)
    assert [p.name for p in index_dir.glob("build-*")] == [live_folder(index_dir).name]
    assert not list(index_dir.glob(".tmp-build-*"))


def test_each_index_tokenizes_with_its_own_words(built, catalog):
    """jieba's user words live in a tokenizer that belongs to the index, not in jieba's global dictionary."""
    import jieba
    from assistant.search.index import index_tokenizer
    from assistant.search.lexical import tokenize, tokenizer_for
    a, b = tokenizer_for({"甲乙丙丁局"}), tokenizer_for({"戊己庚辛厅"})
    text = "甲乙丙丁局和戊己庚辛厅牵头"
    assert "甲乙丙丁局" in a.tokenize(text) and "甲乙丙丁局" not in b.tokenize(text)
    assert "戊己庚辛厅" in b.tokenize(text) and "戊己庚辛厅" not in a.tokenize(text)
    assert ("甲乙丙丁局", "x") in a.content_words(text) and "甲乙丙丁局" not in dict(b.content_words(text))
    assert not {"甲乙丙丁局", "戊己庚辛厅"} & set(tokenize(text))  # the module-level tokenizer has neither
    assert "甲乙丙丁局" not in jieba.dt.FREQ and "戊己庚辛厅" not in jieba.dt.FREQ
    assert tokenizer_for({"甲乙丙丁局"}) is a  # built once per process
    index_dir, _, _ = built
    ix = load_index(index_dir)
    assert ix.tokenizer is index_tokenizer(catalog) is ix.bm25.tokenizer is load_index(index_dir).tokenizer
    assert all(name in ix.tokenizer.tokenize(name + "负责") for name in catalog.unit_names)  # agencies stay whole


def test_measuring_tools_read_their_question_files_when_run(tmp_path):
    """bench and loadtest open no question file when imported; they read the file they are given."""
    code = ("import sys; opened = []; "
            "sys.addaudithook(lambda ev, args: ev == 'open' and str(args[0]).endswith('.jsonl') and opened.append(args[0])); "
            "import assistant.tools.bench, assistant.tools.loadtest; print(opened)")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    from assistant.tools.bench import read_questions
    from assistant.errors import DataError
    from assistant.tools.loadtest import main as loadtest
    given = tmp_path / "mine.jsonl"
    given.write_text('{"question": "秸秆综合利用率的目标是多少？"}\n\n{"question": "Who leads?", "gold": []}\n',
                     encoding="utf-8")
    assert read_questions(given) == ["秸秆综合利用率的目标是多少？", "Who leads?"]
    with pytest.raises(DataError, match=r"missing.jsonl .*FileNotFoundError.*JSON-lines"):
        read_questions(tmp_path / "missing.jsonl")
    with pytest.raises(SystemExit, match="missing.jsonl"):  # refused before any server is asked
        loadtest(["--url", "http://127.0.0.1:9/", "--questions", str(tmp_path / "missing.jsonl")])
    from assistant.serve.cli import main as cli
    assert cli(["bench", "--questions", str(tmp_path / "missing.jsonl"), "--sizes", ""]) == DataError.exit_code
