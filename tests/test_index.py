"""The index contract with a deterministic fake embedder: save → load → search, checks, atomic builds."""
import hashlib
import json

import numpy as np
import pytest

from assistant.errors import IndexError_
from assistant.index import build_index, live_folder, load_index, make_faiss
from assistant.models import Encoder
from assistant.retrieval import Retriever


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


def test_faiss_equals_bruteforce(built):
    index_dir, folder, enc = built
    ix = load_index(index_dir)
    vecs = ix.faiss["e5"].reconstruct_n(0, ix.faiss["e5"].ntotal)
    q = enc["e5"].encode_queries(["矿山土壤生态环境恢复治理"])
    scores, rows = ix.faiss["e5"].search(q, 10)
    brute = np.argsort(-(vecs @ q[0]), kind="stable")[:10]
    assert np.allclose(scores[0], (vecs @ q[0])[brute], atol=1e-5)


def test_ivf_above_threshold_recalls_exact(tmp_path):
    from assistant.index import read_faiss
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
    from assistant.corpus import DEFAULT_CORPUS_DIR
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = (DEFAULT_CORPUS_DIR / "000_084d63c18fb0a30d.txt").read_text(encoding="utf-8")
    (corpus / "page.txt").write_text(page.replace("85%以上", "86%以上"), encoding="utf-8")
    with pytest.raises(IndexError_, match="changed since the index was built"):
        load_index(index_dir, corpus_dir=corpus)


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexError_, match="python -m assistant build"):
        load_index(tmp_path / "nothing")


def test_wrong_dimension_encoder_is_refused(built):
    index_dir, folder, _ = built
    from assistant.answer import encoders_for
    with pytest.raises(IndexError_, match="not available here"):
        encoders_for(load_index(index_dir).manifest)


def _edit_manifest(folder, **changes):
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    m.update(changes)
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def test_bench_scale_curve_prints_figures():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "assistant", "bench", "--scale-only", "--sizes", "3000"],
                         capture_output=True, text=True, check=True).stdout
    assert "IndexFlatIP" in out and "recall@10" in out


def test_records_that_do_not_match_vectors_are_refused(built):
    index_dir, folder, _ = built
    lines = (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "passages.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    from assistant.index import _sha256
    _edit_manifest(folder, files={**json.loads((folder / "manifest.json").read_text())["files"],
                                  "passages.jsonl": _sha256(folder / "passages.jsonl")})
    with pytest.raises(IndexError_, match="vectors"):
        load_index(index_dir)


def test_english_sentences_do_not_break_after_abbreviations():
    from assistant.passages import en_sentences
    text = "Document number Ji Zheng Fa [2016] No. 42. Measures (e.g. straw use) apply; see Art. 3: done"
    assert en_sentences(text) == ["Document number Ji Zheng Fa [2016] No. 42.", "Measures (e.g. straw use) apply;",
                                  "see Art. 3:", "done"]


def test_stale_reason_says_when_make_run_must_build(tmp_path, built, catalog):
    from assistant.index import stale_reason
    index_dir, folder, _ = built
    assert "CURRENT is missing" in stale_reason(tmp_path / "nowhere")
    assert stale_reason(index_dir) is None  # built from this corpus by this program: nothing to do
    some = catalog.clauses[5].clause_id  # the program now derives other passages (here: a new rendering)
    assert "differ" in stale_reason(index_dir, english={some: "A rendering the index has not seen. Second one."})
    (folder / "e5.faiss").write_bytes(b"damaged")
    assert "build" in stale_reason(index_dir)
